//! One authenticated HTTP client for a workspace: the bearer token (OAuth, refreshed early, or
//! a personal access token), the retry policy (429 and 503 honour `Retry-After`), and the
//! platform error bodies `{"error_code", "message"}`.

use std::time::Duration;

use serde::Deserialize;
use tokio::sync::OnceCell;
use url::Url;

use super::statements::Outcome;
use crate::config::{DATABRICKS_SECRET_VAR, DatabricksAuth, DatabricksConfig};
use crate::error::{Error, Result};
use crate::http::{
    Bearer, Grant, Response, RetryPolicy, TokenEndpoint, TokenSource, excerpt, send,
};

pub struct Api {
    pub(super) http: reqwest::Client,
    pub(super) host: Url,
    pub(super) config: DatabricksConfig,
    tokens: TokenSource,
    policy: RetryPolicy,
    principal: OnceCell<String>,
}

/// The body of a request.
pub enum Body<'a> {
    None,
    Json(&'a serde_json::Value),
    /// Raw bytes; cloning them for a retry copies no data.
    Bytes(bytes::Bytes),
}

#[derive(Deserialize)]
struct PlatformError {
    error_code: Option<String>,
    message: Option<String>,
}

impl Api {
    pub fn new(config: &DatabricksConfig) -> Result<Self> {
        let tokens = match &config.auth {
            DatabricksAuth::OAuth {
                client_id,
                client_secret,
            } => {
                let secret = client_secret
                    .clone()
                    .ok_or_else(|| Error::config(format!("{DATABRICKS_SECRET_VAR} is not set")))?;
                TokenSource::oauth(TokenEndpoint {
                    service: "Databricks",
                    url: config.host.join("oidc/v1/token").expect("hosts take paths"),
                    grant: Grant::BasicCredentials { scope: "all-apis" },
                    client_id: client_id.clone(),
                    client_secret: secret,
                    secret_variable: DATABRICKS_SECRET_VAR,
                    // Databricks SDKs treat a token as stale for the last half of its life,
                    // at most 20 minutes before it expires.
                    refresh_margin: Duration::from_secs(20 * 60),
                })
            }
            DatabricksAuth::Token(token) => TokenSource::fixed(token.clone().ok_or_else(|| {
                Error::config(format!(
                    "{} is not set",
                    crate::config::DATABRICKS_TOKEN_VAR
                ))
            })?),
        };
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .user_agent(concat!("zuora-sync/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::config(format!("cannot build an HTTP client: {e}")))?;
        Ok(Self {
            http,
            host: config.host.clone(),
            config: config.clone(),
            tokens,
            // The SDKs' own budget: five minutes of retries.
            policy: RetryPolicy::new(30, Duration::from_secs(300)),
            principal: OnceCell::new(),
        })
    }

    pub fn host(&self) -> &Url {
        &self.host
    }

    pub fn warehouse_id(&self) -> &str {
        &self.config.warehouse_id
    }

    /// Gets a token now, so that wrong credentials fail before any other work.
    pub async fn authenticate(&self) -> Result<()> {
        self.tokens.bearer(&self.http, &self.policy).await.map(drop)
    }

    /// Sends a request to `path` on the workspace, retrying per the policy and again with a
    /// new token when an OAuth token is refused. Returns the final response; a 401 that
    /// remains is a credentials error.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        query: &[(&str, String)],
        body: Body<'_>,
    ) -> Result<Response> {
        let url = self.host.join(path.trim_start_matches('/')).map_err(|e| {
            Error::Destination(format!("{path} is not a path on {}: {e}", self.host))
        })?;
        let label = format!("{method} {}", url.path());
        let (method, url, label, body) = (&method, &url, &label, &body);
        let send = |bearer: Bearer| async move {
            send(&self.policy, "Databricks", label, || {
                let request = self
                    .http
                    .request(method.clone(), url.clone())
                    .query(query)
                    .bearer_auth(bearer.value.expose());
                match body {
                    Body::None => request,
                    Body::Json(value) => request.json(value),
                    Body::Bytes(bytes) => request
                        .header("Content-Type", "application/octet-stream")
                        .body(bytes.clone()),
                }
            })
            .await
        };
        let response = (self.tokens)
            .send_authorized(&self.http, &self.policy, label, send)
            .await?;
        if response.status.as_u16() == 401 {
            return Err(Error::Credentials {
                service: "Databricks",
                detail: format!(
                    "{label} answered 401 ({}); check the token or the service principal",
                    excerpt(&response.body)
                ),
            });
        }
        Ok(response)
    }

    /// The principal that grants name: the service principal's application id, or for a
    /// personal access token the user that `current_user()` reports.
    pub async fn principal(&self) -> String {
        let principal = self.principal.get_or_init(|| async {
            match &self.config.auth {
                DatabricksAuth::OAuth { client_id, .. } => client_id.clone(),
                DatabricksAuth::Token(_) => match self.run("SELECT current_user()").await {
                    Ok(Outcome::Done(result)) => {
                        result.single().unwrap_or_else(|| "<your user>".to_string())
                    }
                    _ => "<your user>".to_string(),
                },
            }
        });
        principal.await.clone()
    }
}

/// `error_code` and `message` of a platform error body, or the body itself.
pub(super) fn platform_error(response: &Response) -> (String, String) {
    match serde_json::from_slice::<PlatformError>(&response.body) {
        Ok(PlatformError {
            error_code,
            message,
        }) => (
            error_code.unwrap_or_else(|| response.status.to_string()),
            message.unwrap_or_else(|| excerpt(&response.body)),
        ),
        Err(_) => (response.status.to_string(), excerpt(&response.body)),
    }
}
