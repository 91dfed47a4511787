//! The notify step of the saga: an order's outcome (`OrderCancelled`, `OrderCompleted`) is told
//! to the customer once (recorded, then sent), then `CustomerNotified`.

use crate::domain::Notification;
use crate::sender::Notify;
use crate::store::Notifications;
use cafe_shared::bus::Publish;
use cafe_shared::clock;
use cafe_shared::events::BusMessage;
use cafe_shared::sqs::StepError;

/// How long one delivery has to send a notification before another may: the function's timeout
/// (template.yaml's `Globals`), so a claim outlives its sender. A claim starts at most a timeout
/// after its message was received, so a retry after the least `QueueVisibilitySeconds` (six
/// timeouts) finds a dead sender's claim run out. The simulation checks both against the template.
pub const SENDING_CLAIM: chrono::Duration = chrono::Duration::seconds(10);

pub async fn on_event(
    store: &impl Notifications,
    sender: &impl Notify,
    bus: &impl Publish,
    message: BusMessage,
) -> Result<(), StepError> {
    let now = clock::now();
    let Some(fresh) = Notification::for_outcome(&message.event, now) else {
        tracing::warn!(
            detail_type = message.event.detail_type(),
            "not an event for the notify function; ignored"
        );
        return Ok(());
    };
    let order = message.event.order();
    // No read first: the record's condition finds a notification already on record (a
    // redelivery), which is then read. A new record carries this delivery's claim to send it.
    let (notification, claimed) = store.record(&fresh, now + SENDING_CLAIM).await?;
    // Sent unless a previous delivery got as far as recording it sent, and by one delivery at a
    // time: a duplicate of the event in the same batch or another invocation finds it claimed
    // and is retried after the visibility timeout, when it is sent (or the claim of a sender that
    // died has run out).
    if notification.sns_message_id.is_none() {
        if !claimed && !(store.claim_send(&notification.notification_id, now, now + SENDING_CLAIM)).await? {
            // Refused: sent meanwhile (then it is told as sent), or another delivery is sending.
            let sent = (store.get(&notification.notification_id).await?)
                .filter(|on_record| on_record.sns_message_id.is_some())
                .ok_or("another delivery of this outcome is sending its notification")?;
            return bus.publish(&sent.notified_event(order)).await;
        }
        let sns_message_id = sender.send(&notification, order.phone_number.as_deref()).await?;
        store.mark_sent(&notification.notification_id, &sns_message_id).await?;
        tracing::info!(sns_message_id, "customer notified");
    }
    bus.publish(&notification.notified_event(order)).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sender::fake::FakeSender;
    use crate::store::fake::MemoryNotifications;
    use cafe_shared::events::{CafeEvent, OrderCancelled, OrderCompleted, OrderSummary};
    use cafe_shared::fakes::{FakeBus, FakeDeadLetters, envelope, sqs_batch};
    use cafe_shared::sqs::handle_batch;

    fn order(phone: Option<&str>) -> OrderSummary {
        OrderSummary {
            order_id: "o-1".into(),
            customer_id: "1".into(),
            beverage_name: "latte".into(),
            beverage_qty: 2,
            phone_number: phone.map(Into::into),
            order_number: None,
            lines: Vec::new(),
        }
    }

    #[derive(Default)]
    struct World {
        store: MemoryNotifications,
        sender: FakeSender,
        bus: FakeBus,
    }

    impl World {
        async fn deliver(&self, events: &[CafeEvent]) -> Vec<String> {
            let dead = FakeDeadLetters::default();
            let bodies: Vec<String> = events.iter().map(envelope).collect();
            let step = |m| on_event(&self.store, &self.sender, &self.bus, m);
            let response = handle_batch(sqs_batch(&bodies), &dead, step).await;
            assert!(dead.set_aside().is_empty());
            response
                .batch_item_failures
                .into_iter()
                .map(|f| f.item_identifier)
                .collect()
        }

        fn sent(&self) -> Vec<(String, Option<String>)> {
            self.sender.sent.lock().unwrap().clone()
        }
    }

    #[tokio::test]
    async fn an_outcome_is_told_once_however_often_it_is_delivered() {
        let world = World::default();
        let completed = CafeEvent::OrderCompleted(OrderCompleted {
            order: order(Some("+821012345678")),
        });
        assert!(world.deliver(&[completed.clone(), completed.clone()]).await.is_empty());
        assert!(world.deliver(&[completed]).await.is_empty());
        assert_eq!(
            world.sent(),
            [(
                "Your 2 lattes are ready. Enjoy!".to_string(),
                Some("+821012345678".to_string())
            )]
        );
        let kept = world.store.kept.lock().unwrap().clone();
        assert_eq!(kept.len(), 1);
        assert_eq!(kept.values().next().unwrap().sns_message_id.as_deref(), Some("sns-1"));
        let published = world.bus.published();
        assert_eq!(published.len(), 3, "CustomerNotified again on each delivery");
        assert!(
            published
                .iter()
                .all(|e| e == &published[0] && e.detail_type() == "CustomerNotified")
        );
    }

    #[tokio::test]
    async fn a_cancellation_says_why_and_a_later_conflicting_outcome_changes_nothing() {
        let world = World::default();
        let cancelled = CafeEvent::OrderCancelled(OrderCancelled {
            order: order(None),
            stock_name: "cup".into(),
            reason: "cups are sold out".into(),
        });
        let completed = CafeEvent::OrderCompleted(OrderCompleted { order: order(None) });
        world.deliver(&[cancelled]).await;
        world.deliver(&[completed]).await;
        assert_eq!(
            world.sent(),
            [(
                "Sorry, your order of 2 lattes was cancelled: cups are sold out.".to_string(),
                None
            )]
        );
        let kept = world.store.kept.lock().unwrap().clone();
        assert_eq!(kept.values().next().unwrap().order_status, "cancelled");
    }

    #[tokio::test]
    async fn a_failed_send_is_retried_and_sent_once_it_goes_through() {
        let world = World::default();
        let completed = CafeEvent::OrderCompleted(OrderCompleted { order: order(None) });
        world.sender.down.set(true);
        assert_eq!(world.deliver(std::slice::from_ref(&completed)).await, ["m0"]);
        assert!(world.sent().is_empty() && world.bus.published().is_empty());
        world.sender.down.set(false);
        // The retry comes after the queue's visibility timeout, when the failed send's claim has
        // run out.
        world.store.sending_until.lock().unwrap().clear();
        // Sent and marked, then the bus refuses: the retry sends nothing twice.
        world.bus.set_down(true);
        assert_eq!(world.deliver(std::slice::from_ref(&completed)).await, ["m0"]);
        world.bus.set_down(false);
        assert!(world.deliver(&[completed]).await.is_empty());
        assert_eq!(world.sent().len(), 1);
        assert_eq!(world.bus.published().len(), 1);
    }

    #[tokio::test]
    async fn an_outcome_another_delivery_is_sending_waits_and_is_sent_once_its_claim_runs_out() {
        let world = World::default();
        let completed = CafeEvent::OrderCompleted(OrderCompleted { order: order(None) });
        // A delivery of the same outcome (a duplicate event) recorded it and is sending it.
        let now = clock::now();
        let (on_record, claimed) = world
            .store
            .record(
                &Notification::for_outcome(&completed, now).unwrap(),
                now + SENDING_CLAIM,
            )
            .await
            .unwrap();
        let id = &on_record.notification_id;
        assert!(claimed, "recording it claimed its sending");
        assert_eq!(
            world.deliver(std::slice::from_ref(&completed)).await,
            ["m0"],
            "retried later"
        );
        assert!(world.sent().is_empty() && world.bus.published().is_empty());
        // That sender died: once its claim runs out, the retry sends it.
        (world.store.sending_until.lock().unwrap()).insert(id.clone(), now - chrono::Duration::seconds(1));
        assert!(world.deliver(std::slice::from_ref(&completed)).await.is_empty());
        assert!(world.deliver(&[completed]).await.is_empty());
        assert_eq!(world.sent().len(), 1);
        assert_eq!(
            world.bus.published().len(),
            2,
            "CustomerNotified on each delivery that finds it sent"
        );
    }

    #[tokio::test]
    async fn a_table_outage_sends_nothing_and_hands_the_message_back() {
        let world = World::default();
        world.store.down.set(true);
        let completed = CafeEvent::OrderCompleted(OrderCompleted { order: order(None) });
        assert_eq!(world.deliver(&[completed]).await, ["m0"]);
        assert!(world.sent().is_empty() && world.bus.published().is_empty());
    }
}
