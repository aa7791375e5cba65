//! `zuora-sync demo`: the whole job with no account anywhere. It starts the Zuora emulator in
//! this process, writes a configuration into the demo folder, syncs every object into
//! `warehouse.duckdb` there, and prints the status table.

use std::path::PathBuf;

use clap::Args;

use crate::checkpoint::Checkpoint;
use crate::config::{Config, Needs, Secret, template};
use crate::emulator::zuora::{Emulator, Options};
use crate::engine::SyncOptions;
use crate::error::{Error, Result, exit};

#[derive(Args, Debug)]
pub(super) struct DemoArgs {
    /// The folder for the configuration, checkpoint, staging and DuckDB file.
    #[arg(long, default_value = "zuora-sync-demo")]
    dir: PathBuf,
    /// Number of emulated accounts; every other object scales with it.
    #[arg(long, default_value_t = 200)]
    accounts: usize,
}

pub(super) async fn run(args: DemoArgs, progress: crate::telemetry::Progress) -> Result<i32> {
    std::fs::create_dir_all(&args.dir)
        .map_err(|e| Error::io(format!("creating {}", args.dir.display()), e))?;
    let emulator = Emulator::start(Options {
        accounts: args.accounts,
        ..Options::default()
    })
    .await
    .map_err(|e| Error::io("starting the Zuora emulator", e))?;
    println!(
        "Zuora emulator at {} ({} accounts)",
        emulator.url(),
        args.accounts
    );

    let config_path = args.dir.join("zuora-sync.toml");
    std::fs::write(
        &config_path,
        template(&emulator.url(), emulator.client_id()),
    )
    .map_err(|e| Error::io(format!("writing {}", config_path.display()), e))?;
    let mut config = Config::load(&config_path, Needs::NOTHING)?;
    // The emulator's secret is handed over in memory, as ZUORA_CLIENT_SECRET would be.
    config.zuora.client_secret = Some(Secret::new(emulator.client_secret()));
    // The emulated tenant's data is all in the past; no need to wait for Zuora's index.
    config.sync.lag = std::time::Duration::ZERO;

    let summary = super::sync::run_with_signals(&config, &SyncOptions::default(), progress).await?;
    super::sync::print_summary(&summary);
    println!();
    super::status::print(&Checkpoint::open(&config.state.path)?, false)?;
    let duckdb = match &config.warehouse {
        crate::config::WarehouseConfig::DuckDb { path, .. } => path.display().to_string(),
        crate::config::WarehouseConfig::Databricks(_) => unreachable!("the demo writes DuckDB"),
    };
    println!("\nQuery the result: duckdb {duckdb} \"SELECT * FROM zuora.account LIMIT 5\"");
    println!(
        "The configuration in {} points at this demo's emulator, which stops now.",
        config_path.display()
    );
    emulator.shutdown().await;
    Ok(if summary.exit_code == exit::SUCCESS {
        exit::SUCCESS
    } else {
        summary.exit_code
    })
}
