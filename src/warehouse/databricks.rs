//! Databricks through the SQL Statement Execution API: Delta tables created with explicit
//! columns, `COPY INTO` the landing table from the staged files (a Unity Catalog volume, or S3
//! with the bucket's credentials in the statement for the Hive metastore), at most 1000 files
//! per statement, then one deduplicating `MERGE` and the landing table emptied. Databricks
//! keeps the record of loaded files itself, so a repeated COPY skips them.

use std::sync::Arc;

use async_trait::async_trait;

use super::sql::{Dialect, Table};
use super::{CopyOutcome, MergeOutcome, Warehouse};
use crate::config::{DatabricksConfig, Secret};
use crate::databricks::Api;
use crate::error::{Error, Result};
use crate::schema::ObjectSchema;
use crate::stage::Stage;

/// Temporary S3 credentials, passed in COPY statements for the Hive metastore.
#[derive(Debug, Clone)]
pub struct S3Credentials {
    pub access_key: Secret,
    pub secret_key: Secret,
    pub session_token: Option<Secret>,
}

impl S3Credentials {
    /// The standard AWS variables: the same credentials that staging uses.
    pub fn from_env() -> Result<Self> {
        let access_key = Secret::from_env("AWS_ACCESS_KEY_ID");
        let secret_key = Secret::from_env("AWS_SECRET_ACCESS_KEY");
        match (access_key, secret_key) {
            (Some(access_key), Some(secret_key)) => Ok(Self {
                access_key,
                secret_key,
                session_token: Secret::from_env("AWS_SESSION_TOKEN"),
            }),
            _ => Err(Error::config(
                "metastore = \"hive\" stages in S3 and passes the bucket's credentials to COPY \
                 INTO: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN \
                 for temporary ones)",
            )),
        }
    }

    /// The `WITH (CREDENTIAL (...))` clause. It carries the secrets: it goes into the statement
    /// and nowhere else.
    pub fn clause(&self) -> String {
        let literal = |s: &Secret| format!("'{}'", s.expose().replace('\'', "''"));
        let mut parts = vec![
            format!("AWS_ACCESS_KEY = {}", literal(&self.access_key)),
            format!("AWS_SECRET_KEY = {}", literal(&self.secret_key)),
        ];
        if let Some(token) = &self.session_token {
            parts.push(format!("AWS_SESSION_TOKEN = {}", literal(token)));
        }
        format!(" WITH (CREDENTIAL ({}))", parts.join(", "))
    }
}

pub struct DatabricksWarehouse {
    api: Arc<Api>,
    stage: Arc<dyn Stage>,
    catalog: String,
    schema: String,
    s3: Option<S3Credentials>,
}

impl DatabricksWarehouse {
    pub fn new(
        api: Arc<Api>,
        config: &DatabricksConfig,
        stage: Arc<dyn Stage>,
        s3: Option<S3Credentials>,
    ) -> Self {
        Self {
            api,
            stage,
            catalog: config.catalog.clone(),
            schema: config.schema.clone(),
            s3,
        }
    }

    fn name(&self, table: &str) -> String {
        let q = |c: &str| Dialect::Databricks.quote(c);
        format!("{}.{}.{}", q(&self.catalog), q(&self.schema), q(table))
    }

    fn table<'a>(&self, schema: &'a ObjectSchema) -> Table<'a> {
        Table {
            dialect: Dialect::Databricks,
            name: self.name(&schema.table),
            schema,
        }
    }

    fn landing<'a>(&self, schema: &'a ObjectSchema) -> Table<'a> {
        Table {
            dialect: Dialect::Databricks,
            name: self.name(&landing_name(&schema.table)),
            schema,
        }
    }

    /// The columns a table has now, from `DESCRIBE TABLE`.
    async fn columns(&self, table: &str) -> Result<Vec<String>> {
        let result = self.api.sql(&format!("DESCRIBE TABLE {table}")).await?;
        Ok(result
            .rows
            .into_iter()
            .filter_map(|row| row.into_iter().next().flatten())
            .take_while(|name| !name.is_empty() && !name.starts_with('#'))
            .collect())
    }
}

/// Landing tables sit next to their final table, prefixed so they sort apart.
fn landing_name(table: &str) -> String {
    format!("_landing_{table}")
}

fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

#[async_trait]
impl Warehouse for DatabricksWarehouse {
    fn describe(&self) -> String {
        format!(
            "Databricks {} (warehouse {}, {}.{})",
            self.api.host(),
            self.api.warehouse_id(),
            self.catalog,
            self.schema
        )
    }

    async fn prepare(&self, schema: &ObjectSchema) -> Result<()> {
        for table in [self.table(schema), self.landing(schema)] {
            self.api.sql(&table.create()).await?;
            let existing = self.columns(&table.name).await?;
            let missing: Vec<String> = schema
                .fields
                .iter()
                .filter(|f| !existing.iter().any(|c| c.eq_ignore_ascii_case(&f.column)))
                .map(|f| {
                    let ty = Dialect::Databricks.column_type(f.field_type);
                    format!("{} {ty}", Dialect::Databricks.quote(&f.column))
                })
                .collect();
            if !missing.is_empty() {
                let sql = format!(
                    "ALTER TABLE {} ADD COLUMNS ({})",
                    table.name,
                    missing.join(", ")
                );
                self.api.sql(&sql).await?;
            }
        }
        Ok(())
    }

    async fn copy(&self, schema: &ObjectSchema, files: &[String]) -> Result<CopyOutcome> {
        let mut outcome = CopyOutcome::default();
        for chunk in files.chunks(1000) {
            let Some(dir) = chunk[0].rsplit_once('/').map(|(dir, _)| dir) else {
                return Err(Error::Destination(format!(
                    "{} is not in a folder",
                    chunk[0]
                )));
            };
            let mut names = Vec::with_capacity(chunk.len());
            for file in chunk {
                match file.rsplit_once('/') {
                    Some((d, name)) if d == dir => names.push(literal(name)),
                    _ => {
                        return Err(Error::Destination(format!(
                            "{file} is not in {dir}; COPY INTO reads one folder at a time"
                        )));
                    }
                }
            }
            let credentials = self
                .s3
                .as_ref()
                .map(S3Credentials::clause)
                .unwrap_or_default();
            let sql = format!(
                "COPY INTO {} FROM {}{credentials} FILEFORMAT = PARQUET FILES = ({})",
                self.landing(schema).name,
                literal(&format!("{}/", self.stage.location(dir))),
                names.join(", ")
            );
            let result = self.api.sql(&sql).await?;
            outcome.statements += 1;
            outcome.files_loaded += chunk.len() as u64;
            outcome.rows += result.number("num_inserted_rows").unwrap_or(0);
        }
        Ok(outcome)
    }

    async fn merge(&self, schema: &ObjectSchema) -> Result<MergeOutcome> {
        let landing = self.landing(schema).name;
        let count = self
            .api
            .sql(&format!("SELECT count(*) FROM {landing}"))
            .await?;
        let landed = count.single().and_then(|n| n.parse().ok()).unwrap_or(0);
        let mut changed = 0;
        if landed > 0 {
            let result = self
                .api
                .sql(&self.table(schema).merge_from(&landing))
                .await?;
            changed = result.number("num_affected_rows").unwrap_or(0);
        }
        self.api.sql(&format!("DELETE FROM {landing}")).await?;
        Ok(MergeOutcome { landed, changed })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_credential_clause_escapes_and_carries_the_token_when_there_is_one() {
        let credentials = S3Credentials {
            access_key: Secret::new("AKIA"),
            secret_key: Secret::new("se'cret"),
            session_token: None,
        };
        assert_eq!(
            credentials.clause(),
            " WITH (CREDENTIAL (AWS_ACCESS_KEY = 'AKIA', AWS_SECRET_KEY = 'se''cret'))"
        );
        assert_eq!(format!("{credentials:?}").matches("REDACTED").count(), 2);
    }
}
