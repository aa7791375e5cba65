//! The emulator's clock: it runs at the speed of real time from a starting instant and can be
//! moved forward by tests, never back, so token expiry, the `Date` header, cursor ages, quota
//! minutes and the timestamps of mutations follow one notion of "now" that a test can read and
//! control.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};

#[derive(Debug)]
pub(crate) struct Clock {
    start: DateTime<Utc>,
    started: Instant,
    skipped: Mutex<Duration>,
}

impl Clock {
    /// A clock that reads `start` now and advances with real time.
    pub fn starting_at(start: DateTime<Utc>) -> Clock {
        Clock {
            start,
            started: Instant::now(),
            skipped: Mutex::new(Duration::ZERO),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        let elapsed = self.started.elapsed() + *self.skipped.lock().expect("clock lock");
        self.start + TimeDelta::from_std(elapsed).unwrap_or(TimeDelta::MAX)
    }

    /// Moves the clock forward without waiting.
    pub fn advance(&self, by: Duration) {
        *self.skipped.lock().expect("clock lock") += by;
    }

    /// Moves the clock forward to `at`; an `at` that is not in the future changes nothing, as
    /// a clock that went back would hand out UpdatedDates older than ones already served.
    pub fn set(&self, at: DateTime<Utc>) {
        let mut skipped = self.skipped.lock().expect("clock lock");
        let elapsed = self.started.elapsed() + *skipped;
        let now = self.start + TimeDelta::from_std(elapsed).unwrap_or(TimeDelta::MAX);
        if let Ok(ahead) = (at - now).to_std() {
            *skipped += ahead;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_moves_now_forward_by_at_least_the_step() {
        let start = DateTime::from_timestamp(1_780_000_000, 0).unwrap();
        let clock = Clock::starting_at(start);
        let before = clock.now();
        assert!(before >= start);
        clock.advance(Duration::from_secs(3600));
        assert!(clock.now() - before >= TimeDelta::seconds(3600));
    }

    #[test]
    fn set_moves_forward_to_the_instant_and_never_back() {
        let start = DateTime::from_timestamp(1_780_000_000, 0).unwrap();
        let clock = Clock::starting_at(start);
        let target = start + TimeDelta::days(2);
        clock.set(target);
        let now = clock.now();
        assert!(
            now >= target && now - target < TimeDelta::seconds(60),
            "{now}"
        );
        clock.set(start);
        assert!(clock.now() >= now, "the clock does not go back");
    }
}
