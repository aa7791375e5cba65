//! The account of a run: per object what was read, written and loaded, the watermark before and
//! after, and the time spent in each stage. The same numbers feed the logs, the status table
//! and the JSON summary that `sync --json` prints.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::error::exit;

#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    pub run_id: String,
    /// succeeded | partial | failed | interrupted
    pub status: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub seconds: f64,
    pub warehouse: String,
    pub staging: String,
    pub objects: BTreeMap<String, ObjectSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip)]
    pub exit_code: i32,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ObjectSummary {
    /// ok | failed | skipped (not served by Object Query, and not asked for by name)
    pub status: String,
    pub table: String,
    pub rows: u64,
    /// Windows read: planned, resumed, and split off while reading.
    pub windows: u64,
    pub pages: u64,
    pub files: u64,
    pub bytes: u64,
    /// Rows merged into the final table (new or changed).
    pub rows_changed: u64,
    pub copy_statements: u64,
    /// Ids that Zuora reported deleted in the last 30 days (flagged `_deleted`).
    pub deleted_ids: u64,
    /// Why the delete channel could not be read, if it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deletes_error: Option<String>,
    pub watermark_before: Option<DateTime<Utc>>,
    pub watermark_after: Option<DateTime<Utc>>,
    pub seconds: StageSeconds,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip)]
    pub exit_code: i32,
}

/// Seconds spent per stage of the flow.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StageSeconds {
    pub fetch: f64,
    pub decode: f64,
    pub write: f64,
    pub stage: f64,
    pub copy: f64,
    pub merge: f64,
}

impl RunSummary {
    /// The status and exit code that the objects' outcomes add up to.
    pub fn settle(&mut self) {
        let failed: Vec<&ObjectSummary> = self
            .objects
            .values()
            .filter(|o| o.status == "failed")
            .collect();
        let (status, code) = match (failed.len(), self.objects.len()) {
            (0, _) => ("succeeded", exit::SUCCESS),
            (f, n) if f < n => ("partial", exit::PARTIAL),
            // Every object failed: the first failure's kind decides (unavailable, interrupted).
            _ => ("failed", failed[0].exit_code),
        };
        self.status = status.to_string();
        self.exit_code = code;
    }
}
