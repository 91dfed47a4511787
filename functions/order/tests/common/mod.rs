//! What the order stores' contract suites share: the two stores under test, the limits they
//! run within, and orders, kiosks and proven numbers to place with.

#![allow(dead_code)]

use cafe_order::domain::sign_in::SignInCode;
use cafe_order::domain::{Kiosk, Order, OrderLimits, OrderStatus, Outcome, PlacedBy, Registration, Texter};
use cafe_order::store::fake::MemoryOrders;
use cafe_order::store::{OrderBook, OrderOutcomes, OrderStore, Proven, Recorded, SignIns};
use cafe_shared::auth::{KioskClaim, NewKiosk};
use cafe_testkit::Tables;
use chrono::{DateTime, Duration, Utc};
use std::sync::LazyLock;

pub trait Subject: OrderOutcomes + OrderBook + SignIns {}
impl<T: OrderOutcomes + OrderBook + SignIns> Subject for T {}

pub async fn fake_orders() -> MemoryOrders {
    MemoryOrders::default()
}

pub async fn dynamodb_orders() -> OrderStore {
    let tables = Tables::new(&["OrdersTable", "CustomersTable"]);
    let sdk = tables.sdk().await;
    OrderStore::new(&sdk, tables.name("OrdersTable"), tables.name("CustomersTable"))
}

/// The in-memory store, down: every call fails (as a throttled or unreachable table does).
pub async fn fake_down() -> MemoryOrders {
    let store = MemoryOrders::default();
    store.down.set(true);
    store
}

/// The DynamoDB store on a cloud that is not there.
pub async fn dynamodb_down() -> OrderStore {
    OrderStore::new(
        &cafe_shared::fakes::api::unreachable_cloud().await,
        "orders".into(),
        "customers".into(),
    )
}

pub fn limits() -> &'static OrderLimits {
    static LIMITS: LazyLock<OrderLimits> = LazyLock::new(|| OrderLimits {
        orders_per_minute: 100,
        orders_per_kiosk_per_minute: 100,
        texts_per_hour: 5,
        codes_per_number_per_hour: 3,
        texts_per_caller_per_hour: 100,
        texts_per_kiosk_per_hour: 100,
        texts_per_cafe_per_hour: 1000,
        text_country_codes: vec!["82".into()],
        max_orders_in_progress: 100,
        beverages_per_order: 50,
        cups_per_customer_per_hour: 1000,
        orders_in_progress_per_customer: 100,
    });
    &LIMITS
}

/// A pending order of customer `customer_id`, placed at `at`.
pub fn order_at(customer_id: &str, at: DateTime<Utc>) -> Order {
    serde_json::from_value(serde_json::json!({
        "orderId": uuid::Uuid::new_v4().to_string(), "customerId": customer_id, "beverageName": "latte",
        "beverageQty": 2, "stockName": "cup", "orderStatus": "pending", "orderDate": at,
    }))
    .unwrap()
}

pub fn pending_order() -> Order {
    order_at(&new_customer_id(), noon())
}

pub fn new_customer_id() -> String {
    format!("c-{}", uuid::Uuid::new_v4().simple())
}

pub fn noon() -> DateTime<Utc> {
    "2026-12-01T12:00:00Z".parse().unwrap()
}

pub fn with_phone(mut order: Order, phone: &str) -> Order {
    order.phone_number = Some(phone.into());
    order
}

pub async fn stored(store: &impl Subject, order: &Order) {
    let placed = store
        .place(order, &PlacedBy::Operator, Registration::IfNew, limits())
        .await;
    assert!(placed.unwrap().is_ok(), "the order is stored");
}

/// A kiosk registered on the store, and its claim.
pub async fn registered_kiosk(store: &impl Subject) -> KioskClaim {
    let new = NewKiosk::generate();
    let kiosk = Kiosk {
        kiosk_id: new.kiosk_id.clone(),
        kiosk_name: "by the door".into(),
        registered_at: noon(),
        orders_placed: 0,
        customer_tokens_issued: 0,
    };
    store.register_kiosk(&kiosk, &new.secret_hash).await.unwrap();
    KioskClaim {
        kiosk_id: new.kiosk_id,
        secret_hash: new.secret_hash,
    }
}

pub fn withdrawn(reason: &str) -> Outcome {
    Outcome::Withdrawn { reason: reason.into() }
}

/// The order as it is when the move did not happen; `None` when it moved.
pub fn unmoved(recorded: Option<Recorded>) -> Option<Order> {
    match recorded.expect("the order exists") {
        Recorded::Moved => None,
        Recorded::Unmoved(order) => Some(*order),
    }
}

pub async fn status(store: &impl Subject, order: &Order) -> Option<OrderStatus> {
    store.status_of(&order.order_id).await.unwrap()
}

pub async fn in_progress(store: &impl Subject) -> u32 {
    store.cafe(limits()).await.unwrap().orders_in_progress
}

/// Proves `phone` with a code kept and answered on the store: the customer id it signs in as.
pub async fn proven(store: &impl Subject, phone: &str) -> String {
    let code = SignInCode::generate();
    let expires_at = noon() + Duration::minutes(5);
    let kept = store.keep_sign_in_code(phone, &code, &Texter::Operator, noon(), expires_at, None, limits());
    assert_eq!(kept.await.unwrap(), Ok(()));
    let live = store
        .try_sign_in_code(&code.handle, phone, noon())
        .await
        .unwrap()
        .expect("a live code");
    match store
        .prove_phone(phone, &live, &new_customer_id(), noon())
        .await
        .unwrap()
    {
        Proven::Customer(customer_id) => customer_id,
        Proven::CodeUsed => panic!("a fresh code proves its number"),
    }
}
