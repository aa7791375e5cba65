//! The SQL Statement Execution API: one statement per request, waited for up to 10 s and then
//! polled through PENDING (a warehouse starting, which can take minutes) and RUNNING, with a
//! growing interval. Results come back INLINE as JSON arrays of strings. A FAILED statement is
//! mapped by its error class; a transient failure of the service is retried.

use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::json;

use super::api::{Api, Body, platform_error};
use super::errors::{is_transient, statement_error};
use crate::error::{Error, Result};

/// A statement still running after this long is cancelled: nothing zuora-sync sends should
/// take it, and a stuck statement must not hold a cron run forever.
const STATEMENT_LIMIT: Duration = Duration::from_secs(2 * 3600);
const FIRST_POLL: Duration = Duration::from_millis(250);
const MAX_POLL: Duration = Duration::from_secs(10);
const TRANSIENT_RETRIES: u32 = 5;

/// The rows of a statement, every cell as text (`None` for NULL).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatementResult {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
}

impl StatementResult {
    /// The value of a one-row, one-column result.
    pub fn single(&self) -> Option<String> {
        self.rows.first()?.first()?.clone()
    }

    /// The first row's value of the named column, as a number.
    pub fn number(&self, column: &str) -> Option<u64> {
        let at = self.columns.iter().position(|c| c == column)?;
        self.rows.first()?.get(at)?.as_deref()?.parse().ok()
    }
}

#[derive(Deserialize)]
struct Response {
    statement_id: String,
    status: Status,
    manifest: Option<Manifest>,
    result: Option<Chunk>,
}

#[derive(Deserialize)]
struct Status {
    state: String,
    error: Option<StatusError>,
    sql_state: Option<String>,
}

#[derive(Deserialize)]
struct StatusError {
    error_code: Option<String>,
    message: Option<String>,
}

#[derive(Deserialize)]
struct Manifest {
    schema: Option<ManifestSchema>,
}

#[derive(Deserialize)]
struct ManifestSchema {
    #[serde(default)]
    columns: Vec<Column>,
}

#[derive(Deserialize)]
struct Column {
    name: String,
}

#[derive(Deserialize)]
struct Chunk {
    #[serde(default)]
    data_array: Vec<Vec<Option<String>>>,
    next_chunk_internal_link: Option<String>,
}

impl Api {
    /// Runs one statement in the configured catalog and schema and returns its rows.
    pub async fn sql(&self, statement: &str) -> Result<StatementResult> {
        let mut attempt = 0;
        loop {
            match self.run(statement).await? {
                Outcome::Done(result) => return Ok(result),
                Outcome::Failed { code, message, .. }
                    if is_transient(&code, &message) && attempt < TRANSIENT_RETRIES =>
                {
                    attempt += 1;
                    let delay = Duration::from_secs(1 << attempt);
                    tracing::warn!(attempt, delay_ms = delay.as_millis() as u64, message = %message,
                        "Retrying a statement that failed for a passing reason");
                    tokio::time::sleep(delay).await;
                }
                Outcome::Failed {
                    message, sql_state, ..
                } => {
                    let principal = self.principal().await;
                    return Err(statement_error(
                        &describe(statement),
                        &message,
                        sql_state.as_deref(),
                        &principal,
                    ));
                }
            }
        }
    }

    /// Runs a statement once; a FAILED one is an `Outcome`, not an error.
    pub(super) async fn run(&self, statement: &str) -> Result<Outcome> {
        let body = json!({
            "statement": statement,
            "warehouse_id": self.config.warehouse_id,
            "catalog": self.config.catalog,
            "schema": self.config.schema,
            "wait_timeout": "10s",
            "on_wait_timeout": "CONTINUE",
            "disposition": "INLINE",
            "format": "JSON_ARRAY",
        });
        let response = self
            .call(
                reqwest::Method::POST,
                "api/2.0/sql/statements",
                &[],
                Body::Json(&body),
            )
            .await?;
        let mut current = self.statement_response(&response, statement)?;
        let started = Instant::now();
        let mut wait = FIRST_POLL;
        let mut said_pending = false;
        while matches!(current.status.state.as_str(), "PENDING" | "RUNNING") {
            if current.status.state == "PENDING" && !said_pending && started.elapsed() > wait {
                tracing::info!(
                    "Waiting for the SQL warehouse to start (a stopped warehouse \
                    starts on the first statement; that can take minutes)"
                );
                said_pending = true;
            }
            if started.elapsed() > STATEMENT_LIMIT {
                let path = format!("api/2.0/sql/statements/{}/cancel", current.statement_id);
                let _ = self
                    .call(reqwest::Method::POST, &path, &[], Body::Json(&json!({})))
                    .await;
                return Err(Error::Destination(format!(
                    "{} did not finish within {} hours and was cancelled",
                    describe(statement),
                    STATEMENT_LIMIT.as_secs() / 3600
                )));
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 3 / 2).min(MAX_POLL);
            let path = format!("api/2.0/sql/statements/{}", current.statement_id);
            let response = self
                .call(reqwest::Method::GET, &path, &[], Body::None)
                .await?;
            current = self.statement_response(&response, statement)?;
        }
        match current.status.state.as_str() {
            "SUCCEEDED" => Ok(Outcome::Done(self.collect(current).await?)),
            "FAILED" => {
                let error = current.status.error.unwrap_or(StatusError {
                    error_code: None,
                    message: None,
                });
                Ok(Outcome::Failed {
                    code: error.error_code.unwrap_or_default(),
                    message: error.message.unwrap_or_else(|| "no message".to_string()),
                    sql_state: current.status.sql_state,
                })
            }
            other => Err(Error::Destination(format!(
                "{} ended {other}",
                describe(statement)
            ))),
        }
    }

    fn statement_response(
        &self,
        response: &crate::http::Response,
        statement: &str,
    ) -> Result<Response> {
        if !response.status.is_success() {
            let (code, message) = platform_error(response);
            let what = describe(statement);
            return Err(match response.status.as_u16() {
                403 => Error::Denied {
                    service: "Databricks",
                    detail: format!(
                        "{what}: {code}: {message}\n  fix: give the principal Can use on the SQL \
                         warehouse {} (SQL Warehouses > the warehouse > Permissions)",
                        self.config.warehouse_id
                    ),
                },
                404 => Error::config(format!(
                    "{what}: {code}: {message}; is [warehouse] http_path the path of an existing \
                     SQL warehouse?"
                )),
                _ => Error::Destination(format!("{what}: {code}: {message}")),
            });
        }
        serde_json::from_slice(&response.body).map_err(|e| {
            Error::Destination(format!(
                "{}: unreadable answer from the Statement Execution API: {e}",
                describe(statement)
            ))
        })
    }

    /// The rows of a finished statement, following further chunks.
    async fn collect(&self, response: Response) -> Result<StatementResult> {
        let columns = response
            .manifest
            .and_then(|m| m.schema)
            .map(|s| s.columns.into_iter().map(|c| c.name).collect())
            .unwrap_or_default();
        let mut result = StatementResult {
            columns,
            rows: Vec::new(),
        };
        let mut chunk = response.result;
        while let Some(current) = chunk.take() {
            result.rows.extend(current.data_array);
            if let Some(link) = current.next_chunk_internal_link {
                let response = self
                    .call(reqwest::Method::GET, &link, &[], Body::None)
                    .await?;
                if !response.status.is_success() {
                    let (code, message) = platform_error(&response);
                    return Err(Error::Destination(format!(
                        "reading a result chunk: {code}: {message}"
                    )));
                }
                chunk =
                    Some(serde_json::from_slice(&response.body).map_err(|e| {
                        Error::Destination(format!("unreadable result chunk: {e}"))
                    })?);
            }
        }
        Ok(result)
    }
}

pub(super) enum Outcome {
    Done(StatementResult),
    Failed {
        code: String,
        message: String,
        sql_state: Option<String>,
    },
}

/// A statement named for messages: its first words, up to the table it names, and never its
/// credentials.
pub(super) fn describe(statement: &str) -> String {
    let words: Vec<&str> = statement
        .split_whitespace()
        .take_while(|w| !w.starts_with('(') && !w.starts_with("WITH") && !w.contains("CREDENTIAL"))
        .take(6)
        .collect();
    format!("`{} ...`", words.join(" "))
}

#[cfg(test)]
mod tests {
    #[test]
    fn statements_are_named_by_their_table_without_credentials() {
        let create = "CREATE TABLE IF NOT EXISTS `m`.`z`.`account` (`id` STRING)";
        assert_eq!(
            super::describe(create),
            "`CREATE TABLE IF NOT EXISTS `m`.`z`.`account` ...`"
        );
        let copy = "COPY INTO `t` FROM 's3://b/' WITH (CREDENTIAL (AWS_ACCESS_KEY = 'k'))";
        assert_eq!(super::describe(copy), "`COPY INTO `t` FROM 's3://b/' ...`");
    }
}
