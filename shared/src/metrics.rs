//! Business metrics in CloudWatch embedded metric format (EMF): one JSON line on stdout per
//! measurement, which Lambda's log pipeline turns into CloudWatch metrics with no API call and
//! no added latency.

use crate::clock;
use serde_json::{Map, Value, json};

/// The namespace of the cafe's metrics (`METRICS_NAMESPACE`, default `Cafe`).
fn namespace() -> String {
    std::env::var("METRICS_NAMESPACE").unwrap_or_else(|_| "Cafe".into())
}

/// The EMF line for one measurement of `name` in `unit`, with `service` as its dimension.
pub fn emf_line(name: &str, value: f64, unit: &str, service: &str, timestamp_ms: i64) -> String {
    let mut line = Map::new();
    line.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": namespace(),
                "Dimensions": [["Service"]],
                "Metrics": [{ "Name": name, "Unit": unit }],
            }],
        }),
    );
    line.insert("Service".into(), Value::from(service));
    line.insert(name.into(), Value::from(value));
    Value::Object(line).to_string()
}

/// Set by the simulation, which runs the steps thousands of times in one process: no metrics.
static SILENT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// No measurement is recorded from now on in this process.
pub fn silence() {
    SILENT.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// Records one measurement.
pub fn emit(name: &str, value: f64, unit: &str, service: &str) {
    if SILENT.load(std::sync::atomic::Ordering::Relaxed) {
        return;
    }
    println!(
        "{}",
        emf_line(name, value, unit, service, clock::now().timestamp_millis())
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_a_valid_emf_document() {
        let line: Value =
            serde_json::from_str(&emf_line("OrdersPlaced", 1.0, "Count", "order", 1_764_032_400_000)).unwrap();
        let directive = &line["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(line["_aws"]["Timestamp"], 1_764_032_400_000i64);
        assert_eq!(directive["Namespace"], "Cafe");
        assert_eq!(directive["Dimensions"], json!([["Service"]]));
        assert_eq!(
            directive["Metrics"],
            json!([{ "Name": "OrdersPlaced", "Unit": "Count" }])
        );
        // Every dimension and metric the directive names is a member of the line itself.
        assert_eq!(line["Service"], "order");
        assert_eq!(line["OrdersPlaced"], 1.0);
    }
}
