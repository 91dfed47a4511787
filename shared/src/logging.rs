//! Structured JSON logs, one object per line, so CloudWatch Logs Insights can query them by field.
//! Each line carries its spans: the runtime's (`requestId`, `xrayTraceId`) and, for saga work, the
//! event's (`order_id`, `detail_type`, `event_id`), so one order can be followed across functions.

use tracing_subscriber::EnvFilter;

/// Level from `AWS_LAMBDA_LOG_LEVEL` (Lambda's advanced logging controls) or `RUST_LOG`, default info.
pub fn init_logging() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info".into())
        .to_lowercase();
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(true)
        .with_target(false)
        .with_env_filter(EnvFilter::new(level))
        .init();
}
