//! kiosk: the customers' screen. Keeps a read model of every order built from the saga's
//! events alone (CQRS) and serves it, with the kiosk web page, to the kiosk.

pub mod domain;
pub mod handlers;
pub mod store;

use cafe_shared::{Error, config};
use store::KioskStore;

/// What the kiosk function's handlers share across invocations, built once per cold start.
pub struct KioskService {
    pub store: KioskStore,
    pub credentials: cafe_shared::auth::Credentials,
}

impl KioskService {
    pub async fn from_env() -> Result<Self, Error> {
        let sdk = config::aws_sdk_config().await;
        Ok(Self {
            credentials: cafe_shared::auth::Credentials::from_env(&sdk),
            store: KioskStore::new(&sdk, config::required_env("KIOSK_TABLE")?),
        })
    }
}

cafe_shared::lambda_entry_points!(KioskService);
