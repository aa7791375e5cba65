//! An emulated Databricks workspace on a loopback HTTP port: OAuth machine-to-machine and
//! personal access tokens, the SQL Statement Execution API with states, polling and warehouse
//! cold start, the Files API for Unity Catalog volumes, and an enforced Unity Catalog grants
//! model with Databricks' error texts. The SQL zuora-sync sends (DDL, COPY INTO from volumes
//! or `s3://`, MERGE, SELECT) runs for real on an embedded DuckDB.
//!
//! It follows `reference/databricks.md`; where Databricks' behaviour is unconfirmed it picks
//! the stricter reading and says so where it decides. Statements and file requests it does
//! not emulate are refused (PARSE_SYNTAX_ERROR, UNSUPPORTED_FEATURE, 501), never guessed at.

mod auth;
mod catalog;
mod files;
mod grants;
mod s3;
mod server;
mod sql;
mod statements;
mod volumes;
mod warehouse;

#[cfg(test)]
mod http_tests;

use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use catalog::Change;
use grants::{Kind, Object, Privilege};
use server::{Faults, Shared};
use sql::error::SqlError;
use sql::{Session, Setup, Workspace};
use statements::Statements;
use volumes::VolumePath;
use warehouse::Warehouse;

/// How to start an emulator.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where to listen. Default `127.0.0.1:0`: loopback only, on a free port.
    pub listen: SocketAddr,
    /// The catalog that exists at start, and the default of statements that name none.
    /// Default `main`, the catalog of a new Unity Catalog workspace.
    pub catalog: String,
    /// A schema of `catalog` that exists at start. Default `zuora`.
    pub schema: String,
    /// A volume of `schema` that exists at start. Default `zuora_sync_staging`.
    pub volume: String,
    /// The id of the one SQL warehouse. Default `5e1f0c9a7d2b4e63`.
    pub warehouse_id: String,
    /// How long the warehouse stays STARTING. Default zero: tests of cold start set a few
    /// hundred milliseconds.
    pub cold_start: Duration,
    /// Start with the warehouse STOPPED, as after auto-stop. Default false.
    pub initially_stopped: bool,
    /// Lifetime of an OAuth access token. Default 3600 s, what Databricks issues.
    pub token_ttl: Duration,
    /// The S3 endpoint `s3://` COPY sources are read from, with the credentials given in the
    /// statement. Default none: such statements fail.
    pub s3_endpoint: Option<String>,
    /// The region S3 requests are signed for. Default `us-east-1`.
    pub s3_region: String,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            catalog: "main".into(),
            schema: "zuora".into(),
            volume: "zuora_sync_staging".into(),
            warehouse_id: "5e1f0c9a7d2b4e63".into(),
            cold_start: Duration::ZERO,
            initially_stopped: false,
            token_ttl: Duration::from_secs(3600),
            s3_endpoint: None,
            s3_region: "us-east-1".into(),
        }
    }
}

/// A securable for [`Emulator::grant`] and [`Emulator::revoke`]; names are dotted
/// (`main.zuora.account`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Securable {
    Catalog(String),
    Schema(String),
    Volume(String),
    Table(String),
    /// The warehouse's CAN_USE permission.
    Warehouse,
}

/// The states of the Statement Execution API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatementState {
    Pending,
    Running,
    Succeeded,
    Failed,
    Canceled,
}

impl StatementState {
    pub fn as_str(self) -> &'static str {
        match self {
            StatementState::Pending => "PENDING",
            StatementState::Running => "RUNNING",
            StatementState::Succeeded => "SUCCEEDED",
            StatementState::Failed => "FAILED",
            StatementState::Canceled => "CANCELED",
        }
    }
}

/// One submitted statement as the emulator saw it; its state is the latest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedStatement {
    pub statement_id: String,
    /// The service principal's application id, or the admin's name.
    pub principal: String,
    /// The statement text with every credential value replaced by `REDACTED`.
    pub sql: String,
    pub state: StatementState,
    /// The `[ERROR_CLASS]` of a failed statement, such as `INSUFFICIENT_PERMISSIONS`.
    pub error_class: Option<String>,
    pub error_message: Option<String>,
    pub sql_state: Option<String>,
}

/// One request as the emulator saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedRequest {
    pub method: String,
    pub path: String,
    pub status: u16,
}

/// A running emulator. Clones share the same workspace and server.
#[derive(Debug, Clone)]
pub struct Emulator {
    shared: Arc<Shared>,
    options: Arc<Options>,
    server: Arc<Mutex<Option<Server>>>,
}

#[derive(Debug)]
struct Server {
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Emulator {
    /// Creates the workspace, binds `options.listen` and serves on the current tokio runtime.
    /// Returns once the port accepts connections.
    pub async fn start(options: Options) -> std::io::Result<Emulator> {
        let listener = tokio::net::TcpListener::bind(options.listen).await?;
        let address = listener.local_addr()?;
        let auth = auth::Auth::new(options.token_ttl);
        let setup = Setup {
            catalog: options.catalog.to_ascii_lowercase(),
            schema: options.schema.to_ascii_lowercase(),
            volume: options.volume.to_ascii_lowercase(),
            admin: auth.admin(),
            service_principal: auth.service_principal(),
            s3: s3::S3Settings {
                endpoint: options.s3_endpoint.clone(),
                region: options.s3_region.clone(),
            },
        };
        // Opening DuckDB and the volume directory touches the disk; keep it off the workers.
        let workspace = tokio::task::spawn_blocking(move || Workspace::new(&setup))
            .await
            .map_err(std::io::Error::other)??;

        let warehouse = Warehouse::new(
            options.warehouse_id.clone(),
            options.cold_start,
            options.initially_stopped,
        );
        warehouse.set_can_use(auth.client_id(), true);
        let shared = Arc::new(Shared {
            host: format!("http://{address}"),
            port: address.port(),
            catalog: options.catalog.to_ascii_lowercase(),
            auth,
            warehouse: Arc::new(warehouse),
            workspace: Arc::new(workspace),
            statements: Statements::default(),
            faults: Mutex::new(Faults::default()),
            log: Mutex::new(VecDeque::new()),
        });

        let (stop, stopped) = oneshot::channel::<()>();
        let app = server::router(shared.clone());
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
        });
        let server = Arc::new(Mutex::new(Some(Server { stop, task })));
        Ok(Emulator {
            shared,
            options: Arc::new(options),
            server,
        })
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn host(&self) -> String {
        self.shared.host.clone()
    }

    /// `/sql/1.0/warehouses/<id>`, as the warehouse's connection details show it.
    pub fn http_path(&self) -> String {
        format!("/sql/1.0/warehouses/{}", self.shared.warehouse.id)
    }

    pub fn warehouse_id(&self) -> &str {
        &self.shared.warehouse.id
    }

    /// The service principal's application id, for OAuth machine-to-machine.
    pub fn client_id(&self) -> &str {
        self.shared.auth.client_id()
    }

    pub fn client_secret(&self) -> &str {
        self.shared.auth.client_secret()
    }

    /// A personal access token of the service principal; it does not expire.
    pub fn personal_access_token(&self) -> &str {
        self.shared.auth.personal_access_token()
    }

    /// A personal access token of a workspace admin, who may GRANT and REVOKE and passes
    /// every privilege check.
    pub fn admin_token(&self) -> &str {
        self.shared.auth.admin_token()
    }

    /// What a client needs to connect, as JSON (it holds secrets: keep it out of logs).
    pub fn connection_json(&self) -> serde_json::Value {
        serde_json::json!({
            "host": self.host(),
            "http_path": self.http_path(),
            "warehouse_id": self.warehouse_id(),
            "catalog": self.options.catalog,
            "schema": self.options.schema,
            "volume": self.options.volume,
            "client_id": self.client_id(),
            "client_secret": self.client_secret(),
            "admin_token": self.admin_token(),
        })
    }

    /// Grants `privilege` (`USE CATALOG`, `READ VOLUME`, `CAN_USE`, ...) to the service
    /// principal, as the admin's GRANT would.
    ///
    /// # Panics
    /// When the privilege does not exist or does not apply to the securable, or the securable
    /// does not exist.
    pub fn grant(&self, privilege: &str, securable: Securable) {
        self.change_grant(privilege, securable, true);
    }

    /// Revokes what [`Emulator::grant`] grants.
    ///
    /// # Panics
    /// As [`Emulator::grant`].
    pub fn revoke(&self, privilege: &str, securable: Securable) {
        self.change_grant(privilege, securable, false);
    }

    fn change_grant(&self, privilege: &str, securable: Securable, grant: bool) {
        let principal = self.client_id().to_string();
        let (kind, name) = match securable {
            Securable::Warehouse => {
                let spelled = privilege.replace(' ', "_").to_ascii_uppercase();
                assert_eq!(spelled, "CAN_USE", "the warehouse grants only CAN_USE");
                self.shared.warehouse.set_can_use(&principal, grant);
                return;
            }
            Securable::Catalog(name) => (Kind::Catalog, name),
            Securable::Schema(name) => (Kind::Schema, name),
            Securable::Volume(name) => (Kind::Volume, name),
            Securable::Table(name) => (Kind::Table, name),
        };
        let privilege = Privilege::parse(privilege)
            .unwrap_or_else(|| panic!("'{privilege}' is not a Unity Catalog privilege"));
        let parts: Vec<&str> = name.split('.').collect();
        assert_eq!(
            parts.len(),
            kind.depth(),
            "a {} is named with {} dotted parts",
            kind.title(),
            kind.depth()
        );
        assert!(
            privilege.grantable_on(kind),
            "{} does not apply to a {}",
            privilege.name(),
            kind.title()
        );
        let object = Object::new(kind, &parts);
        let mut meta = self.shared.workspace.meta.write().expect("metastore lock");
        assert!(
            meta.exists(&object),
            "{} '{name}' does not exist",
            kind.title()
        );
        meta.apply(if grant {
            Change::Grant(principal, privilege, object)
        } else {
            Change::Revoke(principal, privilege, object)
        });
    }

    /// Runs `sql` (Databricks dialect, as accepted) as the admin, with the options' catalog
    /// and schema as defaults, and returns every cell as text, for tests to read tables.
    /// It blocks the calling thread until the statement ends, bypassing the warehouse state
    /// and the statement log.
    ///
    /// # Panics
    /// When the statement fails, with its error message.
    pub fn query(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        let session = Session {
            principal: self.shared.auth.admin(),
            catalog: self.options.catalog.to_ascii_lowercase(),
            schema: self.options.schema.to_ascii_lowercase(),
        };
        let workspace = &self.shared.workspace;
        // A thread of its own: the caller may be async code, and an s3:// COPY runs a runtime.
        let outcome: Result<_, SqlError> = std::thread::scope(|scope| {
            scope
                .spawn(|| workspace.execute(&session, sql, &[], u64::MAX, &AtomicBool::new(false)))
                .join()
                .expect("the query thread does not panic")
        });
        match outcome {
            Ok(result) => result.rows,
            Err(error) => panic!("{error}"),
        }
    }

    /// Every statement submitted so far (the latest hundred thousand), oldest first.
    pub fn statement_log(&self) -> Vec<LoggedStatement> {
        self.shared.statements.log()
    }

    /// Every request served so far (the latest million), oldest first.
    pub fn request_log(&self) -> Vec<LoggedRequest> {
        let log = self.shared.log.lock().expect("log lock");
        log.iter().cloned().collect()
    }

    /// Every OAuth token issued so far is expired from now on; new ones can be obtained.
    pub fn expire_tokens(&self) {
        self.shared.auth.expire_all();
    }

    /// Stops the warehouse; the next statement starts it again through `cold_start`.
    pub fn stop_warehouse(&self) {
        self.shared.warehouse.stop();
    }

    /// The next `n` statement submissions answer `http_status` (429 or 503) with
    /// `Retry-After: 1` and the platform error body.
    pub fn fail_next_statements(&self, n: usize, http_status: u16) {
        let mut faults = self.shared.faults.lock().expect("faults lock");
        faults.http.extend(std::iter::repeat_n(http_status, n));
    }

    /// The next statement that reaches the warehouse ends FAILED with exactly this message
    /// (`[ERROR_CLASS] ... SQLSTATE: xxxxx`) and `sql_state`.
    pub fn fail_next_statement_with(&self, error_class_message: &str, sql_state: &str) {
        let planted = SqlError::planted(error_class_message, sql_state);
        let mut faults = self.shared.faults.lock().expect("faults lock");
        faults.sql.push_back(planted);
    }

    /// The files below a `/Volumes/...` directory, recursively, as absolute volume paths,
    /// sorted; empty when the directory does not exist.
    ///
    /// # Panics
    /// When `dir` is not a path inside a volume.
    pub fn files(&self, dir: &str) -> Vec<String> {
        let path = VolumePath::parse(dir)
            .unwrap_or_else(|| panic!("'{dir}' is not a /Volumes/<c>/<s>/<v>/... path"));
        let volumes = &self.shared.workspace.volumes;
        if !volumes.entry(&path).is_some_and(|e| e.is_directory) {
            return Vec::new();
        }
        let base = path.display();
        volumes
            .walk(&path)
            .unwrap_or_default()
            .into_iter()
            .map(|relative| format!("{base}/{relative}"))
            .collect()
    }

    /// Stops accepting connections and waits for requests in flight to finish.
    pub async fn shutdown(self) {
        let server = self.server.lock().expect("server lock").take();
        if let Some(Server { stop, task }) = server {
            let _ = stop.send(());
            let _ = task.await;
        }
    }
}
