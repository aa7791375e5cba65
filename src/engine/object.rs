//! One object's sync: finish whatever an earlier run left (files to stage, copy or merge,
//! windows to read), then read the next windows in parallel, and load them: stage the written
//! files, COPY them into the landing table, MERGE, and advance the watermark. Then read the ids
//! deleted in Zuora and merge them as tombstones. Each step is recorded in the checkpoint after
//! it happens and is safe to repeat, so a crash between any two steps is harmless.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use arrow::array::{ArrayRef, BooleanArray, RecordBatch, StringArray, new_null_array};
use arrow::datatypes::SchemaRef;
use futures::StreamExt;
use futures::stream::FuturesUnordered;

use super::RunContext;
use super::fetch::{self, WindowEnd};
use super::plan::{self, Next};
use super::summary::{ObjectSummary, StageSeconds};
use crate::checkpoint::{
    Checkpoint, FileRecord, FileState, NewFile, ObjectStatus, Phase, Progress, Span, Window,
    WindowState,
};
use crate::decode::UnknownFieldPolicy;
use crate::error::{Error, Result};
use crate::failpoint;
use crate::schema::{DELETED, ID, ObjectSchema, SYNCED_AT};
use crate::stage::Stage;
use crate::telemetry::ObjectProgress;
use crate::warehouse::Warehouse;
use crate::write::{ParquetFile, WriteOptions};
use crate::zuora::{PageRequest, WindowBounds, ZuoraClient};

/// COPY INTO takes at most this many files per statement.
const FILES_PER_COPY: usize = 1000;

/// What reading one window did, added to the object's summary.
#[derive(Debug, Default)]
pub(super) struct Tally {
    pub(super) pages: u64,
    pub(super) rows: u64,
    pub(super) files: u64,
    pub(super) bytes: u64,
    pub(super) seconds: StageSeconds,
}

pub(super) struct ObjectRun<'a> {
    /// The object as Describe has it now: what pages are decoded against.
    pub(super) source: Arc<ObjectSchema>,
    /// The table as the warehouse has it: `source` plus columns of fields that went away.
    pub(super) table: ObjectSchema,
    pub(super) arrow_schema: SchemaRef,
    pub(super) client: &'a ZuoraClient,
    pub(super) checkpoint: &'a Checkpoint,
    pub(super) stage: &'a dyn Stage,
    pub(super) warehouse: &'a dyn Warehouse,
    pub(super) spool: PathBuf,
    pub(super) file_target_bytes: u64,
    pub(super) write_options: WriteOptions,
    pub(super) synced_at_micros: i64,
    pub(super) unknown_fields: UnknownFieldPolicy,
    pub(super) page_size: usize,
    pub(super) stop: Arc<AtomicBool>,
    /// Set when one of the object's windows failed: the others stop after their page.
    pub(super) halt: AtomicBool,
    summary: Mutex<ObjectSummary>,
    pub(super) progress: ObjectProgress,
    context: &'a RunContext,
}

impl<'a> ObjectRun<'a> {
    pub(super) fn new(context: &'a RunContext, source: ObjectSchema, table: ObjectSchema) -> Self {
        let source_name = source.object.clone();
        let summary = ObjectSummary {
            table: source.table.clone(),
            ..ObjectSummary::default()
        };
        Self {
            arrow_schema: source.arrow_schema(),
            source: Arc::new(source),
            table,
            client: &context.client,
            checkpoint: &context.checkpoint,
            stage: context.stage.as_ref(),
            warehouse: context.warehouse.as_ref(),
            spool: context.config.state.spool_dir(),
            file_target_bytes: context.config.staging.file_target_bytes,
            write_options: WriteOptions::default(),
            synced_at_micros: context.started_at.timestamp_micros(),
            unknown_fields: if context.config.zuora.ignore_unknown_fields {
                UnknownFieldPolicy::Ignore
            } else {
                UnknownFieldPolicy::Error
            },
            page_size: context.config.zuora.page_size as usize,
            stop: Arc::clone(&context.stop),
            halt: AtomicBool::new(false),
            summary: Mutex::new(summary),
            progress: context.progress.object(&source_name),
            context,
        }
    }

    pub(super) fn into_summary(self) -> (ObjectSummary, ObjectProgress) {
        (
            self.summary.into_inner().unwrap_or_else(|p| p.into_inner()),
            self.progress,
        )
    }

    /// Whether some of the run's window readers have nothing to read: no window of any object
    /// waits for one.
    pub(super) fn readers_idle(&self) -> bool {
        self.context.window_permits.available_permits() > 0
    }

    fn with_summary(&self, f: impl FnOnce(&mut ObjectSummary)) {
        f(&mut self.summary.lock().unwrap_or_else(|p| p.into_inner()));
    }

    fn stopping(&self) -> Result<()> {
        if self.stop.load(Ordering::SeqCst) {
            Err(Error::Interrupted)
        } else {
            Ok(())
        }
    }

    pub(super) async fn run(&self) -> Result<()> {
        let object = self.source.object.clone();
        let state = self
            .checkpoint
            .ensure_object(&object, &self.context.run_id)?;
        self.with_summary(|s| s.watermark_before = state.watermark);
        self.warehouse.prepare(&self.table).await?;
        self.checkpoint.set_schema(&self.table)?;

        let leftovers = self.checkpoint.unmerged_windows(&object)?;
        if !leftovers.is_empty() {
            tracing::info!(object = %object, windows = leftovers.len(), "Resuming an earlier run");
            self.process(leftovers).await?;
        }
        self.stopping()?;

        let state = self
            .checkpoint
            .ensure_object(&object, &self.context.run_id)?;
        let windows = match plan::next(&state, &self.source, &self.context.config.sync, self.now())
        {
            Next::UpToDate => Vec::new(),
            Next::Windows(phase, spans) => self.plan(phase, &spans)?,
            Next::Backfill { start, end } => {
                let oldest = oldest_row(self.client, &self.source, start, end).await?;
                let count = self.context.config.sync.backfill_windows;
                self.plan(
                    Phase::Historical,
                    &plan::backfill_spans(oldest, start, end, count),
                )?
            }
        };
        if !windows.is_empty() {
            self.process(windows).await?;
        }
        self.stopping()?;
        self.read_deletes().await?;

        let after = self.checkpoint.object(&object)?.and_then(|s| s.watermark);
        self.with_summary(|s| s.watermark_after = after);
        Ok(())
    }

    /// Zuora's clock: the object's Describe call has been answered by now, so its `Date`
    /// header is known.
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.client.server_now()
    }

    fn plan(&self, phase: Phase, spans: &[Span]) -> Result<Vec<Window>> {
        let run_id = &self.context.run_id;
        self.checkpoint
            .plan_windows(&self.source.object, run_id, phase, spans)
    }

    /// The staged name of a window's file: unique forever, because the checkpoint's random
    /// instance id and the window id never repeat, and the same for a retried write.
    pub(super) fn file_name(&self, window: &Window, seq: u32) -> String {
        let instance = self.checkpoint.instance();
        format!(
            "{instance}/{}/w{:08}-{seq:04}.parquet",
            self.source.table, window.id
        )
    }

    /// Reads every open window (at most `max_parallel_windows` at once across the run, new
    /// windows from splits included), then loads what they wrote.
    async fn process(&self, windows: Vec<Window>) -> Result<()> {
        let mut pending = Vec::new();
        for window in windows.into_iter().filter(|w| w.state == WindowState::Open) {
            if window.phase == Phase::Deletes {
                // A run died between planning its tombstones and writing them; the next check
                // reads the deleted ids again, so this window has nothing left to do.
                self.checkpoint
                    .commit_page(&window, &window.progress, 0, true)?;
            } else {
                pending.push(window);
            }
        }
        let mut reading = FuturesUnordered::new();
        let mut failure = None;
        loop {
            while let Some(window) = pending.pop().filter(|_| failure.is_none()) {
                reading.push(self.read_one(window));
            }
            let Some(outcome) = reading.next().await else {
                break;
            };
            match outcome {
                Ok(WindowEnd::Done) => {}
                Ok(WindowEnd::Split(windows)) => pending.extend(windows),
                // The other windows stop after their page and report Interrupted; the first
                // real failure is the one reported.
                Err(e) => {
                    self.halt.store(true, Ordering::SeqCst);
                    let real = !matches!(e, Error::Interrupted);
                    if failure.is_none() || (real && matches!(failure, Some(Error::Interrupted))) {
                        failure = Some(e);
                    }
                }
            }
        }
        if let Some(e) = failure {
            return Err(e);
        }
        self.stopping()?;
        self.load().await
    }

    async fn read_one(&self, window: Window) -> Result<WindowEnd> {
        let _permit = self
            .context
            .window_permits
            .acquire()
            .await
            .expect("never closed");
        self.stopping()?;
        let (end, tally) = fetch::read_window(self, &window).await?;
        self.with_summary(|s| {
            s.windows += 1;
            s.pages += tally.pages;
            s.rows += tally.rows;
            s.files += tally.files;
            s.bytes += tally.bytes;
            s.seconds.fetch += tally.seconds.fetch;
            s.seconds.decode += tally.seconds.decode;
            s.seconds.write += tally.seconds.write;
        });
        Ok(end)
    }

    /// Stages, copies and merges every file that is not merged yet, then cleans up.
    async fn load(&self) -> Result<()> {
        let object = self.source.object.clone();
        let written = self.checkpoint.files(&object, FileState::Written)?;
        self.progress.stage("staging files");
        self.stage_files(&written).await?;

        let staged = self.checkpoint.files(&object, FileState::Staged)?;
        self.progress.stage("copying into the landing table");
        for chunk in staged.chunks(FILES_PER_COPY) {
            self.copy_files(chunk).await?;
        }

        self.merge().await?;
        self.clean_up().await
    }

    async fn stage_files(&self, files: &[FileRecord]) -> Result<()> {
        for file in files {
            let started = Instant::now();
            let local = self.spool.join(&file.name);
            self.stage.put(&file.name, &local).await?;
            failpoint::hit("after_stage");
            self.checkpoint
                .set_file_state(std::slice::from_ref(file), FileState::Staged)?;
            // The staged copy is the durable one now.
            let _ = std::fs::remove_file(&local);
            self.with_summary(|s| s.seconds.stage += started.elapsed().as_secs_f64());
        }
        Ok(())
    }

    async fn copy_files(&self, files: &[FileRecord]) -> Result<()> {
        let started = Instant::now();
        let names: Vec<String> = files.iter().map(|f| f.name.clone()).collect();
        let outcome = self.warehouse.copy(&self.table, &names).await?;
        failpoint::hit("after_copy");
        self.checkpoint.set_file_state(files, FileState::Copied)?;
        self.with_summary(|s| {
            s.copy_statements += outcome.statements;
            s.seconds.copy += started.elapsed().as_secs_f64();
        });
        tracing::info!(
            object = %self.source.object,
            files = outcome.files_loaded,
            skipped = outcome.files_skipped,
            rows = outcome.rows,
            "Copied into the landing table"
        );
        Ok(())
    }

    async fn merge(&self) -> Result<()> {
        let object = self.source.object.clone();
        let pending = self.checkpoint.unmerged_windows(&object)?;
        let copied = self.checkpoint.files(&object, FileState::Copied)?;
        if copied.is_empty() && !pending.iter().any(|w| w.state == WindowState::Fetched) {
            return Ok(());
        }
        failpoint::hit("before_merge");
        self.progress.stage("merging");
        let started = Instant::now();
        let outcome = self.warehouse.merge(&self.table).await?;
        failpoint::hit("after_merge");
        self.checkpoint.complete_merge(&object, outcome.landed)?;
        self.with_summary(|s| {
            s.rows_changed += outcome.changed;
            s.seconds.merge += started.elapsed().as_secs_f64();
        });
        tracing::info!(object = %object, landed = outcome.landed, changed = outcome.changed,
            "Merged into the final table");
        Ok(())
    }

    async fn clean_up(&self) -> Result<()> {
        let merged = self.checkpoint.uncleaned_files(&self.source.object)?;
        if !self.context.config.staging.keep_staged_files {
            for file in &merged {
                self.stage.delete(&file.name).await?;
            }
        }
        self.checkpoint.mark_cleaned(&merged)
    }

    /// Reads the ids deleted in Zuora and merges them as tombstones (`_deleted = true`), once
    /// the object is fully loaded and the check interval has passed. A failure of the delete
    /// channel is reported in the summary and the logs; it does not fail the object, whose rows
    /// are loaded.
    async fn read_deletes(&self) -> Result<()> {
        let sync = &self.context.config.sync;
        let object = &self.source.object;
        let Some(state) = self.checkpoint.object(object)? else {
            return Ok(());
        };
        let interval = chrono::TimeDelta::from_std(sync.delete_check_interval).unwrap_or_default();
        let due = state
            .deletes_checked_at
            .is_none_or(|at| self.now() - at >= interval);
        if !sync.deletes || state.status != ObjectStatus::Active || !due {
            return Ok(());
        }
        let checked_at = self.now();
        self.progress.stage("reading deleted ids");
        let ids = match self.client.deleted_ids(object).await {
            Ok(ids) => ids,
            Err(e) => {
                tracing::warn!(object = %object, error = %e, "Could not read deleted rows");
                self.with_summary(|s| s.deletes_error = Some(e.to_string()));
                return Ok(());
            }
        };
        self.with_summary(|s| s.deleted_ids = ids.len() as u64);
        if !ids.is_empty() {
            let window = self.plan(Phase::Deletes, &[Span::default()])?.remove(0);
            self.write_tombstones(&window, &ids)?;
            self.load().await?;
        }
        self.checkpoint.set_deletes_checked(object, checked_at)
    }

    /// One Parquet file of tombstones: the id, `_deleted = true`, every other column null.
    fn write_tombstones(&self, window: &Window, ids: &[String]) -> Result<()> {
        let schema = &self.arrow_schema;
        let rows = ids.len();
        let columns: Vec<ArrayRef> = schema
            .fields()
            .iter()
            .map(|field| -> ArrayRef {
                match field.name().as_str() {
                    name if self.source.field(ID).is_some_and(|f| f.column == name) => {
                        Arc::new(StringArray::from_iter_values(ids))
                    }
                    SYNCED_AT => Arc::new(
                        arrow::array::TimestampMicrosecondArray::from(vec![
                            self.synced_at_micros;
                            rows
                        ])
                        .with_timezone(crate::schema::UTC),
                    ),
                    DELETED => Arc::new(BooleanArray::from(vec![true; rows])),
                    _ => new_null_array(field.data_type(), rows),
                }
            })
            .collect();
        let batch = RecordBatch::try_new(schema.clone(), columns)
            .map_err(|e| Error::Destination(format!("building tombstones: {e}")))?;
        let name = self.file_name(window, 0);
        let mut file =
            ParquetFile::create(&self.spool.join(&name), schema.clone(), &self.write_options)?;
        file.write(&batch)?;
        let stats = file.finish()?;
        let progress = Progress {
            pages: 1,
            rows: rows as u64,
            ..Progress::default()
        };
        let new = NewFile {
            seq: 0,
            name,
            rows: stats.rows,
            bytes: stats.bytes,
        };
        self.checkpoint.commit_file(window, &new, &progress, true)?;
        Ok(())
    }
}

/// The cursor-field value of the oldest row in `[start, end)`, from a one-row page.
pub(super) async fn oldest_row(
    client: &ZuoraClient,
    schema: &ObjectSchema,
    start: Option<chrono::DateTime<chrono::Utc>>,
    end: chrono::DateTime<chrono::Utc>,
) -> Result<Option<chrono::DateTime<chrono::Utc>>> {
    let request = PageRequest {
        schema,
        bounds: WindowBounds {
            start,
            end: Some(end),
            ..WindowBounds::default()
        },
        cursor: None,
    };
    let body = client.query_one(&request).await?;
    let mut decoder =
        crate::decode::PageDecoder::new(Arc::new(schema.clone()), 0, UnknownFieldPolicy::Ignore);
    let page = decoder.decode(&body)?;
    Ok(page
        .last_cursor
        .and_then(|(micros, _)| chrono::TimeZone::timestamp_micros(&chrono::Utc, micros).single()))
}
