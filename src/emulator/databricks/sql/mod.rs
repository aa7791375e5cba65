//! The SQL warehouse behind the Statement Execution API: a statement is tokenized, its named
//! parameters bound, parsed into one of the accepted forms (anything else is a
//! PARSE_SYNTAX_ERROR), checked against the Unity Catalog grants of the calling principal and
//! executed on the embedded DuckDB inside a transaction. A statement that fails or is
//! canceled rolls back and leaves the metastore as it was.
//!
//! Unity Catalog schema `c.s` is the DuckDB schema named `c.s`; table `c.s.t` is table `t` in
//! it. There are no sessions: like the Statement Execution API, every statement starts from
//! the request's `catalog` and `schema`, and USE only checks that the target can be used.

mod commands;
pub(crate) mod copy;
pub(crate) mod engine;
pub(crate) mod error;
pub(crate) mod lexer;
pub(crate) mod merge;
pub(crate) mod parser;
pub(crate) mod redact;
pub(crate) mod results;
pub(crate) mod translate;
pub(crate) mod types;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use duckdb::{Connection, InterruptHandle};
use serde::Deserialize;

use super::auth::Principal;
use super::catalog::{Change, Metastore, Refusal};
use super::grants::{Kind, Object, Privilege};
use super::s3::S3Settings;
use super::volumes::VolumeStore;
use error::SqlError;
use lexer::{Kind as TokenKind, Token};
use parser::Statement;
use results::ResultSet;
use translate::{Translator, duck_schema, quote};

/// Who runs a statement, and the names unqualified identifiers resolve through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Session {
    pub principal: Principal,
    pub catalog: String,
    pub schema: String,
}

/// One entry of the request's `parameters`, bound to a `:name` marker.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Parameter {
    pub name: String,
    #[serde(default)]
    pub value: Option<String>,
    /// A Databricks type such as `INT` or `DECIMAL(10,2)`; STRING when absent.
    #[serde(default, rename = "type")]
    pub data_type: Option<String>,
}

/// What exists when the workspace starts.
#[derive(Debug, Clone)]
pub(crate) struct Setup {
    pub catalog: String,
    pub schema: String,
    pub volume: String,
    pub admin: Principal,
    pub service_principal: Principal,
    pub s3: S3Settings,
}

pub(crate) struct Workspace {
    db: Mutex<Connection>,
    interrupt: Arc<InterruptHandle>,
    /// The ticket of the statement that holds the database, so a cancel interrupts only it.
    executing: Mutex<Option<u64>>,
    pub meta: RwLock<Metastore>,
    pub volumes: VolumeStore,
    s3: S3Settings,
}

impl std::fmt::Debug for Workspace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workspace")
            .field("volumes", &self.volumes)
            .finish_non_exhaustive()
    }
}

impl Workspace {
    /// The catalog, schema and volume of `setup` exist, owned by the admin; the service
    /// principal holds every privilege a sync needs on them.
    pub fn new(setup: &Setup) -> std::io::Result<Workspace> {
        let conn = engine::open().map_err(std::io::Error::other)?;
        let workspace = Workspace {
            interrupt: conn.interrupt_handle(),
            db: Mutex::new(conn),
            executing: Mutex::new(None),
            meta: RwLock::new(Metastore::default()),
            volumes: VolumeStore::new()?,
            s3: setup.s3.clone(),
        };

        let admin = setup.admin.name.clone();
        let schema = Object::schema(&setup.catalog, &setup.schema);
        let volume = Object::new(
            Kind::Volume,
            &[&setup.catalog, &setup.schema, &setup.volume],
        );
        workspace
            .meta
            .write()
            .expect("metastore lock")
            .create_catalog(&setup.catalog, &admin);
        let sp = &setup.service_principal.name;
        let catalog = Object::catalog(&setup.catalog);
        let changes = vec![
            Change::CreateSchema(schema.clone(), admin.clone()),
            Change::CreateVolume(volume.clone(), admin),
            Change::Grant(sp.clone(), Privilege::UseCatalog, catalog),
            Change::Grant(sp.clone(), Privilege::UseSchema, schema.clone()),
            Change::Grant(sp.clone(), Privilege::CreateTable, schema),
            Change::Grant(sp.clone(), Privilege::ReadVolume, volume.clone()),
            Change::Grant(sp.clone(), Privilege::WriteVolume, volume),
        ];
        workspace.apply(changes)?;
        workspace.create_duck_schemas()?;
        Ok(workspace)
    }

    /// Runs one statement to completion. `ticket` identifies it for [`Workspace::interrupt`];
    /// when `canceled` is set by the time it finishes, its work is rolled back.
    pub fn execute(
        &self,
        session: &Session,
        sql: &str,
        parameters: &[Parameter],
        ticket: u64,
        canceled: &AtomicBool,
    ) -> Result<ResultSet, SqlError> {
        let tokens = bind(lexer::tokenize(sql)?, parameters)?;
        let statement = parser::parse(&tokens)?;

        // The metastore changes apply while the database is still held, so the next statement
        // sees DuckDB and the metastore agree.
        let conn = self.db.lock().expect("database lock");
        *self.executing.lock().expect("executing lock") = Some(ticket);
        let outcome = self.transaction(&conn, session, statement, canceled);
        *self.executing.lock().expect("executing lock") = None;
        let (result, changes) = outcome?;
        self.apply(changes).map_err(SqlError::internal)?;
        drop(conn);
        Ok(result)
    }

    fn transaction(
        &self,
        conn: &Connection,
        session: &Session,
        statement: Statement,
        canceled: &AtomicBool,
    ) -> Result<(ResultSet, Vec<Change>), SqlError> {
        engine::execute(conn, "BEGIN TRANSACTION")?;
        let (result, changes) = {
            let meta = self.meta.read().expect("metastore lock");
            let mut exec = Exec {
                conn,
                meta: &meta,
                session,
                volumes: &self.volumes,
                s3: &self.s3,
                changes: Vec::new(),
            };
            (exec.run(statement), exec.changes)
        };
        let result = match result {
            Ok(_) if canceled.load(Ordering::SeqCst) => Err(SqlError::new(
                "OPERATION_CANCELED",
                "The statement was canceled.",
                "HY008",
            )),
            other => other,
        };
        match result {
            Ok(result) => {
                engine::execute(conn, "COMMIT")?;
                Ok((result, changes))
            }
            Err(error) => {
                let _ = engine::execute(conn, "ROLLBACK");
                Err(error)
            }
        }
    }

    /// Stops the DuckDB query of statement `ticket`, if it is the one running.
    pub fn interrupt(&self, ticket: u64) {
        let executing = self.executing.lock().expect("executing lock");
        if *executing == Some(ticket) {
            self.interrupt.interrupt();
        }
    }

    /// Applies committed changes to the metastore, with the directories of new volumes.
    fn apply(&self, changes: Vec<Change>) -> std::io::Result<()> {
        let mut meta = self.meta.write().expect("metastore lock");
        for change in changes {
            if let Change::CreateVolume(volume, _) = &change {
                self.volumes.create_volume(volume)?;
            }
            meta.apply(change);
        }
        Ok(())
    }

    /// The DuckDB schemas of the schemas made at start, outside SQL.
    fn create_duck_schemas(&self) -> std::io::Result<()> {
        let schemas = self.meta.read().expect("metastore lock").schemas();
        let conn = self.db.lock().expect("database lock");
        for (catalog, schema) in schemas {
            let sql = format!(
                "CREATE SCHEMA IF NOT EXISTS {}",
                quote(&duck_schema(&catalog, &schema))
            );
            engine::execute(&conn, &sql).map_err(std::io::Error::other)?;
        }
        Ok(())
    }
}

/// Replaces each `:name` marker by its value: a string literal, or a CAST to the given type.
fn bind(tokens: Vec<Token>, parameters: &[Parameter]) -> Result<Vec<Token>, SqlError> {
    let mut bound = Vec::with_capacity(tokens.len());
    for token in tokens {
        let parameter = (token.kind == TokenKind::Parameter)
            .then(|| parameters.iter().find(|p| p.name == token.text))
            .flatten();
        let Some(parameter) = parameter else {
            bound.push(token);
            continue;
        };
        let value = match &parameter.value {
            Some(value) => Token::string(value),
            None => Token::word("NULL"),
        };
        let data_type = parameter.data_type.as_deref().unwrap_or("STRING");
        if data_type.eq_ignore_ascii_case("string") {
            bound.push(value);
            continue;
        }
        bound.extend([
            Token::word("CAST"),
            Token::symbol("("),
            value,
            Token::word("AS"),
        ]);
        bound.extend(lexer::tokenize(data_type)?);
        bound.push(Token::symbol(")"));
    }
    Ok(bound)
}

/// One statement being executed, with everything it may read and the metastore changes it
/// will make if it commits.
pub(crate) struct Exec<'a> {
    conn: &'a Connection,
    meta: &'a Metastore,
    session: &'a Session,
    volumes: &'a VolumeStore,
    s3: &'a S3Settings,
    changes: Vec<Change>,
}

impl Exec<'_> {
    fn run(&mut self, statement: Statement) -> Result<ResultSet, SqlError> {
        match statement {
            Statement::Query(tokens) => {
                let sql = self.translator().query(&tokens)?;
                Ok(engine::run(self.conn, &sql)?.1)
            }
            Statement::Copy(copy) => self.copy_into(copy),
            Statement::Merge(merge) => self.merge_into(merge),
            other => self.command(other),
        }
    }

    fn translator(&self) -> Translator<'_> {
        Translator::new(self.meta, self.session)
    }

    fn who(&self) -> &Principal {
        &self.session.principal
    }

    /// Resolves a name and walks to it; `object` is what the error messages name.
    fn reach(&self, name: &[String], kind: Kind) -> Result<Object, SqlError> {
        let object = translate::qualify(self.session, name, kind)?;
        let reached = self.meta.reach(self.who(), &object);
        reached.map_err(|r| self.refused(r, &object))?;
        Ok(object)
    }

    /// Reads and writes of a missing table say TABLE_OR_VIEW_NOT_FOUND whatever part is
    /// missing; everything else names the missing catalog or schema.
    fn refused(&self, refusal: Refusal, object: &Object) -> SqlError {
        match refusal {
            Refusal::CatalogMissing(c) if object.kind != Kind::Table => {
                translate::missing(&Object::catalog(&c))
            }
            Refusal::SchemaMissing(c, s) if object.kind != Kind::Table => {
                translate::missing(&Object::schema(&c, &s))
            }
            other => translate::refusal(other, object),
        }
    }

    /// A table this statement writes: reachable, and the owner or MODIFY + SELECT.
    fn writable_table(&self, name: &[String]) -> Result<Object, SqlError> {
        let table = self.reach(name, Kind::Table)?;
        let allowed = self.meta.require_write(self.who(), &table);
        allowed.map_err(|r| self.refused(r, &table))?;
        Ok(table)
    }
}
