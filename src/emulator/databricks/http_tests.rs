//! The emulator as a client sees it: a real server on a loopback port, driven with reqwest.
//! Tests wait for states by polling, never by sleeping.

use std::sync::Arc;
use std::time::Duration;

use arrow::array::{
    ArrayRef, BooleanArray, Date32Array, Decimal128Array, Int64Array, RecordBatch, StringArray,
    TimestampMicrosecondArray,
};
use arrow::datatypes::{Field, Schema};
use parquet::arrow::ArrowWriter;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use super::*;

const STAGING: &str = "/Volumes/main/zuora/zuora_sync_staging";

async fn start() -> Emulator {
    start_with(Options::default()).await
}

async fn start_with(options: Options) -> Emulator {
    Emulator::start(options).await.expect("the emulator starts")
}

fn client() -> Client {
    Client::new()
}

async fn oauth_token(emulator: &Emulator) -> String {
    let response = token_request(emulator, emulator.client_secret()).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_string()
}

async fn token_request(emulator: &Emulator, secret: &str) -> reqwest::Response {
    client()
        .post(format!("{}/oidc/v1/token", emulator.host()))
        .basic_auth(emulator.client_id(), Some(secret))
        .form(&[("grant_type", "client_credentials"), ("scope", "all-apis")])
        .send()
        .await
        .unwrap()
}

/// Submits a statement body; returns the status, the `Retry-After` header and the JSON.
async fn submit_body(emulator: &Emulator, token: &str, body: Value) -> (StatusCode, Value) {
    let response = client()
        .post(format!("{}/api/2.0/sql/statements", emulator.host()))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

async fn submit(emulator: &Emulator, token: &str, sql: &str, wait: &str) -> Value {
    let body = json!({
        "statement": sql,
        "warehouse_id": emulator.warehouse_id(),
        "catalog": "main",
        "schema": "zuora",
        "wait_timeout": wait,
    });
    let (status, body) = submit_body(emulator, token, body).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn get_statement(emulator: &Emulator, token: &str, id: &str) -> Value {
    let url = format!("{}/api/2.0/sql/statements/{id}", emulator.host());
    let response = client().get(url).bearer_auth(token).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

fn state(body: &Value) -> &str {
    body["status"]["state"].as_str().unwrap()
}

/// Polls until the statement leaves PENDING and RUNNING.
async fn finish(emulator: &Emulator, token: &str, mut body: Value) -> Value {
    while matches!(state(&body), "PENDING" | "RUNNING") {
        tokio::task::yield_now().await;
        let id = body["statement_id"].as_str().unwrap().to_string();
        body = get_statement(emulator, token, &id).await;
    }
    body
}

/// Runs a statement to its end.
async fn run(emulator: &Emulator, token: &str, sql: &str) -> Value {
    let body = submit(emulator, token, sql, "50s").await;
    finish(emulator, token, body).await
}

/// Runs a statement that must succeed; returns its rows.
async fn rows(emulator: &Emulator, token: &str, sql: &str) -> Vec<Vec<Option<String>>> {
    let body = run(emulator, token, sql).await;
    assert_eq!(state(&body), "SUCCEEDED", "{sql}: {body}");
    serde_json::from_value(body["result"]["data_array"].clone()).unwrap_or_default()
}

/// Runs a statement that must fail; returns its error message.
async fn failure(emulator: &Emulator, token: &str, sql: &str) -> String {
    let body = run(emulator, token, sql).await;
    assert_eq!(state(&body), "FAILED", "{sql}: {body}");
    assert_eq!(body["status"]["error"]["error_code"], "BAD_REQUEST");
    body["status"]["error"]["message"]
        .as_str()
        .unwrap()
        .to_string()
}

fn cells(rows: &[Vec<Option<String>>]) -> Vec<Vec<&str>> {
    rows.iter()
        .map(|row| row.iter().map(|c| c.as_deref().unwrap_or("NULL")).collect())
        .collect()
}

fn denied(privilege: &str, kind: &str, name: &str) -> String {
    format!(
        "[INSUFFICIENT_PERMISSIONS] Insufficient privileges: User does not have {privilege} on \
         {kind} '{name}'. SQLSTATE: 42501"
    )
}

/// A Parquet file with the column types zuora-sync writes: DECIMAL(38,9) and
/// TIMESTAMP(MICROS, isAdjustedToUTC=true) among them.
fn account_parquet(ids: &[&str], amounts: &[i128]) -> Vec<u8> {
    let n = ids.len();
    let columns: Vec<(&str, ArrayRef)> = vec![
        ("id", Arc::new(StringArray::from(ids.to_vec()))),
        (
            "amount",
            Arc::new(
                Decimal128Array::from(amounts.to_vec())
                    .with_precision_and_scale(38, 9)
                    .unwrap(),
            ),
        ),
        (
            "updated",
            Arc::new(
                TimestampMicrosecondArray::from(vec![1_704_164_645_123_456; n])
                    .with_timezone("UTC"),
            ),
        ),
        ("active", Arc::new(BooleanArray::from(vec![true; n]))),
        ("seq", Arc::new(Int64Array::from(vec![7; n]))),
        ("day", Arc::new(Date32Array::from(vec![19_723; n]))),
    ];
    parquet(columns)
}

fn parquet(columns: Vec<(&str, ArrayRef)>) -> Vec<u8> {
    let fields: Vec<Field> = columns
        .iter()
        .map(|(name, array)| Field::new(*name, array.data_type().clone(), true))
        .collect();
    let schema = Arc::new(Schema::new(fields));
    let arrays = columns.into_iter().map(|(_, a)| a).collect();
    let batch = RecordBatch::try_new(schema.clone(), arrays).unwrap();
    let mut bytes = Vec::new();
    let mut writer = ArrowWriter::try_new(&mut bytes, schema, None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    bytes
}

const ACCOUNT_COLUMNS: &str = "(id STRING NOT NULL, amount DECIMAL(38, 9), updated TIMESTAMP, \
                               active BOOLEAN, seq BIGINT, day DATE)";

fn files_url(emulator: &Emulator, path: &str) -> String {
    format!("{}/api/2.0/fs/files{path}", emulator.host())
}

fn directories_url(emulator: &Emulator, path: &str) -> String {
    format!("{}/api/2.0/fs/directories{path}", emulator.host())
}

async fn mkdir(emulator: &Emulator, token: &str, path: &str) -> StatusCode {
    let url = directories_url(emulator, path);
    let response = client().put(url).bearer_auth(token).send().await.unwrap();
    response.status()
}

async fn upload(emulator: &Emulator, token: &str, path: &str, bytes: Vec<u8>) -> StatusCode {
    let response = client()
        .put(files_url(emulator, path))
        .bearer_auth(token)
        .header("Content-Type", "application/octet-stream")
        .body(bytes)
        .send()
        .await
        .unwrap();
    response.status()
}

/// Stages one account file under `dir` in the volume.
async fn stage(emulator: &Emulator, token: &str, dir: &str, name: &str, bytes: Vec<u8>) {
    let dir = format!("{STAGING}/{dir}");
    assert!(mkdir(emulator, token, &dir).await.is_success());
    let status = upload(emulator, token, &format!("{dir}/{name}"), bytes).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn oauth_tokens_are_issued_refused_and_expired() {
    let emulator = start().await;
    let token = oauth_token(&emulator).await;
    assert_eq!(
        rows(&emulator, &token, "SELECT 1").await,
        [[Some("1".to_string())]]
    );

    let refused = token_request(&emulator, "wrong").await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
    assert!(body["error_description"].is_string());

    emulator.expire_tokens();
    let (status, body) = submit_body(
        &emulator,
        &token,
        json!({ "statement": "SELECT 1", "warehouse_id": emulator.warehouse_id() }),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error_code"], "UNAUTHENTICATED");
    let fresh = oauth_token(&emulator).await;
    assert_eq!(rows(&emulator, &fresh, "SELECT 2").await.len(), 1);
    emulator.shutdown().await;
}

#[tokio::test]
async fn discovery_documents_point_at_the_token_endpoint() {
    let emulator = start().await;
    let url = format!("{}/.well-known/databricks-config", emulator.host());
    let config: Value = client()
        .get(url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let oidc = config["oidc_endpoint"].as_str().unwrap().to_string();
    let url = format!("{oidc}/.well-known/oauth-authorization-server");
    let server: Value = client()
        .get(url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        server["token_endpoint"],
        format!("{}/oidc/v1/token", emulator.host())
    );
}

#[tokio::test]
async fn personal_access_tokens_work_and_missing_ones_do_not() {
    let emulator = start().await;
    let pat = emulator.personal_access_token().to_string();
    let who = rows(&emulator, &pat, "SELECT current_user()").await;
    assert_eq!(who, [[Some(emulator.client_id().to_string())]]);

    let url = format!(
        "{}/api/2.0/sql/warehouses/{}",
        emulator.host(),
        emulator.warehouse_id()
    );
    let response = client().get(&url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error_code"], "UNAUTHENTICATED");
    let log = emulator.request_log();
    assert_eq!(log.last().unwrap().status, 401);
    assert!(log.iter().all(|r| !r.path.contains(&pat)));
}

#[tokio::test]
async fn a_cold_warehouse_keeps_statements_pending_until_it_runs() {
    let emulator = start_with(Options {
        cold_start: Duration::from_millis(300),
        initially_stopped: true,
        ..Options::default()
    })
    .await;
    let token = emulator.personal_access_token().to_string();
    let url = format!(
        "{}/api/2.0/sql/warehouses/{}",
        emulator.host(),
        emulator.warehouse_id()
    );
    let warehouse: Value = client()
        .get(&url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(warehouse["state"], "STOPPED");
    assert_eq!(warehouse["odbc_params"]["path"], emulator.http_path());

    let first = submit(&emulator, &token, "SELECT 1", "0s").await;
    assert_eq!(state(&first), "PENDING");
    let id = first["statement_id"].as_str().unwrap().to_string();
    let mut seen_starting = false;
    let mut body = first;
    while state(&body) == "PENDING" {
        let warehouse: Value = client()
            .get(&url)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        seen_starting |= warehouse["state"] == "STARTING";
        body = get_statement(&emulator, &token, &id).await;
    }
    assert!(seen_starting);
    let body = finish(&emulator, &token, body).await;
    assert_eq!(state(&body), "SUCCEEDED");
    assert_eq!(body["result"]["data_array"], json!([["1"]]));
}

#[tokio::test]
async fn wait_timeout_zero_answers_before_the_statement_ends() {
    let emulator = start().await;
    let token = emulator.personal_access_token().to_string();
    let first = submit(&emulator, &token, "SELECT 1", "0s").await;
    assert!(matches!(state(&first), "PENDING" | "RUNNING"), "{first}");
    assert!(first.get("result").is_none());
    let done = finish(&emulator, &token, first).await;
    assert_eq!(state(&done), "SUCCEEDED");
    assert_eq!(done["manifest"]["schema"]["columns"][0]["type_name"], "INT");
}

#[tokio::test]
async fn requests_are_validated_before_they_run() {
    let emulator = start().await;
    let token = emulator.personal_access_token().to_string();
    let id = emulator.warehouse_id().to_string();
    let cases = [
        (
            json!({"statement": "SELECT 1", "warehouse_id": id, "wait_timeout": "4s"}),
            400,
        ),
        (
            json!({"statement": "SELECT 1", "warehouse_id": id, "wait_timeout": "51s"}),
            400,
        ),
        (
            json!({"statement": "SELECT 1", "warehouse_id": id, "on_wait_timeout": "X"}),
            400,
        ),
        (
            json!({"statement": "SELECT 1", "warehouse_id": "nope"}),
            404,
        ),
        (json!({"warehouse_id": id}), 400),
        (
            json!({"statement": "SELECT 1", "warehouse_id": id, "disposition": "EXTERNAL_LINKS"}),
            501,
        ),
    ];
    for (body, expected) in cases {
        let (status, answer) = submit_body(&emulator, &token, body.clone()).await;
        assert_eq!(status.as_u16(), expected, "{body}: {answer}");
        if expected == 400 {
            assert_eq!(answer["error_code"], "INVALID_PARAMETER_VALUE", "{body}");
        }
    }

    emulator.revoke("CAN_USE", Securable::Warehouse);
    let (status, answer) = submit_body(
        &emulator,
        &token,
        json!({"statement": "SELECT 1", "warehouse_id": id}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(answer["error_code"], "PERMISSION_DENIED");
    emulator.grant("CAN_USE", Securable::Warehouse);
    assert_eq!(rows(&emulator, &token, "SELECT 1").await.len(), 1);
}

#[tokio::test]
async fn failed_statements_answer_200_with_the_error_and_sql_state() {
    let emulator = start().await;
    let token = emulator.personal_access_token().to_string();
    let body = run(&emulator, &token, "SELECT * FROM main.zuora.nope").await;
    assert_eq!(state(&body), "FAILED");
    assert_eq!(body["status"]["error"]["error_code"], "BAD_REQUEST");
    assert_eq!(body["status"]["sql_state"], "42P01");
    assert_eq!(
        body["status"]["error"]["message"],
        "[TABLE_OR_VIEW_NOT_FOUND] The table or view `main`.`zuora`.`nope` cannot be found. \
         Verify the spelling and correctness of the schema and catalog. SQLSTATE: 42P01"
    );
    assert!(body.get("manifest").is_none());
    let logged = emulator.statement_log();
    let last = logged.last().unwrap();
    assert_eq!(last.state, StatementState::Failed);
    assert_eq!(last.error_class.as_deref(), Some("TABLE_OR_VIEW_NOT_FOUND"));
}

#[tokio::test]
async fn unsupported_statements_are_syntax_errors() {
    let emulator = start().await;
    let token = emulator.personal_access_token().to_string();
    let message = failure(&emulator, &token, "OPTIMIZE main.zuora.account").await;
    assert_eq!(
        message,
        "[PARSE_SYNTAX_ERROR] Syntax error at or near 'OPTIMIZE'. SQLSTATE: 42601"
    );
    let message = failure(&emulator, &token, "SELECT 1; SELECT 2").await;
    assert!(message.contains("near ';'"), "{message}");
}

#[tokio::test]
async fn planted_http_failures_carry_retry_after() {
    let emulator = start().await;
    let token = emulator.personal_access_token().to_string();
    emulator.fail_next_statements(1, 429);
    emulator.fail_next_statements(1, 503);
    let body = json!({ "statement": "SELECT 1", "warehouse_id": emulator.warehouse_id() });
    for (expected, code) in [
        (StatusCode::TOO_MANY_REQUESTS, "REQUEST_LIMIT_EXCEEDED"),
        (StatusCode::SERVICE_UNAVAILABLE, "TEMPORARILY_UNAVAILABLE"),
    ] {
        let response = client()
            .post(format!("{}/api/2.0/sql/statements/", emulator.host()))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), expected);
        assert_eq!(response.headers()["retry-after"], "1");
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["error_code"], code);
    }
    assert_eq!(rows(&emulator, &token, "SELECT 1").await.len(), 1);

    let planted = "[DELTA_CONCURRENT_APPEND] Files were added by a concurrent update. \
                   SQLSTATE: 2D521";
    emulator.fail_next_statement_with(planted, "2D521");
    let body = run(&emulator, &token, "SELECT 1").await;
    assert_eq!(body["status"]["error"]["message"], planted);
    assert_eq!(body["status"]["sql_state"], "2D521");
}

#[tokio::test]
async fn create_copy_merge_and_select_round_trip() {
    let emulator = start().await;
    let token = oauth_token(&emulator).await;
    let create = format!("CREATE TABLE IF NOT EXISTS `main`.`zuora`.`_landing` {ACCOUNT_COLUMNS}");
    rows(&emulator, &token, &create).await;
    let bytes = account_parquet(&["a", "b"], &[12_345_678_900, -1]);
    stage(&emulator, &token, "run1/account", "part-0.parquet", bytes).await;

    let copy = format!(
        "COPY INTO main.zuora._landing FROM '{STAGING}/run1/account/' FILEFORMAT = PARQUET"
    );
    let body = run(&emulator, &token, &copy).await;
    assert_eq!(state(&body), "SUCCEEDED", "{body}");
    let columns: Vec<&str> = body["manifest"]["schema"]["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        columns,
        [
            "num_affected_rows",
            "num_inserted_rows",
            "num_skipped_corrupt_files"
        ]
    );
    assert_eq!(body["result"]["data_array"], json!([["2", "2", "0"]]));

    let landed = rows(&emulator, &token, "SELECT * FROM _landing ORDER BY id").await;
    assert_eq!(
        cells(&landed),
        [
            [
                "a",
                "12.345678900",
                "2024-01-02T03:04:05.123456Z",
                "true",
                "7",
                "2024-01-01"
            ],
            [
                "b",
                "-0.000000001",
                "2024-01-02T03:04:05.123456Z",
                "true",
                "7",
                "2024-01-01"
            ],
        ]
    );

    let create = format!("CREATE TABLE account {ACCOUNT_COLUMNS}");
    rows(&emulator, &token, &create).await;
    rows(
        &emulator,
        &token,
        "INSERT INTO account (id, seq) VALUES ('a', 1), ('z', 1)",
    )
    .await;
    let merge = "MERGE INTO main.zuora.account AS t USING (SELECT * EXCEPT (_rn) FROM \
                 (SELECT *, ROW_NUMBER() OVER (PARTITION BY id ORDER BY updated DESC) AS _rn \
                 FROM main.zuora._landing) WHERE _rn = 1) AS s ON t.id = s.id \
                 WHEN MATCHED AND s.seq >= t.seq THEN UPDATE SET * \
                 WHEN NOT MATCHED THEN INSERT *";
    let merged = rows(&emulator, &token, merge).await;
    assert_eq!(cells(&merged), [["2", "1", "0", "1"]]);
    let merged = rows(
        &emulator,
        &token,
        "SELECT id, amount, seq FROM account ORDER BY id",
    )
    .await;
    assert_eq!(
        cells(&merged),
        [
            ["a", "12.345678900", "7"],
            ["b", "-0.000000001", "7"],
            ["z", "NULL", "1"],
        ]
    );

    rows(
        &emulator,
        &token,
        "ALTER TABLE account ADD COLUMNS (note STRING)",
    )
    .await;
    let described = rows(&emulator, &token, "DESCRIBE TABLE account").await;
    let types: Vec<(&str, &str)> = cells(&described).iter().map(|r| (r[0], r[1])).collect();
    assert_eq!(
        types,
        [
            ("id", "string"),
            ("amount", "decimal(38,9)"),
            ("updated", "timestamp"),
            ("active", "boolean"),
            ("seq", "bigint"),
            ("day", "date"),
            ("note", "string"),
        ]
    );
    let count = rows(&emulator, &token, "SELECT count(*) FROM account").await;
    assert_eq!(cells(&count), [["3"]]);
    let deleted = rows(&emulator, &token, "DELETE FROM account WHERE id = 'z'").await;
    assert_eq!(cells(&deleted), [["1"]]);
    assert_eq!(
        emulator.query("SELECT count(*) FROM account"),
        [[Some("2".into())]]
    );
}

#[tokio::test]
async fn copy_skips_loaded_paths_unless_forced() {
    let emulator = start().await;
    let token = emulator.personal_access_token().to_string();
    rows(
        &emulator,
        &token,
        &format!("CREATE TABLE t {ACCOUNT_COLUMNS}"),
    )
    .await;
    stage(
        &emulator,
        &token,
        "run2",
        "a.parquet",
        account_parquet(&["a"], &[1]),
    )
    .await;
    let copy = format!("COPY INTO t FROM '{STAGING}/run2' FILEFORMAT = PARQUET");
    assert_eq!(
        cells(&rows(&emulator, &token, &copy).await),
        [["1", "1", "0"]]
    );
    assert_eq!(
        cells(&rows(&emulator, &token, &copy).await),
        [["0", "0", "0"]]
    );

    // The path is the identity: new content under a loaded name is still skipped.
    let replaced = account_parquet(&["x", "y"], &[1, 2]);
    let path = format!("{STAGING}/run2/a.parquet");
    assert_eq!(
        upload(&emulator, &token, &path, replaced).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        cells(&rows(&emulator, &token, &copy).await),
        [["0", "0", "0"]]
    );

    let forced = format!("{copy} COPY_OPTIONS ('force' = 'true')");
    assert_eq!(
        cells(&rows(&emulator, &token, &forced).await),
        [["2", "2", "0"]]
    );
    let single = format!("COPY INTO t FROM '{path}' FILEFORMAT = PARQUET");
    assert_eq!(
        cells(&rows(&emulator, &token, &single).await),
        [["0", "0", "0"]]
    );
    assert_eq!(
        emulator.query("SELECT count(*) FROM t"),
        [[Some("3".into())]]
    );
}

#[tokio::test]
async fn copy_refuses_more_than_1000_files() {
    let emulator = start().await;
    let token = emulator.personal_access_token().to_string();
    rows(
        &emulator,
        &token,
        &format!("CREATE TABLE t {ACCOUNT_COLUMNS}"),
    )
    .await;
    let names: Vec<String> = (0..1001).map(|i| format!("'f{i}.parquet'")).collect();
    let copy = format!(
        "COPY INTO t FROM '{STAGING}' FILEFORMAT = PARQUET FILES = ({})",
        names.join(", ")
    );
    let message = failure(&emulator, &token, &copy).await;
    assert!(
        message.starts_with("[COPY_INTO_FILES_LIMIT_EXCEEDED]"),
        "{message}"
    );
}

#[tokio::test]
async fn copy_matches_columns_by_name_and_merges_schemas_only_when_asked() {
    let emulator = start().await;
    let token = emulator.personal_access_token().to_string();
    rows(
        &emulator,
        &token,
        "CREATE TABLE t (ID STRING, missing BIGINT)",
    )
    .await;
    let extra = parquet(vec![
        ("id", Arc::new(StringArray::from(vec!["a"])) as ArrayRef),
        ("extra", Arc::new(Int64Array::from(vec![5]))),
    ]);
    stage(&emulator, &token, "run3", "extra.parquet", extra).await;
    let copy = format!("COPY INTO t FROM '{STAGING}/run3' FILEFORMAT = PARQUET");
    let message = failure(&emulator, &token, &copy).await;
    assert!(
        message.starts_with("[COPY_INTO_SCHEMA_MISMATCH_WITH_TARGET_TABLE]"),
        "{message}"
    );
    let merged = format!("{copy} COPY_OPTIONS ('mergeSchema' = 'true')");
    assert_eq!(
        cells(&rows(&emulator, &token, &merged).await),
        [["1", "1", "0"]]
    );
    let table = rows(&emulator, &token, "SELECT ID, missing, extra FROM t").await;
    assert_eq!(cells(&table), [["a", "NULL", "5"]]);

    let naive = parquet(vec![(
        "missing",
        Arc::new(TimestampMicrosecondArray::from(vec![0])) as ArrayRef,
    )]);
    stage(&emulator, &token, "run4", "naive.parquet", naive).await;
    let copy = format!("COPY INTO t FROM '{STAGING}/run4' FILEFORMAT = PARQUET");
    let message = failure(&emulator, &token, &copy).await;
    assert_eq!(
        message,
        "[DELTA_FAILED_TO_MERGE_FIELDS] Failed to merge fields 'missing' and 'missing'. \
         SQLSTATE: 22005"
    );
}

#[tokio::test]
async fn merge_refuses_several_source_rows_for_one_target_row() {
    let emulator = start().await;
    let token = emulator.personal_access_token().to_string();
    rows(&emulator, &token, "CREATE TABLE t (id STRING, v BIGINT)").await;
    rows(&emulator, &token, "CREATE TABLE s (id STRING, v BIGINT)").await;
    rows(&emulator, &token, "INSERT INTO t VALUES ('a', 1)").await;
    rows(&emulator, &token, "INSERT INTO s VALUES ('a', 2), ('a', 3)").await;
    let merge = "MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET v = s.v";
    let message = failure(&emulator, &token, merge).await;
    assert!(
        message.starts_with("[DELTA_MULTIPLE_SOURCE_ROW_MATCHING_TARGET_ROW_IN_MERGE]"),
        "{message}"
    );
    assert!(message.ends_with("SQLSTATE: 21506"));
    assert_eq!(emulator.query("SELECT v FROM t"), [[Some("1".into())]]);
}

#[tokio::test]
async fn each_missing_privilege_is_named_and_grant_restores_it() {
    let emulator = start().await;
    let token = emulator.personal_access_token().to_string();
    let admin = emulator.admin_token().to_string();
    rows(
        &emulator,
        &token,
        &format!("CREATE TABLE mine {ACCOUNT_COLUMNS}"),
    )
    .await;
    stage(
        &emulator,
        &token,
        "grants",
        "a.parquet",
        account_parquet(&["a"], &[1]),
    )
    .await;
    let copy = format!("COPY INTO mine FROM '{STAGING}/grants' FILEFORMAT = PARQUET");
    let sp = emulator.client_id().to_string();

    let cases = [
        (
            "USE CATALOG",
            Securable::Catalog("main".into()),
            "SELECT * FROM mine".to_string(),
            denied("USE CATALOG", "Catalog", "main"),
            "GRANT USE CATALOG ON CATALOG main TO `{sp}`",
        ),
        (
            "USE SCHEMA",
            Securable::Schema("main.zuora".into()),
            "DESCRIBE SCHEMA main.zuora".to_string(),
            denied("USE SCHEMA", "Schema", "main.zuora"),
            "GRANT USE SCHEMA ON SCHEMA main.zuora TO `{sp}`",
        ),
        (
            "CREATE TABLE",
            Securable::Schema("main.zuora".into()),
            "CREATE TABLE other (a INT)".to_string(),
            denied("CREATE TABLE", "Schema", "main.zuora"),
            "GRANT CREATE TABLE ON SCHEMA main.zuora TO `{sp}`",
        ),
        (
            "READ VOLUME",
            Securable::Volume("main.zuora.zuora_sync_staging".into()),
            copy.clone(),
            denied("READ VOLUME", "Volume", "main.zuora.zuora_sync_staging"),
            "GRANT READ VOLUME ON VOLUME main.zuora.zuora_sync_staging TO `{sp}`",
        ),
    ];
    for (privilege, securable, sql, expected, restore) in cases {
        emulator.revoke(privilege, securable);
        let message = failure(&emulator, &token, &sql).await;
        assert_eq!(message, expected, "{privilege}");
        let body = run(&emulator, &token, &sql).await;
        assert_eq!(body["status"]["sql_state"], "42501");
        rows(&emulator, &admin, &restore.replace("{sp}", &sp)).await;
        let body = run(&emulator, &token, &sql).await;
        assert_eq!(state(&body), "SUCCEEDED", "{privilege} restored: {body}");
    }

    // A table the admin owns needs MODIFY (and SELECT) for COPY INTO.
    rows(
        &emulator,
        &admin,
        &format!("CREATE TABLE theirs {ACCOUNT_COLUMNS}"),
    )
    .await;
    let theirs = format!("COPY INTO theirs FROM '{STAGING}/grants' FILEFORMAT = PARQUET");
    let message = failure(&emulator, &token, &theirs).await;
    assert_eq!(message, denied("MODIFY", "Table", "main.zuora.theirs"));
    let grant = format!("GRANT MODIFY, SELECT ON TABLE main.zuora.theirs TO `{sp}`");
    let not_admin = failure(&emulator, &token, &grant).await;
    assert!(
        not_admin.starts_with("[INSUFFICIENT_PERMISSIONS]"),
        "{not_admin}"
    );
    rows(&emulator, &admin, &grant).await;
    assert_eq!(
        cells(&rows(&emulator, &token, &theirs).await),
        [["1", "1", "0"]]
    );

    let shown = rows(
        &emulator,
        &token,
        &format!("SHOW GRANTS `{sp}` ON TABLE theirs"),
    )
    .await;
    assert_eq!(
        cells(&shown),
        [
            [sp.as_str(), "SELECT", "TABLE", "main.zuora.theirs"],
            [sp.as_str(), "MODIFY", "TABLE", "main.zuora.theirs"],
        ]
    );
}

#[tokio::test]
async fn the_files_api_checks_volume_privileges() {
    let emulator = start().await;
    let token = emulator.personal_access_token().to_string();
    let path = format!("{STAGING}/f.parquet");
    emulator.revoke(
        "WRITE VOLUME",
        Securable::Volume("main.zuora.zuora_sync_staging".into()),
    );
    let response = client()
        .put(files_url(&emulator, &path))
        .bearer_auth(&token)
        .body(vec![1, 2, 3])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error_code"], "PERMISSION_DENIED");
    assert_eq!(
        body["message"],
        "User does not have WRITE VOLUME on Volume 'main.zuora.zuora_sync_staging'."
    );

    emulator.grant(
        "WRITE VOLUME",
        Securable::Volume("main.zuora.zuora_sync_staging".into()),
    );
    assert_eq!(
        upload(&emulator, &token, &path, vec![1, 2, 3]).await,
        StatusCode::NO_CONTENT
    );
    emulator.revoke(
        "READ VOLUME",
        Securable::Volume("main.zuora.zuora_sync_staging".into()),
    );
    let response = client()
        .get(files_url(&emulator, &path))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_files_api_stores_lists_and_refuses_like_databricks() {
    let emulator = start().await;
    let token = emulator.personal_access_token().to_string();
    let dir = format!("{STAGING}/listing");
    assert_eq!(
        mkdir(&emulator, &token, &format!("{dir}/nested")).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(mkdir(&emulator, &token, &dir).await, StatusCode::NO_CONTENT);
    for i in 0..4 {
        let status = upload(&emulator, &token, &format!("{dir}/f{i}"), vec![0; i + 1]).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
    }

    let mut names = Vec::new();
    let mut token_param: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut request = client()
            .get(directories_url(&emulator, &dir))
            .bearer_auth(&token)
            .query(&[("page_size", "2")]);
        if let Some(page) = &token_param {
            request = request.query(&[("page_token", page)]);
        }
        let page: Value = request.send().await.unwrap().json().await.unwrap();
        pages += 1;
        for entry in page["contents"].as_array().unwrap() {
            names.push(entry["name"].as_str().unwrap().to_string());
            if entry["name"] == "f2" {
                assert_eq!(entry["file_size"], 3);
                assert_eq!(entry["path"], format!("{dir}/f2"));
                assert!(entry["last_modified"].as_u64().unwrap() > 0);
            }
            if entry["name"] == "nested" {
                assert_eq!(entry["is_directory"], true);
                assert!(entry.get("file_size").is_none());
            }
        }
        match page["next_page_token"].as_str() {
            Some(next) => token_param = Some(next.to_string()),
            None => break,
        }
    }
    assert_eq!(names, ["f0", "f1", "f2", "f3", "nested"]);
    assert_eq!(pages, 3);
    for (path, expected) in [(dir.clone(), 200), (format!("{dir}/absent"), 404)] {
        let head = client()
            .head(directories_url(&emulator, &path))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(head.status().as_u16(), expected, "{path}");
    }

    let head = client()
        .head(files_url(&emulator, &format!("{dir}/f3")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(head.headers()["content-length"], "4");
    assert!(head.headers().contains_key("last-modified"));
    let ranged = client()
        .get(files_url(&emulator, &format!("{dir}/f3")))
        .bearer_auth(&token)
        .header("Range", "bytes=1-2")
        .send()
        .await
        .unwrap();
    assert_eq!(ranged.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(ranged.bytes().await.unwrap().len(), 2);

    let no_overwrite = client()
        .put(format!(
            "{}?overwrite=false",
            files_url(&emulator, &format!("{dir}/f0"))
        ))
        .bearer_auth(&token)
        .body(vec![9])
        .send()
        .await
        .unwrap();
    assert_eq!(no_overwrite.status(), StatusCode::CONFLICT);
    let body: Value = no_overwrite.json().await.unwrap();
    assert_eq!(body["error_code"], "ALREADY_EXISTS");

    let orphan = upload(&emulator, &token, &format!("{dir}/missing/f"), vec![1]).await;
    assert_eq!(orphan, StatusCode::NOT_FOUND);
    let missing = client()
        .get(files_url(&emulator, &format!("{dir}/nope")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let body: Value = missing.json().await.unwrap();
    assert_eq!(body["error_code"], "NOT_FOUND");
    let not_empty = client()
        .delete(directories_url(&emulator, &dir))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(not_empty.status(), StatusCode::CONFLICT);
    let outside = upload(&emulator, &token, "/Volumes/main/zuora", vec![1]).await;
    assert_eq!(outside, StatusCode::BAD_REQUEST);
    let no_volume = upload(&emulator, &token, "/Volumes/main/zuora/nope/f", vec![1]).await;
    assert_eq!(no_volume, StatusCode::NOT_FOUND);

    let delete = client()
        .delete(files_url(&emulator, &format!("{dir}/f0")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(delete.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        emulator.files(&dir),
        [
            format!("{dir}/f1"),
            format!("{dir}/f2"),
            format!("{dir}/f3")
        ]
    );
}

#[tokio::test]
async fn large_results_come_in_chunks() {
    let emulator = start().await;
    let token = emulator.personal_access_token().to_string();
    rows(&emulator, &token, "CREATE TABLE n (id BIGINT)").await;
    let total = statements::ROWS_PER_CHUNK + 5;
    rows(
        &emulator,
        &token,
        &format!("INSERT INTO n SELECT id FROM range({total})"),
    )
    .await;
    let body = run(&emulator, &token, "SELECT id FROM n ORDER BY id").await;
    assert_eq!(body["manifest"]["total_chunk_count"], 2);
    assert_eq!(body["manifest"]["total_row_count"], total);
    let link = body["result"]["next_chunk_internal_link"].as_str().unwrap();
    let chunk: Value = client()
        .get(format!("{}{link}", emulator.host()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(chunk["chunk_index"], 1);
    assert_eq!(chunk["row_count"], 5);
    assert_eq!(
        chunk["data_array"][0][0],
        statements::ROWS_PER_CHUNK.to_string()
    );
}

#[tokio::test]
async fn pending_statements_can_be_canceled() {
    let emulator = start_with(Options {
        cold_start: Duration::from_secs(3600),
        initially_stopped: true,
        ..Options::default()
    })
    .await;
    let token = emulator.personal_access_token().to_string();
    let body = submit(&emulator, &token, "SELECT 1", "0s").await;
    let id = body["statement_id"].as_str().unwrap().to_string();
    let url = format!("{}/api/2.0/sql/statements/{id}/cancel", emulator.host());
    let response = client()
        .post(url)
        .bearer_auth(&token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.unwrap(), json!({}));
    assert_eq!(
        state(&get_statement(&emulator, &token, &id).await),
        "CANCELED"
    );

    let body = json!({"statement": "SELECT 1", "warehouse_id": emulator.warehouse_id(),
                      "wait_timeout": "5s", "on_wait_timeout": "CANCEL"});
    let (status, answer) = submit_body(&emulator, &token, body).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(state(&answer), "CANCELED");
}

#[tokio::test]
async fn the_statement_log_never_holds_credentials() {
    let emulator = start().await;
    let token = emulator.personal_access_token().to_string();
    rows(
        &emulator,
        &token,
        &format!("CREATE TABLE t {ACCOUNT_COLUMNS}"),
    )
    .await;
    let copy = "COPY INTO t FROM 's3://bucket/run/' WITH (CREDENTIAL (AWS_ACCESS_KEY = \
                'AKIAEXAMPLE', AWS_SECRET_KEY = 'very/secret', AWS_SESSION_TOKEN = 'tok')) \
                FILEFORMAT = PARQUET";
    let message = failure(&emulator, &token, copy).await;
    assert!(!message.contains("very/secret"));
    let logged = emulator.statement_log();
    let sql = &logged.last().unwrap().sql;
    assert!(sql.contains("AWS_SECRET_KEY = 'REDACTED'"), "{sql}");
    for secret in ["AKIAEXAMPLE", "very/secret", "'tok'"] {
        assert!(!sql.contains(secret), "{sql}");
    }
}

#[tokio::test]
async fn parameters_bind_by_name() {
    let emulator = start().await;
    let token = emulator.personal_access_token().to_string();
    let body = json!({
        "statement": "SELECT :name AS name, :n + 1 AS next",
        "warehouse_id": emulator.warehouse_id(),
        "wait_timeout": "50s",
        "parameters": [
            { "name": "name", "value": "it's" },
            { "name": "n", "value": "41", "type": "INT" },
        ],
    });
    let (status, answer) = submit_body(&emulator, &token, body).await;
    assert_eq!(status, StatusCode::OK);
    let answer = finish(&emulator, &token, answer).await;
    assert_eq!(answer["result"]["data_array"], json!([["it's", "42"]]));
}

/// A loopback S3 (s3s over a temporary folder) that checks request signatures against one key
/// pair, so wrong credentials fail as they would on S3.
struct LoopbackS3 {
    endpoint: String,
    _root: tempfile::TempDir,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for LoopbackS3 {
    fn drop(&mut self) {
        self.task.abort();
    }
}

const S3_ACCESS: &str = "AKIALOOPBACKTEST";
const S3_SECRET: &str = "loopback/secret+key";

async fn loopback_s3(bucket: &str) -> LoopbackS3 {
    use hyper_util::rt::{TokioExecutor, TokioIo};
    use hyper_util::server::conn::auto::Builder;

    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir(root.path().join(bucket)).unwrap();
    let mut service =
        s3s::service::S3ServiceBuilder::new(s3s_fs::FileSystem::new(root.path()).unwrap());
    service.set_auth(s3s::auth::SimpleAuth::from_single(S3_ACCESS, S3_SECRET));
    let service = service.build();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let service = service.clone();
            tokio::spawn(async move {
                let connection = Builder::new(TokioExecutor::new());
                let _ = connection
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    LoopbackS3 {
        endpoint,
        _root: root,
        task,
    }
}

async fn put_object(s3: &LoopbackS3, bucket: &str, key: &str, bytes: Vec<u8>) {
    use object_store::ObjectStoreExt;

    let store = object_store::aws::AmazonS3Builder::new()
        .with_endpoint(&s3.endpoint)
        .with_allow_http(true)
        .with_region("us-east-1")
        .with_bucket_name(bucket)
        .with_access_key_id(S3_ACCESS)
        .with_secret_access_key(S3_SECRET)
        .build()
        .unwrap();
    let path = object_store::path::Path::from(key);
    store.put(&path, bytes.into()).await.unwrap();
}

#[tokio::test]
async fn s3_sources_are_read_with_the_statements_credentials() {
    let s3 = loopback_s3("staging").await;
    put_object(
        &s3,
        "staging",
        "run/a.parquet",
        account_parquet(&["a"], &[1]),
    )
    .await;
    put_object(
        &s3,
        "staging",
        "run/b.parquet",
        account_parquet(&["b", "c"], &[2, 3]),
    )
    .await;
    let emulator = start_with(Options {
        s3_endpoint: Some(s3.endpoint.clone()),
        ..Options::default()
    })
    .await;
    let token = emulator.personal_access_token().to_string();
    rows(
        &emulator,
        &token,
        &format!("CREATE TABLE t {ACCOUNT_COLUMNS}"),
    )
    .await;

    let copy = |secret: &str, source: &str| {
        format!(
            "COPY INTO t FROM '{source}' WITH (CREDENTIAL (AWS_ACCESS_KEY = '{S3_ACCESS}', \
             AWS_SECRET_KEY = '{secret}')) FILEFORMAT = PARQUET"
        )
    };
    let message = failure(&emulator, &token, &copy("wrong", "s3://staging/run/")).await;
    assert!(message.contains("Access Denied"), "{message}");
    assert!(
        !message.contains("wrong") && !message.contains(S3_SECRET),
        "{message}"
    );

    let loaded = rows(&emulator, &token, &copy(S3_SECRET, "s3://staging/run/")).await;
    assert_eq!(cells(&loaded), [["3", "3", "0"]]);
    let again = rows(
        &emulator,
        &token,
        &copy(S3_SECRET, "s3://staging/run/a.parquet"),
    )
    .await;
    assert_eq!(cells(&again), [["0", "0", "0"]]);
    let root = rows(&emulator, &token, &copy(S3_SECRET, "s3://staging/")).await;
    assert_eq!(cells(&root), [["0", "0", "0"]]);
    let missing = failure(&emulator, &token, &copy(S3_SECRET, "s3://staging/nope/")).await;
    assert!(missing.starts_with("[PATH_NOT_FOUND]"), "{missing}");
    let logged = emulator.statement_log();
    assert!(logged.iter().all(|s| !s.sql.contains(S3_SECRET)));
}

#[tokio::test]
async fn ddl_follows_ownership_and_create_privileges() {
    let emulator = start().await;
    let token = emulator.personal_access_token().to_string();
    let admin = emulator.admin_token().to_string();
    rows(&emulator, &token, "CREATE TABLE mine (a INT)").await;
    let again = failure(&emulator, &token, "CREATE TABLE mine (a INT)").await;
    assert!(
        again.starts_with("[TABLE_OR_VIEW_ALREADY_EXISTS]"),
        "{again}"
    );
    rows(&emulator, &token, "CREATE TABLE IF NOT EXISTS mine (a INT)").await;
    let duplicate = failure(&emulator, &token, "CREATE TABLE d (a INT, A STRING)").await;
    assert!(
        duplicate.starts_with("[COLUMN_ALREADY_EXISTS]"),
        "{duplicate}"
    );
    let no_schema = failure(&emulator, &token, "CREATE TABLE main.nope.t (a INT)").await;
    assert!(no_schema.starts_with("[SCHEMA_NOT_FOUND]"), "{no_schema}");

    rows(&emulator, &token, "INSERT INTO mine VALUES (1), (2)").await;
    rows(&emulator, &token, "TRUNCATE TABLE mine").await;
    assert!(emulator.query("SELECT * FROM mine").is_empty());

    rows(&emulator, &admin, "CREATE TABLE theirs (a INT)").await;
    let drop = failure(&emulator, &token, "DROP TABLE theirs").await;
    assert_eq!(
        drop,
        "[INSUFFICIENT_PERMISSIONS] Insufficient privileges: User is not an owner of Table \
         'main.zuora.theirs'. SQLSTATE: 42501"
    );
    rows(&emulator, &token, "DROP TABLE mine").await;
    rows(&emulator, &token, "DROP TABLE IF EXISTS mine").await;
    let gone = failure(&emulator, &token, "DROP TABLE mine").await;
    assert!(gone.starts_with("[TABLE_OR_VIEW_NOT_FOUND]"), "{gone}");

    let volume = failure(&emulator, &token, "CREATE VOLUME main.zuora.other").await;
    assert_eq!(volume, denied("CREATE VOLUME", "Schema", "main.zuora"));
    rows(
        &emulator,
        &admin,
        "CREATE VOLUME IF NOT EXISTS main.zuora.other",
    )
    .await;
    let dir = "/Volumes/main/zuora/other/x";
    assert_eq!(mkdir(&emulator, &admin, dir).await, StatusCode::NO_CONTENT);
    let grants = rows(&emulator, &admin, "SHOW GRANTS ON SCHEMA main.zuora").await;
    let sp = emulator.client_id();
    assert_eq!(
        cells(&grants),
        [
            [sp, "USE SCHEMA", "SCHEMA", "main.zuora"],
            [sp, "CREATE TABLE", "SCHEMA", "main.zuora"],
        ]
    );
    let schema = rows(&emulator, &token, "DESCRIBE SCHEMA main.zuora").await;
    assert_eq!(cells(&schema)[1], ["Namespace Name", "zuora"]);
    let catalog = failure(&emulator, &token, "USE CATALOG nope").await;
    assert!(catalog.starts_with("[CATALOG_NOT_FOUND]"), "{catalog}");
}

#[tokio::test]
async fn a_failed_copy_loads_nothing_and_records_nothing() {
    let emulator = start().await;
    let token = emulator.personal_access_token().to_string();
    rows(
        &emulator,
        &token,
        "CREATE TABLE t (id STRING NOT NULL, seq BIGINT)",
    )
    .await;
    let good = parquet(vec![
        ("id", Arc::new(StringArray::from(vec!["a"])) as ArrayRef),
        ("seq", Arc::new(Int64Array::from(vec![1]))),
    ]);
    let no_id = parquet(vec![(
        "seq",
        Arc::new(Int64Array::from(vec![2])) as ArrayRef,
    )]);
    stage(&emulator, &token, "atomic", "1-good.parquet", good).await;
    stage(&emulator, &token, "atomic", "2-no-id.parquet", no_id).await;
    let copy = format!("COPY INTO t FROM '{STAGING}/atomic' FILEFORMAT = PARQUET");
    let message = failure(&emulator, &token, &copy).await;
    assert_eq!(
        message,
        "[DELTA_NOT_NULL_CONSTRAINT_VIOLATED] NOT NULL constraint violated for column: id. \
         SQLSTATE: 23502"
    );
    assert!(emulator.query("SELECT * FROM t").is_empty());

    let only_good = format!("{copy} FILES = ('1-good.parquet')");
    assert_eq!(
        cells(&rows(&emulator, &token, &only_good).await),
        [["1", "1", "0"]]
    );
}

#[tokio::test]
async fn merge_takes_backticked_assignments_and_null_safe_comparisons() {
    let emulator = start().await;
    let token = emulator.personal_access_token().to_string();
    rows(
        &emulator,
        &token,
        "CREATE TABLE t (`id` STRING, `v` BIGINT, `at` TIMESTAMP)",
    )
    .await;
    rows(
        &emulator,
        &token,
        "CREATE TABLE l (`id` STRING, `v` BIGINT, `at` TIMESTAMP)",
    )
    .await;
    rows(
        &emulator,
        &token,
        "INSERT INTO t VALUES ('a', 1, NULL), ('b', 2, NULL)",
    )
    .await;
    let landing = "INSERT INTO l VALUES ('a', 1, NULL), ('b', 5, NULL), ('b', 6, NULL), \
                   ('c', 3, TIMESTAMP '2024-01-01 00:00:00')";
    rows(&emulator, &token, landing).await;
    let merge = "MERGE INTO `main`.`zuora`.`t` AS t USING (SELECT `id`, `v`, `at` FROM \
                 (SELECT *, ROW_NUMBER() OVER (PARTITION BY `id` ORDER BY `v` DESC NULLS LAST) \
                 AS _rank FROM `main`.`zuora`.`l`) AS ranked WHERE _rank = 1) AS s \
                 ON t.`id` = s.`id` \
                 WHEN MATCHED AND (s.`v` IS DISTINCT FROM t.`v` OR NOT (s.`at` <=> t.`at`)) \
                 THEN UPDATE SET `id` = s.`id`, `v` = s.`v`, `at` = s.`at` \
                 WHEN NOT MATCHED THEN INSERT (`id`, `v`, `at`) VALUES (s.`id`, s.`v`, s.`at`)";
    assert_eq!(
        cells(&rows(&emulator, &token, merge).await),
        [["2", "1", "0", "1"]]
    );
    let merged = rows(
        &emulator,
        &token,
        "SELECT `id`, `v`, `at` FROM t ORDER BY `id`",
    )
    .await;
    assert_eq!(
        cells(&merged),
        [
            ["a", "1", "NULL"],
            ["b", "6", "NULL"],
            ["c", "3", "2024-01-01T00:00:00Z"],
        ]
    );
}
