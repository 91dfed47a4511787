//! Each order's deadline: a timer the outbox starts when it announces the order, as a message to
//! the order function's own queue that SQS holds back until the deadline (`DelaySeconds`, at most
//! 15 minutes, exact on the local cloud too).

use cafe_shared::Error;
use cafe_shared::events::{CafeEvent, OrderDeadlineReached, OrderSummary};
use chrono::{DateTime, Utc};
use std::future::Future;
use std::time::Duration;

/// The longest delay SQS holds a message back.
pub const MAX_DEADLINE: Duration = Duration::from_secs(900);

/// The outbox's port for starting deadlines.
pub trait Deadlines: Sync {
    /// How long an order may take from placing to ready.
    fn time_allowed(&self) -> Duration;

    /// Starts the order's deadline; starting it again (a retried batch) only sends a second
    /// timer, which finds the order moved and changes nothing.
    fn start(&self, order: &OrderSummary, placed_at: DateTime<Utc>) -> impl Future<Output = Result<(), Error>> + Send;
}

/// The timer as it reaches the order function: a cafe event in the bus's envelope.
pub fn timer_body(order: &OrderSummary, deadline: DateTime<Utc>) -> String {
    let event = CafeEvent::OrderDeadlineReached(OrderDeadlineReached {
        order: order.clone(),
        deadline,
    });
    serde_json::json!({
        "version": "0", "id": uuid::Uuid::new_v4().to_string(), "source": "cafe.order",
        "detail-type": event.detail_type(), "time": deadline.to_rfc3339(),
        "detail": serde_json::from_str::<serde_json::Value>(&event.detail_json()).expect("events serialize"),
    })
    .to_string()
}

/// The order queue (`ORDER_QUEUE_URL`) and how long an order may take (`ORDER_DEADLINE_SECONDS`).
pub struct DeadlineQueue {
    client: aws_sdk_sqs::Client,
    url: Option<String>,
    pub deadline: Duration,
}

impl DeadlineQueue {
    /// The queue the template names; only the outbox starts deadlines, so only it needs one.
    pub fn from_env(sdk: &aws_config::SdkConfig) -> Result<Self, Error> {
        let deadline = Duration::from_secs(cafe_shared::config::number_or("ORDER_DEADLINE_SECONDS", 300)?);
        if deadline > MAX_DEADLINE {
            return Err(format!("ORDER_DEADLINE_SECONDS is at most {}", MAX_DEADLINE.as_secs()).into());
        }
        let url = std::env::var("ORDER_QUEUE_URL").ok().filter(|url| !url.is_empty());
        Ok(Self::new(sdk, url, deadline))
    }

    pub fn new(sdk: &aws_config::SdkConfig, url: Option<String>, deadline: Duration) -> Self {
        Self {
            client: aws_sdk_sqs::Client::new(sdk),
            url,
            deadline,
        }
    }
}

impl Deadlines for DeadlineQueue {
    fn time_allowed(&self) -> Duration {
        self.deadline
    }

    async fn start(&self, order: &OrderSummary, placed_at: DateTime<Utc>) -> Result<(), Error> {
        let url = self.url.as_deref().ok_or("ORDER_QUEUE_URL is not set")?;
        let deadline = placed_at + self.deadline;
        // Counted from now, not from the placing: a timer started late (the outbox was behind)
        // fires late rather than early.
        let delay = self.deadline.as_secs() as i32;
        (self.client.send_message().queue_url(url))
            .message_body(timer_body(order, deadline))
            .delay_seconds(delay)
            .send()
            .await?;
        Ok(())
    }
}

/// The deadlines started, in memory, for in-process tests of the outbox.
#[cfg(any(test, feature = "fakes"))]
pub mod fake {
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    pub struct FakeDeadlines {
        pub started: Mutex<Vec<String>>,
    }

    impl Deadlines for FakeDeadlines {
        fn time_allowed(&self) -> Duration {
            Duration::from_secs(300)
        }

        async fn start(&self, order: &OrderSummary, _placed_at: DateTime<Utc>) -> Result<(), Error> {
            self.started.lock().unwrap().push(order.order_id.clone());
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cafe_shared::events::BusMessage;

    #[test]
    fn the_timer_reads_as_a_cafe_event_on_the_order_queue() {
        let order = OrderSummary {
            order_id: "o-1".into(),
            customer_id: "1".into(),
            beverage_name: "latte".into(),
            beverage_qty: 1,
            phone_number: None,
            order_number: None,
            lines: Vec::new(),
        };
        let deadline: DateTime<Utc> = "2026-12-01T10:05:00Z".parse().unwrap();
        let message: BusMessage = serde_json::from_str(&timer_body(&order, deadline)).unwrap();
        assert_eq!(
            message.event,
            CafeEvent::OrderDeadlineReached(OrderDeadlineReached { order, deadline })
        );
    }
}
