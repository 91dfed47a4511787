//! The kiosk view stores' contract: each case holds for the in-memory views (which the saga's
//! in-process tests and the simulation run) and for the DynamoDB store on the template's
//! `KioskTable`.

use cafe_kiosk::day::{Alert, HourCounts, MACHINE, OUT_OF_CUPS, ended};
use cafe_kiosk::domain::KioskOrder;
use cafe_kiosk::store::fake::MemoryViews;
use cafe_kiosk::store::{CafeDay, KioskStore, OrderViews};
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
        an_ended_order_is_counted_once_in_the_hour_it_ended,
        a_completed_order_counts_what_was_made_and_its_time_to_ready,
        a_cart_s_view_keeps_its_lines_and_total_and_its_hour_counts_each_beverage,
        an_hour_nothing_ended_in_reads_as_zeros,
        an_alert_is_raised_once_an_hour_about_each_subject,
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
        lines: Vec::new(),
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
            payment: None,
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

fn at(text: &str) -> chrono::DateTime<chrono::Utc> {
    text.parse().unwrap()
}

/// Folds the messages and counts the order as the saga step does, as often as asked: whether
/// each count counted.
async fn fold_and_count(views: &(impl OrderViews + CafeDay), messages: Vec<BusMessage>, times: usize) -> Vec<bool> {
    let view = fold(views, messages).await;
    let mut counted = Vec::new();
    for _ in 0..times {
        let view = views.get(&view.order_id).await.unwrap().unwrap();
        match ended(&view) {
            Some(ended) => counted.push(views.count(&view.order_id, &ended).await.unwrap()),
            None => counted.push(false),
        }
    }
    counted
}

async fn an_ended_order_is_counted_once_in_the_hour_it_ended(views: &(impl OrderViews + CafeDay)) {
    let (first, second) = (new_order_id(), new_order_id());
    assert_eq!(
        fold_and_count(views, cancelled_saga(&first), 3).await,
        [true, false, false]
    );
    assert!(views.get(&first).await.unwrap().unwrap().counted);
    // The ended view counted anew (a redelivered event) changes nothing.
    let view = views.get(&first).await.unwrap().unwrap();
    let as_before = cafe_kiosk::day::Ended {
        hour: at("2026-12-01T10:00:00Z"),
        outcome: cafe_kiosk::day::Outcome::Cancelled {
            cause: OUT_OF_CUPS.into(),
        },
    };
    assert!(!views.count(&view.order_id, &as_before).await.unwrap());
    assert_eq!(fold_and_count(views, cancelled_saga(&second), 1).await, [true]);
    let hours = views.hours(&[at("2026-12-01T10:00:00Z")]).await.unwrap();
    assert_eq!(hours.len(), 1);
    assert_eq!((hours[0].completed, hours[0].cancelled.get(OUT_OF_CUPS)), (0, Some(&2)));
    assert!(hours[0].made.is_empty() && hours[0].ready_seconds.is_empty());
}

/// The messages of one completed order of 2 lattes, placed at 10:59:58.4 and ready at 11:00:03.
fn completed_saga(order_id: &str) -> Vec<BusMessage> {
    let order = order(order_id);
    let events = [
        CafeEvent::OrderPlaced(OrderPlaced {
            order: order.clone(),
            stock_name: "cup".into(),
            order_date: at("2026-12-01T10:59:58.400Z"),
            payment: None,
        }),
        CafeEvent::BeverageMade(BeverageMade {
            order: order.clone(),
            beverage_id: "b-1".into(),
            made_at: at("2026-12-01T11:00:02Z"),
            ingredients_left: Default::default(),
        }),
        CafeEvent::OrderCompleted(OrderCompleted { order }),
    ];
    (events.into_iter().enumerate())
        .map(|(i, event)| BusMessage {
            id: format!("{order_id}-{i}"),
            source: "cafe.test".into(),
            time: at("2026-12-01T11:00:01Z") + chrono::Duration::seconds(i as i64),
            event,
        })
        .collect()
}

async fn a_completed_order_counts_what_was_made_and_its_time_to_ready(views: &(impl OrderViews + CafeDay)) {
    let (first, second) = (new_order_id(), new_order_id());
    // Ready before its placing is known: counted once OrderPlaced comes.
    let mut saga = completed_saga(&first);
    let placed = saga.remove(0);
    assert_eq!(fold_and_count(views, saga, 1).await, [false]);
    assert_eq!(fold_and_count(views, vec![placed], 2).await, [true, false]);
    assert_eq!(fold_and_count(views, completed_saga(&second), 1).await, [true]);
    let hours = views
        .hours(&[at("2026-12-01T10:00:00Z"), at("2026-12-01T11:00:00Z")])
        .await
        .unwrap();
    assert_eq!(hours[0], HourCounts::empty(at("2026-12-01T10:00:00Z")));
    assert_eq!(hours[1].completed, 2);
    assert_eq!(hours[1].made.get("latte"), Some(&4));
    assert_eq!(
        hours[1].ready_seconds,
        [5, 5],
        "11:00:03 less 10:59:58.4, to the second"
    );
    assert!(hours[1].cancelled.is_empty());
}

async fn a_cart_s_view_keeps_its_lines_and_total_and_its_hour_counts_each_beverage(
    views: &(impl OrderViews + CafeDay),
) {
    let order_id = new_order_id();
    let line = |name: &str, qty| OrderLine {
        beverage_name: name.into(),
        beverage_qty: qty,
        unit_price: Some(3500),
    };
    let lines = vec![line("latte", 1), line("americano", 2)];
    let cart_saga = (completed_saga(&order_id).into_iter())
        .map(|mut message| {
            let mut json = serde_json::to_value(&message.event).unwrap();
            json["detail"]["beverageQty"] = 3.into();
            json["detail"]["lines"] = serde_json::to_value(&lines).unwrap();
            if json["detail-type"] == "OrderPlaced" {
                json["detail"]["payment"] =
                    serde_json::json!({"amount": 10_500, "currency": "KRW", "paymentMethod": "pm_card_visa"});
            }
            message.event = serde_json::from_value(json).unwrap();
            message
        })
        .collect();
    assert_eq!(fold_and_count(views, cart_saga, 1).await, [true]);
    let view = views.get(&order_id).await.unwrap().expect("a view");
    assert_eq!((view.beverage_qty, view.lines), (3, lines));
    assert_eq!((view.total, view.currency.as_deref()), (Some(10_500), Some("KRW")));
    let hour = &views.hours(&[at("2026-12-01T11:00:00Z")]).await.unwrap()[0];
    assert_eq!(
        (hour.completed, hour.made.get("latte"), hour.made.get("americano")),
        (1, Some(&1), Some(&2))
    );
}

async fn an_alert_is_raised_once_an_hour_about_each_subject(views: &impl CafeDay) {
    let alert = |hour: &str, subject: &str, message: &str| Alert {
        hour: at(hour),
        subject: subject.into(),
        message: message.into(),
    };
    assert!(
        views
            .raise(&alert("2026-12-01T10:00:00Z", "cup", "cups run out"))
            .await
            .unwrap()
    );
    assert!(
        !views
            .raise(&alert("2026-12-01T10:00:00Z", "cup", "again"))
            .await
            .unwrap()
    );
    assert!(
        views
            .raise(&alert("2026-12-01T10:00:00Z", MACHINE, "out of service"))
            .await
            .unwrap()
    );
    assert!(
        views
            .raise(&alert("2026-12-01T11:00:00Z", "cup", "an hour later"))
            .await
            .unwrap()
    );
    let hours = views
        .hours(&[at("2026-12-01T10:00:00Z"), at("2026-12-01T11:00:00Z")])
        .await
        .unwrap();
    let alerts = |i: usize| -> Vec<(String, String)> { hours[i].alerts.clone().into_iter().collect() };
    assert_eq!(
        alerts(0),
        [
            ("cup".into(), "cups run out".into()),
            (MACHINE.into(), "out of service".into())
        ]
    );
    assert_eq!(alerts(1), [("cup".to_string(), "an hour later".to_string())]);
    assert_eq!(hours[0].completed, 0, "an alert counts no order");
}

async fn an_hour_nothing_ended_in_reads_as_zeros(views: &(impl OrderViews + CafeDay)) {
    let hour = at("2026-12-01T03:00:00Z");
    assert_eq!(views.hours(&[hour]).await.unwrap(), [HourCounts::empty(hour)]);
    assert!(views.hours(&[]).await.unwrap().is_empty());
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

    async fn every_call_fails(views: &(impl OrderViews + CafeDay)) {
        let order_id = new_order_id();
        assert!(views.apply(&cancelled_saga(&order_id)[0]).await.is_err());
        assert!(views.get(&order_id).await.is_err());
        let hour = "2026-12-01T10:00:00Z".parse().unwrap();
        assert!(views.hours(&[hour]).await.is_err());
        let ended = cafe_kiosk::day::Ended {
            hour,
            outcome: cafe_kiosk::day::Outcome::Cancelled { cause: "x".into() },
        };
        assert!(views.count(&order_id, &ended).await.is_err());
        let alert = Alert {
            hour,
            subject: MACHINE.into(),
            message: "x".into(),
        };
        assert!(views.raise(&alert).await.is_err());
    }
}
