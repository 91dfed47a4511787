//! The kiosk's saga step in process, over the in-memory views, live connections and alerts.

use super::*;
use crate::alerts::fake::SentAlerts;
use crate::domain::KioskOrder;
use crate::live::WatchingAs;
use crate::live::fake::MemoryLive;
use crate::store::fake::MemoryViews;
use aws_sdk_dynamodb::types::AttributeValue;
use cafe_shared::events::*;
use cafe_shared::fakes::{FakeDeadLetters, FakeSignOuts, envelope, sqs_batch};
use cafe_shared::sqs::handle_batch;
use std::collections::HashMap;

fn order() -> OrderSummary {
    OrderSummary {
        order_id: "o-1".into(),
        customer_id: "1".into(),
        beverage_name: "latte".into(),
        beverage_qty: 1,
        phone_number: None,
        order_number: Some(7),
        lines: Vec::new(),
    }
}

/// The events of one completed order, in the saga's order.
fn completed_saga() -> Vec<CafeEvent> {
    let order = order();
    vec![
        CafeEvent::OrderPlaced(OrderPlaced {
            order: order.clone(),
            stock_name: "cup".into(),
            order_date: "2026-12-01T09:59:58Z".parse().unwrap(),
            payment: None,
        }),
        CafeEvent::CupStockDecreased(CupStockDecreased {
            order: order.clone(),
            stock_name: "cup".into(),
            cups_reserved: 1,
            cups_left: None,
        }),
        CafeEvent::MakingRequested(MakingRequested {
            order: order.clone(),
            stock_name: "cup".into(),
        }),
        CafeEvent::OrderMaking(OrderMaking {
            order: order.clone(),
            stock_name: "cup".into(),
            deadline: Some("2026-12-01T10:05:00Z".parse().unwrap()),
        }),
        CafeEvent::BeverageMade(BeverageMade {
            order: order.clone(),
            beverage_id: "b-1".into(),
            made_at: "2026-12-01T10:00:00Z".parse().unwrap(),
            ingredients_left: Default::default(),
        }),
        CafeEvent::OrderCompleted(OrderCompleted { order: order.clone() }),
        CafeEvent::CustomerNotified(CustomerNotified {
            order,
            notification_id: "n-1".into(),
            order_status: "completed".into(),
            message: "Your 1 latte is ready. Enjoy!".into(),
        }),
    ]
}

/// The view after these events arrive one batch each, as the queue may deliver them.
async fn view_after(events: &[CafeEvent]) -> KioskOrder {
    let views = MemoryViews::default();
    assert!(deliver_each(&views, &UNHEARD, events).await.is_empty());
    views.get("o-1").await.unwrap().unwrap()
}

#[tokio::test]
async fn any_order_and_any_repetition_of_the_events_gives_the_same_view() {
    let in_order = view_after(&completed_saga()).await;
    assert_eq!(in_order.order_status, "completed");
    let steps: Vec<_> = in_order.timeline.iter().map(|s| s.event.as_str()).collect();
    assert_eq!(
        steps,
        [
            "OrderPlaced",
            "CupStockDecreased",
            "MakingRequested",
            "OrderMaking",
            "BeverageMade",
            "OrderCompleted",
            "CustomerNotified"
        ]
    );
    assert_eq!(in_order.notification.as_deref(), Some("Your 1 latte is ready. Enjoy!"));
    assert_eq!(
        in_order.order_date,
        "2026-12-01T09:59:58Z".parse::<chrono::DateTime<chrono::Utc>>().unwrap()
    );

    let mut reversed = completed_saga();
    reversed.reverse();
    assert_eq!(view_after(&reversed).await, in_order, "reversed");
    let twice: Vec<_> = completed_saga().into_iter().flat_map(|e| [e.clone(), e]).collect();
    assert_eq!(view_after(&twice).await, in_order, "each twice");
}

#[tokio::test]
async fn the_day_counts_an_order_once_whatever_is_redelivered() {
    let views = MemoryViews::default();
    let mut events = completed_saga();
    events.reverse();
    let twice: Vec<_> = events.iter().chain(&events).cloned().collect();
    assert!(deliver_each(&views, &UNHEARD, &twice).await.is_empty());
    // Every envelope is stamped 10:00:00; the order was placed at 09:59:58.
    let counts = views.hours(&["2026-12-01T10:00:00Z".parse().unwrap()]).await.unwrap();
    assert_eq!(counts[0].completed, 1);
    assert_eq!(counts[0].made.get("latte"), Some(&1));
    assert_eq!(counts[0].ready_seconds, [2]);
}

#[tokio::test]
async fn a_cart_shows_its_lines_and_the_day_counts_each_beverage_made() {
    let line = |name: &str, qty| OrderLine {
        beverage_name: name.into(),
        beverage_qty: qty,
        unit_price: Some(3500),
    };
    let cart = OrderSummary {
        beverage_qty: 3,
        lines: vec![line("latte", 2), line("americano", 1)],
        ..order()
    };
    let events: Vec<_> = (completed_saga().into_iter())
        .map(|event| {
            let mut json = serde_json::to_value(&event).unwrap();
            json["detail"]["beverageQty"] = 3.into();
            json["detail"]["lines"] = serde_json::to_value(&cart.lines).unwrap();
            if json["detail-type"] == "OrderPlaced" {
                json["detail"]["payment"] =
                    serde_json::json!({"amount": 10_500, "currency": "KRW", "paymentMethod": "pm_card_visa"});
            }
            serde_json::from_value::<CafeEvent>(json).unwrap()
        })
        .collect();
    let views = MemoryViews::default();
    assert!(deliver_each(&views, &UNHEARD, &events).await.is_empty());
    let view = views.get("o-1").await.unwrap().unwrap();
    assert_eq!((view.beverage_qty, &view.lines), (3, &cart.lines));
    assert_eq!(
        (view.total, view.currency.as_deref()),
        (Some(10_500), Some("KRW")),
        "the receipt's total"
    );
    let said: Vec<_> = view.timeline.iter().map(|s| s.summary.as_str()).collect();
    assert!(said.contains(&"Ordered 2 lattes and 1 americano"), "{said:?}");
    assert!(said.contains(&"2 lattes and 1 americano made"), "{said:?}");
    let counts = views.hours(&["2026-12-01T10:00:00Z".parse().unwrap()]).await.unwrap();
    assert_eq!(counts[0].completed, 1);
    assert_eq!(
        (counts[0].made.get("latte"), counts[0].made.get("americano")),
        (Some(&2), Some(&1))
    );
}

/// Delivers each event in its own batch: the ids of the messages handed back.
async fn deliver_each(views: &MemoryViews, alerts: &SentAlerts, events: &[CafeEvent]) -> Vec<String> {
    let (dead, live) = (FakeDeadLetters::default(), MemoryLive::default());
    let mut failed = Vec::new();
    for event in events {
        let batch = sqs_batch(&[envelope(event)]);
        let response = handle_batch(batch, &dead, |m| {
            on_event(views, &live, &*NOBODY_SIGNED_OUT, alerts, &MENU, m)
        })
        .await;
        failed.extend(response.batch_item_failures.into_iter().map(|f| f.item_identifier));
    }
    failed
}

fn another_order() -> OrderSummary {
    OrderSummary {
        order_id: "o-2".into(),
        ..order()
    }
}

#[tokio::test]
async fn the_operator_is_alerted_once_an_hour_of_an_item_that_runs_out_within_it() {
    let (views, alerts) = (MemoryViews::default(), SentAlerts::default());
    // One latte completed this hour: a cup, a unit of beans and of milk an hour.
    deliver_each(&views, &alerts, &completed_saga()).await;
    assert!(alerts.sent.lock().unwrap().is_empty(), "nothing reported running low");
    let reserved = CafeEvent::CupStockDecreased(CupStockDecreased {
        order: another_order(),
        stock_name: "cup".into(),
        cups_reserved: 1,
        cups_left: Some(0),
    });
    let made = CafeEvent::BeverageMade(BeverageMade {
        order: another_order(),
        beverage_id: "b-2".into(),
        made_at: "2026-12-01T10:00:00Z".parse().unwrap(),
        ingredients_left: [("beans".to_string(), 5), ("milk".to_string(), 0)].into(),
    });
    let failed = deliver_each(&views, &alerts, &[reserved.clone(), made, reserved]).await;
    assert!(failed.is_empty());
    let sent: Vec<_> = (alerts.sent.lock().unwrap().iter())
        .map(|a| (a.subject.clone(), a.message.clone()))
        .collect();
    assert_eq!(
        sent,
        [
            (
                "cup".to_string(),
                "cup has run out (it goes at 1.0 an hour): restock it.".to_string()
            ),
            (
                "milk".to_string(),
                "milk has run out (it goes at 1.0 an hour): restock it.".to_string()
            ),
        ],
        "beans last 5 hours; the cups' second report is the same hour's"
    );
    let hour = views
        .hours(&["2026-12-01T10:00:00Z".parse().unwrap()])
        .await
        .unwrap()
        .remove(0);
    assert_eq!(hour.alerts.keys().collect::<Vec<_>>(), ["cup", "milk"]);
}

#[tokio::test]
async fn an_order_failed_on_a_machine_out_of_service_alerts_the_operator_and_a_failed_send_is_sent_again() {
    let (views, alerts) = (MemoryViews::default(), SentAlerts::default());
    let failed = CafeEvent::BeverageFailed(BeverageFailed {
        order: order(),
        beverage_id: "b-1".into(),
        reason: MACHINE_OUT_OF_ORDER.into(),
        failed_at: "2026-12-01T10:00:00Z".parse().unwrap(),
    });
    alerts.down.set(true);
    assert_eq!(
        deliver_each(&views, &alerts, std::slice::from_ref(&failed)).await.len(),
        1,
        "retried"
    );
    alerts.down.set(false);
    assert!(
        deliver_each(&views, &alerts, &[failed.clone(), failed])
            .await
            .is_empty()
    );
    let sent = alerts.sent.lock().unwrap();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        (sent[0].subject.as_str(), sent[0].message.as_str()),
        (MACHINE, MACHINE_ALERT)
    );
}

#[tokio::test]
async fn a_cancelled_order_shows_why_even_if_the_cancellation_comes_first() {
    let placed = completed_saga().remove(0);
    let short = CafeEvent::CupOutOfStock(CupOutOfStock {
        order: order(),
        stock_name: "cup".into(),
        cups_requested: 1,
        cups_available: Some(0),
        reason: "cups are sold out".into(),
    });
    let cancelled = CafeEvent::OrderCancelled(OrderCancelled {
        order: order(),
        stock_name: "cup".into(),
        reason: "cups are sold out".into(),
    });
    let view = view_after(&[cancelled, short, placed]).await;
    assert_eq!(view.order_status, "cancelled");
    assert_eq!(view.reason.as_deref(), Some("cups are sold out"));
    assert_eq!(view.timeline[0].event, "OrderPlaced");
}

#[tokio::test]
async fn an_order_past_its_point_of_no_return_shows_as_being_made() {
    let mut events = completed_saga();
    events.truncate(4);
    let view = view_after(&events).await;
    assert_eq!(view.order_status, "making");
    events.truncate(3);
    assert_eq!(
        view_after(&events).await.order_status,
        "pending",
        "asked, not yet allowed"
    );
}

#[tokio::test]
async fn a_beverage_the_machine_could_not_make_shows_why_and_the_cups_given_back_in_any_order() {
    let mut events = completed_saga();
    events.truncate(4);
    events.extend([
        CafeEvent::BeverageFailed(BeverageFailed {
            order: order(),
            beverage_id: "b-1".into(),
            reason: "the machine ran out of milk".into(),
            failed_at: "2026-12-01T10:00:00Z".parse().unwrap(),
        }),
        CafeEvent::CupsReleased(CupsReleased {
            order: order(),
            stock_name: "cup".into(),
            cups_released: 1,
        }),
        CafeEvent::OrderCancelled(OrderCancelled {
            order: order(),
            stock_name: "cup".into(),
            reason: "the machine ran out of milk".into(),
        }),
    ]);
    let view = view_after(&events).await;
    assert_eq!(view.order_status, "cancelled");
    assert_eq!(view.reason.as_deref(), Some("the machine ran out of milk"));
    let steps: Vec<_> = view.timeline.iter().map(|s| s.summary.as_str()).collect();
    assert!(
        steps.contains(&"Could not be made: the machine ran out of milk"),
        "{steps:?}"
    );
    assert!(steps.contains(&"1 cup back in stock"), "{steps:?}");
    events.reverse();
    assert_eq!(view_after(&events).await, view, "reversed");
}

#[tokio::test]
async fn an_outage_hands_the_event_back_and_changes_nothing() {
    let (views, dead, live) = (
        MemoryViews::default(),
        FakeDeadLetters::default(),
        MemoryLive::default(),
    );
    live.watching
        .lock()
        .unwrap()
        .push(("phone".into(), "order#o-1".into(), None));
    views.down.set(true);
    let batch = sqs_batch(&[envelope(&completed_saga()[0])]);
    let response = handle_batch(batch, &dead, |m| {
        on_event(&views, &live, &*NOBODY_SIGNED_OUT, &*UNHEARD, &MENU, m)
    })
    .await;
    assert_eq!(response.batch_item_failures.len(), 1);
    assert!(views.items.lock().unwrap().is_empty() && dead.set_aside().is_empty());
    assert!(live.sent.lock().unwrap().is_empty(), "nothing stored, nothing sent");
}

#[tokio::test]
async fn each_watcher_gets_what_it_watches_as_it_changes() {
    let (views, dead, live) = (
        MemoryViews::default(),
        FakeDeadLetters::default(),
        MemoryLive::default(),
    );
    live.watching.lock().unwrap().extend([
        ("phone".to_string(), "order#o-1".to_string(), None),
        ("screen".to_string(), "board".to_string(), None),
        ("other-phone".to_string(), "order#o-2".to_string(), None),
        // Customer 1's own token, watching before the view existed, and another customer's.
        ("own-token".to_string(), "order#o-1".to_string(), Some(watching_as("1"))),
        (
            "other-token".to_string(),
            "order#o-1".to_string(),
            Some(watching_as("2")),
        ),
    ]);
    // A page marked the order watched before its first event (as `watch` does).
    views.items.lock().unwrap().insert(
        "o-1".into(),
        HashMap::from([
            ("orderId".to_string(), AttributeValue::S("o-1".into())),
            ("watched".to_string(), AttributeValue::Bool(true)),
        ]),
    );
    for event in completed_saga() {
        let batch = sqs_batch(&[envelope(&event)]);
        handle_batch(batch, &dead, |m| {
            on_event(&views, &live, &*NOBODY_SIGNED_OUT, &*UNHEARD, &MENU, m)
        })
        .await;
    }
    let sent = live.sent.lock().unwrap().clone();
    let to = |connection: &str| -> Vec<serde_json::Value> {
        sent.iter()
            .filter(|(c, _)| c == connection)
            .map(|(_, u)| u.clone())
            .collect()
    };
    // The phone: the whole view after each of the 7 events, the last one final.
    let phone = to("phone");
    assert_eq!(phone.len(), 7);
    assert!(
        phone
            .iter()
            .all(|u| u["type"] == "order" && u["order"]["orderId"] == "o-1")
    );
    assert_eq!(phone[6]["order"]["orderStatus"], "completed");
    assert_eq!(phone[6]["order"]["timeline"].as_array().unwrap().len(), 7);
    // The screen: only the moves on the board, by number, with no customer in them.
    let moves: Vec<_> = to("screen").iter().map(|u| u["order"]["status"].clone()).collect();
    assert_eq!(moves, ["making", "making", "ready"]);
    assert!(
        to("screen")
            .iter()
            .all(|u| u["type"] == "boardMove" && u["order"]["orderNumber"] == 7)
    );
    assert!(!serde_json::to_string(&to("screen")).unwrap().contains("customerId"));
    assert!(to("other-phone").is_empty());
    assert_eq!(to("own-token").len(), 7);
    assert!(
        to("other-token").is_empty(),
        "another customer's token sees nothing of the order"
    );
}

#[tokio::test]
async fn an_order_no_page_watches_costs_no_lookup_but_the_screens() {
    let (views, dead, live) = (
        MemoryViews::default(),
        FakeDeadLetters::default(),
        MemoryLive::default(),
    );
    for event in completed_saga() {
        let batch = sqs_batch(&[envelope(&event)]);
        handle_batch(batch, &dead, |m| {
            on_event(&views, &live, &*NOBODY_SIGNED_OUT, &*UNHEARD, &MENU, m)
        })
        .await;
    }
    // Only the 3 events that move it on the board (making, made, ready) look for screens.
    assert_eq!(*live.looked_up.lock().unwrap(), ["board", "board", "board"]);
    assert!(!views.get("o-1").await.unwrap().unwrap().watched);
}

static NOBODY_SIGNED_OUT: std::sync::LazyLock<FakeSignOuts> = std::sync::LazyLock::new(FakeSignOuts::default);
/// Alerts no test here looks at.
static UNHEARD: std::sync::LazyLock<SentAlerts> = std::sync::LazyLock::new(SentAlerts::default);
static MENU: std::sync::LazyLock<Menu> = std::sync::LazyLock::new(|| {
    Menu::from_json(
        r#"[{"beverageName":"latte","displayName":"Latte","stockName":"cup","recipe":{"beans":1,"milk":1}}]"#,
    )
    .unwrap()
});

fn watching_as(customer_id: &str) -> WatchingAs {
    WatchingAs {
        customer_id: customer_id.into(),
        token_ends: 2_000_000_000,
        kiosk_id: None,
    }
}

#[tokio::test]
async fn a_page_of_a_customer_who_signed_out_is_closed_and_sent_nothing() {
    let (views, dead, live, sign_outs) = (
        MemoryViews::default(),
        FakeDeadLetters::default(),
        MemoryLive::default(),
        FakeSignOuts::default(),
    );
    live.watching.lock().unwrap().extend([
        ("before".to_string(), "order#o-1".to_string(), Some(watching_as("1"))),
        ("receipt".to_string(), "order#o-1".to_string(), None),
    ]);
    let events = completed_saga();
    let deliver = |event: &CafeEvent| {
        let batch = sqs_batch(&[envelope(event)]);
        handle_batch(batch, &dead, |m| {
            on_event(&views, &live, &sign_outs, &*UNHEARD, &MENU, m)
        })
    };
    deliver(&events[0]).await;
    views
        .items
        .lock()
        .unwrap()
        .get_mut("o-1")
        .unwrap()
        .insert("watched".into(), AttributeValue::Bool(true));
    deliver(&events[1]).await;
    // Customer 1 signs out everywhere: every token of theirs ending by then is revoked.
    (sign_outs.revoked.lock().unwrap().customers).insert("1".into(), 2_000_000_000);
    deliver(&events[2]).await;
    let sent_to = |connection: &str| {
        live.sent
            .lock()
            .unwrap()
            .iter()
            .filter(|(c, _)| c == connection)
            .count()
    };
    assert_eq!(sent_to("before"), 1, "only the update before the sign-out");
    assert_eq!(*live.closed.lock().unwrap(), ["before"]);
    assert_eq!(sent_to("receipt"), 2, "a receipt's page is not the customer's token");
    // A token issued after the sign-out holds.
    live.watching.lock().unwrap().push((
        "after".into(),
        "order#o-1".into(),
        Some(WatchingAs {
            token_ends: 2_000_000_001,
            ..watching_as("1")
        }),
    ));
    // A token issued through a kiosk that was revoked since: its page is closed too.
    live.watching.lock().unwrap().push((
        "stolen".into(),
        "order#o-1".into(),
        Some(WatchingAs {
            kiosk_id: Some("kiosk-stolen".into()),
            ..watching_as("1")
        }),
    ));
    (sign_outs.revoked.lock().unwrap().kiosks).insert("kiosk-stolen".into(), 2_000_000_000);
    deliver(&events[3]).await;
    assert_eq!(sent_to("after"), 1);
    assert_eq!(sent_to("stolen"), 0);
    assert_eq!(*live.closed.lock().unwrap(), ["before", "stolen"]);
    // Sign-outs that cannot be read send nothing to a customer's page.
    sign_outs.down.set(true);
    deliver(&events[4]).await;
    assert_eq!(sent_to("after"), 1);
    assert_eq!(sent_to("receipt"), 4);
}
