//! Schema drift between two runs of a client, seen through the real server: a custom field
//! added, a field removed, a field retyped, each in the Describe XML and in Object Query pages,
//! and the same seed serving the same bytes when nothing drifted.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::{Client, StatusCode};
use serde_json::value::RawValue;

use super::catalog::CATALOG;
use super::describe::parsed;
use super::http_data_query_tests::{job, rows as data_query_rows};
use super::http_tests::{access_token, get, raw_id, scan, start};
use super::*;

const ACCOUNTS: &str = "/object-query/accounts";
const ALL: &[(&str, &str)] = &[("pageSize", "99")];
const ALL_WITH_NULLS: &[(&str, &str)] = &[("pageSize", "99"), ("includeNullFields", "true")];

type Row = BTreeMap<String, Box<RawValue>>;

async fn describe(client: &Client, emulator: &Emulator, token: &str, object: &str) -> String {
    let path = format!("/v1/describe/{object}");
    let response = get(client, emulator, token, &path, &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.text().await.unwrap()
}

async fn described(client: &Client, emulator: &Emulator, token: &str) -> parsed::Object {
    let xml = describe(client, emulator, token, "Account").await;
    quick_xml::de::from_str(&xml).unwrap()
}

fn field<'o>(object: &'o parsed::Object, name: &str) -> Option<&'o parsed::Field> {
    object.fields.fields.iter().find(|f| f.name == name)
}

/// Every page body of a query, exactly as sent, following `nextPage`.
async fn bodies(
    client: &Client,
    emulator: &Emulator,
    token: &str,
    path: &str,
    query: &[(&str, &str)],
) -> Vec<String> {
    let (mut bodies, mut cursor) = (Vec::new(), None::<String>);
    loop {
        let mut params = query.to_vec();
        if let Some(cursor) = &cursor {
            params.push(("cursor", cursor));
        }
        let response = get(client, emulator, token, path, &params).await;
        assert_eq!(response.status(), StatusCode::OK);
        let body = response.text().await.unwrap();
        let page: serde_json::Value = serde_json::from_str(&body).unwrap();
        cursor = page["nextPage"].as_str().map(str::to_string);
        bodies.push(body);
        if cursor.is_none() {
            return bodies;
        }
    }
}

/// The raw JSON of `key` in each row that has it, by id.
fn by_id(rows: &[Row], key: &str) -> BTreeMap<String, String> {
    let with_key = rows.iter().filter_map(|r| Some((raw_id(r), r.get(key)?)));
    with_key.map(|(id, v)| (id, v.get().to_string())).collect()
}

#[tokio::test]
async fn an_added_field_is_described_null_in_old_rows_and_filled_by_later_changes() {
    let emulator = start(10).await;
    let client = Client::new();
    let token = access_token(&client, &emulator).await;
    let before = bodies(&client, &emulator, &token, ACCOUNTS, ALL).await;
    let (old, _) = scan(&client, &emulator, &token, ACCOUNTS, ALL).await;
    let dates = by_id(&old, "updatedDate");

    let tiers = vec!["Gold".to_string(), "Silver".to_string()];
    emulator.add_custom_field("Account", "Tier__c", FieldType::Picklist, tiers.clone());

    let object = described(&client, &emulator, &token).await;
    let tier = field(&object, "Tier__c").expect("Describe lists the new field");
    assert_eq!(
        (tier.label.as_str(), tier.field_type.as_str()),
        ("Tier", "picklist")
    );
    assert!(tier.selectable && !tier.required);
    assert_eq!(tier.options.as_ref().unwrap().options, tiers);
    assert_eq!(tier.contexts.contexts, ["soap", "export"]);
    let specs = emulator.describe_fields("Account");
    let spec = specs.iter().find(|f| f.name == "Tier__c").unwrap();
    assert_eq!((spec.json_key.as_str(), &spec.options), ("tier__c", &tiers));

    let after = bodies(&client, &emulator, &token, ACCOUNTS, ALL).await;
    assert_eq!(
        after, before,
        "old rows carry no new key and keep their UpdatedDate"
    );
    let (nulls, _) = scan(&client, &emulator, &token, ACCOUNTS, ALL_WITH_NULLS).await;
    assert!(nulls.iter().all(|row| row["tier__c"].get() == "null"));
    assert_eq!(by_id(&nulls, "updatedDate"), dates);
    let filter = [("filter[]", "tier__c.EQ:Gold")];
    let filtered = get(&client, &emulator, &token, ACCOUNTS, &filter).await;
    assert_eq!(
        filtered.status(),
        StatusCode::BAD_REQUEST,
        "not indexed, not filterable"
    );

    let updated = raw_id(&old[0]);
    emulator.update("Account", &updated);
    let report = emulator.mutate(7, 30);
    let mut touched = report.touched("Account");
    touched.insert(updated.clone());
    let (rows, _) = scan(&client, &emulator, &token, ACCOUNTS, ALL).await;
    let (filled, now) = (by_id(&rows, "tier__c"), by_id(&rows, "updatedDate"));
    assert!(filled.contains_key(&updated) && now[&updated] != dates[&updated]);
    assert!(rows.len() > old.len(), "the batch inserted accounts");
    for id in now.keys() {
        match touched.contains(id) {
            true => assert!(["\"Gold\"", "\"Silver\""].contains(&filled[id].as_str())),
            false => assert!(!filled.contains_key(id) && now[id] == dates[id], "{id}"),
        }
    }
    let record = emulator
        .rows("Account")
        .into_iter()
        .find(|r| r.id == updated);
    let tier = record.unwrap().values.remove("Tier__c");
    assert!(matches!(tier, Some(Value::Text(t)) if tiers.contains(&t)));
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_removed_field_leaves_describe_and_every_record() {
    let emulator = start(10).await;
    let client = Client::new();
    let token = access_token(&client, &emulator).await;
    let (old, _) = scan(&client, &emulator, &token, ACCOUNTS, ALL).await;
    assert!(!by_id(&old, "region__c").is_empty());
    let dates = by_id(&old, "updatedDate");

    emulator.remove_field("Account", "Region__c");

    let object = described(&client, &emulator, &token).await;
    assert!(field(&object, "Region__c").is_none() && field(&object, "Segment__c").is_some());
    assert!(
        emulator
            .describe_fields("Account")
            .iter()
            .all(|f| f.name != "Region__c")
    );
    let (rows, _) = scan(&client, &emulator, &token, ACCOUNTS, ALL_WITH_NULLS).await;
    assert!(rows.iter().all(|row| !row.contains_key("region__c")));
    assert_eq!(by_id(&rows, "updatedDate"), dates, "no UpdatedDate moves");
    let asked = [("fields[]", "id,region__c")];
    let asked = get(&client, &emulator, &token, ACCOUNTS, &asked).await;
    assert_eq!(asked.status(), StatusCode::BAD_REQUEST);

    // New accounts come with a region in the generator; the field stays gone anyway.
    let inserted = emulator.insert_account();
    emulator.mutate(3, 20);
    let (rows, _) = scan(&client, &emulator, &token, ACCOUNTS, ALL_WITH_NULLS).await;
    assert!(rows.iter().any(|row| raw_id(row) == inserted));
    assert!(rows.iter().all(|row| !row.contains_key("region__c")));
    let records = emulator.rows("Account");
    assert!(records.iter().all(|r| !r.values.contains_key("Region__c")));

    emulator.delete("Account", &inserted);
    let deleted = emulator.deleted_rows("Account");
    assert!(
        deleted
            .iter()
            .all(|(r, _)| !r.values.contains_key("Region__c"))
    );
    let query = job("select id, deleted from account", true);
    let lines = data_query_rows(&client, &emulator, &token, &query).await;
    let gone: BTreeSet<_> = lines.iter().filter_map(|l| l["id"].as_str()).collect();
    assert!(
        gone.contains(inserted.as_str()),
        "Data Query still reports deletions"
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_retyped_field_is_described_and_sent_in_its_new_type() {
    let emulator = start(10).await;
    let client = Client::new();
    let token = access_token(&client, &emulator).await;
    let (old, _) = scan(&client, &emulator, &token, ACCOUNTS, ALL).await;
    let dates = by_id(&old, "updatedDate");
    let balances = by_id(&old, "balance");
    assert!(
        balances.values().any(|b| b == "-120.75"),
        "the credit account"
    );

    emulator.change_field_type("Account", "Balance", FieldType::Text);

    let object = described(&client, &emulator, &token).await;
    assert_eq!(field(&object, "Balance").unwrap().field_type, "text");
    let (rows, _) = scan(&client, &emulator, &token, ACCOUNTS, ALL).await;
    let quoted = balances
        .iter()
        .map(|(id, b)| (id.clone(), format!("\"{b}\"")));
    assert_eq!(
        by_id(&rows, "balance"),
        quoted.collect(),
        "the same digits, as text"
    );
    assert_eq!(by_id(&rows, "updatedDate"), dates);

    // Values planted into an added text field: the one that reads as a number survives.
    emulator.add_custom_field("Account", "Seats__c", FieldType::Text, Vec::new());
    let (kept, dropped) = (raw_id(&old[0]), raw_id(&old[1]));
    emulator.set_raw_value("Account", &kept, "seats__c", "\"42\"");
    emulator.set_raw_value("Account", &dropped, "seats__c", "\"many\"");
    emulator.change_field_type("Account", "seats__c", FieldType::Integer);

    let object = described(&client, &emulator, &token).await;
    assert_eq!(field(&object, "Seats__c").unwrap().field_type, "integer");
    let (rows, _) = scan(&client, &emulator, &token, ACCOUNTS, ALL).await;
    assert_eq!(
        by_id(&rows, "seats__c"),
        BTreeMap::from([(kept, "42".to_string())])
    );
    assert_eq!(by_id(&rows, "updatedDate"), dates);
    emulator.shutdown().await;
}

#[tokio::test]
async fn without_drift_the_same_seed_serves_identical_pages_and_describe() {
    let (first, second, undone) = (start(10).await, start(10).await, start(10).await);
    undone.add_custom_field("InvoiceItem", "Temp__c", FieldType::Decimal, Vec::new());
    undone.remove_field("InvoiceItem", "Temp__c");
    let client = Client::new();
    let mut tokens = Vec::new();
    for emulator in [&first, &second, &undone] {
        tokens.push(access_token(&client, emulator).await);
    }

    let ascending = [
        ("pageSize", "7"),
        ("sort[]", "updateddate.ASC"),
        ("includeNullFields", "true"),
    ];
    for object in &CATALOG.objects {
        let path = format!("/object-query/{}", object.path);
        for query in [ALL, &ascending[..]] {
            let mut served = Vec::new();
            for (emulator, token) in [&first, &second, &undone].into_iter().zip(&tokens) {
                served.push(bodies(&client, emulator, token, &path, query).await);
            }
            assert_eq!(served[0], served[1], "{path} {query:?}");
            assert_eq!(
                served[0], served[2],
                "{path} {query:?}, a field added and removed"
            );
        }
        let mut xml = Vec::new();
        for (emulator, token) in [&first, &second, &undone].into_iter().zip(&tokens) {
            let body = describe(&client, emulator, token, object.name).await;
            xml.push(body.replace(&emulator.url(), ""));
        }
        assert!(xml.iter().all(|x| x == &xml[0]), "{}", object.name);
    }
    for emulator in [first, second, undone] {
        emulator.shutdown().await;
    }
}
