//! One client per run: a shared HTTP connection pool, one OAuth token, and one semaphore that
//! keeps the requests in flight across every object under the configured concurrency.

use std::sync::Arc;

use tokio::sync::Semaphore;
use url::Url;

use super::auth::TokenSource;
use crate::config::{Secret, ZuoraConfig};
use crate::error::{Error, Result};
use crate::http::{Response, RetryPolicy, excerpt, send_limited};

pub struct ZuoraClient {
    http: reqwest::Client,
    base_url: Url,
    tokens: TokenSource,
    policy: RetryPolicy,
    permits: Arc<Semaphore>,
    version: String,
    entity_ids: Option<String>,
    pub(super) page_size: u32,
}

impl ZuoraClient {
    pub fn new(config: &ZuoraConfig) -> Result<Self> {
        let secret = config.client_secret.clone().ok_or_else(|| {
            Error::config(format!("{} is not set", crate::config::ZUORA_SECRET_VAR))
        })?;
        let http = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .user_agent(concat!("zuora-sync/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::config(format!("cannot build an HTTP client: {e}")))?;
        // A base URL without a trailing slash would lose its last segment in `join`.
        let mut base_url = config.base_url.clone();
        if !base_url.path().ends_with('/') {
            base_url.set_path(&format!("{}/", base_url.path()));
        }
        Ok(Self {
            tokens: TokenSource::new(&base_url, &config.client_id, secret),
            http,
            base_url,
            policy: RetryPolicy::new(config.max_retries, config.retry_budget),
            permits: Arc::new(Semaphore::new(config.max_concurrency)),
            version: config.zuora_version.clone(),
            entity_ids: config.entity_ids.clone(),
            page_size: config.page_size,
        })
    }

    /// Fetches a token now, so that wrong credentials fail before any other work starts.
    pub async fn authenticate(&self) -> Result<()> {
        self.tokens.bearer(&self.http, &self.policy).await.map(drop)
    }

    /// GETs `path` (relative to the base URL) with `query`, retrying per the policy and once
    /// more with a fresh token when Zuora rejects the current one. Returns a 2xx response;
    /// any other final status is an error naming the request.
    pub(super) async fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Response> {
        let url = self.base_url.join(path).expect("paths are relative");
        let label = format!("GET /{path}");
        let mut refreshed = false;
        loop {
            let bearer = self.tokens.bearer(&self.http, &self.policy).await?;
            let response = send_limited(&self.policy, Some(&self.permits), "Zuora", &label, || {
                self.request(url.clone(), query, &bearer.value)
            })
            .await?;
            if response.status.as_u16() == 401 && !refreshed {
                tracing::info!(request = %label, "Zuora rejected the token; fetching a new one");
                self.tokens.invalidate(&bearer).await;
                refreshed = true;
                continue;
            }
            if !response.status.is_success() {
                return Err(Error::Source(format!(
                    "{label} answered {}: {} (Zuora-Request-Id {})",
                    response.status,
                    excerpt(&response.body),
                    header(&response, "zuora-request-id")
                )));
            }
            return Ok(response);
        }
    }

    fn request(
        &self,
        url: Url,
        query: &[(&str, String)],
        token: &Secret,
    ) -> reqwest::RequestBuilder {
        let mut request = self
            .http
            .get(url)
            .query(query)
            .bearer_auth(token.expose())
            .header("Zuora-Version", &self.version);
        if let Some(entities) = &self.entity_ids {
            request = request.header("Zuora-Entity-Ids", entities);
        }
        request
    }
}

fn header<'a>(response: &'a Response, name: &str) -> &'a str {
    response
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("none")
}
