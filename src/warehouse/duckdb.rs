//! The embedded default: a local DuckDB file with the same landing/merge semantics as
//! Databricks. A ledger table records every staged file that was loaded, in the same
//! transaction as its rows, so a file is never loaded twice.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use arrow::array::{RecordBatch, new_null_array};
use arrow::datatypes::SchemaRef;
use async_trait::async_trait;
use duckdb::{Connection, OptionalExt, params};

use super::sql::{Dialect, Table};
use super::{CopyOutcome, MergeOutcome, Warehouse};
use crate::error::{Error, Result};
use crate::schema::ObjectSchema;
use crate::stage::Stage;
use crate::write::batch_reader;

/// Why work on the connection failed: DuckDB itself, or something of ours along the way.
enum Failure {
    DuckDb(duckdb::Error),
    Ours(Error),
}

impl From<duckdb::Error> for Failure {
    fn from(e: duckdb::Error) -> Self {
        Failure::DuckDb(e)
    }
}

/// The ledger of loaded files lives beside the tables it fed.
const LEDGER: &str = "_zuora_sync_loaded_files";

pub struct DuckDbWarehouse {
    conn: Arc<Mutex<Connection>>,
    path: PathBuf,
    schema: String,
    stage: Arc<dyn Stage>,
}

impl DuckDbWarehouse {
    pub fn open(path: &Path, schema: &str, stage: Arc<dyn Stage>) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
        }
        let conn = Connection::open(path)
            .map_err(|e| Error::Destination(format!("opening DuckDB {}: {e}", path.display())))?;
        let q = |c: &str| Dialect::DuckDb.quote(c);
        conn.execute_batch(&format!(
            "CREATE SCHEMA IF NOT EXISTS {s};
             CREATE TABLE IF NOT EXISTS {s}.{l} (table_name VARCHAR NOT NULL, file VARCHAR NOT NULL,
                 rows BIGINT NOT NULL, loaded_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
                 PRIMARY KEY (table_name, file));",
            s = q(schema),
            l = q(LEDGER)
        ))
        .map_err(|e| Error::Destination(format!("preparing DuckDB {}: {e}", path.display())))?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
            path: path.to_path_buf(),
            schema: schema.to_string(),
            stage,
        })
    }

    fn table<'a>(&self, schema: &'a ObjectSchema) -> Table<'a> {
        self.named(schema, &schema.table)
    }

    fn landing<'a>(&self, schema: &'a ObjectSchema) -> Table<'a> {
        self.named(schema, &landing_name(&schema.table))
    }

    fn named<'a>(&self, schema: &'a ObjectSchema, table: &str) -> Table<'a> {
        let q = |c: &str| Dialect::DuckDb.quote(c);
        Table {
            dialect: Dialect::DuckDb,
            name: format!("{}.{}", q(&self.schema), q(table)),
            schema,
        }
    }

    /// Runs `work` on the connection in a blocking thread.
    async fn with_conn<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection) -> duckdb::Result<T> + Send + 'static,
        what: String,
    ) -> Result<T> {
        self.with_conn_or(move |conn| work(conn).map_err(Failure::DuckDb), what)
            .await
    }

    /// Like `with_conn`, for work that can also fail for reasons of ours (a staged file that
    /// cannot be read), which keep their own message.
    async fn with_conn_or<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection) -> std::result::Result<T, Failure> + Send + 'static,
        what: String,
    ) -> Result<T> {
        let conn = Arc::clone(&self.conn);
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            work(&mut conn).map_err(|failure| match failure {
                Failure::DuckDb(e) => {
                    Error::Destination(format!("{what} in {}: {e}", path.display()))
                }
                Failure::Ours(e) => e,
            })
        })
        .await
        .expect("DuckDB work does not panic")
    }
}

fn existing_columns(conn: &Connection, schema: &str, table: &str) -> duckdb::Result<Vec<String>> {
    let mut statement = conn.prepare(
        "SELECT column_name FROM information_schema.columns
         WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
    )?;
    let columns = statement.query_map(params![schema, table], |r| r.get(0))?;
    columns.collect()
}

/// Landing tables sit next to their final table, prefixed so they sort apart.
fn landing_name(table: &str) -> String {
    format!("_landing_{table}")
}

#[async_trait]
impl Warehouse for DuckDbWarehouse {
    fn describe(&self) -> String {
        format!("DuckDB {} (schema {})", self.path.display(), self.schema)
    }

    async fn prepare(&self, schema: &ObjectSchema) -> Result<()> {
        let tables = [self.table(schema), self.landing(schema)];
        let creates: Vec<String> = tables.iter().map(Table::create).collect();
        let names = [
            (tables[0].name.clone(), schema.table.clone()),
            (tables[1].name.clone(), landing_name(&schema.table)),
        ];
        let db_schema = self.schema.clone();
        let fields: Vec<(String, &'static str)> = schema
            .fields
            .iter()
            .map(|f| (f.column.clone(), Dialect::DuckDb.column_type(f.field_type)))
            .collect();
        self.with_conn(
            move |conn| {
                let tx = conn.transaction()?;
                for sql in &creates {
                    tx.execute_batch(sql)?;
                }
                for (qualified, table) in &names {
                    let existing = existing_columns(&tx, &db_schema, table)?;
                    for (column, ty) in fields.iter().filter(|(c, _)| !existing.contains(c)) {
                        let column = Dialect::DuckDb.quote(column);
                        tx.execute_batch(&format!(
                            "ALTER TABLE {qualified} ADD COLUMN {column} {ty}"
                        ))?;
                    }
                }
                tx.commit()
            },
            format!("creating the tables of {}", schema.object),
        )
        .await
    }

    async fn copy(&self, schema: &ObjectSchema, files: &[String]) -> Result<CopyOutcome> {
        let mut outcome = CopyOutcome::default();
        let layout = self.landing_layout(schema).await?;
        for name in files {
            let loaded = self.load_file(schema, &layout, name).await?;
            match loaded {
                Some(rows) => {
                    outcome.files_loaded += 1;
                    outcome.rows += rows;
                }
                None => outcome.files_skipped += 1,
            }
            outcome.statements += 1;
        }
        Ok(outcome)
    }

    async fn merge(&self, schema: &ObjectSchema) -> Result<MergeOutcome> {
        let landing = self.landing(schema).name;
        let merge = self.table(schema).merge_from(&landing);
        self.with_conn(
            move |conn| {
                let tx = conn.transaction()?;
                let landed: u64 =
                    tx.query_row(&format!("SELECT count(*) FROM {landing}"), [], |r| r.get(0))?;
                let changed = if landed > 0 {
                    tx.execute(&merge, [])? as u64
                } else {
                    0
                };
                tx.execute(&format!("DELETE FROM {landing}"), [])?;
                tx.commit()?;
                Ok(MergeOutcome { landed, changed })
            },
            format!("merging {}", schema.object),
        )
        .await
    }
}

impl DuckDbWarehouse {
    /// The landing table's columns in the table's own order, which the appender needs: columns
    /// added later by `ALTER TABLE` come after `_synced_at` and `_deleted`.
    async fn landing_layout(&self, schema: &ObjectSchema) -> Result<SchemaRef> {
        let (db_schema, landing) = (self.schema.clone(), landing_name(&schema.table));
        let order = self
            .with_conn(
                move |conn| existing_columns(conn, &db_schema, &landing),
                format!("reading the columns of {}", landing_name(&schema.table)),
            )
            .await?;
        let fields = schema.arrow_schema();
        let ordered = order
            .iter()
            .map(|name| {
                fields.field_with_name(name).cloned().map_err(|_| {
                    Error::Destination(format!(
                        "{} has a column {name} that the {} schema does not know",
                        landing_name(&schema.table),
                        schema.object
                    ))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Arc::new(arrow::datatypes::Schema::new(ordered)))
    }

    /// Loads one staged file and records it in the ledger, in one transaction. `None` when the
    /// ledger says it was loaded before.
    async fn load_file(
        &self,
        schema: &ObjectSchema,
        landing_schema: &SchemaRef,
        name: &str,
    ) -> Result<Option<u64>> {
        let q = |c: &str| Dialect::DuckDb.quote(c);
        let ledger = format!("{}.{}", q(&self.schema), q(LEDGER));
        let table = schema.table.clone();
        let check = format!("SELECT rows FROM {ledger} WHERE table_name = ? AND file = ?");
        let (t, n) = (table.clone(), name.to_string());
        let seen = self
            .with_conn(
                move |conn| {
                    conn.query_row(&check, params![t, n], |r| r.get::<_, i64>(0))
                        .optional()
                },
                format!("reading the ledger for {name}"),
            )
            .await?;
        if seen.is_some() {
            return Ok(None);
        }

        // Batches are decoded one at a time inside the transaction, so a large file never sits
        // in memory twice (as Arrow and in DuckDB); a file that fails halfway loads nothing.
        let batches = batch_reader(self.stage.get(name).await?)?;
        let landing = landing_name(&schema.table);
        let db_schema = self.schema.clone();
        let record = format!("INSERT INTO {ledger} (table_name, file, rows) VALUES (?, ?, ?)");
        let (file, layout) = (name.to_string(), Arc::clone(landing_schema));
        let rows = self
            .with_conn_or(
                move |conn| {
                    let tx = conn.transaction()?;
                    let mut rows = 0;
                    {
                        let mut appender = tx.appender_to_db(&landing, &db_schema)?;
                        for batch in batches {
                            let batch = conform(&batch.map_err(Failure::Ours)?, &layout, &file)
                                .map_err(Failure::Ours)?;
                            rows += batch.num_rows() as u64;
                            appender.append_record_batch(batch)?;
                        }
                        appender.flush()?;
                    }
                    tx.execute(&record, params![table, file, rows as i64])?;
                    tx.commit()?;
                    Ok(rows)
                },
                format!("loading {name} into {}", landing_name(&schema.table)),
            )
            .await?;
        Ok(Some(rows))
    }
}

/// Reorders a batch to the landing table's columns, adding null columns for fields the file
/// predates; the appender needs the table's exact column list.
fn conform(batch: &RecordBatch, target: &SchemaRef, name: &str) -> Result<RecordBatch> {
    let columns = target
        .fields()
        .iter()
        .map(|field| match batch.column_by_name(field.name()) {
            Some(column) if column.data_type() == field.data_type() => Ok(Arc::clone(column)),
            Some(column) => Err(Error::Destination(format!(
                "staged file {name}: column {} is {} but the table has {}",
                field.name(),
                column.data_type(),
                field.data_type()
            ))),
            None => Ok(new_null_array(field.data_type(), batch.num_rows())),
        })
        .collect::<Result<Vec<_>>>()?;
    RecordBatch::try_new(Arc::clone(target), columns)
        .map_err(|e| Error::Destination(format!("staged file {name}: {e}")))
}
