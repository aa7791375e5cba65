//! What the Zuora and Databricks clients share: one retry policy and the reading of the
//! headers and bodies that decide whether a failed request is worth another try.

mod retry;
mod send;
mod token;

pub use retry::{Backoff, RetryPolicy, is_retryable_status, retry_after};
pub use send::{Response, send, send_limited};
pub use token::{Bearer, Grant, TokenEndpoint, TokenSource};

/// At most this much of a response body goes into an error message.
const EXCERPT: usize = 300;

/// The start of a response body, on one line, for error messages.
pub fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(EXCERPT * 4)]);
    let mut line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if line.chars().count() > EXCERPT {
        line = line.chars().take(EXCERPT).collect::<String>() + "…";
    }
    line.trim().to_string()
}
