//! The orders table (DynamoDB), keyed by `orderId`, with the `byCustomer` index.

use crate::domain::{Order, OrderStatus, Outcome};
use aws_config::SdkConfig;
use aws_sdk_dynamodb::{Client, types::AttributeValue};
use cafe_shared::{Error, dynamo};

#[derive(Clone)]
pub struct OrderStore {
    client: Client,
    table: String,
}

/// What storing a new order found.
pub enum Placed {
    New(Order),
    /// An order with this id was already stored (a retried request with the same key).
    AlreadyPlaced(Order),
}

/// What recording a saga outcome found.
pub enum Recorded {
    /// The order moved from pending to the outcome now.
    Moved,
    /// The order had already reached a final status (a redelivered event, or a conflicting one).
    AlreadyFinal(Order),
}

impl OrderStore {
    pub fn new(sdk: &SdkConfig, table: String) -> Self {
        Self {
            client: Client::new(sdk),
            table,
        }
    }

    /// Stores a new pending order unless one with its id exists.
    pub async fn place(&self, order: &Order) -> Result<Placed, Error> {
        if dynamo::put_if_absent(&self.client, &self.table, serde_dynamo::to_item(order)?, "orderId").await? {
            return Ok(Placed::New(order.clone()));
        }
        let existing = self
            .get(&order.order_id)
            .await?
            .ok_or("order vanished after a conflicting write")?;
        Ok(Placed::AlreadyPlaced(existing))
    }

    pub async fn get(&self, order_id: &str) -> Result<Option<Order>, Error> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("orderId", AttributeValue::S(order_id.to_string()))
            .consistent_read(true)
            .send()
            .await?;
        Ok(out.item.map(serde_dynamo::from_item).transpose()?)
    }

    /// A customer's orders, newest first.
    pub async fn list_for_customer(&self, customer_id: &str) -> Result<Vec<Order>, Error> {
        newest_first(serde_dynamo::from_items(
            dynamo::query_by_customer(&self.client, &self.table, customer_id).await?,
        )?)
    }

    /// Every order, newest first.
    pub async fn list_all(&self) -> Result<Vec<Order>, Error> {
        newest_first(serde_dynamo::from_items(
            dynamo::scan_all(&self.client, &self.table).await?,
        )?)
    }

    /// Moves a pending order to the outcome, atomically: only a pending order moves, so a
    /// redelivered event finds the order already final and changes nothing.
    /// `None` when there is no such order.
    pub async fn record_outcome(&self, order_id: &str, outcome: &Outcome) -> Result<Option<Recorded>, Error> {
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("orderId", AttributeValue::S(order_id.to_string()))
            .condition_expression("orderStatus = :pending")
            .expression_attribute_names("#status", "orderStatus")
            .expression_attribute_values(":pending", status_value(OrderStatus::Pending))
            .expression_attribute_values(":to", status_value(outcome.status()));
        update = match outcome {
            Outcome::Cancelled { reason } => update
                .update_expression("SET #status = :to, reason = :reason")
                .expression_attribute_values(":reason", AttributeValue::S(reason.clone())),
            Outcome::Completed => update.update_expression("SET #status = :to"),
        };
        match update.send().await {
            Ok(_) => Ok(Some(Recorded::Moved)),
            Err(e) if dynamo::is_conditional_check_failed(&e) => {
                Ok(self.get(order_id).await?.map(Recorded::AlreadyFinal))
            }
            Err(e) => Err(e.into()),
        }
    }
}

fn newest_first(mut orders: Vec<Order>) -> Result<Vec<Order>, Error> {
    orders.sort_by_key(|o| std::cmp::Reverse(o.order_date));
    Ok(orders)
}

fn status_value(status: OrderStatus) -> AttributeValue {
    serde_dynamo::to_attribute_value(status).expect("a status is a string")
}
