//! Publishing saga events on the `cafe` EventBridge bus.

use crate::{Error, config, events::CafeEvent, sqs::StepError};
use aws_config::SdkConfig;
use std::future::Future;

/// Where a saga step announces what it did: the bus ([`EventBus`]), or a fake in tests.
pub trait Publish: Sync {
    /// Publishes events in order; an error says whether the step should be retried or the
    /// input is poison. Nothing is taken as announced unless this returns `Ok`.
    fn publish_all(&self, events: &[CafeEvent]) -> impl Future<Output = Result<(), StepError>> + Send;

    fn publish(&self, event: &CafeEvent) -> impl Future<Output = Result<(), StepError>> + Send {
        self.publish_all(std::slice::from_ref(event))
    }
}

/// One function's publisher: every event it sends carries `source` `cafe.<service>`.
#[derive(Clone)]
pub struct EventBus {
    client: aws_sdk_eventbridge::Client,
    bus_name: String,
    source: String,
}

impl EventBus {
    /// The bus named by `EVENT_BUS_NAME`, publishing as `cafe.<service>`.
    pub fn from_env(sdk: &SdkConfig, service: &str) -> Result<Self, Error> {
        Ok(Self::new(sdk, config::required_env("EVENT_BUS_NAME")?, service))
    }

    /// The bus `bus_name`, publishing as `cafe.<service>`.
    pub fn new(sdk: &SdkConfig, bus_name: String, service: &str) -> Self {
        Self {
            client: aws_sdk_eventbridge::Client::new(sdk),
            bus_name,
            source: format!("cafe.{service}"),
        }
    }
}

impl Publish for EventBus {
    /// Publishes events in order, ten to a `PutEvents` call (its limit). An entry EventBridge
    /// refuses is an error, so the caller's input is never taken as announced: retried when the
    /// refusal may pass (throttling, a failure of its own, missing permissions that an operator
    /// can grant), poison when that event can never be accepted (invalid or malformed).
    async fn publish_all(&self, events: &[CafeEvent]) -> Result<(), StepError> {
        for chunk in events.chunks(10) {
            let entries = chunk
                .iter()
                .map(|event| {
                    aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
                        .event_bus_name(&self.bus_name)
                        .source(&self.source)
                        .detail_type(event.detail_type())
                        .detail(event.detail_json())
                        .build()
                })
                .collect();
            let out = self.client.put_events().set_entries(Some(entries)).send().await?;
            if out.failed_entry_count() > 0 {
                let refused: Vec<_> = out.entries().iter().filter(|e| e.error_code().is_some()).collect();
                let why = refused
                    .iter()
                    .map(|e| format!("{}: {}", e.error_code().unwrap_or("?"), e.error_message().unwrap_or("")))
                    .collect::<Vec<_>>()
                    .join("; ");
                let why = format!("EventBridge refused {} of {} events: {why}", refused.len(), chunk.len());
                return Err(match refused.iter().all(|e| is_invalid_event(e.error_code())) {
                    true => StepError::Poison(why),
                    false => StepError::Retry(why.into()),
                });
            }
            for event in chunk {
                tracing::info!(order_id = %event.order().order_id, detail_type = event.detail_type(), "event published");
            }
        }
        Ok(())
    }
}

/// The refusals of an entry that no retry can change: the event itself is not acceptable.
fn is_invalid_event(error_code: Option<&str>) -> bool {
    matches!(
        error_code,
        Some("InvalidArgument" | "MalformedDetail" | "RedactionFailure")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_refusal_of_the_event_itself_is_poison() {
        for code in ["InvalidArgument", "MalformedDetail", "RedactionFailure"] {
            assert!(is_invalid_event(Some(code)), "{code}");
        }
        // These may pass later: the bus recovers, or an operator grants the permission.
        for code in [
            "ThrottlingException",
            "InternalFailure",
            "AccessDeniedException",
            "NotAuthorizedForSourceException",
            "ResourceNotFoundException",
        ] {
            assert!(!is_invalid_event(Some(code)), "{code}");
        }
        assert!(!is_invalid_event(None));
    }
}
