//! Reading one window: Object Query pages, decoded into Arrow and appended to a Parquet file in
//! the local spool. A file is committed (closed, fsync'ed, recorded together with the cursor
//! after its last page) when it reaches the size target or the window ends; a resumed window
//! continues from the last committed page.

use std::sync::atomic::Ordering;
use std::time::Instant;

use chrono::{DateTime, TimeZone, Utc};

use super::object::ObjectRun;
use crate::checkpoint::{NewFile, Progress, Window};
use crate::decode::PageDecoder;
use crate::error::{Error, Result};
use crate::failpoint;
use crate::write::ParquetFile;
use crate::zuora::{PageRequest, WindowBounds};

/// A Parquet file being filled, not yet committed.
struct OpenFile {
    file: ParquetFile,
    seq: u32,
    name: String,
}

pub(super) async fn read_window(run: &mut ObjectRun<'_>, window: &Window) -> Result<()> {
    let mut decoder =
        PageDecoder::new(run.schema.clone(), run.synced_at_micros, run.unknown_fields);
    let mut progress = window.progress.clone();
    let mut seq = run.checkpoint.file_count(window)?;
    let mut open: Option<OpenFile> = None;
    tracing::info!(
        object = %run.schema.object,
        window = window.id,
        start = ?window.start,
        end = ?window.end,
        resumed_pages = progress.pages,
        "Reading window"
    );

    loop {
        let request = PageRequest {
            schema: &run.schema,
            bounds: resume_bounds(window, &progress),
            cursor: progress.next_page.as_deref(),
        };
        let started = Instant::now();
        let body = run.client.query_page(&request).await?;
        run.summary.seconds.fetch += started.elapsed().as_secs_f64();
        failpoint::hit("after_fetch");

        let started = Instant::now();
        let page = tokio::task::block_in_place(|| decoder.decode(&body))?;
        run.summary.seconds.decode += started.elapsed().as_secs_f64();
        run.summary.pages += 1;
        run.summary.rows += page.rows as u64;

        if page.rows > 0 {
            let started = Instant::now();
            if open.is_none() {
                open = Some(run.create_file(window, seq)?);
                seq += 1;
            }
            let target = open.as_mut().expect("opened above");
            tokio::task::block_in_place(|| target.file.write(&page.batch))?;
            run.summary.seconds.write += started.elapsed().as_secs_f64();
        }

        progress.pages += 1;
        progress.rows += page.rows as u64;
        progress.next_page = page.next_page.clone();
        if let Some((micros, id)) = &page.last_cursor {
            progress.last_value = Utc.timestamp_micros(*micros).single();
            progress.last_id = Some(id.clone());
        }

        let done = page.next_page.is_none();
        let stopping = run.stop.load(Ordering::SeqCst);
        let full = open
            .as_ref()
            .is_some_and(|f| f.file.bytes_so_far() >= run.file_target_bytes);
        match open.take() {
            Some(file) if done || full || stopping => {
                run.commit_file(window, file, &progress, done)?
            }
            Some(file) => open = Some(file),
            // Nothing is held in an open file, so the page itself can be committed.
            None => run.checkpoint.commit_progress(window, &progress, done)?,
        }
        if done {
            return Ok(());
        }
        if stopping {
            return Err(Error::Interrupted);
        }
    }
}

/// Where the next page starts: the cursor if there is one; otherwise, for a window that was
/// read partly and lost its cursor, the second of its last committed row (rows of that second
/// are read again; the merge keeps one of each).
fn resume_bounds(window: &Window, progress: &Progress) -> WindowBounds {
    let bounds = WindowBounds {
        start: window.start,
        end: window.end,
    };
    match (&progress.next_page, progress.last_value) {
        (None, Some(last)) if progress.pages > 0 => WindowBounds {
            start: Some(floor_second(last)),
            ..bounds
        },
        _ => bounds,
    }
}

pub(super) fn floor_second(t: DateTime<Utc>) -> DateTime<Utc> {
    Utc.timestamp_opt(t.timestamp(), 0)
        .single()
        .expect("whole seconds are valid")
}

impl ObjectRun<'_> {
    fn create_file(&self, window: &Window, seq: u32) -> Result<OpenFile> {
        let name = format!(
            "{}/{}/w{:08}-{:04}.parquet",
            self.checkpoint.instance(),
            self.schema.table,
            window.id,
            seq
        );
        let path = self.spool.join(&name);
        let file = ParquetFile::create(&path, self.arrow_schema.clone(), &self.write_options)?;
        Ok(OpenFile { file, seq, name })
    }

    fn commit_file(
        &mut self,
        window: &Window,
        open: OpenFile,
        progress: &Progress,
        done: bool,
    ) -> Result<()> {
        let started = Instant::now();
        let stats = tokio::task::block_in_place(|| open.file.finish())?;
        self.summary.seconds.write += started.elapsed().as_secs_f64();
        let file = NewFile {
            seq: open.seq,
            name: open.name,
            rows: stats.rows,
            bytes: stats.bytes,
        };
        self.checkpoint.commit_file(window, &file, progress, done)?;
        self.summary.files += 1;
        self.summary.bytes += stats.bytes;
        tracing::debug!(object = %self.schema.object, file = %file.name, rows = file.rows,
            bytes = file.bytes, "Wrote file");
        failpoint::hit("after_write");
        Ok(())
    }
}
