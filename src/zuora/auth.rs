//! OAuth client credentials for Zuora: one token shared by every request, fetched on first use
//! and replaced before it expires (or at once when Zuora says it no longer accepts it).

use std::time::{Duration, Instant};

use serde::Deserialize;
use tokio::sync::Mutex;
use url::Url;

use crate::config::Secret;
use crate::error::{Error, Result};
use crate::http::{RetryPolicy, excerpt, send};

/// Zuora recommends refreshing about five minutes before expiry.
const REFRESH_MARGIN: Duration = Duration::from_secs(300);

pub struct TokenSource {
    token_url: Url,
    client_id: String,
    client_secret: Secret,
    current: Mutex<Option<Token>>,
}

#[derive(Clone)]
struct Token {
    value: Secret,
    refresh_at: Instant,
    generation: u64,
}

/// A bearer token and a number that tells tokens apart, so that a request rejected with an old
/// token does not throw away a newer one that another request already fetched.
#[derive(Clone)]
pub struct Bearer {
    pub value: Secret,
    pub generation: u64,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: Option<u64>,
}

impl TokenSource {
    pub fn new(base_url: &Url, client_id: &str, client_secret: Secret) -> Self {
        let token_url = base_url
            .join("oauth/token")
            .expect("a base URL takes a path");
        Self {
            token_url,
            client_id: client_id.to_string(),
            client_secret,
            current: Mutex::new(None),
        }
    }

    /// A token that is valid for a while yet.
    pub async fn bearer(&self, http: &reqwest::Client, policy: &RetryPolicy) -> Result<Bearer> {
        let mut current = self.current.lock().await;
        if let Some(token) = current.as_ref().filter(|t| Instant::now() < t.refresh_at) {
            return Ok(Bearer {
                value: token.value.clone(),
                generation: token.generation,
            });
        }
        let generation = current.as_ref().map_or(1, |t| t.generation + 1);
        let token = self.fetch(http, policy, generation).await?;
        let bearer = Bearer {
            value: token.value.clone(),
            generation,
        };
        *current = Some(token);
        Ok(bearer)
    }

    /// Drops the token that a request was rejected with, unless it was already replaced.
    pub async fn invalidate(&self, rejected: &Bearer) {
        let mut current = self.current.lock().await;
        if current
            .as_ref()
            .is_some_and(|t| t.generation == rejected.generation)
        {
            *current = None;
        }
    }

    async fn fetch(
        &self,
        http: &reqwest::Client,
        policy: &RetryPolicy,
        generation: u64,
    ) -> Result<Token> {
        let form = [
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.client_secret.expose()),
            ("grant_type", "client_credentials"),
        ];
        let label = format!("POST {}", self.token_url);
        let response = send(policy, "Zuora", &label, || {
            http.post(self.token_url.clone()).form(&form)
        })
        .await?;
        let (status, body) = (response.status, response.body);
        if matches!(status.as_u16(), 400 | 401 | 403) {
            return Err(Error::Credentials {
                service: "Zuora",
                detail: format!(
                    "POST {} answered {status} ({}) for client_id {}; check client_id and {}",
                    self.token_url,
                    excerpt(&body),
                    self.client_id,
                    crate::config::ZUORA_SECRET_VAR
                ),
            });
        }
        if !status.is_success() {
            return Err(Error::Source(format!(
                "{label} answered {status}: {}",
                excerpt(&body)
            )));
        }
        let parsed: TokenResponse = serde_json::from_slice(&body).map_err(|e| {
            Error::Source(format!(
                "POST {} returned no usable token: {e}",
                self.token_url
            ))
        })?;
        let lifetime = Duration::from_secs(parsed.expires_in.unwrap_or(3599));
        // Short-lived tokens (as in tests) are refreshed at half their life instead.
        let margin = REFRESH_MARGIN.min(lifetime / 2);
        Ok(Token {
            value: Secret::new(parsed.access_token),
            refresh_at: Instant::now() + lifetime - margin,
            generation,
        })
    }
}
