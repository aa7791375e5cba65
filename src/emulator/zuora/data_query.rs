//! Data Query, as far as a sync needs it to learn about deletions: `POST /query/jobs` takes a
//! SQL query of the form `select id[, updateddate, createddate, deleted] from <table> [where
//! updateddate >= timestamp '...' [and ...]]`, the job moves from `submitted` through
//! `in_progress` to `completed` over a set number of polls, and its JSON Lines result is served
//! at a signed URL that needs no bearer token, as a pre-signed S3 URL does.
//!
//! With `readDeleted: true` the result holds only rows deleted in the last 30 days (emulator
//! clock); without it, only live rows; selecting `deleted` returns both. Results see what
//! Object Query sees: a change still inside the visibility delay is not in them yet. Anything
//! else (joins, `*`, other columns, other output formats) fails loudly rather than being
//! guessed at.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::hash::{Hash, Hasher};

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;

use super::catalog::{CATALOG, ObjectDef};
use super::generate::uuid;
use super::tenant::{Tenant, format_id};
use super::value::write_json_string;

/// Zuora keeps deleted rows for Data Query this long (SDK `readDeleted` field doc).
const RETENTION: TimeDelta = TimeDelta::days(30);

/// `updatedOn` and the timestamps of results. The exact text Zuora writes for a
/// `timestamp with time zone` in JSON output is UNCONFIRMED; the emulator writes ISO 8601 with
/// milliseconds and an explicit `Z`, so a client has to parse fractions and a zone.
const TIMESTAMP_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.3fZ";

/// The body of `POST /query/jobs`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Submission {
    query: String,
    output_format: String,
    compression: String,
    output: Output,
    #[serde(default)]
    read_deleted: bool,
    #[serde(default)]
    source_data: Option<String>,
    #[serde(default)]
    use_index_join: Option<bool>,
    #[serde(default)]
    warehouse_size: Option<String>,
    #[serde(default)]
    column_separator: Option<String>,
    #[serde(default)]
    encryption_key: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Output {
    target: String,
}

impl Submission {
    /// Refuses the options the emulator does not produce; Zuora accepts them, so a client
    /// that needs them needs a real tenant.
    pub fn check(&self) -> Result<(), String> {
        let is = |value: &str, wanted: &str| value.eq_ignore_ascii_case(wanted);
        if !is(&self.output_format, "JSON") {
            return Err(format!(
                "outputFormat {} is not emulated; the emulator writes JSON Lines",
                self.output_format
            ));
        }
        if !is(&self.compression, "NONE") {
            return Err(format!(
                "compression {} is not emulated; use NONE",
                self.compression
            ));
        }
        if !is(&self.output.target, "S3") {
            return Err(format!(
                "output.target must be S3, not {}",
                self.output.target
            ));
        }
        if self.encryption_key.is_some() || self.column_separator.is_some() {
            return Err("encryptionKey and columnSeparator are not emulated".into());
        }
        if let Some(source) = &self.source_data
            && !is(source, "LIVE")
        {
            return Err(format!("sourceData {source} is not emulated; use LIVE"));
        }
        Ok(())
    }
}

/// A column the emulator can return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Id,
    UpdatedDate,
    CreatedDate,
    Deleted,
}

impl Column {
    fn name(self) -> &'static str {
        match self {
            Self::Id => "id",
            Self::UpdatedDate => "updateddate",
            Self::CreatedDate => "createddate",
            Self::Deleted => "deleted",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Ge,
    Gt,
    Le,
    Lt,
    Eq,
}

/// `updateddate >= timestamp '...'`: a timestamp column against an instant, in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Condition {
    column: Column,
    op: Op,
    micros: i64,
}

impl Condition {
    fn accepts(&self, seconds: i64) -> bool {
        let value = seconds.saturating_mul(1_000_000);
        match self.op {
            Op::Ge => value >= self.micros,
            Op::Gt => value > self.micros,
            Op::Le => value <= self.micros,
            Op::Lt => value < self.micros,
            Op::Eq => value == self.micros,
        }
    }
}

/// A query the emulator can answer.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Select {
    columns: Vec<Column>,
    object: usize,
    conditions: Vec<Condition>,
}

/// The Data Query table of an object: its name in lower case without separators.
fn table_name(object: &ObjectDef) -> String {
    object.name.to_ascii_lowercase()
}

fn parse(sql: &str) -> Result<Select, String> {
    let tokens = tokenize(sql)?;
    let mut tokens = tokens.iter().map(String::as_str).peekable();
    keyword(&mut tokens, "select")?;
    let mut columns = Vec::new();
    loop {
        let name = tokens.next().ok_or("expected a column")?;
        columns.push(column(name)?);
        if tokens.next_if_eq(&",").is_none() {
            break;
        }
    }
    keyword(&mut tokens, "from")?;
    let table = tokens
        .next()
        .ok_or("expected a table")?
        .to_ascii_lowercase();
    let object = CATALOG
        .objects
        .iter()
        .position(|o| table_name(o) == table)
        .ok_or_else(|| format!("failed to process object: table '{table}' does not exist"))?;

    let mut conditions = Vec::new();
    if tokens
        .next_if(|t| t.eq_ignore_ascii_case("where"))
        .is_some()
    {
        loop {
            conditions.push(condition(&mut tokens)?);
            if tokens.next_if(|t| t.eq_ignore_ascii_case("and")).is_none() {
                break;
            }
        }
    }
    tokens.next_if_eq(&";");
    if let Some(rest) = tokens.next() {
        return Err(format!(
            "'{rest}' is not supported by the emulator, which answers select <columns> from \
             <table> [where updateddate|createddate <op> timestamp '...' [and ...]]"
        ));
    }
    Ok(Select {
        columns,
        object,
        conditions,
    })
}

fn keyword<'t>(tokens: &mut impl Iterator<Item = &'t str>, wanted: &str) -> Result<(), String> {
    match tokens.next() {
        Some(token) if token.eq_ignore_ascii_case(wanted) => Ok(()),
        other => Err(format!(
            "expected {wanted}, found {}",
            other.unwrap_or("the end of the query")
        )),
    }
}

fn column(name: &str) -> Result<Column, String> {
    match name.to_ascii_lowercase().as_str() {
        "id" => Ok(Column::Id),
        "updateddate" => Ok(Column::UpdatedDate),
        "createddate" => Ok(Column::CreatedDate),
        "deleted" => Ok(Column::Deleted),
        "*" => Err(
            "select * is not emulated; name the columns (id, updateddate, createddate, \
                    deleted)"
                .into(),
        ),
        _ => Err(format!(
            "Column '{name}' cannot be resolved (the emulator serves id, updateddate, \
             createddate and deleted)"
        )),
    }
}

fn condition<'t>(tokens: &mut impl Iterator<Item = &'t str>) -> Result<Condition, String> {
    let name = tokens.next().ok_or("expected a condition")?;
    let column = match column(name)? {
        c @ (Column::UpdatedDate | Column::CreatedDate) => c,
        _ => {
            return Err(format!(
                "the emulator filters on updateddate and createddate, not {name}"
            ));
        }
    };
    let op = match tokens.next() {
        Some(">=") => Op::Ge,
        Some(">") => Op::Gt,
        Some("<=") => Op::Le,
        Some("<") => Op::Lt,
        Some("=") => Op::Eq,
        other => {
            return Err(format!(
                "unsupported operator {}",
                other.unwrap_or("(none)")
            ));
        }
    };
    match tokens.next() {
        Some(t) if t.eq_ignore_ascii_case("timestamp") => {}
        _ => return Err(format!("compare {name} with timestamp '...'")),
    }
    let literal = tokens
        .next()
        .and_then(|t| t.strip_prefix('\''))
        .ok_or_else(|| format!("expected a quoted timestamp after {name}"))?;
    Ok(Condition {
        column,
        op,
        micros: timestamp(literal)?.timestamp_micros(),
    })
}

/// `2024-01-01 00:00:00 UTC`, `2024-01-01 00:00:00.5+00:00`, `2024-01-01T00:00:00Z`, ...
/// A literal without a zone is refused: Zuora reads it in the tenant's or session's time zone
/// (UNCONFIRMED which), so a client must say which instant it means.
fn timestamp(literal: &str) -> Result<DateTime<Utc>, String> {
    let text = literal.trim();
    let text = match text.strip_suffix(" UTC") {
        Some(base) => format!("{base}Z"),
        None => text.to_string(),
    };
    let text = text.replacen(' ', "T", 1).replace(' ', "");
    if let Ok(at) = DateTime::parse_from_rfc3339(&text) {
        return Ok(at.with_timezone(&Utc));
    }
    match NaiveDateTime::parse_from_str(&text, "%Y-%m-%dT%H:%M:%S%.f") {
        Ok(_) => Err(format!(
            "timestamp '{literal}' has no time zone; add UTC or an offset such as +00:00"
        )),
        Err(_) => Err(format!("'{literal}' is not a timestamp")),
    }
}

/// Words, numbers, `'quoted strings'` (kept with their opening quote), operators and
/// punctuation.
fn tokenize(sql: &str) -> Result<Vec<String>, String> {
    let mut tokens = Vec::new();
    let mut chars = sql.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c.is_ascii_alphanumeric() || c == '_' {
            let mut word = String::new();
            while let Some(c) = chars.next_if(|c| c.is_ascii_alphanumeric() || *c == '_') {
                word.push(c);
            }
            tokens.push(word);
        } else if c == '\'' {
            chars.next();
            let mut text = String::from("'");
            loop {
                match chars.next() {
                    Some('\'') => break,
                    Some(c) => text.push(c),
                    None => return Err("unterminated string literal".into()),
                }
            }
            tokens.push(text);
        } else if matches!(c, '>' | '<') {
            chars.next();
            let mut op = c.to_string();
            if chars.next_if_eq(&'=').is_some() {
                op.push('=');
            }
            tokens.push(op);
        } else if matches!(c, '=' | ',' | ';' | '*') {
            chars.next();
            tokens.push(c.to_string());
        } else {
            return Err(format!("unexpected character '{c}'"));
        }
    }
    Ok(tokens)
}

/// Where a job is in its life.
#[derive(Debug, Clone)]
enum Status {
    Submitted,
    InProgress,
    Completed { rows: usize, millis: u64 },
    Failed(String),
    Cancelled,
}

impl Status {
    fn name(&self) -> &'static str {
        match self {
            Self::Submitted => "submitted",
            Self::InProgress => "in_progress",
            Self::Completed { .. } => "completed",
            Self::Failed(_) => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    fn finished(&self) -> bool {
        matches!(
            self,
            Self::Completed { .. } | Self::Failed(_) | Self::Cancelled
        )
    }
}

#[derive(Debug)]
struct Job {
    query: String,
    read_deleted: bool,
    use_index_join: bool,
    warehouse_size: Option<String>,
    polls: usize,
    status: Status,
    updated_on: DateTime<Utc>,
    /// The JSON Lines result, once completed.
    result: Option<String>,
}

/// Every job submitted so far.
#[derive(Debug)]
pub(crate) struct Jobs {
    jobs: BTreeMap<String, Job>,
    /// Polls answered before a job shows `completed`.
    polls_before_done: usize,
    rng: ChaCha8Rng,
    /// Signs result URLs, so a URL cannot be made up from a job id.
    secret: u64,
    created_by: String,
}

/// What `GET /query/results/...` finds.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Download {
    Found(String),
    BadSignature,
    Missing,
}

impl Jobs {
    pub fn new(seed: u64) -> Jobs {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xda7a_0000_0000_0005);
        let (secret, created_by) = (rng.random(), uuid(rng.random()));
        Jobs {
            jobs: BTreeMap::new(),
            polls_before_done: 2,
            rng,
            secret,
            created_by,
        }
    }

    /// From now on, a job shows `completed` (or `failed`) on poll `polls + 1`: the first of
    /// the earlier polls shows `submitted` when there are two or more, the others
    /// `in_progress`.
    pub fn set_polls_before_done(&mut self, polls: usize) {
        self.polls_before_done = polls;
    }

    /// Records a checked submission; returns the `{"data": ...}` body.
    pub fn submit(&mut self, submission: Submission, now: DateTime<Utc>, base_url: &str) -> String {
        let id = uuid(self.rng.random());
        let job = Job {
            query: submission.query,
            read_deleted: submission.read_deleted,
            use_index_join: submission.use_index_join.unwrap_or(false),
            warehouse_size: submission.warehouse_size,
            polls: 0,
            status: Status::Submitted,
            updated_on: now,
            result: None,
        };
        self.jobs.insert(id.clone(), job);
        self.describe(&id, base_url)
    }

    /// Answers a poll: moves the job one step and, on the step that completes it, runs the
    /// query against what Object Query sees at `now`. `None` for an unknown job.
    pub fn poll(
        &mut self,
        id: &str,
        tenant: &Tenant,
        now: DateTime<Utc>,
        base_url: &str,
    ) -> Option<String> {
        let polls_before_done = self.polls_before_done;
        let job = self.jobs.get_mut(id)?;
        if !job.status.finished() {
            job.polls += 1;
            job.updated_on = now;
            job.status = if job.polls > polls_before_done {
                match parse(&job.query) {
                    Ok(select) => {
                        let (rows, text) = run(&select, job.read_deleted, tenant, now);
                        job.result = Some(text);
                        let millis = 120 + rows as u64 / 50;
                        Status::Completed { rows, millis }
                    }
                    Err(message) => Status::Failed(message),
                }
            } else if job.polls == 1 && polls_before_done >= 2 {
                Status::Submitted
            } else {
                Status::InProgress
            };
        }
        Some(self.describe(id, base_url))
    }

    /// Cancels a job that has not finished; a finished one keeps its status.
    pub fn cancel(&mut self, id: &str, now: DateTime<Utc>, base_url: &str) -> Option<String> {
        let job = self.jobs.get_mut(id)?;
        if !job.status.finished() {
            job.status = Status::Cancelled;
            job.updated_on = now;
        }
        Some(self.describe(id, base_url))
    }

    /// The result file named `file` (`<job id>.jsonl`) if `signature` is its signature.
    pub fn download(&self, file: &str, signature: Option<&str>) -> Download {
        let Some(id) = file.strip_suffix(".jsonl") else {
            return Download::Missing;
        };
        let Some(result) = self.jobs.get(id).and_then(|j| j.result.clone()) else {
            return Download::Missing;
        };
        match signature == Some(self.signature(id).as_str()) {
            true => Download::Found(result),
            false => Download::BadSignature,
        }
    }

    fn signature(&self, id: &str) -> String {
        let mut hasher = std::hash::DefaultHasher::new();
        (self.secret, id).hash(&mut hasher);
        format!("{:016x}", hasher.finish())
    }

    /// `{"data": {...}}` for a job, in the field names of the SDK's `DataQueryJob`.
    fn describe(&self, id: &str, base_url: &str) -> String {
        let job = &self.jobs[id];
        let mut data = serde_json::json!({
            "id": id,
            "query": job.query,
            "queryStatus": job.status.name(),
            "sourceData": "LIVE",
            "useIndexJoin": job.use_index_join,
            "outputFormat": "JSON",
            "compression": "NONE",
            "readDeleted": job.read_deleted,
            "remainingRetries": 3,
            "retries": 3,
            "updatedOn": job.updated_on.format(TIMESTAMP_FORMAT).to_string(),
            "createdBy": self.created_by,
        });
        if let Some(size) = &job.warehouse_size {
            data["warehouseSize"] = size.clone().into();
        }
        match &job.status {
            Status::Completed { rows, millis } => {
                let url = format!(
                    "{base_url}/query/results/{id}.jsonl?signature={}",
                    self.signature(id)
                );
                data["dataFile"] = url.into();
                data["outputRows"] = (*rows).into();
                data["processingTime"] = (*millis).into();
            }
            Status::Failed(message) => data["errorMessage"] = message.clone().into(),
            _ => {}
        }
        serde_json::json!({ "data": data }).to_string()
    }
}

/// Runs a query: one JSON line per matching row, ordered by (updateddate, id).
fn run(
    select: &Select,
    read_deleted: bool,
    tenant: &Tenant,
    now: DateTime<Utc>,
) -> (usize, String) {
    let wants_deleted_column = select.columns.contains(&Column::Deleted);
    // (updated, created, id, deleted)
    let mut rows: Vec<(i64, i64, u128, bool)> = Vec::new();
    if wants_deleted_column || !read_deleted {
        let table = &tenant.tables[select.object];
        rows.extend(
            table
                .rows
                .values()
                .map(|r| (r.updated, r.created, r.id, false)),
        );
    }
    if wants_deleted_column || read_deleted {
        let delay = tenant.visibility_delay();
        let deleted = tenant.deleted(select.object).iter();
        let visible = deleted.filter(|d| d.at + delay <= now && d.at > now - RETENTION);
        // A row's deletion is its last change, so its updateddate is the second it was deleted
        // (UNCONFIRMED: Zuora may keep the last UpdatedDate before the deletion). This way a
        // client reading deletions `where updateddate >= <last run>` sees each one.
        rows.extend(visible.map(|d| (d.at.timestamp(), d.row.created, d.row.id, true)));
    }
    rows.retain(|&(updated, created, _, _)| {
        select.conditions.iter().all(|c| match c.column {
            Column::CreatedDate => c.accepts(created),
            _ => c.accepts(updated),
        })
    });
    rows.sort_unstable();

    let mut text = String::with_capacity(rows.len() * 80);
    for &(updated, created, id, deleted) in &rows {
        text.push('{');
        for (n, column) in select.columns.iter().enumerate() {
            if n > 0 {
                text.push(',');
            }
            let _ = write!(text, "\"{}\":", column.name());
            match column {
                Column::Id => write_json_string(&format_id(id), &mut text),
                Column::UpdatedDate => write_timestamp(updated, &mut text),
                Column::CreatedDate => write_timestamp(created, &mut text),
                Column::Deleted => text.push_str(if deleted { "true" } else { "false" }),
            }
        }
        text.push_str("}\n");
    }
    (rows.len(), text)
}

fn write_timestamp(seconds: i64, out: &mut String) {
    match DateTime::from_timestamp(seconds, 0) {
        Some(at) => {
            let _ = write!(out, "\"{}\"", at.format(TIMESTAMP_FORMAT));
        }
        None => out.push_str("null"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> i64 {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .timestamp_micros()
    }

    #[test]
    fn parses_the_queries_a_sync_sends() {
        let select = parse("select id from invoiceitem").unwrap();
        assert_eq!(select.columns, [Column::Id]);
        assert_eq!(CATALOG.objects[select.object].name, "InvoiceItem");
        assert!(select.conditions.is_empty());

        let sql = "SELECT Id, UpdatedDate FROM Account WHERE updateddate >= \
                   TIMESTAMP '2024-01-01 00:00:00 UTC' AND updateddate < timestamp \
                   '2024-02-01T00:00:00.500+01:00';";
        let select = parse(sql).unwrap();
        assert_eq!(select.columns, [Column::Id, Column::UpdatedDate]);
        assert_eq!(CATALOG.objects[select.object].name, "Account");
        assert_eq!(
            select.conditions,
            [
                Condition {
                    column: Column::UpdatedDate,
                    op: Op::Ge,
                    micros: at("2024-01-01T00:00:00Z"),
                },
                Condition {
                    column: Column::UpdatedDate,
                    op: Op::Lt,
                    micros: at("2024-01-31T23:00:00.5Z"),
                },
            ]
        );
    }

    #[test]
    fn refuses_what_it_does_not_answer_with_the_reason() {
        let cases = [
            ("select id from widget", "failed to process object"),
            (
                "select name from account",
                "Column 'name' cannot be resolved",
            ),
            ("select * from account", "select * is not emulated"),
            (
                "select id from account where updateddate >= timestamp '2024-01-01 00:00:00'",
                "has no time zone",
            ),
            (
                "select id from account where status = 'x'",
                "Column 'status'",
            ),
            ("select id from account a join contact c", "not supported"),
            (
                "select id from account where updateddate >= '2024'",
                "timestamp '...'",
            ),
            ("select id from 'account", "unterminated"),
        ];
        for (sql, wanted) in cases {
            let error = parse(sql).unwrap_err();
            assert!(error.contains(wanted), "{sql}: {error}");
        }
    }

    #[test]
    fn conditions_compare_whole_seconds_with_microsecond_bounds() {
        let ge = Condition {
            column: Column::UpdatedDate,
            op: Op::Ge,
            micros: 1_500_000,
        };
        assert!(!ge.accepts(1) && ge.accepts(2));
        let lt = Condition { op: Op::Lt, ..ge };
        assert!(lt.accepts(1) && !lt.accepts(2));
    }

    #[test]
    fn the_status_moves_over_polls_and_the_url_is_signed() {
        let tenant = super::super::generate::generate(3, 10);
        let now = DateTime::from_timestamp(1_790_000_000, 0).unwrap();
        let mut jobs = Jobs::new(3);
        let submission: Submission = serde_json::from_value(serde_json::json!({
            "query": "select id, updateddate from account",
            "outputFormat": "JSON", "compression": "NONE", "output": {"target": "S3"},
        }))
        .unwrap();
        submission.check().unwrap();
        let body = jobs.submit(submission, now, "http://e");
        let body: serde_json::Value = serde_json::from_str(&body).unwrap();
        let id = body["data"]["id"].as_str().unwrap().to_string();
        assert_eq!(body["data"]["queryStatus"], "submitted");

        let status = |jobs: &mut Jobs| -> serde_json::Value {
            serde_json::from_str(&jobs.poll(&id, &tenant, now, "http://e").unwrap()).unwrap()
        };
        assert_eq!(status(&mut jobs)["data"]["queryStatus"], "submitted");
        assert_eq!(status(&mut jobs)["data"]["queryStatus"], "in_progress");
        let done = status(&mut jobs);
        assert_eq!(done["data"]["queryStatus"], "completed");
        assert_eq!(done["data"]["outputRows"], 10);
        let url = done["data"]["dataFile"].as_str().unwrap();
        let (path, signature) = url.split_once("?signature=").unwrap();
        let file = path.rsplit('/').next().unwrap();
        let Download::Found(lines) = jobs.download(file, Some(signature)) else {
            panic!("the signed URL serves the result");
        };
        assert_eq!(lines.lines().count(), 10);
        let first: serde_json::Value = serde_json::from_str(lines.lines().next().unwrap()).unwrap();
        assert_eq!(first.as_object().unwrap().len(), 2);
        assert!(first["updateddate"].as_str().unwrap().ends_with(".000Z"));
        assert_eq!(jobs.download(file, Some("0")), Download::BadSignature);
        assert_eq!(jobs.download(file, None), Download::BadSignature);
        assert_eq!(
            jobs.download("nope.jsonl", Some(signature)),
            Download::Missing
        );
        assert!(jobs.poll("unknown", &tenant, now, "http://e").is_none());
    }

    #[test]
    fn unsupported_options_are_refused() {
        let submission = |extra: serde_json::Value| {
            let mut body = serde_json::json!({
                "query": "select id from account",
                "outputFormat": "JSON", "compression": "NONE", "output": {"target": "S3"},
            });
            body.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            serde_json::from_value::<Submission>(body)
        };
        for extra in [
            serde_json::json!({"outputFormat": "CSV"}),
            serde_json::json!({"compression": "GZIP"}),
            serde_json::json!({"sourceData": "WAREHOUSE"}),
            serde_json::json!({"encryptionKey": "abc"}),
        ] {
            assert!(
                submission(extra.clone()).unwrap().check().is_err(),
                "{extra}"
            );
        }
        assert!(submission(serde_json::json!({"surprise": 1})).is_err());
        let fine = serde_json::json!({"readDeleted": true, "sourceData": "LIVE"});
        assert!(submission(fine).unwrap().check().is_ok());
    }
}
