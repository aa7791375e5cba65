//! The HTTP face of the emulator: the axum routes for OAuth, Describe and Object Query, and one
//! layer around them that checks the bearer token, stamps `Zuora-Request-Id`, echoes
//! `Zuora-Track-Id` and records every request for tests.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::auth::{AUTHENTICATION_ERROR, Auth, Refusal};
use super::catalog::CATALOG;
use super::clock::Clock;
use super::query::Query;
use super::tenant::Tenant;
use super::value::write_json_string;
use super::{InvalidPageSize, LoggedRequest, describe};

const TOKEN_PATH: &str = "/oauth/token";
const JSON: &str = "application/json; charset=utf-8";
const XML: &str = "application/xml";
const REQUEST_ID: HeaderName = HeaderName::from_static("zuora-request-id");
const TRACK_ID: HeaderName = HeaderName::from_static("zuora-track-id");

/// Zuora's Object Query concurrency limit, reported on every Object Query response.
const OBJECT_QUERY_LIMIT: usize = 80;

/// The request log keeps this many of the latest entries, so a long benchmark or a session of
/// `emulate zuora` does not grow without bound.
const LOG_CAPACITY: usize = 1_000_000;

/// An answer planted by `fail_next_query`.
#[derive(Debug, Clone)]
pub(crate) struct Canned {
    pub status: StatusCode,
    pub body: String,
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
    in_flight: AtomicUsize,
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
            in_flight: AtomicUsize::new(0),
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
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(TOKEN_PATH, post(token))
        .route("/v1/describe", get(describe_list))
        .route("/v1/describe/{object}", get(describe_object))
        .route("/object-query/{path}", get(object_query))
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

/// Wraps every route: token check, request and track ids, and the request log.
async fn frame(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let method = request.method().to_string();
    let path = request.uri().path().to_string();
    let query = request.uri().query().unwrap_or("").to_string();
    let track_id = request.headers().get(&TRACK_ID).cloned();

    let mut response = if track_id.as_ref().is_some_and(|t| !valid_track_id(t)) {
        // Zuora documents the limits of the header; what it answers when they are broken is
        // UNCONFIRMED, so the emulator refuses loudly instead of echoing a bad value.
        let message = "Zuora-Track-Id must be at most 64 ASCII characters without :;\"'";
        common_error(StatusCode::BAD_REQUEST, 90_000_090, message)
    } else if path != TOKEN_PATH && !authorized(&shared, request.headers()) {
        respond(StatusCode::UNAUTHORIZED, JSON, AUTHENTICATION_ERROR)
    } else {
        next.run(request).await
    };

    let headers = response.headers_mut();
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
        method,
        path,
        query,
        status,
    });
    drop(log);
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
    let xml = describe::object(&CATALOG.objects[object], &shared.base_url);
    respond(StatusCode::OK, XML, xml)
}

/// Counts a request against the concurrency limit while it runs.
struct InFlight<'a>(&'a AtomicUsize);

impl<'a> InFlight<'a> {
    fn enter(counter: &'a AtomicUsize) -> (InFlight<'a>, usize) {
        let running = counter.fetch_add(1, Ordering::SeqCst) + 1;
        (
            InFlight(counter),
            OBJECT_QUERY_LIMIT.saturating_sub(running),
        )
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn object_query(
    State(shared): State<Arc<Shared>>,
    Path(path): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let (_guard, remaining) = InFlight::enter(&shared.in_flight);
    let mut response = answer_query(&shared, &path, query.as_deref().unwrap_or(""));
    let headers = response.headers_mut();
    headers.insert(
        "concurrency-limit-type",
        HeaderValue::from_static("Object Query"),
    );
    headers.insert(
        "concurrency-limit-limit",
        HeaderValue::from(OBJECT_QUERY_LIMIT),
    );
    headers.insert("concurrency-limit-remaining", HeaderValue::from(remaining));
    response
}

fn answer_query(shared: &Shared, path: &str, raw_query: &str) -> Response {
    let Some(object) = CATALOG.by_path(path) else {
        let message = format!("Object Query has no object at '/object-query/{path}'");
        return common_error(StatusCode::NOT_FOUND, 50_000_040, &message);
    };
    if let Some(canned) = shared.take_canned(object) {
        return respond(canned.status, JSON, canned.body);
    }
    let def = &CATALOG.objects[object];
    let query = match Query::parse(def, raw_query, shared.invalid_page_size) {
        Ok(query) => query,
        Err(error) => return common_error(StatusCode::BAD_REQUEST, error.code, &error.message),
    };
    let body = {
        let tenant = shared.tenant.read().expect("tenant lock");
        query.run(def, &tenant.tables[object])
    };
    respond(StatusCode::OK, JSON, body)
}

async fn no_route(request: Request) -> Response {
    let message = format!(
        "The emulator does not serve {} {}",
        request.method(),
        request.uri().path()
    );
    common_error(StatusCode::NOT_FOUND, 50_000_040, &message)
}
