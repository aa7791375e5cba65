//! `zuora-sync sync`: one run of the engine, its summary as a table or as one JSON document on
//! stdout, and the exit code that the run's outcome maps to.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::Args;

use crate::config::{Config, Needs};
use crate::engine::{self, DryRun, RunSummary, SyncOptions};
use crate::error::{Error, Result};
use crate::telemetry::Progress;

#[derive(Args, Debug)]
pub(super) struct SyncArgs {
    /// Print the run summary as one JSON document on stdout.
    #[arg(long)]
    json: bool,
    /// Sync only these objects (Describe names, comma-separated).
    #[arg(long, value_delimiter = ',')]
    objects: Option<Vec<String>>,
    /// Forget what was synced of these objects (comma-separated) and read them whole again;
    /// rows already loaded are merged, not duplicated.
    #[arg(long, value_delimiter = ',', value_name = "OBJECTS")]
    full_refresh: Vec<String>,
    /// Show the windows the sync would read, and read nothing.
    #[arg(long)]
    dry_run: bool,
}

pub(super) async fn run(config_path: &Path, args: SyncArgs, progress: Progress) -> Result<i32> {
    let needs = if args.dry_run {
        Needs::ZUORA
    } else {
        Needs::EVERYTHING
    };
    let config = Config::load(config_path, needs)?;
    let options = SyncOptions {
        objects: args.objects,
        full_refresh: args.full_refresh,
    };
    if args.dry_run {
        let plan = engine::dry_run(&config, &options).await?;
        print_plan(&plan, args.json);
        return Ok(crate::error::exit::SUCCESS);
    }
    let summary = run_with_signals(&config, &options, progress).await?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&summary).expect("summaries serialise")
        );
    } else {
        print_summary(&summary);
    }
    Ok(summary.exit_code)
}

/// Runs a sync that stops after the current page on SIGINT or SIGTERM. The handlers are in
/// place before the sync starts, so a signal at any moment of the run is caught.
pub(super) async fn run_with_signals(
    config: &Config,
    options: &SyncOptions,
    progress: Progress,
) -> Result<RunSummary> {
    use tokio::signal::unix::{SignalKind, signal};
    let listen = |kind| signal(kind).map_err(|e| Error::io("installing a signal handler", e));
    let (mut interrupt, mut terminate) = (
        listen(SignalKind::interrupt())?,
        listen(SignalKind::terminate())?,
    );
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let watcher = tokio::spawn(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
        tracing::warn!("Stopping after the current page; the checkpoint stays consistent");
        flag.store(true, Ordering::SeqCst);
    });
    let summary = engine::sync(config, options, stop, progress).await;
    watcher.abort();
    summary
}

fn print_plan(plan: &DryRun, json: bool) {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(plan).expect("plans serialise")
        );
        return;
    }
    let show = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map_or("-".to_string(), |t| {
            t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
        })
    };
    println!("Zuora's clock: {}", show(Some(plan.now)));
    for object in &plan.objects {
        println!(
            "{} ({}, watermark {})",
            object.object,
            object.status,
            show(object.watermark)
        );
        let windows = object.resumed.iter().map(|w| ("resume", w));
        for (what, w) in windows.chain(object.planned.iter().map(|w| ("read", w))) {
            let ids = match (&w.id_start, &w.id_end) {
                (None, None) => String::new(),
                (a, b) => format!(
                    " ids [{}, {})",
                    a.as_deref().unwrap_or(""),
                    b.as_deref().unwrap_or("")
                ),
            };
            println!(
                "    {what:<7} {:<12} [{}, {}){ids}  {} pages read",
                w.phase,
                show(w.start),
                show(w.end),
                w.pages_read
            );
        }
        if object.resumed.is_empty() && object.planned.is_empty() {
            println!("    up to date");
        }
    }
}

pub(super) fn print_summary(summary: &RunSummary) {
    println!(
        "{:<24} {:<7} {:>10} {:>7} {:>6} {:>10} {:>8}  watermark",
        "object", "status", "rows", "pages", "files", "changed", "seconds"
    );
    for (name, o) in &summary.objects {
        let s = &o.seconds;
        let seconds = s.fetch + s.decode + s.write + s.stage + s.copy + s.merge;
        let watermark = o
            .watermark_after
            .map(|w| w.to_rfc3339())
            .unwrap_or_else(|| "-".into());
        println!(
            "{name:<24} {:<7} {:>10} {:>7} {:>6} {:>10} {seconds:>8.1}  {watermark}",
            o.status, o.rows, o.pages, o.files, o.rows_changed
        );
        if let Some(error) = &o.error {
            println!("  error: {error}");
        }
    }
    if let Some(error) = &summary.error {
        println!("error: {error}");
    }
    println!(
        "run {} {} in {:.1} s",
        summary.run_id, summary.status, summary.seconds
    );
}
