//! beverage: the beverage machine. Makes the beverages of each order whose cups were reserved
//! (`CupStockDecreased`) from the menu's recipes, keeps a record of each attempt, and answers
//! `BeverageMade`, or `BeverageFailed` when it cannot; keeps the ingredient levels and the
//! machine's in-service switch for the operator.

pub mod domain;
pub mod handlers;
pub mod saga;
pub mod store;

use cafe_shared::{Error, bus::EventBus, config};
use std::time::Duration;
use store::BeverageStore;

/// The beverage API Lambda's state, built once per cold start.
pub struct BeverageApi {
    pub store: BeverageStore,
    pub credentials: cafe_shared::auth::Credentials,
}

impl BeverageApi {
    pub async fn from_env() -> Result<Self, Error> {
        let sdk = config::aws_sdk_config().await;
        Ok(Self {
            store: store_from_env(&sdk)?,
            credentials: cafe_shared::auth::Credentials::from_env(&sdk)?,
        })
    }
}

/// The beverage saga Lambda's state, built once per cold start.
pub struct BeverageSaga {
    pub store: BeverageStore,
    pub bus: EventBus,
    /// Where the saga step sets aside the events it can never handle.
    pub dead_letters: cafe_shared::sqs::DeadLetterQueue,
    /// The recipes the machine follows (`MENU`).
    pub menu: cafe_shared::menu::Menu,
    /// Simulated brewing time per order (`BREW_SECONDS`).
    pub brew_time: Duration,
}

impl BeverageSaga {
    pub async fn from_env() -> Result<Self, Error> {
        let sdk = config::aws_sdk_config().await;
        Ok(Self {
            store: store_from_env(&sdk)?,
            bus: EventBus::from_env(&sdk, "beverage")?,
            dead_letters: cafe_shared::sqs::DeadLetterQueue::from_env(&sdk)?,
            menu: cafe_shared::menu::Menu::from_json(&config::required_env("MENU")?)?,
            brew_time: Duration::try_from_secs_f64(config::number_or("BREW_SECONDS", 0.0)?)?,
        })
    }
}

fn store_from_env(sdk: &aws_config::SdkConfig) -> Result<BeverageStore, Error> {
    let (beverages, machine) = (
        config::required_env("BEVERAGES_TABLE")?,
        config::required_env("MACHINE_TABLE")?,
    );
    Ok(BeverageStore::new(sdk, beverages, machine))
}

cafe_shared::lambda_entry_points!(api: BeverageApi, saga: BeverageSaga);
