//! Staging through `object_store`: a local folder or an S3 bucket (any S3-protocol endpoint,
//! credentials from the standard AWS environment variables).

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use bytes::Bytes;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as StorePath;
use object_store::{ObjectStore, ObjectStoreExt, WriteMultipart};
use tokio::io::AsyncReadExt;

use super::Stage;
use crate::config::S3Location;
use crate::error::{Error, Result};

/// Uploads are streamed in parts of this size, so memory stays flat whatever the file size.
const PART_SIZE: usize = 8 * 1024 * 1024;

pub struct ObjectStoreStage {
    store: Box<dyn ObjectStore>,
    prefix: String,
    root: String,
}

impl ObjectStoreStage {
    pub fn local(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::io(format!("creating the staging folder {}", dir.display()), e))?;
        let store = LocalFileSystem::new_with_prefix(dir)
            .map_err(|e| Error::Staging(format!("{}: {e}", dir.display())))?;
        let root = absolute(dir).display().to_string();
        Ok(Self {
            store: Box::new(store),
            prefix: String::new(),
            root,
        })
    }

    pub fn s3(location: &S3Location) -> Result<Self> {
        let mut builder = AmazonS3Builder::from_env()
            .with_bucket_name(&location.bucket)
            .with_region(&location.region);
        if let Some(endpoint) = &location.endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"))
                .with_virtual_hosted_style_request(false);
        }
        let store = builder
            .build()
            .map_err(|e| Error::config(format!("[staging] s3://{}: {e}", location.bucket)))?;
        let root = format!("s3://{}/{}", location.bucket, location.prefix);
        Ok(Self {
            store: Box::new(store),
            prefix: location.prefix.clone(),
            root,
        })
    }

    fn path(&self, name: &str) -> StorePath {
        if self.prefix.is_empty() {
            StorePath::from(name)
        } else {
            StorePath::from(format!("{}/{name}", self.prefix))
        }
    }

    fn failed(&self, action: &str, name: &str, e: impl std::fmt::Display) -> Error {
        Error::Staging(format!("{action} {}: {e}", self.location(name)))
    }
}

#[async_trait]
impl Stage for ObjectStoreStage {
    fn describe(&self) -> String {
        self.root.clone()
    }

    async fn put(&self, name: &str, local: &Path) -> Result<()> {
        let mut file = tokio::fs::File::open(local)
            .await
            .map_err(|e| Error::io(format!("opening {}", local.display()), e))?;
        let upload = self
            .store
            .put_multipart(&self.path(name))
            .await
            .map_err(|e| self.failed("uploading", name, e))?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        let mut buffer = vec![0; PART_SIZE];
        loop {
            let read = file
                .read(&mut buffer)
                .await
                .map_err(|e| Error::io(format!("reading {}", local.display()), e))?;
            if read == 0 {
                break;
            }
            writer
                .wait_for_capacity(2)
                .await
                .map_err(|e| self.failed("uploading", name, e))?;
            writer.write(&buffer[..read]);
        }
        writer
            .finish()
            .await
            .map_err(|e| self.failed("uploading", name, e))?;
        Ok(())
    }

    async fn get(&self, name: &str) -> Result<Bytes> {
        let result = self
            .store
            .get(&self.path(name))
            .await
            .map_err(|e| self.failed("reading", name, e))?;
        result
            .bytes()
            .await
            .map_err(|e| self.failed("reading", name, e))
    }

    async fn delete(&self, name: &str) -> Result<()> {
        match self.store.delete(&self.path(name)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.failed("deleting", name, e)),
        }
    }

    fn location(&self, name: &str) -> String {
        format!("{}/{name}", self.root.trim_end_matches('/'))
    }
}

fn absolute(dir: &Path) -> PathBuf {
    std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_local_stage_round_trips_and_forgets() {
        let dir = tempfile::tempdir().unwrap();
        let stage = ObjectStoreStage::local(&dir.path().join("staging")).unwrap();
        let local = dir.path().join("spooled.parquet");
        std::fs::write(&local, b"PAR1 data").unwrap();

        stage.put("abc/account/w1-0.parquet", &local).await.unwrap();
        assert_eq!(
            stage.get("abc/account/w1-0.parquet").await.unwrap(),
            &b"PAR1 data"[..]
        );
        assert!(
            stage
                .location("abc/account/w1-0.parquet")
                .ends_with("staging/abc/account/w1-0.parquet")
        );

        stage.delete("abc/account/w1-0.parquet").await.unwrap();
        stage
            .delete("abc/account/w1-0.parquet")
            .await
            .expect("deleting twice is fine");
        let err = stage.get("abc/account/w1-0.parquet").await.unwrap_err();
        assert!(err.to_string().contains("w1-0.parquet"), "{err}");
    }
}
