//! Object Query page bodies → one Arrow [`RecordBatch`] per page, shaped by the object's
//! Describe schema: JSON keys match Describe names without regard to case, decimals are parsed
//! exactly from their text (never through `f64`) into `DECIMAL(38,9)`, date-times become UTC
//! microseconds, and every value that cannot be stored exactly fails the page with an error
//! naming the object, the record id and the field.
//!
//! Text is stored as Zuora sent it, unescaped: a NUL character (`\u0000`) is kept, since Arrow
//! strings and Parquet byte arrays carry a length rather than a terminator. `_deleted` is false
//! on every row: Object Query returns live records only.

mod column;
mod datetime;
mod keys;
mod number;
mod page;
mod record;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanArray, TimestampMicrosecondArray};
use arrow::buffer::BooleanBuffer;
use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

use crate::schema::{ObjectSchema, UTC};
use crate::{Error, Result};
use record::Records;

/// What to do with a JSON key that names no Describe field of the object.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UnknownFieldPolicy {
    /// Fail the page: the object changed in Zuora since its schema was discovered, and loading
    /// on would silently drop the new field's data.
    #[default]
    Error,
    /// Drop the key and its value, whatever its shape.
    Ignore,
}

/// One decoded page.
#[derive(Debug, Clone)]
pub struct DecodedPage {
    /// One row per record; its schema is `ObjectSchema::arrow_schema()`.
    pub batch: RecordBatch,
    /// The cursor for the following page; `None` on the last page.
    pub next_page: Option<String>,
    pub rows: usize,
    /// The cursor-field value (µs since the epoch) and `id` of the page's last record, where
    /// a read can resume; `None` if the page is empty or its last record lacks either.
    pub last_cursor: Option<(i64, String)>,
    /// The greatest cursor-field value on the page, in µs since the epoch.
    pub max_cursor_micros: Option<i64>,
}

/// Decodes the pages of one object. Its column builders, and the resolution of JSON keys to
/// Describe fields, are kept from page to page.
pub struct PageDecoder {
    schema: Arc<ObjectSchema>,
    arrow_schema: SchemaRef,
    synced_at: i64,
    records: Records,
}

impl PageDecoder {
    /// `synced_at` (µs since the epoch) is written into the `_synced_at` column of every row.
    pub fn new(schema: Arc<ObjectSchema>, synced_at: i64, unknown: UnknownFieldPolicy) -> Self {
        Self {
            arrow_schema: schema.arrow_schema(),
            records: Records::new(&schema, unknown),
            schema,
            synced_at,
        }
    }

    pub fn schema(&self) -> &SchemaRef {
        &self.arrow_schema
    }

    /// Decodes one page body. A body that is not an Object Query page is `Error::Source`; a
    /// record that cannot be stored exactly is `Error::Data`. Either way nothing of the page is
    /// kept, and the decoder can go on with another page.
    pub fn decode(&mut self, body: &[u8]) -> Result<DecodedPage> {
        let object = &self.schema.object;
        let text = std::str::from_utf8(body)
            .map_err(|e| page::malformed(object, body, "the body is not UTF-8", e.valid_up_to()))?;

        let next_page = match page::read(text, &mut self.records) {
            Ok(next_page) => next_page,
            Err(e) => {
                self.records.discard_page();
                return Err(self.records.take_failure().unwrap_or_else(|| {
                    let (what, offset) = page::locate(text, &e);
                    page::malformed(object, body, &what, offset)
                }));
            }
        };

        let rows = self.records.finish_page();
        let mut columns = rows.columns;
        columns.extend(self.metadata_columns(rows.rows));
        let batch =
            RecordBatch::try_new(self.arrow_schema.clone(), columns).map_err(|e| Error::Data {
                object: object.clone(),
                record_id: None,
                field: None,
                detail: format!("the decoded columns do not form a batch: {e}"),
            })?;
        Ok(DecodedPage {
            batch,
            next_page,
            rows: rows.rows,
            last_cursor: rows.last_cursor,
            max_cursor_micros: rows.max_cursor,
        })
    }

    /// `_synced_at` and `_deleted`: the same on every row of a page.
    fn metadata_columns(&self, rows: usize) -> [ArrayRef; 2] {
        let synced_at = TimestampMicrosecondArray::from_value(self.synced_at, rows);
        let deleted = BooleanArray::new(BooleanBuffer::new_unset(rows), None);
        [Arc::new(synced_at.with_timezone(UTC)), Arc::new(deleted)]
    }
}
