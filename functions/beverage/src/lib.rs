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

/// What the beverage function's handlers share across invocations, built once per cold start.
pub struct BeverageService {
    /// Where the saga step sets aside the events it can never handle.
    pub dead_letters: cafe_shared::sqs::DeadLetterQueue,
    pub store: BeverageStore,
    pub bus: EventBus,
    /// Simulated brewing time per order (`BREW_SECONDS`).
    pub brew_time: Duration,
    /// The recipes the machine follows (`MENU`).
    pub menu: cafe_shared::menu::Menu,
    pub credentials: cafe_shared::auth::Credentials,
}

impl BeverageService {
    pub async fn from_env() -> Result<Self, Error> {
        let sdk = config::aws_sdk_config().await;
        let brew_seconds: f64 = std::env::var("BREW_SECONDS").unwrap_or_else(|_| "0".into()).parse()?;
        Ok(Self {
            dead_letters: cafe_shared::sqs::DeadLetterQueue::from_env(&sdk),
            credentials: cafe_shared::auth::Credentials::from_env(&sdk),
            store: BeverageStore::new(
                &sdk,
                config::required_env("BEVERAGES_TABLE")?,
                config::required_env("MACHINE_TABLE")?,
            ),
            menu: cafe_shared::menu::Menu::from_json(&config::required_env("MENU")?)?,
            bus: EventBus::from_env(&sdk, "beverage")?,
            brew_time: Duration::try_from_secs_f64(brew_seconds)?,
        })
    }
}

cafe_shared::lambda_entry_points!(BeverageService);
