//! Syncs into the Databricks emulator in both modes (Unity Catalog with a volume, Hive
//! metastore with S3), read back through the Statement Execution API and compared cell by cell;
//! the permissions checklist and what `sync` says for each missing privilege; cold starts,
//! failed statements, throttling and expiring tokens.

use std::collections::BTreeMap;
use std::time::Duration;

use zuora_sync::config::{DatabricksAuth, DatabricksConfig, Metastore, Secret};
use zuora_sync::databricks::Api;
use zuora_sync::emulator::databricks::{self as bricks, Securable};
use zuora_sync::emulator::zuora::FieldType;
use zuora_sync::schema::snake_case;

use crate::s3::S3Server;
use crate::support::{
    Extra, Row, Setup, assert_rows_match, by_id, checkpoint_status, decimal_at_scale_9, describe,
    exported,
};

const OBJECTS: &[&str] = &["Account", "Invoice", "InvoiceItem"];

enum Mode {
    UnityCatalog,
    Hive,
}

struct Workspace {
    setup: Setup,
    bricks: bricks::Emulator,
    _s3: Option<S3Server>,
}

async fn workspace(mode: Mode, options: bricks::Options) -> Workspace {
    let s3 = match mode {
        Mode::Hive => Some(S3Server::start().await),
        Mode::UnityCatalog => None,
    };
    let options = bricks::Options {
        catalog: match mode {
            Mode::Hive => "hive_metastore".to_string(),
            Mode::UnityCatalog => "main".to_string(),
        },
        s3_endpoint: s3.as_ref().map(|s| s.endpoint.clone()),
        s3_region: "us-east-1".to_string(),
        ..options
    };
    let bricks = bricks::Emulator::start(options)
        .await
        .expect("the Databricks emulator starts");
    let c = bricks.connection_json();
    let mut env = vec![(
        "DATABRICKS_CLIENT_SECRET".to_string(),
        bricks.client_secret().to_string(),
    )];
    let staging = match (&mode, &s3) {
        (Mode::UnityCatalog, _) => format!(
            "[staging]\nurl = \"/Volumes/{}/{}/{}\"\n",
            c["catalog"].as_str().unwrap(),
            c["schema"].as_str().unwrap(),
            c["volume"].as_str().unwrap()
        ),
        (Mode::Hive, Some(s3)) => {
            env.push(("AWS_ACCESS_KEY_ID".into(), s3.access_key.clone()));
            env.push(("AWS_SECRET_ACCESS_KEY".into(), s3.secret_key.clone()));
            format!(
                "[staging]\nurl = \"s3://{}/runs\"\nregion = \"us-east-1\"\nendpoint = \"{}\"\n",
                s3.bucket, s3.endpoint
            )
        }
        (Mode::Hive, None) => unreachable!("hive mode starts an S3 server"),
    };
    let metastore = match mode {
        Mode::Hive => "hive",
        Mode::UnityCatalog => "unity_catalog",
    };
    let destination = format!(
        "[warehouse]\nkind = \"databricks\"\nhost = \"{}\"\nhttp_path = \"{}\"\ncatalog = \"{}\"\n\
         schema = \"{}\"\nmetastore = \"{metastore}\"\nclient_id = \"{}\"\n\n{staging}",
        bricks.host(),
        bricks.http_path(),
        c["catalog"].as_str().unwrap(),
        c["schema"].as_str().unwrap(),
        bricks.client_id(),
    );
    let extra = Extra {
        destination: Some(destination),
        env,
        ..Extra::default()
    };
    let setup = Setup::with(25, Some(OBJECTS), extra).await;
    Workspace {
        setup,
        bricks,
        _s3: s3,
    }
}

impl Workspace {
    /// A client of the workspace as its admin, for reading tables back.
    fn admin(&self) -> Api {
        let c = self.bricks.connection_json();
        let config = DatabricksConfig {
            host: self.bricks.host().parse().unwrap(),
            http_path: self.bricks.http_path(),
            warehouse_id: self.bricks.warehouse_id().to_string(),
            catalog: c["catalog"].as_str().unwrap().to_string(),
            schema: c["schema"].as_str().unwrap().to_string(),
            metastore: Metastore::UnityCatalog,
            auth: DatabricksAuth::Token(Some(Secret::new(self.bricks.admin_token()))),
        };
        Api::new(&config).expect("an admin client")
    }

    /// Reads every table back through the Statement Execution API and compares every cell.
    async fn assert_matches(&self) {
        let api = self.admin();
        for object in OBJECTS {
            let rows = read_back(&api, &self.setup, object).await;
            assert_rows_match(&self.setup.emulator, object, &rows);
        }
    }

    fn copy_statements(&self) -> usize {
        self.bricks
            .statement_log()
            .iter()
            .filter(|s| s.sql.starts_with("COPY INTO"))
            .count()
    }
}

async fn read_back(api: &Api, setup: &Setup, object: &str) -> BTreeMap<String, Row> {
    let fields = exported(&setup.emulator, object);
    let mut columns: Vec<(String, FieldType)> = fields
        .iter()
        .map(|(name, ty)| (snake_case(name), *ty))
        .collect();
    columns.push(("_deleted".to_string(), FieldType::Boolean));
    let select: Vec<String> = columns.iter().map(|(c, _)| format!("`{c}`")).collect();
    let sql = format!("SELECT {} FROM `{}`", select.join(", "), snake_case(object));
    let result = api.sql(&sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    let rows = result.rows.into_iter().map(|cells| -> Row {
        columns
            .iter()
            .zip(cells)
            .map(|((column, ty), cell)| (column.clone(), cell.map(|c| normalise(*ty, &c))))
            .collect()
    });
    by_id(object, rows)
}

/// A cell as the DuckDB comparison writes it: decimals at scale 9, instants in µs.
fn normalise(ty: FieldType, cell: &str) -> String {
    match ty {
        FieldType::Decimal => decimal_at_scale_9(cell),
        FieldType::Boolean => cell.to_ascii_lowercase(),
        FieldType::Datetime => {
            let parsed = chrono::DateTime::parse_from_rfc3339(cell)
                .or_else(|_| chrono::DateTime::parse_from_str(cell, "%Y-%m-%d %H:%M:%S%.f%#z"))
                .unwrap_or_else(|e| panic!("{cell:?} is not a timestamp: {e}"));
            parsed.timestamp_micros().to_string()
        }
        _ => cell.to_string(),
    }
}

fn text(output: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn unity_catalog_volume_sync_matches_every_cell_and_a_second_sync_changes_nothing() {
    let w = workspace(Mode::UnityCatalog, bricks::Options::default()).await;
    let first = w.setup.sync_ok().await;
    w.assert_matches().await;

    let files: u64 = OBJECTS
        .iter()
        .map(|o| first["objects"][o]["files"].as_u64().unwrap())
        .sum();
    let copies = w.copy_statements() as u64;
    assert!(
        copies <= files.div_ceil(1000) * OBJECTS.len() as u64 && copies >= 1,
        "{copies} COPY for {files} files"
    );
    for object in OBJECTS {
        let summary = &first["objects"][object];
        let files = summary["files"].as_u64().unwrap();
        assert!(
            summary["copy_statements"].as_u64().unwrap() <= files.div_ceil(1000),
            "{summary}"
        );
    }

    let second = w.setup.sync_ok().await;
    for object in OBJECTS {
        assert_eq!(second["objects"][object]["rows_changed"], 0, "{second}");
    }
    w.assert_matches().await;
    let left: Vec<String> = w.bricks.files("/Volumes/main/zuora/zuora_sync_staging");
    assert!(
        !left.iter().any(|f| f.ends_with(".parquet")),
        "staged files are removed: {left:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn hive_metastore_with_s3_staging_matches_every_cell_and_a_second_sync_changes_nothing() {
    let w = workspace(Mode::Hive, bricks::Options::default()).await;
    w.setup.sync_ok().await;
    w.assert_matches().await;
    let second = w.setup.sync_ok().await;
    for object in OBJECTS {
        assert_eq!(second["objects"][object]["rows_changed"], 0, "{second}");
    }
    let copies: Vec<String> = w
        .bricks
        .statement_log()
        .into_iter()
        .filter(|s| s.sql.starts_with("COPY INTO"))
        .map(|s| s.sql)
        .collect();
    assert!(!copies.is_empty());
    for sql in &copies {
        assert!(sql.contains("FROM 's3://zuora-staging/runs/"), "{sql}");
        assert!(sql.contains("CREDENTIAL"), "{sql}");
        assert!(
            !sql.contains("s3cr3t"),
            "the statement log keeps the secret: {sql}"
        );
    }
}

/// Each privilege of the checklist, revoked: `check` names it and the GRANT that fixes it,
/// `sync` fails with the same words and exit code 78 leaving the checkpoint consistent, and
/// after the GRANT the next sync completes.
#[tokio::test(flavor = "multi_thread")]
async fn every_missing_privilege_is_named_with_its_grant_by_check_and_by_sync() {
    let cases: [(&str, Securable, &str); 5] = [
        (
            "USE CATALOG",
            Securable::Catalog("main".into()),
            "GRANT USE CATALOG ON CATALOG `main`",
        ),
        (
            "USE SCHEMA",
            Securable::Schema("main.zuora".into()),
            "GRANT USE SCHEMA ON SCHEMA `main`.`zuora`",
        ),
        (
            "CREATE TABLE",
            Securable::Schema("main.zuora".into()),
            "GRANT CREATE TABLE ON SCHEMA `main`.`zuora`",
        ),
        (
            "READ VOLUME",
            Securable::Volume("main.zuora.zuora_sync_staging".into()),
            "READ VOLUME",
        ),
        (
            "WRITE VOLUME",
            Securable::Volume("main.zuora.zuora_sync_staging".into()),
            "WRITE VOLUME",
        ),
    ];
    for (privilege, securable, grant) in cases {
        let w = workspace(Mode::UnityCatalog, bricks::Options::default()).await;
        w.bricks.revoke(privilege, securable.clone());

        let check = w.setup.run(&["check"], &[]).await;
        assert_eq!(
            check.status.code(),
            Some(78),
            "{privilege}: {}",
            describe(&check)
        );
        assert!(
            text(&check).contains(grant),
            "{privilege}: check does not say {grant:?}:\n{}",
            text(&check)
        );

        let sync = w.setup.run(&["sync"], &[]).await;
        assert_eq!(
            sync.status.code(),
            Some(78),
            "{privilege}: {}",
            describe(&sync)
        );
        assert!(
            text(&sync).contains(grant),
            "{privilege}: sync does not say {grant:?}:\n{}",
            text(&sync)
        );
        let status = checkpoint_status(w.setup.dir.path());
        for object in status["objects"].as_array().unwrap() {
            assert!(object["watermark"].is_null(), "{privilege}: {object}");
        }

        w.bricks.grant(privilege, securable);
        let check = w.setup.run(&["check"], &[]).await;
        assert_eq!(
            check.status.code(),
            Some(0),
            "{privilege} granted: {}",
            describe(&check)
        );
        w.setup.sync_ok().await;
        w.assert_matches().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn without_can_use_on_the_warehouse_nothing_runs_and_the_fix_is_named() {
    let w = workspace(Mode::UnityCatalog, bricks::Options::default()).await;
    w.bricks.revoke("CAN_USE", Securable::Warehouse);
    let check = w.setup.run(&["check"], &[]).await;
    assert_eq!(check.status.code(), Some(78), "{}", describe(&check));
    assert!(text(&check).contains("Can use"), "{}", text(&check));
    let sync = w.setup.run(&["sync"], &[]).await;
    assert_eq!(sync.status.code(), Some(78), "{}", describe(&sync));
    assert!(text(&sync).contains("Can use"), "{}", text(&sync));
    w.bricks.grant("CAN_USE", Securable::Warehouse);
    w.setup.sync_ok().await;
    w.assert_matches().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stopped_warehouse_is_started_and_waited_for() {
    let options = bricks::Options {
        initially_stopped: true,
        cold_start: Duration::from_millis(600),
        ..bricks::Options::default()
    };
    let w = workspace(Mode::UnityCatalog, options).await;
    let check = w.setup.run(&["check"], &[]).await;
    assert!(
        text(&check).contains("STOPPED") || text(&check).contains("STARTING"),
        "{}",
        text(&check)
    );
    w.bricks.stop_warehouse();
    w.setup.sync_ok().await;
    w.assert_matches().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn throttling_and_passing_failures_end_in_a_complete_sync() {
    let w = workspace(Mode::UnityCatalog, bricks::Options::default()).await;
    w.bricks.fail_next_statements(3, 429);
    w.setup.sync_ok().await;
    w.bricks.fail_next_statements(2, 503);
    w.bricks.fail_next_statement_with(
        "[DELTA_CONCURRENT_APPEND] Files were added by a concurrent update.",
        "2D521",
    );
    w.setup.sync_ok().await;
    w.assert_matches().await;
    let throttled = w
        .bricks
        .request_log()
        .iter()
        .filter(|r| r.status == 429 || r.status == 503)
        .count();
    assert_eq!(throttled, 5, "every injected failure was seen");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_statement_is_a_clear_error_and_the_next_run_completes() {
    let w = workspace(Mode::UnityCatalog, bricks::Options::default()).await;
    w.bricks
        .fail_next_statement_with("[DIVIDE_BY_ZERO] Division by zero.", "22012");
    let sync = w.setup.run(&["sync"], &[]).await;
    // One object's statement failed; the others were synced.
    assert_eq!(sync.status.code(), Some(3), "{}", describe(&sync));
    assert!(
        text(&sync).contains("[DIVIDE_BY_ZERO] Division by zero."),
        "{}",
        text(&sync)
    );
    w.setup.sync_ok().await;
    w.assert_matches().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_that_expire_mid_run_are_replaced() {
    let w = workspace(Mode::UnityCatalog, bricks::Options::default()).await;
    let mut sync = w
        .setup
        .command(&["sync", "--json"], &[])
        .spawn()
        .expect("sync starts");
    // Once the run has sent statements with its token, every token stops working.
    while w.bricks.statement_log().len() < 4 {
        // Polling a condition, not waiting for time to pass: the loop ends on the event.
        tokio::time::sleep(Duration::from_millis(10)).await;
        if let Some(status) = sync.try_wait().expect("waitable") {
            panic!("the sync ended before its token could expire: {status}");
        }
    }
    w.bricks.expire_tokens();
    let output = sync.wait_with_output().await.expect("sync ends");
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    let refused = w
        .bricks
        .request_log()
        .iter()
        .filter(|r| r.status == 401)
        .count();
    assert!(refused >= 1, "the expired token was refused and replaced");
    w.assert_matches().await;
}
