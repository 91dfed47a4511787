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

/// What the notify function's handlers share across invocations, built once per cold start.
pub struct NotifyService {
    /// Where the saga step sets aside the events it can never handle.
    pub dead_letters: cafe_shared::sqs::DeadLetterQueue,
    pub store: NotificationStore,
    pub sender: NotificationSender,
    pub bus: EventBus,
    pub credentials: cafe_shared::auth::Credentials,
}

impl NotifyService {
    pub async fn from_env() -> Result<Self, Error> {
        let sdk = config::aws_sdk_config().await;
        Ok(Self {
            dead_letters: cafe_shared::sqs::DeadLetterQueue::from_env(&sdk),
            credentials: cafe_shared::auth::Credentials::from_env(&sdk),
            store: NotificationStore::new(&sdk, config::required_env("NOTIFICATIONS_TABLE")?),
            sender: NotificationSender::new(&sdk, config::required_env("NOTIFICATION_TOPIC_ARN")?),
            bus: EventBus::from_env(&sdk, "notify")?,
        })
    }
}

cafe_shared::lambda_entry_points!(NotifyService);
