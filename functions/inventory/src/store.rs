//! The inventory table (DynamoDB), keyed by `stockName` and `entry`: the stock item itself
//! (`entry` = `STOCK`) and one reservation per order (`entry` = `RESERVATION#<orderId>`).

use crate::domain::{Release, Reservation, StockItem, cups_needed};
use aws_config::SdkConfig;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem, Update};
use cafe_shared::Error;
use cafe_shared::clock;
use cafe_shared::dynamo::SortOrder::Ascending;
use cafe_shared::dynamo::{self, Item, Page, PageRequest, n, s};
use cafe_shared::events::OrderPlaced;
use std::collections::HashMap;
use std::future::Future;

/// The saga step's port: deciding an order's cups, once.
pub trait CupReservations: Sync {
    /// Reserves the order's cups, or records that there are not enough. A decision already
    /// recorded for this order is returned as it is: a redelivered `OrderPlaced` never takes cups
    /// twice, and concurrent deliveries get the same decision.
    fn reserve_cups(&self, placed: &OrderPlaced) -> impl Future<Output = Result<Reservation, Error>> + Send;

    /// Gives back the cups a cancelled order reserved, once: the stock goes up by exactly those
    /// cups however often this is asked. An order with no decision yet is recorded withdrawn, so
    /// its late `OrderPlaced` reserves nothing.
    fn release_cups(&self, stock_name: &str, order_id: &str) -> impl Future<Output = Result<Release, Error>> + Send;

    /// The stock item's cups now (none without such an item), for the operator's alerts.
    fn cups_left(&self, stock_name: &str) -> impl Future<Output = Result<Option<u32>, Error>> + Send;
}

/// The operator's port: the stock items and their levels.
pub trait StockLevels: Sync {
    /// Adds a stock item; `None` when it already exists (the first one stays as it is).
    fn create(&self, stock_name: &str, qty: u32) -> impl Future<Output = Result<Option<StockItem>, Error>> + Send;

    /// Sets the level of an existing stock item (a restock); `None` when there is no such item,
    /// and then none is made.
    fn set_level(&self, stock_name: &str, qty: u32) -> impl Future<Output = Result<Option<StockItem>, Error>> + Send;

    fn get(&self, stock_name: &str) -> impl Future<Output = Result<Option<StockItem>, Error>> + Send;
}

const STOCK_ENTRY: &str = "STOCK";
/// Set on stock items only, so the `stockItems` index lists them without the reservations.
const LISTED_AS: &str = "listedAs";
/// The page key of the stock list, for `nextToken`.
pub const STOCK_PAGE_KEY: [&str; 3] = ["stockName", "entry", LISTED_AS];
/// Set on a reservation once its cups are back in stock.
const RELEASED_AT: &str = "releasedAt";
/// Only the first decision for an order is recorded.
const FIRST_DECISION: &str = "attribute_not_exists(entry)";

#[derive(Clone)]
pub struct InventoryStore {
    client: Client,
    table: String,
}

fn key(stock_name: &str, entry: &str) -> Item {
    HashMap::from([
        ("stockName".to_string(), s(stock_name)),
        ("entry".to_string(), s(entry)),
    ])
}

fn reservation_entry(order_id: &str) -> String {
    format!("RESERVATION#{order_id}")
}

fn stock_item(item: &Item) -> Result<StockItem, Error> {
    let text = |name: &str| {
        item.get(name)
            .and_then(|v| v.as_s().ok())
            .ok_or(format!("stock item without {name}"))
    };
    Ok(StockItem {
        stock_name: text("stockName")?.clone(),
        qty: item
            .get("qty")
            .and_then(|v| v.as_n().ok())
            .ok_or("stock item without qty")?
            .parse()?,
        updated_at: text("updatedAt")?.parse()?,
    })
}

impl InventoryStore {
    pub fn new(sdk: &SdkConfig, table: String) -> Self {
        Self {
            client: Client::new(sdk),
            table,
        }
    }

    /// A page of the stock items, A to Z: the `stockItems` index holds only them (not the
    /// reservations, one per order, that share the table).
    pub async fn list(&self, page: PageRequest) -> Result<Page<StockItem>, Error> {
        let index = (LISTED_AS, STOCK_ENTRY);
        let found = dynamo::query_page(&self.client, &self.table, Some("stockItems"), index, Ascending, page).await?;
        found.try_map(|item| stock_item(&item))
    }

    /// The outcome already decided for an order, if any.
    async fn reservation(&self, placed: &OrderPlaced) -> Result<Option<Reservation>, Error> {
        let decided = self.decision(&placed.stock_name, &placed.order.order_id).await?;
        Ok(decided.map(|(reservation, _)| reservation))
    }

    /// The outcome decided for an order, and whether its cups were given back.
    async fn decision(&self, stock_name: &str, order_id: &str) -> Result<Option<(Reservation, bool)>, Error> {
        let entry = key(stock_name, &reservation_entry(order_id));
        let Some(item) = dynamo::get_item(&self.client, &self.table, entry).await? else {
            return Ok(None);
        };
        let stored = item
            .get("reservation")
            .and_then(|v| v.as_s().ok())
            .ok_or("reservation without outcome")?;
        Ok(Some((serde_json::from_str(stored)?, item.contains_key(RELEASED_AT))))
    }

    fn reservation_row(stock_name: &str, order_id: &str, reservation: &Reservation) -> Result<Item, Error> {
        let mut row = key(stock_name, &reservation_entry(order_id));
        row.insert("orderId".into(), s(order_id));
        row.insert("reservation".into(), s(serde_json::to_string(reservation)?));
        row.insert("decidedAt".into(), s(clock::now().to_rfc3339()));
        Ok(row)
    }

    /// Records an order as withdrawn unless its cups were decided; whether it was recorded.
    async fn withdraw(&self, stock_name: &str, order_id: &str) -> Result<bool, Error> {
        let row = Self::reservation_row(stock_name, order_id, &Reservation::Withdrawn)?;
        let record = (self.client.put_item().table_name(&self.table))
            .set_item(Some(row))
            .condition_expression(FIRST_DECISION)
            .send()
            .await;
        dynamo::condition_held(record)
    }
}

impl StockLevels for InventoryStore {
    async fn create(&self, stock_name: &str, qty: u32) -> Result<Option<StockItem>, Error> {
        let item = StockItem {
            stock_name: stock_name.to_string(),
            qty,
            updated_at: clock::now(),
        };
        let mut row = key(stock_name, STOCK_ENTRY);
        row.insert(LISTED_AS.into(), s(STOCK_ENTRY));
        row.insert("qty".into(), n(qty));
        row.insert("updatedAt".into(), s(item.updated_at.to_rfc3339()));
        let created = dynamo::put_if_absent(&self.client, &self.table, row, "stockName").await?;
        Ok(created.then_some(item))
    }

    async fn set_level(&self, stock_name: &str, qty: u32) -> Result<Option<StockItem>, Error> {
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(stock_name, STOCK_ENTRY)))
            .update_expression("SET qty = :qty, updatedAt = :now")
            .condition_expression("attribute_exists(stockName)")
            .expression_attribute_values(":qty", n(qty))
            .expression_attribute_values(":now", s(clock::now().to_rfc3339()))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
            .send()
            .await;
        match update {
            Ok(out) => Ok(Some(stock_item(&out.attributes.unwrap_or_default())?)),
            Err(e) if dynamo::is_conditional_check_failed(&e) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn get(&self, stock_name: &str) -> Result<Option<StockItem>, Error> {
        let item = dynamo::get_item(&self.client, &self.table, key(stock_name, STOCK_ENTRY)).await?;
        item.as_ref().map(stock_item).transpose()
    }
}

impl CupReservations for InventoryStore {
    /// The decrement and the record of the decision are one transaction. No read first: the
    /// record's condition finds a decision already made (a redelivery), which is then read.
    async fn reserve_cups(&self, placed: &OrderPlaced) -> Result<Reservation, Error> {
        let cups = cups_needed(placed);
        let reserved = Reservation::Reserved { cups };
        let take_cups = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(&placed.stock_name, STOCK_ENTRY)))
            .update_expression("SET qty = qty - :cups, updatedAt = :now")
            .condition_expression("attribute_exists(qty) AND qty >= :cups")
            .expression_attribute_values(":cups", n(cups))
            .expression_attribute_values(":now", s(clock::now().to_rfc3339()))
            .build()?;
        let record_decision = Put::builder()
            .table_name(&self.table)
            .set_item(Some(Self::reservation_row(
                &placed.stock_name,
                &placed.order.order_id,
                &reserved,
            )?))
            .condition_expression(FIRST_DECISION)
            .build()?;
        let transaction = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(record_decision).build())
            .transact_items(TransactWriteItem::builder().update(take_cups).build())
            .send()
            .await;
        let failed = dynamo::failed_conditions(transaction)?;
        if failed.is_empty() {
            return Ok(reserved);
        }
        if failed.contains(&0) {
            // A redelivery, or a concurrent delivery of the same event, decided first.
            return self
                .reservation(placed)
                .await?
                .ok_or_else(|| "reservation vanished".into());
        }
        let available = self.get(&placed.stock_name).await?.map(|item| item.qty);
        let out_of_stock = Reservation::out_of_stock(&placed.stock_name, cups, available);
        let record = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(Self::reservation_row(
                &placed.stock_name,
                &placed.order.order_id,
                &out_of_stock,
            )?))
            .condition_expression(FIRST_DECISION)
            .send()
            .await;
        match record {
            Ok(_) => Ok(out_of_stock),
            Err(e) if dynamo::is_conditional_check_failed(&e) => self
                .reservation(placed)
                .await?
                .ok_or_else(|| "reservation vanished".into()),
            Err(e) => Err(e.into()),
        }
    }

    /// The cups go back and the reservation is marked released in one transaction, so a
    /// redelivered or concurrent `OrderCancelled` finds it marked and adds nothing.
    async fn release_cups(&self, stock_name: &str, order_id: &str) -> Result<Release, Error> {
        let (reservation, released) = match self.decision(stock_name, order_id).await? {
            Some(decided) => decided,
            None => match self.withdraw(stock_name, order_id).await? {
                true => return Ok(Release::NothingReserved),
                // OrderPlaced was decided meanwhile: give back what it reserved.
                false => (self.decision(stock_name, order_id).await?).ok_or("reservation vanished")?,
            },
        };
        let Reservation::Reserved { cups } = reservation else {
            return Ok(Release::NothingReserved);
        };
        if released {
            return Ok(Release::Released { cups });
        }
        let now = s(clock::now().to_rfc3339());
        let mark_released = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(stock_name, &reservation_entry(order_id))))
            .update_expression("SET #released = :now")
            .condition_expression("attribute_exists(entry) AND attribute_not_exists(#released)")
            .expression_attribute_names("#released", RELEASED_AT)
            .expression_attribute_values(":now", now.clone())
            .build()?;
        let give_back = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(stock_name, STOCK_ENTRY)))
            .update_expression("SET qty = qty + :cups, updatedAt = :now")
            .condition_expression("attribute_exists(qty)")
            .expression_attribute_values(":cups", n(cups))
            .expression_attribute_values(":now", now)
            .build()?;
        let transaction = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(mark_released).build())
            .transact_items(TransactWriteItem::builder().update(give_back).build())
            .send()
            .await;
        let failed = dynamo::failed_conditions(transaction)?;
        if failed.is_empty() || failed.contains(&0) {
            // Released now, or by a concurrent delivery of the same event.
            return Ok(Release::Released { cups });
        }
        Err(format!("stock item {stock_name} vanished while giving back {cups} cups").into())
    }

    async fn cups_left(&self, stock_name: &str) -> Result<Option<u32>, Error> {
        Ok(StockLevels::get(self, stock_name).await?.map(|item| item.qty))
    }
}

/// The stock and the decisions in memory, for in-process tests of the saga step.
#[cfg(any(test, feature = "fakes"))]
pub mod fake {
    use super::*;
    use cafe_shared::fakes::Outage;
    use std::sync::Mutex;

    #[derive(Default)]
    pub struct MemoryInventory {
        /// The stock items by name.
        pub stock: Mutex<HashMap<String, StockItem>>,
        /// Order id: the decision recorded for it.
        pub decisions: Mutex<HashMap<String, Reservation>>,
        /// The orders whose cups were given back.
        pub released: Mutex<std::collections::HashSet<String>>,
        /// While down, every call fails (as a throttled or unreachable table does).
        pub down: Outage,
    }

    impl MemoryInventory {
        pub fn with_cups(cups: u32) -> Self {
            let store = Self::default();
            store.stock_up("cup", cups);
            store
        }

        /// Sets a stock item's level, making it if need be.
        pub fn stock_up(&self, stock_name: &str, qty: u32) {
            let item = StockItem {
                stock_name: stock_name.into(),
                qty,
                updated_at: clock::now(),
            };
            self.stock.lock().unwrap().insert(stock_name.into(), item);
        }

        pub fn cups(&self) -> Option<u32> {
            self.stock.lock().unwrap().get("cup").map(|item| item.qty)
        }

        fn reachable(&self) -> Result<(), Error> {
            self.down.check("the inventory table is unreachable")
        }
    }

    impl StockLevels for MemoryInventory {
        async fn create(&self, stock_name: &str, qty: u32) -> Result<Option<StockItem>, Error> {
            self.reachable()?;
            let mut stock = self.stock.lock().unwrap();
            if stock.contains_key(stock_name) {
                return Ok(None);
            }
            let item = StockItem {
                stock_name: stock_name.into(),
                qty,
                updated_at: clock::now(),
            };
            stock.insert(stock_name.into(), item.clone());
            Ok(Some(item))
        }

        async fn set_level(&self, stock_name: &str, qty: u32) -> Result<Option<StockItem>, Error> {
            self.reachable()?;
            let mut stock = self.stock.lock().unwrap();
            Ok(stock.get_mut(stock_name).map(|item| {
                item.qty = qty;
                item.updated_at = clock::now();
                item.clone()
            }))
        }

        async fn get(&self, stock_name: &str) -> Result<Option<StockItem>, Error> {
            self.reachable()?;
            Ok(self.stock.lock().unwrap().get(stock_name).cloned())
        }
    }

    impl CupReservations for MemoryInventory {
        async fn reserve_cups(&self, placed: &OrderPlaced) -> Result<Reservation, Error> {
            self.reachable()?;
            // One lock over both, as the store's transaction is one.
            let mut decisions = self.decisions.lock().unwrap();
            if let Some(decided) = decisions.get(&placed.order.order_id) {
                return Ok(decided.clone());
            }
            let cups = cups_needed(placed);
            let mut stock = self.stock.lock().unwrap();
            let decision = match stock.get_mut(&placed.stock_name) {
                Some(item) if item.qty >= cups => {
                    item.qty -= cups;
                    item.updated_at = clock::now();
                    Reservation::Reserved { cups }
                }
                item => Reservation::out_of_stock(&placed.stock_name, cups, item.map(|item| item.qty)),
            };
            decisions.insert(placed.order.order_id.clone(), decision.clone());
            Ok(decision)
        }

        async fn release_cups(&self, stock_name: &str, order_id: &str) -> Result<Release, Error> {
            self.reachable()?;
            let mut decisions = self.decisions.lock().unwrap();
            let decided = decisions.entry(order_id.to_string()).or_insert(Reservation::Withdrawn);
            let Reservation::Reserved { cups } = decided.clone() else {
                return Ok(Release::NothingReserved);
            };
            if self.released.lock().unwrap().insert(order_id.to_string()) {
                let mut stock = self.stock.lock().unwrap();
                let item = stock.get_mut(stock_name).ok_or("no such stock item")?;
                item.qty += cups;
                item.updated_at = clock::now();
            }
            Ok(Release::Released { cups })
        }

        async fn cups_left(&self, stock_name: &str) -> Result<Option<u32>, Error> {
            Ok(StockLevels::get(self, stock_name).await?.map(|item| item.qty))
        }
    }
}
