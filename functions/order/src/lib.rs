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

/// The order API Lambda's state, built once per cold start.
pub struct OrderApi {
    pub store: OrderStore,
    pub menu: Menu,
    /// The cafe's currency (ISO 4217, `CURRENCY`), in whose minor units prices are.
    pub currency: String,
    /// Whether a kiosk's or a customer's order must be paid for with it (`REQUIRE_PAYMENT`).
    pub payment_required: bool,
    pub credentials: Credentials,
    /// Sign-in codes go out as texts.
    pub texts: cafe_shared::sms::TextMessages,
    /// Orders a customer, a kiosk and the cafe may take, and texts a phone number may get.
    pub limits: OrderLimits,
    /// How long a kiosk order's receipt shows the order (`RECEIPT_SECONDS`).
    pub receipt_lifetime: chrono::Duration,
    /// How long a new customer's token lasts (`CUSTOMER_TOKEN_SECONDS`).
    pub customer_token_lifetime: chrono::Duration,
}

impl OrderApi {
    pub async fn from_env() -> Result<Self, Error> {
        let sdk = config::aws_sdk_config().await;
        let seconds = |name, default: i64| config::number_or(name, default).map(chrono::Duration::seconds);
        Ok(Self {
            store: store_from_env(&sdk)?,
            menu: Menu::from_json(&config::required_env("MENU")?)?,
            currency: currency(std::env::var("CURRENCY").ok())?,
            payment_required: config::required_env("REQUIRE_PAYMENT")? != "false",
            credentials: Credentials::from_env(&sdk)?,
            texts: cafe_shared::sms::TextMessages::new(&sdk),
            limits: OrderLimits {
                orders_per_minute: config::number_or("MAX_ORDERS_PER_MINUTE", 20)?,
                orders_per_kiosk_per_minute: config::number_or("MAX_ORDERS_PER_KIOSK_PER_MINUTE", 30)?,
                texts_per_hour: config::number_or("MAX_TEXTS_PER_NUMBER_PER_HOUR", 5)?,
                codes_per_number_per_hour: config::number_or("MAX_CODES_PER_NUMBER_PER_HOUR", 3)?,
                texts_per_caller_per_hour: config::number_or("MAX_TEXTS_PER_CALLER_PER_HOUR", 5)?,
                texts_per_kiosk_per_hour: config::number_or("MAX_TEXTS_PER_KIOSK_PER_HOUR", 60)?,
                texts_per_cafe_per_hour: config::number_or("MAX_TEXTS_PER_CAFE_PER_HOUR", 200)?,
                text_country_codes: config::text_country_codes(),
                max_orders_in_progress: config::number_or("MAX_ORDERS_IN_PROGRESS", 100)?,
                beverages_per_order: config::number_or("MAX_BEVERAGES_PER_ORDER", 20)?,
                cups_per_customer_per_hour: config::number_or("MAX_CUPS_PER_CUSTOMER_PER_HOUR", 60)?,
                orders_in_progress_per_customer: config::number_or("MAX_ORDERS_IN_PROGRESS_PER_CUSTOMER", 5)?,
            },
            receipt_lifetime: seconds("RECEIPT_SECONDS", 7200)?,
            customer_token_lifetime: seconds("CUSTOMER_TOKEN_SECONDS", 30 * 24 * 3600)?,
        })
    }
}

/// The cafe's currency: three capital letters (ISO 4217), KRW when none is set.
fn currency(set: Option<String>) -> Result<String, Error> {
    match set.filter(|code| !code.is_empty()) {
        None => Ok("KRW".into()),
        Some(code) if code.len() == 3 && code.chars().all(|c| c.is_ascii_uppercase()) => Ok(code),
        Some(code) => Err(format!("CURRENCY must be an ISO 4217 code such as KRW, not {code:?}").into()),
    }
}

/// The order saga Lambda's state: the order's moves.
pub struct OrderSaga {
    pub store: OrderStore,
    /// Where the saga step sets aside the events it can never handle.
    pub dead_letters: cafe_shared::sqs::DeadLetterQueue,
}

impl OrderSaga {
    pub async fn from_env() -> Result<Self, Error> {
        let sdk = config::aws_sdk_config().await;
        Ok(Self {
            store: store_from_env(&sdk)?,
            dead_letters: cafe_shared::sqs::DeadLetterQueue::from_env(&sdk)?,
        })
    }
}

/// The `order-outbox` Lambda's state: it announces the orders table's changes.
pub struct OrderOutbox {
    pub bus: EventBus,
    /// Where a change that can never be announced goes (the on-failure queue).
    pub dead_letters: cafe_shared::sqs::DeadLetterQueue,
    /// Where each order's deadline starts.
    pub deadlines: deadlines::DeadlineQueue,
}

impl OrderOutbox {
    pub async fn from_env() -> Result<Self, Error> {
        let sdk = config::aws_sdk_config().await;
        Ok(Self {
            bus: EventBus::from_env(&sdk, "order")?,
            dead_letters: cafe_shared::sqs::DeadLetterQueue::from_env(&sdk)?,
            deadlines: deadlines::DeadlineQueue::from_env(&sdk)?,
        })
    }
}

fn store_from_env(sdk: &aws_config::SdkConfig) -> Result<OrderStore, Error> {
    let (orders, customers) = (
        config::required_env("ORDERS_TABLE")?,
        config::required_env("CUSTOMERS_TABLE")?,
    );
    Ok(OrderStore::new(sdk, orders, customers))
}

cafe_shared::lambda_entry_points!(api: OrderApi, saga: OrderSaga);

/// The `order-outbox` Lambda: announces the orders table's changes until the runtime stops.
pub fn run_outbox() -> Result<(), Error> {
    cafe_shared::lambda::block_on(async {
        let state = OrderOutbox::from_env().await?;
        lambda_runtime::run(lambda_runtime::service_fn(|event: lambda_runtime::LambdaEvent<_>| {
            handlers::outbox(&state, event.payload)
        }))
        .await
    })
}
