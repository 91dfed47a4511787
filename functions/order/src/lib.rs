//! order: takes the customer's order (`POST /orders`), serves the menu and the orders, and
//! moves each order to `cancelled` (on `CupOutOfStock`) or `completed` (on `BeverageMade`).

pub mod domain;
pub mod handlers;
pub mod store;

use cafe_shared::{Error, auth::Credentials, bus::EventBus, config};
use domain::Menu;
use store::OrderStore;

/// What the order function's handlers share across invocations, built once per cold start.
pub struct OrderService {
    /// Where the saga step sets aside the events it can never handle.
    pub dead_letters: cafe_shared::sqs::DeadLetterQueue,
    pub store: OrderStore,
    pub bus: EventBus,
    pub menu: Menu,
    pub credentials: Credentials,
    /// Orders one customer may place in a minute.
    pub max_orders_per_minute: u32,
}

impl OrderService {
    pub async fn from_env() -> Result<Self, Error> {
        let sdk = config::aws_sdk_config().await;
        Ok(Self {
            dead_letters: cafe_shared::sqs::DeadLetterQueue::from_env(&sdk),
            store: OrderStore::new(
                &sdk,
                config::required_env("ORDERS_TABLE")?,
                std::env::var("CUSTOMERS_TABLE").unwrap_or_default(),
            ),
            bus: EventBus::from_env(&sdk, "order")?,
            menu: Menu::from_json(&config::required_env("MENU")?)?,
            credentials: Credentials::from_env(&sdk),
            max_orders_per_minute: std::env::var("MAX_ORDERS_PER_MINUTE")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(20),
        })
    }
}

cafe_shared::lambda_entry_points!(OrderService);

/// The `order-outbox` Lambda: announces the orders table's changes until the runtime stops.
pub fn run_outbox() -> Result<(), Error> {
    cafe_shared::lambda::block_on(async {
        let service = OrderService::from_env().await?;
        lambda_runtime::run(lambda_runtime::service_fn(|event: lambda_runtime::LambdaEvent<_>| {
            handlers::outbox(&service, event.payload)
        }))
        .await
    })
}
