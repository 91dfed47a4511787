//! The payment provider's contract: each case holds for the in-memory Stripe (which the saga's
//! in-process tests and the simulation run) and for the Stripe adapter against localstripe, the
//! stand-in for Stripe's API that `make up` and the end-to-end tests run.

use cafe_payment::provider::fake::DECLINED_CARD;
use cafe_payment::provider::{Capture, GivenBack, Hold, Opened, Payments, Stripe};
use cafe_shared::events::PaymentDue;
use cafe_testkit::PaymentProvider;

macro_rules! contract {
    ($($case:ident),+ $(,)?) => {
        mod fake {
            $(#[tokio::test]
            async fn $case() {
                super::$case(&cafe_payment::provider::fake::MemoryStripe::default()).await
            })+
        }
        mod stripe {
            $(#[tokio::test]
            async fn $case() {
                super::$case(&super::stripe()).await
            })+
        }
    };
}

fn stripe() -> Stripe {
    Stripe::new(&PaymentProvider::shared().url, "sk_test_contract").unwrap()
}

contract!(
    a_hold_is_taken_once_however_often_it_is_asked,
    a_card_declined_when_charged_holds_nothing,
    an_unknown_card_is_declined_when_opened,
    a_hold_let_go_is_never_taken,
    money_taken_is_refunded_once,
    a_payment_never_charged_is_cancelled_with_nothing_held,
);

fn due(card: &str) -> PaymentDue {
    PaymentDue {
        amount: 7000,
        currency: "KRW".into(),
        payment_method: card.into(),
    }
}

async fn opened(provider: &impl Payments, card: &str) -> String {
    match provider
        .open(&uuid::Uuid::new_v4().to_string(), &due(card))
        .await
        .unwrap()
    {
        Opened::Payment(id) => id,
        other => panic!("{other:?}"),
    }
}

async fn a_hold_is_taken_once_however_often_it_is_asked(provider: &impl Payments) {
    let id = opened(provider, "pm_card_visa").await;
    let state = provider.state(&id).await.unwrap();
    assert_eq!(
        (state.status.as_str(), state.amount),
        ("requires_confirmation", 7000),
        "nothing held yet"
    );
    assert_eq!(provider.hold(&id).await.unwrap(), Hold::Held);
    assert_eq!(provider.hold(&id).await.unwrap(), Hold::Held);
    assert_eq!(provider.state(&id).await.unwrap().status, "requires_capture");
    assert_eq!(provider.capture(&id).await.unwrap(), Capture::Captured);
    assert_eq!(provider.capture(&id).await.unwrap(), Capture::Captured);
    let state = provider.state(&id).await.unwrap();
    assert_eq!((state.status.as_str(), state.refunded), ("succeeded", 0));
}

async fn a_card_declined_when_charged_holds_nothing(provider: &impl Payments) {
    let id = opened(provider, DECLINED_CARD).await;
    let Hold::Declined(reason) = provider.hold(&id).await.unwrap() else {
        panic!("charged")
    };
    assert!(reason.to_lowercase().contains("declined"), "{reason}");
    assert!(
        matches!(provider.hold(&id).await.unwrap(), Hold::Declined(_)),
        "asked again"
    );
    assert_eq!(provider.state(&id).await.unwrap().status, "requires_payment_method");
}

async fn an_unknown_card_is_declined_when_opened(provider: &impl Payments) {
    let opened = provider.open("o-unknown-card", &due("pm_nosuchcard")).await.unwrap();
    assert!(matches!(opened, Opened::Declined(_)), "{opened:?}");
}

async fn a_hold_let_go_is_never_taken(provider: &impl Payments) {
    let id = opened(provider, "pm_card_visa").await;
    provider.hold(&id).await.unwrap();
    assert_eq!(provider.give_back(&id).await.unwrap(), GivenBack::Released);
    assert_eq!(provider.give_back(&id).await.unwrap(), GivenBack::Released, "again");
    assert_eq!(provider.capture(&id).await.unwrap(), Capture::Cancelled);
    assert_eq!(provider.hold(&id).await.unwrap(), Hold::Cancelled);
    assert_eq!(provider.state(&id).await.unwrap().status, "canceled");
}

async fn money_taken_is_refunded_once(provider: &impl Payments) {
    let id = opened(provider, "pm_card_visa").await;
    provider.hold(&id).await.unwrap();
    provider.capture(&id).await.unwrap();
    assert_eq!(provider.give_back(&id).await.unwrap(), GivenBack::Refunded);
    assert_eq!(provider.give_back(&id).await.unwrap(), GivenBack::Refunded);
    let state = provider.state(&id).await.unwrap();
    assert_eq!(
        (state.status.as_str(), state.refunded),
        ("succeeded", 7000),
        "refunded once"
    );
}

async fn a_payment_never_charged_is_cancelled_with_nothing_held(provider: &impl Payments) {
    let id = opened(provider, "pm_card_visa").await;
    assert_eq!(provider.give_back(&id).await.unwrap(), GivenBack::NothingHeld);
    assert_eq!(
        provider.hold(&id).await.unwrap(),
        Hold::Cancelled,
        "never charged after"
    );
    assert_eq!(provider.state(&id).await.unwrap().status, "canceled");
}
