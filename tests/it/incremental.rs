//! Incremental runs: what changed in Zuora between runs is loaded exactly — inserts, updates,
//! amendments (new subscription versions), changes that never bump UpdatedDate (seen through
//! `lookback = "all"`), rows that become visible late (covered by the lag), and deletes
//! (flagged through the Data Query delete channel).

use std::time::Duration;

use crate::support::{Extra, Setup};

const OBJECTS: &[&str] = &[
    "Account",
    "Contact",
    "Subscription",
    "RatePlanCharge",
    "InvoiceItem",
    "Payment",
];

fn names() -> Vec<String> {
    OBJECTS.iter().map(|o| o.to_string()).collect()
}

async fn setup() -> Setup {
    let extra = Extra {
        sync: "lag = \"30s\"\ndeletes = \"data_query\"\ndelete_check_interval = \"0s\"\n".into(),
        // Zuora changes ChargedThroughDate and AccountingCode without bumping UpdatedDate, on
        // rows of any age: only re-reading everything sees those.
        tail: "[objects.RatePlanCharge]\nlookback = \"all\"\n\
               [objects.InvoiceItem]\nlookback = \"all\"\n"
            .into(),
        ..Extra::default()
    };
    let setup = Setup::with(20, Some(OBJECTS), extra).await;
    // Changes become visible to Object Query 10 s after their timestamp; the lag covers that.
    setup.emulator.set_visibility_delay(Duration::from_secs(10));
    setup
}

#[tokio::test(flavor = "multi_thread")]
async fn changes_between_runs_are_loaded_exactly_and_deletes_are_flagged() {
    let setup = setup().await;
    setup.emulator.advance_clock(Duration::from_secs(60));
    setup.sync_ok().await;
    setup.assert_warehouse_matches(&names());

    let report = setup.emulator.mutate(11, 60);
    assert!(
        !report.deleted.is_empty() && !report.updated.is_empty(),
        "{report:?}"
    );
    let charge = setup.emulator.rows("RatePlanCharge")[0].id.clone();
    setup
        .emulator
        .update_without_bump("RatePlanCharge", &charge);
    let subscription = setup
        .emulator
        .rows("Subscription")
        .into_iter()
        .find(|r| {
            matches!(
                r.values.get("IsLatestVersion"),
                Some(zuora_sync::emulator::zuora::Value::Boolean(true))
            )
        })
        .expect("a latest subscription version")
        .id;
    let amended = setup.emulator.amend_subscription(&subscription);

    setup.emulator.advance_clock(Duration::from_secs(60));
    let second = setup.sync_ok().await;
    setup.assert_warehouse_matches(&names());
    let deleted: u64 = OBJECTS
        .iter()
        .map(|o| second["objects"][o]["deleted_ids"].as_u64().unwrap())
        .sum();
    assert!(deleted > 0, "the delete channel reported deletes: {second}");
    let versions: i64 = setup
        .warehouse()
        .query_row(
            "SELECT count(*) FROM zuora.subscription WHERE id IN (?, ?)",
            [&subscription, &amended],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(versions, 2, "both subscription versions are rows");

    setup.emulator.advance_clock(Duration::from_secs(60));
    let third = setup.sync_ok().await;
    for object in OBJECTS {
        assert_eq!(
            third["objects"][object]["rows_changed"], 0,
            "{object}: {third}"
        );
    }
    setup.assert_warehouse_matches(&names());
}

#[tokio::test(flavor = "multi_thread")]
async fn rows_changed_during_a_scan_are_picked_up_by_the_next_run() {
    let setup = setup().await;
    setup.emulator.advance_clock(Duration::from_secs(60));
    setup.emulator.mutate_during_scans(2, 5, 8);
    setup.sync_ok().await;
    setup.emulator.mutate_during_scans(0, 0, 0);
    assert!(
        !setup.emulator.scan_mutations().is_empty(),
        "rows changed while pages were read"
    );

    setup.emulator.advance_clock(Duration::from_secs(60));
    setup.sync_ok().await;
    setup.assert_warehouse_matches(&names());
}

#[tokio::test(flavor = "multi_thread")]
async fn rows_not_yet_visible_wait_for_the_lag_and_are_not_lost() {
    let setup = setup().await;
    setup.emulator.advance_clock(Duration::from_secs(60));
    setup.sync_ok().await;
    setup.emulator.mutate(3, 30);
    // Only 5 s later: the changes are still invisible, and inside the lag.
    setup.emulator.advance_clock(Duration::from_secs(5));
    let early = setup.sync_ok().await;
    for object in OBJECTS {
        assert_eq!(
            early["objects"][object]["rows_changed"], 0,
            "{object}: {early}"
        );
    }
    setup.emulator.advance_clock(Duration::from_secs(60));
    setup.sync_ok().await;
    setup.assert_warehouse_matches(&names());
}
