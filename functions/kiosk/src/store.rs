//! The kiosk view table (DynamoDB), keyed by `orderId`, with the `byCustomer` index and the
//! `byDate` index of every order (the pickup screen reads the latest there). Each
//! timeline step is its own attribute (`step#<event>`), written only if absent, so applying
//! an event twice or out of order gives the same item.

use crate::domain::{
    KioskOrder, TimelineStep, notification_of, order_date_of, reason_of, saga_position, status_of, step_of,
};
use aws_config::SdkConfig;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use cafe_shared::dynamo::SortOrder::Descending;
use cafe_shared::dynamo::{self, Item, Page, PageRequest, n, s};
use cafe_shared::events::{BusMessage, CafeEvent};
use cafe_shared::{Error, clock};
use std::future::Future;

const STEP_PREFIX: &str = "step#";
/// The `byDate` index's partition: one, holding every order by date.
const LISTED_AS: &str = "listedAs";
/// The latest orders the pickup screen looks through: well past the orders a cafe makes at once.
const BOARD_LOOKS_AT: i32 = 200;
/// How long a page's mark on an order with no view yet waits for the order's first event.
const UNSEEN_MARK_SECONDS: i64 = 3600;

/// The saga step's port: each order's view, folded from its events.
pub trait OrderViews: Sync {
    /// Folds one event into its order's view (see [`attributes_of`]): applying an event twice,
    /// or events out of order, gives the same view. The view as it is after.
    fn apply(&self, message: &BusMessage) -> impl Future<Output = Result<KioskOrder, Error>> + Send;

    fn get(&self, order_id: &str) -> impl Future<Output = Result<Option<KioskOrder>, Error>> + Send;
}

/// How an event writes an attribute of its order's view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Write {
    /// Only if the view has none yet: the first event to tell it wins.
    IfAbsent,
    /// Always: the event knows better than any before it.
    Always,
}

/// The attributes one event writes into its order's view, and how.
fn attributes_of(message: &BusMessage) -> Result<Vec<(String, AttributeValue, Write)>, Error> {
    let event = &message.event;
    let order = event.order();
    let step = step_of(event, message.time);
    // OrderPlaced knows the real order date; other events only stand in for it until then.
    let date_write = match event {
        CafeEvent::OrderPlaced(_) => Write::Always,
        _ => Write::IfAbsent,
    };
    let mut attributes = vec![
        ("customerId".to_string(), s(&order.customer_id), Write::IfAbsent),
        (LISTED_AS.to_string(), s("order"), Write::IfAbsent),
        ("beverageName".to_string(), s(&order.beverage_name), Write::IfAbsent),
        (
            "beverageQty".to_string(),
            AttributeValue::N(order.beverage_qty.to_string()),
            Write::IfAbsent,
        ),
        (
            format!("{STEP_PREFIX}{}", step.event),
            s(serde_json::to_string(&step)?),
            Write::IfAbsent,
        ),
        (
            "orderDate".to_string(),
            s(order_date_of(event, message.time).to_rfc3339()),
            date_write,
        ),
    ];
    if let Some(number) = order.order_number {
        attributes.push(("orderNumber".to_string(), n(number), Write::IfAbsent));
    }
    if let Some(reason) = reason_of(event) {
        attributes.push(("reason".to_string(), s(reason), Write::IfAbsent));
    }
    if let Some(text) = notification_of(event) {
        attributes.push(("notification".to_string(), s(text), Write::IfAbsent));
    }
    Ok(attributes)
}

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

    /// A page watches the order live: from now on its saga step looks up who watches it. The view
    /// may not exist yet (a page watches an order right after placing it): the mark then waits
    /// for the order's first event, which keeps it, and is gone (DynamoDB TTL) a while later if
    /// no event ever comes, so watching an id that is no order leaves nothing behind.
    pub async fn mark_watched(&self, order_id: &str) -> Result<(), Error> {
        let mark = |expression: &str, condition: &str| {
            (self.client.update_item())
                .table_name(&self.table)
                .key("orderId", s(order_id))
                .update_expression(expression)
                .condition_expression(condition)
                .expression_attribute_values(":yes", AttributeValue::Bool(true))
        };
        let soon = clock::now().timestamp() + UNSEEN_MARK_SECONDS;
        let waiting = mark(
            "SET watched = :yes, expiresAt = :soon",
            "attribute_not_exists(customerId)",
        )
        .expression_attribute_values(":soon", n(soon))
        .send()
        .await;
        match waiting {
            Err(e) if dynamo::is_conditional_check_failed(&e) => {
                // A view already: marked for good (it exists once an event made it).
                mark("SET watched = :yes", "attribute_exists(customerId)")
                    .send()
                    .await?;
                Ok(())
            }
            other => Ok(other.map(drop)?),
        }
    }

    /// The latest orders' views, newest first, for the pickup screen.
    pub async fn latest(&self) -> Result<Vec<KioskOrder>, Error> {
        let page = PageRequest {
            limit: BOARD_LOOKS_AT,
            start: None,
        };
        let index = (LISTED_AS, "order");
        let found = dynamo::query_page(&self.client, &self.table, Some("byDate"), index, Descending, page).await?;
        let found = dynamo::items_of(&self.client, &self.table, "orderId", found).await?;
        found.items.iter().map(view_of).collect()
    }

    /// A page of a customer's orders, newest first.
    pub async fn list_for_customer(&self, customer_id: &str, page: PageRequest) -> Result<Page<KioskOrder>, Error> {
        let index = ("customerId", customer_id);
        let found = dynamo::query_page(&self.client, &self.table, Some("byCustomer"), index, Descending, page).await?;
        let found = dynamo::items_of(&self.client, &self.table, "orderId", found).await?;
        found.try_map(|item| view_of(&item))
    }
}

impl OrderViews for KioskStore {
    /// One conditional-free update: each attribute `if_not_exists` unless the event always writes it.
    async fn apply(&self, message: &BusMessage) -> Result<KioskOrder, Error> {
        let mut request = (self.client.update_item())
            .table_name(&self.table)
            .key("orderId", s(&message.event.order().order_id));
        let mut writes = Vec::new();
        for (i, (name, value, write)) in attributes_of(message)?.into_iter().enumerate() {
            request = request
                .expression_attribute_names(format!("#a{i}"), name)
                .expression_attribute_values(format!(":v{i}"), value);
            writes.push(match write {
                Write::IfAbsent => format!("#a{i} = if_not_exists(#a{i}, :v{i})"),
                Write::Always => format!("#a{i} = :v{i}"),
            });
        }
        // A mark that waited for the view (see `mark_watched`) is kept from now on.
        let out = request
            .update_expression(format!("SET {} REMOVE expiresAt", writes.join(", ")))
            .return_values(ReturnValue::AllNew)
            .send()
            .await?;
        view_of(&out.attributes.unwrap_or_default())
    }

    async fn get(&self, order_id: &str) -> Result<Option<KioskOrder>, Error> {
        let item = dynamo::get_item(&self.client, &self.table, dynamo::key("orderId", order_id)).await?;
        item.filter(is_view).as_ref().map(view_of).transpose()
    }
}

/// Whether an event made the item a view (a page may mark an order watched before its first event).
fn is_view(item: &Item) -> bool {
    item.contains_key("customerId")
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
        order_number: item
            .get("orderNumber")
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse().ok()),
        order_status: status_of(&timeline).to_string(),
        reason: text("reason"),
        notification: text("notification"),
        watched: item.contains_key("watched"),
        timeline,
    })
}

/// The page key of a customer's orders, for `nextToken`.
pub const CUSTOMER_PAGE_KEY: [&str; 3] = ["orderId", "customerId", "orderDate"];

/// The views in memory, as DynamoDB items written as the store writes them, for in-process tests
/// of the saga step.
#[cfg(any(test, feature = "fakes"))]
pub mod fake {
    use super::*;
    use cafe_shared::fakes::Outage;
    use std::collections::HashMap;
    use std::sync::Mutex;

    #[derive(Default)]
    pub struct MemoryViews {
        pub items: Mutex<HashMap<String, Item>>,
        /// While down, every call fails (as a throttled or unreachable table does).
        pub down: Outage,
    }

    impl OrderViews for MemoryViews {
        async fn apply(&self, message: &BusMessage) -> Result<KioskOrder, Error> {
            self.down.check("the kiosk table is unreachable")?;
            let order_id = &message.event.order().order_id;
            let mut items = self.items.lock().unwrap();
            let item = (items.entry(order_id.clone())).or_insert_with(|| dynamo::key("orderId", order_id));
            item.remove("expiresAt");
            for (name, value, write) in attributes_of(message)? {
                match write {
                    Write::Always => {
                        item.insert(name, value);
                    }
                    Write::IfAbsent => {
                        item.entry(name).or_insert(value);
                    }
                }
            }
            view_of(item)
        }

        async fn get(&self, order_id: &str) -> Result<Option<KioskOrder>, Error> {
            self.down.check("the kiosk table is unreachable")?;
            let items = self.items.lock().unwrap();
            items
                .get(order_id)
                .filter(|item| is_view(item))
                .map(view_of)
                .transpose()
        }
    }
}
