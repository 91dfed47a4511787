//! The orders table (DynamoDB), keyed by `orderId`, with the `byCustomer` index; and the
//! customers table, keyed by `customerKey`:
//! - `customer#<id>` records the order a customer first ordered with (their token was issued
//!   then), and the number they proved, if they sign in with their phone;
//! - `phone#<number>` keeps the customer id a number signs in as and the hash of the code last
//!   texted to it (see `sign_in`);
//! - `kiosk#<kiosk id>` is a registered kiosk (the hash of its secret; the `kiosks` index lists
//!   them);
//! - the counters of what customers, kiosks and numbers ask of the cafe, an item each
//!   (`domain::Tally` names them);
//! - `cafe` is the cafe itself: whether it is open (`isOpen`, open until the operator first
//!   closes it), its orders in progress (`inProgress`, one more in each order's own transaction,
//!   one less in the one that ends it), each day's last order number (`number#<day>`), and the
//!   operator's price list: a beverage's price (`price#<beverage>`) and whether it is on sale
//!   (`onSale#<beverage>`), each only once set.

#[cfg(any(test, feature = "fakes"))]
pub mod fake;
mod placing;
mod sign_in;

pub use sign_in::Proven;

use crate::domain::sign_in::{LiveCode, SignInCode};
use crate::domain::{
    Cafe, Kiosk, Order, OrderLimits, OrderStatus, Outcome, PlacedBy, PriceList, PriceSetting, Refusal, Registration,
    Tally, Texter,
};
use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::{TransactWriteItem, Update};
use aws_sdk_dynamodb::{Client, types::AttributeValue};
use cafe_shared::Error;
use cafe_shared::auth::KioskClaim;
use cafe_shared::dynamo::SortOrder::{Ascending, Descending};
use cafe_shared::dynamo::{self, Item, Page, PageRequest, n, s};
use chrono::{DateTime, Utc};
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

/// What asking an order to move found.
#[derive(Debug)]
pub enum Recorded {
    /// The order moved now.
    Moved,
    /// The order was not in the status the move needs, as it is: moved already (a redelivered
    /// event), or another way (a cancel that lost to the machine, or the other way round).
    Unmoved(Box<Order>),
}

impl OrderStore {
    pub fn new(sdk: &SdkConfig, table: String, customers_table: String) -> Self {
        Self {
            client: Client::new(sdk),
            table,
            customers_table,
        }
    }
}

/// The order API's port: placing orders, the cafe's item and the registered kiosks.
pub trait OrderBook: Sync {
    fn get(&self, order_id: &str) -> impl Future<Output = Result<Option<Order>, Error>> + Send;

    /// Whether the kiosk is registered with the secret it claims (and not revoked), read
    /// consistently: checked before a kiosk's order touches the cafe (its transaction checks again).
    fn is_registered_kiosk(&self, claim: &KioskClaim) -> impl Future<Output = Result<bool, Error>> + Send;

    /// Stores a new pending order, all or nothing, as the next number of its day (counted from
    /// 1), with what it counts and records: its place in the cafe (open, with room), its count
    /// in the customer's minute, its cups in the customer's hour, its place among the
    /// customer's orders in progress and, with a phone number, its text in that number's hour,
    /// each within `limits` (the operator's orders are counted but never refused for them),
    /// the customer's `registration`, and for a kiosk, that it is registered with the secret it
    /// claims and within its own count a minute. The number is taken in the same write: a
    /// refused order uses up none. Refused, nothing is written, and the answer is the most
    /// telling refusal ([`Refusal::most_telling`] of those that failed).
    fn place(
        &self,
        order: &Order,
        placed_by: &PlacedBy,
        registration: Registration,
        limits: &OrderLimits,
    ) -> impl Future<Output = Result<Result<u32, Refusal>, Error>> + Send;

    /// Whether the cafe is open, and how full.
    fn cafe(&self, limits: &OrderLimits) -> impl Future<Output = Result<Cafe, Error>> + Send;

    /// The operator's price list, read consistently (an order is priced as the cafe sells now).
    fn price_list(&self) -> impl Future<Output = Result<PriceList, Error>> + Send;

    /// Sets what the setting gives for one beverage (the rest stays): the price list after.
    fn set_price(
        &self,
        beverage_name: &str,
        setting: &PriceSetting,
    ) -> impl Future<Output = Result<PriceList, Error>> + Send;

    /// Opens or closes the cafe to new orders (those in progress are made either way).
    fn set_open(&self, open: bool, limits: &OrderLimits) -> impl Future<Output = Result<Cafe, Error>> + Send;

    /// Registers a kiosk with the hash of its secret (never the secret itself).
    fn register_kiosk(&self, kiosk: &Kiosk, secret_hash: &str) -> impl Future<Output = Result<(), Error>> + Send;

    /// The registered kiosk, with what it issued, read consistently.
    fn kiosk(&self, kiosk_id: &str) -> impl Future<Output = Result<Option<Kiosk>, Error>> + Send;

    /// Removes a kiosk, so its token places no more orders: the kiosk as it was, `None` if
    /// there was no such kiosk.
    fn revoke_kiosk(&self, kiosk_id: &str) -> impl Future<Output = Result<Option<Kiosk>, Error>> + Send;
}

/// The sign-in port: the codes texted to phone numbers, each kept under the handle it is tried
/// through, and the numbers they prove.
pub trait SignIns: Sync {
    /// Keeps a new code for `phone` under its handle, in one transaction with what the text
    /// counts (the number's codes, `asked_by`'s texts and the cafe's, this hour: see
    /// [`Tally::of_code`]) and, asked from a kiosk, that the kiosk is registered. Refused,
    /// nothing is kept or counted: the most telling refusal.
    #[allow(clippy::too_many_arguments)]
    fn keep_sign_in_code(
        &self,
        phone: &str,
        code: &SignInCode,
        asked_by: &Texter,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
        kiosk: Option<&KioskClaim>,
        limits: &OrderLimits,
    ) -> impl Future<Output = Result<Result<(), Refusal>, Error>> + Send;

    /// Counts one try at the code kept under `handle` and gives it back to be compared, if it
    /// was texted to `phone`, has not ended and has tries left; `None` otherwise. A try through
    /// one handle never touches the code under another.
    fn try_sign_in_code(
        &self,
        handle: &str,
        phone: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Option<LiveCode>, Error>> + Send;

    /// The number is proven by `code`: in one transaction the code is used up, the number keeps
    /// its customer id (`code.customer_id`, or `new_customer_id` at its first proof) and that
    /// customer gets the number as the one their orders may text.
    fn prove_phone(
        &self,
        phone: &str,
        code: &LiveCode,
        new_customer_id: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Proven, Error>> + Send;
}

/// The lists: each a page read by key from an index, with no condition to hold.
impl OrderStore {
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

    /// A page of the registered kiosks, by id (the `kiosks` index, which only kiosks are in),
    /// each read whole: the index does not carry what a kiosk issued.
    pub async fn list_kiosks(&self, page: PageRequest) -> Result<Page<Kiosk>, Error> {
        let index = (LISTED_AS, KIOSK);
        let table = &self.customers_table;
        let found = dynamo::query_page(&self.client, table, Some("kiosks"), index, Ascending, page).await?;
        let found = dynamo::items_of(&self.client, table, "customerKey", found).await?;
        Ok(found.try_map(serde_dynamo::from_item)?)
    }
}

/// The saga step's port: an order's moves, each recorded once.
pub trait OrderOutcomes: Sync {
    /// Moves the order, atomically, only from the status the move needs (`Outcome::from`), so a
    /// redelivered event changes nothing and of two conflicting moves exactly one wins; a move
    /// that ends the order gives back its place in the cafe and among `customer_id`'s orders in
    /// progress. `None` when there is no such order.
    fn record_outcome(
        &self,
        order_id: &str,
        customer_id: &str,
        outcome: &Outcome,
    ) -> impl Future<Output = Result<Option<Recorded>, Error>> + Send;

    /// The order's status now (a consistent read); `None` when there is no such order.
    fn status_of(&self, order_id: &str) -> impl Future<Output = Result<Option<OrderStatus>, Error>> + Send;
}

impl OrderOutcomes for OrderStore {
    async fn record_outcome(
        &self,
        order_id: &str,
        customer_id: &str,
        outcome: &Outcome,
    ) -> Result<Option<Recorded>, Error> {
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
                // The order gives its places back in the move that ends it, so only once.
                let release = Update::builder()
                    .table_name(&self.customers_table)
                    .key("customerKey", s(CAFE))
                    .update_expression("ADD inProgress :less")
                    .expression_attribute_values(":less", n(-1))
                    .build()?;
                let customer_release = Update::builder()
                    .table_name(&self.customers_table)
                    .key("customerKey", s(Tally::active(customer_id, None).key))
                    .update_expression("ADD placed :less")
                    .expression_attribute_values(":less", n(-1))
                    .build()?;
                let writes = [moved, release, customer_release]
                    .map(|update| TransactWriteItem::builder().update(update).build());
                dynamo::transact(&self.client, writes.into()).await?.is_empty()
            }
            // A move that ends nothing writes the order alone: a conditional update is as atomic
            // as a one-item transaction, at half its write units.
            false => self.update_if(moved).await?,
        };
        match committed {
            true => Ok(Some(Recorded::Moved)),
            false => Ok(self
                .get(order_id)
                .await?
                .map(|order| Recorded::Unmoved(Box::new(order)))),
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

/// The cafe as its item says (none yet: open and empty).
const PRICE_PREFIX: &str = "price#";
const ON_SALE_PREFIX: &str = "onSale#";

/// The price list the cafe's item keeps.
fn price_list_of(item: &Item) -> Result<PriceList, Error> {
    let mut list = PriceList::new();
    for (name, value) in item {
        if let Some(beverage) = name.strip_prefix(PRICE_PREFIX) {
            let price = value.as_n().map_err(|_| format!("{name} is no number"))?.parse()?;
            list.entry(beverage.to_string()).or_default().price = Some(price);
        } else if let Some(beverage) = name.strip_prefix(ON_SALE_PREFIX) {
            let on_sale = *value.as_bool().map_err(|_| format!("{name} is no boolean"))?;
            list.entry(beverage.to_string()).or_default().on_sale = Some(on_sale);
        }
    }
    Ok(list)
}

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
