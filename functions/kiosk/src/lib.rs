//! kiosk: the customers' screen. Keeps a read model of every order built from the saga's
//! events alone (CQRS) and serves it, with the kiosk web page, the receipt page and the pickup
//! screen; the pages watch their order or the pickup screen live over the WebSocket API.

pub mod domain;
pub mod handlers;
pub mod live;
pub mod pages;
pub mod saga;
pub mod store;

use cafe_shared::menu::Menu;
use cafe_shared::{Error, config};
use store::KioskStore;

/// What the kiosk function's handlers share across invocations, built once per cold start.
pub struct KioskService {
    /// Where the saga step sets aside the events it can never handle.
    pub dead_letters: cafe_shared::sqs::DeadLetterQueue,
    pub store: KioskStore,
    /// Who watches what live, and sending to them.
    pub live: live::LiveConnections,
    /// Where the pages open their live connection (none: they look every few seconds).
    pub live_url: Option<String>,
    /// The OpenAPI document as this stack runs (its menu, the countries it texts).
    pub openapi: String,
    pub credentials: cafe_shared::auth::Credentials,
    /// How long an operator's page session lasts (`OPERATOR_SESSION_SECONDS`).
    pub operator_session: std::time::Duration,
}

impl KioskService {
    pub async fn from_env() -> Result<Self, Error> {
        let sdk = config::aws_sdk_config().await;
        Ok(Self {
            dead_letters: cafe_shared::sqs::DeadLetterQueue::from_env(&sdk),
            credentials: cafe_shared::auth::Credentials::from_env(&sdk),
            store: KioskStore::new(&sdk, config::required_env("KIOSK_TABLE")?),
            live: live::LiveConnections::from_env(&sdk)?,
            live_url: live::page_url(&sdk),
            openapi: match std::env::var("MENU") {
                Ok(menu) => pages::deployed_openapi(&Menu::from_json(&menu)?.names(), &config::text_country_codes()),
                Err(_) => pages::OPENAPI.to_string(),
            },
            operator_session: std::time::Duration::from_secs(
                std::env::var("OPERATOR_SESSION_SECONDS")
                    .ok()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(900),
            ),
        })
    }
}

cafe_shared::lambda_entry_points!(KioskService);

/// The `kiosk-live` Lambda: the WebSocket API's routes, until the runtime stops.
pub fn run_live() -> Result<(), Error> {
    cafe_shared::lambda::block_on(async {
        let service = KioskService::from_env().await?;
        lambda_runtime::run(lambda_runtime::service_fn(|event: lambda_runtime::LambdaEvent<_>| {
            handlers::live(&service, event.payload)
        }))
        .await
    })
}
