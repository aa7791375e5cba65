//! The permissions checklist that `zuora-sync check` walks, item by item, in the order a sync
//! needs them: credentials, the warehouse and its state, `SELECT 1`, `USE CATALOG`,
//! `USE SCHEMA`, `CREATE TABLE`, writing, reading and deleting a staged file, and a probe
//! `COPY INTO` and `DROP TABLE`. Every item is reported, not just the first failure; a failed
//! item names what is missing and the statement that grants it, and items that depend on a
//! failed one are reported as skipped.

use std::sync::Arc;

use arrow::array::{Int64Array, RecordBatch};
use arrow::datatypes::{DataType, Field, Schema};
use serde::Serialize;

use super::Api;
use super::api::{Body, platform_error};
use crate::config::{DatabricksConfig, Metastore};
use crate::error::Error;
use crate::stage::Stage;
use crate::write::{ParquetFile, WriteOptions};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    /// Works, with something to know (a stopped warehouse).
    Warn,
    Fail,
    /// Not tried, because an item it needs failed.
    Skipped,
}

#[derive(Debug, Clone, Serialize)]
pub struct Item {
    pub name: String,
    pub verdict: Verdict,
    pub detail: String,
}

impl Item {
    fn new(name: &str, verdict: Verdict, detail: impl Into<String>) -> Self {
        Self {
            name: name.to_string(),
            verdict,
            detail: detail.into(),
        }
    }

    fn outcome(name: &str, result: Result<String, Error>) -> Self {
        match result {
            Ok(detail) => Self::new(name, Verdict::Pass, detail),
            Err(e) => Self::new(name, Verdict::Fail, e.to_string()),
        }
    }

    pub fn passed(&self) -> bool {
        matches!(self.verdict, Verdict::Pass | Verdict::Warn)
    }
}

/// The probe table and the folder of the probe file; both are removed at the end.
const PROBE_TABLE: &str = "_zuora_sync_check";
const PROBE_DIR: &str = "_zuora_sync_check";

/// Walks the checklist against a workspace; `stage` is where syncs stage files.
pub async fn run(api: &Api, config: &DatabricksConfig, stage: &dyn Stage) -> Vec<Item> {
    let mut items = Vec::new();
    let credentials = api.authenticate().await.map(|()| match &config.auth {
        crate::config::DatabricksAuth::OAuth { client_id, .. } => {
            format!("OAuth token for service principal {client_id}")
        }
        crate::config::DatabricksAuth::Token(_) => "personal access token".to_string(),
    });
    let authenticated = credentials.is_ok();
    items.push(Item::outcome("credentials", credentials));
    if !authenticated {
        let rest = [
            "warehouse",
            "SELECT 1",
            "USE CATALOG",
            "USE SCHEMA",
            "CREATE TABLE",
        ];
        items.extend(
            rest.iter()
                .map(|n| Item::new(n, Verdict::Skipped, "needs credentials")),
        );
        return items;
    }

    items.push(warehouse_state(api).await);
    let select = api
        .sql("SELECT 1")
        .await
        .map(|_| "the warehouse runs statements".to_string());
    let can_run = select.is_ok();
    items.push(Item::outcome("SELECT 1", select));
    if !can_run {
        return items;
    }

    let q = |c: &str| format!("`{}`", c.replace('`', "``"));
    let (catalog, schema) = (q(&config.catalog), q(&config.schema));
    items.push(statement(api, "USE CATALOG", &format!("USE CATALOG {catalog}")).await);
    items.push(statement(api, "USE SCHEMA", &format!("USE SCHEMA {catalog}.{schema}")).await);
    let table = format!("{catalog}.{schema}.{}", q(PROBE_TABLE));
    let create = statement(
        api,
        "CREATE TABLE",
        &format!("CREATE TABLE IF NOT EXISTS {table} (x BIGINT)"),
    )
    .await;
    let created = create.passed();
    items.push(create);

    let staging = match config.metastore {
        Metastore::UnityCatalog => "volume",
        Metastore::Hive => "S3",
    };
    let name = format!("{PROBE_DIR}/{:016x}.parquet", rand::random::<u64>());
    let written = write_probe(stage, &name).await;
    let wrote = written.is_ok();
    items.push(Item::outcome(
        &format!("{staging} write"),
        written.map(|()| stage.location(&name)),
    ));
    let read = match wrote {
        true => Item::outcome(
            &format!("{staging} read"),
            stage
                .get(&name)
                .await
                .map(|b| format!("{} bytes read back", b.len())),
        ),
        false => Item::new(
            &format!("{staging} read"),
            Verdict::Skipped,
            "needs the write",
        ),
    };
    items.push(read);

    let copy_name = "COPY INTO";
    if created && wrote {
        let dir = stage.location(PROBE_DIR);
        let file = name.rsplit('/').next().unwrap_or(&name);
        let credentials = match config.metastore {
            Metastore::Hive => crate::warehouse::S3Credentials::from_env()
                .map(|c| c.clause())
                .unwrap_or_default(),
            Metastore::UnityCatalog => String::new(),
        };
        let sql = format!(
            "COPY INTO {table} FROM '{dir}/'{credentials} FILEFORMAT = PARQUET FILES = ('{file}')"
        );
        let copied = async {
            api.sql(&sql).await?;
            let count = api.sql(&format!("SELECT count(*) FROM {table}")).await?;
            Ok(format!(
                "{} probe row loaded",
                count.single().unwrap_or_default()
            ))
        };
        items.push(Item::outcome(copy_name, copied.await));
    } else {
        items.push(Item::new(
            copy_name,
            Verdict::Skipped,
            "needs CREATE TABLE and the staged file",
        ));
    }
    if wrote {
        let deleted = stage
            .delete(&name)
            .await
            .map(|()| "the probe file is removed".to_string());
        items.push(Item::outcome(&format!("{staging} delete"), deleted));
    }
    if created {
        items.push(statement(api, "DROP TABLE", &format!("DROP TABLE IF EXISTS {table}")).await);
    }
    items
}

async fn statement(api: &Api, name: &str, sql: &str) -> Item {
    Item::outcome(name, api.sql(sql).await.map(|_| "allowed".to_string()))
}

async fn warehouse_state(api: &Api) -> Item {
    let path = format!("api/2.0/sql/warehouses/{}", api.warehouse_id());
    let response = match api.call(reqwest::Method::GET, &path, &[], Body::None).await {
        Ok(response) => response,
        Err(e) => return Item::new("warehouse", Verdict::Fail, e.to_string()),
    };
    if !response.status.is_success() {
        let (code, message) = platform_error(&response);
        let fix = match response.status.as_u16() {
            404 => "check [warehouse] http_path: Connection details of the SQL warehouse show it",
            403 => "give the principal Can use on the SQL warehouse",
            _ => "see the message",
        };
        return Item::new(
            "warehouse",
            Verdict::Fail,
            format!("{code}: {message}\n  fix: {fix}"),
        );
    }
    let state = serde_json::from_slice::<serde_json::Value>(&response.body)
        .ok()
        .and_then(|v| v.get("state").and_then(|s| s.as_str()).map(str::to_string))
        .unwrap_or_else(|| "UNKNOWN".to_string());
    match state.as_str() {
        "RUNNING" => Item::new(
            "warehouse",
            Verdict::Pass,
            format!("{} is RUNNING", api.warehouse_id()),
        ),
        "STOPPED" | "STOPPING" | "STARTING" => Item::new(
            "warehouse",
            Verdict::Warn,
            format!(
                "{} is {state}: the first statement starts it, and a cold start can take minutes",
                api.warehouse_id()
            ),
        ),
        other => Item::new(
            "warehouse",
            Verdict::Fail,
            format!("{} is {other}", api.warehouse_id()),
        ),
    }
}

/// Writes a one-row Parquet file and stages it as `name`.
async fn write_probe(stage: &dyn Stage, name: &str) -> Result<(), Error> {
    let dir = tempfile_dir()?;
    let path = dir.join("probe.parquet");
    let schema = Arc::new(Schema::new(vec![Field::new("x", DataType::Int64, true)]));
    let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(Int64Array::from(vec![1]))])
        .expect("a one-column batch");
    let mut file = ParquetFile::create(&path, schema, &WriteOptions::default())?;
    file.write(&batch)?;
    file.finish()?;
    let staged = stage.put(name, &path).await;
    let _ = std::fs::remove_dir_all(&dir);
    staged
}

fn tempfile_dir() -> Result<std::path::PathBuf, Error> {
    let dir = std::env::temp_dir().join(format!("zuora-sync-check-{:016x}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir)
        .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
    Ok(dir)
}
