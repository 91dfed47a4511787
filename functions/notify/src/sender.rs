//! Sending notifications through SNS: to the customer topic, with `customerId` and
//! `orderStatus` as message attributes for subscribers' filter policies, and as an SMS when
//! the order carries a phone number (only a proven one: see the order function's sign-in).

use crate::domain::Notification;
use aws_config::SdkConfig;
use aws_sdk_sns::Client;
use cafe_shared::Error;
use cafe_shared::sms::{SendText, TextMessages, text_attribute};
use std::future::Future;

/// The saga step's port: telling the customer.
pub trait Notify: Sync {
    /// Publishes to the customers' topic (and texts the phone, if any); returns the topic's
    /// message id.
    fn send(
        &self,
        notification: &Notification,
        phone_number: Option<&str>,
    ) -> impl Future<Output = Result<String, Error>> + Send;
}

#[derive(Clone)]
pub struct NotificationSender {
    client: Client,
    texts: TextMessages,
    topic_arn: String,
}

impl NotificationSender {
    pub fn new(sdk: &SdkConfig, topic_arn: String) -> Self {
        Self {
            client: Client::new(sdk),
            texts: TextMessages::new(sdk),
            topic_arn,
        }
    }
}

impl Notify for NotificationSender {
    async fn send(&self, notification: &Notification, phone_number: Option<&str>) -> Result<String, Error> {
        let published = self
            .client
            .publish()
            .topic_arn(&self.topic_arn)
            .subject(format!("Your order is {}", notification.order_status))
            .message(&notification.message)
            .message_attributes("customerId", text_attribute(&notification.customer_id)?)
            .message_attributes("orderStatus", text_attribute(&notification.order_status)?)
            .message_attributes("orderId", text_attribute(&notification.order_id)?)
            .send()
            .await?;
        if let Some(phone) = phone_number {
            self.texts.send(phone, &notification.message).await?;
        }
        Ok(published.message_id.unwrap_or_default())
    }
}

/// A sender that keeps what it sends, for in-process tests of the saga step.
#[cfg(any(test, feature = "fakes"))]
pub mod fake {
    use super::*;
    use cafe_shared::fakes::Outage;
    use std::sync::Mutex;

    #[derive(Default)]
    pub struct FakeSender {
        /// What went out: the message, and the number texted.
        pub sent: Mutex<Vec<(String, Option<String>)>>,
        /// While down, every send fails (as SNS throttling does).
        pub down: Outage,
    }

    impl Notify for FakeSender {
        async fn send(&self, notification: &Notification, phone_number: Option<&str>) -> Result<String, Error> {
            self.down.check("SNS is throttling")?;
            let mut sent = self.sent.lock().unwrap();
            sent.push((notification.message.clone(), phone_number.map(Into::into)));
            Ok(format!("sns-{}", sent.len()))
        }
    }
}
