//! Injected time. Every "now" in Settle comes from a [`Clock`] so that a
//! 60-day dunning sequence can run in a test in milliseconds.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// An instant as unix milliseconds, UTC: exactly what the database stores.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UtcMillis(pub i64);

pub const MILLIS_PER_DAY: i64 = 86_400_000;

impl UtcMillis {
    pub fn plus_days(self, days: i64) -> UtcMillis {
        UtcMillis(self.0 + days * MILLIS_PER_DAY)
    }

    pub fn plus_millis(self, ms: i64) -> UtcMillis {
        UtcMillis(self.0 + ms)
    }

    pub fn to_timestamp(self) -> jiff::Timestamp {
        // Out-of-range values cannot come from our own clock; clamp rather than panic.
        jiff::Timestamp::from_millisecond(self.0).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
    }
}

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> UtcMillis;
}

#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> UtcMillis {
        let ms = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0);
        UtcMillis(ms)
    }
}

/// A clock tests move by hand.
#[derive(Debug)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn new(at: UtcMillis) -> Self {
        ManualClock(AtomicI64::new(at.0))
    }

    pub fn set(&self, at: UtcMillis) {
        self.0.store(at.0, Ordering::SeqCst);
    }

    pub fn advance(&self, by: std::time::Duration) {
        self.0.fetch_add(by.as_millis() as i64, Ordering::SeqCst);
    }

    pub fn advance_days(&self, days: i64) {
        self.0.fetch_add(days * MILLIS_PER_DAY, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> UtcMillis {
        UtcMillis(self.0.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::new(UtcMillis(1_000));
        assert_eq!(c.now(), UtcMillis(1_000));
        c.advance_days(2);
        assert_eq!(c.now(), UtcMillis(1_000 + 2 * MILLIS_PER_DAY));
    }
}
