//! The order API's use cases in process, over the in-memory store (which the store contract
//! tests hold to the DynamoDB store).

use super::*;
use crate::domain::PriceSetting;
use crate::store::fake::MemoryOrders;
use cafe_shared::auth::KioskClaim;

fn menu() -> Menu {
    Menu::from_json(
        r#"[{"beverageName":"latte","displayName":"Latte","stockName":"cup","recipe":{"beans":1},"price":3500},
            {"beverageName":"americano","displayName":"Americano","stockName":"cup","recipe":{"beans":1},"price":3000}]"#,
    )
    .unwrap()
}

/// The limits every use case test runs within (the sign-in tests too).
pub(crate) fn limits() -> OrderLimits {
    OrderLimits {
        orders_per_minute: 3,
        orders_per_kiosk_per_minute: 5,
        texts_per_hour: 2,
        codes_per_number_per_hour: 2,
        texts_per_caller_per_hour: 3,
        texts_per_kiosk_per_hour: 4,
        texts_per_cafe_per_hour: 6,
        text_country_codes: vec!["82".into()],
        max_orders_in_progress: 10,
        beverages_per_order: 10,
        cups_per_customer_per_hour: 12,
        orders_in_progress_per_customer: 5,
    }
}

pub(super) fn noon() -> DateTime<Utc> {
    "2026-12-01T12:00:00Z".parse().unwrap()
}

fn request(customer_id: &str, qty: i64) -> OrderRequest {
    OrderRequest {
        customer_id: Some(customer_id.into()),
        beverage_name: Some("latte".into()),
        beverage_qty: Some(qty),
        lines: None,
        phone_number: None,
        payment_method: None,
    }
}

fn texted(customer_id: &str, phone: &str) -> OrderRequest {
    OrderRequest {
        phone_number: Some(phone.into()),
        ..request(customer_id, 1)
    }
}

/// The cafe's counter with `limits`, and its store.
struct Cafe {
    menu: Menu,
    limits: OrderLimits,
    store: MemoryOrders,
    /// Off unless a test is about payment: the other rules hold either way.
    payment_required: bool,
}

impl Cafe {
    fn new(limits: OrderLimits) -> Self {
        Self {
            menu: menu(),
            limits,
            store: MemoryOrders::default(),
            payment_required: false,
        }
    }

    async fn place(&self, by: &PlacedBy, request: OrderRequest, key: Option<&str>) -> Result<Placing, Failure> {
        let counter = Counter {
            menu: &self.menu,
            currency: "KRW",
            payment_required: self.payment_required,
            limits: &self.limits,
        };
        counter.place_order(&self.store, by, request, key, noon()).await
    }

    async fn kiosk(&self) -> PlacedBy {
        let (kiosk, token) = register_kiosk(
            &self.store,
            KioskRequest {
                kiosk_name: " door ".into(),
            },
            noon(),
        )
        .await
        .unwrap();
        assert_eq!(kiosk.kiosk_name, "door");
        let secret = token.rsplit('.').next().unwrap();
        PlacedBy::Kiosk(KioskClaim {
            kiosk_id: kiosk.kiosk_id,
            secret_hash: cafe_shared::auth::sha256_hex(secret),
        })
    }

    async fn in_progress(&self) -> u32 {
        self.store.cafe(&self.limits).await.unwrap().orders_in_progress
    }
}

fn refused(outcome: Result<Placing, Failure>) -> OrderError {
    match outcome {
        Err(Failure::Refused(refusal)) => refusal,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// What an order costs: its card, its prices, a cart.
mod costs;

#[tokio::test]
async fn a_walk_up_customer_at_a_kiosk_orders_with_no_id_and_is_kept_nowhere() {
    let cafe = Cafe::new(limits());
    let kiosk = cafe.kiosk().await;
    let walk_up = || OrderRequest {
        customer_id: None,
        ..request("", 1)
    };
    let first = cafe.place(&kiosk, walk_up(), Some("tap-1")).await.unwrap();
    assert!(
        first.order.customer_id.starts_with("walk-up-"),
        "{}",
        first.order.customer_id
    );
    assert!(!first.new_customer, "no token for a walk-up");
    let again = cafe.place(&kiosk, walk_up(), Some("tap-1")).await.unwrap();
    assert_eq!(
        again.order.order_id, first.order.order_id,
        "the same request, the same order"
    );
    let next = cafe.place(&kiosk, walk_up(), Some("tap-2")).await.unwrap();
    assert_ne!(next.order.customer_id, first.order.customer_id);
    assert!(matches!(
        refused(cafe.place(&PlacedBy::Operator, walk_up(), None).await),
        OrderError::Invalid(_)
    ));
}

#[tokio::test]
async fn a_kiosk_s_first_order_for_a_new_customer_owes_their_token() {
    let cafe = Cafe::new(limits());
    let kiosk = cafe.kiosk().await;
    let placing = cafe.place(&kiosk, request("ann", 2), None).await.unwrap();
    assert!(placing.new_customer);
    assert_eq!(placing.order.order_number, Some(1));
    assert_eq!(placing.order.kiosk_id, kiosk.kiosk_id());
    assert_eq!(placing.order.order_status, OrderStatus::Pending);
    let stored = cafe.store.get(&placing.order.order_id).await.unwrap();
    assert_eq!(stored, Some(placing.order));
}

#[tokio::test]
async fn a_returning_customer_at_a_kiosk_orders_with_no_new_token() {
    let cafe = Cafe::new(limits());
    let kiosk = cafe.kiosk().await;
    cafe.place(&kiosk, request("ann", 1), None).await.unwrap();
    let again = cafe.place(&kiosk, request("ann", 1), None).await.unwrap();
    assert!(!again.new_customer);
    assert_eq!(again.order.order_number, Some(2));
    assert_eq!(cafe.in_progress().await, 2);
}

#[tokio::test]
async fn a_replayed_request_gets_the_same_order_and_takes_nothing_more() {
    let cafe = Cafe::new(limits());
    let kiosk = cafe.kiosk().await;
    let first = cafe.place(&kiosk, request("ann", 2), Some("key-1")).await.unwrap();
    let replay = cafe.place(&kiosk, request("ann", 2), Some("key-1")).await.unwrap();
    assert_eq!(replay.order, first.order);
    assert!(!replay.new_customer, "a replay never owes a second token");
    assert_eq!(cafe.in_progress().await, 1);
    // Answered from the stored order, whatever the cafe is now.
    cafe.store.set_open(false, &cafe.limits).await.unwrap();
    let closed = cafe.place(&kiosk, request("ann", 2), Some("key-1")).await.unwrap();
    assert_eq!(closed.order, first.order);
    let next = cafe.place(&PlacedBy::Operator, request("bob", 1), Some("key-1")).await;
    assert_eq!(
        refused(next),
        OrderError::CafeClosed,
        "the same key of another customer is a new order"
    );
}

#[tokio::test]
async fn a_key_sent_again_with_another_order_is_refused() {
    let cafe = Cafe::new(limits());
    cafe.place(&PlacedBy::Operator, request("ann", 2), Some("key-1"))
        .await
        .unwrap();
    let other = cafe.place(&PlacedBy::Operator, request("ann", 3), Some("key-1")).await;
    assert_eq!(refused(other), OrderError::KeyReused);
    let bad_key = cafe
        .place(&PlacedBy::Operator, request("ann", 3), Some("key\u{e9}"))
        .await;
    assert!(matches!(refused(bad_key), OrderError::Invalid(_)));
}

#[tokio::test]
async fn a_customer_places_at_most_their_orders_a_minute() {
    let cafe = Cafe::new(limits());
    for _ in 0..3 {
        cafe.place(&PlacedBy::Operator, request("ann", 1), None).await.unwrap();
    }
    let fourth = cafe.place(&PlacedBy::Operator, request("ann", 1), None).await;
    assert_eq!(refused(fourth), OrderError::TooManyOrders("ann".into(), 3));
    assert_eq!(cafe.in_progress().await, 3);
}

#[tokio::test]
async fn a_kiosk_places_at_most_its_orders_a_minute() {
    let cafe = Cafe::new(limits());
    let kiosk = cafe.kiosk().await;
    for customer in ["a", "b", "c", "d", "e"] {
        cafe.place(&kiosk, request(customer, 1), None).await.unwrap();
    }
    assert_eq!(
        refused(cafe.place(&kiosk, request("f", 1), None).await),
        OrderError::KioskBusy(5)
    );
}

#[tokio::test]
async fn a_number_is_texted_at_most_its_texts_an_hour() {
    let cafe = Cafe::new(limits());
    for customer in ["a", "b"] {
        cafe.place(&PlacedBy::Operator, texted(customer, "+821055500001"), None)
            .await
            .unwrap();
    }
    let third = cafe
        .place(&PlacedBy::Operator, texted("c", "+821055500001"), None)
        .await;
    assert_eq!(refused(third), OrderError::TooManyTexts(2));
}

#[tokio::test]
async fn a_closed_or_full_cafe_refuses_and_says_which() {
    let cafe = Cafe::new(OrderLimits {
        max_orders_in_progress: 1,
        ..limits()
    });
    cafe.place(&PlacedBy::Operator, request("ann", 1), None).await.unwrap();
    let full = cafe.place(&PlacedBy::Operator, request("bob", 1), None).await;
    assert_eq!(refused(full), OrderError::CafeBusy(1));
    cafe.store.set_open(false, &cafe.limits).await.unwrap();
    let closed = cafe.place(&PlacedBy::Operator, request("bob", 1), None).await;
    assert_eq!(refused(closed), OrderError::CafeClosed);
}

#[tokio::test]
async fn an_unregistered_kiosk_touches_nothing() {
    let cafe = Cafe::new(limits());
    let stranger = PlacedBy::Kiosk(KioskClaim {
        kiosk_id: "kiosk-nobody".into(),
        secret_hash: "x".into(),
    });
    assert_eq!(
        refused(cafe.place(&stranger, request("ann", 1), None).await),
        OrderError::UnknownKiosk
    );
    let first = cafe.place(&PlacedBy::Operator, request("ann", 1), None).await.unwrap();
    assert_eq!(first.order.order_number, Some(1), "the refused order took no number");
    let kiosk = cafe.kiosk().await;
    cafe.store
        .revoke_kiosk(kiosk.kiosk_id().as_deref().unwrap())
        .await
        .unwrap();
    assert_eq!(
        refused(cafe.place(&kiosk, request("bob", 1), None).await),
        OrderError::UnknownKiosk
    );
}

#[tokio::test]
async fn only_a_proven_number_is_texted() {
    let cafe = Cafe::new(limits());
    let kiosk = cafe.kiosk().await;
    let at_kiosk = cafe.place(&kiosk, texted("ann", "+821055500002"), None).await;
    assert_eq!(
        refused(at_kiosk),
        OrderError::PhoneNotProven,
        "anyone at a kiosk could type it"
    );
    let unproven = cafe
        .place(&PlacedBy::Customer, texted("ann", "+821055500002"), None)
        .await;
    assert_eq!(refused(unproven), OrderError::PhoneNotProven);
    let abroad = cafe
        .place(&PlacedBy::Operator, texted("ann", "+447700900123"), None)
        .await;
    assert!(matches!(refused(abroad), OrderError::PhoneNotTextable(_)));
    assert_eq!(cafe.in_progress().await, 0);
}

#[tokio::test]
async fn a_customer_who_signs_in_by_phone_orders_only_with_their_own_token() {
    let cafe = Cafe::new(limits());
    let texts = cafe_shared::fakes::FakeTexts::default();
    let phone = "+821055500003";
    let asked = crate::domain::sign_in::CodeRequest {
        phone_number: phone.into(),
    };
    let by = crate::domain::Texter::Operator;
    let sent = sign_in::send_code(&cafe.store, &texts, asked, &by, None, &cafe.limits, noon())
        .await
        .unwrap();
    let code = texts.sent()[0].1[..6].to_string();
    let answer = crate::domain::sign_in::CodeAnswer {
        phone_number: phone.into(),
        code,
        handle: sent.handle,
    };
    let (customer, _) = sign_in::verify_code(&cafe.store, &answer, "cust-1", &cafe.limits, noon())
        .await
        .unwrap();
    let kiosk = cafe.kiosk().await;
    let typed = cafe.place(&kiosk, request(&customer, 1), None).await;
    assert_eq!(refused(typed), OrderError::SignsInByPhone(customer.clone()));
    let own = cafe
        .place(&PlacedBy::Customer, texted(&customer, phone), None)
        .await
        .unwrap();
    assert_eq!(own.order.phone_number.as_deref(), Some(phone));
}

#[tokio::test]
async fn a_request_the_menu_refuses_stores_nothing() {
    let cafe = Cafe::new(limits());
    let unknown = OrderRequest {
        beverage_name: Some("mocha".into()),
        ..request("ann", 1)
    };
    assert!(matches!(
        refused(cafe.place(&PlacedBy::Operator, unknown, None).await),
        OrderError::UnknownBeverage { .. }
    ));
    let too_many = cafe.place(&PlacedBy::Operator, request("ann", 51), None).await;
    assert_eq!(refused(too_many), OrderError::QuantityOutOfRange { qty: 51 });
    assert!(cafe.store.orders.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_store_outage_is_a_failure_of_the_cloud_not_a_refusal() {
    let cafe = Cafe::new(limits());
    cafe.store.down.set(true);
    let placed = cafe.place(&PlacedBy::Operator, request("ann", 1), None).await;
    assert!(matches!(placed, Err(Failure::Cloud(_))), "{placed:?}");
}

#[tokio::test]
async fn a_pending_order_is_cancelled_once_and_a_started_one_never() {
    let cafe = Cafe::new(limits());
    let pending = cafe
        .place(&PlacedBy::Operator, request("ann", 1), None)
        .await
        .unwrap()
        .order;
    let anyone = |_: &Order| true;
    let cancelled = cancel_order(&cafe.store, &pending.order_id, anyone, false)
        .await
        .unwrap();
    assert_eq!(cancelled.order_status, OrderStatus::Cancelled);
    let again = cancel_order(&cafe.store, &pending.order_id, anyone, true)
        .await
        .unwrap();
    assert_eq!(
        again.reason, cancelled.reason,
        "a second cancel answers the order as it is"
    );
    assert_eq!(cafe.in_progress().await, 0);

    let started = cafe
        .place(&PlacedBy::Operator, request("bob", 1), None)
        .await
        .unwrap()
        .order;
    cafe.store
        .record_outcome(&started.order_id, "bob", &crate::domain::Outcome::Making)
        .await
        .unwrap();
    let late = cancel_order(&cafe.store, &started.order_id, anyone, false).await;
    assert!(
        matches!(late, Err(Failure::Refused(OrderError::NotCancellable(_)))),
        "{late:?}"
    );

    let hidden = cancel_order(&cafe.store, &started.order_id, |_| false, false).await;
    assert!(
        matches!(hidden, Err(Failure::Refused(OrderError::UnknownOrder(_)))),
        "{hidden:?}"
    );
}

#[tokio::test]
async fn an_order_of_more_than_the_cafe_takes_at_once_is_refused_and_stores_nothing() {
    let cafe = Cafe::new(limits());
    let kiosk = cafe.kiosk().await;
    let eleven = cafe.place(&kiosk, request("ann", 11), None).await;
    assert_eq!(refused(eleven), OrderError::TooManyBeverages(10));
    assert_eq!(cafe.in_progress().await, 0);
    assert!(cafe.store.orders.lock().unwrap().is_empty());
    let ten = cafe.place(&kiosk, request("ann", 10), None).await.unwrap();
    assert_eq!(ten.order.order_number, Some(1), "the refused order used up no number");
}

#[tokio::test]
async fn one_customer_takes_at_most_their_cups_an_hour() {
    let cafe = Cafe::new(limits());
    cafe.place(&PlacedBy::Customer, request("ann", 10), None).await.unwrap();
    let more = cafe.place(&PlacedBy::Customer, request("ann", 3), None).await;
    assert_eq!(refused(more), OrderError::TooManyCups("ann".into(), 12));
    cafe.place(&PlacedBy::Customer, request("ann", 2), None).await.unwrap();
    assert_eq!(cafe.in_progress().await, 2);
    let numbers: Vec<_> = (cafe.store.orders.lock().unwrap().values())
        .map(|order| order.order_number)
        .collect();
    assert!(
        numbers.contains(&Some(2)),
        "the refused order used up no number: {numbers:?}"
    );
}

#[tokio::test]
async fn one_customer_has_at_most_their_orders_in_progress() {
    let cafe = Cafe::new(limits());
    let mut placed = Vec::new();
    for _ in 0..3 {
        placed.push(
            cafe.place(&PlacedBy::Customer, request("ann", 1), None)
                .await
                .unwrap()
                .order,
        );
    }
    // A minute later, so that the minute's count is not what refuses.
    let later = noon() + chrono::Duration::minutes(1);
    let counter = Counter {
        menu: &cafe.menu,
        currency: "KRW",
        payment_required: false,
        limits: &OrderLimits {
            orders_in_progress_per_customer: 3,
            ..limits()
        },
    };
    let place = || counter.place_order(&cafe.store, &PlacedBy::Customer, request("ann", 1), None, later);
    assert_eq!(refused(place().await), OrderError::CustomerBusy("ann".into(), 3));
    cancel_order(&cafe.store, &placed[0].order_id, |_| true, false)
        .await
        .unwrap();
    place().await.expect("the cancelled order gave its place back");
}
