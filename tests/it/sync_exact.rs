//! A whole emulated tenant lands in DuckDB exactly, and a second sync changes nothing.

use crate::support::{Extra, Setup, checkpoint_status, dump};

#[tokio::test(flavor = "multi_thread")]
async fn every_cell_of_every_table_matches_the_tenant_and_a_second_sync_changes_nothing() {
    let setup = Setup::new(40, None).await;
    let objects = setup.emulator.objects();

    let first = setup.sync_ok().await;
    assert_eq!(first["status"], "succeeded");
    for object in &objects {
        let summary = &first["objects"][object];
        assert_eq!(summary["status"], "ok", "{object}: {summary}");
        // A busy second is read again by the windows it is split into, so rows read can
        // exceed rows stored; the cell-by-cell comparison below is the exact check.
        let read = summary["rows"].as_u64().unwrap() as usize;
        assert!(
            read >= setup.emulator.row_count(object),
            "{object}: {read} rows read"
        );
    }
    setup.assert_warehouse_matches(&objects);
    let tables: Vec<String> = objects
        .iter()
        .map(|o| zuora_sync::schema::snake_case(o))
        .collect();
    let before = dump(&setup.warehouse(), &tables);

    let second = setup.sync_ok().await;
    for object in &objects {
        let summary = &second["objects"][object];
        assert_eq!(summary["rows_changed"], 0, "{object}: {summary}");
        assert_eq!(
            summary["watermark_before"],
            first["objects"][object]["watermark_after"]
        );
    }
    assert_eq!(
        dump(&setup.warehouse(), &tables),
        before,
        "the second sync changed the tables"
    );

    let status = checkpoint_status(setup.dir.path());
    for object in status["objects"].as_array().unwrap() {
        assert_eq!(object["status"], "Active", "{object}");
        assert_eq!(object["phase"], "incremental", "{object}");
        assert_eq!(object["unmerged_files"], 0, "{object}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn only_exportable_fields_become_columns_named_in_snake_case() {
    let setup = Setup::new(12, Some(&["Account"])).await;
    setup.sync_ok().await;
    let conn = setup.warehouse();
    let mut statement = conn
        .prepare(
            "SELECT column_name, data_type FROM information_schema.columns
             WHERE table_schema = 'zuora' AND table_name = 'account' ORDER BY ordinal_position",
        )
        .unwrap();
    let columns: Vec<(String, String)> = statement
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let find = |name: &str| {
        columns
            .iter()
            .find(|(c, _)| c == name)
            .map(|(_, t)| t.as_str())
    };
    assert_eq!(find("vat_id"), Some("VARCHAR"), "{columns:?}");
    assert_eq!(find("region__c"), Some("VARCHAR"));
    assert_eq!(find("balance"), Some("DECIMAL(38,9)"));
    assert_eq!(find("bill_cycle_day"), Some("BIGINT"));
    assert_eq!(find("auto_pay"), Some("BOOLEAN"));
    assert_eq!(find("last_invoice_date"), Some("DATE"));
    assert_eq!(find("updated_date"), Some("TIMESTAMP WITH TIME ZONE"));
    assert_eq!(find("_synced_at"), Some("TIMESTAMP WITH TIME ZONE"));
    assert_eq!(find("_deleted"), Some("BOOLEAN"));
    assert_eq!(
        find("sequence_set_id"),
        None,
        "a field without the export context"
    );
    assert_eq!(
        columns.len(),
        setup.emulator.describe_fields("Account").len() - 1 + 2
    );
}

/// Describe lists objects that Object Query does not serve. Syncing "every object", such an
/// object is skipped with its reason and the run succeeds; named in `objects`, it fails.
#[tokio::test(flavor = "multi_thread")]
async fn objects_object_query_does_not_serve_are_skipped_unless_asked_for() {
    let setup = Setup::new(8, None).await;
    let missing = r#"{"code":50000040,"message":"Object not found"}"#;
    setup.emulator.fail_next_query("Payment", 404, missing);
    let summary = setup.sync_ok().await;
    let payment = &summary["objects"]["Payment"];
    assert_eq!(payment["status"], "skipped", "{summary}");
    assert!(
        payment["error"]
            .as_str()
            .unwrap()
            .contains("does not serve Payment"),
        "{summary}"
    );
    assert_eq!(summary["objects"]["Account"]["status"], "ok");
    let status = checkpoint_status(setup.dir.path());
    let listed: Vec<&str> = status["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["object"].as_str().unwrap())
        .collect();
    assert!(
        !listed.contains(&"Payment"),
        "a skipped object leaves no checkpoint: {status}"
    );

    setup.emulator.fail_next_query("Payment", 404, missing);
    let named = setup.run(&["sync", "--objects", "Payment"], &[]).await;
    assert_eq!(
        named.status.code(),
        Some(1),
        "{}",
        crate::support::describe(&named)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_window_is_shared_with_idle_readers_and_no_row_is_read_twice() {
    let setup = Setup::with(
        40,
        Some(&["Contact"]),
        Extra {
            zuora: Some("page_size = 5\nmax_retries = 2\nretry_budget = \"5s\"\n".into()),
            sync: "backfill_windows = 1\nmax_parallel_windows = 4\n".into(),
            ..Extra::default()
        },
    )
    .await;
    let summary = setup.sync_ok().await;
    let contact = &summary["objects"]["Contact"];
    // One window was planned; the readers left idle took halves of its rest.
    assert!(contact["windows"].as_u64().unwrap() > 1, "{contact}");
    // Each share starts right after the last row read: nothing is read twice.
    assert_eq!(
        contact["rows"].as_u64().unwrap() as usize,
        setup.emulator.row_count("Contact"),
        "{contact}"
    );
    setup.assert_warehouse_matches(&["Contact".to_string()]);
}
