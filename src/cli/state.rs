//! `zuora-sync state`: the checkpoint of each object, in detail, and resetting one so that its
//! next sync starts over. A reset asks for confirmation unless `--yes` says so beforehand, and
//! takes the run lock, so it never pulls the state from under a running sync.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

use clap::{Args, Subcommand};
use serde::Serialize;

use crate::checkpoint::{Checkpoint, FileState, RunLock, Window};
use crate::config::{Config, Needs};
use crate::error::{Error, Result, exit};

#[derive(Subcommand, Debug)]
pub(super) enum StateCommand {
    /// Every object with its status, phase, watermark and pending work.
    List(ListArgs),
    /// One object's windows and files not yet merged.
    Show(ShowArgs),
    /// Forget an object's checkpoint: its next sync reads everything again (rows already in
    /// the warehouse are merged, not duplicated).
    Reset(ResetArgs),
}

#[derive(Args, Debug)]
pub(super) struct ListArgs {
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
pub(super) struct ShowArgs {
    /// The object's Describe name.
    object: String,
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
pub(super) struct ResetArgs {
    /// The object's Describe name.
    object: String,
    /// Do not ask for confirmation (for scripts).
    #[arg(long)]
    yes: bool,
}

#[derive(Serialize)]
struct Detail {
    object: String,
    status: String,
    phase: String,
    watermark: Option<chrono::DateTime<chrono::Utc>>,
    rows_merged: u64,
    last_error: Option<String>,
    windows: Vec<WindowDetail>,
    files: Vec<FileDetail>,
}

#[derive(Serialize)]
struct WindowDetail {
    id: i64,
    phase: String,
    state: String,
    start: Option<chrono::DateTime<chrono::Utc>>,
    end: Option<chrono::DateTime<chrono::Utc>>,
    id_start: Option<String>,
    id_end: Option<String>,
    pages: u64,
    rows: u64,
    has_cursor: bool,
}

#[derive(Serialize)]
struct FileDetail {
    name: String,
    state: String,
    rows: u64,
    bytes: u64,
}

pub(super) fn run(config_path: &Path, command: StateCommand) -> Result<i32> {
    let config = Config::load(config_path, Needs::NOTHING)?;
    if !config.state.path.exists() {
        return Err(Error::config(format!(
            "no checkpoint at {}: nothing has been synced with this configuration yet",
            config.state.path.display()
        )));
    }
    match command {
        StateCommand::List(args) => {
            super::status::print(&Checkpoint::open(&config.state.path)?, args.json)?;
            Ok(exit::SUCCESS)
        }
        StateCommand::Show(args) => show(&Checkpoint::open(&config.state.path)?, &args),
        StateCommand::Reset(args) => reset(&config, &args),
    }
}

fn show(checkpoint: &Checkpoint, args: &ShowArgs) -> Result<i32> {
    let state = checkpoint
        .object(&args.object)?
        .ok_or_else(|| unknown(&args.object))?;
    let windows = checkpoint.unmerged_windows(&state.object)?;
    let mut files = Vec::new();
    for file_state in [FileState::Written, FileState::Staged, FileState::Copied] {
        for file in checkpoint.files(&state.object, file_state)? {
            let state = file_state.as_str().to_string();
            files.push(FileDetail {
                name: file.name,
                state,
                rows: file.rows,
                bytes: file.bytes,
            });
        }
    }
    let detail = Detail {
        status: state.status.as_str().to_string(),
        phase: state.phase.as_str().to_string(),
        watermark: state.watermark,
        rows_merged: state.rows_merged,
        last_error: state.last_error,
        windows: windows.iter().map(window_detail).collect(),
        files,
        object: state.object,
    };
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&detail).expect("details serialise")
        );
        return Ok(exit::SUCCESS);
    }
    println!(
        "{}: {}, {} phase",
        detail.object, detail.status, detail.phase
    );
    let watermark = detail.watermark.map_or("none".into(), |w| w.to_rfc3339());
    println!(
        "watermark: {watermark}\nrows merged: {}",
        detail.rows_merged
    );
    if let Some(error) = &detail.last_error {
        println!("last error: {error}");
    }
    for w in &detail.windows {
        println!(
            "window {} {} {}: [{}, {}) {} pages, {} rows{}",
            w.id,
            w.phase,
            w.state,
            w.start.map_or("-".into(), |t| t.to_rfc3339()),
            w.end.map_or("-".into(), |t| t.to_rfc3339()),
            w.pages,
            w.rows,
            if w.has_cursor {
                ", resumes from its cursor"
            } else {
                ""
            }
        );
    }
    for f in &detail.files {
        println!(
            "file {} {}: {} rows, {} bytes",
            f.name, f.state, f.rows, f.bytes
        );
    }
    Ok(exit::SUCCESS)
}

fn window_detail(w: &Window) -> WindowDetail {
    WindowDetail {
        id: w.id,
        phase: w.phase.as_str().to_string(),
        state: format!("{:?}", w.state).to_lowercase(),
        start: w.span.start,
        end: w.span.end,
        id_start: w.span.id_start.clone(),
        id_end: w.span.id_end.clone(),
        pages: w.progress.pages,
        rows: w.progress.rows,
        has_cursor: w.progress.next_page.is_some(),
    }
}

fn reset(config: &Config, args: &ResetArgs) -> Result<i32> {
    let _lock = RunLock::acquire(&config.state.lock_path(), "state reset")?;
    let checkpoint = Checkpoint::open(&config.state.path)?;
    let state = checkpoint
        .object(&args.object)?
        .ok_or_else(|| unknown(&args.object))?;
    if !args.yes && !confirm(&state.object)? {
        println!("Nothing was reset.");
        return Ok(exit::FAILURE);
    }
    checkpoint.reset_object(&state.object)?;
    println!(
        "{} is reset; its next sync reads everything again.",
        state.object
    );
    Ok(exit::SUCCESS)
}

fn confirm(object: &str) -> Result<bool> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(Error::config(format!(
            "state reset {object} needs confirmation; pass --yes when running without a terminal"
        )));
    }
    print!("Reset {object}? Its next sync reads all of it again. Type the object name: ");
    std::io::stdout()
        .flush()
        .map_err(|e| Error::io("writing the prompt", e))?;
    let mut answer = String::new();
    stdin
        .lock()
        .read_line(&mut answer)
        .map_err(|e| Error::io("reading the answer", e))?;
    Ok(answer.trim() == object)
}

fn unknown(object: &str) -> Error {
    Error::config(format!(
        "the checkpoint has no object {object}; `zuora-sync state list` shows them"
    ))
}
