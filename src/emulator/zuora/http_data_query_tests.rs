//! Data Query as the delete channel, driven over HTTP: job submission, polling, the signed
//! result file, and which rows the results hold.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::{Client, StatusCode};
use serde_json::{Value as Json, json};

use super::http_tests::{access_token, get, raw_id, scan, start};
use super::*;

pub(super) fn job(query: &str, read_deleted: bool) -> Json {
    json!({
        "query": query,
        "outputFormat": "JSON",
        "compression": "NONE",
        "output": {"target": "S3"},
        "readDeleted": read_deleted,
    })
}

async fn submit(client: &Client, emulator: &Emulator, token: &str, body: &Json) -> Json {
    let url = format!("{}/query/jobs", emulator.url());
    let response = client.post(url).bearer_auth(token).json(body).send().await;
    let response = response.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// Polls until the job finishes; returns the last answer and every status seen.
async fn finish(
    client: &Client,
    emulator: &Emulator,
    token: &str,
    id: &str,
) -> (Json, Vec<String>) {
    let mut statuses = Vec::new();
    for _ in 0..10 {
        let path = format!("/query/jobs/{id}");
        let response = get(client, emulator, token, &path, &[]).await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Json = response.json().await.unwrap();
        let status = body["data"]["queryStatus"].as_str().unwrap().to_string();
        statuses.push(status.clone());
        if ["completed", "failed", "cancelled"].contains(&status.as_str()) {
            return (body, statuses);
        }
    }
    panic!("job {id} did not finish: {statuses:?}");
}

/// Submits, waits, and reads the result file the way a client reads a pre-signed S3 URL:
/// without the bearer token.
pub(super) async fn rows(
    client: &Client,
    emulator: &Emulator,
    token: &str,
    body: &Json,
) -> Vec<Json> {
    let submitted = submit(client, emulator, token, body).await;
    let id = submitted["data"]["id"].as_str().unwrap();
    let (done, _) = finish(client, emulator, token, id).await;
    assert_eq!(done["data"]["queryStatus"], "completed", "{done}");
    let url = done["data"]["dataFile"].as_str().unwrap();
    assert!(url.starts_with(&format!("{}/query/results/", emulator.url())));
    let response = client.get(url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    let lines: Vec<Json> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(done["data"]["outputRows"], lines.len());
    lines
}

fn ids(lines: &[Json]) -> BTreeSet<String> {
    lines
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_string())
        .collect()
}

fn sql_time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

#[tokio::test]
async fn deleted_rows_appear_in_data_query_and_not_in_object_query() {
    let emulator = start(12).await;
    let client = Client::new();
    let token = access_token(&client, &emulator).await;
    let item = emulator.rows("InvoiceItem")[5].id.clone();
    let mut deleted: BTreeSet<String> =
        emulator.delete("InvoiceItem", &item).deleted["InvoiceItem"]
            .iter()
            .cloned()
            .collect();
    let account = emulator
        .rows("Account")
        .into_iter()
        .find(|a| a.values["AccountNumber"] == Value::Text("A00000004".into()))
        .unwrap();
    let report = emulator.delete("Account", &account.id);
    deleted.extend(
        report
            .deleted
            .get("InvoiceItem")
            .into_iter()
            .flatten()
            .cloned(),
    );
    assert!(deleted.len() > 1);

    let lines = rows(
        &client,
        &emulator,
        &token,
        &job("select id, updateddate from invoiceitem", true),
    )
    .await;
    assert_eq!(ids(&lines), deleted);
    let when: Vec<(String, DateTime<Utc>)> = emulator
        .deleted_rows("InvoiceItem")
        .into_iter()
        .map(|(record, at)| (record.id, at))
        .collect();
    for line in &lines {
        let (_, at) = when.iter().find(|(id, _)| line["id"] == *id).unwrap();
        let stamp = at.format("%Y-%m-%dT%H:%M:%S.000Z").to_string();
        assert_eq!(line["updateddate"], stamp, "the second of the deletion");
    }

    let path = "/object-query/invoice-items";
    let all = scan(&client, &emulator, &token, path, &[("pageSize", "99")])
        .await
        .0;
    let live: BTreeSet<String> = all.iter().map(raw_id).collect();
    assert!(live.is_disjoint(&deleted));

    let live_query = job("select id from invoiceitem", false);
    let live_lines = rows(&client, &emulator, &token, &live_query).await;
    assert_eq!(ids(&live_lines), live);
    assert!(live_lines.iter().all(|l| l.as_object().unwrap().len() == 1));

    let both = job("select id, deleted from invoiceitem", false);
    let both = rows(&client, &emulator, &token, &both).await;
    assert_eq!(both.len(), live.len() + deleted.len());
    let flagged = both.iter().filter(|l| l["deleted"] == true);
    assert_eq!(ids(&flagged.cloned().collect::<Vec<_>>()), deleted);
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_job_moves_through_its_states_and_an_unknown_table_fails() {
    let emulator = start(10).await;
    let client = Client::new();
    let token = access_token(&client, &emulator).await;

    let body = job("select id from account", true);
    let submitted = submit(&client, &emulator, &token, &body).await;
    let data = &submitted["data"];
    assert_eq!(data["queryStatus"], "submitted");
    assert_eq!(data["query"], "select id from account");
    assert_eq!(data["id"].as_str().unwrap().len(), 36, "a UUID");
    let (done, statuses) = finish(&client, &emulator, &token, data["id"].as_str().unwrap()).await;
    assert_eq!(statuses, ["submitted", "in_progress", "completed"]);
    assert!(done["data"]["processingTime"].is_u64() && done["data"]["updatedOn"].is_string());

    emulator.set_data_query_polls(1);
    let widget = submit(
        &client,
        &emulator,
        &token,
        &job("select id from widget", false),
    )
    .await;
    let id = widget["data"]["id"].as_str().unwrap();
    let (failed, statuses) = finish(&client, &emulator, &token, id).await;
    assert_eq!(statuses, ["in_progress", "failed"]);
    let message = failed["data"]["errorMessage"].as_str().unwrap();
    assert!(message.contains("failed to process object"), "{message}");
    assert!(failed["data"].get("dataFile").is_none());

    let body = job("select id from account", false);
    let pending = submit(&client, &emulator, &token, &body).await;
    let id = pending["data"]["id"].as_str().unwrap().to_string();
    let url = format!("{}/query/jobs/{id}", emulator.url());
    let cancelled = client.delete(url).bearer_auth(&token).send().await.unwrap();
    let cancelled: Json = cancelled.json().await.unwrap();
    assert_eq!(cancelled["data"]["queryStatus"], "cancelled");
    let (_, statuses) = finish(&client, &emulator, &token, &id).await;
    assert_eq!(statuses, ["cancelled"]);

    let unknown = get(&client, &emulator, &token, "/query/jobs/nope", &[]).await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    emulator.shutdown().await;
}

#[tokio::test]
async fn jobs_need_a_token_and_json_while_result_files_need_their_signature() {
    let emulator = start(10).await;
    let client = Client::new();
    let token = access_token(&client, &emulator).await;
    let url = format!("{}/query/jobs", emulator.url());
    let body = job("select id from account", false);

    let anonymous = client.post(&url).json(&body).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let form = client.post(&url).bearer_auth(&token).body(body.to_string());
    let form = form.send().await.unwrap();
    assert_eq!(form.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let form: Json = form.json().await.unwrap();
    assert_eq!(
        form,
        json!({"code": 415, "message": "HTTP 415 Unsupported Media Type"})
    );
    let mut csv = body.clone();
    csv["outputFormat"] = "CSV".into();
    let csv = client
        .post(&url)
        .bearer_auth(&token)
        .json(&csv)
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), StatusCode::BAD_REQUEST);

    let submitted = submit(&client, &emulator, &token, &body).await;
    let id = submitted["data"]["id"].as_str().unwrap();
    let poll = client.get(format!("{url}/{id}")).send().await.unwrap();
    assert_eq!(
        poll.status(),
        StatusCode::UNAUTHORIZED,
        "polls need the token too"
    );
    let (done, _) = finish(&client, &emulator, &token, id).await;
    let file = done["data"]["dataFile"].as_str().unwrap();
    let forged = format!("{}0", file);
    let forged = client.get(forged).send().await.unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert!(
        forged
            .text()
            .await
            .unwrap()
            .contains("<Code>SignatureDoesNotMatch</Code>")
    );
    let signed = client.get(file).send().await.unwrap();
    assert_eq!(signed.status(), StatusCode::OK);
    assert_eq!(signed.text().await.unwrap().lines().count(), 10);
    emulator.shutdown().await;
}

#[tokio::test]
async fn deletions_are_kept_30_days_and_filter_on_the_second_of_deletion() {
    let emulator = start(10).await;
    let client = Client::new();
    let payments = emulator.rows("Payment");
    emulator.delete("Payment", &payments[0].id);
    emulator.advance_clock(Duration::from_secs(31 * 86_400));
    let token = access_token(&client, &emulator).await;
    emulator.delete("Payment", &payments[1].id);
    let (_, second_at) = emulator.deleted_rows("Payment")[1].clone();
    let second = DateTime::from_timestamp(second_at.timestamp(), 0).unwrap();

    let all = rows(
        &client,
        &emulator,
        &token,
        &job("select id from payment", true),
    )
    .await;
    assert_eq!(ids(&all), BTreeSet::from([payments[1].id.clone()]));
    let since = |op: &str, at: DateTime<Utc>| {
        let sql = format!(
            "select id, updateddate from payment where updateddate {op} timestamp '{}'",
            sql_time(at)
        );
        job(&sql, true)
    };
    let from_second = rows(&client, &emulator, &token, &since(">=", second)).await;
    assert_eq!(from_second.len(), 1);
    let after_second = rows(&client, &emulator, &token, &since(">", second)).await;
    assert!(after_second.is_empty());
    let before = rows(&client, &emulator, &token, &since("<", second)).await;
    assert!(before.is_empty(), "the older deletion is past retention");

    let no_zone = "select id from payment where updateddate >= timestamp '2024-01-01 00:00:00'";
    let submitted = submit(&client, &emulator, &token, &job(no_zone, true)).await;
    let id = submitted["data"]["id"].as_str().unwrap();
    let (failed, _) = finish(&client, &emulator, &token, id).await;
    assert_eq!(failed["data"]["queryStatus"], "failed");
    assert!(
        failed["data"]["errorMessage"]
            .as_str()
            .unwrap()
            .contains("time zone")
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn the_visibility_delay_holds_back_deletions_from_data_query_too() {
    let emulator = start(10).await;
    let client = Client::new();
    let token = access_token(&client, &emulator).await;
    emulator.set_visibility_delay(Duration::from_secs(60));
    let payment = emulator.rows("Payment")[0].id.clone();
    emulator.delete("Payment", &payment);
    let query = job("select id from payment", true);
    assert!(rows(&client, &emulator, &token, &query).await.is_empty());
    emulator.advance_clock(Duration::from_secs(60));
    let visible = rows(&client, &emulator, &token, &query).await;
    assert_eq!(ids(&visible), BTreeSet::from([payment]));
    emulator.shutdown().await;
}
