//! When each Object Query cursor was handed out, so cursors can expire: past an age on the
//! emulator clock, or all at once on demand. The cursor text stays the documented keyset; the
//! ledger keys it by a hash, keeping the latest million.
//!
//! Zuora documents no lifetime for Object Query cursors, nor what it answers for a stale one.
//! The emulator answers 400 with an invalid-value code (UNCONFIRMED, text included), so a client
//! learns to restart a window from its last row rather than to trust a cursor forever.

use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use super::query::INVALID_VALUE;

/// The body of the 400 for an expired cursor.
pub(crate) const EXPIRED_CODE: u32 = INVALID_VALUE;
pub(crate) const EXPIRED_MESSAGE: &str =
    "Invalid cursor: the cursor has expired. Submit the query again without a cursor.";

const CAPACITY: usize = 1_000_000;

#[derive(Debug, Default)]
pub(crate) struct CursorLedger {
    issued: HashMap<u64, DateTime<Utc>>,
    order: VecDeque<(u64, DateTime<Utc>)>,
    /// Cursors issued at or before this instant are expired.
    expired_through: Option<DateTime<Utc>>,
}

impl CursorLedger {
    /// Notes that `cursor` was handed out at `at` (again, if it is a repeat).
    pub fn issued(&mut self, cursor: &str, at: DateTime<Utc>) {
        let key = key(cursor);
        self.issued.insert(key, at);
        self.order.push_back((key, at));
        if self.order.len() > CAPACITY
            && let Some((old, when)) = self.order.pop_front()
            && self.issued.get(&old) == Some(&when)
        {
            self.issued.remove(&old);
        }
    }

    /// Every cursor handed out until `now` is expired.
    pub fn expire_all(&mut self, now: DateTime<Utc>) {
        self.expired_through = Some(now);
    }

    /// Whether `cursor` is too old at `now`. A cursor the ledger never saw (or forgot) is
    /// taken as valid: its age is unknown.
    pub fn is_expired(&self, cursor: &str, now: DateTime<Utc>, ttl: Option<Duration>) -> bool {
        let Some(&issued) = self.issued.get(&key(cursor)) else {
            return false;
        };
        let all = self
            .expired_through
            .is_some_and(|through| issued <= through);
        let aged = ttl
            .is_some_and(|ttl| now - issued > TimeDelta::from_std(ttl).unwrap_or(TimeDelta::MAX));
        all || aged
    }
}

fn key(cursor: &str) -> u64 {
    let mut hasher = std::hash::DefaultHasher::new();
    cursor.hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_expire_by_age_or_all_at_once() {
        let start = DateTime::from_timestamp(1_790_000_000, 0).unwrap();
        let mut ledger = CursorLedger::default();
        ledger.issued("a", start);
        let ttl = Some(Duration::from_secs(60));
        assert!(!ledger.is_expired("a", start + TimeDelta::seconds(60), ttl));
        assert!(ledger.is_expired("a", start + TimeDelta::seconds(61), ttl));
        assert!(!ledger.is_expired("a", start + TimeDelta::days(9), None));
        assert!(!ledger.is_expired("never issued", start + TimeDelta::days(9), ttl));

        ledger.issued("a", start + TimeDelta::seconds(100));
        assert!(!ledger.is_expired("a", start + TimeDelta::seconds(120), ttl));
        ledger.expire_all(start + TimeDelta::seconds(120));
        assert!(ledger.is_expired("a", start + TimeDelta::seconds(120), None));
        ledger.issued("b", start + TimeDelta::seconds(121));
        assert!(!ledger.is_expired("b", start + TimeDelta::seconds(121), None));
    }
}
