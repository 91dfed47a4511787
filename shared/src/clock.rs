//! The cafe's one clock: every time a function reads (an order's date, a deadline, a code's end,
//! a token's expiry, a stored `updatedAt`) comes from `now`. It is the real clock, unless the
//! simulation runs the functions on its own simulated one. (How long a cached secret is kept is
//! measured with `Instant`, which no rule decides by.)

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
