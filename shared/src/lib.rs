//! What every cafe function needs: the saga's event types and their bus envelope, AWS SDK
//! set-up, the HTTP error shape, SQS batch handling, structured logging and text messages (the
//! order function texts sign-in codes, notify texts order outcomes).

pub mod auth;
pub mod bus;
pub mod checks;
pub mod clock;
pub mod config;
pub mod dynamo;
pub mod events;
#[cfg(any(test, feature = "fakes"))]
pub mod fakes;
pub mod http;
pub mod lambda;
pub mod logging;
pub mod menu;
pub mod metrics;
pub mod sms;
pub mod sqs;

/// The error type of handlers and adapters: anything that should fail an invocation or a message.
pub type Error = lambda_runtime::Error;

pub use {lambda_http, lambda_runtime};
