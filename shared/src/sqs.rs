//! Running one saga step over a batch of SQS messages that carry bus events.

use crate::{Error, events::BusMessage};
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use std::future::Future;
use tracing::Instrument;

/// Handles every message of the batch on its own and reports only the failed ones
/// (`ReportBatchItemFailures`), so one bad message never sends its whole batch back.
/// A body that is not a cafe event fails too: it is retried and then dead-lettered.
pub async fn handle_batch<F, Fut>(batch: SqsEvent, step: F) -> SqsBatchResponse
where
    F: Fn(BusMessage) -> Fut,
    Fut: Future<Output = Result<(), Error>>,
{
    let step = &step;
    let results = futures::future::join_all(batch.records.into_iter().map(|record| async move {
        let message_id = record.message_id.clone().unwrap_or_default();
        let outcome = handle_message(record, step).await;
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

async fn handle_message<F, Fut>(record: SqsMessage, step: &F) -> Result<(), Error>
where
    F: Fn(BusMessage) -> Fut,
    Fut: Future<Output = Result<(), Error>>,
{
    let body = record.body.as_deref().unwrap_or_default();
    let message: BusMessage = serde_json::from_str(body).map_err(|e| format!("message is not a cafe event: {e}"))?;
    let span = tracing::info_span!(
        "event",
        order_id = %message.event.order().order_id,
        detail_type = message.event.detail_type(),
        event_id = %message.id,
    );
    step(message).instrument(span).await
}
