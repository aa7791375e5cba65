//! The Files API 2.0 for Unity Catalog volumes: directories are created first (the API is
//! idempotent for them; whether a file upload creates missing parents is not documented), files
//! are uploaded whole with `overwrite=true` under names that are never reused, and a file that
//! is already gone is not an error when deleting.

use bytes::Bytes;

use super::api::{Api, Body, platform_error};
use super::errors::{grant_statement, parse_missing_privilege};
use crate::error::{Error, Result};
use crate::http::Response;

impl Api {
    /// Creates `dir` (an absolute `/Volumes/...` path) and its parents.
    pub async fn create_directory(&self, dir: &str) -> Result<()> {
        let path = format!("api/2.0/fs/directories{}", escape(dir));
        let response = self
            .call(reqwest::Method::PUT, &path, &[], Body::None)
            .await?;
        self.files_outcome("creating the folder", dir, &response, false)
            .await
    }

    pub async fn upload(&self, path: &str, bytes: Bytes) -> Result<()> {
        let url = format!("api/2.0/fs/files{}", escape(path));
        let query = [("overwrite", "true".to_string())];
        let response = self
            .call(reqwest::Method::PUT, &url, &query, Body::Bytes(bytes))
            .await?;
        self.files_outcome("uploading", path, &response, false)
            .await
    }

    pub async fn download(&self, path: &str) -> Result<Bytes> {
        let url = format!("api/2.0/fs/files{}", escape(path));
        let response = self
            .call(reqwest::Method::GET, &url, &[], Body::None)
            .await?;
        self.files_outcome("reading", path, &response, false)
            .await?;
        Ok(response.body)
    }

    pub async fn delete_file(&self, path: &str) -> Result<()> {
        let url = format!("api/2.0/fs/files{}", escape(path));
        let response = self
            .call(reqwest::Method::DELETE, &url, &[], Body::None)
            .await?;
        self.files_outcome("deleting", path, &response, true).await
    }

    async fn files_outcome(
        &self,
        action: &str,
        path: &str,
        response: &Response,
        missing_is_fine: bool,
    ) -> Result<()> {
        let status = response.status.as_u16();
        if response.status.is_success() || (missing_is_fine && status == 404) {
            return Ok(());
        }
        let (code, message) = platform_error(response);
        let what = format!("{action} {path}");
        if status == 403 {
            let fix = match parse_missing_privilege(&message) {
                Some(privilege) => grant_statement(&privilege, &self.principal().await),
                None => {
                    let volume: Vec<&str> =
                        path.trim_start_matches('/').split('/').take(4).collect();
                    let volume = volume.get(1..4).map(|p| p.join(".")).unwrap_or_default();
                    format!(
                        "GRANT READ VOLUME, WRITE VOLUME ON VOLUME {volume} TO `{}` (and USE \
                         CATALOG, USE SCHEMA on its catalog and schema)",
                        self.principal().await
                    )
                }
            };
            return Err(Error::Denied {
                service: "Databricks",
                detail: format!("{what}: {code}: {message}\n  fix: run as an admin: {fix}"),
            });
        }
        Err(Error::Staging(format!(
            "{what}: {status} {code}: {message}"
        )))
    }
}

/// Percent-encodes a path for the URL, keeping its slashes.
fn escape(path: &str) -> String {
    path.split('/')
        .map(|segment| url::form_urlencoded::byte_serialize(segment.as_bytes()).collect::<String>())
        .collect::<Vec<_>>()
        .join("/")
        .replace('+', "%20")
}

#[cfg(test)]
mod tests {
    #[test]
    fn paths_keep_their_slashes_and_escape_the_rest() {
        assert_eq!(
            super::escape("/Volumes/main/z/v/a b/c+d.parquet"),
            "/Volumes/main/z/v/a%20b/c%2Bd.parquet"
        );
    }
}
