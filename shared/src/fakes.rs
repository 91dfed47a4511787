//! In-memory stand-ins for the shared ports (the bus, a dead-letter queue) and the inputs a saga
//! step receives, for in-process tests of each function's steps (the `fakes` feature).

pub mod api;

use crate::Error;
use crate::bus::Publish;
use crate::events::CafeEvent;
use crate::sqs::{SetAside, StepError};
use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// The switch every fake port is taken down with: while down, each call fails as a throttled or
/// unreachable service does, with that fake's own words.
#[derive(Default)]
pub struct Outage(AtomicBool);

impl Outage {
    pub fn set(&self, down: bool) {
        self.0.store(down, Ordering::SeqCst);
    }

    /// `Err(failure)` while down.
    pub fn check(&self, failure: &str) -> Result<(), Error> {
        match self.0.load(Ordering::SeqCst) {
            true => Err(failure.into()),
            false => Ok(()),
        }
    }
}

/// A bus that keeps what is published, and can be taken down (as a throttling bus refuses).
#[derive(Default)]
pub struct FakeBus {
    published: Mutex<Vec<CafeEvent>>,
    down: Outage,
}

impl FakeBus {
    pub fn published(&self) -> Vec<CafeEvent> {
        self.published.lock().unwrap().clone()
    }

    /// While down, every publish fails with a retryable error and nothing goes out.
    pub fn set_down(&self, down: bool) {
        self.down.set(down);
    }
}

impl Publish for FakeBus {
    async fn publish_all(&self, events: &[CafeEvent]) -> Result<(), StepError> {
        self.down.check("the bus is throttling").map_err(StepError::Retry)?;
        self.published.lock().unwrap().extend_from_slice(events);
        Ok(())
    }
}

/// Texts kept instead of sent: `(phone number, message)`; while down, sending fails.
#[derive(Default)]
pub struct FakeTexts {
    sent: Mutex<Vec<(String, String)>>,
    pub down: Outage,
}

impl FakeTexts {
    pub fn sent(&self) -> Vec<(String, String)> {
        self.sent.lock().unwrap().clone()
    }
}

impl crate::sms::SendText for FakeTexts {
    async fn send(&self, phone_number: &str, message: &str) -> Result<(), Error> {
        self.down.check("SNS is unreachable")?;
        (self.sent.lock().unwrap()).push((phone_number.into(), message.into()));
        Ok(())
    }
}

/// Customers signed out everywhere and revoked kiosks: the tokens they end no longer hold.
#[derive(Default)]
pub struct FakeSignOuts {
    pub revoked: Mutex<crate::auth::Revoked>,
    pub down: Outage,
}

impl crate::auth::SignOutList for FakeSignOuts {
    async fn has_signed_out(&self, customer_id: &str, kiosk_id: Option<&str>, token_ends: i64) -> Result<bool, Error> {
        self.down.check("the token checks are unreachable")?;
        Ok((self.revoked.lock().unwrap()).ends_customer_token(customer_id, kiosk_id, token_ends))
    }
}

/// A dead-letter queue that keeps what is set aside: `(body, order id, reason)`.
#[derive(Default)]
pub struct FakeDeadLetters {
    set_aside: Mutex<Vec<(String, Option<String>, String)>>,
}

impl FakeDeadLetters {
    pub fn set_aside(&self) -> Vec<(String, Option<String>, String)> {
        self.set_aside.lock().unwrap().clone()
    }
}

impl SetAside for FakeDeadLetters {
    async fn set_aside(&self, body: &str, order_id: Option<&str>, reason: &str) -> Result<(), Error> {
        (self.set_aside.lock().unwrap()).push((body.into(), order_id.map(Into::into), reason.into()));
        Ok(())
    }
}

/// `event` in the EventBridge envelope, as a queue's message body carries it.
pub fn envelope(event: &CafeEvent) -> String {
    envelope_as(
        event,
        &uuid::Uuid::new_v4().to_string(),
        "cafe.test",
        "2026-12-01T10:00:00Z",
    )
}

/// `event` in the EventBridge envelope with this id, source and time.
pub fn envelope_as(event: &CafeEvent, id: &str, source: &str, time: &str) -> String {
    let tagged = serde_json::to_value(event).expect("events always serialize");
    serde_json::json!({
        "version": "0", "id": id, "source": source,
        "account": "000000000000", "time": time, "region": "us-east-1", "resources": [],
        "detail-type": tagged["detail-type"], "detail": tagged["detail"],
    })
    .to_string()
}

/// A batch of messages with these bodies, as the event source mapping delivers it; message `i`
/// has the id `m<i>`.
pub fn sqs_batch(bodies: &[String]) -> SqsEvent {
    let mut batch = SqsEvent::default();
    batch.records = (bodies.iter().enumerate())
        .map(|(i, body)| {
            let mut message = SqsMessage::default();
            message.message_id = Some(format!("m{i}"));
            message.body = Some(body.clone());
            message
        })
        .collect();
    batch
}
