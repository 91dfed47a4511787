//! What each invocation runs, built from the functions' own code: a function's saga step on a
//! batch of its queue (as its Lambda's handler runs it), the outbox on a batch of the orders
//! table's stream, and a person's cancel.

use crate::ports::{Bus, DeadLetters, Port, Timers};
use crate::world::{Function, World};
use aws_lambda_events::event::dynamodb::{Event as StreamBatch, EventRecord};
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use cafe_order::domain::{Order, cancelled_by};
use cafe_order::store::OrderOutcomes;
use cafe_shared::Error;
use cafe_shared::sqs::handle_batch;
use std::pin::Pin;

pub type TaskFuture<'w> = Pin<Box<dyn Future<Output = Finished> + 'w>>;

/// How an invocation ended.
pub enum Finished {
    Batch(SqsBatchResponse),
    Outbox(Result<(), Error>),
    Cancel,
}

/// A customer's or the operator's cancel, as `POST /orders/{orderId}/cancel` asks the store.
pub fn cancel(world: &World, order_id: String, by_operator: bool) -> TaskFuture<'_> {
    Box::pin(async move {
        // The API reads the order before it cancels it; only a stored order is cancelled.
        let customer_id = world
            .orders
            .orders
            .lock()
            .unwrap()
            .get(&order_id)
            .map(|o| o.customer_id.clone());
        // A refusal (too late) or a failure is the caller's answer; the order is as it is.
        if let Some(customer_id) = customer_id {
            let _ = Port(world)
                .record_outcome(&order_id, &customer_id, &cancelled_by(by_operator))
                .await;
        }
        Finished::Cancel
    })
}

/// The outbox on these changes of the orders table, as its stream hands them over.
pub fn outbox<'w>(world: &'w World, changes: &[(Option<Order>, Order)]) -> TaskFuture<'w> {
    let mut batch = StreamBatch::default();
    batch.records = (changes.iter())
        .map(|(before, after)| stream_record(before.as_ref(), after))
        .collect();
    Box::pin(async move {
        let bus = Bus {
            world,
            function: Function::Order,
        };
        let dead_letters = DeadLetters { world, of: None };
        Finished::Outbox(cafe_order::saga::outbox(&bus, &dead_letters, &Timers(world), batch).await)
    })
}

/// The function's saga step on a batch, as its Lambda's handler runs it.
pub fn batch<'w>(world: &'w World, function: Function, batch: SqsEvent) -> TaskFuture<'w> {
    let port = Port(world);
    let bus = Bus { world, function };
    let dead_letters = DeadLetters {
        world,
        of: Some(function),
    };
    Box::pin(async move {
        let response = match function {
            Function::Payment => {
                handle_batch(batch, &dead_letters, |m| {
                    cafe_payment::saga::on_event(&port, &port, &bus, m)
                })
                .await
            }
            Function::Order => handle_batch(batch, &dead_letters, |m| cafe_order::saga::on_event(&port, m)).await,
            Function::Inventory => {
                handle_batch(batch, &dead_letters, |m| cafe_inventory::saga::on_event(&port, &bus, m)).await
            }
            Function::Beverage => {
                let recipes = cafe_beverage::saga::Recipes {
                    menu: &world.deployment.menu,
                    brew_time: std::time::Duration::ZERO,
                };
                handle_batch(batch, &dead_letters, |m| {
                    cafe_beverage::saga::on_event(&port, &bus, &recipes, m)
                })
                .await
            }
            Function::Notify => {
                handle_batch(batch, &dead_letters, |m| {
                    cafe_notify::saga::on_event(&port, &port, &bus, m)
                })
                .await
            }
            Function::Kiosk => {
                handle_batch(batch, &dead_letters, |m| {
                    let menu = &world.deployment.menu;
                    cafe_kiosk::saga::on_event(&port, &world.live, &world.sign_outs, &world.alerts, menu, m)
                })
                .await
            }
        };
        Finished::Batch(response)
    })
}

/// A change of the orders table as its stream carries it (`NEW_AND_OLD_IMAGES`).
fn stream_record(before: Option<&Order>, after: &Order) -> EventRecord {
    let image = |order: &Order| serde_dynamo::to_item(order).expect("orders serialize");
    let mut record = EventRecord::default();
    record.event_name = if before.is_some() { "MODIFY" } else { "INSERT" }.into();
    record.change.keys = serde_dynamo::to_item(serde_json::json!({"orderId": after.order_id})).expect("a key");
    record.change.new_image = image(after);
    if let Some(before) = before {
        record.change.old_image = image(before);
    }
    record
}

/// A batch as the trace shows it: each message's id, event and order.
pub fn describe_batch(batch: &SqsEvent) -> String {
    let describe = |message: &SqsMessage| {
        let body: serde_json::Value =
            serde_json::from_str(message.body.as_deref().unwrap_or_default()).unwrap_or_default();
        let id = message.message_id.as_deref().unwrap_or_default();
        match (body["detail-type"].as_str(), body["detail"]["orderId"].as_str()) {
            (Some(detail_type), Some(order_id)) => format!("{id}:{detail_type}({order_id})"),
            _ => format!("{id}:poison"),
        }
    };
    batch.records.iter().map(describe).collect::<Vec<_>>().join(" ")
}
