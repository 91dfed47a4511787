//! The kiosk view stores' contract: each case holds for the in-memory views (which the saga's
//! in-process tests and the simulation run) and for the DynamoDB store on the template's
//! `KioskTable`.

use cafe_kiosk::domain::KioskOrder;
use cafe_kiosk::store::fake::MemoryViews;
use cafe_kiosk::store::{KioskStore, OrderViews};
use cafe_shared::events::*;
use cafe_shared::fakes::api::unreachable_cloud;
use cafe_testkit::Tables;

async fn fake_views() -> MemoryViews {
    MemoryViews::default()
}

async fn dynamodb_views() -> KioskStore {
    let tables = Tables::new(&["KioskTable"]);
    KioskStore::new(&tables.sdk().await, tables.name("KioskTable"))
}

cafe_testkit::contract!(
    fake: fake_views,
    dynamodb: dynamodb_views,
    cases: [
        a_view_is_the_same_whatever_order_its_events_arrive_in,
        a_redelivered_event_changes_nothing,
        the_placing_date_wins_over_a_later_event_s_time,
        an_order_with_no_event_has_no_view,
    ]
);

fn order(order_id: &str) -> OrderSummary {
    OrderSummary {
        order_id: order_id.into(),
        customer_id: "1".into(),
        beverage_name: "latte".into(),
        beverage_qty: 2,
        phone_number: None,
        order_number: Some(7),
    }
}

/// The messages of one order cancelled for want of cups, in the saga's order, a second apart.
fn cancelled_saga(order_id: &str) -> Vec<BusMessage> {
    let order = order(order_id);
    let events = [
        CafeEvent::OrderPlaced(OrderPlaced {
            order: order.clone(),
            stock_name: "cup".into(),
            order_date: "2026-12-01T09:59:59Z".parse().unwrap(),
        }),
        CafeEvent::CupOutOfStock(CupOutOfStock {
            order: order.clone(),
            stock_name: "cup".into(),
            cups_requested: 2,
            cups_available: Some(1),
            reason: "not enough cups for 2 beverages".into(),
        }),
        CafeEvent::OrderCancelled(OrderCancelled {
            order: order.clone(),
            stock_name: "cup".into(),
            reason: "not enough cups for 2 beverages".into(),
        }),
        CafeEvent::CustomerNotified(CustomerNotified {
            order,
            notification_id: "n-1".into(),
            order_status: "cancelled".into(),
            message: "Sorry, your order was cancelled".into(),
        }),
    ];
    (events.into_iter().enumerate())
        .map(|(i, event)| BusMessage {
            id: format!("{order_id}-{i}"),
            source: "cafe.test".into(),
            time: "2026-12-01T10:00:00Z".parse::<chrono::DateTime<chrono::Utc>>().unwrap()
                + chrono::Duration::seconds(i as i64),
            event,
        })
        .collect()
}

fn new_order_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Folds the messages in this order: the view the last one returned, which a read must match.
async fn fold(views: &impl OrderViews, messages: impl IntoIterator<Item = BusMessage>) -> KioskOrder {
    let mut last = None;
    for message in messages {
        last = Some(views.apply(&message).await.unwrap());
    }
    let last = last.expect("at least one message");
    assert_eq!(views.get(&last.order_id).await.unwrap().as_ref(), Some(&last));
    last
}

async fn a_view_is_the_same_whatever_order_its_events_arrive_in(views: &impl OrderViews) {
    let (first, second) = (new_order_id(), new_order_id());
    let in_order = fold(views, cancelled_saga(&first)).await;
    let reversed = fold(views, cancelled_saga(&second).into_iter().rev()).await;
    assert_eq!(in_order.order_status, "cancelled");
    assert_eq!(in_order.timeline.len(), 4);
    assert_eq!(
        KioskOrder {
            order_id: first,
            ..reversed
        },
        in_order
    );
}

async fn a_redelivered_event_changes_nothing(views: &impl OrderViews) {
    let order_id = new_order_id();
    let once = fold(views, cancelled_saga(&order_id)).await;
    let twice = fold(views, cancelled_saga(&order_id)).await;
    assert_eq!(twice, once);
}

async fn the_placing_date_wins_over_a_later_event_s_time(views: &impl OrderViews) {
    let order_id = new_order_id();
    let mut saga = cancelled_saga(&order_id);
    let placed = saga.remove(0);
    let before_placed = fold(views, saga.clone()).await;
    assert_eq!(
        before_placed.order_date, saga[0].time,
        "the first event's time stands in"
    );
    let after = fold(views, [placed]).await;
    assert_eq!(after.order_date.to_rfc3339(), "2026-12-01T09:59:59+00:00");
    assert_eq!(fold(views, saga).await.order_date, after.order_date, "and stays");
}

async fn an_order_with_no_event_has_no_view(views: &impl OrderViews) {
    assert_eq!(views.get(&new_order_id()).await.unwrap(), None);
}

/// With the table out of reach, every call is an error, never a default answer.
mod unreachable {
    use super::*;

    async fn fake_down() -> MemoryViews {
        let views = MemoryViews::default();
        views.down.set(true);
        views
    }

    async fn dynamodb_down() -> KioskStore {
        KioskStore::new(&unreachable_cloud().await, "kiosk".into())
    }

    cafe_testkit::contract!(fake: fake_down, dynamodb: dynamodb_down, cases: [every_call_fails]);

    async fn every_call_fails(views: &impl OrderViews) {
        let order_id = new_order_id();
        assert!(views.apply(&cancelled_saga(&order_id)[0]).await.is_err());
        assert!(views.get(&order_id).await.is_err());
    }
}
