//! The kiosk view table (DynamoDB), keyed by `orderId`, with the `byCustomer` index and the
//! `byDate` index of every order (the pickup screen reads the latest there). Each
//! timeline step is its own attribute (`step#<event>`), written only if absent, so applying
//! an event twice or out of order gives the same item. Beside the views, one item per hour counts
//! the orders that ended in it, for the operator's day at a glance (see `day`).

use crate::day::{Alert, Ended, HourCounts, Outcome};
use crate::domain::{
    KioskOrder, TimelineStep, notification_of, order_date_of, reason_of, saga_position, status_of, step_of,
};
use aws_config::SdkConfig;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, TransactWriteItem, Update};
use cafe_shared::dynamo::SortOrder::Descending;
use cafe_shared::dynamo::{self, Item, Page, PageRequest, n, s};
use cafe_shared::events::{BusMessage, CafeEvent};
use cafe_shared::{Error, clock};
use chrono::{DateTime, Utc};
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

/// The day at a glance's port: an item per hour beside the views (see `day`).
pub trait CafeDay: Sync {
    /// Counts an ended order in its hour, together with marking its view counted, so an order is
    /// counted once however often its events come: false when it was counted already.
    fn count(&self, order_id: &str, ended: &Ended) -> impl Future<Output = Result<bool, Error>> + Send;

    /// What ended in each of these hours (zeros for an hour nothing ended in), in their order.
    fn hours(&self, hours: &[DateTime<Utc>]) -> impl Future<Output = Result<Vec<HourCounts>, Error>> + Send;

    /// Records an alert in its hour unless one about the same subject is there already: whether
    /// it was recorded now.
    fn raise(&self, alert: &Alert) -> impl Future<Output = Result<bool, Error>> + Send;
}

/// The hour items beside the views: `hour#<YYYY-MM-DDTHH>` under the table's key, one counter
/// attribute per outcome, cause and beverage, and each completed order's time to ready.
fn hour_key(hour: DateTime<Utc>) -> String {
    format!("hour#{}", hour.format("%Y-%m-%dT%H"))
}

/// How long an hour's counts are kept (DynamoDB TTL): a week back, for a look at last week's day.
const HOUR_KEPT_SECONDS: i64 = 8 * 24 * 3600;
const COMPLETED: &str = "completed";
const CANCELLED_PREFIX: &str = "cancelled#";
const MADE_PREFIX: &str = "made#";
const READY_SECONDS: &str = "readySeconds";
const ALERT_PREFIX: &str = "alert#";

/// The counters an outcome adds to, and by how much.
fn counters_of(outcome: &Outcome) -> Vec<(String, u32)> {
    match outcome {
        Outcome::Completed { made, .. } => {
            let made = made
                .iter()
                .map(|(beverage, qty)| (format!("{MADE_PREFIX}{beverage}"), *qty));
            std::iter::once((COMPLETED.to_string(), 1)).chain(made).collect()
        }
        Outcome::Cancelled { cause } => vec![(format!("{CANCELLED_PREFIX}{cause}"), 1)],
    }
}

fn hour_counts_of(hour: DateTime<Utc>, item: Option<&Item>) -> Result<HourCounts, Error> {
    let mut counts = HourCounts::empty(hour);
    for (name, value) in item.into_iter().flatten() {
        let number =
            || -> Result<u32, Error> { Ok(value.as_n().map_err(|_| format!("{name} is no number"))?.parse()?) };
        if name == COMPLETED {
            counts.completed = number()?;
        } else if let Some(cause) = name.strip_prefix(CANCELLED_PREFIX) {
            counts.cancelled.insert(cause.to_string(), number()?);
        } else if let Some(beverage) = name.strip_prefix(MADE_PREFIX) {
            counts.made.insert(beverage.to_string(), number()?);
        } else if let Some(subject) = name.strip_prefix(ALERT_PREFIX) {
            let message = value.as_s().map_err(|_| format!("{name} is no text"))?;
            counts.alerts.insert(subject.to_string(), message.clone());
        } else if name == READY_SECONDS {
            let list = value.as_l().map_err(|_| "readySeconds is no list")?;
            counts.ready_seconds = (list.iter())
                .map(|v| Ok(v.as_n().map_err(|_| "a time to ready is no number")?.parse()?))
                .collect::<Result<_, Error>>()?;
        }
    }
    Ok(counts)
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
    // A cart's lines, as JSON (a one-line order has none: beverageName and beverageQty say it).
    if !order.lines.is_empty() {
        let lines = s(serde_json::to_string(&order.lines)?);
        attributes.push(("lines".to_string(), lines, Write::IfAbsent));
    }
    if let Some(number) = order.order_number {
        attributes.push(("orderNumber".to_string(), n(number), Write::IfAbsent));
    }
    // What the customer pays, for the receipt (the order as placed says; payment moves it).
    let due = match event {
        CafeEvent::OrderPlaced(placed) => placed.payment.as_ref(),
        CafeEvent::PaymentAuthorized(authorized) => authorized.placed.payment.as_ref(),
        _ => None,
    };
    if let Some(due) = due {
        attributes.push(("total".to_string(), n(due.amount), Write::IfAbsent));
        attributes.push(("currency".to_string(), s(&due.currency), Write::IfAbsent));
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

impl CafeDay for KioskStore {
    async fn count(&self, order_id: &str, ended: &Ended) -> Result<bool, Error> {
        let hour = hour_key(ended.hour);
        let mark = (Update::builder().table_name(&self.table))
            .key("orderId", s(order_id))
            .update_expression("SET countedAs = :hour")
            .condition_expression("attribute_exists(customerId) AND attribute_not_exists(countedAs)")
            .expression_attribute_values(":hour", s(&hour))
            .build()?;
        let mut add = (Update::builder().table_name(&self.table))
            .key("orderId", s(&hour))
            .expression_attribute_values(":start", s(ended.hour.to_rfc3339()))
            .expression_attribute_values(":ends", n(ended.hour.timestamp() + HOUR_KEPT_SECONDS));
        let mut adds = Vec::new();
        for (i, (name, by)) in counters_of(&ended.outcome).into_iter().enumerate() {
            add = add
                .expression_attribute_names(format!("#c{i}"), name)
                .expression_attribute_values(format!(":c{i}"), n(by));
            adds.push(format!("#c{i} :c{i}"));
        }
        let mut sets = vec!["hourStart = :start".to_string(), "expiresAt = :ends".to_string()];
        if let Outcome::Completed { ready_seconds, .. } = &ended.outcome {
            sets.push(format!(
                "{READY_SECONDS} = list_append(if_not_exists({READY_SECONDS}, :none), :ready)"
            ));
            add = add
                .expression_attribute_values(":none", AttributeValue::L(Vec::new()))
                .expression_attribute_values(":ready", AttributeValue::L(vec![n(ready_seconds)]));
        }
        let add = add
            .update_expression(format!("SET {} ADD {}", sets.join(", "), adds.join(", ")))
            .build()?;
        let failed = dynamo::transact(
            &self.client,
            vec![
                TransactWriteItem::builder().update(mark).build(),
                TransactWriteItem::builder().update(add).build(),
            ],
        )
        .await?;
        Ok(failed.is_empty())
    }

    async fn hours(&self, hours: &[DateTime<Utc>]) -> Result<Vec<HourCounts>, Error> {
        let keys: Vec<String> = hours.iter().map(|hour| hour_key(*hour)).collect();
        let found = dynamo::get_many(&self.client, &self.table, "orderId", &keys).await?;
        (hours.iter().zip(&keys))
            .map(|(hour, key)| hour_counts_of(*hour, found.get(key)))
            .collect()
    }

    async fn raise(&self, alert: &Alert) -> Result<bool, Error> {
        let written = (self.client.update_item())
            .table_name(&self.table)
            .key("orderId", s(hour_key(alert.hour)))
            .update_expression("SET hourStart = :start, expiresAt = :ends, #alert = :message")
            .condition_expression("attribute_not_exists(#alert)")
            .expression_attribute_names("#alert", format!("{ALERT_PREFIX}{}", alert.subject))
            .expression_attribute_values(":message", s(&alert.message))
            .expression_attribute_values(":start", s(alert.hour.to_rfc3339()))
            .expression_attribute_values(":ends", n(alert.hour.timestamp() + HOUR_KEPT_SECONDS))
            .send()
            .await;
        dynamo::condition_held(written)
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
        lines: match text("lines") {
            Some(lines) => serde_json::from_str(&lines)?,
            None => Vec::new(),
        },
        order_date: required("orderDate")?.parse()?,
        total: item
            .get("total")
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse().ok()),
        currency: text("currency"),
        order_number: item
            .get("orderNumber")
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse().ok()),
        order_status: status_of(&timeline).to_string(),
        reason: text("reason"),
        notification: text("notification"),
        watched: item.contains_key("watched"),
        counted: item.contains_key("countedAs"),
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

    impl MemoryViews {
        /// The hour's item, as the store makes it on its first write.
        fn hour_item(items: &mut HashMap<String, Item>, hour: DateTime<Utc>) -> &mut Item {
            let key = hour_key(hour);
            let item = (items.entry(key.clone())).or_insert_with(|| dynamo::key("orderId", &key));
            item.insert("hourStart".into(), s(hour.to_rfc3339()));
            item.insert("expiresAt".into(), n(hour.timestamp() + HOUR_KEPT_SECONDS));
            item
        }
    }

    impl CafeDay for MemoryViews {
        async fn count(&self, order_id: &str, ended: &Ended) -> Result<bool, Error> {
            self.down.check("the kiosk table is unreachable")?;
            let hour = hour_key(ended.hour);
            let mut items = self.items.lock().unwrap();
            match items.get_mut(order_id) {
                Some(view) if is_view(view) && !view.contains_key("countedAs") => {
                    view.insert("countedAs".into(), s(&hour));
                }
                _ => return Ok(false),
            }
            let item = Self::hour_item(&mut items, ended.hour);
            for (name, by) in counters_of(&ended.outcome) {
                let before: u32 = item
                    .get(&name)
                    .and_then(|v| v.as_n().ok())
                    .map_or(Ok(0), |v| v.parse())?;
                item.insert(name, n(before + by));
            }
            if let Outcome::Completed { ready_seconds, .. } = &ended.outcome {
                let list = item
                    .entry(READY_SECONDS.into())
                    .or_insert(AttributeValue::L(Vec::new()));
                if let AttributeValue::L(list) = list {
                    list.push(n(ready_seconds));
                }
            }
            Ok(true)
        }

        async fn hours(&self, hours: &[DateTime<Utc>]) -> Result<Vec<HourCounts>, Error> {
            self.down.check("the kiosk table is unreachable")?;
            let items = self.items.lock().unwrap();
            (hours.iter())
                .map(|hour| hour_counts_of(*hour, items.get(&hour_key(*hour))))
                .collect()
        }

        async fn raise(&self, alert: &Alert) -> Result<bool, Error> {
            self.down.check("the kiosk table is unreachable")?;
            let mut items = self.items.lock().unwrap();
            let item = Self::hour_item(&mut items, alert.hour);
            let name = format!("{ALERT_PREFIX}{}", alert.subject);
            if item.contains_key(&name) {
                return Ok(false);
            }
            item.insert(name, s(&alert.message));
            Ok(true)
        }
    }
}
