//! The whole job as a user runs it: the `zuora-sync` binary syncs an emulated tenant (the Zuora
//! emulator, in this process) into a fresh DuckDB file, and the run is measured from outside.
//!
//! Each scenario reports the rows loaded (and read), wall seconds, rows/s, the sync process's
//! own peak memory (its `ru_maxrss`; the emulator's tenant lives in this process, not in it),
//! and the seconds its JSON summary gives per stage, summed over objects (stages of different
//! objects overlap, so the sums can exceed the wall time).
//!
//! - `ceiling`: pages answered at once. The engine against the machine: the emulator and the
//!   sync share its cores.
//! - `zuora-300ms`: every Object Query page answered after 300 ms, Zuora's typical page time,
//!   at the default settings and with more windows in flight, to show what the parallelism
//!   settings buy when the source is the bound.
//!
//! `cargo bench --bench end_to_end [-- FILTER]` runs the scenarios whose name contains FILTER.
//! `ZUORA_SYNC_BENCH_ACCOUNTS` sets the tenant's size: the default, 12 400 accounts, is about
//! 350 k rows over 11 objects, the size of the tenant the peer figure of the docs was taken on.

use std::fs::File;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use zuora_sync::emulator::zuora::{Emulator, Faults, Options};

const DEFAULT_ACCOUNTS: usize = 12_400;
const ZUORA_PAGE_TIME: Duration = Duration::from_millis(300);

struct Scenario {
    name: &'static str,
    page_delay: Option<Duration>,
    /// Extra `[zuora]` and `[sync]` keys, as TOML lines.
    zuora_keys: &'static str,
    sync_keys: &'static str,
}

const SCENARIOS: [Scenario; 4] = [
    Scenario {
        name: "ceiling/defaults",
        page_delay: None,
        zuora_keys: "",
        sync_keys: "",
    },
    Scenario {
        name: "zuora-300ms/defaults",
        page_delay: Some(ZUORA_PAGE_TIME),
        zuora_keys: "",
        sync_keys: "",
    },
    Scenario {
        name: "zuora-300ms/32-windows",
        page_delay: Some(ZUORA_PAGE_TIME),
        zuora_keys: "max_concurrency = 32\n",
        sync_keys: "max_parallel_windows = 32\n",
    },
    Scenario {
        name: "zuora-300ms/64-windows-8-objects",
        page_delay: Some(ZUORA_PAGE_TIME),
        zuora_keys: "max_concurrency = 64\n",
        sync_keys: "max_parallel_windows = 64\nmax_parallel_objects = 8\n",
    },
];

struct Measured {
    /// Rows merged into the tables: on a first sync, the tenant's rows.
    loaded: u64,
    /// Rows read from Zuora; above `loaded` by the pages that busy-second splits read again.
    read: u64,
    seconds: f64,
    peak_rss_mib: f64,
    /// Seconds per stage of the flow, in its order.
    stages: Vec<(&'static str, f64)>,
}

const STAGES: [&str; 6] = ["fetch", "decode", "write", "stage", "copy", "merge"];

fn main() {
    let filter = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with("--"))
        .unwrap_or_default();
    let accounts = match std::env::var("ZUORA_SYNC_BENCH_ACCOUNTS") {
        Ok(text) => text
            .parse()
            .unwrap_or_else(|_| panic!("ZUORA_SYNC_BENCH_ACCOUNTS={text:?} is not a count")),
        Err(_) => DEFAULT_ACCOUNTS,
    };
    let runtime = tokio::runtime::Runtime::new().expect("a Tokio runtime");
    let emulator = runtime
        .block_on(Emulator::start(Options {
            accounts,
            ..Options::default()
        }))
        .expect("the Zuora emulator starts");
    let tenant_rows: usize = emulator
        .objects()
        .iter()
        .map(|object| emulator.row_count(object))
        .sum();
    println!(
        "tenant: {accounts} accounts, {tenant_rows} rows in {} objects",
        emulator.objects().len()
    );
    println!(
        "{:<34} {:>8} {:>8} {:>8} {:>9} {:>9}   seconds per stage, summed over objects",
        "scenario", "loaded", "read", "seconds", "rows/s", "peak MiB"
    );
    for scenario in SCENARIOS.iter().filter(|s| s.name.contains(&filter)) {
        emulator.set_faults(Faults {
            slow_page: scenario.page_delay.map(|delay| (1, delay)),
            ..Faults::default()
        });
        let measured = run(&emulator, scenario);
        assert_eq!(
            measured.loaded, tenant_rows as u64,
            "{}: the sync loaded {} rows of the tenant's {tenant_rows}",
            scenario.name, measured.loaded
        );
        let stages: Vec<String> = measured
            .stages
            .iter()
            .map(|(stage, seconds)| format!("{stage} {seconds:.1}"))
            .collect();
        println!(
            "{:<34} {:>8} {:>8} {:>8.1} {:>9.0} {:>9.0}   {}",
            scenario.name,
            measured.loaded,
            measured.read,
            measured.seconds,
            measured.loaded as f64 / measured.seconds,
            measured.peak_rss_mib,
            stages.join(", ")
        );
    }
    runtime.block_on(emulator.shutdown());
}

/// One first sync of the whole tenant into a new folder, by the binary, as from cron.
#[expect(
    clippy::zombie_processes,
    reason = "the child is reaped by wait4, which also reports its peak memory"
)]
fn run(emulator: &Emulator, scenario: &Scenario) -> Measured {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let config = dir.path().join("zuora-sync.toml");
    std::fs::write(
        &config,
        format!(
            "[zuora]\nbase_url = \"{}\"\nclient_id = \"{}\"\n{}\n[sync]\nlag = \"0s\"\n{}\n\
             [warehouse]\nkind = \"duckdb\"\n",
            emulator.url(),
            emulator.client_id(),
            scenario.zuora_keys,
            scenario.sync_keys
        ),
    )
    .expect("the configuration is written");
    let summary_path = dir.path().join("summary.json");
    let started = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_zuora-sync"))
        .args(["--quiet", "sync", "--json", "--config"])
        .arg(&config)
        .env("ZUORA_CLIENT_SECRET", emulator.client_secret())
        .stdin(Stdio::null())
        .stdout(File::create(&summary_path).expect("the summary file"))
        .stderr(Stdio::inherit())
        .spawn()
        .expect("zuora-sync starts");
    let (status, peak_rss_kib) = wait_with_peak_memory(child.id());
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(
        status, 0,
        "{}: zuora-sync sync exited {status}",
        scenario.name
    );
    let (loaded, read, stages) = read_summary(&summary_path);
    Measured {
        loaded,
        read,
        seconds,
        peak_rss_mib: peak_rss_kib as f64 / 1024.0,
        stages,
    }
}

/// Waits for the child and returns its exit code and its own peak resident memory in KiB.
fn wait_with_peak_memory(pid: u32) -> (i32, i64) {
    let mut status = 0;
    // SAFETY: rusage is plain data that wait4 fills in; pid is our own unwaited child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid as libc::pid_t, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid as libc::pid_t, "waiting for zuora-sync failed");
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    (code, usage.ru_maxrss)
}

/// Rows loaded, rows read, and seconds per stage summed over objects.
fn read_summary(path: &Path) -> (u64, u64, Vec<(&'static str, f64)>) {
    let text = std::fs::read_to_string(path).expect("the summary is readable");
    let summary: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("the summary is not JSON ({e}): {text}"));
    let objects = summary["objects"].as_object().expect("objects");
    let count = |key: &str| -> u64 {
        objects
            .values()
            .map(|object| object[key].as_u64().expect("row counts"))
            .sum()
    };
    let stages = STAGES
        .iter()
        .map(|&stage| {
            let seconds = objects
                .values()
                .map(|object| object["seconds"][stage].as_f64().expect("seconds"))
                .sum();
            (stage, seconds)
        })
        .collect();
    (count("rows_changed"), count("rows"), stages)
}
