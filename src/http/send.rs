//! Sending one request under the retry policy: transport failures, cut-off bodies and
//! retryable statuses are tried again, each retry logged once at `warn` with its delay.

use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use tokio::sync::Semaphore;

use super::{RetryPolicy, is_retryable_status, retry_after};
use crate::error::{Error, Result};

/// A complete response: the whole body has arrived.
#[derive(Debug)]
pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// Sends the request that `build` makes until it gets a response that retrying would not
/// change, or the policy gives up (`Error::Unavailable` naming `service` and `label`).
/// `label` names the request in messages, such as `GET /object-query/accounts`; it must carry
/// no secrets.
pub async fn send(
    policy: &RetryPolicy,
    service: &'static str,
    label: &str,
    build: impl Fn() -> reqwest::RequestBuilder,
) -> Result<Response> {
    send_limited(policy, None, service, label, build).await
}

/// `send`, holding one of `permits` during each attempt (not while waiting to retry), so that
/// the number of requests in flight stays under the service's concurrency limit.
pub async fn send_limited(
    policy: &RetryPolicy,
    permits: Option<&Semaphore>,
    service: &'static str,
    label: &str,
    build: impl Fn() -> reqwest::RequestBuilder,
) -> Result<Response> {
    let mut backoff = policy.start();
    loop {
        let permit = match permits {
            Some(permits) => Some(
                permits
                    .acquire()
                    .await
                    .expect("the semaphore is never closed"),
            ),
            None => None,
        };
        let outcome = attempt(build()).await;
        drop(permit);
        let (problem, wait) = match outcome {
            Ok(response) if !is_retryable_status(response.status) => return Ok(response),
            Ok(response) => (
                format!("{} {}", response.status, super::excerpt(&response.body)),
                retry_after(response.status, &response.headers),
            ),
            Err(problem) => (problem, None),
        };
        let Some(delay) = backoff.next_delay(wait) else {
            return Err(Error::Unavailable {
                service,
                detail: format!(
                    "{label} failed {} times, and the retry budget is spent; last: {problem}",
                    backoff.retries() + 1
                ),
            });
        };
        tracing::warn!(
            service,
            request = label,
            attempt = backoff.retries(),
            delay_ms = delay.as_millis() as u64,
            problem = %problem,
            "Retrying request"
        );
        tokio::time::sleep(delay).await;
    }
}

async fn attempt(request: reqwest::RequestBuilder) -> std::result::Result<Response, String> {
    let response = request.send().await.map_err(describe)?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .bytes()
        .await
        .map_err(|e| format!("body cut off: {}", describe(e)))?;
    Ok(Response {
        status,
        headers,
        body,
    })
}

/// A transport error in words with its causes, without the URL (its query may carry secrets).
fn describe(error: reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    let error = error.without_url();
    let mut text = format!("{kind}: {error}");
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}
