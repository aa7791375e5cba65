//! The retry policy: decorrelated-jitter backoff that honours `Retry-After`, bounded both by a
//! number of retries and by the total time spent, so a run gives up in a predictable time.

use std::time::{Duration, Instant};

use rand::RngExt;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};

#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub max_retries: u32,
    /// No retry starts once this much time has passed since the first attempt.
    pub budget: Duration,
    pub base: Duration,
    pub cap: Duration,
}

impl RetryPolicy {
    pub fn new(max_retries: u32, budget: Duration) -> Self {
        Self {
            max_retries,
            budget,
            base: Duration::from_millis(250),
            cap: Duration::from_secs(60),
        }
    }

    pub fn start(&self) -> Backoff {
        Backoff {
            policy: *self,
            retries: 0,
            started: Instant::now(),
            previous: self.base,
        }
    }
}

/// The retry state of one request.
#[derive(Debug)]
pub struct Backoff {
    policy: RetryPolicy,
    retries: u32,
    started: Instant,
    previous: Duration,
}

impl Backoff {
    /// The delay before the next attempt, or `None` when the budget is spent. A server's
    /// `Retry-After` is a floor: retrying sooner only earns another 429.
    pub fn next_delay(&mut self, retry_after: Option<Duration>) -> Option<Duration> {
        if self.retries >= self.policy.max_retries {
            return None;
        }
        let upper = (self.previous * 3).clamp(self.policy.base, self.policy.cap);
        let jittered = rand::rng().random_range(self.policy.base..=upper);
        let delay = retry_after.map_or(jittered, |floor| floor.max(jittered.min(floor * 2)));
        if self.started.elapsed() + delay > self.policy.budget {
            return None;
        }
        self.retries += 1;
        self.previous = jittered;
        Some(delay)
    }

    pub fn retries(&self) -> u32 {
        self.retries
    }
}

/// 429, 500, 502, 503 and 504 are worth retrying; other statuses will answer the same again.
pub fn is_retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 500 | 502 | 503 | 504)
}

/// How long the server asks to wait: `Retry-After` in seconds (the form Zuora and Databricks
/// send) or as an HTTP date, or else, for a 429, Zuora's `RateLimit-Reset` (seconds until the
/// exhausted rate-limit window resets), which its rate-limit 429s carry instead. Other answers
/// carry `RateLimit-Reset` too, about a window that is not exhausted: it means nothing there.
pub fn retry_after(status: StatusCode, headers: &HeaderMap) -> Option<Duration> {
    let Some(value) = headers.get(RETRY_AFTER) else {
        if status != StatusCode::TOO_MANY_REQUESTS {
            return None;
        }
        let reset = headers
            .get("ratelimit-reset")?
            .to_str()
            .ok()?
            .trim()
            .parse::<u64>()
            .ok()?;
        return Some(Duration::from_secs(reset));
    };
    let value = value.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<f64>() {
        return (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = at.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_stop_at_the_count() {
        let mut backoff = RetryPolicy::new(3, Duration::from_secs(3600)).start();
        let delays: Vec<_> = std::iter::from_fn(|| backoff.next_delay(None)).collect();
        assert_eq!(delays.len(), 3);
        assert!(delays.iter().all(|d| *d >= Duration::from_millis(250)));
    }

    #[test]
    fn retry_after_is_a_floor_and_counts_against_the_budget() {
        let mut backoff = RetryPolicy::new(10, Duration::from_secs(200)).start();
        let delay = backoff.next_delay(Some(Duration::from_secs(120))).unwrap();
        assert!(delay >= Duration::from_secs(120) && delay <= Duration::from_secs(240));
        let mut tight = RetryPolicy::new(10, Duration::from_secs(60)).start();
        assert_eq!(tight.next_delay(Some(Duration::from_secs(120))), None);
    }

    #[test]
    fn retry_after_reads_seconds() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, "120".parse().unwrap());
        assert_eq!(
            retry_after(StatusCode::TOO_MANY_REQUESTS, &headers),
            Some(Duration::from_secs(120))
        );
        headers.insert(RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(StatusCode::TOO_MANY_REQUESTS, &headers), None);
        let mut rate_limited = HeaderMap::new();
        rate_limited.insert("RateLimit-Reset", "42".parse().unwrap());
        assert_eq!(
            retry_after(StatusCode::TOO_MANY_REQUESTS, &rate_limited),
            Some(Duration::from_secs(42))
        );
        assert_eq!(
            retry_after(StatusCode::INTERNAL_SERVER_ERROR, &rate_limited),
            None
        );
    }
}
