//! A seeded, reproducible torture run: the tenant changes between and during syncs (inserts,
//! updates, unbumped updates, deletes, amendments, late visibility) and syncs are killed with
//! SIGKILL at random points of the flow. After a final run every table equals the tenant's
//! current data cell for cell, deleted rows flagged, with no id twice.
//!
//! `ZUORA_SYNC_RANDOM_SEED` replays a given seed; the seed is printed on failure.

use std::os::unix::process::ExitStatusExt;
use std::time::Duration;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::support::{Extra, Setup, describe};

const OBJECTS: &[&str] = &[
    "Account",
    "Contact",
    "Subscription",
    "RatePlanCharge",
    "InvoiceItem",
    "Payment",
];
const POINTS: &[&str] = &[
    "after_fetch",
    "after_write",
    "after_stage",
    "after_copy",
    "before_merge",
    "after_merge",
];
/// The acceptance floor: at least this many runs really die at a kill point.
const KILLS: usize = 20;

#[tokio::test(flavor = "multi_thread")]
async fn random_changes_and_kills_converge_to_the_source() {
    let seed = std::env::var("ZUORA_SYNC_RANDOM_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_261_203_u64);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    // Pages of 5 rows give a small tenant many pages: more places to die, and windows long
    // enough to be shared with idle readers.
    let extra = Extra {
        zuora: Some("max_retries = 6\nretry_budget = \"1m\"\npage_size = 5\n".into()),
        sync: "lag = \"20s\"\ndeletes = \"data_query\"\ndelete_check_interval = \"0s\"\n\
               backfill_windows = 3\n"
            .into(),
        tail: "[objects.RatePlanCharge]\nlookback = \"all\"\n\
               [objects.InvoiceItem]\nlookback = \"all\"\n"
            .into(),
        ..Extra::default()
    };
    let setup = Setup::with(12, Some(OBJECTS), extra).await;
    setup.emulator.set_visibility_delay(Duration::from_secs(5));

    let (mut kills, mut runs) = (0, 0);
    while kills < KILLS {
        runs += 1;
        assert!(
            runs <= 4 * KILLS,
            "seed {seed}: only {kills} kills in {runs} runs"
        );
        if rng.random_bool(0.8) {
            setup.emulator.mutate(rng.random(), rng.random_range(1..20));
        }
        let during = if rng.random_bool(0.3) { 3 } else { 0 };
        setup.emulator.mutate_during_scans(during, rng.random(), 4);
        setup
            .emulator
            .advance_clock(Duration::from_secs(rng.random_range(1..90)));

        let point = format!(
            "{}:{}",
            POINTS[rng.random_range(0..POINTS.len())],
            rng.random_range(1..4)
        );
        let output = setup
            .run(&["sync", "--json"], &[("ZUORA_SYNC_FAILPOINT", &point)])
            .await;
        match (output.status.signal(), output.status.code()) {
            (Some(9), _) => kills += 1,
            // The kill point was not reached in this run: it must have succeeded.
            (None, Some(0)) => {}
            _ => panic!("seed {seed}, run {runs} at {point}:\n{}", describe(&output)),
        }
    }

    setup.emulator.mutate_during_scans(0, 0, 0);
    setup.emulator.advance_clock(Duration::from_secs(120));
    setup.sync_ok().await;
    let names: Vec<String> = OBJECTS.iter().map(|o| o.to_string()).collect();
    setup.assert_warehouse_matches(&names);
    eprintln!("seed {seed}: {kills} kills in {runs} runs converged");
}
