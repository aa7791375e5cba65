//! The HTTP face of the emulator: the axum routes for OAuth, Describe, Object Query and Data
//! Query, and one layer around them. The layer stamps every response with a `Date` from the
//! emulator clock (zuora-sync takes "now" from it), a `Zuora-Request-Id` and the echoed
//! `Zuora-Track-Id`, and records every request for tests. Around API requests (every route but
//! the token and result-file downloads) it counts concurrency and quota, applies the injected
//! faults, checks the bearer token, and reports `Concurrency-Limit-*` and `RateLimit-*`.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tokio::sync::watch;

use super::auth::{AUTHENTICATION_ERROR, Auth, Refusal};
use super::catalog::CATALOG;
use super::clock::Clock;
use super::cursors::{self, CursorLedger};
use super::data_query::{Download, Jobs, Submission};
use super::faults::{self, FaultKind, Injector, RouteFaults, Throttle};
use super::mutate::{self, MutationReport, Mutator};
use super::query::{MALFORMED, Query};
use super::tenant::Tenant;
use super::value::write_json_string;
use super::{InvalidPageSize, LoggedRequest, describe};

const TOKEN_PATH: &str = "/oauth/token";
const RESULTS_PATH: &str = "/query/results/";
const JSON: &str = "application/json; charset=utf-8";
const XML: &str = "application/xml";
const REQUEST_ID: HeaderName = HeaderName::from_static("zuora-request-id");
const TRACK_ID: HeaderName = HeaderName::from_static("zuora-track-id");

/// Zuora's concurrency limits, reported on API responses: Object Query has its own pool, every
/// other API shares the default one (reference §5).
const OBJECT_QUERY_LIMIT: usize = 80;
const DEFAULT_LIMIT: usize = 40;

/// The request log keeps this many of the latest entries, so a long benchmark or a session of
/// `emulate zuora` does not grow without bound.
const LOG_CAPACITY: usize = 1_000_000;

/// An answer planted by `fail_next_query`.
#[derive(Debug, Clone)]
pub(crate) struct Canned {
    pub status: StatusCode,
    pub body: Vec<u8>,
}

/// Random batches applied while clients page: every `every`-th Object Query request first
/// applies a batch of `count` changes seeded from `seed` and the batch number.
#[derive(Debug, Default)]
pub(crate) struct ScanMutations {
    pub every: usize,
    pub seed: u64,
    pub count: usize,
    pub pages: usize,
    pub reports: Vec<MutationReport>,
}

/// Everything the routes and the public API share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub base_url: String,
    pub invalid_page_size: InvalidPageSize,
    pub tenant: RwLock<Tenant>,
    pub clock: Clock,
    pub auth: Auth,
    /// Planted answers per object, served first in first out.
    pub canned: Mutex<BTreeMap<usize, VecDeque<Canned>>>,
    pub log: Mutex<VecDeque<LoggedRequest>>,
    pub faults: Injector,
    pub cursors: Mutex<CursorLedger>,
    pub jobs: Mutex<Jobs>,
    pub scans: Mutex<ScanMutations>,
    /// The random stream of the fine-grained mutation helpers.
    pub mutation_rng: Mutex<ChaCha8Rng>,
    /// The users that mutations are made by: those of the generated rows.
    pub users: Vec<String>,
    /// API requests running now.
    pub in_flight: watch::Sender<usize>,
    /// Holds in force: while above zero, API requests wait before being served.
    pub holds: watch::Sender<usize>,
    ids: Mutex<ChaCha8Rng>,
}

impl Shared {
    pub fn new(
        base_url: String,
        seed: u64,
        invalid_page_size: InvalidPageSize,
        tenant: Tenant,
        clock: Clock,
        auth: Auth,
    ) -> Shared {
        Shared {
            base_url,
            invalid_page_size,
            tenant: RwLock::new(tenant),
            clock,
            auth,
            canned: Mutex::new(BTreeMap::new()),
            log: Mutex::new(VecDeque::new()),
            faults: Injector::new(),
            cursors: Mutex::new(CursorLedger::default()),
            jobs: Mutex::new(Jobs::new(seed)),
            scans: Mutex::new(ScanMutations::default()),
            mutation_rng: Mutex::new(ChaCha8Rng::seed_from_u64(seed ^ 0x0a17_e500_0000_0007)),
            users: super::generate::users(seed),
            in_flight: watch::Sender::new(0),
            holds: watch::Sender::new(0),
            ids: Mutex::new(ChaCha8Rng::seed_from_u64(seed ^ 0x1d5_0000_0003)),
        }
    }

    /// A fresh `Zuora-Request-Id`, UUID-shaped like Zuora's.
    fn request_id(&self) -> String {
        super::generate::uuid(self.ids.lock().expect("id lock").random())
    }

    /// A v1 `processId`: sixteen uppercase hex digits.
    fn process_id(&self) -> String {
        format!("{:016X}", self.ids.lock().expect("id lock").random::<u64>())
    }

    fn take_canned(&self, object: usize) -> Option<Canned> {
        self.canned
            .lock()
            .expect("canned lock")
            .get_mut(&object)?
            .pop_front()
    }

    /// Runs `change` as one batch committed now, with `rng` as its random stream.
    pub fn mutate<T>(
        &self,
        rng: &mut ChaCha8Rng,
        change: impl FnOnce(&mut Mutator) -> T,
    ) -> (T, MutationReport) {
        let mut tenant = self.tenant.write().expect("tenant lock");
        // Read under the lock, so commits reach the store in the order of their instants.
        let now = self.clock.now();
        tenant.settle(now);
        let mut mutator = Mutator::new(&mut tenant, rng, &self.users, now);
        let out = change(&mut mutator);
        (out, mutator.finish())
    }

    /// The tenant as Object Query sees it now, with every change whose delay has passed.
    pub fn visible(&self) -> RwLockReadGuard<'_, Tenant> {
        let now = self.clock.now();
        if self.tenant.read().expect("tenant lock").needs_settling(now) {
            self.tenant.write().expect("tenant lock").settle(now);
        }
        self.tenant.read().expect("tenant lock")
    }

    /// Applies the batch due before this Object Query request, if one is.
    fn mutate_for_scan(&self) {
        let mut scans = self.scans.lock().expect("scan lock");
        if scans.every == 0 {
            return;
        }
        scans.pages += 1;
        if !scans.pages.is_multiple_of(scans.every) {
            return;
        }
        let batch = (scans.pages / scans.every) as u64;
        let mut rng = mutate::batch_rng(scans.seed.wrapping_add(batch.wrapping_mul(0x9e37_79b9)));
        let count = scans.count;
        let ((), report) = self.mutate(&mut rng, |m| m.random(count));
        scans.reports.push(report);
    }
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(TOKEN_PATH, post(token))
        .route("/v1/describe", get(describe_list))
        .route("/v1/describe/{object}", get(describe_object))
        .route("/object-query/{path}", get(object_query))
        .route("/query/jobs", post(submit_job))
        .route("/query/jobs/{id}", get(poll_job).delete(cancel_job))
        .route("/query/results/{file}", get(result_file))
        .fallback(no_route)
        .layer(middleware::from_fn_with_state(shared.clone(), frame))
        .with_state(shared)
}

fn respond(status: StatusCode, content_type: &'static str, body: impl Into<Body>) -> Response {
    let mut response = Response::new(body.into());
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// `{"code": .., "message": ..}`, the SDK's CommonErrorResponse.
fn common_error(status: StatusCode, code: u32, message: &str) -> Response {
    let mut body = format!("{{\"code\":{code},\"message\":");
    write_json_string(message, &mut body);
    body.push('}');
    respond(status, JSON, body)
}

/// What a path is, for the layer: which checks and faults apply to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    /// `/oauth/token`: no bearer token, and outside the API limits (reference §5).
    Token,
    /// A Data Query result, served like a pre-signed S3 URL: no token, no API limits.
    ResultFile,
    ObjectQuery,
    Describe,
    /// Data Query jobs and unknown paths.
    OtherApi,
}

impl Route {
    fn of(path: &str) -> Route {
        if path == TOKEN_PATH {
            Route::Token
        } else if path.starts_with(RESULTS_PATH) {
            Route::ResultFile
        } else if path.starts_with("/object-query/") {
            Route::ObjectQuery
        } else if path == "/v1/describe" || path.starts_with("/v1/describe/") {
            Route::Describe
        } else {
            Route::OtherApi
        }
    }

    /// `Concurrency-Limit-Type` and Zuora's limit for it.
    fn pool(self) -> (&'static str, usize) {
        match self {
            Route::ObjectQuery => ("Object Query", OBJECT_QUERY_LIMIT),
            _ => ("Default", DEFAULT_LIMIT),
        }
    }
}

/// The request as the layer logs it.
struct Seen {
    method: Method,
    path: String,
}

/// Wraps every route: API admission and faults, the stamped headers, and the request log.
async fn frame(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let seen = Seen {
        method: request.method().clone(),
        path: request.uri().path().to_string(),
    };
    let query = request.uri().query().unwrap_or("").to_string();
    let track_id = request.headers().get(&TRACK_ID).cloned();
    let route = Route::of(&seen.path);

    let mut response = if track_id.as_ref().is_some_and(|t| !valid_track_id(t)) {
        // Zuora documents the limits of the header; what it answers when they are broken is
        // UNCONFIRMED, so the emulator refuses loudly instead of echoing a bad value.
        let message = "Zuora-Track-Id must be at most 64 ASCII characters without :;\"'";
        common_error(StatusCode::BAD_REQUEST, 90_000_090, message)
    } else if matches!(route, Route::Token | Route::ResultFile) {
        next.run(request).await
    } else {
        api(&shared, route, &seen, request, next).await
    };

    let headers = response.headers_mut();
    // hyper adds a Date from the real clock only when the response has none.
    if let Ok(date) = HeaderValue::from_str(&http_date(shared.clock.now())) {
        headers.insert(header::DATE, date);
    }
    if let Ok(id) = HeaderValue::from_str(&shared.request_id()) {
        headers.insert(REQUEST_ID, id);
    }
    if let Some(track_id) = track_id.filter(valid_track_id) {
        headers.insert(TRACK_ID, track_id);
    }
    let status = response.status().as_u16();
    let mut log = shared.log.lock().expect("log lock");
    if log.len() == LOG_CAPACITY {
        log.pop_front();
    }
    log.push_back(LoggedRequest {
        method: seen.method.to_string(),
        path: seen.path,
        query,
        status,
    });
    drop(log);
    response
}

/// RFC 9110's IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`.
fn http_date(at: DateTime<Utc>) -> String {
    at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// An API request: quota, bursts and token expiry are counted first (refused requests count,
/// as at Zuora), then concurrency, then the token; a held request waits after those, so it
/// counts as in flight while it waits.
async fn api(
    shared: &Arc<Shared>,
    route: Route,
    seen: &Seen,
    request: Request,
    next: Next,
) -> Response {
    let now = shared.clock.now();
    let method = seen.method.as_str();
    let admission = shared.faults.admit(now, method, &seen.path);
    let config = shared.faults.faults();
    let (_in_flight, running) = InFlight::enter(&shared.in_flight);
    let (pool, zuora_limit) = route.pool();
    let limit = config.max_concurrent_requests.unwrap_or(zuora_limit);

    let over_limit = config
        .max_concurrent_requests
        .is_some_and(|max| running > max);
    let mut response = if over_limit {
        let kind = FaultKind::ConcurrencyLimit { in_flight: running };
        shared.faults.record(now, method, &seen.path, kind);
        faults::concurrency_refusal(&shared.process_id(), config.retry_after)
    } else if let Some(refusal) = admission.refusal {
        match refusal {
            faults::Refusal::Burst(Throttle::Concurrency) => {
                faults::concurrency_refusal(&shared.process_id(), config.retry_after)
            }
            faults::Refusal::Burst(Throttle::RateLimit) => {
                faults::rate_limit_refusal(&admission.window, Some(config.retry_after.as_secs()))
            }
            faults::Refusal::Quota => faults::rate_limit_refusal(&admission.window, None),
        }
    } else {
        if admission.expire_tokens {
            shared.auth.expire_all(now);
        }
        if !authorized(shared, request.headers()) {
            respond(StatusCode::UNAUTHORIZED, JSON, AUTHENTICATION_ERROR)
        } else {
            let _ = shared.holds.subscribe().wait_for(|&holds| holds == 0).await;
            serve(shared, route, seen, request, next).await
        }
    };

    let refused = response.status() == StatusCode::TOO_MANY_REQUESTS;
    let headers = response.headers_mut();
    headers.insert("concurrency-limit-type", HeaderValue::from_static(pool));
    headers.insert("concurrency-limit-limit", HeaderValue::from(limit));
    let remaining = if refused {
        0
    } else {
        limit.saturating_sub(running)
    };
    headers.insert("concurrency-limit-remaining", HeaderValue::from(remaining));
    if !headers.contains_key("ratelimit-limit") {
        admission.window.write(headers);
    }
    response
}

/// An authorized API request, through the faults of its route.
async fn serve(
    shared: &Arc<Shared>,
    route: Route,
    seen: &Seen,
    request: Request,
    next: Next,
) -> Response {
    let method = seen.method.as_str();
    let planned = match route {
        Route::ObjectQuery => {
            shared.mutate_for_scan();
            let now = shared.clock.now();
            shared.faults.route_faults(now, method, &seen.path, true)
        }
        Route::Describe => {
            let now = shared.clock.now();
            shared.faults.route_faults(now, method, &seen.path, false)
        }
        _ => RouteFaults::default(),
    };
    if let Some(after) = planned.gateway_timeout {
        tokio::time::sleep(after).await;
        return faults::gateway_timeout();
    }
    if let Some(status) = planned.server_error {
        return faults::server_error(status, &shared.process_id());
    }
    if let Some(delay) = planned.slow {
        tokio::time::sleep(delay).await;
    }
    let response = next.run(request).await;
    if !planned.truncate {
        return response;
    }
    let (response, sent, promised) = faults::truncate(response).await;
    let kind = FaultKind::Truncated { sent, promised };
    shared
        .faults
        .record(shared.clock.now(), method, &seen.path, kind);
    response
}

fn valid_track_id(value: &HeaderValue) -> bool {
    let bytes = value.as_bytes();
    bytes.len() <= 64
        && bytes
            .iter()
            .all(|b| b.is_ascii() && !b.is_ascii_control() && !b":;\"'".contains(b))
}

fn authorized(shared: &Shared, headers: &HeaderMap) -> bool {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    shared.auth.accepts(authorization, shared.clock.now())
}

/// Counts an API request as running until dropped.
struct InFlight<'a>(&'a watch::Sender<usize>);

impl<'a> InFlight<'a> {
    /// Enters and returns how many are running, this one included.
    fn enter(counter: &'a watch::Sender<usize>) -> (InFlight<'a>, usize) {
        let mut running = 0;
        counter.send_modify(|n| {
            *n += 1;
            running = *n;
        });
        (InFlight(counter), running)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n -= 1);
    }
}

async fn token(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    match shared.auth.issue(content_type, &body, shared.clock.now()) {
        Ok(json) => respond(StatusCode::OK, JSON, json),
        Err(Refusal::Credentials) => respond(StatusCode::UNAUTHORIZED, JSON, AUTHENTICATION_ERROR),
        Err(Refusal::Malformed(message)) => {
            let mut body = String::from("{\"message\":");
            write_json_string(&message, &mut body);
            body.push('}');
            respond(StatusCode::BAD_REQUEST, JSON, body)
        }
    }
}

async fn describe_list(State(shared): State<Arc<Shared>>) -> Response {
    respond(
        StatusCode::OK,
        XML,
        describe::object_list(&CATALOG, &shared.base_url),
    )
}

async fn describe_object(State(shared): State<Arc<Shared>>, Path(name): Path<String>) -> Response {
    let Some(object) = CATALOG.object(&name) else {
        let message = format!("The object '{name}' is not supported by the Describe API");
        let body = serde_json::json!({
            "success": false,
            "processId": shared.process_id(),
            "reasons": [{ "code": 50_000_040, "message": message }],
        });
        return respond(StatusCode::NOT_FOUND, JSON, body.to_string());
    };
    let def = shared.tenant.read().expect("tenant lock").def(object);
    let xml = describe::object(&def, &shared.base_url);
    respond(StatusCode::OK, XML, xml)
}

async fn object_query(
    State(shared): State<Arc<Shared>>,
    Path(path): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    answer_query(&shared, &path, query.as_deref().unwrap_or(""))
}

fn answer_query(shared: &Shared, path: &str, raw_query: &str) -> Response {
    let Some(object) = CATALOG.by_path(path) else {
        let message = format!("Object Query has no object at '/object-query/{path}'");
        return common_error(StatusCode::NOT_FOUND, 50_000_040, &message);
    };
    if let Some(canned) = shared.take_canned(object) {
        return respond(canned.status, JSON, canned.body);
    }
    let now = shared.clock.now();
    let cursor = form_urlencoded::parse(raw_query.as_bytes())
        .find(|(name, _)| name == "cursor")
        .map(|(_, value)| value.into_owned());
    if let Some(cursor) = &cursor {
        let ttl = shared.faults.faults().cursor_ttl;
        if shared
            .cursors
            .lock()
            .expect("cursor lock")
            .is_expired(cursor, now, ttl)
        {
            let full_path = format!("/object-query/{path}");
            shared
                .faults
                .record(now, "GET", &full_path, FaultKind::CursorExpired);
            let (code, message) = (cursors::EXPIRED_CODE, cursors::EXPIRED_MESSAGE);
            return common_error(StatusCode::BAD_REQUEST, code, message);
        }
    }
    let tenant = shared.visible();
    let def = &tenant.schema[object];
    let query = match Query::parse(def, raw_query, shared.invalid_page_size) {
        Ok(query) => query,
        Err(error) => return common_error(StatusCode::BAD_REQUEST, error.code, &error.message),
    };
    let (body, next) = query.page(def, &tenant.tables[object]);
    drop(tenant);
    if let Some(next) = next {
        shared
            .cursors
            .lock()
            .expect("cursor lock")
            .issued(&next, now);
    }
    respond(StatusCode::OK, JSON, body)
}

/// `POST /query/jobs`. Zuora requires a JSON content type and answers its absence with
/// `{"code":415,"message":"HTTP 415 Unsupported Media Type"}` (developer.zuora.com
/// POST_DataQueryJob); the 400 bodies for other mistakes are UNCONFIRMED and use the common
/// `{code, message}` shape.
async fn submit_job(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.split(';').next().unwrap_or("").trim() == "application/json");
    if !json {
        let message = "HTTP 415 Unsupported Media Type";
        return common_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, 415, message);
    }
    let submission: Submission = match serde_json::from_slice(&body) {
        Ok(submission) => submission,
        Err(error) => {
            let message = format!("invalid data query request: {error}");
            return common_error(StatusCode::BAD_REQUEST, MALFORMED, &message);
        }
    };
    if let Err(message) = submission.check() {
        return common_error(StatusCode::BAD_REQUEST, MALFORMED, &message);
    }
    let now = shared.clock.now();
    let mut jobs = shared.jobs.lock().expect("job lock");
    respond(
        StatusCode::OK,
        JSON,
        jobs.submit(submission, now, &shared.base_url),
    )
}

async fn poll_job(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let mut jobs = shared.jobs.lock().expect("job lock");
    let tenant = shared.visible();
    let now = shared.clock.now();
    match jobs.poll(&id, &tenant, now, &shared.base_url) {
        Some(body) => respond(StatusCode::OK, JSON, body),
        None => missing_job(&id),
    }
}

async fn cancel_job(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let now = shared.clock.now();
    let mut jobs = shared.jobs.lock().expect("job lock");
    match jobs.cancel(&id, now, &shared.base_url) {
        Some(body) => respond(StatusCode::OK, JSON, body),
        None => missing_job(&id),
    }
}

fn missing_job(id: &str) -> Response {
    let message = format!("no data query job with id '{id}'");
    common_error(StatusCode::NOT_FOUND, 50_000_040, &message)
}

/// A result file, answered as S3 answers a pre-signed URL: the body, or an XML error.
async fn result_file(
    State(shared): State<Arc<Shared>>,
    Path(file): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let query = query.unwrap_or_default();
    let signature = form_urlencoded::parse(query.as_bytes())
        .find(|(name, _)| name == "signature")
        .map(|(_, value)| value.into_owned());
    let download = shared
        .jobs
        .lock()
        .expect("job lock")
        .download(&file, signature.as_deref());
    let s3_error = |status, code: &str, message: &str| {
        let body = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code>\
             <Message>{message}</Message></Error>"
        );
        respond(status, XML, body)
    };
    match download {
        Download::Found(lines) => respond(StatusCode::OK, "application/octet-stream", lines),
        Download::BadSignature => s3_error(
            StatusCode::FORBIDDEN,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided.",
        ),
        Download::Missing => s3_error(
            StatusCode::NOT_FOUND,
            "NoSuchKey",
            "The specified key does not exist.",
        ),
    }
}

async fn no_route(request: Request) -> Response {
    let message = format!(
        "The emulator does not serve {} {}",
        request.method(),
        request.uri().path()
    );
    common_error(StatusCode::NOT_FOUND, 50_000_040, &message)
}
