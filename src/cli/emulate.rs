//! `zuora-sync emulate ...`: the emulators that ship with the binary, on loopback, until
//! Ctrl-C. Each prints one JSON line with its URL and credentials on stdout.

use std::net::SocketAddr;

use clap::{Args, Subcommand};

use crate::emulator::zuora::{Emulator, Options};
use crate::error::{Error, Result, exit};

#[derive(Subcommand, Debug)]
pub(super) enum EmulateCommand {
    /// A Zuora tenant with a seeded synthetic data set.
    Zuora(ZuoraArgs),
    /// A Databricks workspace: OAuth and tokens, a SQL warehouse, a Unity Catalog volume and
    /// enforced grants, executing SQL on an embedded DuckDB.
    #[cfg(feature = "duckdb")]
    Databricks(DatabricksArgs),
}

#[cfg(feature = "duckdb")]
#[derive(Args, Debug)]
pub(super) struct DatabricksArgs {
    /// Address to listen on; port 0 picks a free one.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// How long a stopped warehouse takes to start, in milliseconds.
    #[arg(long, default_value_t = 0)]
    cold_start_ms: u64,
    /// Start with the warehouse stopped.
    #[arg(long)]
    stopped: bool,
    /// An S3 endpoint that `COPY INTO ... FROM 's3://...'` reads from (Hive metastore mode).
    #[arg(long)]
    s3_endpoint: Option<String>,
}

#[derive(Args, Debug)]
pub(super) struct ZuoraArgs {
    /// Address to listen on; port 0 picks a free one.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Seed of the synthetic data set; the same seed gives the same tenant.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Number of accounts; every other object scales with it.
    #[arg(long, default_value_t = 100)]
    accounts: usize,
}

pub(super) async fn run(command: EmulateCommand) -> Result<i32> {
    match command {
        EmulateCommand::Zuora(args) => zuora(args).await,
        #[cfg(feature = "duckdb")]
        EmulateCommand::Databricks(args) => databricks(args).await,
    }
}

async fn zuora(args: ZuoraArgs) -> Result<i32> {
    let options = Options {
        listen: args.listen,
        seed: args.seed,
        accounts: args.accounts,
        ..Options::default()
    };
    let emulator = Emulator::start(options)
        .await
        .map_err(|e| Error::io(format!("starting the Zuora emulator on {}", args.listen), e))?;
    let line = serde_json::json!({
        "url": emulator.url(),
        "client_id": emulator.client_id(),
        "client_secret": emulator.client_secret(),
        "objects": emulator.objects(),
    });
    println!("{line}");
    tracing::info!(url = %emulator.url(), "Zuora emulator running; Ctrl-C stops it");
    let _ = tokio::signal::ctrl_c().await;
    emulator.shutdown().await;
    Ok(exit::SUCCESS)
}

#[cfg(feature = "duckdb")]
async fn databricks(args: DatabricksArgs) -> Result<i32> {
    use crate::emulator::databricks::{Emulator, Options};
    let options = Options {
        listen: args.listen,
        cold_start: std::time::Duration::from_millis(args.cold_start_ms),
        initially_stopped: args.stopped,
        s3_endpoint: args.s3_endpoint,
        ..Options::default()
    };
    let emulator = Emulator::start(options).await.map_err(|e| {
        Error::io(
            format!("starting the Databricks emulator on {}", args.listen),
            e,
        )
    })?;
    println!("{}", emulator.connection_json());
    tracing::info!(host = %emulator.host(), "Databricks emulator running; Ctrl-C stops it");
    let _ = tokio::signal::ctrl_c().await;
    emulator.shutdown().await;
    Ok(exit::SUCCESS)
}
