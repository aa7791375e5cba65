//! The TOML configuration: what to read from Zuora, where to stage and load it, and where the
//! checkpoint lives. Unknown keys are errors, every problem in a file is reported at once,
//! relative paths resolve against the file's folder, and secrets come only from the environment.

mod raw;
mod secret;
mod template;

pub use secret::Secret;
pub use template::template;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use url::Url;

use crate::error::{Error, Result};
use raw::RawConfig;

pub const ZUORA_SECRET_VAR: &str = "ZUORA_CLIENT_SECRET";
pub const DATABRICKS_SECRET_VAR: &str = "DATABRICKS_CLIENT_SECRET";
pub const DATABRICKS_TOKEN_VAR: &str = "DATABRICKS_TOKEN";

#[derive(Debug, Clone)]
pub struct Config {
    /// The file this was read from; relative paths in it were resolved against its folder.
    pub file: PathBuf,
    pub zuora: ZuoraConfig,
    pub warehouse: WarehouseConfig,
    pub staging: StagingConfig,
    pub state: StateConfig,
    pub sync: SyncConfig,
}

#[derive(Debug, Clone)]
pub struct ZuoraConfig {
    pub base_url: Url,
    pub client_id: String,
    /// From `ZUORA_CLIENT_SECRET`; `None` only for commands that never call Zuora.
    pub client_secret: Option<Secret>,
    /// Describe names to sync; `None` means every object Describe lists.
    pub objects: Option<Vec<String>>,
    pub exclude_objects: Vec<String>,
    pub page_size: u32,
    /// Object Query requests in flight at once, across all objects.
    pub max_concurrency: usize,
    pub zuora_version: String,
    pub entity_ids: Option<String>,
    pub request_timeout: Duration,
    pub max_retries: u32,
    pub retry_budget: Duration,
    /// Drop page keys that Describe does not list, instead of failing the object.
    pub ignore_unknown_fields: bool,
}

#[derive(Debug, Clone)]
pub enum WarehouseConfig {
    DuckDb { path: PathBuf, schema: String },
    Databricks(DatabricksConfig),
}

impl WarehouseConfig {
    pub fn schema(&self) -> &str {
        match self {
            Self::DuckDb { schema, .. } => schema,
            Self::Databricks(d) => &d.schema,
        }
    }
}

#[derive(Debug, Clone)]
pub struct DatabricksConfig {
    pub host: Url,
    pub http_path: String,
    pub warehouse_id: String,
    pub catalog: String,
    pub schema: String,
    pub metastore: Metastore,
    pub auth: DatabricksAuth,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metastore {
    UnityCatalog,
    Hive,
}

#[derive(Debug, Clone)]
pub enum DatabricksAuth {
    /// OAuth machine-to-machine for a service principal; the secret is `None` only for commands
    /// that never call Databricks.
    OAuth {
        client_id: String,
        client_secret: Option<Secret>,
    },
    /// A personal access token.
    Token(Option<Secret>),
}

#[derive(Debug, Clone)]
pub struct StagingConfig {
    pub location: StagingLocation,
    pub keep_staged_files: bool,
    /// Parquet files are rolled when they reach about this size.
    pub file_target_bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StagingLocation {
    Local(PathBuf),
    S3(S3Location),
    /// A Unity Catalog volume path, `/Volumes/<catalog>/<schema>/<volume>[/<prefix>]`.
    Volume(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    pub bucket: String,
    pub prefix: String,
    pub region: String,
    pub endpoint: Option<String>,
}

#[derive(Debug, Clone)]
pub struct StateConfig {
    pub path: PathBuf,
}

impl StateConfig {
    /// The run lock lives next to the database it protects.
    pub fn lock_path(&self) -> PathBuf {
        let mut name = self.path.file_name().unwrap_or_default().to_os_string();
        name.push(".lock");
        self.path.with_file_name(name)
    }

    /// Parquet files wait here between being written and being staged.
    pub fn spool_dir(&self) -> PathBuf {
        let mut name = self.path.file_name().unwrap_or_default().to_os_string();
        name.push(".spool");
        self.path.with_file_name(name)
    }
}

#[derive(Debug, Clone)]
pub struct SyncConfig {
    /// How far behind now the newest window ends: Zuora's query index is eventually consistent.
    pub lag: Duration,
    /// How far before the watermark each incremental window starts again.
    pub lookback: Lookback,
    /// Rows updated before this are not read on the first sync; `None` reads everything.
    pub start: Option<DateTime<Utc>>,
    pub max_parallel_objects: usize,
    /// Windows read at once, across all objects.
    pub max_parallel_windows: usize,
    /// How many windows the first sync of an object is split into.
    pub backfill_windows: usize,
    /// Read deleted ids from Data Query and flag them `_deleted`.
    pub deletes: bool,
    pub delete_check_interval: Duration,
    pub objects: BTreeMap<String, ObjectOverrides>,
}

/// How much history an incremental run reads again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookback {
    /// From this long before the watermark.
    Since(Duration),
    /// Everything, every run: the only way to see changes that never bump `UpdatedDate` on
    /// rows of any age.
    All,
}

#[derive(Debug, Clone, Default)]
pub struct ObjectOverrides {
    pub lookback: Option<Lookback>,
}

/// Item tables whose rows change with related objects without their `UpdatedDate` moving:
/// peers re-read 14 days of them (90 for credit memo items), and so does zuora-sync unless
/// configured otherwise.
const DEFAULT_LOOKBACKS: &[(&str, u64)] = &[
    ("InvoiceItem", 14),
    ("TaxationItem", 14),
    ("DebitMemoItem", 14),
    ("CreditMemoItem", 90),
    ("InvoiceItemAdjustment", 14),
    ("CreditMemoApplicationItem", 14),
    ("DebitMemoApplicationItem", 14),
    ("PaymentApplicationItem", 14),
    ("RefundApplicationItem", 14),
];

impl SyncConfig {
    pub fn lookback_for(&self, object: &str) -> Lookback {
        let configured = self
            .objects
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(object));
        if let Some(lookback) = configured.and_then(|(_, o)| o.lookback) {
            return lookback;
        }
        let default = DEFAULT_LOOKBACKS
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(object));
        match (self.lookback, default) {
            (Lookback::Since(global), Some((_, days))) => {
                Lookback::Since(global.max(Duration::from_secs(days * 86_400)))
            }
            (global, _) => global,
        }
    }
}

/// Which secrets a command needs: missing ones are configuration errors only when needed.
#[derive(Debug, Clone, Copy, Default)]
pub struct Needs {
    pub zuora: bool,
    pub warehouse: bool,
}

impl Needs {
    pub const NOTHING: Self = Self {
        zuora: false,
        warehouse: false,
    };
    pub const ZUORA: Self = Self {
        zuora: true,
        warehouse: false,
    };
    pub const EVERYTHING: Self = Self {
        zuora: true,
        warehouse: true,
    };
}

impl Config {
    /// Reads and validates a configuration file, reporting every problem at once.
    pub fn load(file: &Path, needs: Needs) -> Result<Self> {
        let text = std::fs::read_to_string(file).map_err(|e| {
            Error::config(format!(
                "cannot read the configuration file {}: {e}",
                file.display()
            ))
        })?;
        Self::parse(&text, file, needs)
    }

    pub fn parse(text: &str, file: &Path, needs: Needs) -> Result<Self> {
        Self::parse_with(text, file, needs, &|variable| std::env::var(variable).ok())
    }

    /// `parse`, with the environment (where secrets come from) given by `env`.
    pub fn parse_with(text: &str, file: &Path, needs: Needs, env: Env<'_>) -> Result<Self> {
        let raw: RawConfig = toml::from_str(text)
            .map_err(|e| Error::config(format!("{}: {}", file.display(), e.to_string().trim())))?;
        let dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
        let dir = if dir.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            dir
        };
        let mut problems = Problems::default();
        let config = raw.resolve(file, &dir, needs, env, &mut problems);
        match (config, problems.0.is_empty()) {
            (Some(config), true) => Ok(config),
            _ => Err(Error::Config(
                problems
                    .0
                    .into_iter()
                    .map(|p| format!("{}: {p}", file.display()))
                    .collect(),
            )),
        }
    }
}

/// Where a configuration's secrets are read from: the process environment, or a map in tests.
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Problems found while resolving a configuration, all reported together.
#[derive(Default)]
pub(crate) struct Problems(Vec<String>);

impl Problems {
    pub(crate) fn push(&mut self, problem: impl Into<String>) {
        self.0.push(problem.into());
    }
}

/// `"5m"`, `"90s"`, `"14d"`, `"1h 30m"`.
pub(crate) fn parse_duration(key: &str, text: &str, problems: &mut Problems) -> Option<Duration> {
    humantime::parse_duration(text)
        .map_err(|e| {
            problems.push(format!(
                "{key} = {text:?} is not a duration like \"5m\": {e}"
            ))
        })
        .ok()
}

/// A date (`2020-01-01`, midnight UTC) or an RFC 3339 date-time.
pub(crate) fn parse_instant(
    key: &str,
    text: &str,
    problems: &mut Problems,
) -> Option<DateTime<Utc>> {
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Some(date.and_hms_opt(0, 0, 0)?.and_utc());
    }
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            problems.push(format!(
                "{key} = {text:?} is not a date (YYYY-MM-DD) or an RFC 3339 date-time"
            ))
        })
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config> {
        Config::parse(text, Path::new("/etc/zs/zuora-sync.toml"), Needs::NOTHING)
    }

    const MINIMAL: &str = r#"
        [zuora]
        base_url = "http://127.0.0.1:8080"
        client_id = "abc"
    "#;

    #[test]
    fn defaults_resolve_next_to_the_file() {
        let config = parse(MINIMAL).unwrap();
        assert_eq!(config.state.path, Path::new("/etc/zs/checkpoint.db"));
        assert_eq!(
            config.state.lock_path(),
            Path::new("/etc/zs/checkpoint.db.lock")
        );
        assert_eq!(
            config.staging.location,
            StagingLocation::Local(PathBuf::from("/etc/zs/staging"))
        );
        assert_eq!(config.warehouse.schema(), "zuora");
        assert_eq!(config.sync.lag, Duration::from_secs(300));
        assert_eq!(
            config.sync.lookback_for("Account"),
            Lookback::Since(Duration::ZERO)
        );
        assert_eq!(
            config.sync.lookback_for("InvoiceItem"),
            Lookback::Since(Duration::from_secs(14 * 86_400))
        );
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let err = parse(
            r#"
            [zuora]
            page_size = 500
            [warehouse]
            kind = "duckdb"
            host = "x"
            [sync]
            lag = "soon"
        "#,
        )
        .unwrap_err();
        let text = err.to_string();
        for expected in [
            "missing required key [zuora] base_url",
            "missing required key [zuora] client_id",
            "page_size = 500",
            "[warehouse] host applies only",
            "[sync] lag = \"soon\"",
        ] {
            assert!(text.contains(expected), "{expected:?} not in {text}");
        }
        assert_eq!(err.exit_code(), crate::error::exit::CONFIG);
    }

    #[test]
    fn unknown_keys_are_named() {
        let err = parse(&format!("{MINIMAL}\nbase_uri = \"x\"")).unwrap_err();
        assert!(err.to_string().contains("base_uri"), "{err}");
    }

    #[test]
    fn a_missing_secret_is_a_problem_only_when_needed() {
        let path = Path::new("/etc/zs/zuora-sync.toml");
        let empty = |_: &str| None;
        let err = Config::parse_with(MINIMAL, path, Needs::ZUORA, &empty).unwrap_err();
        assert!(err.to_string().contains(ZUORA_SECRET_VAR), "{err}");
        assert!(Config::parse_with(MINIMAL, path, Needs::NOTHING, &empty).is_ok());
        let set = |v: &str| (v == ZUORA_SECRET_VAR).then(|| "s3cret".to_string());
        let config = Config::parse_with(MINIMAL, path, Needs::ZUORA, &set).unwrap();
        assert_eq!(config.zuora.client_secret.unwrap().expose(), "s3cret");
    }

    #[test]
    fn databricks_paths_and_staging_are_checked() {
        let base = r#"
            [zuora]
            base_url = "https://rest.zuora.com"
            client_id = "abc"
            [warehouse]
            kind = "databricks"
            host = "dbc-1234.cloud.databricks.com"
            catalog = "main"
        "#;
        let ok = parse(&format!(
            "{base}http_path = \"/sql/1.0/warehouses/abcdef0123456789\"\n\
             [staging]\nurl = \"/Volumes/main/zuora/zuora_sync_staging\""
        ))
        .unwrap();
        let WarehouseConfig::Databricks(d) = ok.warehouse else {
            panic!("not databricks")
        };
        assert_eq!(d.warehouse_id, "abcdef0123456789");
        assert_eq!(d.host.as_str(), "https://dbc-1234.cloud.databricks.com/");

        let cluster = parse(&format!(
            "{base}http_path = \"/sql/protocolv1/o/123/0123-456789-abc\"\n\
             [staging]\nurl = \"/Volumes/main/zuora/v\""
        ))
        .unwrap_err();
        assert!(
            cluster.to_string().contains("all-purpose cluster"),
            "{cluster}"
        );

        let local = parse(&format!("{base}http_path = \"/sql/1.0/endpoints/abc\"")).unwrap_err();
        assert!(
            local.to_string().contains("cannot read a local folder"),
            "{local}"
        );
    }

    #[test]
    fn plain_http_is_for_loopback_only() {
        let text = |host: &str| {
            format!(
                "{MINIMAL}[warehouse]\nkind = \"databricks\"\nhost = \"{host}\"\n\
                 http_path = \"/sql/1.0/warehouses/w1\"\n[staging]\nurl = \"/Volumes/a/b/c\""
            )
        };
        assert!(parse(&text("http://127.0.0.1:9000")).is_ok());
        let err = parse(&text("http://dbc.example.com")).unwrap_err();
        assert!(err.to_string().contains("must use https"), "{err}");
    }
}
