//! The sync engine: takes the run lock, opens the checkpoint, connects to Zuora, staging and the
//! warehouse, discovers the objects and syncs them in parallel (each through `object`), and
//! accounts for the run in a `RunSummary`. A failed object does not stop the others.

mod drift;
mod dry_run;
mod fetch;
mod object;
mod plan;
mod summary;

pub use dry_run::{DryRun, PlannedObject, PlannedWindow, dry_run};
pub use summary::{ObjectSummary, RunSummary, StageSeconds};

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Utc};
use futures::StreamExt;
use tokio::sync::Semaphore;

use crate::checkpoint::{Checkpoint, RunLock};
use crate::config::Config;
use crate::error::{Error, Result, exit};
use crate::schema::ObjectSchema;
use crate::stage::Stage;
use crate::telemetry::Progress;
use crate::warehouse::{Destination, Warehouse};
use crate::zuora::ZuoraClient;

/// What a sync is asked to do beyond the configuration.
#[derive(Debug, Clone, Default)]
pub struct SyncOptions {
    /// Sync only these objects (Describe names), instead of the configured ones.
    pub objects: Option<Vec<String>>,
    /// Forget the checkpoint of these objects first: their sync reads everything again.
    pub full_refresh: Vec<String>,
}

/// Everything the objects of one run share.
pub(crate) struct RunContext {
    pub(crate) config: Config,
    pub(crate) run_id: String,
    pub(crate) started_at: DateTime<Utc>,
    pub(crate) client: ZuoraClient,
    pub(crate) checkpoint: Checkpoint,
    pub(crate) stage: Arc<dyn Stage>,
    pub(crate) warehouse: Arc<dyn Warehouse>,
    pub(crate) window_permits: Semaphore,
    pub(crate) stop: Arc<AtomicBool>,
    pub(crate) progress: Progress,
}

/// A new run id: its start time, readable and sortable, and a random suffix.
pub fn new_run_id(started_at: DateTime<Utc>) -> String {
    format!(
        "{}-{:04x}",
        started_at.format("%Y%m%dT%H%M%SZ"),
        rand::random::<u16>()
    )
}

/// Runs one sync. Errors that stop the whole run (the lock, credentials, an unreachable
/// service) are returned; an object's failure is recorded in its summary.
pub async fn sync(
    config: &Config,
    options: &SyncOptions,
    stop: Arc<AtomicBool>,
    progress: Progress,
) -> Result<RunSummary> {
    let started_at = Utc::now();
    let run_id = new_run_id(started_at);
    let _lock = RunLock::acquire(&config.state.lock_path(), &run_id)?;
    let checkpoint = Checkpoint::open(&config.state.path)?;
    checkpoint.begin_run(&run_id)?;
    tracing::info!(run_id = %run_id, "Sync started");

    let context = match prepare(config, &run_id, started_at, checkpoint, stop, progress).await {
        Ok(context) => context,
        Err((error, checkpoint)) => {
            let _ = checkpoint.finish_run(&run_id, "failed", &error_json(&error));
            return Err(error);
        }
    };
    for object in &options.full_refresh {
        if context.checkpoint.reset_object(object)? {
            tracing::info!(object = %object, "Full refresh: the checkpoint of the object is reset");
        }
    }
    let summary = run_objects(&context, options).await;
    let json = serde_json::to_string(&summary).expect("summaries serialise");
    context
        .checkpoint
        .finish_run(&run_id, &summary.status, &json)?;
    tracing::info!(run_id = %run_id, status = %summary.status, "Sync finished");
    Ok(summary)
}

async fn prepare(
    config: &Config,
    run_id: &str,
    started_at: DateTime<Utc>,
    checkpoint: Checkpoint,
    stop: Arc<AtomicBool>,
    progress: Progress,
) -> std::result::Result<RunContext, (Error, Checkpoint)> {
    let connect =
        || -> Result<_> { Ok((ZuoraClient::new(&config.zuora)?, Destination::open(config)?)) };
    let (client, destination) = match connect() {
        Ok(parts) => parts,
        Err(e) => return Err((e, checkpoint)),
    };
    if let Err(e) = client.authenticate().await {
        return Err((e, checkpoint));
    }
    if let Err(e) = destination.authenticate().await {
        return Err((e, checkpoint));
    }
    let Destination {
        stage, warehouse, ..
    } = destination;
    Ok(RunContext {
        config: config.clone(),
        run_id: run_id.to_string(),
        started_at,
        client,
        checkpoint,
        stage,
        warehouse,
        window_permits: Semaphore::new(config.sync.max_parallel_windows),
        stop,
        progress,
    })
}

async fn run_objects(context: &RunContext, options: &SyncOptions) -> RunSummary {
    let mut summary = RunSummary {
        run_id: context.run_id.clone(),
        status: String::new(),
        started_at: context.started_at,
        finished_at: context.started_at,
        seconds: 0.0,
        warehouse: context.warehouse.describe(),
        staging: context.stage.describe(),
        objects: BTreeMap::new(),
        error: None,
        exit_code: exit::SUCCESS,
    };
    let listed = objects_are_listed(&context.config, options);
    match select_objects(&context.client, &context.config, options).await {
        Ok(names) => {
            let parallel = context.config.sync.max_parallel_objects;
            let results: Vec<(String, ObjectSummary)> = futures::stream::iter(names)
                .map(|name| async move {
                    let outcome = sync_object(context, &name, listed).await;
                    (name, outcome)
                })
                .buffer_unordered(parallel)
                .collect()
                .await;
            summary.objects.extend(results);
            summary.settle();
        }
        Err(e) => {
            summary.status = "failed".to_string();
            summary.exit_code = e.exit_code();
            summary.error = Some(e.to_string());
        }
    }
    if context.stop.load(Ordering::SeqCst) && summary.exit_code != exit::SUCCESS {
        summary.status = "interrupted".to_string();
        summary.exit_code = exit::INTERRUPTED;
    }
    summary.finished_at = Utc::now();
    summary.seconds = (summary.finished_at - summary.started_at).as_seconds_f64();
    summary
}

/// The configured objects, or every object Describe lists, less the excluded ones.
pub(crate) async fn select_objects(
    client: &ZuoraClient,
    config: &Config,
    options: &SyncOptions,
) -> Result<Vec<String>> {
    let zuora = &config.zuora;
    let mut names = match options.objects.clone().or_else(|| zuora.objects.clone()) {
        Some(names) => names,
        None => client.list_objects().await?,
    };
    names.retain(|n| {
        !zuora
            .exclude_objects
            .iter()
            .any(|x| x.eq_ignore_ascii_case(n))
    });
    names.dedup();
    Ok(names)
}

/// Whether the objects come from Describe's list rather than from the configuration. Describe
/// lists objects that Object Query does not serve; those are skipped, not failed, when nobody
/// asked for them by name.
pub(crate) fn objects_are_listed(config: &Config, options: &SyncOptions) -> bool {
    options.objects.is_none() && config.zuora.objects.is_none()
}

async fn sync_object(context: &RunContext, name: &str, listed: bool) -> ObjectSummary {
    let schemas = async {
        let source = describe(&context.client, name).await?;
        let stored = context.checkpoint.object(name)?.and_then(|s| s.schema);
        let table = drift::reconcile(stored.as_ref(), &source)?;
        Ok::<_, Error>((source, table))
    };
    let (source, table) = match schemas.await {
        Ok(schemas) => schemas,
        Err(e @ Error::Unsupported(_)) if listed => return skipped(context, name, &e),
        Err(e) => return failed(ObjectSummary::default(), name, &e),
    };
    let run = object::ObjectRun::new(context, source, table);
    let outcome = run.run().await;
    let (summary, progress) = run.into_summary();
    match outcome {
        Ok(()) => {
            let (rows, changed) = (summary.rows, summary.rows_changed);
            progress.finish(&format!("ok: {rows} rows read, {changed} changed"));
            ObjectSummary {
                status: "ok".to_string(),
                ..summary
            }
        }
        Err(e @ Error::Unsupported(_)) if listed => {
            progress.finish(&format!("skipped: {e}"));
            skipped(context, name, &e)
        }
        Err(e) => {
            progress.finish(&format!("failed: {e}"));
            let _ = context
                .checkpoint
                .discard_unstarted_windows(name, &context.run_id);
            let _ = context.checkpoint.set_error(name, &e.to_string());
            failed(summary, name, &e)
        }
    }
}

pub(crate) async fn describe(client: &ZuoraClient, name: &str) -> Result<ObjectSchema> {
    let described = client.describe(name).await?;
    for skipped in &described.skipped {
        tracing::warn!(object = name, field = %skipped.name, reason = %skipped.reason,
            "Field left out");
    }
    Ok(described.schema)
}

/// An object zuora-sync cannot read, left out of a run that was not asked for it by name. It
/// read nothing, so its checkpoint entry goes too.
fn skipped(context: &RunContext, name: &str, error: &Error) -> ObjectSummary {
    tracing::warn!(object = name, reason = %error, "Object skipped");
    let never_loaded = context
        .checkpoint
        .object(name)
        .ok()
        .flatten()
        .is_some_and(|state| state.watermark.is_none() && state.rows_merged == 0);
    if never_loaded {
        let _ = context.checkpoint.reset_object(name);
    }
    ObjectSummary {
        status: "skipped".to_string(),
        error: Some(error.to_string()),
        ..ObjectSummary::default()
    }
}

fn failed(summary: ObjectSummary, name: &str, error: &Error) -> ObjectSummary {
    tracing::error!(object = name, error = %error, "Object failed");
    ObjectSummary {
        status: "failed".to_string(),
        error: Some(error.to_string()),
        exit_code: error.exit_code(),
        ..summary
    }
}

fn error_json(error: &Error) -> String {
    serde_json::json!({ "status": "failed", "error": error.to_string() }).to_string()
}
