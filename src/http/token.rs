//! OAuth client credentials, shared by the Zuora and Databricks clients: one token per client,
//! fetched on first use and replaced a margin before it expires, or at once when the service
//! says it no longer accepts it. A personal access token is the degenerate case: fixed, never
//! refreshed.

use std::time::{Duration, Instant};

use serde::Deserialize;
use tokio::sync::Mutex;
use url::Url;

use super::{Response, RetryPolicy, excerpt, send};
use crate::config::Secret;
use crate::error::{Error, Result};

/// How a service wants its client credentials.
#[derive(Debug, Clone)]
pub enum Grant {
    /// `client_id` and `client_secret` in the form body (Zuora).
    FormCredentials,
    /// HTTP Basic authentication and a scope in the form body (Databricks OIDC).
    BasicCredentials { scope: &'static str },
}

/// Where and how to get tokens, and what to say when the credentials are refused.
#[derive(Debug, Clone)]
pub struct TokenEndpoint {
    pub service: &'static str,
    pub url: Url,
    pub grant: Grant,
    pub client_id: String,
    pub client_secret: Secret,
    /// The environment variable that holds the secret, named in error messages.
    pub secret_variable: &'static str,
    /// The most time before expiry at which a token is replaced; at most half its lifetime.
    pub refresh_margin: Duration,
}

/// A request whose token is refused is sent again with a new token at most this many times.
/// More than once, because with many requests in flight a token fetched for the retry can be
/// revoked by the same event that revoked the one before; a refused new token after that is a
/// credentials problem.
const MAX_TOKEN_RENEWALS: u32 = 3;

pub struct TokenSource {
    source: Source,
    current: Mutex<Option<Token>>,
}

enum Source {
    OAuth(TokenEndpoint),
    Fixed(Secret),
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
    pub fn oauth(endpoint: TokenEndpoint) -> Self {
        Self {
            source: Source::OAuth(endpoint),
            current: Mutex::new(None),
        }
    }

    /// A token that never changes, such as a Databricks personal access token.
    pub fn fixed(token: Secret) -> Self {
        Self {
            source: Source::Fixed(token),
            current: Mutex::new(None),
        }
    }

    /// Whether a rejected token can be replaced by fetching another.
    pub fn refreshes(&self) -> bool {
        matches!(self.source, Source::OAuth(_))
    }

    /// A token that is valid for a while yet.
    pub async fn bearer(&self, http: &reqwest::Client, policy: &RetryPolicy) -> Result<Bearer> {
        let endpoint = match &self.source {
            Source::Fixed(token) => {
                return Ok(Bearer {
                    value: token.clone(),
                    generation: 0,
                });
            }
            Source::OAuth(endpoint) => endpoint,
        };
        let mut current = self.current.lock().await;
        if let Some(token) = current.as_ref().filter(|t| Instant::now() < t.refresh_at) {
            return Ok(Bearer {
                value: token.value.clone(),
                generation: token.generation,
            });
        }
        let generation = current.as_ref().map_or(1, |t| t.generation + 1);
        let token = fetch(endpoint, http, policy, generation).await?;
        let bearer = Bearer {
            value: token.value.clone(),
            generation,
        };
        *current = Some(token);
        Ok(bearer)
    }

    /// Sends a request (`send`, given a valid token) and, while the service answers 401 to an
    /// OAuth token, again with a new token, at most [`MAX_TOKEN_RENEWALS`] times. Returns the
    /// last response, whatever its status.
    pub async fn send_authorized<F>(
        &self,
        http: &reqwest::Client,
        policy: &RetryPolicy,
        label: &str,
        mut send: impl FnMut(Bearer) -> F,
    ) -> Result<Response>
    where
        F: Future<Output = Result<Response>>,
    {
        let mut renewals = 0;
        loop {
            let bearer = self.bearer(http, policy).await?;
            let response = send(bearer.clone()).await?;
            if response.status.as_u16() != 401
                || renewals == MAX_TOKEN_RENEWALS
                || !self.refreshes()
            {
                return Ok(response);
            }
            tracing::info!(request = %label, "The token was refused; getting a new one");
            self.invalidate(&bearer).await;
            renewals += 1;
        }
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
}

async fn fetch(
    endpoint: &TokenEndpoint,
    http: &reqwest::Client,
    policy: &RetryPolicy,
    generation: u64,
) -> Result<Token> {
    let label = format!("POST {}", endpoint.url);
    let response = send(policy, endpoint.service, &label, || {
        let request = http.post(endpoint.url.clone());
        match endpoint.grant {
            Grant::FormCredentials => request.form(&[
                ("client_id", endpoint.client_id.as_str()),
                ("client_secret", endpoint.client_secret.expose()),
                ("grant_type", "client_credentials"),
            ]),
            Grant::BasicCredentials { scope } => request
                .basic_auth(&endpoint.client_id, Some(endpoint.client_secret.expose()))
                .form(&[("grant_type", "client_credentials"), ("scope", scope)]),
        }
    })
    .await?;
    let (status, body) = (response.status, response.body);
    if matches!(status.as_u16(), 400 | 401 | 403) {
        return Err(Error::Credentials {
            service: endpoint.service,
            detail: format!(
                "{label} answered {status} ({}) for client_id {}; check client_id and {}",
                excerpt(&body),
                endpoint.client_id,
                endpoint.secret_variable
            ),
        });
    }
    if !status.is_success() {
        return Err(Error::Source(format!(
            "{label} answered {status}: {}",
            excerpt(&body)
        )));
    }
    let parsed: TokenResponse = serde_json::from_slice(&body)
        .map_err(|e| Error::Source(format!("{label} returned no usable token: {e}")))?;
    let lifetime = Duration::from_secs(parsed.expires_in.unwrap_or(3600));
    let margin = endpoint.refresh_margin.min(lifetime / 2);
    Ok(Token {
        value: Secret::new(parsed.access_token),
        refresh_at: Instant::now() + lifetime - margin,
        generation,
    })
}
