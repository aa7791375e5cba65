//! Injected faults: what goes wrong between a client and Zuora, on purpose and on the wire.
//! Rate-limit and concurrency 429s with the headers and bodies of reference §5, 5xx answers,
//! gateway timeouts, slow pages, transfers cut off mid-body, tokens that expire mid-run and
//! cursors that go stale. Which request meets which fault follows counters ("every n-th") and
//! one seeded random stream, so the same requests in the same order meet the same faults.
//!
//! Every fault is recorded in a log a test reads back, so a test can assert that the fault it
//! configured really happened rather than pass because it never did.

use std::collections::VecDeque;
use std::io;
use std::sync::Mutex;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use chrono::{DateTime, Utc};
use futures::StreamExt as _;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Zuora's production API limit per minute, reported when no quota is configured.
const PRODUCTION_PER_MINUTE: u32 = 50_000;
/// The production windows of `RateLimit-Limit` (reference §5, DEV-RL).
const PRODUCTION_WINDOWS: &str = "50000;w=60, 2250000;w=3600, 27000000;w=86400";

/// REST code and text of the concurrency 429 (reference §5).
pub(crate) const CONCURRENCY_CODE: u32 = 50_000_070;
pub(crate) const CONCURRENCY_MESSAGE: &str = "The total number of concurrent requests has exceeded \
     the limit allowed by the system. Please resubmit your request later.";
/// The rate-limit 429 body, verbatim from DEV-RL-OLD. Its "600 seconds" is Zuora's fixed text;
/// the wait that applies is in `RateLimit-Reset`.
pub(crate) const RATE_LIMIT_BODY: &str = "{\"reasons\":[{\"code\":70,\"message\":\"API Rate limit \
     exceeded for the minute, retry after 600 seconds\"}]}";

/// The log keeps this many of the latest faults.
const LOG_CAPACITY: usize = 1_000_000;

/// The faults to inject, set with `Emulator::set_faults`. `Faults::default()` injects none.
/// Counters restart whenever faults are set.
#[derive(Debug, Clone, PartialEq)]
pub struct Faults {
    /// Seeds the random choices: which requests get a 5xx, and which 5xx. Default 0.
    pub seed: u64,
    /// Share of Object Query and Describe requests answered 500, 502, 503 or 504, from 0 to 1.
    pub http_5xx_rate: f64,
    /// Bursts of 429s among API requests (every route but `/oauth/token` and result files).
    pub rate_limit_bursts: Option<Bursts>,
    /// API requests in flight at once beyond this get the concurrency 429. `None`: no limit,
    /// and `Concurrency-Limit-Limit` reports Zuora's (80 for Object Query, 40 otherwise).
    pub max_concurrent_requests: Option<usize>,
    /// `Retry-After` of concurrency 429s and `RateLimit-Reset` of burst rate-limit 429s.
    /// Default 120 s, what Zuora sends; tests set 0 or 1.
    pub retry_after: Duration,
    /// Every n-th Object Query request is answered only after this delay.
    pub slow_page: Option<(usize, Duration)>,
    /// Every n-th Object Query or Describe request is answered 504 after this delay, which
    /// stands for Zuora's 120 s gateway timeout.
    pub gateway_timeout: Option<(usize, Duration)>,
    /// Every n-th Object Query response is cut off mid-body and its connection closed, while
    /// `Content-Length` still promises the whole body.
    pub truncate_every_n: Option<usize>,
    /// Every n-th API request finds every token issued so far expired, and gets a 401.
    pub expire_tokens_every_n: Option<usize>,
    /// A `cursor` handed out longer ago than this (emulator clock) is refused with a 400.
    pub cursor_ttl: Option<Duration>,
    /// API requests allowed per emulator-clock minute; more get the rate-limit 429. `None`
    /// reports Zuora's production limit in `RateLimit-*` headers without enforcing it.
    pub requests_per_minute: Option<u32>,
}

impl Default for Faults {
    fn default() -> Faults {
        Faults {
            seed: 0,
            http_5xx_rate: 0.0,
            rate_limit_bursts: None,
            max_concurrent_requests: None,
            retry_after: Duration::from_secs(120),
            slow_page: None,
            gateway_timeout: None,
            truncate_every_n: None,
            expire_tokens_every_n: None,
            cursor_ttl: None,
            requests_per_minute: None,
        }
    }
}

/// Every `every`-th API request starts a run of `length` requests answered 429.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bursts {
    pub every: usize,
    pub length: usize,
    pub answer: Throttle,
}

/// Which 429 a burst answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Throttle {
    /// Code 50000070 with `Retry-After` and `Concurrency-Limit-*` headers.
    Concurrency,
    /// The code-70 rate-limit body with `RateLimit-Limit/Remaining/Reset` headers.
    RateLimit,
}

/// One fault as it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InjectedFault {
    /// The emulator clock when the fault was decided.
    pub at: DateTime<Utc>,
    pub method: String,
    pub path: String,
    pub kind: FaultKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FaultKind {
    /// Answered 500, 502, 503 or 504 at once.
    ServerError { status: u16 },
    /// Answered 504 after waiting.
    GatewayTimeout { after: Duration },
    /// Answered normally after waiting.
    Slow { delay: Duration },
    /// `sent` bytes of a body of `promised` went out before the connection closed.
    Truncated { sent: usize, promised: usize },
    /// Every token issued so far expired just before this request.
    TokensExpired,
    /// A burst answered 429.
    Burst { answer: Throttle },
    /// `in_flight` requests were running with this one, over the limit: 429.
    ConcurrencyLimit { in_flight: usize },
    /// The minute's quota was used up: 429.
    QuotaExceeded { limit: u32 },
    /// The request's cursor had expired: 400.
    CursorExpired,
}

/// The rate-limit window a response reports in its `RateLimit-*` headers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Window {
    per_minute: Option<u32>,
    remaining: u32,
    /// Seconds until the emulator-clock minute ends, 1 to 60.
    reset: u64,
}

impl Window {
    pub fn write(&self, headers: &mut HeaderMap) {
        let limit = match self.per_minute {
            Some(limit) => format!("{limit}, {limit};w=60"),
            None => format!("{PRODUCTION_PER_MINUTE}, {PRODUCTION_WINDOWS}"),
        };
        if let Ok(limit) = HeaderValue::from_str(&limit) {
            headers.insert("ratelimit-limit", limit);
        }
        headers.insert("ratelimit-remaining", HeaderValue::from(self.remaining));
        headers.insert("ratelimit-reset", HeaderValue::from(self.reset));
    }
}

/// How an API request is admitted.
#[derive(Debug)]
pub(crate) struct Admission {
    pub refusal: Option<Refusal>,
    pub expire_tokens: bool,
    pub window: Window,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    Burst(Throttle),
    Quota,
}

/// The faults one Object Query or Describe request meets, decided when it arrives.
#[derive(Debug, Default)]
pub(crate) struct RouteFaults {
    pub gateway_timeout: Option<Duration>,
    pub server_error: Option<u16>,
    pub slow: Option<Duration>,
    pub truncate: bool,
}

#[derive(Debug)]
struct State {
    faults: Faults,
    rng: ChaCha8Rng,
    /// API requests seen, for bursts and token expiry.
    api_requests: usize,
    burst_left: usize,
    /// Object Query and Describe requests, for 5xx and gateway timeouts.
    served: usize,
    /// Object Query requests, for slow and truncated pages.
    pages: usize,
    /// The emulator-clock minute being counted and the requests in it.
    minute: i64,
    used: u32,
}

impl State {
    fn new(faults: Faults) -> State {
        State {
            rng: ChaCha8Rng::seed_from_u64(faults.seed ^ 0xfa17_0000_0000_0006),
            faults,
            api_requests: 0,
            burst_left: 0,
            served: 0,
            pages: 0,
            minute: i64::MIN,
            used: 0,
        }
    }
}

fn every(n: Option<usize>, count: usize) -> bool {
    n.is_some_and(|n| n > 0 && count.is_multiple_of(n))
}

#[derive(Debug)]
pub(crate) struct Injector {
    state: Mutex<State>,
    log: Mutex<VecDeque<InjectedFault>>,
}

impl Injector {
    pub fn new() -> Injector {
        Injector {
            state: Mutex::new(State::new(Faults::default())),
            log: Mutex::new(VecDeque::new()),
        }
    }

    /// Replaces the faults and restarts their counters and random stream.
    pub fn set(&self, faults: Faults) {
        let mut state = self.state.lock().expect("fault lock");
        let (minute, used) = (state.minute, state.used);
        *state = State {
            minute,
            used,
            ..State::new(faults)
        };
    }

    pub fn faults(&self) -> Faults {
        self.state.lock().expect("fault lock").faults.clone()
    }

    pub fn log(&self) -> Vec<InjectedFault> {
        self.log
            .lock()
            .expect("fault log lock")
            .iter()
            .cloned()
            .collect()
    }

    pub fn record(&self, at: DateTime<Utc>, method: &str, path: &str, kind: FaultKind) {
        let mut log = self.log.lock().expect("fault log lock");
        if log.len() == LOG_CAPACITY {
            log.pop_front();
        }
        log.push_back(InjectedFault {
            at,
            method: method.to_string(),
            path: path.to_string(),
            kind,
        });
    }

    /// Counts an API request against the quota and the burst and token-expiry counters.
    pub fn admit(&self, now: DateTime<Utc>, method: &str, path: &str) -> Admission {
        let mut state = self.state.lock().expect("fault lock");
        state.api_requests += 1;
        let minute = now.timestamp().div_euclid(60);
        if minute != state.minute {
            (state.minute, state.used) = (minute, 0);
        }
        // Refused requests count too, as Zuora counts failed ones.
        state.used = state.used.saturating_add(1);
        let per_minute = state.faults.requests_per_minute;
        let limit = per_minute.unwrap_or(PRODUCTION_PER_MINUTE);
        let window = Window {
            per_minute,
            remaining: limit.saturating_sub(state.used),
            reset: 60 - now.timestamp().rem_euclid(60) as u64,
        };

        let mut faults = Vec::new();
        let refusal = if per_minute.is_some_and(|limit| state.used > limit) {
            faults.push(FaultKind::QuotaExceeded { limit });
            Some(Refusal::Quota)
        } else if let Some(bursts) = state.faults.rate_limit_bursts
            && (state.burst_left > 0 || every(Some(bursts.every), state.api_requests))
            && bursts.length > 0
        {
            state.burst_left = match state.burst_left {
                0 => bursts.length - 1,
                left => left - 1,
            };
            faults.push(FaultKind::Burst {
                answer: bursts.answer,
            });
            Some(Refusal::Burst(bursts.answer))
        } else {
            None
        };
        let expire_tokens = every(state.faults.expire_tokens_every_n, state.api_requests);
        if expire_tokens {
            faults.push(FaultKind::TokensExpired);
        }
        drop(state);
        for kind in faults {
            self.record(now, method, path, kind);
        }
        Admission {
            refusal,
            expire_tokens,
            window,
        }
    }

    /// Decides the faults of an Object Query (`page`) or Describe request.
    pub fn route_faults(
        &self,
        now: DateTime<Utc>,
        method: &str,
        path: &str,
        page: bool,
    ) -> RouteFaults {
        let mut state = self.state.lock().expect("fault lock");
        state.served += 1;
        let mut decided = RouteFaults::default();
        if let Some((n, after)) = state.faults.gateway_timeout
            && every(Some(n), state.served)
        {
            decided.gateway_timeout = Some(after);
        }
        let rate = state.faults.http_5xx_rate.clamp(0.0, 1.0);
        if rate > 0.0 && state.rng.random_bool(rate) {
            decided.server_error = Some([500, 502, 503, 504][state.rng.random_range(0..4)]);
        }
        if page {
            state.pages += 1;
            if let Some((n, delay)) = state.faults.slow_page
                && every(Some(n), state.pages)
            {
                decided.slow = Some(delay);
            }
            decided.truncate = every(state.faults.truncate_every_n, state.pages);
        }
        drop(state);

        // What the client will see: a timeout wins over a 5xx, which wins over a slow page.
        let kind = match (
            &decided.gateway_timeout,
            &decided.server_error,
            &decided.slow,
        ) {
            (Some(after), _, _) => Some(FaultKind::GatewayTimeout { after: *after }),
            (None, Some(status), _) => Some(FaultKind::ServerError { status: *status }),
            (None, None, Some(delay)) => Some(FaultKind::Slow { delay: *delay }),
            _ => None,
        };
        if let Some(kind) = kind {
            self.record(now, method, path, kind);
        }
        decided
    }
}

fn respond(status: StatusCode, content_type: &'static str, body: impl Into<Body>) -> Response {
    let mut response = Response::new(body.into());
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// A v1 error body: `{"success": false, "processId": ..., "reasons": [{code, message}]}`.
fn reasons(process_id: &str, code: u32, message: &str) -> String {
    serde_json::json!({
        "success": false,
        "processId": process_id,
        "reasons": [{ "code": code, "message": message }],
    })
    .to_string()
}

/// The concurrency 429: code 50000070, `Retry-After`, and the limit headers reporting none
/// left. The caller adds `Concurrency-Limit-Type` and `-Limit` as on every API response.
pub(crate) fn concurrency_refusal(process_id: &str, retry_after: Duration) -> Response {
    let body = reasons(process_id, CONCURRENCY_CODE, CONCURRENCY_MESSAGE);
    let mut response = respond(StatusCode::TOO_MANY_REQUESTS, "application/json", body);
    let headers = response.headers_mut();
    headers.insert(
        header::RETRY_AFTER,
        HeaderValue::from(retry_after.as_secs()),
    );
    response
}

/// The rate-limit 429. Zuora documents `RateLimit-*` headers on it, not `Retry-After`
/// (UNCONFIRMED whether it sends one too); leaving it out makes a client read the reset.
pub(crate) fn rate_limit_refusal(window: &Window, reset: Option<u64>) -> Response {
    let mut response = respond(
        StatusCode::TOO_MANY_REQUESTS,
        "application/json",
        RATE_LIMIT_BODY,
    );
    let window = Window {
        remaining: 0,
        reset: reset.unwrap_or(window.reset),
        ..*window
    };
    window.write(response.headers_mut());
    response
}

/// A 5xx as Zuora's stack answers them: JSON from the API for 500 (internal, category 60) and
/// 503 (temporary, category 61), HTML from the gateway for 502 and 504. The exact bodies are
/// UNCONFIRMED; they differ in shape on purpose, so a client cannot rely on parsing them.
pub(crate) fn server_error(status: u16, process_id: &str) -> Response {
    match status {
        500 => respond(
            StatusCode::INTERNAL_SERVER_ERROR,
            "application/json",
            reasons(process_id, 50_000_060, "An unexpected error occurred."),
        ),
        503 => respond(
            StatusCode::SERVICE_UNAVAILABLE,
            "application/json",
            reasons(process_id, 50_000_061, "Service temporarily unavailable."),
        ),
        502 => gateway_page(StatusCode::BAD_GATEWAY, "502 Bad Gateway"),
        _ => gateway_timeout(),
    }
}

pub(crate) fn gateway_timeout() -> Response {
    gateway_page(StatusCode::GATEWAY_TIMEOUT, "504 Gateway Time-out")
}

fn gateway_page(status: StatusCode, title: &str) -> Response {
    let body = format!(
        "<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1>\
         </center>\r\n</body>\r\n</html>\r\n"
    );
    respond(status, "text/html", body)
}

/// Sends the first half of the body, then fails the transfer so the connection closes while
/// `Content-Length` still promises the whole body. Returns the bytes sent and promised.
pub(crate) async fn truncate(response: Response) -> (Response, usize, usize) {
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let promised = bytes.len();
    let sent = (promised / 2).max(1).min(promised.saturating_sub(1));
    let first = futures::stream::iter([Ok::<Bytes, io::Error>(bytes.slice(..sent))]);
    let failure = futures::stream::once(async {
        // Give the server a moment to flush the first half before the transfer fails.
        tokio::time::sleep(Duration::from_millis(20)).await;
        Err(io::Error::new(
            io::ErrorKind::ConnectionAborted,
            "the emulator cut the transfer short",
        ))
    });
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(promised));
    let response = Response::from_parts(parts, Body::from_stream(first.chain(failure)));
    (response, sent, promised)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_790_000_000 + seconds, 0).unwrap()
    }

    #[test]
    fn bursts_start_every_kth_request_and_last_m() {
        let injector = Injector::new();
        injector.set(Faults {
            rate_limit_bursts: Some(Bursts {
                every: 4,
                length: 2,
                answer: Throttle::RateLimit,
            }),
            ..Faults::default()
        });
        let refused: Vec<bool> = (0..10)
            .map(|_| injector.admit(at(0), "GET", "/x").refusal.is_some())
            .collect();
        let expected = [
            false, false, false, true, true, false, false, true, true, false,
        ];
        assert_eq!(refused, expected);
        assert_eq!(injector.log().len(), 4);
    }

    #[test]
    fn the_quota_counts_per_emulator_minute() {
        let injector = Injector::new();
        injector.set(Faults {
            requests_per_minute: Some(2),
            ..Faults::default()
        });
        let first = injector.admit(at(0), "GET", "/x");
        assert!(first.refusal.is_none());
        assert_eq!((first.window.remaining, first.window.reset), (1, 40));
        assert!(injector.admit(at(1), "GET", "/x").refusal.is_none());
        let third = injector.admit(at(2), "GET", "/x");
        assert_eq!(third.refusal, Some(Refusal::Quota));
        assert_eq!(third.window.remaining, 0);
        assert!(
            injector.admit(at(40), "GET", "/x").refusal.is_none(),
            "a new minute"
        );
        assert_eq!(
            injector.log()[0].kind,
            FaultKind::QuotaExceeded { limit: 2 }
        );
    }

    #[test]
    fn the_same_seed_fails_the_same_requests() {
        let run = |seed| {
            let injector = Injector::new();
            injector.set(Faults {
                seed,
                http_5xx_rate: 0.3,
                ..Faults::default()
            });
            (0..200)
                .map(|_| injector.route_faults(at(0), "GET", "/x", true).server_error)
                .collect::<Vec<_>>()
        };
        let first = run(1);
        assert_eq!(first, run(1));
        assert_ne!(first, run(2));
        let failed = first.iter().flatten().count();
        assert!((30..90).contains(&failed), "{failed} of 200");
        for status in [500, 502, 503, 504] {
            assert!(first.contains(&Some(status)), "{status}");
        }
    }

    #[test]
    fn every_nth_counts_its_own_requests() {
        let injector = Injector::new();
        injector.set(Faults {
            slow_page: Some((2, Duration::from_millis(1))),
            truncate_every_n: Some(3),
            gateway_timeout: Some((5, Duration::from_millis(1))),
            expire_tokens_every_n: Some(2),
            ..Faults::default()
        });
        let decided: Vec<(bool, bool, bool)> = (0..6)
            .map(|_| {
                let f = injector.route_faults(at(0), "GET", "/x", true);
                (f.slow.is_some(), f.truncate, f.gateway_timeout.is_some())
            })
            .collect();
        assert_eq!(
            decided,
            [
                (false, false, false),
                (true, false, false),
                (false, true, false),
                (true, false, false),
                (false, false, true),
                (true, true, false),
            ]
        );
        let describe = injector.route_faults(at(0), "GET", "/v1/describe", false);
        assert!(describe.slow.is_none() && !describe.truncate);
        let expiries: Vec<bool> = (0..4)
            .map(|_| injector.admit(at(0), "GET", "/x").expire_tokens)
            .collect();
        assert_eq!(expiries, [false, true, false, true]);
    }
}
