//! Faults that Zuora throws, each ending in an exact sync: 5xx answers, bursts of 429, tokens
//! that expire mid-run, gateway timeouts, cut-off bodies, expired cursors; and a source that
//! stays down ends with exit code 69 after the retry budget.

use std::time::Duration;

use zuora_sync::emulator::zuora::{Bursts, Faults, Throttle};

use crate::support::{Extra, Setup, describe};

const OBJECTS: &[&str] = &["Account", "Invoice", "InvoiceItem"];

async fn setup() -> Setup {
    let extra = Extra {
        zuora: Some("max_retries = 12\nretry_budget = \"2m\"\n".into()),
        sync: "backfill_windows = 2\n".into(),
        ..Extra::default()
    };
    Setup::with(25, Some(OBJECTS), extra).await
}

async fn assert_exact_despite(faults: Faults, kind: &str) {
    let setup = setup().await;
    setup.emulator.set_faults(Faults {
        retry_after: Duration::ZERO,
        ..faults
    });
    setup.sync_ok().await;
    let names: Vec<String> = OBJECTS.iter().map(|o| o.to_string()).collect();
    setup.assert_warehouse_matches(&names);
    let log = setup.emulator.fault_log();
    assert!(
        log.iter().any(|f| format!("{:?}", f.kind).contains(kind)),
        "no {kind} fault was injected: {log:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn ten_percent_5xx_ends_in_an_exact_sync() {
    assert_exact_despite(
        Faults {
            seed: 3,
            http_5xx_rate: 0.1,
            ..Faults::default()
        },
        "Server",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bursts_of_429_end_in_an_exact_sync() {
    let concurrency = Bursts {
        every: 7,
        length: 3,
        answer: Throttle::Concurrency,
    };
    let faults = Faults {
        rate_limit_bursts: Some(concurrency),
        ..Faults::default()
    };
    assert_exact_despite(faults, "Concurrency").await;
    let rate = Bursts {
        every: 9,
        length: 2,
        answer: Throttle::RateLimit,
    };
    let faults = Faults {
        rate_limit_bursts: Some(rate),
        ..Faults::default()
    };
    assert_exact_despite(faults, "RateLimit").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_expiring_mid_run_end_in_an_exact_sync() {
    assert_exact_despite(
        Faults {
            expire_tokens_every_n: Some(5),
            ..Faults::default()
        },
        "Token",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn gateway_timeouts_end_in_an_exact_sync() {
    let faults = Faults {
        gateway_timeout: Some((6, Duration::from_millis(20))),
        ..Faults::default()
    };
    assert_exact_despite(faults, "Gateway").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn cut_off_bodies_end_in_an_exact_sync() {
    assert_exact_despite(
        Faults {
            truncate_every_n: Some(5),
            ..Faults::default()
        },
        "Truncat",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn expired_cursors_restart_from_the_last_committed_second() {
    let setup = setup().await;
    setup.emulator.set_faults(Faults {
        cursor_ttl: Some(Duration::ZERO),
        ..Faults::default()
    });
    // Every cursor is older than zero seconds once the clock moves; it moves between pages.
    setup.emulator.mutate_during_scans(1, 0, 0);
    setup.emulator.advance_clock(Duration::from_secs(1));
    setup.sync_ok().await;
    let names: Vec<String> = OBJECTS.iter().map(|o| o.to_string()).collect();
    setup.assert_warehouse_matches(&names);
    let refused = setup
        .emulator
        .request_log()
        .iter()
        .filter(|r| r.status == 400)
        .count();
    assert!(refused > 0, "some cursor expired and was refused");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_source_that_stays_down_gives_up_with_exit_69() {
    let extra = Extra {
        zuora: Some("max_retries = 2\nretry_budget = \"30s\"\n".into()),
        ..Extra::default()
    };
    let setup = Setup::with(5, Some(&["Account"]), extra).await;
    setup.emulator.set_faults(Faults {
        http_5xx_rate: 1.0,
        ..Faults::default()
    });
    let output = setup.run(&["sync"], &[]).await;
    assert_eq!(output.status.code(), Some(69), "{}", describe(&output));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("Zuora unavailable") && text.contains("retry budget is spent"),
        "{text}"
    );
}
