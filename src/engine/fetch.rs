//! Reading one window: Object Query pages, decoded into Arrow and appended to a Parquet file,
//! each page also appended to the file's page spool and committed in the checkpoint before the
//! next is requested. The Parquet file is committed when it reaches the size target or the
//! window ends. A resumed window rebuilds its open file from the spool and continues after the
//! last committed page; a refused cursor restarts the window from its last committed second.
//!
//! A full page whose rows all share one second means a busy second: the window hands the rest
//! of its range to new windows, that second split in two by id, so that it is read in parallel.
//! And when readers sit idle, a window hands the rest of its range to new windows in halves of
//! time, so that a slice that holds more rows than the others is not read alone at the end.

use std::sync::atomic::Ordering;
use std::time::Instant;

use arrow::array::{Array, TimestampMicrosecondArray};
use chrono::{DateTime, TimeDelta, TimeZone, Utc};

use super::object::{ObjectRun, Tally};
use super::plan::floor_second;
use crate::checkpoint::{NewFile, Progress, Span, Window};
use crate::decode::{DecodedPage, PageDecoder};
use crate::error::{Error, Result};
use crate::failpoint;
use crate::write::{PageSpool, ParquetFile};
use crate::zuora::{PageBody, PageRequest, WindowBounds};

/// A busy second is split in two at most this many times (into 2^3 = 8 parts); beyond that
/// its parts are read one page after another.
const MAX_SPLIT_DEPTH: u32 = 3;
/// A window shares its rest with idle readers only when that rest looks like this many pages
/// or more: each share costs requests and a file of its own.
const MIN_SHARED_PAGES: f64 = 8.0;
/// A window restarts without its cursor at most this many times in a row without progress.
const MAX_CURSOR_RESTARTS: u32 = 3;

/// How a window read ended.
pub(super) enum WindowEnd {
    /// Every page is read and committed.
    Done,
    /// The rest of the range went to these new windows.
    Split(Vec<Window>),
}

/// A Parquet file being filled, with the spool that makes its pages durable meanwhile.
struct OpenFile {
    file: ParquetFile,
    spool: PageSpool,
    seq: u32,
    name: String,
}

struct Reader<'a> {
    run: &'a ObjectRun<'a>,
    window: &'a Window,
    decoder: PageDecoder,
    progress: Progress,
    seq: u32,
    open: Option<OpenFile>,
    tally: Tally,
    /// The cursor value of the last row of this reader's first page with rows, and the rows
    /// read since: how densely the window's rows lie in time.
    density: Option<(DateTime<Utc>, u64)>,
}

pub(super) async fn read_window(
    run: &ObjectRun<'_>,
    window: &Window,
) -> Result<(WindowEnd, Tally)> {
    let decoder = PageDecoder::new(run.source.clone(), run.synced_at_micros, run.unknown_fields);
    let seq = run.checkpoint.file_count(window)?;
    let mut reader = Reader {
        run,
        window,
        decoder,
        progress: window.progress.clone(),
        seq,
        open: None,
        tally: Tally::default(),
        density: None,
    };
    tracing::info!(
        object = %run.source.object,
        window = window.id,
        start = ?window.span.start,
        end = ?window.span.end,
        id_start = ?window.span.id_start,
        resumed_pages = window.progress.pages,
        "Reading window"
    );
    reader.reopen_spool()?;
    let end = reader.read().await?;
    Ok((end, reader.tally))
}

impl Reader<'_> {
    async fn read(&mut self) -> Result<WindowEnd> {
        let mut restarts = 0;
        loop {
            let request = PageRequest {
                schema: &self.run.source,
                bounds: self.bounds(),
                cursor: self.progress.next_page.as_deref(),
            };
            let started = Instant::now();
            let body = match self.run.client.query_page(&request).await? {
                PageBody::Page(body) => body,
                PageBody::CursorRejected(detail) => {
                    tracing::warn!(object = %self.run.source.object, window = self.window.id,
                        detail = %detail, "Zuora refused the cursor; continuing after the last \
                        committed row");
                    if let Some((spans, covered)) = self.after_last_row() {
                        return self.hand_over(&spans, covered).map(WindowEnd::Split);
                    }
                    if restarts >= MAX_CURSOR_RESTARTS {
                        return Err(Error::Source(format!(
                            "{} kept refusing the cursor of window {}: {detail}",
                            self.run.source.object, self.window.id
                        )));
                    }
                    // No row committed yet: read the window again from its start.
                    restarts += 1;
                    self.progress.next_page = None;
                    continue;
                }
            };
            self.tally.seconds.fetch += started.elapsed().as_secs_f64();
            failpoint::hit("after_fetch");

            let started = Instant::now();
            let page = tokio::task::block_in_place(|| self.decoder.decode(&body))?;
            self.tally.seconds.decode += started.elapsed().as_secs_f64();
            self.tally.pages += 1;
            self.tally.rows += page.rows as u64;
            self.run.progress.page(page.rows as u64);
            restarts = 0;

            let busy = self.busy_second(&page);
            self.keep(&page, &body)?;
            let done = page.next_page.is_none();
            if let Some(second) = busy.filter(|_| !done) {
                return self.split(second).map(WindowEnd::Split);
            }
            let stopping =
                self.run.stop.load(Ordering::SeqCst) || self.run.halt.load(Ordering::SeqCst);
            if !done
                && !stopping
                && self.run.readers_idle()
                && let Some((spans, covered)) = self.rest_in_halves()
            {
                tracing::info!(object = %self.run.source.object, window = self.window.id,
                    "Readers are idle: sharing the rest of the window");
                return self.hand_over(&spans, covered).map(WindowEnd::Split);
            }
            let full = (self.open.as_ref())
                .is_some_and(|f| f.file.bytes_so_far() >= self.run.file_target_bytes);
            if done || full {
                self.commit_file(done)?;
            } else {
                let spooled = self.open.as_ref().map_or(0, |f| f.spool.len());
                self.run
                    .checkpoint
                    .commit_page(self.window, &self.progress, spooled, false)?;
            }
            if done {
                return Ok(WindowEnd::Done);
            }
            if stopping {
                return Err(Error::Interrupted);
            }
        }
    }

    fn bounds(&self) -> WindowBounds {
        let Span {
            start,
            end,
            id_start,
            id_end,
            ..
        } = self.window.span.clone();
        WindowBounds {
            start,
            end,
            id_start,
            id_end,
        }
    }

    /// What is left of the window after its last committed row, as windows that need no
    /// cursor: the rest of that row's second (ids after it), and everything after that second.
    /// `None` when the rows carry no cursor value or ids that order as 32 hex digits.
    fn after_last_row(&self) -> Option<(Vec<Span>, Option<DateTime<Utc>>)> {
        let span = &self.window.span;
        let second = floor_second(self.progress.last_value?);
        let after = next_id(self.progress.last_id.as_deref()?)?;
        let next = second + TimeDelta::seconds(1);
        let id_start = match &span.id_start {
            Some(start) if start.as_str() > after.as_str() => start.clone(),
            _ => after,
        };
        let mut spans = Vec::new();
        if span.id_end.as_ref().is_none_or(|end| id_start < *end) {
            spans.push(Span {
                start: Some(second),
                end: Some(next),
                id_start: Some(id_start),
                id_end: span.id_end.clone(),
                depth: span.depth,
            });
        }
        if span.end.is_none_or(|end| end > next) {
            spans.push(Span {
                start: Some(next),
                ..span.clone()
            });
        }
        let covered = (span.start != Some(second)).then_some(second);
        Some((spans, covered))
    }

    /// The rest of the window as windows that idle readers can take: the rest of the last
    /// row's second, and the time after it in two halves. Windows are planned as equal slices
    /// of time, but rows are not spread evenly over time, so without this the busiest slice
    /// would be read alone at the end, one request at a time. `None` when the rest looks like
    /// fewer than [`MIN_SHARED_PAGES`] pages or two seconds, or the rows carry no cursor value
    /// or ordered ids.
    fn rest_in_halves(&self) -> Option<(Vec<Span>, Option<DateTime<Utc>>)> {
        let end = self.window.span.end?;
        let last = self.progress.last_value?;
        let next = floor_second(last) + TimeDelta::seconds(1);
        let half = (end - next).num_seconds() / 2;
        if half < 1 {
            return None;
        }
        // Rows per second so far, times the seconds left: the rows the rest likely holds.
        let (first, rows) = self.density?;
        let read_over = (last - first).num_milliseconds();
        if rows == 0 || read_over <= 0 {
            return None;
        }
        let left = (end - last).num_milliseconds() as f64 * rows as f64 / read_over as f64;
        if left < MIN_SHARED_PAGES * self.run.page_size as f64 {
            return None;
        }
        let (mut spans, covered) = self.after_last_row()?;
        let rest = spans.pop().filter(|span| span.start == Some(next))?;
        let middle = next + TimeDelta::seconds(half);
        spans.push(Span {
            end: Some(middle),
            ..rest.clone()
        });
        spans.push(Span {
            start: Some(middle),
            ..rest
        });
        Some((spans, covered))
    }

    /// Adds a decoded page to the open file and its spool, and to the window's progress.
    fn keep(&mut self, page: &DecodedPage, body: &[u8]) -> Result<()> {
        if page.rows > 0 {
            let started = Instant::now();
            if self.open.is_none() {
                self.open = Some(self.create_file(0)?.0);
            }
            let open = self.open.as_mut().expect("opened above");
            tokio::task::block_in_place(|| -> Result<()> {
                open.file.write(&page.batch)?;
                open.spool.append(body)?;
                Ok(())
            })?;
            self.tally.seconds.write += started.elapsed().as_secs_f64();
        }
        if let Some((_, rows)) = &mut self.density {
            *rows += page.rows as u64;
        } else if let Some((micros, _)) = &page.last_cursor {
            self.density = Utc.timestamp_micros(*micros).single().map(|at| (at, 0));
        }
        self.progress.pages += 1;
        self.progress.rows += page.rows as u64;
        self.progress.next_page = page.next_page.clone();
        if let Some((micros, id)) = &page.last_cursor {
            self.progress.last_value = Utc.timestamp_micros(*micros).single();
            self.progress.last_id = Some(id.clone());
        }
        Ok(())
    }

    /// After a restart, the pages committed since the last committed Parquet file are in the
    /// spool: decode them again into a new file.
    fn reopen_spool(&mut self) -> Result<()> {
        if self.window.spool_bytes == 0 {
            return Ok(());
        }
        let (mut open, pages) = self.create_file(self.window.spool_bytes)?;
        for body in &pages {
            let page = self.decoder.decode(body)?;
            open.file.write(&page.batch)?;
        }
        tracing::info!(object = %self.run.source.object, window = self.window.id,
            pages = pages.len(), "Rebuilt the open file from its page spool");
        self.open = Some(open);
        Ok(())
    }

    /// Starts the window's next Parquet file and its spool, which already holds
    /// `committed_spool` bytes of committed pages (returned) when resuming.
    fn create_file(&mut self, committed_spool: u64) -> Result<(OpenFile, Vec<Vec<u8>>)> {
        let name = self.run.file_name(self.window, self.seq);
        let path = self.run.spool.join(&name);
        let file = ParquetFile::create(
            &path,
            self.run.arrow_schema.clone(),
            &self.run.write_options,
        )?;
        let (spool, pages) = PageSpool::open(&self.spool_path(&name), committed_spool)?;
        let seq = self.seq;
        self.seq += 1;
        Ok((
            OpenFile {
                file,
                spool,
                seq,
                name,
            },
            pages,
        ))
    }

    fn spool_path(&self, name: &str) -> std::path::PathBuf {
        self.run.spool.join(format!("{name}.pages"))
    }

    /// Closes the open file (if any) and records it with the progress, in one transaction.
    fn commit_file(&mut self, done: bool) -> Result<()> {
        let Some(open) = self.open.take() else {
            return self
                .run
                .checkpoint
                .commit_page(self.window, &self.progress, 0, done);
        };
        let started = Instant::now();
        let stats = tokio::task::block_in_place(|| open.file.finish())?;
        self.tally.seconds.write += started.elapsed().as_secs_f64();
        let file = NewFile {
            seq: open.seq,
            name: open.name,
            rows: stats.rows,
            bytes: stats.bytes,
        };
        self.run
            .checkpoint
            .commit_file(self.window, &file, &self.progress, done)?;
        open.spool.remove();
        self.tally.files += 1;
        self.tally.bytes += stats.bytes;
        tracing::debug!(object = %self.run.source.object, file = %file.name, rows = file.rows,
            bytes = file.bytes, "Wrote file");
        failpoint::hit("after_write");
        Ok(())
    }

    /// The second that a full page was entirely made of, when the window may still split (not
    /// too deep yet, and with ids that can be halved).
    fn busy_second(&self, page: &DecodedPage) -> Option<DateTime<Utc>> {
        let span = &self.window.span;
        if page.rows < self.run.page_size || span.depth >= MAX_SPLIT_DEPTH {
            return None;
        }
        let last_id = page.last_cursor.as_ref().map(|(_, id)| id.as_str())?;
        halves(span.id_start.as_deref(), span.id_end.as_deref())?;
        halves(Some(last_id), None)?;
        let cursor = self.run.source.cursor_field()?;
        let column = page.batch.column_by_name(&cursor.column)?;
        let values = column
            .as_any()
            .downcast_ref::<TimestampMicrosecondArray>()?;
        let first = values.iter().flatten().next()?;
        let last = page.max_cursor_micros?;
        let (first, last) = (
            Utc.timestamp_micros(first).single()?,
            Utc.timestamp_micros(last).single()?,
        );
        let second = floor_second(first);
        (floor_second(last) == second).then_some(second)
    }

    /// Hands the rest of the window to new windows: the busy second in two halves by id, and
    /// whatever comes after it. This window keeps what it read before that second.
    fn split(&mut self, second: DateTime<Utc>) -> Result<Vec<Window>> {
        let span = &self.window.span;
        let next = second + TimeDelta::seconds(1);
        let (low, high) = halves(span.id_start.as_deref(), span.id_end.as_deref())
            .expect("busy_second checked that the ids halve");
        let depth = span.depth + 1;
        let mut spans = vec![
            Span {
                start: Some(second),
                end: Some(next),
                id_start: low.0,
                id_end: low.1,
                depth,
            },
            Span {
                start: Some(second),
                end: Some(next),
                id_start: high.0,
                id_end: high.1,
                depth,
            },
        ];
        let whole_second = span.start == Some(second) && span.end == Some(next);
        if !whole_second && span.end.is_none_or(|end| end > next) {
            spans.push(Span {
                start: Some(next),
                end: span.end,
                id_start: span.id_start.clone(),
                id_end: span.id_end.clone(),
                depth: span.depth,
            });
        }
        let covered = (!whole_second).then_some(second);
        tracing::info!(object = %self.run.source.object, window = self.window.id,
            second = %second, "Busy second: splitting the window");
        self.hand_over(&spans, covered)
    }

    /// Commits what the window read and hands the rest of its range to new windows; the window
    /// now covers up to `covered` when given.
    fn hand_over(&mut self, spans: &[Span], covered: Option<DateTime<Utc>>) -> Result<Vec<Window>> {
        self.commit_file(false)?;
        self.run
            .checkpoint
            .split_window(self.window, &self.progress, covered, spans)
    }
}

type IdRange = (Option<String>, Option<String>);

/// The id right after `id`, for 32-digit hex ids.
fn next_id(id: &str) -> Option<String> {
    let value = (id.len() == 32)
        .then(|| u128::from_str_radix(id, 16).ok())
        .flatten()?;
    Some(format!("{:032x}", value.checked_add(1)?))
}

/// Splits the id range `[start, end)` in two at its middle, for 32-digit hex ids.
fn halves(start: Option<&str>, end: Option<&str>) -> Option<(IdRange, IdRange)> {
    let parse = |id: &str| {
        (id.len() == 32)
            .then(|| u128::from_str_radix(id, 16).ok())
            .flatten()
    };
    let low = match start {
        Some(id) => parse(id)?,
        None => 0,
    };
    let high = match end {
        Some(id) => parse(id)?,
        None => u128::MAX,
    };
    if high <= low + 1 {
        return None;
    }
    let middle = format!("{:032x}", low + (high - low) / 2);
    let start = start.map(str::to_string);
    let end = end.map(str::to_string);
    Some(((start, Some(middle.clone())), (Some(middle), end)))
}

#[cfg(test)]
mod tests {
    use super::halves;

    #[test]
    fn the_next_id_is_one_more_in_hex() {
        assert_eq!(
            super::next_id("8a8aa3bc90c4f1690190e7c2545f3c8f").as_deref(),
            Some("8a8aa3bc90c4f1690190e7c2545f3c90")
        );
        assert_eq!(super::next_id("ffffffffffffffffffffffffffffffff"), None);
        assert_eq!(super::next_id("A00000019"), None);
    }

    #[test]
    fn id_ranges_halve_at_their_middle() {
        let (low, high) = halves(None, None).unwrap();
        assert_eq!(
            low,
            (None, Some("7fffffffffffffffffffffffffffffff".to_string()))
        );
        assert_eq!(high.0.as_deref(), Some("7fffffffffffffffffffffffffffffff"));
        assert_eq!(high.1, None);
        let start = "80000000000000000000000000000000";
        let (low, _) = halves(Some(start), None).unwrap();
        assert_eq!(low.1.as_deref(), Some("bfffffffffffffffffffffffffffffff"));
        assert_eq!(
            halves(Some("short"), None),
            None,
            "ids that are not 32 hex digits"
        );
    }
}
