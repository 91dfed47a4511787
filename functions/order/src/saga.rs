//! The order function's part in the saga: an outcome event moves the order to its end
//! (`on_event`), and the outbox announces every change of the orders table on the bus
//! (`outbox`).

use crate::deadlines::Deadlines;
use crate::domain::{Order, OrderStatus, Outcome, event_for_change};
use crate::store::{OrderOutcomes, Recorded};
use aws_lambda_events::event::dynamodb::{Event as DynamoDbEvent, EventRecord as StreamRecord};
use cafe_shared::bus::Publish;
use cafe_shared::clock;
use cafe_shared::events::{BusMessage, CafeEvent, NOT_READY_IN_TIME};
use cafe_shared::sqs::{SetAside, StepError};
use cafe_shared::{Error, metrics};
use std::time::Duration;

/// `PaymentDeclined` and `CupOutOfStock` cancel the order; `MakingRequested` moves it past its
/// point of no return (unless it was cancelled first); `BeverageMade` completes it and
/// `BeverageFailed` cancels it; its deadline (`OrderDeadlineReached`, a timer) cancels it if it is
/// still pending.
pub async fn on_event(store: &impl OrderOutcomes, message: BusMessage) -> Result<(), StepError> {
    let (order, outcome) = match &message.event {
        CafeEvent::CupOutOfStock(e) => (
            &e.order,
            Outcome::Withdrawn {
                reason: e.reason.clone(),
            },
        ),
        CafeEvent::PaymentDeclined(e) => (
            &e.order,
            Outcome::Withdrawn {
                reason: format!("the payment was declined ({})", e.reason.trim_end_matches('.')),
            },
        ),
        CafeEvent::MakingRequested(e) => (&e.order, Outcome::Making),
        CafeEvent::OrderDeadlineReached(e) => {
            // Nearly every order has ended before its deadline: a read (a fifth of a write's
            // price) spares those the failed cancelling transaction (4 write units).
            let Some(status) = store.status_of(&e.order.order_id).await? else {
                // A timer is started only for a stored order, and orders are never deleted.
                return Err(StepError::Poison(format!("no order {}", e.order.order_id)));
            };
            if status != OrderStatus::Pending {
                return Ok(());
            }
            (
                &e.order,
                Outcome::Withdrawn {
                    reason: NOT_READY_IN_TIME.into(),
                },
            )
        }
        CafeEvent::BeverageMade(e) => (&e.order, Outcome::Completed),
        CafeEvent::BeverageFailed(e) => (
            &e.order,
            Outcome::Failed {
                reason: e.reason.clone(),
            },
        ),
        other => {
            tracing::warn!(
                detail_type = other.detail_type(),
                "not an event for the order function; ignored"
            );
            return Ok(());
        }
    };
    // The move is announced by `outbox` from the table's stream; a redelivered event finds
    // the order moved already and changes nothing.
    match store
        .record_outcome(&order.order_id, &order.customer_id, &outcome)
        .await?
    {
        // Orders are never deleted and the table is read consistently: no later try finds it.
        None => Err(StepError::Poison(format!("no order {}", order.order_id))),
        Some(Recorded::Moved) => Ok(()),
        Some(Recorded::Unmoved(order)) => {
            if order.order_status != outcome.status() {
                // e.g. the machine asked for an order the customer had just cancelled: it is not
                // made, and its cups go back on OrderCancelled.
                tracing::info!(status = ?order.order_status, ?outcome, "order is elsewhere; event ignored");
            }
            Ok(())
        }
    }
}

/// The transactional outbox: each change of the orders table arrives here from its DynamoDB
/// stream and is announced on the bus, in order. The stream keeps a change until this succeeds,
/// so a stored order is never left unannounced; a retried batch announces again, which the
/// idempotent steps absorb. A transient failure (the bus throttling or unreachable) fails the
/// whole batch, so no change after it is skipped; a change that can never be announced (one
/// that does not read as an order, or an event the bus refuses as invalid) goes to the outbox's
/// dead-letter queue once the rest is announced, and the shard moves on.
pub async fn outbox(
    bus: &impl Publish,
    dead_letters: &impl SetAside,
    deadlines: &impl Deadlines,
    changes: DynamoDbEvent,
) -> Result<(), Error> {
    let mut announced = Vec::new();
    let mut poison = Vec::new();
    for record in changes.records {
        match announcement_of(&record, deadlines.time_allowed()) {
            Ok(Some(announcement)) => announced.push((record, announcement)),
            Ok(None) => {}
            Err(reason) => poison.push((record, reason)),
        }
    }
    let events: Vec<_> = announced.iter().map(|(_, (event, _))| event.clone()).collect();
    match bus.publish_all(&events).await {
        Ok(()) => {}
        Err(StepError::Retry(error)) => return Err(error),
        // Some event of the batch is refused for good: announce them one by one to find which.
        Err(StepError::Poison(_)) => {
            let mut accepted = Vec::new();
            for (record, (event, order)) in announced {
                match bus.publish(&event).await {
                    Ok(()) => accepted.push((record, (event, order))),
                    Err(StepError::Retry(error)) => return Err(error),
                    Err(StepError::Poison(reason)) => poison.push((record, reason)),
                }
            }
            announced = accepted;
        }
    }
    // Each announced order's deadline starts; a failure fails the batch, which announces again.
    for (_, (event, order)) in &announced {
        if let CafeEvent::OrderPlaced(placed) = event {
            deadlines.start(&placed.order, order.order_date).await?;
        }
    }
    // Set aside only after the rest went out, so a retried batch never dead-letters twice.
    for (record, reason) in &poison {
        let order_id = record.change.keys.get("orderId").and_then(|key| match key {
            serde_dynamo::AttributeValue::S(id) => Some(id.as_str()),
            _ => None,
        });
        dead_letters
            .set_aside(&serde_json::to_string(record)?, order_id, reason)
            .await?;
        tracing::error!(order_id, reason, "order change dead-lettered; the stream moves on");
    }
    // Counted once announced, so a retried batch counts only what it announces again.
    for (_, (_, order)) in &announced {
        record_metrics(order);
    }
    Ok(())
}

/// The event a stream record announces with the order it is about, if it announces any; an
/// error when the record does not read as an order (it never will).
fn announcement_of(record: &StreamRecord, time_allowed: Duration) -> Result<Option<(CafeEvent, Order)>, String> {
    let image = |item: &serde_dynamo::Item, which: &str| -> Result<Option<Order>, String> {
        if item.is_empty() {
            return Ok(None);
        }
        serde_dynamo::from_item(item.clone()).map_err(|e| format!("the {which} image is not an order: {e}"))
    };
    let before = image(&record.change.old_image, "old")?;
    let after = image(&record.change.new_image, "new")?;
    Ok(event_for_change(before.as_ref(), after.as_ref(), time_allowed).zip(after))
}

/// OrdersPlaced, OrdersCancelled, OrdersCompleted, and for a final order the saga's latency
/// from placing to the outcome.
fn record_metrics(order: &Order) {
    let counter = match order.order_status {
        OrderStatus::Pending => "OrdersPlaced",
        OrderStatus::Making => return,
        OrderStatus::Cancelled => "OrdersCancelled",
        OrderStatus::Completed => "OrdersCompleted",
    };
    metrics::emit(counter, 1.0, "Count", "order");
    if order.order_status != OrderStatus::Pending {
        let latency = (clock::now() - order.order_date).num_milliseconds() as f64;
        metrics::emit("SagaLatency", latency, "Milliseconds", "order");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deadlines::fake::FakeDeadlines;
    use crate::store::fake::MemoryOrders;
    use cafe_shared::fakes::{FakeBus, FakeDeadLetters, envelope, sqs_batch};
    use cafe_shared::sqs::handle_batch;
    use serde_json::json;

    /// A stream record as Lambda delivers it, with these images.
    fn record(old: serde_json::Value, new: serde_json::Value) -> StreamRecord {
        serde_json::from_value(json!({
            "eventID": "1", "eventName": "MODIFY", "eventSource": "aws:dynamodb", "eventVersion": "1.1",
            "awsRegion": "us-east-1", "eventSourceARN": "arn:aws:dynamodb:us-east-1:000000000000:table/orders/stream/x",
            "dynamodb": {"Keys": {"orderId": {"S": "o-1"}}, "OldImage": old, "NewImage": new,
                         "SequenceNumber": "100", "SizeBytes": 1, "StreamViewType": "NEW_AND_OLD_IMAGES"}
        }))
        .unwrap()
    }

    fn order_image(status: &str) -> serde_json::Value {
        json!({"orderId": {"S": "o-1"}, "customerId": {"S": "1"}, "beverageName": {"S": "latte"},
               "beverageQty": {"N": "2"}, "stockName": {"S": "cup"}, "orderStatus": {"S": status},
               "orderDate": {"S": "2026-11-25T01:00:00Z"}})
    }

    /// How long an order may take to be ready.
    const ALLOWED: Duration = Duration::from_secs(300);

    #[test]
    fn a_change_that_reads_as_an_order_announces_its_event() {
        let placed = announcement_of(&record(json!({}), order_image("pending")), ALLOWED).unwrap();
        assert!(matches!(placed, Some((CafeEvent::OrderPlaced(_), _))));
        let completed = announcement_of(&record(order_image("pending"), order_image("completed")), ALLOWED).unwrap();
        assert!(matches!(completed, Some((CafeEvent::OrderCompleted(_), _))));
        let making = announcement_of(&record(order_image("pending"), order_image("making")), ALLOWED).unwrap();
        let Some((CafeEvent::OrderMaking(making), _)) = making else {
            panic!("{making:?}")
        };
        assert_eq!(
            making.deadline,
            "2026-11-25T01:05:00Z".parse().ok(),
            "placed at 01:00, 5 minutes allowed"
        );
        let rewrite = announcement_of(&record(order_image("completed"), order_image("completed")), ALLOWED).unwrap();
        assert!(rewrite.is_none(), "a rewrite announces nothing");
    }

    #[test]
    fn a_change_that_is_no_order_is_poison_with_the_reason() {
        let reason = announcement_of(&record(json!({}), order_image("brewing")), ALLOWED).unwrap_err();
        assert!(reason.starts_with("the new image is not an order"), "{reason}");
        let reason = announcement_of(
            &record(json!({"orderId": {"S": "o-1"}}), order_image("pending")),
            ALLOWED,
        )
        .unwrap_err();
        assert!(reason.starts_with("the old image is not an order"), "{reason}");
    }

    #[test]
    fn a_set_aside_record_replays_as_the_same_record() {
        let original = record(json!({}), order_image("brewing"));
        let replayed: StreamRecord = serde_json::from_str(&serde_json::to_string(&original).unwrap()).unwrap();
        assert_eq!(replayed.change.sequence_number, original.change.sequence_number);
        assert_eq!(replayed.change.new_image, original.change.new_image);
    }

    /// A batch of stream records, as the outbox's mapping delivers it.
    fn changes(records: Vec<StreamRecord>) -> DynamoDbEvent {
        let mut batch = DynamoDbEvent::default();
        batch.records = records;
        batch
    }

    #[tokio::test]
    async fn the_outbox_announces_each_change_in_order_and_sets_aside_only_what_never_reads_as_an_order() {
        let (bus, dead, deadlines) = (FakeBus::default(), FakeDeadLetters::default(), FakeDeadlines::default());
        let batch = changes(vec![
            record(json!({}), order_image("pending")),
            record(json!({}), order_image("brewing")),
            record(order_image("pending"), order_image("completed")),
            record(order_image("completed"), order_image("completed")),
        ]);
        outbox(&bus, &dead, &deadlines, batch).await.unwrap();
        assert_eq!(
            *deadlines.started.lock().unwrap(),
            ["o-1"],
            "a deadline for the placed order only"
        );
        let kinds: Vec<_> = bus.published().iter().map(CafeEvent::detail_type).collect();
        assert_eq!(kinds, ["OrderPlaced", "OrderCompleted"]);
        let set_aside = dead.set_aside();
        assert_eq!(set_aside.len(), 1, "{set_aside:?}");
        assert_eq!(set_aside[0].1.as_deref(), Some("o-1"));
        assert!(set_aside[0].2.starts_with("the new image is not an order"));
    }

    #[tokio::test]
    async fn a_bus_outage_fails_the_whole_batch_so_no_change_is_skipped() {
        let (bus, dead) = (FakeBus::default(), FakeDeadLetters::default());
        bus.set_down(true);
        let batch = || {
            changes(vec![
                record(json!({}), order_image("pending")),
                record(json!({}), order_image("brewing")),
            ])
        };
        assert!(outbox(&bus, &dead, &FakeDeadlines::default(), batch()).await.is_err());
        assert!(
            dead.set_aside().is_empty(),
            "nothing set aside while the rest is unannounced"
        );
        bus.set_down(false);
        outbox(&bus, &dead, &FakeDeadlines::default(), batch()).await.unwrap();
        assert_eq!(bus.published().len(), 1);
        assert_eq!(dead.set_aside().len(), 1);
    }

    fn pending_order(order_id: &str) -> Order {
        serde_json::from_value(json!({"orderId": order_id, "customerId": "1", "beverageName": "latte",
            "beverageQty": 2, "stockName": "cup", "orderStatus": "pending", "orderDate": "2026-12-01T10:00:00Z"}))
        .unwrap()
    }

    fn outcome_event(order: &Order, cancelled: bool) -> CafeEvent {
        match cancelled {
            true => CafeEvent::CupOutOfStock(cafe_shared::events::CupOutOfStock {
                order: order.summary(),
                stock_name: "cup".into(),
                cups_requested: 2,
                cups_available: Some(1),
                reason: "not enough cups for 2 beverages".into(),
            }),
            false => CafeEvent::BeverageMade(cafe_shared::events::BeverageMade {
                order: order.summary(),
                beverage_id: "b-1".into(),
                made_at: "2026-12-01T10:00:01Z".parse().unwrap(),
                ingredients_left: Default::default(),
            }),
        }
    }

    fn making_requested(order: &Order) -> CafeEvent {
        CafeEvent::MakingRequested(cafe_shared::events::MakingRequested {
            order: order.summary(),
            stock_name: "cup".into(),
        })
    }

    #[tokio::test]
    async fn a_declined_card_cancels_the_order_with_the_provider_s_words_once() {
        let store = MemoryOrders::default();
        let order = pending_order("o-1");
        store.orders.lock().unwrap().insert("o-1".into(), order.clone());
        let declined = CafeEvent::PaymentDeclined(cafe_shared::events::PaymentDeclined {
            order: order.summary(),
            reason: "Your card was declined.".into(),
        });
        let dead = FakeDeadLetters::default();
        let body = envelope(&declined);
        handle_batch(sqs_batch(&[body.clone(), body]), &dead, |m| on_event(&store, m)).await;
        let after = store.orders.lock().unwrap()["o-1"].clone();
        assert_eq!(after.order_status, OrderStatus::Cancelled);
        assert_eq!(
            after.reason.as_deref(),
            Some("the payment was declined (Your card was declined)")
        );
        assert_eq!(store.changes.lock().unwrap().len(), 1, "moved once");
    }

    #[tokio::test]
    async fn a_cancel_and_the_machines_request_never_both_win() {
        for cancel_first in [true, false] {
            let store = MemoryOrders::default();
            let order = pending_order("o-1");
            store.orders.lock().unwrap().insert("o-1".into(), order.clone());
            let dead = FakeDeadLetters::default();
            let cancel = crate::domain::cancelled_by(false);
            let request = || {
                handle_batch(sqs_batch(&[envelope(&making_requested(&order))]), &dead, |m| {
                    on_event(&store, m)
                })
            };
            if !cancel_first {
                request().await;
            }
            let cancelled = store
                .record_outcome("o-1", &order.customer_id, &cancel)
                .await
                .unwrap()
                .unwrap();
            if cancel_first {
                request().await;
            }
            let after = store.orders.lock().unwrap()["o-1"].clone();
            if cancel_first {
                assert!(matches!(cancelled, Recorded::Moved));
                assert_eq!(after.order_status, OrderStatus::Cancelled, "the machine's request lost");
            } else {
                assert!(matches!(cancelled, Recorded::Unmoved(ref o) if o.order_status == OrderStatus::Making));
                assert_eq!(after.order_status, OrderStatus::Making, "the cancel lost");
            }
        }
    }

    #[tokio::test]
    async fn a_deadline_cancels_a_pending_order_and_changes_nothing_once_it_is_being_made() {
        let store = MemoryOrders::default();
        let (waiting, making) = (pending_order("o-1"), pending_order("o-2"));
        store.orders.lock().unwrap().insert("o-1".into(), waiting.clone());
        store.orders.lock().unwrap().insert("o-2".into(), making.clone());
        let dead = FakeDeadLetters::default();
        let deadline = |order: &Order| {
            CafeEvent::OrderDeadlineReached(cafe_shared::events::OrderDeadlineReached {
                order: order.summary(),
                deadline: "2026-12-01T10:05:00Z".parse().unwrap(),
            })
        };
        let bodies: Vec<String> = [making_requested(&making), deadline(&waiting), deadline(&making)]
            .iter()
            .map(envelope)
            .collect();
        for body in bodies {
            handle_batch(sqs_batch(&[body]), &dead, |m| on_event(&store, m)).await;
        }
        let orders = store.orders.lock().unwrap();
        assert_eq!(orders["o-1"].order_status, OrderStatus::Cancelled);
        assert_eq!(orders["o-1"].reason.as_deref(), Some(NOT_READY_IN_TIME));
        assert_eq!(
            orders["o-2"].order_status,
            OrderStatus::Making,
            "past its point of no return"
        );
        assert!(dead.set_aside().is_empty());
    }

    /// The orders of `MemoryOrders`, read as pending whatever they are: a read that a move
    /// overtook between the deadline's read and its write. Counts the moves tried.
    struct StaleReads<'a>(&'a MemoryOrders, std::sync::atomic::AtomicUsize);

    impl OrderOutcomes for StaleReads<'_> {
        async fn record_outcome(
            &self,
            order_id: &str,
            customer_id: &str,
            outcome: &Outcome,
        ) -> Result<Option<Recorded>, Error> {
            self.1.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            self.0.record_outcome(order_id, customer_id, outcome).await
        }

        async fn status_of(&self, order_id: &str) -> Result<Option<OrderStatus>, Error> {
            Ok(self.0.status_of(order_id).await?.map(|_| OrderStatus::Pending))
        }
    }

    #[tokio::test]
    async fn a_deadline_that_read_a_pending_order_still_cancels_nothing_being_made() {
        let store = MemoryOrders::default();
        let mut making = pending_order("o-1");
        making.order_status = OrderStatus::Making;
        store.orders.lock().unwrap().insert("o-1".into(), making.clone());
        let dead = FakeDeadLetters::default();
        let deadline = |order: &Order| {
            envelope(&CafeEvent::OrderDeadlineReached(
                cafe_shared::events::OrderDeadlineReached {
                    order: order.summary(),
                    deadline: "2026-12-01T10:05:00Z".parse().unwrap(),
                },
            ))
        };
        let unknown = pending_order("o-unknown");
        let stale = StaleReads(&store, Default::default());
        let response = handle_batch(sqs_batch(&[deadline(&making), deadline(&unknown)]), &dead, |m| {
            on_event(&stale, m)
        })
        .await;
        assert!(response.batch_item_failures.is_empty(), "nothing to retry");
        assert_eq!(
            store.orders.lock().unwrap()["o-1"].order_status,
            OrderStatus::Making,
            "the move's own condition keeps an order being made"
        );
        let set_aside = dead.set_aside();
        assert_eq!(
            set_aside.len(),
            1,
            "the timer of an order never stored is set aside: {set_aside:?}"
        );
        assert_eq!(set_aside[0].1.as_deref(), Some("o-unknown"));
        assert_eq!(
            stale.1.into_inner(),
            1,
            "a move tried for the stored order only: no write for an order never stored"
        );
    }

    #[tokio::test]
    async fn an_outcome_moves_a_pending_order_once_and_the_first_outcome_wins() {
        let store = MemoryOrders::default();
        let order = pending_order("o-1");
        store.orders.lock().unwrap().insert("o-1".into(), order.clone());
        let dead = FakeDeadLetters::default();
        let deliver = |events: Vec<CafeEvent>| {
            let bodies: Vec<String> = events.iter().map(envelope).collect();
            let (store, dead) = (&store, &dead);
            async move {
                let response = handle_batch(sqs_batch(&bodies), dead, |m| on_event(store, m)).await;
                response.batch_item_failures.len()
            }
        };
        let cancelled = outcome_event(&order, true);
        assert_eq!(deliver(vec![cancelled.clone(), cancelled]).await, 0);
        assert_eq!(deliver(vec![outcome_event(&order, false)]).await, 0);
        let stored = store.orders.lock().unwrap()["o-1"].clone();
        assert_eq!(stored.order_status, OrderStatus::Cancelled);
        assert_eq!(stored.reason.as_deref(), Some("not enough cups for 2 beverages"));
        assert!(dead.set_aside().is_empty());
        // A beverage the machine could not make cancels its order with the machine's reason.
        let latte = pending_order("o-2");
        store.orders.lock().unwrap().insert("o-2".into(), latte.clone());
        let failed = CafeEvent::BeverageFailed(cafe_shared::events::BeverageFailed {
            order: latte.summary(),
            beverage_id: "b-2".into(),
            reason: "the machine ran out of milk".into(),
            failed_at: "2026-12-01T10:00:01Z".parse().unwrap(),
        });
        assert_eq!(deliver(vec![failed.clone()]).await, 0);
        assert_eq!(
            store.orders.lock().unwrap()["o-2"].order_status,
            OrderStatus::Pending,
            "a failure before the order was being made moves nothing"
        );
        assert_eq!(deliver(vec![making_requested(&latte), failed.clone(), failed]).await, 0);
        let stored = store.orders.lock().unwrap()["o-2"].clone();
        assert_eq!(stored.order_status, OrderStatus::Cancelled);
        assert_eq!(stored.reason.as_deref(), Some("the machine ran out of milk"));
        // An outcome for an order that was never placed is poison: set aside, not retried.
        assert_eq!(deliver(vec![outcome_event(&pending_order("o-404"), false)]).await, 0);
        assert_eq!(dead.set_aside().len(), 1);
        assert_eq!(dead.set_aside()[0].2, "no order o-404");
    }
}
