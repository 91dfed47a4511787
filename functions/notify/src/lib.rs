//! notify: tells the customer how their order ended (`OrderCancelled`, `OrderCompleted`): one
//! notification per order, kept in its own table and sent through SNS (SMS when the order has a
//! phone number), then `CustomerNotified`.

pub mod domain;
pub mod handlers;
pub mod saga;
pub mod sender;
pub mod store;

use cafe_shared::{Error, bus::EventBus, config};
use sender::NotificationSender;
use store::NotificationStore;

/// The notify API Lambda's state, built once per cold start.
pub struct NotifyApi {
    pub store: NotificationStore,
    pub credentials: cafe_shared::auth::Credentials,
}

impl NotifyApi {
    pub async fn from_env() -> Result<Self, Error> {
        let sdk = config::aws_sdk_config().await;
        Ok(Self {
            store: NotificationStore::new(&sdk, config::required_env("NOTIFICATIONS_TABLE")?),
            credentials: cafe_shared::auth::Credentials::from_env(&sdk)?,
        })
    }
}

/// The notify saga Lambda's state, built once per cold start.
pub struct NotifySaga {
    pub store: NotificationStore,
    pub sender: NotificationSender,
    pub bus: EventBus,
    /// Where the saga step sets aside the events it can never handle.
    pub dead_letters: cafe_shared::sqs::DeadLetterQueue,
}

impl NotifySaga {
    pub async fn from_env() -> Result<Self, Error> {
        let sdk = config::aws_sdk_config().await;
        Ok(Self {
            store: NotificationStore::new(&sdk, config::required_env("NOTIFICATIONS_TABLE")?),
            sender: NotificationSender::new(&sdk, config::required_env("NOTIFICATION_TOPIC_ARN")?),
            bus: EventBus::from_env(&sdk, "notify")?,
            dead_letters: cafe_shared::sqs::DeadLetterQueue::from_env(&sdk)?,
        })
    }
}

cafe_shared::lambda_entry_points!(api: NotifyApi, saga: NotifySaga);
