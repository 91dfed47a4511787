//! The payment step run in process on its fakes, one SQS batch at a time as the Lambda runs it.

use super::*;
use crate::provider::PaymentState;
use crate::provider::fake::{DECLINED_CARD, MemoryStripe};
use crate::store::fake::MemoryPayments;
use cafe_shared::events::{OrderCancelled, OrderMaking};
use cafe_shared::fakes::{FakeBus, FakeDeadLetters, envelope, sqs_batch};
use cafe_shared::sqs::handle_batch;

#[derive(Default)]
struct Step {
    records: MemoryPayments,
    stripe: MemoryStripe,
    bus: FakeBus,
    dead: FakeDeadLetters,
}

impl Step {
    /// Each event as a batch of its own: the ids of the messages handed back to be retried.
    async fn deliver_each(&self, events: &[CafeEvent]) -> Vec<String> {
        let mut failed = Vec::new();
        for event in events {
            let batch = sqs_batch(&[envelope(event)]);
            let response = handle_batch(batch, &self.dead, |m| {
                on_event(&self.records, &self.stripe, &self.bus, m)
            })
            .await;
            failed.extend(response.batch_item_failures.into_iter().map(|f| f.item_identifier));
        }
        failed
    }

    fn said(&self) -> Vec<&'static str> {
        self.bus.published().iter().map(CafeEvent::detail_type).collect()
    }

    fn provider(&self) -> Vec<PaymentState> {
        self.stripe.of_order("o-1")
    }

    fn status(&self) -> PaymentStatus {
        self.records.kept.lock().unwrap()["o-1"].status
    }
}

fn summary() -> OrderSummary {
    OrderSummary {
        order_id: "o-1".into(),
        customer_id: "c-1".into(),
        beverage_name: "latte".into(),
        beverage_qty: 2,
        phone_number: None,
        order_number: Some(1),
        lines: Vec::new(),
    }
}

fn placed(card: Option<&str>) -> CafeEvent {
    CafeEvent::OrderPlaced(OrderPlaced {
        order: summary(),
        stock_name: "cup".into(),
        order_date: "2026-12-07T10:00:00Z".parse().unwrap(),
        payment: card.map(|card| PaymentDue {
            amount: 7000,
            currency: "KRW".into(),
            payment_method: card.into(),
        }),
    })
}

fn making() -> CafeEvent {
    CafeEvent::OrderMaking(OrderMaking {
        order: summary(),
        stock_name: "cup".into(),
        deadline: None,
    })
}

fn cancelled() -> CafeEvent {
    CafeEvent::OrderCancelled(OrderCancelled {
        order: summary(),
        stock_name: "cup".into(),
        reason: "cancelled by the customer".into(),
    })
}

#[tokio::test]
async fn a_paid_order_is_held_when_placed_and_taken_once_at_its_point_of_no_return() {
    let step = Step::default();
    assert!(
        step.deliver_each(&[placed(Some("pm_card_visa")), placed(Some("pm_card_visa"))])
            .await
            .is_empty()
    );
    assert_eq!(
        step.said(),
        ["PaymentAuthorized", "PaymentAuthorized"],
        "said again on a redelivery"
    );
    let CafeEvent::PaymentAuthorized(held) = &step.bus.published()[0] else {
        panic!()
    };
    assert_eq!(held.amount_held, 7000);
    assert_eq!(
        held.placed.stock_name, "cup",
        "the order travels on, for the cups' reservation"
    );
    let [payment] = &step.provider()[..] else {
        panic!("one payment: {:?}", step.provider())
    };
    assert_eq!(payment.status, "requires_capture");

    assert!(step.deliver_each(&[making(), making()]).await.is_empty());
    assert_eq!(step.said()[2..], ["PaymentCaptured", "PaymentCaptured"]);
    let [payment] = &step.provider()[..] else { panic!() };
    assert_eq!(
        (payment.status.as_str(), payment.amount, payment.refunded),
        ("succeeded", 7000, 0)
    );
    assert_eq!(step.status(), PaymentStatus::Captured);
}

#[tokio::test]
async fn a_declined_card_cancels_the_order_and_holds_nothing() {
    let step = Step::default();
    step.deliver_each(&[placed(Some(DECLINED_CARD)), placed(Some(DECLINED_CARD))])
        .await;
    let published = step.bus.published();
    let [CafeEvent::PaymentDeclined(first), CafeEvent::PaymentDeclined(again)] = &published[..] else {
        panic!("{published:?}")
    };
    assert_eq!(first.reason, "Your card was declined.");
    assert_eq!(first, again);
    assert_eq!(step.provider()[0].status, "requires_payment_method", "nothing held");
    // The order's cancellation that follows moves no money and says nothing.
    step.deliver_each(&[cancelled()]).await;
    assert_eq!(step.said().len(), 2);
    assert_eq!(step.status(), PaymentStatus::Declined);
}

#[tokio::test]
async fn a_card_the_provider_does_not_know_is_declined() {
    let step = Step::default();
    step.deliver_each(&[placed(Some("pm_stolen"))]).await;
    assert_eq!(step.said(), ["PaymentDeclined"]);
    assert!(step.provider().is_empty());
}

#[tokio::test]
async fn an_order_cancelled_while_held_lets_the_hold_go_once() {
    let step = Step::default();
    step.deliver_each(&[placed(Some("pm_card_visa")), cancelled(), cancelled()])
        .await;
    assert_eq!(step.said(), ["PaymentAuthorized", "PaymentReleased", "PaymentReleased"]);
    assert_eq!(step.provider()[0].status, "canceled");
    // Its making asked for late (the cancel won the order's lock) takes nothing.
    step.deliver_each(&[making()]).await;
    assert_eq!(step.provider()[0].status, "canceled");
    assert_eq!(step.said().len(), 3);
}

#[tokio::test]
async fn an_order_the_machine_failed_after_its_money_was_taken_is_refunded_once() {
    let step = Step::default();
    step.deliver_each(&[placed(Some("pm_card_visa")), making(), cancelled(), cancelled()])
        .await;
    assert_eq!(
        step.said(),
        [
            "PaymentAuthorized",
            "PaymentCaptured",
            "PaymentRefunded",
            "PaymentRefunded"
        ]
    );
    let [payment] = &step.provider()[..] else { panic!() };
    assert_eq!((payment.status.as_str(), payment.refunded), ("succeeded", 7000));
    // A late redelivery of its making takes nothing again and says nothing.
    step.deliver_each(&[making()]).await;
    assert_eq!(step.said().len(), 4);
    assert_eq!(step.status(), PaymentStatus::Refunded);
}

#[tokio::test]
async fn a_cancellation_that_overtakes_its_order_leaves_nothing_to_hold() {
    let step = Step::default();
    step.deliver_each(&[cancelled(), placed(Some("pm_card_visa"))]).await;
    assert!(step.said().is_empty(), "{:?}", step.said());
    assert!(step.provider().is_empty(), "the card is never charged");
    assert_eq!(step.status(), PaymentStatus::Voided);
}

#[tokio::test]
async fn an_order_with_nothing_to_charge_goes_on_with_no_payment() {
    let step = Step::default();
    step.deliver_each(&[placed(None), making(), cancelled()]).await;
    assert_eq!(step.said(), ["PaymentAuthorized"]);
    let CafeEvent::PaymentAuthorized(authorized) = &step.bus.published()[0] else {
        panic!()
    };
    assert_eq!(authorized.amount_held, 0);
    assert!(step.provider().is_empty());
}

#[tokio::test]
async fn a_provider_down_leaves_the_order_to_be_charged_once_when_it_is_back() {
    let step = Step::default();
    step.stripe.down.set(true);
    assert_eq!(
        step.deliver_each(&[placed(Some("pm_card_visa"))]).await.len(),
        1,
        "retried"
    );
    assert!(step.said().is_empty());
    step.stripe.down.set(false);
    assert!(step.deliver_each(&[placed(Some("pm_card_visa"))]).await.is_empty());
    assert_eq!(step.said(), ["PaymentAuthorized"]);
    assert_eq!(step.provider().len(), 1);
}

#[tokio::test]
async fn a_payment_opened_by_a_delivery_that_then_failed_is_the_one_charged() {
    let step = Step::default();
    // The table fails after the payment is opened and its id recorded: the card is not charged.
    let Opened::Payment(id) = step.stripe.open("o-1", &due()).await.unwrap() else {
        panic!()
    };
    let CafeEvent::OrderPlaced(order) = placed(Some("pm_card_visa")) else {
        panic!()
    };
    step.records.begin(&Payment::for_order(&order)).await.unwrap();
    assert_eq!(step.records.attach("o-1", &id).await.unwrap(), None);
    step.deliver_each(&[placed(Some("pm_card_visa"))]).await;
    let [payment] = &step.provider()[..] else {
        panic!("{:?}", step.provider())
    };
    assert_eq!(payment.status, "requires_capture");
    assert_eq!(step.said(), ["PaymentAuthorized"]);
}

#[tokio::test]
async fn the_money_is_never_taken_twice_when_the_table_fails_after_the_capture() {
    let step = Step::default();
    step.deliver_each(&[placed(Some("pm_card_visa"))]).await;
    // The capture happens at the provider; the table is down before it is recorded.
    let id = step.records.kept.lock().unwrap()["o-1"].payment_id.clone().unwrap();
    step.stripe.capture(&id).await.unwrap();
    assert!(step.deliver_each(&[making()]).await.is_empty());
    assert_eq!(step.status(), PaymentStatus::Captured);
    assert_eq!(step.provider()[0].status, "succeeded");
    assert_eq!(step.said(), ["PaymentAuthorized", "PaymentCaptured"]);
}

fn due() -> PaymentDue {
    PaymentDue {
        amount: 7000,
        currency: "KRW".into(),
        payment_method: "pm_card_visa".into(),
    }
}

/// Stripe as two deliveries racing meet it: the same `Idempotency-Key` opens the same payment, and
/// the other delivery records it first.
struct RacedByAnotherDelivery<'a> {
    stripe: &'a MemoryStripe,
    records: &'a MemoryPayments,
}

impl Payments for RacedByAnotherDelivery<'_> {
    async fn open(&self, order_id: &str, due: &PaymentDue) -> Result<Opened, cafe_shared::Error> {
        let opened = self.stripe.open(order_id, due).await?;
        if let Opened::Payment(id) = &opened {
            assert_eq!(
                self.records.attach(order_id, id).await?,
                None,
                "the other delivery records it"
            );
        }
        Ok(opened)
    }
    async fn hold(&self, payment_id: &str) -> Result<Hold, cafe_shared::Error> {
        self.stripe.hold(payment_id).await
    }
    async fn capture(&self, payment_id: &str) -> Result<Capture, cafe_shared::Error> {
        self.stripe.capture(payment_id).await
    }
    async fn give_back(&self, payment_id: &str) -> Result<GivenBack, cafe_shared::Error> {
        self.stripe.give_back(payment_id).await
    }
    async fn state(&self, payment_id: &str) -> Result<PaymentState, cafe_shared::Error> {
        self.stripe.state(payment_id).await
    }
}

#[tokio::test]
async fn a_delivery_that_meets_the_same_payment_recorded_by_another_leaves_it_to_be_charged() {
    let step = Step::default();
    let raced = RacedByAnotherDelivery {
        stripe: &step.stripe,
        records: &step.records,
    };
    let batch = sqs_batch(&[envelope(&placed(Some("pm_card_visa")))]);
    handle_batch(batch, &step.dead, |m| on_event(&step.records, &raced, &step.bus, m)).await;
    assert!(step.said().is_empty(), "the other delivery announces it");
    assert_eq!(
        step.provider()[0].status,
        "requires_confirmation",
        "not cancelled under the other delivery"
    );
    // The other delivery goes on and charges it.
    step.deliver_each(&[placed(Some("pm_card_visa"))]).await;
    assert_eq!(step.said(), ["PaymentAuthorized"]);
    let [payment] = &step.provider()[..] else {
        panic!("{:?}", step.provider())
    };
    assert_eq!(payment.status, "requires_capture");
}
