//! inventory: keeps the cup stock (`/inventories`) and reserves one cup per beverage for each
//! order whose payment is authorized (`PaymentAuthorized`), atomically and never below zero,
//! answering `CupStockDecreased` or `CupOutOfStock`.

pub mod domain;
pub mod handlers;
pub mod saga;
pub mod store;

use cafe_shared::{Error, bus::EventBus, config};
use store::InventoryStore;

/// The inventory API Lambda's state, built once per cold start.
pub struct InventoryApi {
    pub store: InventoryStore,
    pub credentials: cafe_shared::auth::Credentials,
}

impl InventoryApi {
    pub async fn from_env() -> Result<Self, Error> {
        let sdk = config::aws_sdk_config().await;
        Ok(Self {
            store: InventoryStore::new(&sdk, config::required_env("INVENTORY_TABLE")?),
            credentials: cafe_shared::auth::Credentials::from_env(&sdk)?,
        })
    }
}

/// The inventory saga Lambda's state, built once per cold start.
pub struct InventorySaga {
    pub store: InventoryStore,
    pub bus: EventBus,
    /// Where the saga step sets aside the events it can never handle.
    pub dead_letters: cafe_shared::sqs::DeadLetterQueue,
}

impl InventorySaga {
    pub async fn from_env() -> Result<Self, Error> {
        let sdk = config::aws_sdk_config().await;
        Ok(Self {
            store: InventoryStore::new(&sdk, config::required_env("INVENTORY_TABLE")?),
            bus: EventBus::from_env(&sdk, "inventory")?,
            dead_letters: cafe_shared::sqs::DeadLetterQueue::from_env(&sdk)?,
        })
    }
}

cafe_shared::lambda_entry_points!(api: InventoryApi, saga: InventorySaga);
