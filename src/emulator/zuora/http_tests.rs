//! The emulator as a client sees it: a real server on a loopback port, driven with reqwest.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::{Client, Response, StatusCode};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::describe::parsed;
use super::*;

pub(super) async fn start(accounts: usize) -> Emulator {
    let options = Options {
        accounts,
        seed: 5,
        ..Options::default()
    };
    Emulator::start(options).await.expect("the emulator starts")
}

fn token_form<'a>(emulator: &'a Emulator, secret: &'a str) -> [(&'a str, &'a str); 3] {
    [
        ("client_id", emulator.client_id()),
        ("client_secret", secret),
        ("grant_type", "client_credentials"),
    ]
}

pub(super) async fn access_token(client: &Client, emulator: &Emulator) -> String {
    let url = format!("{}/oauth/token", emulator.url());
    let form = token_form(emulator, emulator.client_secret());
    let response = client.post(url).form(&form).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: serde_json::Value = response.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_string()
}

pub(super) async fn get(
    client: &Client,
    emulator: &Emulator,
    token: &str,
    path: &str,
    query: &[(&str, &str)],
) -> Response {
    let url = format!("{}{path}", emulator.url());
    client
        .get(url)
        .bearer_auth(token)
        .query(query)
        .send()
        .await
        .unwrap()
}

/// A page with every value kept as its raw JSON text, so decimals are seen exactly as sent.
#[derive(Deserialize)]
pub(super) struct RawPage {
    pub data: Vec<BTreeMap<String, Box<RawValue>>>,
    #[serde(rename = "nextPage")]
    pub next_page: Option<String>,
}

/// Every row of a query, following `nextPage`; also returns the number of pages.
pub(super) async fn scan(
    client: &Client,
    emulator: &Emulator,
    token: &str,
    path: &str,
    query: &[(&str, &str)],
) -> (Vec<BTreeMap<String, Box<RawValue>>>, usize) {
    let (mut rows, mut pages, mut cursor) = (Vec::new(), 0, None::<String>);
    loop {
        let mut params = query.to_vec();
        if let Some(cursor) = &cursor {
            params.push(("cursor", cursor));
        }
        let response = get(client, emulator, token, path, &params).await;
        assert_eq!(response.status(), StatusCode::OK);
        let page: RawPage = serde_json::from_str(&response.text().await.unwrap()).unwrap();
        pages += 1;
        rows.extend(page.data);
        match page.next_page {
            Some(next) => cursor = Some(next),
            None => return (rows, pages),
        }
    }
}

pub(super) fn raw_id(row: &BTreeMap<String, Box<RawValue>>) -> String {
    serde_json::from_str(row["id"].get()).unwrap()
}

pub(super) fn updated_of(record: &Record) -> DateTime<Utc> {
    match record.values["UpdatedDate"] {
        Value::DateTime(at) => at,
        ref other => panic!("UpdatedDate is {other:?}"),
    }
}

pub(super) fn stamp(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[tokio::test]
async fn tokens_are_refused_when_wrong_or_expired() {
    let emulator = start(10).await;
    let client = Client::new();
    let url = format!("{}/oauth/token", emulator.url());

    let wrong = client
        .post(&url)
        .form(&token_form(&emulator, "wrong"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        wrong.text().await.unwrap(),
        "{\"message\":\"Authentication error\"}"
    );
    let mut form = token_form(&emulator, emulator.client_secret());
    form[2].1 = "password";
    let grant = client.post(&url).form(&form).send().await.unwrap();
    assert_eq!(grant.status(), StatusCode::UNAUTHORIZED);

    let response = client
        .post(&url)
        .form(&token_form(&emulator, emulator.client_secret()));
    let body: serde_json::Value = response.send().await.unwrap().json().await.unwrap();
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 3599);
    assert!(body["scope"].is_string() && body["jti"].is_string());
    let token = body["access_token"].as_str().unwrap().to_string();

    assert_eq!(
        get(&client, &emulator, &token, "/v1/describe", &[])
            .await
            .status(),
        200
    );
    let anonymous = client
        .get(format!("{}/v1/describe", emulator.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let forged = get(
        &client,
        &emulator,
        "0123456789abcdef0123456789abcdef",
        "/v1/describe",
        &[],
    );
    assert_eq!(forged.await.status(), StatusCode::UNAUTHORIZED);

    emulator.expire_tokens();
    let expired = get(&client, &emulator, &token, "/object-query/accounts", &[]).await;
    assert_eq!(expired.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        expired.text().await.unwrap(),
        "{\"message\":\"Authentication error\"}"
    );

    let fresh = access_token(&client, &emulator).await;
    assert_eq!(
        get(&client, &emulator, &fresh, "/v1/describe", &[])
            .await
            .status(),
        200
    );
    emulator.advance_clock(Duration::from_secs(3599));
    let aged = get(&client, &emulator, &fresh, "/v1/describe", &[]).await;
    assert_eq!(aged.status(), StatusCode::UNAUTHORIZED);
    emulator.shutdown().await;
}

#[tokio::test]
async fn describe_xml_parses_back_with_export_contexts() {
    let emulator = start(10).await;
    let client = Client::new();
    let token = access_token(&client, &emulator).await;

    let list = get(&client, &emulator, &token, "/v1/describe", &[]).await;
    assert_eq!(list.headers()["content-type"], "application/xml");
    let list: parsed::ObjectList = quick_xml::de::from_str(&list.text().await.unwrap()).unwrap();
    let names: Vec<String> = list.objects.iter().map(|o| o.name.clone()).collect();
    assert_eq!(names, emulator.objects());
    for link in &list.objects {
        assert_eq!(
            link.href,
            format!("{}/v1/describe/{}", emulator.url(), link.name)
        );
    }

    for name in emulator.objects() {
        let path = format!("/v1/describe/{}", name.to_lowercase());
        let response = get(&client, &emulator, &token, &path, &[]).await;
        assert_eq!(response.status(), StatusCode::OK, "{name}");
        let object: parsed::Object =
            quick_xml::de::from_str(&response.text().await.unwrap()).unwrap();
        assert_eq!(object.name, name);
        let specs = emulator.describe_fields(&name);
        assert_eq!(object.fields.fields.len(), specs.len());
        for (field, spec) in object.fields.fields.iter().zip(&specs) {
            assert_eq!((&field.name, &field.label), (&spec.name, &spec.label));
            assert_eq!(field.field_type, spec.field_type.as_str());
            assert_eq!(field.contexts.contexts, spec.contexts);
            assert!(field.selectable);
            assert_eq!(field.required, spec.required);
            let options = field
                .options
                .as_ref()
                .map(|o| o.options.clone())
                .unwrap_or_default();
            assert_eq!(options, spec.options);
        }
        let exported = |f: &&parsed::Field| f.contexts.contexts.contains(&"export".to_string());
        let unexported = object.fields.fields.iter().filter(|f| !exported(f)).count();
        assert!(unexported >= 1, "{name} has a field exports reject");
        assert!(
            object
                .fields
                .fields
                .iter()
                .filter(exported)
                .any(|f| f.name == "UpdatedDate")
        );
    }

    let missing = get(&client, &emulator, &token, "/v1/describe/Widget", &[]).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let body: serde_json::Value = missing.json().await.unwrap();
    assert_eq!(body["success"], false);
    assert_eq!(body["reasons"][0]["code"], 50_000_040);
    assert!(body["processId"].is_string());
}

#[tokio::test]
async fn an_ascending_window_pages_every_row_once_across_a_crowded_second() {
    let emulator = start(30).await;
    let client = Client::new();
    let token = access_token(&client, &emulator).await;
    let records = emulator.rows("InvoiceItem");
    let mut per_second: BTreeMap<DateTime<Utc>, usize> = BTreeMap::new();
    for record in &records {
        *per_second.entry(updated_of(record)).or_default() += 1;
    }
    let (&crowded, &count) = per_second.iter().max_by_key(|&(_, n)| *n).unwrap();
    assert!(count > 150, "the busiest second has {count} items");

    let (from, to) = (
        crowded - chrono::TimeDelta::days(40),
        crowded + chrono::TimeDelta::seconds(1),
    );
    let mut expected: Vec<(DateTime<Utc>, String)> = records
        .iter()
        .map(|r| (updated_of(r), r.id.clone()))
        .filter(|(at, _)| from <= *at && *at < to)
        .collect();
    expected.sort();
    let (ge, lt) = (
        format!("updatedDate.GE:{}", stamp(from)),
        format!("updatedDate.LT:{}", stamp(to)),
    );
    let query = [
        ("pageSize", "99"),
        ("sort[]", "updateddate.ASC"),
        ("filter[]", &ge),
        ("filter[]", &lt),
    ];
    let (rows, pages) = scan(
        &client,
        &emulator,
        &token,
        "/object-query/invoice-items",
        &query,
    )
    .await;

    let ids: Vec<String> = rows.iter().map(raw_id).collect();
    let expected_ids: Vec<String> = expected.into_iter().map(|(_, id)| id).collect();
    assert_eq!(ids, expected_ids);
    assert!(pages >= count.div_ceil(99), "{pages} pages");
    emulator.shutdown().await;
}

#[tokio::test]
async fn every_cell_on_the_wire_matches_the_store() {
    let emulator = start(12).await;
    let client = Client::new();
    let token = access_token(&client, &emulator).await;
    let mut seen_tiny = false;
    for object in ["InvoiceItem", "Account", "Subscription"] {
        let path = format!(
            "/object-query/{}",
            CATALOG.objects[CATALOG.index(object)].path
        );
        let (rows, _) = scan(&client, &emulator, &token, &path, &[("pageSize", "99")]).await;
        let rows: BTreeMap<String, _> = rows.into_iter().map(|r| (raw_id(&r), r)).collect();
        let records = emulator.rows(object);
        assert_eq!(rows.len(), records.len());
        for record in records {
            let row = &rows[&record.id];
            for spec in emulator.describe_fields(object) {
                let raw = row.get(&spec.json_key).map(|v| v.get());
                let expected = record.values.get(&spec.name).map(|value| {
                    let mut json = String::new();
                    value.write_json(&mut json);
                    json
                });
                assert_eq!(
                    raw,
                    expected.as_deref(),
                    "{object}.{} of {}",
                    spec.name,
                    record.id
                );
                seen_tiny |= raw == Some("1e-9");
            }
        }
    }
    assert!(seen_tiny, "1e-9 is sent literally");
}

#[tokio::test]
async fn the_default_order_is_descending_and_headers_are_stamped() {
    let emulator = start(20).await;
    let client = Client::new();
    let token = access_token(&client, &emulator).await;
    let url = format!("{}/object-query/accounts", emulator.url());
    let send = || {
        client
            .get(&url)
            .bearer_auth(&token)
            .header("Zuora-Track-Id", "run-42")
            .send()
    };
    let (first, second) = (send().await.unwrap(), send().await.unwrap());

    let headers = first.headers();
    assert_eq!(headers["concurrency-limit-type"], "Object Query");
    assert_eq!(headers["concurrency-limit-limit"], "80");
    let remaining: usize = headers["concurrency-limit-remaining"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(remaining < 80);
    assert_eq!(headers["zuora-track-id"], "run-42");
    assert_ne!(
        headers["zuora-request-id"],
        second.headers()["zuora-request-id"]
    );

    let body: serde_json::Value = first.json().await.unwrap();
    let rows = body["data"].as_array().unwrap();
    assert_eq!(rows.len(), 10);
    let keys: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| {
            (
                r["updatedDate"].as_str().unwrap(),
                r["id"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(keys.windows(2).all(|w| w[0] > w[1]));
    let newest = emulator
        .rows("Account")
        .iter()
        .map(updated_of)
        .max()
        .unwrap();
    assert_eq!(keys[0].0, stamp(newest));
    assert!(body["nextPage"].is_string());
}

#[tokio::test]
async fn nulls_are_left_out_unless_asked_for_and_fields_select_keys() {
    let emulator = start(10).await;
    let client = Client::new();
    let token = access_token(&client, &emulator).await;
    let bare = [("filter[]", "accountNumber.EQ:A00000002")];
    let body: serde_json::Value = get(&client, &emulator, &token, "/object-query/accounts", &bare)
        .await
        .json()
        .await
        .unwrap();
    let keys: Vec<&String> = body["data"][0].as_object().unwrap().keys().collect();
    let required: Vec<String> = emulator
        .describe_fields("Account")
        .into_iter()
        .filter(|f| f.required)
        .map(|f| f.json_key)
        .collect();
    assert_eq!(keys.len(), required.len());
    assert!(keys.iter().all(|k| required.contains(k)));

    let with_nulls = [
        bare[0],
        ("includeNullFields", "true"),
        ("fields[]", "Id,Balance,mrr"),
    ];
    let response = get(
        &client,
        &emulator,
        &token,
        "/object-query/accounts",
        &with_nulls,
    )
    .await;
    let body: serde_json::Value = response.json().await.unwrap();
    let row = body["data"][0].as_object().unwrap();
    assert_eq!(row.len(), 3);
    assert!(row["balance"].is_null() && row["mrr"].is_null() && row["id"].is_string());
}

#[tokio::test]
async fn planted_values_and_canned_answers_reach_the_client() {
    let emulator = start(10).await;
    let client = Client::new();
    let token = access_token(&client, &emulator).await;
    let id = emulator.rows("InvoiceItem")[0].id.clone();
    emulator.set_raw_value("InvoiceItem", &id, "chargeAmount", "\"12.50\"");
    emulator.set_raw_value("invoiceitem", &id, "surprise__c", "{\"a\":1}");

    let filter = format!("id.EQ:{id}");
    let query = [("filter[]", filter.as_str())];
    let response = get(
        &client,
        &emulator,
        &token,
        "/object-query/invoice-items",
        &query,
    )
    .await;
    let text = response.text().await.unwrap();
    assert!(text.contains("\"chargeAmount\":\"12.50\""), "{text}");
    assert!(text.contains("\"surprise__c\":{\"a\":1}"), "{text}");
    let record = emulator
        .rows("InvoiceItem")
        .into_iter()
        .find(|r| r.id == id)
        .unwrap();
    assert_eq!(record.values["ChargeAmount"], Value::Text("12.50".into()));

    let truncated = "{\"data\":[{\"id\":\"8a8a";
    emulator.fail_next_query("InvoiceItem", 200, truncated);
    emulator.fail_next_query("InvoiceItem", 503, "Service Unavailable");
    let accounts = get(&client, &emulator, &token, "/object-query/accounts", &[]).await;
    assert_eq!(
        accounts.status(),
        StatusCode::OK,
        "other objects are unaffected"
    );
    let first = get(
        &client,
        &emulator,
        &token,
        "/object-query/invoice-items",
        &[],
    )
    .await;
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(first.text().await.unwrap(), truncated);
    let second = get(
        &client,
        &emulator,
        &token,
        "/object-query/invoice-items",
        &[],
    )
    .await;
    assert_eq!(second.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(second.text().await.unwrap(), "Service Unavailable");
    let third = get(
        &client,
        &emulator,
        &token,
        "/object-query/invoice-items",
        &[],
    )
    .await;
    let page: serde_json::Value = third.json().await.unwrap();
    assert_eq!(page["data"].as_array().unwrap().len(), 10);
}

#[tokio::test]
async fn bad_requests_get_400_or_404_with_codes() {
    let emulator = start(10).await;
    let client = Client::new();
    let token = access_token(&client, &emulator).await;
    let code = |body: serde_json::Value| body["code"].as_u64().unwrap();

    let cursor = get(
        &client,
        &emulator,
        &token,
        "/object-query/accounts",
        &[("cursor", "W3sidm")],
    );
    let cursor = cursor.await;
    assert_eq!(cursor.status(), StatusCode::BAD_REQUEST);
    let cursor = code(cursor.json().await.unwrap());
    assert!(
        (10_000_000..100_000_000).contains(&cursor) && cursor % 100 == 90,
        "{cursor}"
    );

    let query = [("filter[]", "segment__c.EQ:SMB")];
    let filter = get(&client, &emulator, &token, "/object-query/accounts", &query).await;
    assert_eq!(filter.status(), StatusCode::BAD_REQUEST);
    assert_eq!(code(filter.json().await.unwrap()) % 100, 20);

    for path in [
        "/object-query/widgets",
        "/object-query/accounts/A00000001",
        "/v2/nothing",
    ] {
        let response = get(&client, &emulator, &token, path, &[]).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }

    let strict = Options {
        invalid_page_size: InvalidPageSize::Reject,
        ..Options::default()
    };
    let strict = Emulator::start(strict).await.unwrap();
    let strict_token = access_token(&client, &strict).await;
    let big = get(
        &client,
        &strict,
        &strict_token,
        "/object-query/accounts",
        &[("pageSize", "100")],
    );
    assert_eq!(big.await.status(), StatusCode::BAD_REQUEST);
    let lenient = get(
        &client,
        &emulator,
        &token,
        "/object-query/accounts",
        &[("pageSize", "100")],
    );
    let body: serde_json::Value = lenient.await.json().await.unwrap();
    assert_eq!(body["data"].as_array().unwrap().len(), 10);
}

#[tokio::test]
async fn the_request_log_records_what_the_client_sent() {
    let emulator = start(10).await;
    let client = Client::new();
    let token = access_token(&client, &emulator).await;
    let query = [("pageSize", "5"), ("sort[]", "updateddate.ASC")];
    get(&client, &emulator, &token, "/object-query/accounts", &query).await;
    get(&client, &emulator, "expired", "/object-query/accounts", &[]).await;

    let log = emulator.request_log();
    let paths: Vec<(&str, &str, u16)> = log
        .iter()
        .map(|r| (r.method.as_str(), r.path.as_str(), r.status))
        .collect();
    assert_eq!(
        paths,
        [
            ("POST", "/oauth/token", 200),
            ("GET", "/object-query/accounts", 200),
            ("GET", "/object-query/accounts", 401)
        ]
    );
    assert_eq!(log[1].query, "pageSize=5&sort%5B%5D=updateddate.ASC");
    assert!(
        log.iter()
            .all(|r| !r.query.contains(emulator.client_secret()))
    );
}

#[tokio::test]
async fn shutdown_stops_serving() {
    let emulator = start(10).await;
    let url = emulator.url();
    let client = Client::new();
    assert!(
        client
            .get(format!("{url}/v1/describe"))
            .send()
            .await
            .is_ok()
    );
    emulator.shutdown().await;
    let error = client.get(format!("{url}/v1/describe")).send().await;
    assert!(error.is_err(), "nothing listens after shutdown");
}
