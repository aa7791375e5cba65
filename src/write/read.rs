//! Staged Parquet files read back into Arrow batches, for destinations that load batches
//! rather than files.

use arrow::record_batch::RecordBatch;
use bytes::Bytes;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::{Error, Result};

/// Rows per batch read back: big enough that per-batch overhead in a loader is negligible,
/// small enough to keep a wide table's batch to a few megabytes.
const READ_BATCH_ROWS: usize = 8192;

/// The rows of a Parquet file as batches with the schema it was written with (time zones
/// included, from the Arrow schema stored in the file's metadata), decoded one at a time as
/// they are taken, so that a loader holds one batch rather than the whole file.
pub fn batch_reader(bytes: Bytes) -> Result<impl Iterator<Item = Result<RecordBatch>> + Send> {
    let size = bytes.len();
    let failed = move |e: &dyn std::fmt::Display| {
        let context = format!("reading a staged Parquet file of {size} bytes");
        Error::io(context, std::io::Error::other(e.to_string()))
    };
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes)
        .map_err(|e| failed(&e))?
        .with_batch_size(READ_BATCH_ROWS)
        .build()
        .map_err(|e| failed(&e))?;
    Ok(reader.map(move |batch| batch.map_err(|e| failed(&e))))
}
