//! Aging buckets: how far past due an open invoice (or a customer's oldest
//! open invoice) is. "Current" is not yet due; an invoice due an hour ago
//! is in 1–30.

use crate::server::UtcMillis;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AgingBucket {
    Current,
    Days1To30,
    Days31To60,
    Days61To90,
    Over90,
}

impl AgingBucket {
    pub const ALL: [AgingBucket; 5] = [
        AgingBucket::Current,
        AgingBucket::Days1To30,
        AgingBucket::Days31To60,
        AgingBucket::Days61To90,
        AgingBucket::Over90,
    ];

    /// The bucket's name in URLs and CSV.
    pub fn key(&self) -> &'static str {
        match self {
            AgingBucket::Current => "current",
            AgingBucket::Days1To30 => "1-30",
            AgingBucket::Days31To60 => "31-60",
            AgingBucket::Days61To90 => "61-90",
            AgingBucket::Over90 => "90+",
        }
    }

    pub fn label(&self) -> &'static str {
        match self {
            AgingBucket::Current => "Current",
            AgingBucket::Days1To30 => "1–30 days",
            AgingBucket::Days31To60 => "31–60 days",
            AgingBucket::Days61To90 => "61–90 days",
            AgingBucket::Over90 => "Over 90 days",
        }
    }

    pub fn parse(key: &str) -> Option<AgingBucket> {
        AgingBucket::ALL.into_iter().find(|b| b.key() == key)
    }

    /// The bucket of an invoice due at `due_at`, seen at `now`.
    pub fn of(due_at: i64, now: UtcMillis) -> AgingBucket {
        let late = now.0 - due_at;
        if late <= 0 {
            AgingBucket::Current
        } else if late <= 30 * DAY_MS {
            AgingBucket::Days1To30
        } else if late <= 60 * DAY_MS {
            AgingBucket::Days31To60
        } else if late <= 90 * DAY_MS {
            AgingBucket::Days61To90
        } else {
            AgingBucket::Over90
        }
    }

    /// The due times that fall in this bucket at `now`, as
    /// `(after, up_to)`: `after < due_at <= up_to` (either side open).
    pub fn due_range(&self, now: UtcMillis) -> (Option<i64>, Option<i64>) {
        let ago = |days: i64| now.0 - days * DAY_MS;
        match self {
            AgingBucket::Current => (Some(now.0 - 1), None),
            AgingBucket::Days1To30 => (Some(ago(30) - 1), Some(now.0 - 1)),
            AgingBucket::Days31To60 => (Some(ago(60) - 1), Some(ago(30) - 1)),
            AgingBucket::Days61To90 => (Some(ago(90) - 1), Some(ago(60) - 1)),
            AgingBucket::Over90 => (None, Some(ago(90) - 1)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_split_at_the_day_counts_and_ranges_agree() {
        let now = UtcMillis(1_000 * DAY_MS);
        let cases = [
            (now.0 + DAY_MS, AgingBucket::Current),
            (now.0, AgingBucket::Current),
            (now.0 - 1, AgingBucket::Days1To30),
            (now.0 - 30 * DAY_MS, AgingBucket::Days1To30),
            (now.0 - 30 * DAY_MS - 1, AgingBucket::Days31To60),
            (now.0 - 60 * DAY_MS, AgingBucket::Days31To60),
            (now.0 - 61 * DAY_MS, AgingBucket::Days61To90),
            (now.0 - 90 * DAY_MS, AgingBucket::Days61To90),
            (now.0 - 90 * DAY_MS - 1, AgingBucket::Over90),
        ];
        for (due, bucket) in cases {
            assert_eq!(AgingBucket::of(due, now), bucket, "due {due}");
            for b in AgingBucket::ALL {
                let (after, up_to) = b.due_range(now);
                let inside = after.is_none_or(|a| due > a) && up_to.is_none_or(|u| due <= u);
                assert_eq!(inside, b == bucket, "due {due} in {b:?}");
            }
        }
        assert_eq!(AgingBucket::parse("31-60"), Some(AgingBucket::Days31To60));
        assert_eq!(AgingBucket::parse("old"), None);
    }
}
