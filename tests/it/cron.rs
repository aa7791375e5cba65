//! Cron safety: two runs never collide (the second exits 75 at once, naming the first), SIGTERM
//! stops a run after the current page with exit 130 and the next run completes exactly, an
//! object can be reset or fully refreshed, and `--dry-run` shows the plan and changes nothing.

use crate::support::{Setup, checkpoint_status, describe};

const OBJECTS: &[&str] = &["Account", "Invoice", "InvoiceItem"];

fn names() -> Vec<String> {
    OBJECTS.iter().map(|o| o.to_string()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_run_exits_75_while_the_first_holds_the_lock() {
    let setup = Setup::new(10, Some(OBJECTS)).await;
    let hold = setup.emulator.hold_requests();
    let mut first = setup
        .command(&["sync", "--json"], &[])
        .spawn()
        .expect("the first run starts");
    setup.emulator.wait_until_in_flight(1).await;

    let second = setup.run(&["sync"], &[]).await;
    assert_eq!(second.status.code(), Some(75), "{}", describe(&second));
    let message = String::from_utf8_lossy(&second.stderr);
    let pid = first.id().expect("running");
    assert!(
        message.contains(&format!("pid {pid}")) && message.contains("since"),
        "{message}"
    );
    assert!(
        first.try_wait().expect("waitable").is_none(),
        "the second run did not wait for the first"
    );

    drop(hold);
    let first = first.wait_with_output().await.expect("the first run ends");
    assert_eq!(first.status.code(), Some(0), "{}", describe(&first));
    setup.assert_warehouse_matches(&names());
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_stops_after_the_current_page_and_the_next_run_completes() {
    let setup = Setup::new(25, Some(OBJECTS)).await;
    let hold = setup.emulator.hold_requests();
    let run = setup
        .command(&["sync", "--json"], &[])
        .spawn()
        .expect("the run starts");
    setup.emulator.wait_until_in_flight(1).await;
    let pid = run.id().expect("running") as i32;
    // SAFETY: kill has no preconditions; the pid is our child's.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    drop(hold);
    let stopped = run.wait_with_output().await.expect("the run ends");
    assert_eq!(stopped.status.code(), Some(130), "{}", describe(&stopped));
    let summary: serde_json::Value = serde_json::from_slice(&stopped.stdout).expect("a summary");
    assert_eq!(summary["status"], "interrupted", "{summary}");

    setup.sync_ok().await;
    setup.assert_warehouse_matches(&names());
}

#[tokio::test(flavor = "multi_thread")]
async fn reset_and_full_refresh_read_an_object_again_without_duplicates() {
    let setup = Setup::new(10, Some(OBJECTS)).await;
    setup.sync_ok().await;

    let without_yes = setup.run(&["state", "reset", "Invoice"], &[]).await;
    assert_ne!(
        without_yes.status.code(),
        Some(0),
        "a reset without a terminal needs --yes"
    );
    let reset = setup
        .run(&["state", "reset", "Invoice", "--yes"], &[])
        .await;
    assert_eq!(reset.status.code(), Some(0), "{}", describe(&reset));
    let status = checkpoint_status(setup.dir.path());
    let objects: Vec<&str> = status["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["object"].as_str().unwrap())
        .collect();
    assert!(!objects.contains(&"Invoice"), "{status}");

    let again = setup.sync_ok().await;
    let invoices = setup.emulator.row_count("Invoice") as u64;
    assert!(
        again["objects"]["Invoice"]["rows"].as_u64().unwrap() >= invoices,
        "{again}"
    );
    assert_eq!(
        again["objects"]["Invoice"]["rows_changed"], 0,
        "nothing changed in Zuora"
    );
    assert!(
        again["objects"]["Account"]["rows"].as_u64().unwrap() == 0,
        "{again}"
    );

    let refreshed = setup
        .run(&["sync", "--json", "--full-refresh", "Account"], &[])
        .await;
    assert_eq!(refreshed.status.code(), Some(0), "{}", describe(&refreshed));
    let refreshed: serde_json::Value = serde_json::from_slice(&refreshed.stdout).unwrap();
    let accounts = setup.emulator.row_count("Account") as u64;
    assert!(
        refreshed["objects"]["Account"]["rows"].as_u64().unwrap() >= accounts,
        "{refreshed}"
    );
    setup.assert_warehouse_matches(&names());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dry_run_shows_the_windows_and_changes_nothing() {
    let setup = Setup::new(10, Some(OBJECTS)).await;
    let output = setup.run(&["sync", "--dry-run", "--json"], &[]).await;
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    let plan: serde_json::Value = serde_json::from_slice(&output.stdout).expect("a plan");
    for object in plan["objects"].as_array().unwrap() {
        let planned = object["planned"].as_array().unwrap();
        assert!(!planned.is_empty(), "{object}");
        assert!(
            planned.iter().all(|w| w["phase"] == "historical"),
            "{object}"
        );
        assert!(
            planned.windows(2).all(|p| p[0]["end"] == p[1]["start"]),
            "contiguous: {object}"
        );
    }
    assert!(
        !setup.path("warehouse.duckdb").exists(),
        "nothing was loaded"
    );
    let status = checkpoint_status(setup.dir.path());
    assert!(status["objects"].as_array().unwrap().is_empty(), "{status}");
}
