//! The payment function's entry point: the saga's events from its queue.

use crate::{PaymentSaga, saga};
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use cafe_shared::sqs;

/// `OrderPlaced`, `OrderMaking` and `OrderCancelled` (`saga`).
pub async fn saga_events(service: &PaymentSaga, batch: SqsEvent) -> SqsBatchResponse {
    sqs::handle_batch(batch, &service.dead_letters, |message| {
        saga::on_event(&service.store, &service.provider, &service.bus, message)
    })
    .await
}
