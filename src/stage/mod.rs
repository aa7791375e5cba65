//! Staging: where Parquet files wait between being written and being loaded. A local folder
//! (the embedded default) and S3 go through `object_store`; Unity Catalog volumes go through
//! the Databricks Files API. File names are relative paths such as `<instance>/<table>/<file>`;
//! every backend stores them under its own root.

mod store;
mod volume;

pub use store::ObjectStoreStage;
pub use volume::VolumeStage;

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;

use crate::config::{StagingConfig, StagingLocation};
use crate::error::{Error, Result};

#[async_trait]
pub trait Stage: Send + Sync {
    /// Where files go, for messages: a folder, `s3://bucket/prefix` or a volume path.
    fn describe(&self) -> String;

    /// Uploads the local file `local` as `name`, replacing an earlier upload of the same name.
    async fn put(&self, name: &str, local: &Path) -> Result<()>;

    async fn get(&self, name: &str) -> Result<Bytes>;

    /// Deletes `name`; a file that is already gone is not an error.
    async fn delete(&self, name: &str) -> Result<()>;

    /// The full location of `name` as the warehouse reads it (`s3://…`, `/Volumes/…`, a path).
    fn location(&self, name: &str) -> String;
}

/// The `object_store` staging area (a local folder or S3) that a configuration names; Unity
/// Catalog volumes need the Databricks client (`warehouse::Destination` opens them).
pub fn open_store(config: &StagingConfig) -> Result<Arc<dyn Stage>> {
    match &config.location {
        StagingLocation::Local(dir) => Ok(Arc::new(ObjectStoreStage::local(dir)?)),
        StagingLocation::S3(s3) => Ok(Arc::new(ObjectStoreStage::s3(s3)?)),
        StagingLocation::Volume(path) => Err(Error::Unsupported(format!(
            "staging in the Unity Catalog volume {path} needs the Databricks warehouse"
        ))),
    }
}
