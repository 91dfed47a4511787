//! The order stores' contract for the saga's moves: each case holds for the in-memory orders
//! (which the saga's in-process tests and the simulation run) and for the DynamoDB store on the
//! template's `OrdersTable` and `CustomersTable`.

use cafe_order::domain::{Order, OrderLimits, OrderStatus, Outcome, PlacedBy};
use cafe_order::store::fake::MemoryOrders;
use cafe_order::store::{OrderOutcomes, OrderStore, Placed, Recorded, Registration};
use cafe_shared::fakes::api::unreachable_cloud;
use cafe_testkit::Tables;

/// The port, and a way to store a pending order in it.
trait Subject: OrderOutcomes {
    async fn stored(&self, order: &Order);
}

impl Subject for MemoryOrders {
    async fn stored(&self, order: &Order) {
        self.place(order.clone());
    }
}

impl Subject for OrderStore {
    async fn stored(&self, order: &Order) {
        let limits = OrderLimits {
            orders_per_minute: 100,
            orders_per_kiosk_per_minute: 100,
            texts_per_hour: 5,
            text_country_codes: vec!["82".into()],
            max_orders_in_progress: 100,
        };
        let placed = self.place(order, &PlacedBy::Operator, Registration::IfNew, &limits);
        assert!(matches!(placed.await.unwrap(), Placed::New(_)), "the order is stored");
    }
}

async fn fake_orders() -> MemoryOrders {
    MemoryOrders::default()
}

async fn dynamodb_orders() -> OrderStore {
    let tables = Tables::new(&["OrdersTable", "CustomersTable"]);
    let sdk = tables.sdk().await;
    OrderStore::new(&sdk, tables.name("OrdersTable"), tables.name("CustomersTable"))
}

cafe_testkit::contract!(
    fake: fake_orders,
    dynamodb: dynamodb_orders,
    cases: [
        an_order_moves_only_from_the_status_each_move_needs,
        a_redelivered_move_changes_nothing,
        of_a_cancel_and_the_machine_racing_exactly_one_wins,
        a_missing_order_has_no_status_and_takes_no_move,
    ]
);

fn pending_order() -> Order {
    serde_json::from_value(serde_json::json!({
        "orderId": uuid::Uuid::new_v4().to_string(), "customerId": "1", "beverageName": "latte",
        "beverageQty": 2, "stockName": "cup", "orderStatus": "pending",
        "orderDate": chrono::Utc::now(),
    }))
    .unwrap()
}

fn withdrawn(reason: &str) -> Outcome {
    Outcome::Withdrawn { reason: reason.into() }
}

/// The order as it is when the move did not happen; `None` when it moved.
fn unmoved(recorded: Option<Recorded>) -> Option<Order> {
    match recorded.expect("the order exists") {
        Recorded::Moved => None,
        Recorded::Unmoved(order) => Some(order),
    }
}

async fn status(store: &impl Subject, order: &Order) -> Option<OrderStatus> {
    store.status_of(&order.order_id).await.unwrap()
}

async fn an_order_moves_only_from_the_status_each_move_needs(store: &impl Subject) {
    let order = pending_order();
    store.stored(&order).await;
    let id = &order.order_id;
    assert_eq!(status(store, &order).await, Some(OrderStatus::Pending));
    let early = unmoved(store.record_outcome(id, &Outcome::Completed).await.unwrap());
    assert_eq!(
        early.map(|o| o.order_status),
        Some(OrderStatus::Pending),
        "a pending order is not completed"
    );
    assert_eq!(unmoved(store.record_outcome(id, &Outcome::Making).await.unwrap()), None);
    let late = unmoved(store.record_outcome(id, &withdrawn("changed my mind")).await.unwrap());
    assert_eq!(
        late.map(|o| o.order_status),
        Some(OrderStatus::Making),
        "past the point of no return"
    );
    assert_eq!(
        unmoved(store.record_outcome(id, &Outcome::Completed).await.unwrap()),
        None
    );
    assert_eq!(status(store, &order).await, Some(OrderStatus::Completed));
}

async fn a_redelivered_move_changes_nothing(store: &impl Subject) {
    let order = pending_order();
    store.stored(&order).await;
    let id = &order.order_id;
    assert_eq!(
        unmoved(store.record_outcome(id, &withdrawn("no cups")).await.unwrap()),
        None
    );
    let again = unmoved(store.record_outcome(id, &withdrawn("a later reason")).await.unwrap());
    let again = again.expect("a second move finds the order moved");
    assert_eq!(
        (again.order_status, again.reason.as_deref()),
        (OrderStatus::Cancelled, Some("no cups"))
    );
}

async fn of_a_cancel_and_the_machine_racing_exactly_one_wins(store: &impl Subject) {
    let order = pending_order();
    store.stored(&order).await;
    let id = &order.order_id;
    let (cancel, making) = (withdrawn("cancelled by the customer"), Outcome::Making);
    let (a, b) = tokio::join!(store.record_outcome(id, &cancel), store.record_outcome(id, &making));
    let (cancelled, made) = (unmoved(a.unwrap()).is_none(), unmoved(b.unwrap()).is_none());
    assert!(
        cancelled ^ made,
        "exactly one move won: cancel {cancelled}, making {made}"
    );
    let expected = if cancelled {
        OrderStatus::Cancelled
    } else {
        OrderStatus::Making
    };
    assert_eq!(status(store, &order).await, Some(expected));
}

async fn a_missing_order_has_no_status_and_takes_no_move(store: &impl Subject) {
    let order = pending_order();
    assert_eq!(status(store, &order).await, None);
    assert!(
        store
            .record_outcome(&order.order_id, &withdrawn("x"))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(status(store, &order).await, None, "the move made no order");
}

/// With the tables out of reach, every call is an error, never a default answer.
mod unreachable {
    use super::*;

    async fn fake_down() -> MemoryOrders {
        let store = MemoryOrders::default();
        store.down.set(true);
        store
    }

    async fn dynamodb_down() -> OrderStore {
        OrderStore::new(&unreachable_cloud().await, "orders".into(), "customers".into())
    }

    cafe_testkit::contract!(fake: fake_down, dynamodb: dynamodb_down, cases: [every_call_fails]);

    async fn every_call_fails(store: &impl Subject) {
        let order = pending_order();
        assert!(store.record_outcome(&order.order_id, &Outcome::Making).await.is_err());
        assert!(store.status_of(&order.order_id).await.is_err());
    }
}
