//! The kiosk view table (DynamoDB), keyed by `orderId`, with the `byCustomer` index. Each
//! timeline step is its own attribute (`step#<event>`), written only if absent, so applying
//! an event twice or out of order gives the same item.

use crate::domain::{
    KioskOrder, TimelineStep, notification_of, order_date_of, reason_of, saga_position, status_of, step_of,
};
use aws_config::SdkConfig;
use aws_sdk_dynamodb::{Client, types::AttributeValue};
use cafe_shared::Error;
use cafe_shared::dynamo::SortOrder::Descending;
use cafe_shared::dynamo::{self, Item, Page, PageRequest, s};
use cafe_shared::events::BusMessage;

const STEP_PREFIX: &str = "step#";

#[derive(Clone)]
pub struct KioskStore {
    client: Client,
    table: String,
}

impl KioskStore {
    pub fn new(sdk: &SdkConfig, table: String) -> Self {
        Self {
            client: Client::new(sdk),
            table,
        }
    }

    /// Folds one event into its order's view.
    pub async fn apply(&self, message: &BusMessage) -> Result<(), Error> {
        let event = &message.event;
        let order = event.order();
        let step = step_of(event, message.time);
        let mut update = String::from(
            "SET customerId = if_not_exists(customerId, :customer), beverageName = if_not_exists(beverageName, :beverage), \
             beverageQty = if_not_exists(beverageQty, :qty), #step = if_not_exists(#step, :step)",
        );
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("orderId", s(&order.order_id))
            .expression_attribute_names("#step", format!("{STEP_PREFIX}{}", step.event))
            .expression_attribute_values(":customer", s(&order.customer_id))
            .expression_attribute_values(":beverage", s(&order.beverage_name))
            .expression_attribute_values(":qty", AttributeValue::N(order.beverage_qty.to_string()))
            .expression_attribute_values(":step", s(serde_json::to_string(&step)?))
            .expression_attribute_values(":date", s(order_date_of(event, message.time).to_rfc3339()));
        // OrderPlaced knows the real order date; other events only stand in for it until then.
        if matches!(event, cafe_shared::events::CafeEvent::OrderPlaced(_)) {
            update.push_str(", orderDate = :date");
        } else {
            update.push_str(", orderDate = if_not_exists(orderDate, :date)");
        }
        if let Some(reason) = reason_of(event) {
            update.push_str(", reason = if_not_exists(reason, :reason)");
            request = request.expression_attribute_values(":reason", s(reason));
        }
        if let Some(text) = notification_of(event) {
            update.push_str(", notification = if_not_exists(notification, :notification)");
            request = request.expression_attribute_values(":notification", s(text));
        }
        request.update_expression(update).send().await?;
        Ok(())
    }

    pub async fn get(&self, order_id: &str) -> Result<Option<KioskOrder>, Error> {
        let item = dynamo::get_item(&self.client, &self.table, dynamo::key("orderId", order_id)).await?;
        item.as_ref().map(view_of).transpose()
    }

    /// A page of a customer's orders, newest first.
    pub async fn list_for_customer(&self, customer_id: &str, page: PageRequest) -> Result<Page<KioskOrder>, Error> {
        let index = ("customerId", customer_id);
        let found = dynamo::query_page(&self.client, &self.table, "byCustomer", index, Descending, page).await?;
        found.try_map(|item| view_of(&item))
    }
}

fn view_of(item: &Item) -> Result<KioskOrder, Error> {
    let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
    let required = |name: &str| text(name).ok_or_else(|| format!("kiosk view without {name}"));
    let mut timeline = item
        .iter()
        .filter(|(name, _)| name.starts_with(STEP_PREFIX))
        .map(|(_, value)| {
            Ok(serde_json::from_str::<TimelineStep>(
                value.as_s().map_err(|_| "step is not text")?,
            )?)
        })
        .collect::<Result<Vec<_>, Error>>()?;
    timeline.sort_by_key(|step| saga_position(&step.event));
    Ok(KioskOrder {
        order_id: required("orderId")?,
        customer_id: required("customerId")?,
        beverage_name: required("beverageName")?,
        beverage_qty: item
            .get("beverageQty")
            .and_then(|v| v.as_n().ok())
            .ok_or("kiosk view without qty")?
            .parse()?,
        order_date: required("orderDate")?.parse()?,
        order_status: status_of(&timeline).to_string(),
        reason: text("reason"),
        notification: text("notification"),
        timeline,
    })
}

/// The page key of a customer's orders, for `nextToken`.
pub const CUSTOMER_PAGE_KEY: [&str; 3] = ["orderId", "customerId", "orderDate"];
