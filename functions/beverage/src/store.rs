//! The beverages table (DynamoDB), keyed by `beverageId`.

use crate::domain::Beverage;
use aws_config::SdkConfig;
use aws_sdk_dynamodb::Client;
use cafe_shared::Error;
use cafe_shared::dynamo::{self, Page, PageRequest};

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

    /// Records a beverage unless its order already has one; returns the one on record.
    pub async fn record(&self, beverage: &Beverage) -> Result<Beverage, Error> {
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

    pub async fn get(&self, beverage_id: &str) -> Result<Option<Beverage>, Error> {
        let item = dynamo::get_item(&self.client, &self.table, dynamo::key("beverageId", beverage_id)).await?;
        Ok(item.map(serde_dynamo::from_item).transpose()?)
    }

    /// A page of the beverages made (a page of the table, newest first within it).
    pub async fn list(&self, page: PageRequest) -> Result<Page<Beverage>, Error> {
        let found = dynamo::scan_page(&self.client, &self.table, page).await?;
        let mut beverages = found.try_map(serde_dynamo::from_item::<_, Beverage>)?;
        beverages.items.sort_by_key(|x| std::cmp::Reverse(x.made_at));
        Ok(beverages)
    }
}
