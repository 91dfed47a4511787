//! The beverage steps of the saga. `CupStockDecreased`: the machine has the order's cups and asks
//! to make it (`MakingRequested`); the order function decides whether it may (the order may have
//! been cancelled). `OrderMaking`: it makes the order, once, and announces `BeverageMade`; when
//! it cannot (out of order, or too little of an ingredient) or the order's deadline has passed
//! (the step was down), it records why and announces `BeverageFailed`, which cancels the order
//! and gives its cups back.

use crate::domain::{Attempt, beverage_id_for, ingredients_needed, left_after, plan_brew};
use crate::store::{BeverageMachine, Making};
use cafe_shared::bus::Publish;
use cafe_shared::clock;
use cafe_shared::events::{BusMessage, CafeEvent, MakingRequested, NOT_READY_IN_TIME, OrderMaking};
use cafe_shared::menu::Menu;
use cafe_shared::sqs::StepError;
use std::collections::BTreeMap;
use std::time::Duration;

/// How the machine makes beverages: its recipes and the simulated brewing time.
pub struct Recipes<'a> {
    pub menu: &'a Menu,
    pub brew_time: Duration,
}

/// Reads of the machine before giving up on one that keeps changing under the making (the
/// message is then retried).
const READS: usize = 3;

pub async fn on_event(
    machine: &impl BeverageMachine,
    bus: &impl Publish,
    recipes: &Recipes<'_>,
    message: BusMessage,
) -> Result<(), StepError> {
    let making = match &message.event {
        // The cups are reserved: ask to make it. Asking again (a redelivery) changes nothing,
        // as the order moves once.
        CafeEvent::CupStockDecreased(reserved) => {
            let ask = MakingRequested {
                order: reserved.order.clone(),
                stock_name: reserved.stock_name.clone(),
            };
            return bus.publish(&CafeEvent::MakingRequested(ask)).await;
        }
        CafeEvent::OrderMaking(making) => making,
        other => {
            tracing::warn!(
                detail_type = other.detail_type(),
                "not an event for the beverage function; ignored"
            );
            return Ok(());
        }
    };
    let (attempt, left) = match machine.attempt(&beverage_id_for(&making.order.order_id)).await? {
        Some(on_record) => (on_record, BTreeMap::new()),
        None => attempt_order(machine, recipes, making).await?,
    };
    if let Attempt::Failed(failed) = &attempt {
        tracing::warn!(reason = failed.reason, "the machine could not make the order");
    }
    // Published again on a redelivery too, in case the first attempt failed after the write.
    let mut event = attempt.event(&making.order);
    if let CafeEvent::BeverageMade(made) = &mut event {
        made.ingredients_left = left;
    }
    bus.publish(&event).await
}

/// Makes the order if the machine can and it is not too late, or records why not; with the
/// metered ingredients left after making it, as read.
async fn attempt_order(
    machine: &impl BeverageMachine,
    recipes: &Recipes<'_>,
    making: &OrderMaking,
) -> Result<(Attempt, BTreeMap<String, u32>), StepError> {
    let order = &making.order;
    // Past its deadline (this step was down) the customer has stopped waiting: the order is given
    // up, not started, and the failure cancels it and gives its cups back.
    let now = clock::now();
    if making.deadline.is_some_and(|deadline| now > deadline) {
        let failed = Attempt::failed(order, NOT_READY_IN_TIME.into(), now);
        return Ok((machine.record_failure(&failed).await?, BTreeMap::new()));
    }
    // A beverage no longer on the menu reads nothing: the plan below says why it is not made.
    let needed = ingredients_needed(recipes.menu, order).unwrap_or_default();
    let ingredients: Vec<&str> = needed.keys().map(String::as_str).collect();
    for _ in 0..READS {
        let reading = machine.read(&ingredients).await?;
        match plan_brew(recipes.menu, order, &reading) {
            Err(reason) => {
                let failed = Attempt::failed(order, reason, clock::now());
                return Ok((machine.record_failure(&failed).await?, BTreeMap::new()));
            }
            Ok(takes) => {
                // No timer for no brewing (the default): the simulation runs this step without a runtime.
                if !recipes.brew_time.is_zero() {
                    tokio::time::sleep(recipes.brew_time).await;
                }
                match machine.make(&Attempt::made(order, clock::now()), &takes).await? {
                    Making::Recorded(attempt) => return Ok((attempt, left_after(&reading, &takes))),
                    Making::Changed => tracing::info!("the machine changed while making; reading it again"),
                }
            }
        }
    }
    Err(StepError::Retry(
        "the machine kept changing while making the order".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::fake::MemoryMachine;
    use cafe_shared::events::{BeverageMade, CupStockDecreased, OrderSummary};
    use cafe_shared::fakes::{FakeBus, FakeDeadLetters, envelope, sqs_batch};
    use cafe_shared::sqs::handle_batch;
    use std::sync::atomic::Ordering;

    fn menu() -> Menu {
        Menu::from_json(
            r#"[{"beverageName":"latte","displayName":"Latte","stockName":"cup","recipe":{"beans":1,"milk":1}}]"#,
        )
        .unwrap()
    }

    fn order(order_id: &str, qty: u32) -> OrderSummary {
        OrderSummary {
            order_id: order_id.into(),
            customer_id: "1".into(),
            beverage_name: "latte".into(),
            beverage_qty: qty,
            phone_number: None,
            order_number: None,
            lines: Vec::new(),
        }
    }

    /// The order function's go-ahead: the machine makes it now.
    fn making(order_id: &str, qty: u32) -> CafeEvent {
        CafeEvent::OrderMaking(OrderMaking {
            order: order(order_id, qty),
            stock_name: "cup".into(),
            deadline: Some(clock::now() + Duration::from_secs(300)),
        })
    }

    fn reserved(order_id: &str, qty: u32) -> CafeEvent {
        CafeEvent::CupStockDecreased(CupStockDecreased {
            order: order(order_id, qty),
            stock_name: "cup".into(),
            cups_reserved: qty,
            cups_left: None,
        })
    }

    /// The step run on these messages as one SQS batch: the ids handed back to be retried.
    async fn deliver(machine: &MemoryMachine, bus: &FakeBus, bodies: &[String]) -> Vec<String> {
        let (dead, menu) = (FakeDeadLetters::default(), menu());
        let recipes = Recipes {
            menu: &menu,
            brew_time: Duration::ZERO,
        };
        let step = |m| on_event(machine, bus, &recipes, m);
        let response = handle_batch(sqs_batch(bodies), &dead, step).await;
        assert!(dead.set_aside().is_empty(), "{:?}", dead.set_aside());
        response
            .batch_item_failures
            .into_iter()
            .map(|f| f.item_identifier)
            .collect()
    }

    fn with_levels(levels: &[(&str, u32)]) -> MemoryMachine {
        let machine = MemoryMachine::default();
        for (name, qty) in levels {
            machine.levels.lock().unwrap().insert(name.to_string(), *qty);
        }
        machine
    }

    #[tokio::test]
    async fn reserved_cups_ask_to_make_the_order_and_the_answer_is_made_only_once_it_is_given() {
        let (machine, bus) = (with_levels(&[("milk", 10)]), FakeBus::default());
        let body = envelope(&reserved("o-1", 1));
        assert!(deliver(&machine, &bus, &[body.clone(), body]).await.is_empty());
        assert_eq!(machine.level("milk"), Some(10), "nothing made before the go-ahead");
        let kinds = |bus: &FakeBus| bus.published().iter().map(CafeEvent::detail_type).collect::<Vec<_>>();
        assert_eq!(kinds(&bus), ["MakingRequested", "MakingRequested"]);
        assert!(deliver(&machine, &bus, &[envelope(&making("o-1", 1))]).await.is_empty());
        assert_eq!(kinds(&bus)[2..], ["BeverageMade"]);
        assert_eq!(machine.level("milk"), Some(9));
    }

    #[tokio::test]
    async fn an_order_is_made_once_however_often_it_is_delivered_and_takes_its_recipe_once() {
        let (machine, bus) = (with_levels(&[("milk", 10)]), FakeBus::default());
        let body = envelope(&making("o-1", 3));
        assert!(deliver(&machine, &bus, &[body.clone(), body.clone()]).await.is_empty());
        assert!(deliver(&machine, &bus, &[body]).await.is_empty());
        assert_eq!(machine.attempts.lock().unwrap().len(), 1);
        assert_eq!(machine.level("milk"), Some(7), "three lattes take three milk, once");
        assert_eq!(machine.level("beans"), None, "beans are not metered");
        let published: Vec<_> = (bus.published().into_iter())
            .map(|event| match event {
                CafeEvent::BeverageMade(made) => made,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(published.len(), 3);
        // The making reads the milk left; the deliveries that find it made announce it again.
        assert_eq!(published[0].ingredients_left, [("milk".to_string(), 7)].into());
        let unread = |made: &BeverageMade| BeverageMade {
            ingredients_left: Default::default(),
            ..made.clone()
        };
        assert!(
            published.iter().all(|made| unread(made) == unread(&published[0])),
            "the same BeverageMade each time"
        );
        assert_eq!(published[0].beverage_id, beverage_id_for("o-1"));
    }

    #[tokio::test]
    async fn too_little_of_an_ingredient_fails_the_order_takes_nothing_and_says_so_every_time() {
        let (machine, bus) = (with_levels(&[("milk", 2), ("beans", 10)]), FakeBus::default());
        let body = envelope(&making("o-1", 3));
        assert!(deliver(&machine, &bus, std::slice::from_ref(&body)).await.is_empty());
        assert_eq!((machine.level("milk"), machine.level("beans")), (Some(2), Some(10)));
        // Refilled later, a redelivery keeps the decision: the order was already cancelled.
        machine.levels.lock().unwrap().insert("milk".into(), 50);
        assert!(deliver(&machine, &bus, &[body]).await.is_empty());
        assert_eq!(machine.level("milk"), Some(50));
        let published = bus.published();
        assert_eq!(published.len(), 2);
        assert!(published.iter().all(|e| e == &published[0]));
        let CafeEvent::BeverageFailed(failed) = &published[0] else {
            panic!("{published:?}")
        };
        assert_eq!(failed.reason, "the machine ran out of milk");
    }

    #[tokio::test]
    async fn an_order_reaching_the_machine_past_its_deadline_is_given_up_not_started() {
        let (machine, bus) = (with_levels(&[("milk", 10)]), FakeBus::default());
        let late = |order_id: &str| {
            let mut event = making(order_id, 1);
            if let CafeEvent::OrderMaking(m) = &mut event {
                m.deadline = Some(clock::now() - Duration::from_secs(1));
            }
            envelope(&event)
        };
        // A redelivery after the deadline of an order already made keeps it made.
        assert!(deliver(&machine, &bus, &[envelope(&making("o-1", 1))]).await.is_empty());
        assert!(
            deliver(&machine, &bus, &[late("o-2"), late("o-1"), late("o-2")])
                .await
                .is_empty()
        );
        assert_eq!(machine.level("milk"), Some(9), "only the order made in time took milk");
        let published = bus.published();
        let kinds: Vec<_> = published.iter().map(CafeEvent::detail_type).collect();
        assert_eq!(
            kinds,
            ["BeverageMade", "BeverageFailed", "BeverageMade", "BeverageFailed"]
        );
        let CafeEvent::BeverageFailed(failed) = &published[1] else {
            panic!("{published:?}")
        };
        assert_eq!(
            (failed.order.order_id.as_str(), failed.reason.as_str()),
            ("o-2", NOT_READY_IN_TIME)
        );
        assert_eq!(published[3], published[1], "the same failure again");
    }

    #[tokio::test]
    async fn a_machine_out_of_order_fails_orders_until_it_is_back_in_service() {
        let (machine, bus) = (with_levels(&[("milk", 10)]), FakeBus::default());
        machine.out_of_order.store(true, Ordering::SeqCst);
        deliver(&machine, &bus, &[envelope(&making("o-1", 1))]).await;
        machine.out_of_order.store(false, Ordering::SeqCst);
        deliver(&machine, &bus, &[envelope(&making("o-2", 1))]).await;
        let kinds: Vec<_> = bus.published().iter().map(CafeEvent::detail_type).collect();
        assert_eq!(kinds, ["BeverageFailed", "BeverageMade"]);
        assert_eq!(machine.level("milk"), Some(9));
    }

    #[tokio::test]
    async fn orders_racing_for_the_last_milk_never_take_more_than_there_is() {
        let (machine, bus) = (with_levels(&[("milk", 5)]), FakeBus::default());
        let bodies: Vec<String> = (0..4).map(|i| envelope(&making(&format!("o-{i}"), 2))).collect();
        assert!(deliver(&machine, &bus, &bodies).await.is_empty());
        let kinds: Vec<_> = bus.published().iter().map(CafeEvent::detail_type).collect();
        assert_eq!(kinds.iter().filter(|k| **k == "BeverageMade").count(), 2);
        assert_eq!(kinds.iter().filter(|k| **k == "BeverageFailed").count(), 2);
        assert_eq!(machine.level("milk"), Some(1));
    }

    #[tokio::test]
    async fn an_outage_hands_the_message_back_and_the_retry_announces_the_same_attempt() {
        let (machine, bus) = (with_levels(&[("milk", 10)]), FakeBus::default());
        let body = envelope(&making("o-1", 1));
        machine.down.set(true);
        assert_eq!(deliver(&machine, &bus, std::slice::from_ref(&body)).await, ["m0"]);
        assert!(machine.attempts.lock().unwrap().is_empty() && bus.published().is_empty());
        machine.down.set(false);
        bus.set_down(true);
        assert_eq!(deliver(&machine, &bus, std::slice::from_ref(&body)).await, ["m0"]);
        let first = machine.attempts.lock().unwrap().values().next().cloned().unwrap();
        bus.set_down(false);
        assert!(deliver(&machine, &bus, &[body]).await.is_empty());
        let [CafeEvent::BeverageMade(made)] = &bus.published()[..] else {
            panic!()
        };
        let Attempt::Made(first) = first else { panic!() };
        assert_eq!(
            made.made_at, first.made_at,
            "the beverage made before, not a second one"
        );
        assert_eq!(machine.level("milk"), Some(9));
    }
}
