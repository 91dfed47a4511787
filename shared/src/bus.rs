//! Publishing saga events on the `cafe` EventBridge bus.

use crate::{Error, config, events::CafeEvent};
use aws_config::SdkConfig;

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
        Ok(Self {
            client: aws_sdk_eventbridge::Client::new(sdk),
            bus_name: config::required_env("EVENT_BUS_NAME")?,
            source: format!("cafe.{service}"),
        })
    }

    /// Publishes one event; see [`EventBus::publish_all`].
    pub async fn publish(&self, event: &CafeEvent) -> Result<(), Error> {
        self.publish_all(std::slice::from_ref(event)).await
    }

    /// Publishes events, ten to a `PutEvents` call (its limit). An entry EventBridge refuses is
    /// an error, so the caller's input is retried rather than the event silently lost.
    pub async fn publish_all(&self, events: &[CafeEvent]) -> Result<(), Error> {
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
                let why = out
                    .entries()
                    .iter()
                    .filter_map(|e| e.error_message())
                    .collect::<Vec<_>>()
                    .join("; ");
                return Err(format!(
                    "EventBridge refused {} of {} events: {why}",
                    out.failed_entry_count(),
                    chunk.len()
                )
                .into());
            }
            for event in chunk {
                tracing::info!(order_id = %event.order().order_id, detail_type = event.detail_type(), "event published");
            }
        }
        Ok(())
    }
}
