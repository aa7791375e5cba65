//! The tenant changing under a client: the `Date` header, updates during scans, amendments,
//! deletions, the visibility delay and unbumped changes, seen through the real server.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::{Client, Response, StatusCode, header};
use serde_json::value::RawValue;

use super::http_tests::{RawPage, access_token, get, raw_id, scan, start, updated_of};
use super::*;

type Row = BTreeMap<String, Box<RawValue>>;

fn date_of(response: &Response) -> DateTime<Utc> {
    let text = response.headers()[header::DATE].to_str().unwrap();
    DateTime::parse_from_rfc2822(text)
        .unwrap()
        .with_timezone(&Utc)
}

/// One Object Query page, continuing from `cursor`.
async fn page(
    client: &Client,
    emulator: &Emulator,
    token: &str,
    path: &str,
    query: &[(&str, &str)],
    cursor: Option<&str>,
) -> RawPage {
    let mut params = query.to_vec();
    if let Some(cursor) = cursor {
        params.push(("cursor", cursor));
    }
    let response = get(client, emulator, token, path, &params).await;
    assert_eq!(response.status(), StatusCode::OK);
    serde_json::from_str(&response.text().await.unwrap()).unwrap()
}

/// The rows of an Object Query filtered by `filter`, all pages.
async fn find(
    client: &Client,
    emulator: &Emulator,
    token: &str,
    path: &str,
    filter: &str,
) -> Vec<Row> {
    let query = [("pageSize", "99"), ("filter[]", filter)];
    scan(client, emulator, token, path, &query).await.0
}

fn text(row: &Row, key: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(row[key].get()).unwrap();
    match value {
        serde_json::Value::String(text) => text,
        other => other.to_string(),
    }
}

fn key(row: &Row) -> (String, String) {
    (text(row, "updatedDate"), raw_id(row))
}

fn record<'r>(records: &'r [Record], id: &str) -> &'r Record {
    records.iter().find(|r| r.id == id).unwrap()
}

#[tokio::test]
async fn every_response_is_dated_by_the_emulator_clock() {
    let emulator = start(10).await;
    let client = Client::new();
    let token = access_token(&client, &emulator).await;

    let first = get(&client, &emulator, &token, "/v1/describe", &[]).await;
    let now = emulator.now();
    let skew = (date_of(&first) - now).num_seconds().abs();
    assert!(skew <= 2, "Date {} against {now}", date_of(&first));

    emulator.advance_clock(Duration::from_secs(400 * 86_400));
    let expired = get(&client, &emulator, &token, "/v1/describe", &[]).await;
    assert_eq!(
        expired.status(),
        StatusCode::UNAUTHORIZED,
        "errors are dated too"
    );
    assert!(date_of(&expired) - date_of(&first) >= chrono::TimeDelta::days(400));

    let target = date_of(&expired) + chrono::TimeDelta::days(10);
    emulator.set_clock(target);
    let token = access_token(&client, &emulator).await;
    let later = get(&client, &emulator, &token, "/object-query/accounts", &[]).await;
    assert!(date_of(&later) >= target);
    emulator.set_clock(date_of(&first));
    let missing = get(&client, &emulator, &token, "/nowhere", &[]).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert!(date_of(&missing) >= target, "set_clock never goes back");
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_row_updated_during_an_ascending_scan_moves_ahead_and_is_seen_again() {
    let emulator = start(30).await;
    let client = Client::new();
    let token = access_token(&client, &emulator).await;
    let mut accounts = emulator.rows("Account");
    accounts.sort_by_key(|r| (updated_of(r), r.id.clone()));
    let (seen_first, not_reached) = (accounts[0].id.clone(), accounts[20].id.clone());

    let query = [("pageSize", "5"), ("sort[]", "updateddate.ASC")];
    let path = "/object-query/accounts";
    let first = page(&client, &emulator, &token, path, &query, None).await;
    assert!(first.data.iter().any(|r| raw_id(r) == seen_first));
    emulator.update("Account", &seen_first);
    emulator.update("Account", &not_reached);

    let mut rows = first.data;
    let mut cursor = first.next_page;
    while let Some(next) = cursor {
        let next = page(&client, &emulator, &token, path, &query, Some(&next)).await;
        rows.extend(next.data);
        cursor = next.next_page;
    }

    let keys: Vec<(String, String)> = rows.iter().map(key).collect();
    assert!(keys.windows(2).all(|w| w[0] < w[1]), "the keyset held");
    let now = emulator.rows("Account");
    let new_date = |id| stamp_of(updated_of(record(&now, id)));
    let versions = |id: &str| {
        keys.iter()
            .filter(|(_, k)| k == id)
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(
        versions(&seen_first),
        [
            (stamp_of(updated_of(&accounts[0])), seen_first.clone()),
            (new_date(&seen_first), seen_first.clone())
        ],
        "seen before its update, and again after it"
    );
    assert_eq!(
        versions(&not_reached),
        [(new_date(&not_reached), not_reached.clone())]
    );
    let seen: BTreeSet<String> = keys.into_iter().map(|(_, id)| id).collect();
    assert_eq!(seen.len(), accounts.len());
    emulator.shutdown().await;
}

fn stamp_of(at: DateTime<Utc>) -> String {
    super::http_tests::stamp(at)
}

#[tokio::test]
async fn a_row_updated_during_a_descending_scan_jumps_behind_the_cursor_and_is_missed() {
    let emulator = start(30).await;
    let client = Client::new();
    let token = access_token(&client, &emulator).await;
    let accounts = emulator.rows("Account");
    let oldest = accounts
        .iter()
        .min_by_key(|r| (updated_of(r), r.id.clone()))
        .unwrap()
        .id
        .clone();

    let (path, query) = ("/object-query/accounts", [("pageSize", "5")]);
    let first = page(&client, &emulator, &token, path, &query, None).await;
    emulator.update("Account", &oldest);
    let mut ids: Vec<String> = first.data.iter().map(raw_id).collect();
    let mut cursor = first.next_page;
    while let Some(next) = cursor {
        let next = page(&client, &emulator, &token, path, &query, Some(&next)).await;
        ids.extend(next.data.iter().map(raw_id));
        cursor = next.next_page;
    }
    assert!(
        !ids.contains(&oldest),
        "the default DESC order passed it by"
    );
    assert_eq!(ids.len(), accounts.len() - 1);
    let rescan = scan(&client, &emulator, &token, path, &[("pageSize", "99")])
        .await
        .0;
    assert_eq!(raw_id(&rescan[0]), oldest, "now the newest");
    emulator.shutdown().await;
}

#[tokio::test]
async fn batches_during_an_ascending_scan_land_ahead_of_the_cursor() {
    let emulator = start(30).await;
    let client = Client::new();
    let token = access_token(&client, &emulator).await;
    emulator.mutate_during_scans(2, 11, 10);

    let (path, query) = (
        "/object-query/accounts",
        [("pageSize", "5"), ("sort[]", "updateddate.ASC")],
    );
    let (mut rows, mut cursor, mut pages) = (Vec::new(), None::<String>, 0);
    loop {
        // Each batch gets a second of its own, later than any cursor: rows changed in the
        // second a cursor points into may land behind it, a case that windows restarting at
        // whole seconds cover, not this test.
        emulator.advance_clock(Duration::from_secs(1));
        let next = page(&client, &emulator, &token, path, &query, cursor.as_deref()).await;
        rows.extend(next.data);
        pages += 1;
        assert!(pages < 500, "the scan ends");
        match next.next_page {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    emulator.mutate_during_scans(0, 0, 0);

    let batches = emulator.scan_mutations();
    assert_eq!(batches.len(), pages / 2);
    let keys: Vec<(String, String)> = rows.iter().map(key).collect();
    assert!(keys.windows(2).all(|w| w[0] < w[1]), "the keyset held");
    let seen: BTreeSet<String> = keys.into_iter().map(|(_, id)| id).collect();
    let live: BTreeSet<String> = emulator.rows("Account").into_iter().map(|r| r.id).collect();
    assert!(live.is_subset(&seen), "{:?} missed", live.difference(&seen));
    let inserted: Vec<&String> = batches
        .iter()
        .filter_map(|b| b.inserted.get("Account"))
        .flatten()
        .collect();
    // An account inserted and then deleted by a later batch may never be seen, rightly.
    let surviving = inserted.iter().filter(|id| live.contains(**id)).count();
    assert!(
        surviving > 0,
        "accounts inserted during the scan were seen by it"
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn an_amendment_leaves_two_versions_with_the_right_statuses() {
    let emulator = start(20).await;
    let client = Client::new();
    let token = access_token(&client, &emulator).await;
    let subscriptions = emulator.rows("Subscription");
    let old = subscriptions
        .iter()
        .find(|s| {
            s.values["IsLatestVersion"] == Value::Boolean(true)
                && s.values["Status"] == Value::Text("Active".into())
        })
        .unwrap();
    let Value::Text(name) = &old.values["Name"] else {
        panic!("a subscription has a name")
    };
    let new = emulator.amend_subscription(&old.id);

    let path = "/object-query/subscriptions";
    let versions = find(&client, &emulator, &token, path, &format!("name.EQ:{name}")).await;
    let by_id: BTreeMap<String, &Row> = versions.iter().map(|r| (raw_id(r), r)).collect();
    let (before, after) = (by_id[&old.id], by_id[&new]);
    assert_eq!(text(before, "status"), "Expired");
    assert_eq!(text(before, "isLatestVersion"), "false");
    assert_eq!(text(after, "status"), "Active");
    assert_eq!(text(after, "isLatestVersion"), "true");
    let version = |row: &Row| text(row, "version").parse::<i64>().unwrap();
    assert_eq!(version(after), version(before) + 1);
    assert_eq!(text(after, "originalId"), text(before, "originalId"));
    assert_eq!(text(after, "previousSubscriptionId"), old.id);
    assert_eq!(text(after, "updatedDate"), text(before, "updatedDate"));
    let latest = versions
        .iter()
        .filter(|r| text(r, "isLatestVersion") == "true")
        .count();
    assert_eq!(latest, 1, "one latest version per subscription");

    let plans = |id: String| {
        let filter = format!("subscriptionId.EQ:{id}");
        let (client, emulator, token) = (&client, &emulator, &token);
        async move { find(client, emulator, token, "/object-query/rate-plans", &filter).await }
    };
    let (old_plans, new_plans) = (plans(old.id.clone()).await, plans(new.clone()).await);
    assert!(!old_plans.is_empty());
    assert_eq!(new_plans.len(), old_plans.len());
    assert!(
        new_plans
            .iter()
            .all(|p| !old_plans.iter().any(|o| raw_id(o) == raw_id(p)))
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn deleted_rows_vanish_from_object_query_and_keep_their_last_values() {
    let emulator = start(12).await;
    let client = Client::new();
    let token = access_token(&client, &emulator).await;
    let account = emulator
        .rows("Account")
        .into_iter()
        .find(|a| a.values["AccountNumber"] == Value::Text("A00000001".into()))
        .unwrap();
    let before = emulator.now();
    let report = emulator.delete("Account", &account.id);
    let after = emulator.now();

    let by_id = format!("id.EQ:{}", account.id);
    let gone = find(&client, &emulator, &token, "/object-query/accounts", &by_id).await;
    assert!(gone.is_empty());
    let invoice = &report.deleted["Invoice"][0];
    let filter = format!("invoiceId.EQ:{invoice}");
    let path = "/object-query/invoice-items";
    assert!(
        find(&client, &emulator, &token, path, &filter)
            .await
            .is_empty()
    );
    let items = scan(&client, &emulator, &token, path, &[("pageSize", "99")])
        .await
        .0;
    let deleted_items: BTreeSet<&String> = report.deleted["InvoiceItem"].iter().collect();
    assert!(!items.iter().any(|r| deleted_items.contains(&raw_id(r))));
    assert_eq!(items.len(), emulator.row_count("InvoiceItem"));

    let kept = emulator.deleted_rows("Account");
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].0, account);
    assert!(before <= kept[0].1 && kept[0].1 <= after);
    assert_eq!(
        emulator.deleted_rows("InvoiceItem").len(),
        report.deleted["InvoiceItem"].len()
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn the_visibility_delay_hides_changes_then_shows_them() {
    let emulator = start(12).await;
    let client = Client::new();
    let token = access_token(&client, &emulator).await;
    emulator.set_visibility_delay(Duration::from_secs(60));
    let accounts = emulator.rows("Account");
    let updated = accounts[3].id.clone();
    let payment = emulator.rows("Payment")[0].id.clone();
    emulator.update("Account", &updated);
    let inserted = emulator.insert_account();
    emulator.delete("Payment", &payment);

    let one = |path: &'static str, id: String| {
        let (client, emulator, token) = (&client, &emulator, &token);
        async move {
            let rows = find(client, emulator, token, path, &format!("id.EQ:{id}")).await;
            rows.first().map(|r| text(r, "updatedDate"))
        }
    };
    let old_date = stamp_of(updated_of(&accounts[3]));
    let new_date = stamp_of(updated_of(record(&emulator.rows("Account"), &updated)));
    assert_ne!(old_date, new_date);
    assert_eq!(
        one("/object-query/accounts", updated.clone()).await,
        Some(old_date)
    );
    assert_eq!(one("/object-query/accounts", inserted.clone()).await, None);
    assert!(
        one("/object-query/payments", payment.clone())
            .await
            .is_some()
    );
    assert!(
        emulator.rows("Account").iter().any(|a| a.id == inserted),
        "committed"
    );

    emulator.advance_clock(Duration::from_secs(60));
    assert_eq!(one("/object-query/accounts", updated).await, Some(new_date));
    assert!(one("/object-query/accounts", inserted).await.is_some());
    assert_eq!(one("/object-query/payments", payment).await, None);
    emulator.shutdown().await;
}

#[tokio::test]
async fn an_unbumped_change_is_seen_only_by_rereading_history() {
    let emulator = start(12).await;
    let client = Client::new();
    let token = access_token(&client, &emulator).await;
    let item = emulator
        .rows("InvoiceItem")
        .into_iter()
        .find(|i| i.values.contains_key("AccountingCode"))
        .unwrap();
    let since = stamp_of(updated_of(&item) + chrono::TimeDelta::seconds(1));
    emulator.update_without_bump("InvoiceItem", &item.id);

    let path = "/object-query/invoice-items";
    let recent = find(
        &client,
        &emulator,
        &token,
        path,
        &format!("updatedDate.GE:{since}"),
    )
    .await;
    assert!(
        !recent.iter().any(|r| raw_id(r) == item.id),
        "no newer UpdatedDate"
    );
    let reread = find(
        &client,
        &emulator,
        &token,
        path,
        &format!("id.EQ:{}", item.id),
    )
    .await;
    assert_eq!(text(&reread[0], "updatedDate"), stamp_of(updated_of(&item)));
    let Value::Text(old_code) = &item.values["AccountingCode"] else {
        panic!("a text field")
    };
    assert_ne!(&text(&reread[0], "accountingCode"), old_code);
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_refused_change_panics_and_the_emulator_keeps_serving() {
    let emulator = start(10).await;
    let account = emulator.rows("Account")[0].id.clone();
    let refused = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        emulator.update_without_bump("Account", &account)
    }));
    assert!(refused.is_err());
    let client = Client::new();
    let token = access_token(&client, &emulator).await;
    let query = [("pageSize", "99")];
    let rows = scan(&client, &emulator, &token, "/object-query/accounts", &query)
        .await
        .0;
    assert_eq!(rows.len(), 10);
    emulator.update("Account", &account);
    emulator.shutdown().await;
}
