//! The rows of the checkpoint log as Rust values.

use chrono::{DateTime, Utc};
use rusqlite::Row;

use super::parse_time;
use crate::schema::ObjectSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    Historical,
    Incremental,
    /// A window that reads the ids of deleted rows instead of pages.
    Deletes,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Historical => "historical",
            Self::Incremental => "incremental",
            Self::Deletes => "deletes",
        }
    }

    fn parse(text: &str) -> Self {
        match text {
            "incremental" => Self::Incremental,
            "deletes" => Self::Deletes,
            _ => Self::Historical,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum ObjectStatus {
    /// The first (historical) sync has not been fully loaded yet.
    #[serde(rename = "In Progress")]
    InProgress,
    Active,
}

impl ObjectStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InProgress => "In Progress",
            Self::Active => "Active",
        }
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ObjectState {
    pub object: String,
    pub phase: Phase,
    pub status: ObjectStatus,
    /// Every row updated before this instant is merged.
    pub watermark: Option<DateTime<Utc>>,
    #[serde(skip)]
    pub schema: Option<ObjectSchema>,
    pub rows_merged: u64,
    pub last_run_id: Option<String>,
    pub last_error: Option<String>,
    /// When deleted ids were last read for this object.
    pub deletes_checked_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

impl ObjectState {
    /// The state of an object that was never synced.
    pub fn new(object: &str) -> Self {
        Self {
            object: object.to_string(),
            phase: Phase::Historical,
            status: ObjectStatus::InProgress,
            watermark: None,
            schema: None,
            rows_merged: 0,
            last_run_id: None,
            last_error: None,
            deletes_checked_at: None,
            updated_at: chrono::Utc::now(),
        }
    }
}

pub(super) const OBJECT_COLUMNS: &str = "SELECT object, phase, status, watermark, schema_json, \
     rows_merged, last_run_id, last_error, updated_at, deletes_checked_at FROM objects";

impl ObjectState {
    pub(super) fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        let schema: Option<String> = row.get(4)?;
        Ok(Self {
            object: row.get(0)?,
            phase: Phase::parse(&row.get::<_, String>(1)?),
            status: if row.get::<_, String>(2)? == "Active" {
                ObjectStatus::Active
            } else {
                ObjectStatus::InProgress
            },
            watermark: optional_time(row, 3)?,
            schema: schema.and_then(|json| serde_json::from_str(&json).ok()),
            rows_merged: row.get(5)?,
            last_run_id: row.get(6)?,
            last_error: row.get(7)?,
            updated_at: parse_time(&row.get::<_, String>(8)?)?,
            deletes_checked_at: optional_time(row, 9)?,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WindowState {
    /// Pages are still to be read.
    Open,
    /// Every page is read and written to files; they may not be merged yet.
    Fetched,
    Merged,
}

/// What a new window covers: `[start, end)` of the cursor field and, for a window that splits
/// a busy second, `[id_start, id_end)` of the ids. `None` leaves a side open.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Span {
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
    pub id_start: Option<String>,
    pub id_end: Option<String>,
    /// How many splits led to this window; splitting stops at a limit.
    pub depth: u32,
}

impl Span {
    pub fn new(start: Option<DateTime<Utc>>, end: Option<DateTime<Utc>>) -> Self {
        Self {
            start,
            end,
            ..Self::default()
        }
    }
}

/// A half-open range `[start, end)` of the object's cursor field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    pub id: i64,
    pub object: String,
    pub phase: Phase,
    pub span: Span,
    pub state: WindowState,
    pub progress: Progress,
    /// Bytes of pages held in the spool file of the Parquet file being filled: pages that are
    /// committed but not yet in a committed Parquet file.
    pub spool_bytes: u64,
}

/// How far a window has been read and committed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Progress {
    /// The cursor after the last committed page; `None` before the first.
    pub next_page: Option<String>,
    /// Cursor field and id of the last committed row, to restart without the cursor.
    pub last_value: Option<DateTime<Utc>>,
    pub last_id: Option<String>,
    pub pages: u64,
    pub rows: u64,
}

pub(super) const WINDOW_COLUMNS: &str = "SELECT id, object, phase, range_start, range_end, state, \
     next_page, last_value, last_id, pages, rows, id_start, id_end, depth, spool_bytes \
     FROM windows";

impl Window {
    pub(super) fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: row.get(0)?,
            object: row.get(1)?,
            phase: Phase::parse(&row.get::<_, String>(2)?),
            span: Span {
                start: optional_time(row, 3)?,
                end: optional_time(row, 4)?,
                id_start: row.get(11)?,
                id_end: row.get(12)?,
                depth: row.get(13)?,
            },
            spool_bytes: row.get(14)?,
            state: match row.get::<_, String>(5)?.as_str() {
                "open" => WindowState::Open,
                "fetched" => WindowState::Fetched,
                _ => WindowState::Merged,
            },
            progress: Progress {
                next_page: row.get(6)?,
                last_value: optional_time(row, 7)?,
                last_id: row.get(8)?,
                pages: row.get(9)?,
                rows: row.get(10)?,
            },
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileState {
    /// Closed and fsync'ed in the local spool.
    Written,
    /// Uploaded to the staging area.
    Staged,
    /// Loaded into the landing table.
    Copied,
    /// Merged into the final table.
    Merged,
}

impl FileState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Written => "written",
            Self::Staged => "staged",
            Self::Copied => "copied",
            Self::Merged => "merged",
        }
    }
}

/// A Parquet file about to be recorded as written.
#[derive(Debug, Clone)]
pub struct NewFile {
    pub seq: u32,
    pub name: String,
    pub rows: u64,
    pub bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRecord {
    pub id: i64,
    pub object: String,
    pub window_id: i64,
    pub seq: u32,
    /// The path relative to the staging root and to the local spool.
    pub name: String,
    pub rows: u64,
    pub bytes: u64,
}

pub(super) const FILE_COLUMNS: &str =
    "SELECT id, object, window_id, seq, name, rows, bytes FROM files";

impl FileRecord {
    pub(super) fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: row.get(0)?,
            object: row.get(1)?,
            window_id: row.get(2)?,
            seq: row.get(3)?,
            name: row.get(4)?,
            rows: row.get(5)?,
            bytes: row.get(6)?,
        })
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct RunRecord {
    pub run_id: String,
    pub pid: u32,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub status: String,
    #[serde(skip)]
    pub summary_json: Option<String>,
}

impl RunRecord {
    pub(super) fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            run_id: row.get(0)?,
            pid: row.get(1)?,
            started_at: parse_time(&row.get::<_, String>(2)?)?,
            finished_at: optional_time(row, 3)?,
            status: row.get(4)?,
            summary_json: row.get(5)?,
        })
    }
}

fn optional_time(row: &Row<'_>, index: usize) -> rusqlite::Result<Option<DateTime<Utc>>> {
    row.get::<_, Option<String>>(index)?
        .map(|t| parse_time(&t))
        .transpose()
}

/// Work an object has left.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Pending {
    pub open_windows: u64,
    pub unmerged_files: u64,
}
