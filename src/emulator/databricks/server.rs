//! The HTTP face of the emulated workspace: the axum routes of OIDC, the Statement Execution,
//! Warehouses and Files APIs, and one layer around them that authenticates the bearer token
//! (every route but the token endpoint and the discovery documents needs one) and records
//! every request for tests. Errors use the platform's `{"error_code", "message"}` body.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Extension, Router};
use serde_json::{Value, json};

use super::LoggedRequest;
use super::auth::{self, Auth, Principal};
use super::files;
use super::sql::Workspace;
use super::sql::error::SqlError;
use super::statements::{self, Statements};
use super::warehouse::Warehouse;

const TOKEN_PATH: &str = "/oidc/v1/token";
const PUBLIC_PATHS: [&str; 3] = [
    TOKEN_PATH,
    "/.well-known/databricks-config",
    "/oidc/.well-known/oauth-authorization-server",
];

/// The request log keeps this many of the latest entries.
const LOG_CAPACITY: usize = 1_000_000;

/// Failures planted by tests, served first in first out.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    /// HTTP statuses for the next statement submissions.
    pub http: VecDeque<u16>,
    /// Outcomes for the next statements that reach the warehouse.
    pub sql: VecDeque<SqlError>,
}

/// Everything the routes and the public API share.
#[derive(Debug)]
pub(crate) struct Shared {
    /// `http://127.0.0.1:PORT`.
    pub host: String,
    pub port: u16,
    /// The default catalog of statements that name none.
    pub catalog: String,
    pub auth: Auth,
    pub warehouse: Arc<Warehouse>,
    pub workspace: Arc<Workspace>,
    pub statements: Statements,
    pub faults: Mutex<Faults>,
    pub log: Mutex<VecDeque<LoggedRequest>>,
}

impl Shared {
    pub fn take_http_failure(&self) -> Option<u16> {
        self.faults.lock().expect("faults lock").http.pop_front()
    }

    pub fn take_planted_failure(&self) -> Option<SqlError> {
        self.faults.lock().expect("faults lock").sql.pop_front()
    }

    /// A planted 429 or 503 with `Retry-After: 1`.
    pub fn refuse_with_retry(&self, status: u16) -> Response {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        let (code, message) = match status {
            StatusCode::TOO_MANY_REQUESTS => (
                "REQUEST_LIMIT_EXCEEDED",
                "Too many requests; retry after the time in Retry-After.",
            ),
            StatusCode::SERVICE_UNAVAILABLE => (
                "TEMPORARILY_UNAVAILABLE",
                "The service is temporarily unavailable; retry after the time in Retry-After.",
            ),
            _ => ("INTERNAL_ERROR", "A failure planted by the test."),
        };
        let mut response = platform_error(status, code, message);
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        response
    }
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    // Statements may be 16 MiB; the JSON around them needs a little more.
    let statement_limit = || DefaultBodyLimit::max(17 * 1024 * 1024);
    Router::new()
        .route(TOKEN_PATH, post(token))
        .route("/.well-known/databricks-config", get(databricks_config))
        .route(
            "/oidc/.well-known/oauth-authorization-server",
            get(authorization_server),
        )
        .route(
            "/api/2.0/sql/statements",
            post(submit_statement).layer(statement_limit()),
        )
        // The Python SDK posts to the path with a trailing slash.
        .route(
            "/api/2.0/sql/statements/",
            post(submit_statement).layer(statement_limit()),
        )
        .route("/api/2.0/sql/statements/{id}", get(get_statement))
        .route(
            "/api/2.0/sql/statements/{id}/cancel",
            post(cancel_statement),
        )
        .route(
            "/api/2.0/sql/statements/{id}/result/chunks/{index}",
            get(get_chunk),
        )
        .route("/api/2.0/sql/warehouses", get(list_warehouses))
        .route("/api/2.0/sql/warehouses/{id}", get(get_warehouse))
        .route("/api/2.0/sql/warehouses/{id}/start", post(start_warehouse))
        .route("/api/2.0/sql/warehouses/{id}/stop", post(stop_warehouse))
        .route(
            "/api/2.0/fs/files/{*path}",
            put(put_file)
                .get(get_file)
                .head(head_file)
                .delete(delete_file)
                .layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/api/2.0/fs/directories/{*path}",
            put(put_directory)
                .get(list_directory)
                .head(head_directory)
                .delete(delete_directory),
        )
        .fallback(no_route)
        .layer(middleware::from_fn_with_state(shared.clone(), frame))
        .with_state(shared)
}

/// A refused API call: its HTTP status and the platform's `error_code` and `message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        platform_error(self.status, self.code, &self.message)
    }
}

/// `{"error_code": ..., "message": ...}`, the platform's error body.
pub(crate) fn platform_error(status: StatusCode, code: &str, message: &str) -> Response {
    json_response(status, &json!({ "error_code": code, "message": message }))
}

pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// Authenticates every non-public route and logs every request.
async fn frame(State(shared): State<Arc<Shared>>, mut request: Request, next: Next) -> Response {
    let method = request.method().to_string();
    let path = request.uri().path().to_string();
    let response = if PUBLIC_PATHS.contains(&path.as_str()) {
        next.run(request).await
    } else {
        let authorization = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        match shared.auth.authenticate(authorization) {
            Ok(principal) => {
                request.extensions_mut().insert(principal);
                next.run(request).await
            }
            // The 401 body's exact text is UNCONFIRMED; its shape is the platform's.
            Err(refusal) => platform_error(
                StatusCode::UNAUTHORIZED,
                "UNAUTHENTICATED",
                refusal.message(),
            ),
        }
    };

    let mut log = shared.log.lock().expect("log lock");
    if log.len() == LOG_CAPACITY {
        log.pop_front();
    }
    log.push_back(LoggedRequest {
        method,
        path,
        status: response.status().as_u16(),
    });
    drop(log);
    response
}

async fn token(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    let issued = shared.auth.issue(
        text(header::AUTHORIZATION),
        text(header::CONTENT_TYPE),
        &body,
    );
    match issued {
        Ok(answer) => json_response(StatusCode::OK, &answer),
        Err(refusal) => {
            let status = StatusCode::from_u16(refusal.status).unwrap_or(StatusCode::BAD_REQUEST);
            let body = json!({
                "error": refusal.error,
                "error_description": refusal.description,
            });
            json_response(status, &body)
        }
    }
}

async fn databricks_config(State(shared): State<Arc<Shared>>) -> Response {
    json_response(StatusCode::OK, &auth::databricks_config(&shared.host))
}

async fn authorization_server(State(shared): State<Arc<Shared>>) -> Response {
    json_response(StatusCode::OK, &auth::authorization_server(&shared.host))
}

async fn submit_statement(
    State(shared): State<Arc<Shared>>,
    Extension(who): Extension<Principal>,
    body: Bytes,
) -> Response {
    statements::submit(shared, who, body).await
}

async fn get_statement(
    State(shared): State<Arc<Shared>>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> Response {
    statements::get(&shared, &who, &id)
}

async fn cancel_statement(
    State(shared): State<Arc<Shared>>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> Response {
    statements::cancel(&shared, &who, &id)
}

async fn get_chunk(
    State(shared): State<Arc<Shared>>,
    Extension(who): Extension<Principal>,
    Path((id, index)): Path<(String, String)>,
) -> Response {
    statements::chunk(&shared, &who, &id, &index)
}

/// Viewing, starting and stopping the warehouse takes CAN_USE (or an admin); the real
/// permission levels for each are finer and UNCONFIRMED here.
fn warehouse_access(shared: &Shared, who: &Principal, id: &str) -> Result<(), ApiError> {
    if id != shared.warehouse.id {
        let message = format!("Warehouse {id} does not exist.");
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "RESOURCE_DOES_NOT_EXIST",
            message,
        ));
    }
    if !who.admin && !shared.warehouse.can_use(&who.name) {
        let message = format!(
            "User {} does not have CAN_USE permission on warehouse {id}.",
            who.name
        );
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "PERMISSION_DENIED",
            message,
        ));
    }
    Ok(())
}

async fn list_warehouses(
    State(shared): State<Arc<Shared>>,
    Extension(who): Extension<Principal>,
) -> Response {
    let visible = warehouse_access(&shared, &who, &shared.warehouse.id).is_ok();
    let warehouses: Vec<Value> = if visible {
        vec![shared.warehouse.describe("127.0.0.1", shared.port)]
    } else {
        Vec::new()
    };
    json_response(StatusCode::OK, &json!({ "warehouses": warehouses }))
}

async fn get_warehouse(
    State(shared): State<Arc<Shared>>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> Response {
    match warehouse_access(&shared, &who, &id) {
        Ok(()) => json_response(
            StatusCode::OK,
            &shared.warehouse.describe("127.0.0.1", shared.port),
        ),
        Err(error) => error.into_response(),
    }
}

async fn start_warehouse(
    State(shared): State<Arc<Shared>>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> Response {
    match warehouse_access(&shared, &who, &id) {
        Ok(()) => {
            shared.warehouse.start();
            json_response(StatusCode::OK, &json!({}))
        }
        Err(error) => error.into_response(),
    }
}

async fn stop_warehouse(
    State(shared): State<Arc<Shared>>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> Response {
    match warehouse_access(&shared, &who, &id) {
        Ok(()) => {
            shared.warehouse.stop();
            json_response(StatusCode::OK, &json!({}))
        }
        Err(error) => error.into_response(),
    }
}

async fn put_file(
    State(shared): State<Arc<Shared>>,
    Extension(who): Extension<Principal>,
    Path(path): Path<String>,
    RawQuery(query): RawQuery,
    body: Body,
) -> Response {
    files::put_file(&shared, &who, &path, query.as_deref(), body)
        .await
        .into_response()
}

async fn get_file(
    State(shared): State<Arc<Shared>>,
    Extension(who): Extension<Principal>,
    Path(path): Path<String>,
    headers: HeaderMap,
) -> Response {
    files::get_file(&shared, &who, &path, &headers, false)
        .await
        .into_response()
}

async fn head_file(
    State(shared): State<Arc<Shared>>,
    Extension(who): Extension<Principal>,
    Path(path): Path<String>,
    headers: HeaderMap,
) -> Response {
    files::get_file(&shared, &who, &path, &headers, true)
        .await
        .into_response()
}

async fn delete_file(
    State(shared): State<Arc<Shared>>,
    Extension(who): Extension<Principal>,
    Path(path): Path<String>,
) -> Response {
    files::delete_file(&shared, &who, &path).into_response()
}

async fn put_directory(
    State(shared): State<Arc<Shared>>,
    Extension(who): Extension<Principal>,
    Path(path): Path<String>,
) -> Response {
    files::put_directory(&shared, &who, &path).into_response()
}

async fn list_directory(
    State(shared): State<Arc<Shared>>,
    Extension(who): Extension<Principal>,
    Path(path): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    files::list_directory(&shared, &who, &path, query.as_deref()).into_response()
}

async fn head_directory(
    State(shared): State<Arc<Shared>>,
    Extension(who): Extension<Principal>,
    Path(path): Path<String>,
) -> Response {
    files::head_directory(&shared, &who, &path).into_response()
}

async fn delete_directory(
    State(shared): State<Arc<Shared>>,
    Extension(who): Extension<Principal>,
    Path(path): Path<String>,
) -> Response {
    files::delete_directory(&shared, &who, &path).into_response()
}

async fn no_route(request: Request) -> Response {
    let message = format!(
        "No API found for '{} {}'",
        request.method(),
        request.uri().path()
    );
    platform_error(StatusCode::NOT_FOUND, "ENDPOINT_NOT_FOUND", &message)
}
