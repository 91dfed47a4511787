//! Text messages (SMS) through SNS, straight to a phone number: sign-in codes (the order
//! function) and order outcomes (notify). Who may be texted is decided before this is called.

use crate::Error;
use aws_config::SdkConfig;
use aws_sdk_sns::{Client, types::MessageAttributeValue};
use std::future::Future;

/// The port to texts: one message to one phone number.
pub trait SendText: Sync {
    /// Texts `message` to `phone_number` (E.164).
    fn send(&self, phone_number: &str, message: &str) -> impl Future<Output = Result<(), Error>> + Send;
}

#[derive(Clone)]
pub struct TextMessages {
    client: Client,
}

impl TextMessages {
    pub fn new(sdk: &SdkConfig) -> Self {
        Self {
            client: Client::new(sdk),
        }
    }
}

impl SendText for TextMessages {
    /// As a transactional message: sent even to numbers that opted out of promotions, and ahead
    /// of them.
    async fn send(&self, phone_number: &str, message: &str) -> Result<(), Error> {
        self.client
            .publish()
            .phone_number(phone_number)
            .message(message)
            .message_attributes("AWS.SNS.SMS.SMSType", text_attribute("Transactional")?)
            .send()
            .await?;
        Ok(())
    }
}

/// A string message attribute, as SNS takes them.
pub fn text_attribute(value: &str) -> Result<MessageAttributeValue, Error> {
    Ok(MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()?)
}
