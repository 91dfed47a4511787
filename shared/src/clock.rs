//! The time the saga's steps decide by: the real clock, unless the simulation (issue 19) runs
//! the steps on its own simulated one.

use chrono::{DateTime, Utc};
use std::sync::OnceLock;

static SOURCE: OnceLock<fn() -> DateTime<Utc>> = OnceLock::new();

pub fn now() -> DateTime<Utc> {
    SOURCE.get().map_or_else(Utc::now, |source| source())
}

/// Makes `source` this process's time for good (the first call wins).
pub fn run_on(source: fn() -> DateTime<Utc>) {
    let _ = SOURCE.set(source);
}
