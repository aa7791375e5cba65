//! Arrow batches → Parquet files, and staged files back to batches. A file is written under
//! `<path>.partial` and renamed to `<path>` only once its footer is written and it is fsync'ed,
//! so a file at its final name is always complete; a crash leaves at most a `.partial`, which
//! the next attempt at the same path removes.
//!
//! Every file uses the same properties: zstd, dictionary encoding, `TIMESTAMP(MICROS,
//! isAdjustedToUTC=true)` for date-times and `DECIMAL(38,9)` (16-byte fixed-length) for
//! decimals, as the Arrow schema of the batches says.

mod file;
mod read;
mod spool;
#[cfg(test)]
mod tests;

pub use file::{FileStats, ParquetFile};
pub use read::batch_reader;
pub use spool::PageSpool;

use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use crate::{Error, Result};

/// A row group is also closed at this encoded size, whatever its row count. The open row group
/// is what a writer holds in memory, and a run has one writer per window in flight (eight by
/// default), so this bounds the run's memory for Parquet at a few hundred MiB.
pub const MAX_ROW_GROUP_BYTES: usize = 32 * 1024 * 1024;

/// How Parquet files are encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteOptions {
    /// zstd level, 1 to 22. Default 1: the fastest level; higher ones shrink files a little
    /// more but take encode time from the core that also decodes pages.
    pub zstd_level: i32,
    /// Rows per row group at most. Default 1,048,576 (Parquet's own default): large enough for
    /// efficient scans, small enough that a reader never holds more than one group per column.
    pub max_row_group_rows: usize,
}

impl Default for WriteOptions {
    fn default() -> Self {
        Self {
            zstd_level: 1,
            max_row_group_rows: 1024 * 1024,
        }
    }
}

/// The Parquet writer properties that `options` stand for; exposed so that a benchmark encodes
/// exactly as the engine does.
pub fn writer_properties(options: &WriteOptions) -> Result<WriterProperties> {
    let level = ZstdLevel::try_new(options.zstd_level).map_err(|e| {
        Error::config(format!(
            "zstd level {} is not usable: {e}",
            options.zstd_level
        ))
    })?;
    if options.max_row_group_rows == 0 {
        return Err(Error::config(
            "the maximum rows per Parquet row group must be at least 1",
        ));
    }
    Ok(WriterProperties::builder()
        .set_compression(Compression::ZSTD(level))
        .set_dictionary_enabled(true)
        .set_max_row_group_row_count(Some(options.max_row_group_rows))
        .set_max_row_group_bytes(Some(MAX_ROW_GROUP_BYTES))
        .set_created_by(format!("zuora-sync version {}", env!("CARGO_PKG_VERSION")))
        .build())
}
