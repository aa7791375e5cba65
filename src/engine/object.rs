//! One object's sync: finish whatever an earlier run left (files to stage, copy or merge,
//! windows to read), then read the next window, and load it: stage the written files, COPY
//! them into the landing table, MERGE, and advance the watermark. Each step is recorded in the
//! checkpoint after it happens and is safe to repeat, so a crash between any two steps is
//! harmless.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use arrow::datatypes::SchemaRef;

use super::summary::ObjectSummary;
use super::{RunContext, fetch, plan};
use crate::checkpoint::{Checkpoint, FileRecord, FileState, Window, WindowState};
use crate::decode::UnknownFieldPolicy;
use crate::error::Result;
use crate::failpoint;
use crate::schema::ObjectSchema;
use crate::stage::Stage;
use crate::warehouse::Warehouse;
use crate::write::WriteOptions;
use crate::zuora::ZuoraClient;

/// COPY INTO takes at most this many files per statement.
const FILES_PER_COPY: usize = 1000;

pub(super) struct ObjectRun<'a> {
    pub(super) schema: Arc<ObjectSchema>,
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
    pub(super) stop: Arc<AtomicBool>,
    pub(super) summary: ObjectSummary,
    context: &'a RunContext,
}

impl<'a> ObjectRun<'a> {
    pub(super) fn new(context: &'a RunContext, schema: ObjectSchema) -> Self {
        let summary = ObjectSummary {
            table: schema.table.clone(),
            ..ObjectSummary::default()
        };
        Self {
            arrow_schema: schema.arrow_schema(),
            schema: Arc::new(schema),
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
            stop: Arc::clone(&context.stop),
            summary,
            context,
        }
    }

    pub(super) fn into_summary(self) -> ObjectSummary {
        self.summary
    }

    pub(super) async fn run(&mut self) -> Result<()> {
        let object = self.schema.object.clone();
        let state = self
            .checkpoint
            .ensure_object(&object, &self.context.run_id)?;
        self.summary.watermark_before = state.watermark;
        self.warehouse.prepare(&self.schema).await?;
        self.checkpoint.set_schema(&self.schema)?;

        let leftovers = self.checkpoint.unmerged_windows(&object)?;
        if !leftovers.is_empty() {
            tracing::info!(object = %object, windows = leftovers.len(), "Resuming an earlier run");
            self.process(&leftovers).await?;
        }

        let state = self
            .checkpoint
            .ensure_object(&object, &self.context.run_id)?;
        let now = self.context.started_at;
        if let Some((phase, ranges)) =
            plan::next_windows(&state, &self.schema, &self.context.config.sync, now)
        {
            let run_id = &self.context.run_id;
            let windows = self
                .checkpoint
                .plan_windows(&object, run_id, phase, &ranges)?;
            self.process(&windows).await?;
        }
        self.summary.watermark_after = self.checkpoint.object(&object)?.and_then(|s| s.watermark);
        Ok(())
    }

    async fn process(&mut self, windows: &[Window]) -> Result<()> {
        for window in windows.iter().filter(|w| w.state == WindowState::Open) {
            fetch::read_window(self, window).await?;
        }
        self.load().await
    }

    /// Stages, copies and merges every file that is not merged yet, then cleans up.
    async fn load(&mut self) -> Result<()> {
        let object = self.schema.object.clone();
        let written = self.checkpoint.files(&object, FileState::Written)?;
        self.stage_files(&written).await?;

        let staged = self.checkpoint.files(&object, FileState::Staged)?;
        for chunk in staged.chunks(FILES_PER_COPY) {
            self.copy_files(chunk).await?;
        }

        self.merge().await?;
        self.clean_up().await
    }

    async fn stage_files(&mut self, files: &[FileRecord]) -> Result<()> {
        for file in files {
            let started = Instant::now();
            let local = self.spool.join(&file.name);
            self.stage.put(&file.name, &local).await?;
            failpoint::hit("after_stage");
            self.checkpoint
                .set_file_state(std::slice::from_ref(file), FileState::Staged)?;
            // The staged copy is the durable one now.
            let _ = std::fs::remove_file(&local);
            self.summary.seconds.stage += started.elapsed().as_secs_f64();
        }
        Ok(())
    }

    async fn copy_files(&mut self, files: &[FileRecord]) -> Result<()> {
        let started = Instant::now();
        let names: Vec<String> = files.iter().map(|f| f.name.clone()).collect();
        let outcome = self.warehouse.copy(&self.schema, &names).await?;
        failpoint::hit("after_copy");
        self.checkpoint.set_file_state(files, FileState::Copied)?;
        self.summary.copy_statements += outcome.statements;
        self.summary.seconds.copy += started.elapsed().as_secs_f64();
        tracing::info!(
            object = %self.schema.object,
            files = outcome.files_loaded,
            skipped = outcome.files_skipped,
            rows = outcome.rows,
            "Copied into the landing table"
        );
        Ok(())
    }

    async fn merge(&mut self) -> Result<()> {
        let object = self.schema.object.clone();
        let pending = self.checkpoint.unmerged_windows(&object)?;
        let copied = self.checkpoint.files(&object, FileState::Copied)?;
        if copied.is_empty() && !pending.iter().any(|w| w.state == WindowState::Fetched) {
            return Ok(());
        }
        failpoint::hit("before_merge");
        let started = Instant::now();
        let outcome = self.warehouse.merge(&self.schema).await?;
        failpoint::hit("after_merge");
        self.checkpoint.complete_merge(&object, outcome.landed)?;
        self.summary.rows_changed += outcome.changed;
        self.summary.seconds.merge += started.elapsed().as_secs_f64();
        tracing::info!(object = %object, landed = outcome.landed, changed = outcome.changed,
            "Merged into the final table");
        Ok(())
    }

    async fn clean_up(&mut self) -> Result<()> {
        let merged = self.checkpoint.unremoved_files(&self.schema.object)?;
        if !self.context.config.staging.keep_staged_files {
            for file in &merged {
                self.stage.delete(&file.name).await?;
            }
        }
        self.checkpoint.mark_removed(&merged)
    }
}
