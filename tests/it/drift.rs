//! Schema drift between runs: a new custom field becomes a column (null in older rows), a field
//! that disappears keeps its column (null for rows loaded from then on), and a type change
//! stops the object with a message that says what to do.

use std::time::Duration;

use zuora_sync::emulator::zuora::FieldType;

use crate::support::{Setup, describe};

fn columns(setup: &Setup) -> Vec<String> {
    let conn = setup.warehouse();
    let mut statement = conn
        .prepare(
            "SELECT column_name FROM information_schema.columns
             WHERE table_schema = 'zuora' AND table_name = 'account'",
        )
        .unwrap();
    statement
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn fields_that_appear_or_vanish_become_or_keep_columns() {
    let setup = Setup::new(10, Some(&["Account"])).await;
    let accounts = vec!["Account".to_string()];
    setup.sync_ok().await;

    setup.emulator.add_custom_field(
        "Account",
        "Tier__c",
        FieldType::Picklist,
        vec!["Gold".into(), "Silver".into()],
    );
    let ids: Vec<String> = setup
        .emulator
        .rows("Account")
        .iter()
        .take(3)
        .map(|r| r.id.clone())
        .collect();
    for id in &ids {
        setup.emulator.update("Account", id);
    }
    setup.emulator.advance_clock(Duration::from_secs(5));
    setup.sync_ok().await;
    assert!(columns(&setup).contains(&"tier__c".to_string()));
    setup.assert_warehouse_matches(&accounts);
    let filled: i64 = setup
        .warehouse()
        .query_row("SELECT count(tier__c) FROM zuora.account", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        filled as usize,
        ids.len(),
        "only rows changed since the field appeared have it"
    );

    let before: i64 = setup
        .warehouse()
        .query_row("SELECT count(segment__c) FROM zuora.account", [], |r| {
            r.get(0)
        })
        .unwrap();
    setup.emulator.remove_field("Account", "Segment__c");
    setup.emulator.update("Account", &ids[0]);
    setup.emulator.advance_clock(Duration::from_secs(5));
    setup.sync_ok().await;
    assert!(
        columns(&setup).contains(&"segment__c".to_string()),
        "the column stays"
    );
    let conn = setup.warehouse();
    let after: i64 = conn
        .query_row("SELECT count(segment__c) FROM zuora.account", [], |r| {
            r.get(0)
        })
        .unwrap();
    let updated: Option<String> = conn
        .query_row(
            "SELECT segment__c FROM zuora.account WHERE id = ?",
            [&ids[0]],
            |r| r.get(0),
        )
        .unwrap();
    drop(conn);
    assert_eq!(
        updated, None,
        "a row loaded after the field vanished has it null"
    );
    assert!(
        after <= before && before > 0,
        "older rows keep their values: {before} then {after}"
    );
    setup.assert_warehouse_matches(&accounts);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_type_change_stops_the_object_and_says_what_to_do() {
    let setup = Setup::new(10, Some(&["Account"])).await;
    setup.sync_ok().await;
    setup
        .emulator
        .change_field_type("Account", "Balance", FieldType::Text);
    let output = setup.run(&["sync"], &[]).await;
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("Balance changed type from decimal to text"),
        "{text}"
    );
    assert!(text.contains("--full-refresh Account"), "{text}");
}
