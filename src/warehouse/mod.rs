//! Destinations. Each loads staged Parquet files into a per-object landing table with COPY INTO
//! semantics (a file that was loaded once is skipped) and merges the landing table into the
//! final table, keeping per id the row with the newest `updated_date`. Both steps can be
//! repeated after a crash without changing the result. The engine only sees this trait.

mod databricks;
#[cfg(feature = "duckdb")]
mod duckdb;
pub mod sql;

pub use self::databricks::{DatabricksWarehouse, S3Credentials};
#[cfg(feature = "duckdb")]
pub use self::duckdb::DuckDbWarehouse;

use std::sync::Arc;

use async_trait::async_trait;

use crate::config::{Config, StagingLocation, WarehouseConfig};
use crate::databricks::Api;
use crate::error::Result;
use crate::schema::ObjectSchema;
use crate::stage::{self, Stage, VolumeStage};

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

/// The staging area and the warehouse that a configuration names, with the Databricks client
/// they share when the warehouse is Databricks.
pub struct Destination {
    pub stage: Arc<dyn Stage>,
    pub warehouse: Arc<dyn Warehouse>,
    pub databricks: Option<Arc<Api>>,
}

impl Destination {
    pub fn open(config: &Config) -> Result<Self> {
        match &config.warehouse {
            WarehouseConfig::DuckDb { path, schema } => {
                let stage = stage::open_store(&config.staging)?;
                let warehouse = duckdb_warehouse(path, schema, Arc::clone(&stage))?;
                Ok(Self {
                    stage,
                    warehouse,
                    databricks: None,
                })
            }
            WarehouseConfig::Databricks(databricks) => {
                let api = Arc::new(Api::new(databricks)?);
                let (stage, s3): (Arc<dyn Stage>, _) = match &config.staging.location {
                    StagingLocation::Volume(root) => {
                        (Arc::new(VolumeStage::new(Arc::clone(&api), root)), None)
                    }
                    _ => (
                        stage::open_store(&config.staging)?,
                        Some(S3Credentials::from_env()?),
                    ),
                };
                let warehouse = Arc::new(DatabricksWarehouse::new(
                    Arc::clone(&api),
                    databricks,
                    Arc::clone(&stage),
                    s3,
                ));
                Ok(Self {
                    stage,
                    warehouse,
                    databricks: Some(api),
                })
            }
        }
    }

    /// Checks the warehouse's credentials now, before any other work.
    pub async fn authenticate(&self) -> Result<()> {
        match &self.databricks {
            Some(api) => api.authenticate().await,
            None => Ok(()),
        }
    }
}

#[cfg(feature = "duckdb")]
fn duckdb_warehouse(
    path: &std::path::Path,
    schema: &str,
    stage: Arc<dyn Stage>,
) -> Result<Arc<dyn Warehouse>> {
    Ok(Arc::new(DuckDbWarehouse::open(path, schema, stage)?))
}

#[cfg(not(feature = "duckdb"))]
fn duckdb_warehouse(_: &std::path::Path, _: &str, _: Arc<dyn Stage>) -> Result<Arc<dyn Warehouse>> {
    Err(crate::error::Error::Unsupported(
        "this zuora-sync was built without the duckdb feature".to_string(),
    ))
}
