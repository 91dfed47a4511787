//! kiosk: the customers' screen. Keeps a read model of every order built from the saga's
//! events alone (CQRS) and serves it, with the kiosk web page, the receipt page and the pickup
//! screen; the pages watch their order or the pickup screen live over the WebSocket API.

pub mod alerts;
pub mod day;
pub mod dead_letters;
pub mod domain;
pub mod handlers;
pub mod live;
pub mod pages;
pub mod saga;
pub mod store;

use cafe_shared::menu::Menu;
use cafe_shared::{Error, config};
use store::KioskStore;

/// The kiosk API Lambda's state, built once per cold start.
pub struct KioskApi {
    pub store: KioskStore,
    pub credentials: cafe_shared::auth::Credentials,
    /// Where the pages open their live connection (none: they look every few seconds).
    pub live_url: Option<String>,
    /// The OpenAPI document as this stack runs (its menu, the countries it texts).
    pub openapi: String,
    /// How long an operator's page session lasts (`OPERATOR_SESSION_SECONDS`).
    pub operator_session: std::time::Duration,
    /// The saga's dead-letter queues, whose waiting messages the operator's page shows.
    pub dead_letters: dead_letters::DeadLetterQueues,
    /// What each beverage takes, for the day's rates of use.
    pub menu: Menu,
}

impl KioskApi {
    pub async fn from_env() -> Result<Self, Error> {
        let sdk = config::aws_sdk_config().await;
        let menu = Menu::from_json(&config::required_env("MENU")?)?;
        Ok(Self {
            store: KioskStore::new(&sdk, config::required_env("KIOSK_TABLE")?),
            credentials: cafe_shared::auth::Credentials::from_env(&sdk)?,
            live_url: live::page_url(&sdk),
            openapi: pages::deployed_openapi(&menu.names(), &config::text_country_codes()),
            operator_session: std::time::Duration::from_secs(config::number_or("OPERATOR_SESSION_SECONDS", 900)?),
            dead_letters: dead_letters::DeadLetterQueues::from_env(&sdk)?,
            menu,
        })
    }
}

/// The kiosk saga Lambda's state, built once per cold start.
pub struct KioskSaga {
    pub store: KioskStore,
    /// Who watches what live, and sending to them.
    pub live: live::LiveConnections,
    /// Where the saga step sets aside the events it can never handle.
    pub dead_letters: cafe_shared::sqs::DeadLetterQueue,
    /// Who signed out everywhere: their pages are closed.
    pub sign_outs: cafe_shared::auth::SignOuts,
    /// Where the operator's alerts go.
    pub alerts: alerts::AlertTopic,
    /// What each beverage takes, for the rates the alerts are judged by.
    pub menu: Menu,
}

impl KioskSaga {
    pub async fn from_env() -> Result<Self, Error> {
        let sdk = config::aws_sdk_config().await;
        Ok(Self {
            store: KioskStore::new(&sdk, config::required_env("KIOSK_TABLE")?),
            live: live::LiveConnections::from_env(&sdk)?,
            dead_letters: cafe_shared::sqs::DeadLetterQueue::from_env(&sdk)?,
            sign_outs: cafe_shared::auth::SignOuts::from_env(&sdk)?,
            alerts: alerts::AlertTopic::from_env(&sdk)?,
            menu: Menu::from_json(&config::required_env("MENU")?)?,
        })
    }
}

/// The `kiosk-live` Lambda's state: the WebSocket API's routes.
pub struct KioskLive {
    pub store: KioskStore,
    pub live: live::LiveConnections,
    pub credentials: cafe_shared::auth::Credentials,
}

impl KioskLive {
    pub async fn from_env() -> Result<Self, Error> {
        let sdk = config::aws_sdk_config().await;
        Ok(Self {
            store: KioskStore::new(&sdk, config::required_env("KIOSK_TABLE")?),
            live: live::LiveConnections::from_env(&sdk)?,
            credentials: cafe_shared::auth::Credentials::from_env(&sdk)?,
        })
    }
}

cafe_shared::lambda_entry_points!(api: KioskApi, saga: KioskSaga);

/// The `kiosk-live` Lambda: the WebSocket API's routes, until the runtime stops.
pub fn run_live() -> Result<(), Error> {
    cafe_shared::lambda::block_on(async {
        let state = KioskLive::from_env().await?;
        lambda_runtime::run(lambda_runtime::service_fn(|event: lambda_runtime::LambdaEvent<_>| {
            handlers::live(&state, event.payload)
        }))
        .await
    })
}
