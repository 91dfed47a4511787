//! inventory: keeps the cup stock (`/inventories`) and reserves one cup per beverage for each
//! `OrderPlaced`, atomically and never below zero, answering `CupStockDecreased` or `CupOutOfStock`.

pub mod domain;
pub mod handlers;
pub mod store;

use cafe_shared::{Error, bus::EventBus, config};
use store::InventoryStore;

/// What the inventory function's handlers share across invocations, built once per cold start.
pub struct InventoryService {
    pub store: InventoryStore,
    pub bus: EventBus,
    pub credentials: cafe_shared::auth::Credentials,
}

impl InventoryService {
    pub async fn from_env() -> Result<Self, Error> {
        let sdk = config::aws_sdk_config().await;
        Ok(Self {
            credentials: cafe_shared::auth::Credentials::from_env(&sdk),
            store: InventoryStore::new(&sdk, config::required_env("INVENTORY_TABLE")?),
            bus: EventBus::from_env(&sdk, "inventory")?,
        })
    }
}

cafe_shared::lambda_entry_points!(InventoryService);
