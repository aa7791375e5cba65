//! The emulator's clock: it runs at the speed of real time from a starting instant and can be
//! moved forward by tests, so token expiry and the timestamps of future mutations follow one
//! notion of "now" that a test can read and control.

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
}
