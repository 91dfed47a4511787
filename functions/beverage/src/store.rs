//! The beverages table (DynamoDB), keyed by `beverageId`.

use crate::domain::Beverage;
use aws_config::SdkConfig;
use aws_sdk_dynamodb::Client;
use cafe_shared::Error;
use cafe_shared::dynamo::{self, Page, PageRequest};
use std::future::Future;

/// The saga step's port: the beverage made for an order, recorded once.
pub trait Beverages: Sync {
    fn get(&self, beverage_id: &str) -> impl Future<Output = Result<Option<Beverage>, Error>> + Send;

    /// Records a beverage unless its order already has one; returns the one on record.
    fn record(&self, beverage: &Beverage) -> impl Future<Output = Result<Beverage, Error>> + Send;
}

#[derive(Clone)]
pub struct BeverageStore {
    client: Client,
    table: String,
}

impl BeverageStore {
    pub fn new(sdk: &SdkConfig, table: String) -> Self {
        Self {
            client: Client::new(sdk),
            table,
        }
    }

    /// A page of the beverages made (a page of the table, newest first within it).
    pub async fn list(&self, page: PageRequest) -> Result<Page<Beverage>, Error> {
        let found = dynamo::scan_page(&self.client, &self.table, page).await?;
        let mut beverages = found.try_map(serde_dynamo::from_item::<_, Beverage>)?;
        beverages.items.sort_by_key(|x| std::cmp::Reverse(x.made_at));
        Ok(beverages)
    }
}

impl Beverages for BeverageStore {
    async fn record(&self, beverage: &Beverage) -> Result<Beverage, Error> {
        if dynamo::put_if_absent(
            &self.client,
            &self.table,
            serde_dynamo::to_item(beverage)?,
            "beverageId",
        )
        .await?
        {
            return Ok(beverage.clone());
        }
        self.get(&beverage.beverage_id)
            .await?
            .ok_or_else(|| "beverage vanished after a conflicting write".into())
    }

    async fn get(&self, beverage_id: &str) -> Result<Option<Beverage>, Error> {
        let item = dynamo::get_item(&self.client, &self.table, dynamo::key("beverageId", beverage_id)).await?;
        Ok(item.map(serde_dynamo::from_item).transpose()?)
    }
}

/// The beverages in memory, for in-process tests of the saga step.
#[cfg(test)]
pub mod fake {
    use super::*;
    use std::collections::HashMap;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicBool, Ordering};

    #[derive(Default)]
    pub struct MemoryBeverages {
        pub made: Mutex<HashMap<String, Beverage>>,
        /// While down, every call fails (as a throttled or unreachable table does).
        pub down: AtomicBool,
    }

    impl MemoryBeverages {
        fn reachable(&self) -> Result<(), Error> {
            match self.down.load(Ordering::SeqCst) {
                true => Err("the beverages table is unreachable".into()),
                false => Ok(()),
            }
        }
    }

    impl Beverages for MemoryBeverages {
        async fn get(&self, beverage_id: &str) -> Result<Option<Beverage>, Error> {
            self.reachable()?;
            Ok(self.made.lock().unwrap().get(beverage_id).cloned())
        }

        async fn record(&self, beverage: &Beverage) -> Result<Beverage, Error> {
            self.reachable()?;
            let mut made = self.made.lock().unwrap();
            Ok(made
                .entry(beverage.beverage_id.clone())
                .or_insert_with(|| beverage.clone())
                .clone())
        }
    }
}
