//! The configuration file as written, before validation: every key optional, unknown keys
//! rejected, and `resolve` turning it into a `Config` while collecting every problem.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use url::Url;

use super::*;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    zuora: Option<RawZuora>,
    warehouse: Option<RawWarehouse>,
    staging: Option<RawStaging>,
    state: Option<RawState>,
    sync: Option<RawSync>,
    #[serde(default)]
    objects: BTreeMap<String, RawObject>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawZuora {
    base_url: Option<String>,
    client_id: Option<String>,
    objects: Option<Vec<String>>,
    #[serde(default)]
    exclude_objects: Vec<String>,
    page_size: Option<u32>,
    max_concurrency: Option<usize>,
    zuora_version: Option<String>,
    entity_ids: Option<String>,
    request_timeout: Option<String>,
    max_retries: Option<u32>,
    retry_budget: Option<String>,
    unknown_fields: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawWarehouse {
    kind: Option<String>,
    path: Option<String>,
    schema: Option<String>,
    host: Option<String>,
    http_path: Option<String>,
    catalog: Option<String>,
    metastore: Option<String>,
    client_id: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawStaging {
    url: Option<String>,
    keep_staged_files: Option<bool>,
    file_target_mb: Option<u64>,
    region: Option<String>,
    endpoint: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawState {
    path: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSync {
    lag: Option<String>,
    lookback: Option<String>,
    start_date: Option<String>,
    max_parallel_objects: Option<usize>,
    max_parallel_windows: Option<usize>,
    backfill_windows: Option<usize>,
    deletes: Option<String>,
    delete_check_interval: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawObject {
    lookback: Option<String>,
}

/// Zuora's limit is 80 concurrent Object Query requests per tenant, shared with every other
/// integration of the tenant; 16 leaves most of it to them.
const DEFAULT_CONCURRENCY: usize = 16;
const MAX_PAGE_SIZE: u32 = 99;
/// The date-formatted minor version this client was written against.
const DEFAULT_ZUORA_VERSION: &str = "2025-08-12";

impl RawConfig {
    pub(super) fn resolve(
        self,
        file: &Path,
        dir: &Path,
        needs: Needs,
        env: Env<'_>,
        problems: &mut Problems,
    ) -> Option<Config> {
        let zuora = resolve_zuora(self.zuora.unwrap_or_default(), needs, env, problems);
        let warehouse = resolve_warehouse(
            self.warehouse.unwrap_or_default(),
            dir,
            needs,
            env,
            problems,
        );
        let staging = resolve_staging(self.staging.unwrap_or_default(), dir, env, problems);
        let state = StateConfig {
            path: resolve_path(
                dir,
                self.state.and_then(|s| s.path).as_deref(),
                "checkpoint.db",
            ),
        };
        let sync = resolve_sync(self.sync.unwrap_or_default(), self.objects, problems);
        if let (Some(warehouse), Some(staging)) = (&warehouse, &staging) {
            check_staging_fits(warehouse, staging, problems);
        }
        Some(Config {
            file: file.to_path_buf(),
            zuora: zuora?,
            warehouse: warehouse?,
            staging: staging?,
            state,
            sync: sync?,
        })
    }
}

fn required(value: Option<String>, key: &str, problems: &mut Problems) -> Option<String> {
    match value {
        Some(v) if !v.trim().is_empty() => Some(v),
        _ => {
            problems.push(format!("missing required key {key}"));
            None
        }
    }
}

fn resolve_path(dir: &Path, value: Option<&str>, default: &str) -> PathBuf {
    let path = Path::new(value.unwrap_or(default));
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        dir.join(path)
    }
}

fn resolve_zuora(
    raw: RawZuora,
    needs: Needs,
    env: Env<'_>,
    problems: &mut Problems,
) -> Option<ZuoraConfig> {
    let base_url = required(raw.base_url, "[zuora] base_url", problems).and_then(|text| {
        Url::parse(&text)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .or_else(|| {
                problems.push(format!("[zuora] base_url = {text:?} is not an http(s) URL"));
                None
            })
    });
    let client_id = required(raw.client_id, "[zuora] client_id", problems);
    let client_secret = secret(env, ZUORA_SECRET_VAR);
    if needs.zuora && client_secret.is_none() {
        problems.push(format!(
            "the environment variable {ZUORA_SECRET_VAR} is not set \
             (the secret of [zuora] client_id)"
        ));
    }
    let page_size = raw.page_size.unwrap_or(MAX_PAGE_SIZE);
    if !(1..=MAX_PAGE_SIZE).contains(&page_size) {
        problems.push(format!(
            "[zuora] page_size = {page_size} must be between 1 and 99"
        ));
    }
    let max_concurrency = raw.max_concurrency.unwrap_or(DEFAULT_CONCURRENCY);
    if !(1..=80).contains(&max_concurrency) {
        problems.push(format!(
            "[zuora] max_concurrency = {max_concurrency} must be between 1 and 80 \
             (Zuora's Object Query limit per tenant)"
        ));
    }
    let ignore_unknown_fields = match raw.unknown_fields.as_deref() {
        None | Some("error") => false,
        Some("ignore") => true,
        Some(other) => {
            problems.push(format!(
                "[zuora] unknown_fields = {other:?} must be \"error\" or \"ignore\""
            ));
            false
        }
    };
    let request_timeout = match raw.request_timeout {
        Some(t) => parse_duration("[zuora] request_timeout", &t, problems),
        // Zuora's gateway gives up after 120 s; waiting a little longer sees its 504.
        None => Some(Duration::from_secs(150)),
    };
    let retry_budget = match raw.retry_budget {
        Some(t) => parse_duration("[zuora] retry_budget", &t, problems),
        None => Some(Duration::from_secs(15 * 60)),
    };
    Some(ZuoraConfig {
        base_url: base_url?,
        client_id: client_id?,
        client_secret,
        objects: raw.objects,
        exclude_objects: raw.exclude_objects,
        page_size,
        max_concurrency,
        zuora_version: raw
            .zuora_version
            .unwrap_or_else(|| DEFAULT_ZUORA_VERSION.to_string()),
        entity_ids: raw.entity_ids,
        request_timeout: request_timeout?,
        max_retries: raw.max_retries.unwrap_or(8),
        retry_budget: retry_budget?,
        ignore_unknown_fields,
    })
}

fn resolve_warehouse(
    raw: RawWarehouse,
    dir: &Path,
    needs: Needs,
    env: Env<'_>,
    problems: &mut Problems,
) -> Option<WarehouseConfig> {
    let schema = raw.schema.clone().unwrap_or_else(|| "zuora".to_string());
    if !is_identifier(&schema) {
        problems.push(format!(
            "[warehouse] schema = {schema:?} must be letters, digits and underscores"
        ));
    }
    match raw.kind.as_deref().unwrap_or("duckdb") {
        "duckdb" => {
            let foreign = [
                ("host", raw.host.is_some()),
                ("http_path", raw.http_path.is_some()),
                ("catalog", raw.catalog.is_some()),
                ("metastore", raw.metastore.is_some()),
                ("client_id", raw.client_id.is_some()),
            ];
            for (key, _) in foreign.iter().filter(|(_, set)| *set) {
                problems.push(format!(
                    "[warehouse] {key} applies only to kind = \"databricks\""
                ));
            }
            let path = resolve_path(dir, raw.path.as_deref(), "warehouse.duckdb");
            Some(WarehouseConfig::DuckDb { path, schema })
        }
        "databricks" => {
            resolve_databricks(raw, schema, needs, env, problems).map(WarehouseConfig::Databricks)
        }
        other => {
            problems.push(format!(
                "[warehouse] kind = {other:?} must be \"duckdb\" or \"databricks\""
            ));
            None
        }
    }
}

fn resolve_databricks(
    raw: RawWarehouse,
    schema: String,
    needs: Needs,
    env: Env<'_>,
    problems: &mut Problems,
) -> Option<DatabricksConfig> {
    if raw.path.is_some() {
        problems.push("[warehouse] path applies only to kind = \"duckdb\"");
    }
    let host = required(raw.host, "[warehouse] host", problems).and_then(|text| {
        let with_scheme = if text.contains("://") {
            text.clone()
        } else {
            format!("https://{text}")
        };
        match Url::parse(&with_scheme) {
            Ok(url) if url.scheme() == "https" => Some(url),
            Ok(url) if url.scheme() == "http" && is_loopback(&url) => Some(url),
            Ok(_) => {
                problems.push(format!(
                    "[warehouse] host = {text:?} must use https \
                     (http is accepted for loopback only)"
                ));
                None
            }
            Err(e) => {
                problems.push(format!(
                    "[warehouse] host = {text:?} is not a host name: {e}"
                ));
                None
            }
        }
    });
    let http_path = required(raw.http_path, "[warehouse] http_path", problems);
    let warehouse_id = http_path.as_deref().and_then(|p| match warehouse_id(p) {
        Ok(id) => Some(id),
        Err(problem) => {
            problems.push(problem);
            None
        }
    });
    let catalog = raw.catalog.unwrap_or_else(|| "main".to_string());
    let metastore = match raw.metastore.as_deref().unwrap_or("unity_catalog") {
        "unity_catalog" => Metastore::UnityCatalog,
        "hive" => Metastore::Hive,
        other => {
            problems.push(format!(
                "[warehouse] metastore = {other:?} must be \"unity_catalog\" or \"hive\""
            ));
            return None;
        }
    };
    let auth = match raw.client_id {
        Some(client_id) => {
            let client_secret = secret(env, DATABRICKS_SECRET_VAR);
            if needs.warehouse && client_secret.is_none() {
                problems.push(format!(
                    "the environment variable {DATABRICKS_SECRET_VAR} is not set \
                     (the OAuth secret of [warehouse] client_id)"
                ));
            }
            DatabricksAuth::OAuth {
                client_id,
                client_secret,
            }
        }
        None => {
            let token = secret(env, DATABRICKS_TOKEN_VAR);
            if needs.warehouse && token.is_none() {
                problems.push(format!(
                    "no Databricks credentials: set [warehouse] client_id and \
                     {DATABRICKS_SECRET_VAR} for a service principal, or {DATABRICKS_TOKEN_VAR} \
                     for a personal access token"
                ));
            }
            DatabricksAuth::Token(token)
        }
    };
    Some(DatabricksConfig {
        host: host?,
        http_path: http_path?,
        warehouse_id: warehouse_id?,
        catalog,
        schema,
        metastore,
        auth,
    })
}

/// The warehouse id is the last segment of a SQL warehouse's HTTP path.
pub(crate) fn warehouse_id(http_path: &str) -> std::result::Result<String, String> {
    let segments: Vec<&str> = http_path.trim_matches('/').split('/').collect();
    match segments.as_slice() {
        ["sql", "1.0", "warehouses" | "endpoints", id] if is_identifier(id) => Ok(id.to_string()),
        ["sql", "protocolv1", ..] => Err(format!(
            "[warehouse] http_path = {http_path:?} is an all-purpose cluster; zuora-sync needs a \
             SQL warehouse (Connection details of a SQL warehouse show /sql/1.0/warehouses/<id>)"
        )),
        _ => Err(format!(
            "[warehouse] http_path = {http_path:?} is not a SQL warehouse path like \
             /sql/1.0/warehouses/<id>"
        )),
    }
}

fn resolve_staging(
    raw: RawStaging,
    dir: &Path,
    env: Env<'_>,
    problems: &mut Problems,
) -> Option<StagingConfig> {
    let url = raw.url.unwrap_or_else(|| "staging".to_string());
    if raw.endpoint.is_some() && !url.starts_with("s3://") {
        problems.push("[staging] endpoint applies only to s3:// staging");
    }
    let location = if let Some(rest) = url.strip_prefix("s3://") {
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            problems.push(format!("[staging] url = {url:?} names no bucket"));
        }
        let Some(region) = raw.region.or_else(|| env("AWS_REGION")) else {
            problems.push("[staging] region is required for s3:// staging (or set AWS_REGION)");
            return None;
        };
        StagingLocation::S3(S3Location {
            bucket: bucket.to_string(),
            prefix: prefix.trim_matches('/').to_string(),
            region,
            endpoint: raw.endpoint,
        })
    } else if url.starts_with("/Volumes/") {
        if url.trim_matches('/').split('/').count() < 4 {
            problems.push(format!(
                "[staging] url = {url:?} must be /Volumes/<catalog>/<schema>/<volume>[/<prefix>]"
            ));
        }
        StagingLocation::Volume(url.trim_end_matches('/').to_string())
    } else if let Some(path) = url.strip_prefix("file://") {
        if !Path::new(path).is_absolute() {
            problems.push(format!(
                "[staging] url = {url:?}: a file:// URL needs an absolute path"
            ));
        }
        StagingLocation::Local(PathBuf::from(path))
    } else if url.contains("://") {
        problems.push(format!(
            "[staging] url = {url:?}: use a local path, file://, s3:// or /Volumes/..."
        ));
        return None;
    } else {
        StagingLocation::Local(resolve_path(dir, Some(&url), "staging"))
    };
    let target_mb = raw.file_target_mb.unwrap_or(128);
    if !(1..=4096).contains(&target_mb) {
        problems.push(format!(
            "[staging] file_target_mb = {target_mb} must be 1..=4096"
        ));
    }
    Some(StagingConfig {
        location,
        keep_staged_files: raw.keep_staged_files.unwrap_or(false),
        file_target_bytes: target_mb * 1024 * 1024,
    })
}

fn check_staging_fits(
    warehouse: &WarehouseConfig,
    staging: &StagingConfig,
    problems: &mut Problems,
) {
    let fits = match (warehouse, &staging.location) {
        (WarehouseConfig::DuckDb { .. }, StagingLocation::Volume(_)) => {
            Err("a Unity Catalog volume needs kind = \"databricks\"")
        }
        (WarehouseConfig::Databricks(d), StagingLocation::Local(_)) => Err(match d.metastore {
            Metastore::UnityCatalog => {
                "Databricks cannot read a local folder; stage in a volume \
                                        (url = \"/Volumes/<catalog>/<schema>/<volume>\")"
            }
            Metastore::Hive => {
                "Databricks cannot read a local folder; stage in S3 \
                                (url = \"s3://bucket/prefix\")"
            }
        }),
        (WarehouseConfig::Databricks(d), StagingLocation::S3(_))
            if d.metastore == Metastore::UnityCatalog =>
        {
            Err("s3:// staging is for metastore = \"hive\"; with Unity Catalog stage in a volume")
        }
        (WarehouseConfig::Databricks(d), StagingLocation::Volume(_))
            if d.metastore == Metastore::Hive =>
        {
            Err("metastore = \"hive\" cannot read Unity Catalog volumes; stage in s3://")
        }
        _ => Ok(()),
    };
    if let Err(problem) = fits {
        problems.push(format!("[staging] url: {problem}"));
    }
}

fn resolve_sync(
    raw: RawSync,
    objects: BTreeMap<String, RawObject>,
    problems: &mut Problems,
) -> Option<SyncConfig> {
    let lag = match raw.lag {
        Some(t) => parse_duration("[sync] lag", &t, problems),
        // Zuora's query index is eventually consistent; five minutes is what peers use.
        None => Some(Duration::from_secs(5 * 60)),
    };
    let lookback = match raw.lookback {
        Some(t) => parse_lookback("[sync] lookback", &t, problems),
        None => Some(Lookback::Since(Duration::ZERO)),
    };
    let start = match raw.start_date {
        Some(t) => Some(parse_instant("[sync] start_date", &t, problems)?),
        None => None,
    };
    let deletes = match raw.deletes.as_deref() {
        None | Some("data_query") => true,
        Some("off") => false,
        Some(other) => {
            problems.push(format!(
                "[sync] deletes = {other:?} must be \"data_query\" or \"off\""
            ));
            false
        }
    };
    let delete_check_interval = match raw.delete_check_interval {
        Some(t) => parse_duration("[sync] delete_check_interval", &t, problems),
        None => Some(Duration::from_secs(3600)),
    };
    let overrides = objects
        .into_iter()
        .map(|(object, raw)| {
            let key = format!("[objects.{object}] lookback");
            let lookback = raw
                .lookback
                .and_then(|t| parse_lookback(&key, &t, problems));
            (object, ObjectOverrides { lookback })
        })
        .collect();
    let windows = raw.max_parallel_windows.unwrap_or(8);
    if !(1..=80).contains(&windows) {
        problems.push(format!(
            "[sync] max_parallel_windows = {windows} must be 1..=80"
        ));
    }
    Some(SyncConfig {
        lag: lag?,
        lookback: lookback?,
        start,
        max_parallel_objects: raw.max_parallel_objects.unwrap_or(4).max(1),
        max_parallel_windows: windows,
        backfill_windows: raw.backfill_windows.unwrap_or(windows).clamp(1, 1024),
        deletes,
        delete_check_interval: delete_check_interval?,
        objects: overrides,
    })
}

/// A duration, or `"all"`: re-read the whole object on every run.
fn parse_lookback(key: &str, text: &str, problems: &mut Problems) -> Option<Lookback> {
    if text == "all" {
        return Some(Lookback::All);
    }
    parse_duration(key, text, problems).map(Lookback::Since)
}

/// A secret from the environment; an empty variable counts as unset.
fn secret(env: Env<'_>, variable: &str) -> Option<Secret> {
    env(variable).filter(|v| !v.is_empty()).map(Secret::new)
}

fn is_identifier(text: &str) -> bool {
    !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}
