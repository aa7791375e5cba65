//! Staging in a Unity Catalog volume through the Databricks Files API. Each file is uploaded
//! whole (Files API 2.0 has no multipart upload; files stay far below its 5 GiB limit), after
//! its folder is created once per run.

use std::collections::HashSet;
use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;

use super::Stage;
use crate::databricks::Api;
use crate::error::{Error, Result};

pub struct VolumeStage {
    api: Arc<Api>,
    /// `/Volumes/<catalog>/<schema>/<volume>[/<prefix>]`, without a trailing slash.
    root: String,
    created: Mutex<HashSet<String>>,
}

impl VolumeStage {
    pub fn new(api: Arc<Api>, root: &str) -> Self {
        Self {
            api,
            root: root.trim_end_matches('/').to_string(),
            created: Mutex::new(HashSet::new()),
        }
    }
}

#[async_trait]
impl Stage for VolumeStage {
    fn describe(&self) -> String {
        self.root.clone()
    }

    async fn put(&self, name: &str, local: &Path) -> Result<()> {
        let path = self.location(name);
        if let Some((dir, _)) = path.rsplit_once('/') {
            let known = self
                .created
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .contains(dir);
            if !known {
                self.api.create_directory(dir).await?;
                self.created
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(dir.to_string());
            }
        }
        let bytes = tokio::fs::read(local)
            .await
            .map_err(|e| Error::io(format!("reading {}", local.display()), e))?;
        self.api.upload(&path, Bytes::from(bytes)).await
    }

    async fn get(&self, name: &str) -> Result<Bytes> {
        self.api.download(&self.location(name)).await
    }

    async fn delete(&self, name: &str) -> Result<()> {
        self.api.delete_file(&self.location(name)).await
    }

    fn location(&self, name: &str) -> String {
        format!("{}/{}", self.root, name.trim_start_matches('/'))
    }
}
