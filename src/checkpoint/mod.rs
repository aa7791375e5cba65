//! The checkpoint log: a SQLite database (WAL, `synchronous=FULL`, `BEGIN IMMEDIATE`) that
//! records per object its phase, status and watermark, each window's last committed page, and
//! each Parquet file's state (written → staged → copied → merged). Every state change is one
//! transaction, so a process killed at any instant resumes from a consistent log.

mod lock;
mod records;

pub use lock::RunLock;
pub use records::*;

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};

use crate::error::{Error, Result};
use crate::schema::ObjectSchema;

const MIGRATIONS: &[&str] = &[include_str!("v1.sql"), include_str!("v2.sql")];

pub struct Checkpoint {
    conn: Mutex<Connection>,
    instance: String,
}

impl Checkpoint {
    /// Opens (creating and migrating as needed) the checkpoint database at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
        }
        let mut conn = Connection::open(path)
            .map_err(|e| Error::Checkpoint(format!("opening {}: {e}", path.display())))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // FULL: a committed step survives a power cut, not only a killed process.
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        migrate(&mut conn).map_err(|e| match e {
            Error::Checkpoint(m) => Error::Checkpoint(format!("{}: {m}", path.display())),
            other => other,
        })?;
        let instance =
            conn.query_row("SELECT value FROM meta WHERE key = 'instance'", [], |r| {
                r.get::<_, String>(0)
            })?;
        Ok(Self {
            conn: Mutex::new(conn),
            instance,
        })
    }

    /// A random id made when the database was created. Staged file names carry it, so that a
    /// new checkpoint database never reuses a name that a warehouse already loaded.
    pub fn instance(&self) -> &str {
        &self.instance
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write<T>(&self, f: impl FnOnce(&Transaction<'_>) -> rusqlite::Result<T>) -> Result<T> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let value = f(&tx)?;
        tx.commit()?;
        Ok(value)
    }

    pub fn begin_run(&self, run_id: &str) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO runs (run_id, pid, started_at, status) VALUES (?1, ?2, ?3, 'running')",
                params![run_id, std::process::id(), now()],
            )?;
            // A run that was killed never finished; say so instead of leaving it running.
            tx.execute(
                "UPDATE runs SET status = 'killed' WHERE status = 'running' AND run_id <> ?1",
                params![run_id],
            )?;
            Ok(())
        })
    }

    pub fn finish_run(&self, run_id: &str, status: &str, summary_json: &str) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE runs SET finished_at = ?2, status = ?3, summary_json = ?4
                 WHERE run_id = ?1",
                params![run_id, now(), status, summary_json],
            )?;
            Ok(())
        })
    }

    pub fn last_run(&self) -> Result<Option<RunRecord>> {
        let conn = self.conn();
        let run = conn
            .query_row(
                "SELECT run_id, pid, started_at, finished_at, status, summary_json FROM runs
                 ORDER BY started_at DESC, rowid DESC LIMIT 1",
                [],
                RunRecord::from_row,
            )
            .optional()?;
        Ok(run)
    }

    pub fn objects(&self) -> Result<Vec<ObjectState>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!("{OBJECT_COLUMNS} ORDER BY object"))?;
        let rows = stmt.query_map([], ObjectState::from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn object(&self, object: &str) -> Result<Option<ObjectState>> {
        let conn = self.conn();
        let state = conn
            .query_row(
                &format!("{OBJECT_COLUMNS} WHERE object = ?1"),
                [object],
                ObjectState::from_row,
            )
            .optional()?;
        Ok(state)
    }

    /// The object's state, registering it as `In Progress` (historical) on its first sync.
    pub fn ensure_object(&self, object: &str, run_id: &str) -> Result<ObjectState> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO objects (object, phase, status, updated_at)
                 VALUES (?1, 'historical', 'In Progress', ?2) ON CONFLICT (object) DO NOTHING",
                params![object, now()],
            )?;
            tx.execute(
                "UPDATE objects SET last_run_id = ?2, last_error = NULL WHERE object = ?1",
                params![object, run_id],
            )?;
            Ok(())
        })?;
        self.object(object)?
            .ok_or_else(|| Error::Checkpoint(format!("{object} vanished")))
    }

    /// Records the columns the warehouse table now has.
    pub fn set_schema(&self, schema: &ObjectSchema) -> Result<()> {
        let json = serde_json::to_string(schema).expect("schemas serialise");
        self.write(|tx| {
            tx.execute(
                "UPDATE objects SET schema_json = ?2, updated_at = ?3 WHERE object = ?1",
                params![schema.object, json, now()],
            )?;
            Ok(())
        })
    }

    pub fn set_error(&self, object: &str, error: &str) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE objects SET last_error = ?2, updated_at = ?3 WHERE object = ?1",
                params![object, error, now()],
            )?;
            Ok(())
        })
    }

    /// Windows of the object that are not merged yet, oldest first.
    pub fn unmerged_windows(&self, object: &str) -> Result<Vec<Window>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "{WINDOW_COLUMNS} WHERE object = ?1 AND state <> 'merged' ORDER BY id"
        ))?;
        let rows = stmt.query_map([object], Window::from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Records new windows to read, in the order given.
    pub fn plan_windows(
        &self,
        object: &str,
        run_id: &str,
        phase: Phase,
        spans: &[Span],
    ) -> Result<Vec<Window>> {
        let ids = self.write(|tx| insert_windows(tx, object, run_id, phase, spans))?;
        let windows = self.unmerged_windows(object)?;
        Ok(windows
            .into_iter()
            .filter(|w| ids.contains(&w.id))
            .collect())
    }

    /// Ends a window early and hands the rest of its range to new windows, in one transaction:
    /// the window keeps what it read (its range now ends at `covered_end` when given) and the
    /// new windows cover the rest. Used to read a busy second in parallel.
    pub fn split_window(
        &self,
        window: &Window,
        progress: &Progress,
        covered_end: Option<DateTime<Utc>>,
        spans: &[Span],
    ) -> Result<Vec<Window>> {
        let ids = self.write(|tx| {
            update_progress(tx, window.id, progress, 0, true)?;
            if let Some(end) = covered_end {
                tx.execute(
                    "UPDATE windows SET range_end = ?2 WHERE id = ?1",
                    params![window.id, time(end)],
                )?;
            }
            let run_id: String = tx.query_row(
                "SELECT run_id FROM windows WHERE id = ?1",
                [window.id],
                |r| r.get(0),
            )?;
            insert_windows(tx, &window.object, &run_id, window.phase, spans)
        })?;
        let windows = self.unmerged_windows(&window.object)?;
        Ok(windows
            .into_iter()
            .filter(|w| ids.contains(&w.id))
            .collect())
    }

    /// Records a written Parquet file and, in the same transaction, the window's progress up to
    /// the last page in it (a resumed window continues after that page), and whether that page
    /// was the window's last.
    pub fn commit_file(
        &self,
        window: &Window,
        file: &NewFile,
        progress: &Progress,
        done: bool,
    ) -> Result<i64> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO files (object, window_id, seq, name, rows, bytes, state, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'written', ?7)",
                params![
                    window.object,
                    window.id,
                    file.seq,
                    file.name,
                    file.rows,
                    file.bytes,
                    now()
                ],
            )?;
            let id = tx.last_insert_rowid();
            update_progress(tx, window.id, progress, 0, done)?;
            Ok(id)
        })
    }

    /// Records a page that is durable outside a committed Parquet file: its rows (if any) are in
    /// the window's spool file, which now holds `spool_bytes` bytes of committed pages. `done`
    /// when it was the window's last page.
    pub fn commit_page(
        &self,
        window: &Window,
        progress: &Progress,
        spool_bytes: u64,
        done: bool,
    ) -> Result<()> {
        self.write(|tx| update_progress(tx, window.id, progress, spool_bytes, done))
    }

    /// Forgets the windows a run planned for an object when it read no page of any of them, so
    /// that a run that failed at once leaves the checkpoint as it found it. Windows of a run that
    /// made progress are kept whole: together they cover the planned range.
    pub fn discard_unstarted_windows(&self, object: &str, run_id: &str) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "DELETE FROM windows WHERE object = ?1 AND run_id = ?2 AND NOT EXISTS (
                     SELECT 1 FROM windows w WHERE w.object = ?1 AND w.run_id = ?2
                     AND (w.pages > 0 OR w.state <> 'open'))",
                params![object, run_id],
            )?;
            Ok(())
        })
    }

    /// How many files a window has written so far; the next one takes this sequence number.
    pub fn file_count(&self, window: &Window) -> Result<u32> {
        let conn = self.conn();
        let count = conn.query_row(
            "SELECT count(*) FROM files WHERE window_id = ?1",
            [window.id],
            |r| r.get(0),
        )?;
        Ok(count)
    }

    pub fn files(&self, object: &str, state: FileState) -> Result<Vec<FileRecord>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "{FILE_COLUMNS} WHERE object = ?1 AND state = ?2 ORDER BY id"
        ))?;
        let rows = stmt.query_map(params![object, state.as_str()], FileRecord::from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Merged files not cleaned up yet: their staged copy is neither deleted nor kept on purpose.
    pub fn uncleaned_files(&self, object: &str) -> Result<Vec<FileRecord>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "{FILE_COLUMNS} WHERE object = ?1 AND state = 'merged' AND removed = 0 ORDER BY id"
        ))?;
        let rows = stmt.query_map([object], FileRecord::from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn set_file_state(&self, files: &[FileRecord], state: FileState) -> Result<()> {
        self.write(|tx| {
            let mut stmt =
                tx.prepare("UPDATE files SET state = ?2, updated_at = ?3 WHERE id = ?1")?;
            for file in files {
                stmt.execute(params![file.id, state.as_str(), now()])?;
            }
            Ok(())
        })
    }

    /// Records that merged files are cleaned up: deleted, or kept by `keep_staged_files`.
    pub fn mark_cleaned(&self, files: &[FileRecord]) -> Result<()> {
        self.write(|tx| {
            let mut stmt = tx.prepare("UPDATE files SET removed = 1 WHERE id = ?1")?;
            for file in files {
                stmt.execute([file.id])?;
            }
            Ok(())
        })
    }

    /// After a merge: the copied files become merged, fetched windows whose files are all merged
    /// become merged, and when no window of the object is left unmerged, the watermark moves to
    /// the end of the newest window and the object becomes `Active`. One transaction.
    pub fn complete_merge(&self, object: &str, merged_rows: u64) -> Result<Option<ObjectState>> {
        self.write(|tx| {
            let stamp = now();
            tx.execute(
                "UPDATE files SET state = 'merged', updated_at = ?2
                 WHERE object = ?1 AND state = 'copied'",
                params![object, stamp],
            )?;
            tx.execute(
                "UPDATE windows SET state = 'merged', updated_at = ?2
                 WHERE object = ?1 AND state = 'fetched' AND NOT EXISTS (
                     SELECT 1 FROM files f WHERE f.window_id = windows.id AND f.state <> 'merged')",
                params![object, stamp],
            )?;
            tx.execute(
                "UPDATE objects SET rows_merged = rows_merged + ?2, updated_at = ?3
                 WHERE object = ?1",
                params![object, merged_rows, stamp],
            )?;
            let unmerged: i64 = tx.query_row(
                "SELECT count(*) FROM windows WHERE object = ?1 AND state <> 'merged'",
                [object],
                |r| r.get(0),
            )?;
            if unmerged == 0 {
                let end = newest_end(tx, object)?;
                tx.execute(
                    "UPDATE objects SET phase = 'incremental', status = 'Active', watermark = ?2
                     WHERE object = ?1",
                    params![object, end],
                )?;
            }
            Ok(())
        })?;
        self.object(object)
    }

    /// Work an object has left: windows not yet read to the end, files not yet merged.
    pub fn pending(&self, object: &str) -> Result<Pending> {
        let conn = self.conn();
        let (open_windows, unmerged_files) = conn.query_row(
            "SELECT (SELECT count(*) FROM windows WHERE object = ?1 AND state = 'open'),
                    (SELECT count(*) FROM files WHERE object = ?1 AND state <> 'merged')",
            [object],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok(Pending {
            open_windows,
            unmerged_files,
        })
    }

    pub fn set_deletes_checked(&self, object: &str, at: DateTime<Utc>) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE objects SET deletes_checked_at = ?2 WHERE object = ?1",
                params![object, time(at)],
            )?;
            Ok(())
        })
    }

    /// Forgets everything about an object: its next sync is a full historical sync again.
    pub fn reset_object(&self, object: &str) -> Result<bool> {
        self.write(|tx| {
            tx.execute("DELETE FROM files WHERE object = ?1", [object])?;
            tx.execute("DELETE FROM windows WHERE object = ?1", [object])?;
            Ok(tx.execute("DELETE FROM objects WHERE object = ?1", [object])? > 0)
        })
    }
}

fn update_progress(
    tx: &Transaction<'_>,
    window: i64,
    p: &Progress,
    spool_bytes: u64,
    done: bool,
) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE windows SET next_page = ?2, last_value = ?3, last_id = ?4, pages = ?5, rows = ?6,
                            spool_bytes = ?7, updated_at = ?8
         WHERE id = ?1",
        params![
            window,
            p.next_page,
            p.last_value.map(time),
            p.last_id,
            p.pages,
            p.rows,
            spool_bytes,
            now()
        ],
    )?;
    if done {
        tx.execute(
            "UPDATE windows SET state = 'fetched' WHERE id = ?1 AND state = 'open'",
            [window],
        )?;
    }
    Ok(())
}

/// The latest end of the object's merged windows: everything before it is merged.
fn newest_end(tx: &Transaction<'_>, object: &str) -> rusqlite::Result<Option<String>> {
    let mut stmt = tx.prepare(
        "SELECT range_end FROM windows WHERE object = ?1 AND state = 'merged'
         AND range_end IS NOT NULL",
    )?;
    let ends = stmt.query_map([object], |r| r.get::<_, String>(0))?;
    let mut newest: Option<DateTime<Utc>> = None;
    for end in ends {
        let end = parse_time(&end?)?;
        newest = Some(newest.map_or(end, |n| n.max(end)));
    }
    Ok(newest.map(time))
}

fn insert_windows(
    tx: &Transaction<'_>,
    object: &str,
    run_id: &str,
    phase: Phase,
    spans: &[Span],
) -> rusqlite::Result<Vec<i64>> {
    let mut ids = Vec::with_capacity(spans.len());
    for span in spans {
        tx.execute(
            "INSERT INTO windows (object, run_id, phase, range_start, range_end, id_start, id_end,
                                  depth, state, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'open', ?9)",
            params![
                object,
                run_id,
                phase.as_str(),
                span.start.map(time),
                span.end.map(time),
                span.id_start,
                span.id_end,
                span.depth,
                now()
            ],
        )?;
        ids.push(tx.last_insert_rowid());
    }
    Ok(ids)
}

fn migrate(conn: &mut Connection) -> Result<()> {
    let version: usize = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version > MIGRATIONS.len() {
        return Err(Error::Checkpoint(format!(
            "schema version {version} is newer than this zuora-sync understands ({}); \
             upgrade zuora-sync",
            MIGRATIONS.len()
        )));
    }
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(version) {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Exclusive)?;
        tx.execute_batch(migration)?;
        if index == 0 {
            let instance = format!("{:016x}", rand::random::<u64>());
            tx.execute(
                "INSERT INTO meta (key, value) VALUES ('instance', ?1)",
                [instance],
            )?;
        }
        tx.pragma_update(None, "user_version", index + 1)?;
        tx.commit()?;
    }
    Ok(())
}

pub(crate) fn now() -> String {
    time(Utc::now())
}

pub(crate) fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

pub(crate) fn parse_time(text: &str) -> rusqlite::Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.into())
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, hour, 0, 0).unwrap()
    }

    fn open() -> (tempfile::TempDir, Checkpoint) {
        let dir = tempfile::tempdir().unwrap();
        let checkpoint = Checkpoint::open(&dir.path().join("checkpoint.db")).unwrap();
        (dir, checkpoint)
    }

    fn file(seq: u32) -> NewFile {
        NewFile {
            seq,
            name: format!("account/w-{seq}.parquet"),
            rows: 10,
            bytes: 100,
        }
    }

    #[test]
    fn the_watermark_moves_only_when_every_window_is_merged() {
        let (_dir, cp) = open();
        let state = cp.ensure_object("Account", "r1").unwrap();
        assert_eq!(state.status, ObjectStatus::InProgress);
        let windows = cp
            .plan_windows(
                "Account",
                "r1",
                Phase::Historical,
                &[
                    Span::new(None, Some(at(1))),
                    Span::new(Some(at(1)), Some(at(2))),
                ],
            )
            .unwrap();
        assert_eq!(windows.len(), 2);

        let progress = Progress {
            pages: 1,
            rows: 10,
            ..Progress::default()
        };
        cp.commit_file(&windows[0], &file(0), &progress, false)
            .unwrap();
        cp.commit_page(&windows[0], &progress, 0, true).unwrap();
        let written = cp.files("Account", FileState::Written).unwrap();
        cp.set_file_state(&written, FileState::Copied).unwrap();
        let state = cp.complete_merge("Account", 10).unwrap().unwrap();
        assert_eq!(
            state.status,
            ObjectStatus::InProgress,
            "the second window is still open"
        );
        assert_eq!(state.watermark, None);

        cp.commit_page(&windows[1], &Progress::default(), 0, true)
            .unwrap();
        let state = cp.complete_merge("Account", 0).unwrap().unwrap();
        assert_eq!(state.status, ObjectStatus::Active);
        assert_eq!(state.phase, Phase::Incremental);
        assert_eq!(state.watermark, Some(at(2)));
        assert_eq!(state.rows_merged, 10);
        assert!(cp.unmerged_windows("Account").unwrap().is_empty());
    }

    #[test]
    fn only_a_run_without_progress_forgets_its_windows() {
        let (_dir, cp) = open();
        cp.ensure_object("Account", "r1").unwrap();
        let spans = [
            Span::new(None, Some(at(1))),
            Span::new(Some(at(1)), Some(at(2))),
        ];
        let windows = cp
            .plan_windows("Account", "r1", Phase::Historical, &spans)
            .unwrap();
        let progress = Progress {
            pages: 1,
            ..Progress::default()
        };
        cp.commit_page(&windows[0], &progress, 0, false).unwrap();
        cp.discard_unstarted_windows("Account", "r1").unwrap();
        assert_eq!(
            cp.unmerged_windows("Account").unwrap().len(),
            2,
            "together they cover the range"
        );

        cp.plan_windows("Account", "r2", Phase::Historical, &spans)
            .unwrap();
        cp.discard_unstarted_windows("Account", "r2").unwrap();
        assert_eq!(
            cp.unmerged_windows("Account").unwrap().len(),
            2,
            "r2's windows are gone"
        );
    }

    #[test]
    fn progress_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("checkpoint.db");
        let instance = {
            let cp = Checkpoint::open(&path).unwrap();
            cp.ensure_object("Invoice", "r1").unwrap();
            let w = cp.plan_windows(
                "Invoice",
                "r1",
                Phase::Historical,
                &[Span::new(None, Some(at(3)))],
            );
            let progress = Progress {
                next_page: Some("cursor-2".into()),
                last_value: Some(at(2)),
                last_id: Some("8a8a".into()),
                pages: 2,
                rows: 198,
            };
            cp.commit_file(&w.unwrap()[0], &file(0), &progress, false)
                .unwrap();
            cp.instance().to_string()
        };
        let cp = Checkpoint::open(&path).unwrap();
        assert_eq!(cp.instance(), instance);
        let windows = cp.unmerged_windows("Invoice").unwrap();
        assert_eq!(windows[0].progress.next_page.as_deref(), Some("cursor-2"));
        assert_eq!(windows[0].progress.last_value, Some(at(2)));
        assert_eq!(cp.files("Invoice", FileState::Written).unwrap().len(), 1);
    }

    #[test]
    fn a_newer_schema_version_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("checkpoint.db");
        drop(Checkpoint::open(&path).unwrap());
        Connection::open(&path)
            .unwrap()
            .pragma_update(None, "user_version", 99)
            .unwrap();
        let err = Checkpoint::open(&path).err().unwrap();
        assert!(err.to_string().contains("upgrade zuora-sync"), "{err}");
    }
}
