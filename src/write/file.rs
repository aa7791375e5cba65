//! One Parquet file on local disk, from `create` to `finish`. Until `finish` has written the
//! footer, fsync'ed the file and renamed it, the data lives only under `<path>.partial`; a file
//! dropped unfinished (an error, a cancelled task) removes its `.partial`.

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;

use super::{WriteOptions, writer_properties};
use crate::{Error, Result};

/// A finished file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStats {
    pub rows: u64,
    /// The file's size on disk.
    pub bytes: u64,
}

/// A Parquet file being written.
pub struct ParquetFile {
    path: PathBuf,
    writer: ArrowWriter<File>,
    partial: Partial,
    rows: u64,
}

impl ParquetFile {
    /// Starts `path` (as `<path>.partial`, replacing any left by an earlier attempt), creating
    /// its folder if needed. Batches written must have exactly `schema`.
    pub fn create(path: &Path, schema: SchemaRef, options: &WriteOptions) -> Result<Self> {
        let properties = writer_properties(options)?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
        }
        let partial = Partial::claim(path)?;
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&partial.path)
            .map_err(|e| Error::io(format!("creating {}", partial.path.display()), e))?;
        let writer = ArrowWriter::try_new(file, schema, Some(properties))
            .map_err(|e| parquet_error("starting", &partial.path, e))?;
        Ok(Self {
            path: path.to_path_buf(),
            writer,
            partial,
            rows: 0,
        })
    }

    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        self.writer
            .write(batch)
            .map_err(|e| parquet_error("writing", &self.partial.path, e))?;
        self.rows += batch.num_rows() as u64;
        Ok(())
    }

    /// Bytes already written plus the estimated encoded size of the row group in progress, to
    /// roll files at a size target. The estimate counts the unflushed group's pages before
    /// compression, so it errs high and a rolled file comes out under its target.
    pub fn bytes_so_far(&self) -> u64 {
        (self.writer.bytes_written() + self.writer.in_progress_size()) as u64
    }

    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Writes the footer, makes the file durable and gives it its final name (replacing a file
    /// already there, as a retried step writes the same path).
    pub fn finish(self) -> Result<FileStats> {
        let Self {
            path,
            writer,
            partial,
            rows,
        } = self;
        let file = writer
            .into_inner()
            .map_err(|e| parquet_error("finishing", &partial.path, e))?;
        file.sync_all()
            .map_err(|e| Error::io(format!("syncing {}", partial.path.display()), e))?;
        let bytes = file
            .metadata()
            .map_err(|e| Error::io(format!("reading the size of {}", partial.path.display()), e))?
            .len();
        drop(file);

        fs::rename(&partial.path, &path).map_err(|e| {
            let context = format!("renaming {} to {}", partial.path.display(), path.display());
            Error::io(context, e)
        })?;
        partial.disarm();
        sync_parent(&path)?;

        tracing::debug!(path = %path.display(), rows, bytes, "Parquet file written");
        Ok(FileStats { rows, bytes })
    }
}

/// The `.partial` file of a writer, removed on drop unless it was renamed into place.
struct Partial {
    path: PathBuf,
    armed: bool,
}

impl Partial {
    /// Removes a stale `<path>.partial` and takes its name.
    fn claim(path: &Path) -> Result<Self> {
        let mut name = OsString::from(path.as_os_str());
        name.push(".partial");
        let path = PathBuf::from(name);
        match fs::remove_file(&path) {
            Ok(()) => tracing::debug!(path = %path.display(), "Removed a stale partial file"),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(format!("removing {}", path.display()), e)),
        }
        Ok(Self { path, armed: true })
    }

    fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for Partial {
    fn drop(&mut self) {
        if self.armed {
            // Best effort: the next `create` of the same path removes it anyway.
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Makes the rename itself durable: without this, a power loss could forget the new name even
/// though the file's data was synced.
fn sync_parent(path: &Path) -> Result<()> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    File::open(parent)
        .and_then(|dir| dir.sync_all())
        .map_err(|e| Error::io(format!("syncing directory {}", parent.display()), e))
}

fn parquet_error(action: &str, path: &Path, e: parquet::errors::ParquetError) -> Error {
    Error::io(
        format!("{action} Parquet file {}", path.display()),
        std::io::Error::other(e),
    )
}
