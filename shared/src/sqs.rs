//! Running one saga step over a batch of SQS messages that carry bus events, and setting aside
//! what can never succeed.

use crate::{Error, events::BusMessage};
use aws_config::SdkConfig;
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use aws_sdk_sqs::types::MessageAttributeValue;
use std::future::Future;
use tracing::Instrument;

/// Why a saga step did not finish with its input, which decides what happens to that input.
#[derive(Debug)]
pub enum StepError {
    /// May succeed later (throttling, a timeout, a table or the bus unreachable): the input is
    /// handed back and retried.
    Retry(Error),
    /// Can never succeed (unreadable, or about an order that does not exist, or an event the bus
    /// refuses as invalid): the input goes to the dead-letter queue at once, with this reason.
    Poison(String),
}

/// Anything an adapter fails with (an SDK error, a store's own error) is worth retrying unless
/// the step says otherwise.
impl<E: Into<Error>> From<E> for StepError {
    fn from(error: E) -> Self {
        StepError::Retry(error.into())
    }
}

impl std::fmt::Display for StepError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StepError::Retry(error) => write!(f, "{error}"),
            StepError::Poison(reason) => write!(f, "poison: {reason}"),
        }
    }
}

/// Where a consumer sets aside what it can never handle: its dead-letter queue, or a fake in tests.
pub trait SetAside: Sync {
    /// Sets `body` aside with the reason (and the order, when known).
    fn set_aside(
        &self,
        body: &str,
        order_id: Option<&str>,
        reason: &str,
    ) -> impl Future<Output = Result<(), Error>> + Send;
}

/// A consumer's dead-letter queue (`DEAD_LETTER_QUEUE_URL`), where its step puts poison itself
/// instead of letting it be retried until the queue's redrive policy gives up.
pub struct DeadLetterQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl DeadLetterQueue {
    /// The queue the template names.
    pub fn from_env(sdk: &SdkConfig) -> Result<Self, Error> {
        Ok(Self {
            client: aws_sdk_sqs::Client::new(sdk),
            url: crate::config::required_env("DEAD_LETTER_QUEUE_URL")?,
        })
    }
}

impl SetAside for DeadLetterQueue {
    /// Sends `body` with the reason (and the order, when known) as message attributes, which
    /// `localstack/dlq.py list` shows.
    async fn set_aside(&self, body: &str, order_id: Option<&str>, reason: &str) -> Result<(), Error> {
        let text = |value: &str| {
            MessageAttributeValue::builder()
                .data_type("String")
                .string_value(value)
                .build()
        };
        let mut send = self
            .client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .message_attributes("reason", text(reason)?);
        if let Some(order_id) = order_id.filter(|id| !id.is_empty()) {
            send = send.message_attributes("orderId", text(order_id)?);
        }
        send.send().await?;
        Ok(())
    }
}

/// Handles every message of the batch on its own and reports only the ones to retry
/// (`ReportBatchItemFailures`), so one bad message never sends its whole batch back. Poison (a
/// body that is not a cafe event, or a step's [`StepError::Poison`]) goes to the dead-letter
/// queue at once; if even that fails, the message is retried and the queue's redrive policy
/// dead-letters it later.
pub async fn handle_batch<F, Fut>(batch: SqsEvent, dead_letters: &impl SetAside, step: F) -> SqsBatchResponse
where
    F: Fn(BusMessage) -> Fut,
    Fut: Future<Output = Result<(), StepError>>,
{
    let step = &step;
    let results = futures::future::join_all(batch.records.into_iter().map(|record| async move {
        let message_id = record.message_id.clone().unwrap_or_default();
        let outcome = handle_message(record, dead_letters, step).await;
        (message_id, outcome)
    }))
    .await;

    let mut response = SqsBatchResponse::default();
    let messages = results.len();
    for (message_id, outcome) in results {
        if let Err(error) = outcome {
            tracing::error!(message_id, error = %error, "message failed; it will be retried");
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = message_id;
            response.batch_item_failures.push(failure);
        }
    }
    // One line per invocation, always: a record of each batch, and on MiniStack the output it
    // waits for after an invocation (up to 50 ms when a function printed nothing).
    let failed = response.batch_item_failures.len();
    tracing::info!(messages, failed, "batch handled");
    response
}

async fn handle_message<F, Fut>(record: SqsMessage, dead_letters: &impl SetAside, step: &F) -> Result<(), Error>
where
    F: Fn(BusMessage) -> Fut,
    Fut: Future<Output = Result<(), StepError>>,
{
    let body = record.body.as_deref().unwrap_or_default();
    let message: BusMessage = match serde_json::from_str(body) {
        Ok(message) => message,
        Err(e) => return dead_letter(dead_letters, body, None, &format!("message is not a cafe event: {e}")).await,
    };
    let order_id = message.event.order().order_id.clone();
    let span = tracing::info_span!(
        "event",
        order_id = %order_id,
        detail_type = message.event.detail_type(),
        event_id = %message.id,
    );
    match step(message).instrument(span).await {
        Ok(()) => Ok(()),
        Err(StepError::Retry(error)) => Err(error),
        Err(StepError::Poison(reason)) => dead_letter(dead_letters, body, Some(&order_id), &reason).await,
    }
}

async fn dead_letter(
    dead_letters: &impl SetAside,
    body: &str,
    order_id: Option<&str>,
    reason: &str,
) -> Result<(), Error> {
    dead_letters
        .set_aside(body, order_id, reason)
        .await
        .map_err(|e| format!("{reason}; and it could not be dead-lettered ({e})"))?;
    tracing::warn!(order_id, reason, "poison message dead-lettered; not retried");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adapter_errors_are_retried_and_only_a_step_calls_poison() {
        let from_adapter: StepError = serde_json::from_str::<u32>("x").unwrap_err().into();
        assert!(matches!(from_adapter, StepError::Retry(_)));
        let from_text: StepError = "the table is throttling".into();
        assert!(matches!(from_text, StepError::Retry(_)));
        assert_eq!(
            StepError::Poison("no order o-1".into()).to_string(),
            "poison: no order o-1"
        );
    }
}
