//! One client per run: a shared HTTP connection pool, one OAuth token, and one semaphore that
//! keeps the requests in flight across every object under the configured concurrency.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{DateTime, Utc};

use tokio::sync::Semaphore;
use url::Url;

use crate::config::{Secret, ZuoraConfig};
use crate::error::{Error, Result};
use crate::http::{
    Bearer, Grant, Response, RetryPolicy, TokenEndpoint, TokenSource, excerpt, send, send_limited,
};

pub struct ZuoraClient {
    http: reqwest::Client,
    base_url: Url,
    tokens: TokenSource,
    policy: RetryPolicy,
    permits: Arc<Semaphore>,
    version: String,
    entity_ids: Option<String>,
    pub(super) page_size: u32,
    /// The latest `Date` header from Zuora and when it arrived.
    server_time: Mutex<Option<(DateTime<Utc>, Instant)>>,
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
            tokens: TokenSource::oauth(TokenEndpoint {
                service: "Zuora",
                url: base_url
                    .join("oauth/token")
                    .expect("a base URL takes a path"),
                grant: Grant::FormCredentials,
                client_id: config.client_id.clone(),
                client_secret: secret,
                secret_variable: crate::config::ZUORA_SECRET_VAR,
                // Zuora recommends refreshing about five minutes before expiry.
                refresh_margin: std::time::Duration::from_secs(300),
            }),
            http,
            base_url,
            policy: RetryPolicy::new(config.max_retries, config.retry_budget),
            permits: Arc::new(Semaphore::new(config.max_concurrency)),
            version: config.zuora_version.clone(),
            entity_ids: config.entity_ids.clone(),
            page_size: config.page_size,
            server_time: Mutex::new(None),
        })
    }

    /// Zuora's "now", from the `Date` header of its latest response (plus the time since it
    /// arrived), or this machine's clock before any response. Windows end relative to Zuora's
    /// clock, because its query index lags Zuora's clock, not ours.
    pub fn server_now(&self) -> DateTime<Utc> {
        let seen = *self.server_time.lock().unwrap_or_else(|p| p.into_inner());
        match seen {
            Some((date, at)) => date + at.elapsed(),
            None => Utc::now(),
        }
    }

    fn observe_date(&self, response: &Response) {
        let date = response
            .headers
            .get(reqwest::header::DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| DateTime::parse_from_rfc2822(v).ok());
        if let Some(date) = date {
            *self.server_time.lock().unwrap_or_else(|p| p.into_inner()) =
                Some((date.with_timezone(&Utc), Instant::now()));
        }
    }

    /// Fetches a token now, so that wrong credentials fail before any other work starts.
    pub async fn authenticate(&self) -> Result<()> {
        self.tokens.bearer(&self.http, &self.policy).await.map(drop)
    }

    /// GETs `path` (relative to the base URL) with `query`. Returns a 2xx response; any other
    /// final status is an error naming the request.
    pub(super) async fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Response> {
        let response = self.call(reqwest::Method::GET, path, query, None).await?;
        ensure_success(&format!("GET /{path}"), response)
    }

    /// Sends a request, retrying per the policy and again with a new token when Zuora rejects
    /// the current one. Returns the final response, whatever its status.
    pub(super) async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        query: &[(&str, String)],
        json: Option<&serde_json::Value>,
    ) -> Result<Response> {
        let url = self.base_url.join(path).expect("paths are relative");
        let label = format!("{method} /{path}");
        let (method, url, label) = (&method, &url, &label);
        let send = |bearer: Bearer| async move {
            let response = send_limited(&self.policy, Some(&self.permits), "Zuora", label, || {
                let request = self.request(method.clone(), url.clone(), query, &bearer.value);
                match json {
                    Some(body) => request.json(body),
                    None => request,
                }
            })
            .await?;
            self.observe_date(&response);
            Ok(response)
        };
        (self.tokens)
            .send_authorized(&self.http, &self.policy, label, send)
            .await
    }

    /// Downloads a result file from its pre-signed URL. The bearer token does not go with it,
    /// and the URL's query (its signature) stays out of messages.
    pub(super) async fn download(&self, url: &str) -> Result<bytes::Bytes> {
        let parsed = Url::parse(url)
            .map_err(|e| Error::Source(format!("Zuora gave a result URL that is not one: {e}")))?;
        let mut shown = parsed.clone();
        shown.set_query(None);
        let label = format!("GET {shown}");
        let response = send(&self.policy, "Zuora", &label, || {
            self.http.get(parsed.clone())
        })
        .await?;
        ensure_success(&label, response).map(|r| r.body)
    }

    fn request(
        &self,
        method: reqwest::Method,
        url: Url,
        query: &[(&str, String)],
        token: &Secret,
    ) -> reqwest::RequestBuilder {
        let mut request = self
            .http
            .request(method, url)
            .query(query)
            .bearer_auth(token.expose())
            .header("Zuora-Version", &self.version);
        if let Some(entities) = &self.entity_ids {
            request = request.header("Zuora-Entity-Ids", entities);
        }
        request
    }
}

/// The response if it is a success; otherwise an error naming the request and Zuora's answer.
pub(super) fn ensure_success(label: &str, response: Response) -> Result<Response> {
    if response.status.is_success() {
        return Ok(response);
    }
    Err(Error::Source(format!(
        "{label} answered {}: {} (Zuora-Request-Id {})",
        response.status,
        excerpt(&response.body),
        header(&response, "zuora-request-id")
    )))
}

fn header<'a>(response: &'a Response, name: &str) -> &'a str {
    response
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("none")
}
