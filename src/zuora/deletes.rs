//! The delete channel. Object Query never returns deleted rows, so deletes are read from Data
//! Query: a job with `readDeleted: true` returns only the rows deleted in the last 30 days.
//! zuora-sync asks for their ids (no time filter, because whether a deleted row's
//! `updateddate` is its deletion time is not documented) and marks them `_deleted` in the
//! warehouse. A sync that runs at least once in 30 days therefore sees every delete.

use std::time::Duration;

use serde::Deserialize;
use serde_json::json;

use super::ZuoraClient;
use super::client::ensure_success;
use crate::error::{Error, Result};
use crate::http::excerpt;

/// Data Query cancels queries after an hour.
const JOB_LIMIT: Duration = Duration::from_secs(3600);
const FIRST_POLL: Duration = Duration::from_millis(200);
const MAX_POLL: Duration = Duration::from_secs(10);

#[derive(Deserialize)]
struct Envelope {
    data: Job,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Job {
    id: String,
    query_status: String,
    data_file: Option<String>,
    error_message: Option<String>,
}

#[derive(Deserialize)]
struct DeletedRow {
    id: String,
}

impl ZuoraClient {
    /// The ids of the object's rows deleted in the last 30 days.
    pub async fn deleted_ids(&self, object: &str) -> Result<Vec<String>> {
        let table = object.to_ascii_lowercase();
        let body = json!({
            "query": format!("select id from {table}"),
            "outputFormat": "JSON",
            "compression": "NONE",
            "output": { "target": "S3" },
            "readDeleted": true,
        });
        let submitted = self
            .call(reqwest::Method::POST, "query/jobs", &[], Some(&body))
            .await?;
        let mut job = parse_job(ensure_success("POST /query/jobs", submitted)?.body.as_ref())?;
        let started = std::time::Instant::now();
        let mut wait = FIRST_POLL;
        while !matches!(
            job.query_status.as_str(),
            "completed" | "failed" | "cancelled"
        ) {
            if started.elapsed() > JOB_LIMIT {
                return Err(Error::Source(format!(
                    "Data Query job {} for {object} did not finish within an hour",
                    job.id
                )));
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 3 / 2).min(MAX_POLL);
            job = parse_job(
                self.get(&format!("query/jobs/{}", job.id), &[])
                    .await?
                    .body
                    .as_ref(),
            )?;
        }
        if job.query_status != "completed" {
            return Err(Error::Source(format!(
                "Data Query job {} for deleted {object} rows ended {}: {}",
                job.id,
                job.query_status,
                job.error_message.as_deref().unwrap_or("no reason given")
            )));
        }
        let url = job.data_file.ok_or_else(|| {
            Error::Source(format!(
                "Data Query job {} completed without a dataFile",
                job.id
            ))
        })?;
        let lines = self.download(&url).await?;
        parse_lines(&lines, object)
    }
}

fn parse_job(body: &[u8]) -> Result<Job> {
    serde_json::from_slice::<Envelope>(body)
        .map(|e| e.data)
        .map_err(|e| {
            Error::Source(format!(
                "unreadable Data Query job ({e}): {}",
                excerpt(body)
            ))
        })
}

/// JSON Lines of `{"id": ...}`; blank lines are allowed.
fn parse_lines(body: &[u8], object: &str) -> Result<Vec<String>> {
    body.split(|b| *b == b'\n')
        .filter(|line| !line.iter().all(u8::is_ascii_whitespace))
        .enumerate()
        .map(|(n, line)| {
            serde_json::from_slice::<DeletedRow>(line)
                .map(|r| r.id)
                .map_err(|e| {
                    Error::Source(format!(
                        "deleted {object} rows, line {}: {e}: {}",
                        n + 1,
                        excerpt(line)
                    ))
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_lines_give_ids() {
        let body = b"{\"id\":\"8a80aa\",\"updateddate\":\"2026-01-01T00:00:00Z\"}\n\n\
                     {\"id\":\"8a80bb\"}\n";
        assert_eq!(parse_lines(body, "Account").unwrap(), ["8a80aa", "8a80bb"]);
        let err = parse_lines(b"{\"id\":1}", "Account").unwrap_err();
        assert!(err.to_string().contains("line 1"), "{err}");
    }
}
