//! Destinations. Each loads staged Parquet files into a per-object landing table with COPY INTO
//! semantics (a file that was loaded once is skipped) and merges the landing table into the
//! final table, keeping per id the row with the newest `updated_date`. Both steps can be
//! repeated after a crash without changing the result. The engine only sees this trait.

#[cfg(feature = "duckdb")]
mod duckdb;
pub mod sql;

#[cfg(feature = "duckdb")]
pub use self::duckdb::DuckDbWarehouse;

use std::sync::Arc;

use async_trait::async_trait;

use crate::config::WarehouseConfig;
use crate::error::{Error, Result};
use crate::schema::ObjectSchema;
use crate::stage::Stage;

/// What a load put into the landing table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CopyOutcome {
    pub files_loaded: u64,
    /// Files that an earlier attempt had already loaded.
    pub files_skipped: u64,
    pub rows: u64,
    pub statements: u64,
}

/// What a merge changed in the final table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MergeOutcome {
    /// Rows in the landing table before the merge.
    pub landed: u64,
    /// Rows inserted or updated in the final table.
    pub changed: u64,
}

#[async_trait]
pub trait Warehouse: Send + Sync {
    /// The destination in words, for messages.
    fn describe(&self) -> String;

    /// Creates the final and landing tables of `schema` if missing, and adds a column for each
    /// field that is new since the table was created.
    async fn prepare(&self, schema: &ObjectSchema) -> Result<()>;

    /// Loads staged files (names relative to the staging root) into the landing table.
    async fn copy(&self, schema: &ObjectSchema, files: &[String]) -> Result<CopyOutcome>;

    /// Merges the landing table into the final table, then empties the landing table.
    async fn merge(&self, schema: &ObjectSchema) -> Result<MergeOutcome>;
}

/// The warehouse that a configuration names, reading staged files from `stage`.
pub fn open(config: &WarehouseConfig, stage: Arc<dyn Stage>) -> Result<Arc<dyn Warehouse>> {
    match config {
        #[cfg(feature = "duckdb")]
        WarehouseConfig::DuckDb { path, schema } => {
            Ok(Arc::new(DuckDbWarehouse::open(path, schema, stage)?))
        }
        #[cfg(not(feature = "duckdb"))]
        WarehouseConfig::DuckDb { .. } => {
            let _ = stage;
            Err(Error::Unsupported(
                "this zuora-sync was built without the duckdb feature".to_string(),
            ))
        }
        WarehouseConfig::Databricks(_) => Err(Error::Unsupported(
            "the Databricks warehouse is not available in this build yet".to_string(),
        )),
    }
}
