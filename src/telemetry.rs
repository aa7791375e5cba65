//! What a run shows while it works. Logs go to stderr through `tracing` (structured fields,
//! `RUST_LOG` to override), so that stdout carries only what a command prints for people or
//! scripts: tables and JSON. On a terminal, without `--verbose`, one progress line per object
//! replaces the progress logs; the same counters end up in the run summary.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use tracing_subscriber::EnvFilter;

/// Sets up logging. `verbosity`: 0 warnings only, 1 progress (the default), 2 debug. Returns
/// whether progress lines are shown instead of progress logs.
pub fn init(verbosity: u8) -> bool {
    let bars = verbosity == 1 && std::io::stderr().is_terminal();
    let level = match verbosity {
        0 => "warn",
        1 if bars => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(format!("warn,zuora_sync={level}")));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
    bars
}

/// The progress lines of a run; all of them hidden when not on a terminal.
#[derive(Clone)]
pub struct Progress {
    multi: Option<MultiProgress>,
}

impl Progress {
    pub fn new(show: bool) -> Self {
        let multi = show.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        Self { multi }
    }

    /// A line for one object.
    pub fn object(&self, name: &str) -> ObjectProgress {
        let bar = self.multi.as_ref().map(|multi| {
            let bar = multi.add(ProgressBar::new_spinner());
            bar.set_style(
                ProgressStyle::with_template("{spinner} {prefix:<24} {msg}")
                    .expect("a valid template"),
            );
            bar.set_prefix(name.to_string());
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        ObjectProgress {
            bar,
            rows: Default::default(),
            pages: Default::default(),
        }
    }
}

/// One object's line: rows and pages read, and the stage it is in.
pub struct ObjectProgress {
    bar: Option<ProgressBar>,
    rows: std::sync::atomic::AtomicU64,
    pages: std::sync::atomic::AtomicU64,
}

impl ObjectProgress {
    pub fn page(&self, rows: u64) {
        use std::sync::atomic::Ordering::Relaxed;
        let rows = self.rows.fetch_add(rows, Relaxed) + rows;
        let pages = self.pages.fetch_add(1, Relaxed) + 1;
        if let Some(bar) = &self.bar {
            bar.set_message(format!("reading: {rows} rows, {pages} pages"));
        }
    }

    pub fn stage(&self, what: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(what.to_string());
        }
    }

    pub fn finish(&self, outcome: &str) {
        if let Some(bar) = &self.bar {
            bar.finish_with_message(outcome.to_string());
        }
    }
}
