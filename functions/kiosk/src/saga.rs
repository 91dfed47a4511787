//! The kiosk's part in the saga: every event is folded into its order's view (the read model),
//! in whatever order and however often the events arrive.

use crate::store::OrderViews;
use cafe_shared::events::BusMessage;
use cafe_shared::sqs::StepError;

pub async fn on_event(views: &impl OrderViews, message: BusMessage) -> Result<(), StepError> {
    Ok(views.apply(&message).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::KioskOrder;
    use crate::store::fake::MemoryViews;
    use cafe_shared::events::*;
    use cafe_shared::fakes::{FakeDeadLetters, envelope, sqs_batch};
    use cafe_shared::sqs::handle_batch;

    fn order() -> OrderSummary {
        OrderSummary {
            order_id: "o-1".into(),
            customer_id: "1".into(),
            beverage_name: "latte".into(),
            beverage_qty: 1,
            phone_number: None,
            order_number: None,
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
            }),
            CafeEvent::CupStockDecreased(CupStockDecreased {
                order: order.clone(),
                stock_name: "cup".into(),
                cups_reserved: 1,
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
        let (views, dead) = (MemoryViews::default(), FakeDeadLetters::default());
        for event in events {
            let batch = sqs_batch(&[envelope(event)]);
            let response = handle_batch(batch, &dead, |m| on_event(&views, m)).await;
            assert!(response.batch_item_failures.is_empty());
        }
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
        let (views, dead) = (MemoryViews::default(), FakeDeadLetters::default());
        views.down.set(true);
        let batch = sqs_batch(&[envelope(&completed_saga()[0])]);
        let response = handle_batch(batch, &dead, |m| on_event(&views, m)).await;
        assert_eq!(response.batch_item_failures.len(), 1);
        assert!(views.items.lock().unwrap().is_empty() && dead.set_aside().is_empty());
    }
}
