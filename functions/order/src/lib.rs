//! order: takes the customer's order (`POST /orders`), serves the menu and the orders, keeps the
//! registered kiosks (`/kiosks`) and the customers who sign in with their phone (`/sign-in`), and
//! holds each order's lock: it moves the order as the saga, the customer (`POST
//! /orders/{orderId}/cancel`) and the order's deadline ask, each move from one status only.

pub mod deadlines;
pub mod domain;
pub mod handlers;
pub mod saga;
pub mod store;
pub mod use_cases;

use cafe_shared::{Error, auth::Credentials, bus::EventBus, config};
use domain::{Menu, OrderLimits};
use store::OrderStore;

/// What the order function's handlers share across invocations, built once per cold start.
pub struct OrderService {
    /// Where the saga step sets aside the events it can never handle.
    pub dead_letters: cafe_shared::sqs::DeadLetterQueue,
    pub store: OrderStore,
    pub bus: EventBus,
    pub menu: Menu,
    pub credentials: Credentials,
    /// Sign-in codes go out as texts.
    pub texts: cafe_shared::sms::TextMessages,
    /// Orders a customer, and texts a phone number, may get.
    pub limits: OrderLimits,
    /// How long a kiosk order's receipt shows the order (`RECEIPT_SECONDS`).
    pub receipt_lifetime: chrono::Duration,
    /// How long a new customer's token lasts (`CUSTOMER_TOKEN_SECONDS`).
    pub customer_token_lifetime: chrono::Duration,
    /// Where the outbox starts each order's deadline.
    pub deadlines: deadlines::DeadlineQueue,
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
            texts: cafe_shared::sms::TextMessages::new(&sdk),
            deadlines: deadlines::DeadlineQueue::from_env(&sdk)?,
            receipt_lifetime: chrono::Duration::seconds(number_from_env("RECEIPT_SECONDS", 7200).into()),
            customer_token_lifetime: chrono::Duration::seconds(
                number_from_env("CUSTOMER_TOKEN_SECONDS", 30 * 24 * 3600).into(),
            ),
            limits: OrderLimits {
                orders_per_minute: number_from_env("MAX_ORDERS_PER_MINUTE", 20),
                orders_per_kiosk_per_minute: number_from_env("MAX_ORDERS_PER_KIOSK_PER_MINUTE", 30),
                texts_per_hour: number_from_env("MAX_TEXTS_PER_NUMBER_PER_HOUR", 5),
                text_country_codes: config::text_country_codes(),
                max_orders_in_progress: number_from_env("MAX_ORDERS_IN_PROGRESS", 100),
            },
        })
    }
}

/// A whole number the template sets, or `default`.
fn number_from_env(name: &str, default: u32) -> u32 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
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
