//! The command line: one clap definition that documents every command and flag, dispatch to
//! the commands, and the one place where an error is printed and turned into an exit code.

mod check;
mod demo;
mod discover;
mod emulate;
mod init;
mod state;
mod status;
mod sync;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::error::{Result, exit};

#[derive(Parser, Debug)]
#[command(
    name = "zuora-sync",
    version,
    about = "Copies a Zuora tenant into Databricks or DuckDB"
)]
struct Cli {
    /// The configuration file.
    #[arg(
        long,
        short,
        global = true,
        env = "ZUORA_SYNC_CONFIG",
        default_value = "zuora-sync.toml"
    )]
    config: PathBuf,

    /// More log output on stderr (repeat for debug).
    #[arg(long, short, global = true, action = clap::ArgAction::Count)]
    verbose: u8,

    /// Only warnings and errors on stderr.
    #[arg(long, short, global = true, conflicts_with = "verbose")]
    quiet: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Write an annotated configuration file.
    Init(init::InitArgs),
    /// List the objects and fields that would be synced, with their types.
    Discover(discover::DiscoverArgs),
    /// Walk the permissions checklist: every credential and privilege a sync needs.
    Check(check::CheckArgs),
    /// Sync every selected object: the first run loads everything, later runs what changed.
    Sync(sync::SyncArgs),
    /// Show each object's status, watermark and pending work from the checkpoint.
    Status(status::StatusArgs),
    /// Inspect or reset the checkpoint of objects.
    #[command(subcommand)]
    State(state::StateCommand),
    /// Run a whole sync from an emulated Zuora tenant into a local DuckDB file.
    Demo(demo::DemoArgs),
    /// Run an emulated service on loopback for testing.
    #[command(subcommand)]
    Emulate(emulate::EmulateCommand),
}

/// Runs the command line and returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                exit::USAGE
            } else {
                exit::SUCCESS
            };
        }
    };
    let progress = crate::telemetry::init(if cli.quiet { 0 } else { 1 + cli.verbose });
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return exit::FAILURE;
        }
    };
    match runtime.block_on(run(cli, crate::telemetry::Progress::new(progress))) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    }
}

async fn run(cli: Cli, progress: crate::telemetry::Progress) -> Result<i32> {
    match cli.command {
        Command::Init(args) => init::run(&cli.config, args),
        Command::Discover(args) => discover::run(&cli.config, args).await,
        Command::Sync(args) => sync::run(&cli.config, args, progress).await,
        Command::Check(args) => check::run(&cli.config, args).await,
        Command::Status(args) => status::run(&cli.config, args),
        Command::State(command) => state::run(&cli.config, command),
        Command::Demo(args) => demo::run(args, progress).await,
        Command::Emulate(command) => emulate::run(command).await,
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        super::Cli::command().debug_assert();
    }
}
