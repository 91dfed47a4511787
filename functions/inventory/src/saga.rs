//! The inventory steps of the saga: `PaymentAuthorized` (an order placed, its money held)
//! reserves one cup per beverage (or finds too few) and announces `CupStockDecreased` or
//! `CupOutOfStock`; `OrderCancelled` gives back that order's cups, if it had any (the
//! compensation), and announces `CupsReleased`. A reservation's
//! announcement says how many cups are left, as read after it, for the operator's alerts.

use crate::store::CupReservations;
use cafe_shared::bus::Publish;
use cafe_shared::events::{BusMessage, CafeEvent};
use cafe_shared::sqs::StepError;

pub async fn on_event(store: &impl CupReservations, bus: &impl Publish, message: BusMessage) -> Result<(), StepError> {
    // Each outcome is published again on a redelivery too, in case the first attempt failed
    // after the write.
    let outcome = match &message.event {
        CafeEvent::PaymentAuthorized(authorized) => {
            let placed = &authorized.placed;
            let reservation = store.reserve_cups(placed).await?;
            tracing::info!(?reservation, "cups decided");
            let mut event = reservation.event(placed);
            if let Some(CafeEvent::CupStockDecreased(reserved)) = &mut event {
                // Best effort: the saga goes on without the reading.
                reserved.cups_left = (store.cups_left(&placed.stock_name).await)
                    .inspect_err(|error| tracing::warn!(%error, "cups left unread"))
                    .unwrap_or_default();
            }
            event
        }
        CafeEvent::OrderCancelled(cancelled) => {
            let release = (store.release_cups(&cancelled.stock_name, &cancelled.order.order_id)).await?;
            tracing::info!(?release, "cups of a cancelled order");
            release.event(cancelled)
        }
        other => {
            tracing::warn!(
                detail_type = other.detail_type(),
                "not an event for the inventory function; ignored"
            );
            None
        }
    };
    match outcome {
        Some(event) => bus.publish(&event).await,
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::fake::MemoryInventory;
    use cafe_shared::events::{OrderCancelled, OrderPlaced, OrderSummary, PaymentAuthorized};
    use cafe_shared::fakes::{FakeBus, FakeDeadLetters, envelope, sqs_batch};
    use cafe_shared::sqs::handle_batch;

    fn placed(order_id: &str, qty: u32) -> CafeEvent {
        let placed = OrderPlaced {
            order: OrderSummary {
                order_id: order_id.into(),
                customer_id: "1".into(),
                beverage_name: "latte".into(),
                beverage_qty: qty,
                phone_number: None,
                order_number: None,
                lines: Vec::new(),
            },
            stock_name: "cup".into(),
            order_date: "2026-12-01T10:00:00Z".parse().unwrap(),
            payment: None,
        };
        CafeEvent::PaymentAuthorized(PaymentAuthorized { placed, amount_held: 0 })
    }

    /// The step run on these events as one SQS batch, as the Lambda runs it: the ids of the
    /// messages handed back to be retried.
    async fn deliver(store: &MemoryInventory, bus: &FakeBus, dead: &FakeDeadLetters, bodies: &[String]) -> Vec<String> {
        let response = handle_batch(sqs_batch(bodies), dead, |m| on_event(store, bus, m)).await;
        response
            .batch_item_failures
            .into_iter()
            .map(|f| f.item_identifier)
            .collect()
    }

    fn kinds(bus: &FakeBus) -> Vec<&'static str> {
        bus.published().iter().map(CafeEvent::detail_type).collect()
    }

    #[tokio::test]
    async fn cups_are_taken_once_however_often_the_order_is_delivered() {
        let (store, bus, dead) = (
            MemoryInventory::with_cups(10),
            FakeBus::default(),
            FakeDeadLetters::default(),
        );
        let body = envelope(&placed("o-1", 3));
        // Twice in one batch (a duplicate send) and once more later (a redelivery).
        assert!(
            deliver(&store, &bus, &dead, &[body.clone(), body.clone()])
                .await
                .is_empty()
        );
        assert!(deliver(&store, &bus, &dead, &[body]).await.is_empty());
        assert_eq!(store.cups(), Some(7));
        assert_eq!(kinds(&bus), ["CupStockDecreased"; 3], "the same outcome each time");
        assert!(bus.published().iter().all(|e| e == &bus.published()[0]));
        match &bus.published()[0] {
            CafeEvent::CupStockDecreased(reserved) => assert_eq!(reserved.cups_left, Some(7), "read after"),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn too_few_cups_take_none_and_say_why_without_the_level() {
        let (store, bus, dead) = (
            MemoryInventory::with_cups(2),
            FakeBus::default(),
            FakeDeadLetters::default(),
        );
        deliver(&store, &bus, &dead, &[envelope(&placed("o-1", 3))]).await;
        assert_eq!(store.cups(), Some(2));
        let [CafeEvent::CupOutOfStock(short)] = &bus.published()[..] else {
            panic!("{:?}", bus.published())
        };
        assert_eq!((short.cups_requested, short.cups_available), (3, Some(2)));
        assert_eq!(short.reason, "not enough cups for 3 beverages");
        // Restocked later, a redelivery keeps the decision: the order was already told.
        store.stock_up("cup", 50);
        deliver(&store, &bus, &dead, &[envelope(&placed("o-1", 3))]).await;
        assert_eq!(store.cups(), Some(50));
        assert_eq!(kinds(&bus), ["CupOutOfStock", "CupOutOfStock"]);
    }

    #[tokio::test]
    async fn no_stock_item_at_all_is_out_of_stock_not_a_stuck_order() {
        let (store, bus, dead) = (
            MemoryInventory::default(),
            FakeBus::default(),
            FakeDeadLetters::default(),
        );
        deliver(&store, &bus, &dead, &[envelope(&placed("o-1", 1))]).await;
        let [CafeEvent::CupOutOfStock(short)] = &bus.published()[..] else {
            panic!("{:?}", bus.published())
        };
        assert_eq!(
            (short.cups_available, short.reason.as_str()),
            (None, "there is no cup stock")
        );
    }

    #[tokio::test]
    async fn concurrent_orders_never_take_more_cups_than_there_are() {
        let (store, bus, dead) = (
            MemoryInventory::with_cups(10),
            FakeBus::default(),
            FakeDeadLetters::default(),
        );
        let bodies: Vec<String> = (0..8).map(|i| envelope(&placed(&format!("o-{i}"), 3))).collect();
        assert!(deliver(&store, &bus, &dead, &bodies).await.is_empty());
        let kinds = kinds(&bus);
        assert_eq!(kinds.iter().filter(|k| **k == "CupStockDecreased").count(), 3);
        assert_eq!(kinds.iter().filter(|k| **k == "CupOutOfStock").count(), 5);
        assert_eq!(store.cups(), Some(1));
    }

    #[tokio::test]
    async fn a_table_or_bus_outage_hands_the_message_back_and_the_retry_finishes_it() {
        let (store, bus, dead) = (
            MemoryInventory::with_cups(10),
            FakeBus::default(),
            FakeDeadLetters::default(),
        );
        let body = envelope(&placed("o-1", 2));
        store.down.set(true);
        assert_eq!(deliver(&store, &bus, &dead, std::slice::from_ref(&body)).await, ["m0"]);
        assert_eq!((store.cups(), bus.published().len()), (Some(10), 0), "nothing done");
        store.down.set(false);
        // Decided, then the bus refuses: handed back, and the retry announces the same decision.
        bus.set_down(true);
        assert_eq!(deliver(&store, &bus, &dead, std::slice::from_ref(&body)).await, ["m0"]);
        assert_eq!(store.cups(), Some(8));
        bus.set_down(false);
        assert!(deliver(&store, &bus, &dead, &[body]).await.is_empty());
        assert_eq!((store.cups(), kinds(&bus)), (Some(8), vec!["CupStockDecreased"]));
        assert!(dead.set_aside().is_empty(), "an outage is no poison");
    }

    fn cancelled(order_id: &str, qty: u32) -> CafeEvent {
        CafeEvent::OrderCancelled(OrderCancelled {
            order: placed(order_id, qty).order().clone(),
            stock_name: "cup".into(),
            reason: "the machine ran out of milk".into(),
        })
    }

    #[tokio::test]
    async fn a_cancelled_order_gets_back_exactly_its_cups_once() {
        let (store, bus, dead) = (
            MemoryInventory::with_cups(10),
            FakeBus::default(),
            FakeDeadLetters::default(),
        );
        let orders = [envelope(&placed("o-1", 3)), envelope(&placed("o-2", 2))];
        assert!(deliver(&store, &bus, &dead, &orders).await.is_empty());
        assert_eq!(store.cups(), Some(5));
        // Twice in one batch, and again later: three cups back, once.
        let body = envelope(&cancelled("o-1", 3));
        assert!(
            deliver(&store, &bus, &dead, &[body.clone(), body.clone()])
                .await
                .is_empty()
        );
        assert!(deliver(&store, &bus, &dead, &[body]).await.is_empty());
        assert_eq!(store.cups(), Some(8), "o-2 keeps its two cups");
        let released: Vec<_> = (bus.published().into_iter())
            .filter_map(|e| match e {
                CafeEvent::CupsReleased(r) => Some((r.order.order_id == "o-1", r.cups_released)),
                _ => None,
            })
            .collect();
        assert_eq!(released, [(true, 3); 3], "the same CupsReleased each time");
        assert!(dead.set_aside().is_empty());
    }

    #[tokio::test]
    async fn an_order_that_got_no_cups_gets_none_back_and_one_cancelled_before_its_cups_gets_none() {
        let (store, bus, dead) = (
            MemoryInventory::with_cups(2),
            FakeBus::default(),
            FakeDeadLetters::default(),
        );
        deliver(&store, &bus, &dead, &[envelope(&placed("o-1", 3))]).await;
        // o-2 is cancelled before its OrderPlaced arrives (inventory was slow, the customer quick).
        let bodies = [envelope(&cancelled("o-1", 3)), envelope(&cancelled("o-2", 1))];
        assert!(deliver(&store, &bus, &dead, &bodies).await.is_empty());
        assert!(
            deliver(&store, &bus, &dead, &[envelope(&placed("o-2", 1))])
                .await
                .is_empty()
        );
        assert_eq!(store.cups(), Some(2), "nothing taken, nothing given back");
        assert_eq!(
            kinds(&bus),
            ["CupOutOfStock"],
            "no cups reserved for the withdrawn order"
        );
        assert!(dead.set_aside().is_empty());
    }

    #[tokio::test]
    async fn an_outage_while_giving_cups_back_is_retried_and_gives_them_back_once() {
        let (store, bus, dead) = (
            MemoryInventory::with_cups(10),
            FakeBus::default(),
            FakeDeadLetters::default(),
        );
        deliver(&store, &bus, &dead, &[envelope(&placed("o-1", 4))]).await;
        let body = envelope(&cancelled("o-1", 4));
        store.down.set(true);
        assert_eq!(deliver(&store, &bus, &dead, std::slice::from_ref(&body)).await, ["m0"]);
        store.down.set(false);
        bus.set_down(true);
        assert_eq!(deliver(&store, &bus, &dead, std::slice::from_ref(&body)).await, ["m0"]);
        assert_eq!(store.cups(), Some(10), "given back before the bus refused");
        bus.set_down(false);
        assert!(deliver(&store, &bus, &dead, &[body]).await.is_empty());
        assert_eq!(store.cups(), Some(10));
        assert_eq!(kinds(&bus), ["CupStockDecreased", "CupsReleased"]);
    }

    #[tokio::test]
    async fn a_message_that_is_no_cafe_event_is_set_aside_and_the_rest_of_its_batch_goes_on() {
        let (store, bus, dead) = (
            MemoryInventory::with_cups(10),
            FakeBus::default(),
            FakeDeadLetters::default(),
        );
        let bodies = ["{not json".to_string(), envelope(&placed("o-1", 1))];
        assert!(deliver(&store, &bus, &dead, &bodies).await.is_empty());
        assert_eq!(kinds(&bus), ["CupStockDecreased"]);
        let set_aside = dead.set_aside();
        assert_eq!(set_aside.len(), 1);
        assert!(
            set_aside[0].2.starts_with("message is not a cafe event"),
            "{set_aside:?}"
        );
        // Another step's event is not this step's business: ignored, not poison.
        let other = CafeEvent::OrderCompleted(cafe_shared::events::OrderCompleted {
            order: placed("o-2", 1).order().clone(),
        });
        assert!(deliver(&store, &bus, &dead, &[envelope(&other)]).await.is_empty());
        assert_eq!((dead.set_aside().len(), bus.published().len()), (1, 1));
    }
}
