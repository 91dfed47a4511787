//! The beverage step of the saga: `CupStockDecreased` makes the order's beverages, once, and
//! announces `BeverageMade`.

use crate::domain::{Beverage, beverage_id_for};
use crate::store::Beverages;
use cafe_shared::bus::Publish;
use cafe_shared::events::{BusMessage, CafeEvent};
use cafe_shared::sqs::StepError;
use chrono::Utc;
use std::time::Duration;

pub async fn on_event(
    store: &impl Beverages,
    bus: &impl Publish,
    brew_time: Duration,
    message: BusMessage,
) -> Result<(), StepError> {
    let CafeEvent::CupStockDecreased(reserved) = &message.event else {
        tracing::warn!(
            detail_type = message.event.detail_type(),
            "not an event for the beverage function; ignored"
        );
        return Ok(());
    };
    let made = match store.get(&beverage_id_for(&reserved.order.order_id)).await? {
        Some(already_made) => already_made,
        None => {
            tokio::time::sleep(brew_time).await;
            store.record(&Beverage::brewed(reserved, Utc::now())).await?
        }
    };
    // Published again on a redelivery too, in case the first attempt failed after the write.
    bus.publish(&CafeEvent::BeverageMade(made.made_event(reserved))).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::fake::MemoryBeverages;
    use cafe_shared::events::{CupStockDecreased, OrderSummary};
    use cafe_shared::fakes::{FakeBus, FakeDeadLetters, envelope, sqs_batch};
    use cafe_shared::sqs::handle_batch;
    use std::sync::atomic::Ordering;

    fn reserved(order_id: &str) -> CafeEvent {
        CafeEvent::CupStockDecreased(CupStockDecreased {
            order: OrderSummary {
                order_id: order_id.into(),
                customer_id: "1".into(),
                beverage_name: "latte".into(),
                beverage_qty: 2,
                phone_number: None,
            },
            stock_name: "cup".into(),
            cups_reserved: 2,
        })
    }

    async fn deliver(store: &MemoryBeverages, bus: &FakeBus, bodies: &[String]) -> Vec<String> {
        let dead = FakeDeadLetters::default();
        let step = |m| on_event(store, bus, Duration::ZERO, m);
        let response = handle_batch(sqs_batch(bodies), &dead, step).await;
        assert!(dead.set_aside().is_empty(), "{:?}", dead.set_aside());
        response
            .batch_item_failures
            .into_iter()
            .map(|f| f.item_identifier)
            .collect()
    }

    #[tokio::test]
    async fn an_order_gets_one_beverage_however_often_it_is_delivered() {
        let (store, bus) = (MemoryBeverages::default(), FakeBus::default());
        let body = envelope(&reserved("o-1"));
        assert!(deliver(&store, &bus, &[body.clone(), body.clone()]).await.is_empty());
        assert!(deliver(&store, &bus, &[body]).await.is_empty());
        assert_eq!(store.made.lock().unwrap().len(), 1);
        let published = bus.published();
        assert_eq!(published.len(), 3);
        assert!(
            published.iter().all(|e| e == &published[0]),
            "the same BeverageMade each time"
        );
        let CafeEvent::BeverageMade(made) = &published[0] else {
            panic!("{published:?}")
        };
        assert_eq!(made.beverage_id, beverage_id_for("o-1"));
    }

    #[tokio::test]
    async fn an_outage_hands_the_message_back_and_the_retry_announces_the_beverage_made() {
        let (store, bus) = (MemoryBeverages::default(), FakeBus::default());
        let body = envelope(&reserved("o-1"));
        store.down.store(true, Ordering::SeqCst);
        assert_eq!(deliver(&store, &bus, std::slice::from_ref(&body)).await, ["m0"]);
        assert!(store.made.lock().unwrap().is_empty() && bus.published().is_empty());
        store.down.store(false, Ordering::SeqCst);
        bus.set_down(true);
        assert_eq!(deliver(&store, &bus, std::slice::from_ref(&body)).await, ["m0"]);
        let first = store.made.lock().unwrap().values().next().cloned().unwrap();
        bus.set_down(false);
        assert!(deliver(&store, &bus, &[body]).await.is_empty());
        let [CafeEvent::BeverageMade(made)] = &bus.published()[..] else {
            panic!()
        };
        assert_eq!(
            made.made_at, first.made_at,
            "the beverage made before, not a second one"
        );
        assert_eq!(store.made.lock().unwrap().len(), 1);
    }
}
