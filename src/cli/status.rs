//! `zuora-sync status`: each object's status, phase, watermark and pending work, and the last
//! run, read from the checkpoint (safe while a sync runs).

use std::path::Path;

use clap::Args;
use serde::Serialize;

use crate::checkpoint::{Checkpoint, ObjectState, Pending, RunRecord};
use crate::config::{Config, Needs};
use crate::error::{Error, Result, exit};

#[derive(Args, Debug)]
pub(super) struct StatusArgs {
    /// Print the status as one JSON document on stdout.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Status {
    last_run: Option<RunRecord>,
    objects: Vec<ObjectStatus>,
}

#[derive(Serialize)]
struct ObjectStatus {
    #[serde(flatten)]
    state: ObjectState,
    #[serde(flatten)]
    pending: Pending,
}

pub(super) fn run(config_path: &Path, args: StatusArgs) -> Result<i32> {
    let config = Config::load(config_path, Needs::NOTHING)?;
    if !config.state.path.exists() {
        return Err(Error::config(format!(
            "no checkpoint at {}: nothing has been synced with this configuration yet",
            config.state.path.display()
        )));
    }
    let checkpoint = Checkpoint::open(&config.state.path)?;
    print(&checkpoint, args.json)?;
    Ok(exit::SUCCESS)
}

/// Prints the status of every object in `checkpoint`, as a table or as JSON.
pub(super) fn print(checkpoint: &Checkpoint, json: bool) -> Result<()> {
    let objects = checkpoint
        .objects()?
        .into_iter()
        .map(|state| {
            Ok(ObjectStatus {
                pending: checkpoint.pending(&state.object)?,
                state,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let status = Status {
        last_run: checkpoint.last_run()?,
        objects,
    };
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&status).expect("status serialises")
        );
        return Ok(());
    }
    println!(
        "{:<24} {:<12} {:<12} {:<21} {:>10} {:>8}",
        "object", "status", "phase", "watermark", "rows", "pending"
    );
    for o in &status.objects {
        let watermark = o
            .state
            .watermark
            .map(|w| w.format("%Y-%m-%dT%H:%M:%SZ").to_string())
            .unwrap_or_else(|| "-".into());
        println!(
            "{:<24} {:<12} {:<12} {watermark:<21} {:>10} {:>8}",
            o.state.object,
            o.state.status.as_str(),
            o.state.phase.as_str(),
            o.state.rows_merged,
            o.pending.unmerged_files + o.pending.open_windows,
        );
        if let Some(error) = &o.state.last_error {
            println!("  last error: {error}");
        }
    }
    if let Some(run) = &status.last_run {
        println!(
            "last run {} {} (started {})",
            run.run_id,
            run.status,
            run.started_at.to_rfc3339()
        );
    }
    Ok(())
}
