//! The sync process killed with SIGKILL at each step; the next run converges to exactly the
//! source, and the one after changes nothing.

use std::os::unix::process::ExitStatusExt;

use crate::support::{Setup, describe};

const OBJECTS: &[&str] = &["Account", "Invoice", "InvoiceItem"];

async fn killed_at_then_converges(point: &str) {
    let setup = Setup::new(25, Some(OBJECTS)).await;
    let objects: Vec<String> = OBJECTS.iter().map(|o| o.to_string()).collect();

    let killed = setup
        .run(&["sync", "--json"], &[("ZUORA_SYNC_FAILPOINT", point)])
        .await;
    assert_eq!(
        killed.status.signal(),
        Some(9),
        "not killed at {point}:\n{}",
        describe(&killed)
    );

    let resumed = setup.sync_ok().await;
    assert_eq!(resumed["status"], "succeeded", "{resumed}");
    setup.assert_warehouse_matches(&objects);

    let again = setup.sync_ok().await;
    for object in &objects {
        assert_eq!(
            again["objects"][object]["rows_changed"], 0,
            "{point}: {again}"
        );
    }
    setup.assert_warehouse_matches(&objects);
}

#[tokio::test(flavor = "multi_thread")]
async fn resumes_after_kill_after_fetching_a_page() {
    killed_at_then_converges("after_fetch:4").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn resumes_after_kill_after_writing_parquet() {
    killed_at_then_converges("after_write:2").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn resumes_after_kill_between_staging_and_its_checkpoint() {
    killed_at_then_converges("after_stage:2").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn resumes_after_kill_between_copy_and_its_checkpoint() {
    killed_at_then_converges("after_copy").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn resumes_after_kill_before_merge() {
    killed_at_then_converges("before_merge:2").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn resumes_after_kill_between_merge_and_its_checkpoint() {
    killed_at_then_converges("after_merge").await;
}
