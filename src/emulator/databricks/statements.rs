//! The Statement Execution API: `POST /api/2.0/sql/statements` with its body fields, then
//! `GET .../{id}`, `POST .../{id}/cancel` and `GET .../{id}/result/chunks/{n}`. Statements run
//! in their own task: PENDING while the warehouse starts, RUNNING while DuckDB executes, then
//! SUCCEEDED, FAILED (HTTP 200 with `status.error` and `status.sql_state`) or CANCELED. The
//! submit call waits up to `wait_timeout` (`0s`, or `5s` to `50s`) for the outcome, then
//! returns the current state, or cancels the statement when `on_wait_timeout` is CANCEL.
//!
//! Results are INLINE JSON_ARRAY only, split into chunks of [`ROWS_PER_CHUNK`] rows; anything
//! else is refused with an error rather than answered in a shape the emulator cannot vouch for.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rand::RngExt;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use tokio::sync::watch;

use super::auth::Principal;
use super::server::{ApiError, Shared, json_response};
use super::sql::error::SqlError;
use super::sql::redact::redact;
use super::sql::results::ResultSet;
use super::sql::{Parameter, Session};
use super::{LoggedStatement, StatementState};

/// Rows per result chunk. Databricks sizes INLINE chunks by bytes; a row count keeps the
/// chunk boundaries predictable for tests.
pub(crate) const ROWS_PER_CHUNK: usize = 10_000;

/// INLINE results above this size fail the statement, as on Databricks.
const INLINE_LIMIT: usize = 25 * 1024 * 1024;

/// Statement text above this size is refused at submit.
const STATEMENT_LIMIT: usize = 16 * 1024 * 1024;

/// The registry keeps this many statements; older ones answer 404, as expired ones do.
const CAPACITY: usize = 100_000;

/// The state of a statement and, once it ended, its outcome.
#[derive(Debug, Clone)]
pub(crate) enum Status {
    Pending,
    Running,
    Succeeded(Arc<Success>),
    Failed(Arc<SqlError>),
    Canceled,
}

impl Status {
    fn is_terminal(&self) -> bool {
        matches!(
            self,
            Status::Succeeded(_) | Status::Failed(_) | Status::Canceled
        )
    }

    fn state(&self) -> StatementState {
        match self {
            Status::Pending => StatementState::Pending,
            Status::Running => StatementState::Running,
            Status::Succeeded(_) => StatementState::Succeeded,
            Status::Failed(_) => StatementState::Failed,
            Status::Canceled => StatementState::Canceled,
        }
    }
}

/// A successful result, already limited and chunked.
#[derive(Debug)]
pub(crate) struct Success {
    result: ResultSet,
    truncated: bool,
}

impl Success {
    /// Applies `row_limit` and `byte_limit`; fails when the INLINE result is too large.
    fn new(
        mut result: ResultSet,
        row_limit: Option<u64>,
        byte_limit: Option<u64>,
    ) -> Result<Success, SqlError> {
        let mut truncated = false;
        if let Some(limit) = row_limit.and_then(|l| usize::try_from(l).ok())
            && result.rows.len() > limit
        {
            result.rows.truncate(limit);
            truncated = true;
        }
        let mut bytes = 0usize;
        let mut kept = result.rows.len();
        for (i, row) in result.rows.iter().enumerate() {
            bytes += row_bytes(row);
            if byte_limit.is_some_and(|limit| bytes as u64 > limit) {
                kept = i;
                truncated = true;
                break;
            }
        }
        result.rows.truncate(kept);
        if bytes > INLINE_LIMIT && !truncated {
            // The wording of this failure is UNCONFIRMED; the 25 MiB limit is documented.
            let message = format!(
                "Inline byte limit exceeded: an INLINE result may hold at most {INLINE_LIMIT} \
                 bytes. Use disposition EXTERNAL_LINKS or a row_limit."
            );
            return Err(SqlError::unclassified(message, None));
        }
        Ok(Success { result, truncated })
    }

    fn chunk_count(&self) -> usize {
        self.result.rows.len().div_ceil(ROWS_PER_CHUNK)
    }

    fn manifest(&self) -> Value {
        let columns: Vec<Value> = self
            .result
            .columns
            .iter()
            .enumerate()
            .map(|(position, column)| {
                let mut info = json!({
                    "name": column.name,
                    "position": position,
                    "type_name": column.type_name,
                    "type_text": column.type_text,
                });
                if let (Some(precision), Some(scale)) = (column.precision, column.scale) {
                    info["type_precision"] = json!(precision);
                    info["type_scale"] = json!(scale);
                }
                info
            })
            .collect();
        let mut schema = json!({ "column_count": columns.len() });
        if !columns.is_empty() {
            schema["columns"] = Value::Array(columns);
        }
        let mut manifest = json!({
            "format": "JSON_ARRAY",
            "schema": schema,
            "total_chunk_count": self.chunk_count(),
            "total_row_count": self.result.rows.len(),
            "truncated": self.truncated,
        });
        if self.chunk_count() > 0 {
            let chunks: Vec<Value> = (0..self.chunk_count())
                .map(|index| {
                    let (offset, count) = self.bounds(index);
                    json!({ "chunk_index": index, "row_offset": offset, "row_count": count })
                })
                .collect();
            manifest["chunks"] = Value::Array(chunks);
        }
        manifest
    }

    fn bounds(&self, index: usize) -> (usize, usize) {
        let offset = index * ROWS_PER_CHUNK;
        let count = ROWS_PER_CHUNK.min(self.result.rows.len() - offset);
        (offset, count)
    }

    /// Chunk `index` in the `result` shape; `None` past the last chunk.
    fn chunk(&self, statement_id: &str, index: usize) -> Option<Value> {
        if index >= self.chunk_count() {
            return None;
        }
        let (offset, count) = self.bounds(index);
        let rows = &self.result.rows[offset..offset + count];
        let mut chunk = json!({
            "chunk_index": index,
            "row_offset": offset,
            "row_count": count,
            "data_array": rows,
        });
        if index + 1 < self.chunk_count() {
            chunk["next_chunk_index"] = json!(index + 1);
            chunk["next_chunk_internal_link"] = json!(format!(
                "/api/2.0/sql/statements/{statement_id}/result/chunks/{}",
                index + 1
            ));
        }
        Some(chunk)
    }
}

/// About what the row weighs in the JSON answer.
fn row_bytes(row: &[Option<String>]) -> usize {
    row.iter()
        .map(|cell| cell.as_ref().map_or(4, |text| text.len() + 3))
        .sum::<usize>()
        + 2
}

#[derive(Debug)]
pub(crate) struct Record {
    pub id: String,
    /// Identifies the statement to the workspace, for interrupting it.
    ticket: u64,
    pub principal: String,
    /// The statement text with credentials redacted.
    pub logged_sql: String,
    canceled: AtomicBool,
    status: watch::Sender<Status>,
}

impl Record {
    fn status(&self) -> Status {
        self.status.borrow().clone()
    }

    /// Moves to `next` unless the statement already ended; false when it had.
    fn finish(&self, next: Status) -> bool {
        self.status.send_if_modified(|status| {
            let open = !status.is_terminal();
            if open {
                *status = next;
            }
            open
        })
    }

    /// PENDING → RUNNING; false when the statement was canceled first.
    fn start_running(&self) -> bool {
        self.status.send_if_modified(|status| {
            let pending = matches!(status, Status::Pending);
            if pending {
                *status = Status::Running;
            }
            pending
        })
    }

    /// A pending statement ends CANCELED at once; a running one is interrupted and ends
    /// CANCELED unless it committed first, in which case the cancel silently fails, as the
    /// API documents.
    fn cancel(&self, shared: &Shared) {
        self.canceled.store(true, Ordering::SeqCst);
        let was_pending = self.status.send_if_modified(|status| {
            let pending = matches!(status, Status::Pending);
            if pending {
                *status = Status::Canceled;
            }
            pending
        });
        if !was_pending {
            shared.workspace.interrupt(self.ticket);
        }
    }

    pub fn logged(&self) -> LoggedStatement {
        let status = self.status();
        let error = match &status {
            Status::Failed(error) => Some(error.clone()),
            _ => None,
        };
        LoggedStatement {
            statement_id: self.id.clone(),
            principal: self.principal.clone(),
            sql: self.logged_sql.clone(),
            state: status.state(),
            error_class: error.as_ref().and_then(|e| e.class.clone()),
            error_message: error.as_ref().map(|e| e.message.clone()),
            sql_state: error.as_ref().and_then(|e| e.sql_state.clone()),
        }
    }
}

/// Every statement submitted, in order.
#[derive(Debug, Default)]
pub(crate) struct Statements {
    records: Mutex<VecDeque<Arc<Record>>>,
    tickets: AtomicU64,
}

impl Statements {
    fn add(&self, principal: &str, sql: &str) -> Arc<Record> {
        let record = Arc::new(Record {
            id: statement_id(),
            ticket: self.tickets.fetch_add(1, Ordering::Relaxed),
            principal: principal.to_string(),
            logged_sql: redact(sql),
            canceled: AtomicBool::new(false),
            status: watch::Sender::new(Status::Pending),
        });
        let mut records = self.records.lock().expect("statements lock");
        if records.len() == CAPACITY {
            records.pop_front();
        }
        records.push_back(record.clone());
        record
    }

    fn find(&self, id: &str) -> Option<Arc<Record>> {
        let records = self.records.lock().expect("statements lock");
        records.iter().rev().find(|r| r.id == id).cloned()
    }

    pub fn log(&self) -> Vec<LoggedStatement> {
        let records = self.records.lock().expect("statements lock");
        records.iter().map(|r| r.logged()).collect()
    }
}

/// Databricks statement ids are UUID-shaped, starting with `01`.
fn statement_id() -> String {
    let bits: u128 = rand::rng().random();
    let id = super::auth::uuid(bits);
    format!("01{}", &id[2..])
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExecuteRequest {
    statement: Option<String>,
    warehouse_id: Option<String>,
    catalog: Option<String>,
    schema: Option<String>,
    wait_timeout: Option<String>,
    on_wait_timeout: Option<String>,
    disposition: Option<String>,
    format: Option<String>,
    parameters: Option<Vec<Parameter>>,
    row_limit: Option<i64>,
    byte_limit: Option<i64>,
    /// Accepted and ignored: tags only label the statement in query history.
    #[serde(default, rename = "query_tags")]
    _query_tags: Option<serde::de::IgnoredAny>,
}

/// What a valid request asks for.
struct Submission {
    sql: String,
    session: Session,
    parameters: Vec<Parameter>,
    wait: Duration,
    cancel_on_timeout: bool,
    row_limit: Option<u64>,
    byte_limit: Option<u64>,
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE", message)
}

pub(crate) async fn submit(shared: Arc<Shared>, principal: Principal, body: Bytes) -> Response {
    if let Some(status) = shared.take_http_failure() {
        return shared.refuse_with_retry(status);
    }
    let submission = match validate(&shared, &principal, &body) {
        Ok(submission) => submission,
        Err(error) => return error.into_response(),
    };

    let record = shared.statements.add(&principal.name, &submission.sql);
    tracing::debug!(statement_id = %record.id, principal = %principal.name, "Statement submitted");
    let (wait, cancel_on_timeout) = (submission.wait, submission.cancel_on_timeout);
    // The statement lives on in its task whatever happens to this request.
    drop(tokio::spawn(execute(
        shared.clone(),
        record.clone(),
        submission,
    )));

    // `0s` answers at once. A zero timeout would still yield to the runtime first, and a quick
    // statement could end meanwhile.
    if wait.is_zero() {
        return json_response(StatusCode::OK, &describe(&record, record.status()));
    }
    let mut changes = record.status.subscribe();
    let waited = tokio::time::timeout(wait, changes.wait_for(Status::is_terminal));
    let ended = waited.await.is_ok();
    if !ended && cancel_on_timeout {
        record.cancel(&shared);
        // A running statement stops at its next step; give it a moment to say so.
        let settle = Duration::from_secs(5);
        let _ = tokio::time::timeout(settle, changes.wait_for(Status::is_terminal)).await;
    }
    json_response(StatusCode::OK, &describe(&record, record.status()))
}

fn validate(shared: &Shared, principal: &Principal, body: &[u8]) -> Result<Submission, ApiError> {
    let request: ExecuteRequest = serde_json::from_slice(body)
        .map_err(|e| invalid(format!("Malformed request body: {e}")))?;
    let sql = request
        .statement
        .ok_or_else(|| invalid("Missing required field: statement"))?;
    if sql.len() > STATEMENT_LIMIT {
        return Err(invalid("The statement exceeds the 16 MiB limit"));
    }
    let warehouse_id = request
        .warehouse_id
        .ok_or_else(|| invalid("Missing required field: warehouse_id"))?;

    let wait = wait_timeout(request.wait_timeout.as_deref().unwrap_or("10s"))?;
    let cancel_on_timeout = match request.on_wait_timeout.as_deref().unwrap_or("CONTINUE") {
        "CONTINUE" => false,
        "CANCEL" => true,
        other => return Err(invalid(format!("Invalid on_wait_timeout: {other}"))),
    };
    result_shape(request.disposition.as_deref(), request.format.as_deref())?;
    let limit = |value: Option<i64>, name: &str| match value {
        Some(v) if v < 0 => Err(invalid(format!("{name} must not be negative"))),
        other => Ok(other.map(|v| v as u64)),
    };
    let row_limit = limit(request.row_limit, "row_limit")?;
    let byte_limit = limit(request.byte_limit, "byte_limit")?;

    // The exact codes and texts for an unknown warehouse and a missing CAN_USE are
    // UNCONFIRMED; the statuses (404, 403) follow the platform's mapping.
    if warehouse_id != shared.warehouse.id {
        let message = format!("Warehouse {warehouse_id} does not exist.");
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "RESOURCE_DOES_NOT_EXIST",
            message,
        ));
    }
    if !principal.admin && !shared.warehouse.can_use(&principal.name) {
        let message = format!(
            "User {} does not have CAN_USE permission on warehouse {warehouse_id}.",
            principal.name
        );
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "PERMISSION_DENIED",
            message,
        ));
    }

    let session = Session {
        principal: principal.clone(),
        catalog: request.catalog.unwrap_or_else(|| shared.catalog.clone()),
        // Like a workspace whose default schema is `default`.
        schema: request.schema.unwrap_or_else(|| "default".to_string()),
    };
    Ok(Submission {
        sql,
        session,
        parameters: request.parameters.unwrap_or_default(),
        wait,
        cancel_on_timeout,
        row_limit,
        byte_limit,
    })
}

/// `"0s"`, or `"5s"` to `"50s"`.
fn wait_timeout(text: &str) -> Result<Duration, ApiError> {
    let seconds = text
        .strip_suffix('s')
        .and_then(|n| n.parse::<u64>().ok())
        .filter(|n| *n == 0 || (5..=50).contains(n));
    // The error_code of this refusal is UNCONFIRMED; 400 is documented.
    seconds.map(Duration::from_secs).ok_or_else(|| {
        invalid(format!(
            "wait_timeout must be 0s or between 5s and 50s, not '{text}'"
        ))
    })
}

/// INLINE + JSON_ARRAY is what the emulator serves.
fn result_shape(disposition: Option<&str>, format: Option<&str>) -> Result<(), ApiError> {
    let disposition = disposition.unwrap_or("INLINE");
    let format = format.unwrap_or("JSON_ARRAY");
    match (disposition, format) {
        ("INLINE", "JSON_ARRAY") => Ok(()),
        ("INLINE", "ARROW_STREAM" | "CSV") => Err(invalid(format!(
            "{format} is only available with disposition EXTERNAL_LINKS"
        ))),
        ("EXTERNAL_LINKS", "JSON_ARRAY" | "ARROW_STREAM" | "CSV") => Err(ApiError::new(
            StatusCode::NOT_IMPLEMENTED,
            "NOT_IMPLEMENTED",
            "The emulator serves INLINE JSON_ARRAY results only",
        )),
        _ => Err(invalid(format!(
            "Invalid disposition or format: {disposition}, {format}"
        ))),
    }
}

/// The life of a statement after submit.
async fn execute(shared: Arc<Shared>, record: Arc<Record>, submission: Submission) {
    let Submission {
        sql,
        session,
        parameters,
        row_limit,
        byte_limit,
        ..
    } = submission;
    let mut changes = record.status.subscribe();
    tokio::select! {
        () = shared.warehouse.running() => {}
        _ = changes.wait_for(Status::is_terminal) => return,
    }
    if !record.start_running() {
        return;
    }
    if let Some(planted) = shared.take_planted_failure() {
        record.finish(Status::Failed(Arc::new(planted)));
        return;
    }

    let workspace = shared.workspace.clone();
    let running = record.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        workspace.execute(
            &session,
            &sql,
            &parameters,
            running.ticket,
            &running.canceled,
        )
    })
    .await;
    let status = match outcome {
        Ok(Err(_)) if record.canceled.load(Ordering::SeqCst) => Status::Canceled,
        Ok(Ok(result)) => match Success::new(result, row_limit, byte_limit) {
            Ok(success) => Status::Succeeded(Arc::new(success)),
            Err(error) => Status::Failed(Arc::new(error)),
        },
        Ok(Err(error)) => Status::Failed(Arc::new(error)),
        Err(panic) => Status::Failed(Arc::new(SqlError::internal(panic))),
    };
    let state = status.state();
    record.finish(status);
    tracing::debug!(statement_id = %record.id, state = ?state, "Statement ended");
}

/// The `StatementResponse` body.
fn describe(record: &Record, status: Status) -> Value {
    let mut state = Map::new();
    state.insert("state".into(), json!(status.state().as_str()));
    if let Status::Failed(error) = &status {
        state.insert(
            "error".into(),
            json!({ "error_code": "BAD_REQUEST", "message": error.message }),
        );
        if let Some(sql_state) = &error.sql_state {
            state.insert("sql_state".into(), json!(sql_state));
        }
    }
    let mut body = json!({ "statement_id": record.id, "status": state });
    if let Status::Succeeded(success) = &status {
        body["manifest"] = success.manifest();
        // With no rows there is no chunk; whether Databricks then sends an empty `result`
        // is UNCONFIRMED, so clients must cope without one.
        if let Some(first) = success.chunk(&record.id, 0) {
            body["result"] = first;
        }
    }
    body
}

pub(crate) fn get(shared: &Shared, principal: &Principal, id: &str) -> Response {
    match visible(shared, principal, id) {
        Ok(record) => json_response(StatusCode::OK, &describe(&record, record.status())),
        Err(error) => error.into_response(),
    }
}

/// An empty object means "received", not "canceled": clients poll until the end.
pub(crate) fn cancel(shared: &Shared, principal: &Principal, id: &str) -> Response {
    match visible(shared, principal, id) {
        Ok(record) => {
            record.cancel(shared);
            json_response(StatusCode::OK, &json!({}))
        }
        Err(error) => error.into_response(),
    }
}

pub(crate) fn chunk(shared: &Shared, principal: &Principal, id: &str, index: &str) -> Response {
    let record = match visible(shared, principal, id) {
        Ok(record) => record,
        Err(error) => return error.into_response(),
    };
    let Status::Succeeded(success) = record.status() else {
        let message = format!("Statement {id} has no result to fetch.");
        return ApiError::new(StatusCode::BAD_REQUEST, "INVALID_STATE", message).into_response();
    };
    let chunk = index
        .parse::<usize>()
        .ok()
        .and_then(|index| success.chunk(id, index));
    match chunk {
        Some(chunk) => json_response(StatusCode::OK, &chunk),
        None => invalid(format!("Statement {id} has no chunk {index}.")).into_response(),
    }
}

/// A statement is visible to its own principal and to admins; others get the same 404 as
/// for an unknown id (whose exact code is UNCONFIRMED).
fn visible(shared: &Shared, principal: &Principal, id: &str) -> Result<Arc<Record>, ApiError> {
    shared
        .statements
        .find(id)
        .filter(|r| principal.admin || r.principal == principal.name)
        .ok_or_else(|| {
            let message = format!("Statement {id} does not exist.");
            ApiError::new(StatusCode::NOT_FOUND, "NOT_FOUND", message)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::databricks::sql::results::ResultColumn;
    use crate::emulator::databricks::sql::types::DbType;

    fn result(rows: usize) -> ResultSet {
        ResultSet {
            columns: vec![ResultColumn::new("n", DbType::BigInt)],
            rows: (0..rows).map(|n| vec![Some(n.to_string())]).collect(),
        }
    }

    #[test]
    fn wait_timeout_is_zero_or_five_to_fifty_seconds() {
        assert_eq!(wait_timeout("0s").unwrap(), Duration::ZERO);
        assert_eq!(wait_timeout("50s").unwrap(), Duration::from_secs(50));
        for bad in ["4s", "51s", "10", "abc", "-1s"] {
            let error = wait_timeout(bad).unwrap_err();
            assert_eq!(error.status, StatusCode::BAD_REQUEST, "{bad}");
            assert_eq!(error.code, "INVALID_PARAMETER_VALUE");
        }
    }

    #[test]
    fn results_split_into_linked_chunks() {
        let success = Success::new(result(ROWS_PER_CHUNK + 5), None, None).unwrap();
        let manifest = success.manifest();
        assert_eq!(manifest["total_chunk_count"], 2);
        assert_eq!(manifest["total_row_count"], ROWS_PER_CHUNK + 5);
        assert_eq!(manifest["chunks"][1]["row_offset"], ROWS_PER_CHUNK);
        let first = success.chunk("01x", 0).unwrap();
        assert_eq!(first["next_chunk_index"], 1);
        assert_eq!(
            first["next_chunk_internal_link"],
            "/api/2.0/sql/statements/01x/result/chunks/1"
        );
        let last = success.chunk("01x", 1).unwrap();
        assert_eq!(last["row_count"], 5);
        assert!(last.get("next_chunk_index").is_none());
        assert!(success.chunk("01x", 2).is_none());
    }

    #[test]
    fn row_limit_truncates_and_says_so() {
        let success = Success::new(result(10), Some(3), None).unwrap();
        let manifest = success.manifest();
        assert_eq!(manifest["total_row_count"], 3);
        assert_eq!(manifest["truncated"], true);
        let empty = Success::new(ResultSet::empty(), None, None).unwrap();
        assert_eq!(empty.manifest()["total_chunk_count"], 0);
        assert!(empty.chunk("01x", 0).is_none());
    }

    #[test]
    fn only_inline_json_arrays_are_served() {
        assert!(result_shape(None, None).is_ok());
        assert_eq!(
            result_shape(Some("INLINE"), Some("CSV"))
                .unwrap_err()
                .status,
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            result_shape(Some("EXTERNAL_LINKS"), Some("ARROW_STREAM"))
                .unwrap_err()
                .status,
            StatusCode::NOT_IMPLEMENTED
        );
    }
}
