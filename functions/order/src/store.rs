//! The orders table (DynamoDB), keyed by `orderId`, with the `byCustomer` index; and the
//! customers table, keyed by `customerKey`: `customer#<id>` records the order a customer first
//! ordered with (their token was issued then), `rate#<id>#<minute>` counts their orders in a minute,
//! `texts#<phone number>#<hour>` the texts a number is sent in an hour, `kiosk#<kiosk id>` is a
//! registered kiosk (the hash of its secret; the `kiosks` index lists them) and
//! `kioskrate#<kiosk id>#<minute>` counts a kiosk's orders in a minute. A customer who signed in
//! with their phone has its number on `customer#<id>`, and `phone#<number>` keeps the customer id
//! it signs in as and the hash of the code last texted to it, and `revocations` the customers who
//! signed out everywhere (see `sign_in`). `cafe` is the cafe itself: whether it is open
//! (`isOpen`, open until the operator first closes it), its orders in progress (`inProgress`,
//! one more in each order's own transaction, one less in the one that ends it) and each day's
//! last order number (`number#<day>`).

mod sign_in;
pub use sign_in::{CodeKept, Proven};

use crate::domain::{Cafe, Kiosk, Order, OrderLimits, OrderStatus, Outcome, PlacedBy};
use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::{ConditionCheck, Put, ReturnValue, TransactWriteItem, Update};
use aws_sdk_dynamodb::{Client, types::AttributeValue};
use cafe_shared::Error;
use cafe_shared::auth::KioskClaim;
use cafe_shared::dynamo::SortOrder::{Ascending, Descending};
use cafe_shared::dynamo::{self, Item, Page, PageRequest, n, s};
use chrono::{DateTime, Days, Utc};
use std::future::Future;

/// The `byDate` index's partition: one, holding every order by date (a cafe's orders a day are
/// far below one partition's write rate).
const LISTED_AS: &str = "listedAs";
const ORDER: &str = "order";
/// The page keys of the two order lists, for `nextToken`.
pub const CUSTOMER_PAGE_KEY: [&str; 3] = ["orderId", "customerId", "orderDate"];
pub const LATEST_PAGE_KEY: [&str; 3] = ["orderId", LISTED_AS, "orderDate"];
/// The `kiosks` index of the customers table: one partition holding every registered kiosk.
const KIOSK: &str = "kiosk";
pub const KIOSK_PAGE_KEY: [&str; 3] = ["customerKey", LISTED_AS, "kioskId"];
/// The customers table's item that is the cafe (see the module's comment).
const CAFE: &str = "cafe";
/// The cafe takes an order if it is open and has room; `:max` is `MaxOrdersInProgress`.
const CAFE_TAKES_ORDERS: &str =
    "(attribute_not_exists(isOpen) OR isOpen = :open) AND (attribute_not_exists(inProgress) OR inProgress < :max)";

#[derive(Clone)]
pub struct OrderStore {
    client: Client,
    table: String,
    customers_table: String,
}

/// What placing an order records of its customer (`customer#<id>`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Registration {
    /// A new customer, whose token comes with this order: refused if they have ordered before.
    New,
    /// The customer is registered if they are not yet (nothing refused).
    IfNew,
    /// Nothing: the customer is known.
    None,
}

/// What storing a new order found.
pub enum Placed {
    New(Order),
    /// The cafe is closed or full, as it is now.
    CafeRefused(Cafe),
    /// The kiosk token names no registered kiosk, or not with that secret (or it was revoked).
    UnknownKiosk,
    /// The kiosk has placed as many orders this minute as allowed.
    KioskBusy,
    /// An order with this id was already stored (a retried request with the same key).
    AlreadyPlaced(Order),
    /// Asked as the customer's first order, but they have ordered before.
    CustomerKnown,
    /// The customer has placed as many orders this minute as allowed.
    TooManyOrders,
    /// The order's phone number has been texted as often this hour as allowed.
    TooManyTexts,
    /// The customer's order asks texts to a number they have not proven.
    PhoneNotProven,
    /// A kiosk typed the id of a customer who signs in with their phone: only their token orders
    /// for them.
    SignsInByPhone,
}

/// Which condition of the order's transaction failed, most telling first.
/// A kiosk that is not registered explains nothing else and learns nothing (not even whether
/// an order with this id exists).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Refusal {
    UnknownKiosk,
    AlreadyPlaced,
    CafeRefused,
    CustomerKnown,
    KioskBusy,
    SignsInByPhone,
    PhoneNotProven,
    TooManyOrders,
    TooManyTexts,
}

/// What asking an order to move found.
#[derive(Debug)]
pub enum Recorded {
    /// The order moved now.
    Moved,
    /// The order was not in the status the move needs, as it is: moved already (a redelivered
    /// event), or another way (a cancel that lost to the machine, or the other way round).
    Unmoved(Order),
}

impl OrderStore {
    pub fn new(sdk: &SdkConfig, table: String, customers_table: String) -> Self {
        Self {
            client: Client::new(sdk),
            table,
            customers_table,
        }
    }

    /// Stores a new pending order unless one with its id exists, in one transaction with its
    /// count in the customer's current minute, for an order with a phone number its count in that
    /// number's current hour (one text each), both within `limits`, the customer's `registration`,
    /// and for a kiosk, that it is registered with the secret it claims and within its own count
    /// a minute.
    pub async fn place(
        &self,
        order: &Order,
        placed_by: &PlacedBy,
        registration: Registration,
        limits: &OrderLimits,
    ) -> Result<Placed, Error> {
        let mut item: Item = serde_dynamo::to_item(order)?;
        // Every order is in the `byDate` index, where the operator reads the latest.
        item.insert(LISTED_AS.into(), s(ORDER));
        let put_order = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(orderId)")
            .build()?;
        let minute = order.order_date.timestamp() / 60;
        let mut writes = Vec::new();
        if let PlacedBy::Kiosk(claim) = placed_by {
            writes.push((Refusal::UnknownKiosk, self.kiosk_registered(claim)?));
            let kiosk_rate = self.count(
                format!("kioskrate#{}#{minute}", claim.kiosk_id),
                limits.orders_per_kiosk_per_minute,
                (minute + 2) * 60,
            )?;
            writes.push((Refusal::KioskBusy, kiosk_rate));
        }
        writes.push((
            Refusal::AlreadyPlaced,
            TransactWriteItem::builder().put(put_order).build(),
        ));
        // The order takes its place in the cafe, which it gives back when it ends.
        let cafe = Update::builder()
            .table_name(&self.customers_table)
            .key("customerKey", s(CAFE))
            .update_expression("ADD inProgress :one")
            .condition_expression(CAFE_TAKES_ORDERS)
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":open", AttributeValue::Bool(true))
            .expression_attribute_values(":max", n(limits.max_orders_in_progress))
            .build()?;
        writes.push((Refusal::CafeRefused, TransactWriteItem::builder().update(cafe).build()));
        writes.push((
            Refusal::TooManyOrders,
            self.count(
                format!("rate#{}#{minute}", order.customer_id),
                limits.orders_per_minute,
                (minute + 2) * 60,
            )?,
        ));
        if let Some(phone) = &order.phone_number {
            writes.push((Refusal::TooManyTexts, self.count_text(phone, order.order_date, limits)?));
        }
        // Last: when only it fails, everything before it held.
        let customer = s(format!("customer#{}", order.customer_id));
        match (registration, placed_by, &order.phone_number) {
            // The number was proven by the customer whose token placed the order.
            (Registration::None, PlacedBy::Customer, Some(phone)) => {
                let proven = ConditionCheck::builder()
                    .table_name(&self.customers_table)
                    .key("customerKey", customer.clone())
                    .condition_expression("phoneNumber = :phone")
                    .expression_attribute_values(":phone", s(phone.clone()))
                    .build()?;
                writes.push((
                    Refusal::PhoneNotProven,
                    TransactWriteItem::builder().condition_check(proven).build(),
                ));
            }
            // A kiosk orders for a known customer only if they don't sign in with their phone.
            (Registration::None, PlacedBy::Kiosk(_), _) => {
                let typed = ConditionCheck::builder()
                    .table_name(&self.customers_table)
                    .key("customerKey", customer.clone())
                    .condition_expression("attribute_not_exists(phoneNumber)")
                    .build()?;
                writes.push((
                    Refusal::SignsInByPhone,
                    TransactWriteItem::builder().condition_check(typed).build(),
                ));
            }
            _ => {}
        }
        match registration {
            Registration::New => {
                let register = Put::builder()
                    .table_name(&self.customers_table)
                    .item("customerKey", customer)
                    .item("firstOrderId", s(order.order_id.clone()))
                    .condition_expression("attribute_not_exists(customerKey)")
                    .build()?;
                writes.push((
                    Refusal::CustomerKnown,
                    TransactWriteItem::builder().put(register).build(),
                ));
            }
            Registration::IfNew => {
                let register = Update::builder()
                    .table_name(&self.customers_table)
                    .key("customerKey", customer)
                    .update_expression("SET firstOrderId = if_not_exists(firstOrderId, :order)")
                    .expression_attribute_values(":order", s(order.order_id.clone()))
                    .build()?;
                writes.push((
                    Refusal::CustomerKnown,
                    TransactWriteItem::builder().update(register).build(),
                ));
            }
            Registration::None => {}
        }
        // Every order counts itself in the cafe's item: concurrent ones may meet on it.
        let items: Vec<TransactWriteItem> = writes.iter().map(|(_, write)| write.clone()).collect();
        let refused: Vec<Refusal> = dynamo::transact(&self.client, items)
            .await?
            .into_iter()
            .map(|i| writes[i].0)
            .collect();
        // A stored order with this id explains every other refusal but an unknown kiosk's: it is
        // a retry.
        Ok(match refused.iter().min() {
            None => Placed::New(order.clone()),
            Some(Refusal::UnknownKiosk) => Placed::UnknownKiosk,
            Some(Refusal::CafeRefused) => Placed::CafeRefused(self.cafe(limits).await?),
            Some(Refusal::AlreadyPlaced) => Placed::AlreadyPlaced(
                self.get(&order.order_id)
                    .await?
                    .ok_or("order vanished after a conflicting write")?,
            ),
            Some(Refusal::CustomerKnown) => Placed::CustomerKnown,
            Some(Refusal::KioskBusy) => Placed::KioskBusy,
            Some(Refusal::TooManyOrders) => Placed::TooManyOrders,
            Some(Refusal::TooManyTexts) => Placed::TooManyTexts,
            Some(Refusal::PhoneNotProven) => Placed::PhoneNotProven,
            Some(Refusal::SignsInByPhone) => Placed::SignsInByPhone,
        })
    }

    /// Whether the kiosk is registered with the secret it claims (and not revoked), read
    /// consistently: checked before a kiosk's order touches the cafe (its transaction checks again).
    pub async fn is_registered_kiosk(&self, claim: &KioskClaim) -> Result<bool, Error> {
        let key = dynamo::key("customerKey", format!("kiosk#{}", claim.kiosk_id));
        let item = dynamo::get_item(&self.client, &self.customers_table, key).await?;
        Ok(item.and_then(|kiosk| kiosk.get("secretHash").cloned()) == Some(s(claim.secret_hash.clone())))
    }

    /// That the kiosk is registered with the secret it claims (and not revoked).
    fn kiosk_registered(&self, claim: &KioskClaim) -> Result<TransactWriteItem, Error> {
        let registered = ConditionCheck::builder()
            .table_name(&self.customers_table)
            .key("customerKey", s(format!("kiosk#{}", claim.kiosk_id)))
            .condition_expression("secretHash = :hash")
            .expression_attribute_values(":hash", s(claim.secret_hash.clone()))
            .build()?;
        Ok(TransactWriteItem::builder().condition_check(registered).build())
    }

    /// One more text to `phone` in the hour of `at`, within the limit (an order's outcome or a
    /// sign-in code: each is one text).
    fn count_text(&self, phone: &str, at: DateTime<Utc>, limits: &OrderLimits) -> Result<TransactWriteItem, Error> {
        let hour = at.timestamp() / 3600;
        self.count(
            format!("texts#{phone}#{hour}"),
            limits.texts_per_hour,
            (hour + 2) * 3600,
        )
    }

    /// One more in the window counter `key`, if it holds fewer than `max`; gone (DynamoDB TTL)
    /// at `expires_at`, a window after its own.
    fn count(&self, key: String, max: u32, expires_at: i64) -> Result<TransactWriteItem, Error> {
        let update = Update::builder()
            .table_name(&self.customers_table)
            .key("customerKey", s(key))
            .update_expression("ADD placed :one SET expiresAt = :expires")
            .condition_expression("attribute_not_exists(placed) OR placed < :max")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":max", n(max))
            .expression_attribute_values(":expires", n(expires_at))
            .build()?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// The next order number of the day of `at`, counted from 1, if the cafe takes orders now;
    /// else the cafe as it is. A closed or full cafe uses up no number, so the numbers a day's
    /// customers see run on without gaps (but for an order refused after this, e.g. by a
    /// customer's rate, or a cafe that filled up a moment later).
    pub async fn take_order_number(&self, at: DateTime<Utc>, limits: &OrderLimits) -> Result<Result<u32, Cafe>, Error> {
        let day = at.date_naive();
        let yesterday = day.checked_sub_days(Days::new(1)).unwrap_or(day);
        let take = self
            .client
            .update_item()
            .table_name(&self.customers_table)
            .key("customerKey", s(CAFE))
            // Yesterday's counter goes as today's starts: the item stays small.
            .update_expression("ADD #today :one REMOVE #yesterday")
            .condition_expression(CAFE_TAKES_ORDERS)
            .expression_attribute_names("#today", format!("number#{day}"))
            .expression_attribute_names("#yesterday", format!("number#{yesterday}"))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":open", AttributeValue::Bool(true))
            .expression_attribute_values(":max", n(limits.max_orders_in_progress))
            .return_values(ReturnValue::UpdatedNew);
        let taken = dynamo::retry_conflicts(|| async { dynamo::conflict_to_retry(take.clone().send().await) }).await?;
        match taken {
            Ok(out) => {
                let number = out
                    .attributes
                    .unwrap_or_default()
                    .get(&format!("number#{day}"))
                    .cloned();
                match number {
                    Some(AttributeValue::N(number)) => Ok(Ok(number.parse()?)),
                    other => Err(format!("the day's order number reads {other:?}").into()),
                }
            }
            Err(e) if dynamo::is_conditional_check_failed(&e) => Ok(Err(self.cafe(limits).await?)),
            Err(e) => Err(e.into()),
        }
    }

    /// Whether the cafe is open, and how full.
    pub async fn cafe(&self, limits: &OrderLimits) -> Result<Cafe, Error> {
        let item = dynamo::get_item(&self.client, &self.customers_table, dynamo::key("customerKey", CAFE)).await?;
        Ok(cafe_of(&item.unwrap_or_default(), limits))
    }

    /// Opens or closes the cafe to new orders (those in progress are made either way).
    pub async fn set_open(&self, open: bool, limits: &OrderLimits) -> Result<Cafe, Error> {
        let set = self
            .client
            .update_item()
            .table_name(&self.customers_table)
            .key("customerKey", s(CAFE))
            .update_expression("SET isOpen = :open")
            .expression_attribute_values(":open", AttributeValue::Bool(open))
            .return_values(ReturnValue::AllNew);
        let out = dynamo::retry_conflicts(|| async { dynamo::conflict_to_retry(set.clone().send().await) }).await??;
        Ok(cafe_of(&out.attributes.unwrap_or_default(), limits))
    }

    pub async fn get(&self, order_id: &str) -> Result<Option<Order>, Error> {
        let item = dynamo::get_item(&self.client, &self.table, dynamo::key("orderId", order_id)).await?;
        Ok(item.map(serde_dynamo::from_item).transpose()?)
    }

    /// A page of a customer's orders, newest first.
    pub async fn list_for_customer(&self, customer_id: &str, page: PageRequest) -> Result<Page<Order>, Error> {
        let index = ("customerId", customer_id);
        let found = dynamo::query_page(&self.client, &self.table, Some("byCustomer"), index, Descending, page).await?;
        let found = dynamo::items_of(&self.client, &self.table, "orderId", found).await?;
        Ok(found.try_map(serde_dynamo::from_item)?)
    }

    /// A page of everyone's orders, newest first (the `byDate` index, not a scan of the table).
    pub async fn list_latest(&self, page: PageRequest) -> Result<Page<Order>, Error> {
        let index = (LISTED_AS, ORDER);
        let found = dynamo::query_page(&self.client, &self.table, Some("byDate"), index, Descending, page).await?;
        let found = dynamo::items_of(&self.client, &self.table, "orderId", found).await?;
        Ok(found.try_map(serde_dynamo::from_item)?)
    }
}

/// The saga step's port: an order's moves, each recorded once.
pub trait OrderOutcomes: Sync {
    /// Moves the order, atomically, only from the status the move needs (`Outcome::from`), so a
    /// redelivered event changes nothing and of two conflicting moves exactly one wins.
    /// `None` when there is no such order.
    fn record_outcome(
        &self,
        order_id: &str,
        outcome: &Outcome,
    ) -> impl Future<Output = Result<Option<Recorded>, Error>> + Send;

    /// The order's status now (a consistent read); `None` when there is no such order.
    fn status_of(&self, order_id: &str) -> impl Future<Output = Result<Option<OrderStatus>, Error>> + Send;
}

impl OrderOutcomes for OrderStore {
    async fn record_outcome(&self, order_id: &str, outcome: &Outcome) -> Result<Option<Recorded>, Error> {
        let mut moved = Update::builder()
            .table_name(&self.table)
            .key("orderId", s(order_id))
            .condition_expression("#status = :from")
            .expression_attribute_names("#status", "orderStatus")
            .expression_attribute_values(":from", status_value(outcome.from()))
            .expression_attribute_values(":to", status_value(outcome.status()));
        moved = match outcome.reason() {
            Some(reason) => moved
                .update_expression("SET #status = :to, reason = :reason")
                .expression_attribute_values(":reason", s(reason)),
            None => moved.update_expression("SET #status = :to"),
        };
        let moved = moved.build()?;
        let committed = match outcome.status().is_final() {
            true => {
                // The order gives its place in the cafe back in the move that ends it, so only once.
                let release = Update::builder()
                    .table_name(&self.customers_table)
                    .key("customerKey", s(CAFE))
                    .update_expression("ADD inProgress :less")
                    .expression_attribute_values(":less", n(-1))
                    .build()?;
                let writes = [moved, release].map(|update| TransactWriteItem::builder().update(update).build());
                dynamo::transact(&self.client, writes.into()).await?.is_empty()
            }
            // A move that ends nothing writes the order alone: a conditional update is as atomic
            // as a one-item transaction, at half its write units.
            false => self.update_if(moved).await?,
        };
        match committed {
            true => Ok(Some(Recorded::Moved)),
            false => Ok(self.get(order_id).await?.map(Recorded::Unmoved)),
        }
    }

    async fn status_of(&self, order_id: &str) -> Result<Option<OrderStatus>, Error> {
        Ok(self.get(order_id).await?.map(|order| order.order_status))
    }
}

impl OrderStore {
    /// `update` as a single write: whether its condition held. Every field of a transaction's
    /// `Update` is carried over, so the move writes the same as it would in a transaction.
    async fn update_if(&self, update: Update) -> Result<bool, Error> {
        let write = (self.client.update_item())
            .table_name(update.table_name())
            .set_key(Some(update.key().clone()))
            .update_expression(update.update_expression())
            .set_condition_expression(update.condition_expression().map(Into::into))
            .set_expression_attribute_names(update.expression_attribute_names().cloned())
            .set_expression_attribute_values(update.expression_attribute_values().cloned())
            .set_return_values_on_condition_check_failure(update.return_values_on_condition_check_failure().cloned());
        let written =
            dynamo::retry_conflicts(|| async { dynamo::conflict_to_retry(write.clone().send().await) }).await?;
        dynamo::condition_held(written)
    }
}

/// Registered kiosks, kept in the customers table beside the customers they take orders for.
impl OrderStore {
    /// Registers a kiosk with the hash of its secret (never the secret itself).
    pub async fn register_kiosk(&self, kiosk: &Kiosk, secret_hash: &str) -> Result<(), Error> {
        let mut item: Item = serde_dynamo::to_item(kiosk)?;
        item.insert("customerKey".into(), s(format!("kiosk#{}", kiosk.kiosk_id)));
        item.insert("secretHash".into(), s(secret_hash));
        item.insert(LISTED_AS.into(), s(KIOSK));
        // Ids are random: an existing one is a fault, not a retry to absorb.
        match dynamo::put_if_absent(&self.client, &self.customers_table, item, "customerKey").await? {
            true => Ok(()),
            false => Err(format!("kiosk id {} is taken", kiosk.kiosk_id).into()),
        }
    }

    /// A page of the registered kiosks, by id (the `kiosks` index, which only kiosks are in).
    pub async fn list_kiosks(&self, page: PageRequest) -> Result<Page<Kiosk>, Error> {
        let index = (LISTED_AS, KIOSK);
        let found = dynamo::query_page(
            &self.client,
            &self.customers_table,
            Some("kiosks"),
            index,
            Ascending,
            page,
        )
        .await?;
        Ok(found.try_map(serde_dynamo::from_item)?)
    }

    /// Removes a kiosk, so its token places no more orders: the kiosk as it was, `None` if
    /// there was no such kiosk.
    pub async fn revoke_kiosk(&self, kiosk_id: &str) -> Result<Option<Kiosk>, Error> {
        let removed = self
            .client
            .delete_item()
            .table_name(&self.customers_table)
            .key("customerKey", s(format!("kiosk#{kiosk_id}")))
            .condition_expression("attribute_exists(secretHash)")
            .return_values(ReturnValue::AllOld)
            .send()
            .await;
        match removed {
            Ok(out) => Ok(out.attributes.map(serde_dynamo::from_item).transpose()?),
            Err(e) if dynamo::is_conditional_check_failed(&e) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

/// The cafe as its item says (none yet: open and empty).
fn cafe_of(item: &Item, limits: &OrderLimits) -> Cafe {
    let in_progress = match item.get("inProgress") {
        Some(AttributeValue::N(count)) => count.parse::<i64>().unwrap_or(0),
        _ => 0,
    };
    Cafe {
        open: !matches!(item.get("isOpen"), Some(AttributeValue::Bool(false))),
        orders_in_progress: in_progress.clamp(0, u32::MAX.into()) as u32,
        max_orders_in_progress: limits.max_orders_in_progress,
    }
}

fn status_value(status: OrderStatus) -> AttributeValue {
    serde_dynamo::to_attribute_value(status).expect("a status is a string")
}

/// Orders in memory, for in-process tests of the saga step.
#[cfg(any(test, feature = "fakes"))]
pub mod fake {
    use super::*;
    use cafe_shared::fakes::Outage;
    use std::collections::HashMap;
    use std::sync::Mutex;

    #[derive(Default)]
    pub struct MemoryOrders {
        pub orders: Mutex<HashMap<String, Order>>,
        /// Every write, in order, as the table's stream carries it: the order before (none when
        /// new) and after.
        pub changes: Mutex<Vec<(Option<Order>, Order)>>,
        /// While down, every call fails (as a throttled or unreachable table does).
        pub down: Outage,
    }

    impl MemoryOrders {
        /// Stores a new order, as placing one does.
        pub fn place(&self, order: Order) {
            let mut orders = self.orders.lock().unwrap();
            self.changes.lock().unwrap().push((None, order.clone()));
            orders.insert(order.order_id.clone(), order);
        }
    }

    impl OrderOutcomes for MemoryOrders {
        async fn record_outcome(&self, order_id: &str, outcome: &Outcome) -> Result<Option<Recorded>, Error> {
            self.down.check("the orders table is unreachable")?;
            let mut orders = self.orders.lock().unwrap();
            let Some(order) = orders.get_mut(order_id) else {
                return Ok(None);
            };
            if order.order_status != outcome.from() {
                return Ok(Some(Recorded::Unmoved(order.clone())));
            }
            let before = order.clone();
            order.apply(outcome);
            self.changes.lock().unwrap().push((Some(before), order.clone()));
            Ok(Some(Recorded::Moved))
        }

        async fn status_of(&self, order_id: &str) -> Result<Option<OrderStatus>, Error> {
            self.down.check("the orders table is unreachable")?;
            Ok(self
                .orders
                .lock()
                .unwrap()
                .get(order_id)
                .map(|order| order.order_status))
        }
    }
}
