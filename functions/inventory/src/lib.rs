//! inventory: keeps the cup stock (`/inventories`) and reserves one cup per beverage for each
//! `OrderPlaced`, atomically and never below zero, answering `CupStockDecreased` or `CupOutOfStock`.

pub mod domain;
pub mod handlers;
pub mod saga;
pub mod store;

use cafe_shared::{Error, bus::EventBus, config};
use store::InventoryStore;

/// What the inventory function's handlers share across invocations, built once per cold start.
pub struct InventoryService {
    /// Where the saga step sets aside the events it can never handle.
    pub dead_letters: cafe_shared::sqs::DeadLetterQueue,
    pub store: InventoryStore,
    pub bus: EventBus,
    pub credentials: cafe_shared::auth::Credentials,
}

impl InventoryService {
    pub async fn from_env() -> Result<Self, Error> {
        let sdk = config::aws_sdk_config().await;
        Ok(Self {
            dead_letters: cafe_shared::sqs::DeadLetterQueue::from_env(&sdk),
            credentials: cafe_shared::auth::Credentials::from_env(&sdk),
            store: InventoryStore::new(&sdk, config::required_env("INVENTORY_TABLE")?),
            bus: EventBus::from_env(&sdk, "inventory")?,
        })
    }
}

cafe_shared::lambda_entry_points!(InventoryService);
