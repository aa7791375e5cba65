//! Logs go to stderr through `tracing` (structured fields, `RUST_LOG` to override), so that
//! stdout carries only what a command prints for people or scripts: tables and JSON.

use tracing_subscriber::EnvFilter;

/// `verbosity`: 0 warnings only, 1 progress (the default), 2 debug.
pub fn init(verbosity: u8) {
    let level = match verbosity {
        0 => "warn",
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
}
