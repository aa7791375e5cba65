//! What the integration tests share: an emulated tenant, a configuration in a temporary
//! folder, running the binary, and reading the warehouse back to compare with the emulator.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use zuora_sync::emulator::zuora::{Emulator, FieldType, Options, Record, Value};
use zuora_sync::schema::snake_case;

pub const BINARY: &str = env!("CARGO_BIN_EXE_zuora-sync");

/// An emulated tenant and a folder with a configuration that syncs it into DuckDB.
pub struct Setup {
    pub emulator: Emulator,
    pub dir: tempfile::TempDir,
    /// Environment for every run of the binary, besides the Zuora secret.
    pub env: Vec<(String, String)>,
}

/// What a test configuration adds to the defaults.
#[derive(Default)]
pub struct Extra {
    /// Replaces the `[warehouse]` and `[staging]` sections (DuckDB and a local folder).
    pub destination: Option<String>,
    /// Lines of `[zuora]` that replace the default retry settings (2 retries within 5 s).
    pub zuora: Option<String>,
    /// Lines appended to `[sync]`; unless they set `deletes`, the delete channel is off.
    pub sync: String,
    /// Sections appended at the end (`[objects.X]`).
    pub tail: String,
    pub env: Vec<(String, String)>,
}

impl Setup {
    pub async fn new(accounts: usize, objects: Option<&[&str]>) -> Self {
        Self::with(accounts, objects, Extra::default()).await
    }

    pub async fn with(accounts: usize, objects: Option<&[&str]>, extra: Extra) -> Self {
        let emulator = Emulator::start(Options {
            accounts,
            seed: 7,
            ..Options::default()
        })
        .await
        .expect("the emulator starts");
        Self::for_emulator(emulator, objects, extra)
    }

    pub fn for_emulator(emulator: Emulator, objects: Option<&[&str]>, extra: Extra) -> Self {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let objects = objects.map_or(String::new(), |names| {
            let quoted: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
            format!("objects = [{}]\n", quoted.join(", "))
        });
        let destination = extra.destination.unwrap_or_else(|| {
            "[warehouse]\nkind = \"duckdb\"\npath = \"warehouse.duckdb\"\n\n\
             [staging]\nurl = \"staging\"\n"
                .to_string()
        });
        let zuora = extra
            .zuora
            .unwrap_or_else(|| "max_retries = 2\nretry_budget = \"5s\"\n".into());
        let default = |key: &str, line: &str| {
            if extra.sync.contains(key) {
                String::new()
            } else {
                format!("{line}\n")
            }
        };
        let (deletes, lag) = (
            default("deletes", "deletes = \"off\""),
            default("lag", "lag = \"0s\""),
        );
        let config = format!(
            "[zuora]\nbase_url = \"{}\"\nclient_id = \"{}\"\n{objects}{zuora}\n{destination}\n\
             [state]\npath = \"checkpoint.db\"\n\n[sync]\n{lag}{deletes}{}\n{}",
            emulator.url(),
            emulator.client_id(),
            extra.sync,
            extra.tail,
        );
        std::fs::write(dir.path().join("zuora-sync.toml"), config).expect("config written");
        Self {
            emulator,
            dir,
            env: extra.env,
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The command that runs the binary in the folder, with the tenant's secret.
    pub fn command(&self, args: &[&str], env: &[(&str, &str)]) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(BINARY);
        command
            .args(args)
            .current_dir(self.dir.path())
            .env("ZUORA_CLIENT_SECRET", self.emulator.client_secret())
            .env_remove("ZUORA_SYNC_FAILPOINT")
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        for (key, value) in &self.env {
            command.env(key, value);
        }
        for (key, value) in env {
            command.env(key, value);
        }
        command
    }

    /// Runs the binary with `args` and waits for it.
    pub async fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        self.command(args, env)
            .output()
            .await
            .expect("the binary runs")
    }

    /// `sync --json`, expecting success; returns the summary.
    pub async fn sync_ok(&self) -> serde_json::Value {
        let output = self.run(&["sync", "--json"], &[]).await;
        assert_eq!(
            output.status.code(),
            Some(0),
            "sync failed:\n{}",
            describe(&output)
        );
        serde_json::from_slice(&output.stdout).expect("the summary is JSON")
    }

    pub fn warehouse(&self) -> duckdb::Connection {
        duckdb::Connection::open(self.path("warehouse.duckdb")).expect("the DuckDB file opens")
    }

    /// Asserts that every DuckDB table equals the emulator's current data, cell for cell.
    pub fn assert_warehouse_matches(&self, objects: &[String]) {
        let conn = self.warehouse();
        for object in objects {
            let actual = warehouse_rows(&conn, &self.emulator, object);
            assert_rows_match(&self.emulator, object, &actual);
        }
    }
}

/// Asserts that `actual` (id → column → text) holds exactly the emulator's live rows of
/// `object`, and, for rows deleted in Zuora, nothing but a row flagged `_deleted`.
pub fn assert_rows_match(emulator: &Emulator, object: &str, actual: &BTreeMap<String, Row>) {
    let expected = expected_rows(emulator, object);
    for (id, want) in &expected {
        let got = actual
            .get(id)
            .unwrap_or_else(|| panic!("{object} {id} is missing"));
        for (column, value) in want {
            assert_eq!(
                got.get(column),
                Some(value),
                "{object} {id} column {column}: warehouse {:?}, Zuora {value:?}",
                got.get(column)
            );
        }
        assert_eq!(
            got.len(),
            want.len(),
            "{object} {id}: extra columns {got:?}"
        );
    }
    for (id, row) in actual.iter().filter(|(id, _)| !expected.contains_key(*id)) {
        let deleted = emulator
            .deleted_rows(object)
            .iter()
            .any(|(r, _)| &r.id == id);
        assert!(
            deleted,
            "{object} {id} is in the warehouse but was never in Zuora"
        );
        assert_eq!(
            row.get("_deleted"),
            Some(&Some("true".to_string())),
            "{object} {id} was deleted in Zuora but is not flagged"
        );
    }
}

pub fn describe(output: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A cell as text, for comparison; `None` is NULL.
pub type Row = BTreeMap<String, Option<String>>;

pub fn exported(emulator: &Emulator, object: &str) -> Vec<(String, FieldType)> {
    emulator
        .describe_fields(object)
        .into_iter()
        .filter(|f| f.contexts.iter().any(|c| c == "export"))
        .map(|f| (f.name.to_string(), f.field_type))
        .collect()
}

fn expected_rows(emulator: &Emulator, object: &str) -> BTreeMap<String, Row> {
    let fields = exported(emulator, object);
    emulator
        .rows(object)
        .into_iter()
        .map(|record: Record| {
            let mut row: Row = fields
                .iter()
                .map(|(name, _)| (snake_case(name), record.values.get(name).map(canonical)))
                .collect();
            row.insert("_deleted".into(), Some("false".into()));
            (record.id.clone(), row)
        })
        .collect()
}

pub fn canonical(value: &Value) -> String {
    match value {
        Value::Text(s) => s.clone(),
        Value::Boolean(b) => b.to_string(),
        Value::Integer(i) => i.to_string(),
        Value::Decimal(text) => decimal_at_scale_9(text),
        Value::Date(d) => d.format("%Y-%m-%d").to_string(),
        Value::DateTime(t) => t.timestamp_micros().to_string(),
    }
}

/// `"1e-9"` → `"0.000000001"`, `"299.9"` → `"299.900000000"`: what DECIMAL(38, 9) prints.
pub fn decimal_at_scale_9(text: &str) -> String {
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, exponent) = match text.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i32>().expect("an exponent")),
        None => (text, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = format!("{int}{frac}");
    let point = int.len() as i32 + exponent;
    let padded = if point < 1 {
        format!("{}{digits}", "0".repeat((1 - point) as usize))
    } else {
        digits
    };
    let point = point.max(1) as usize;
    let padded = format!(
        "{padded}{}",
        "0".repeat((point + 9).saturating_sub(padded.len()))
    );
    let (int, frac) = padded.split_at(point);
    let int = int.trim_start_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    let frac = &frac[..9];
    let zero = int == "0" && frac.bytes().all(|b| b == b'0');
    format!("{}{int}.{frac}", if negative && !zero { "-" } else { "" })
}

fn warehouse_rows(
    conn: &duckdb::Connection,
    emulator: &Emulator,
    object: &str,
) -> BTreeMap<String, Row> {
    let fields = exported(emulator, object);
    let mut columns: Vec<(String, String)> = fields
        .iter()
        .map(|(name, ty)| {
            let column = snake_case(name);
            let quoted = format!("\"{column}\"");
            let expr = match ty {
                FieldType::Datetime => format!("CAST(epoch_us({quoted}) AS VARCHAR)"),
                FieldType::Date => format!("strftime({quoted}, '%Y-%m-%d')"),
                _ => format!("CAST({quoted} AS VARCHAR)"),
            };
            (column, expr)
        })
        .collect();
    columns.push(("_deleted".into(), "CAST(\"_deleted\" AS VARCHAR)".into()));
    let select: Vec<&str> = columns.iter().map(|(_, e)| e.as_str()).collect();
    let sql = format!(
        "SELECT {} FROM zuora.\"{}\"",
        select.join(", "),
        snake_case(object)
    );
    let mut statement = conn.prepare(&sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    let rows = statement
        .query_map([], |r| {
            let mut row = Row::new();
            for (i, (column, _)) in columns.iter().enumerate() {
                row.insert(column.clone(), r.get::<_, Option<String>>(i)?);
            }
            Ok(row)
        })
        .expect("the query runs");
    by_id(object, rows.map(|row| row.expect("a row")))
}

/// Rows keyed by id; an id that appears twice fails the test.
pub fn by_id(object: &str, rows: impl Iterator<Item = Row>) -> BTreeMap<String, Row> {
    let mut map = BTreeMap::new();
    for row in rows {
        let id = row["id"].clone().expect("every row has an id");
        assert!(
            map.insert(id.clone(), row).is_none(),
            "{object} {id} is in the table twice"
        );
    }
    map
}

/// Every column of every table, `_synced_at` included, for before/after comparisons.
pub fn dump(conn: &duckdb::Connection, tables: &[String]) -> Vec<String> {
    let mut lines = Vec::new();
    for table in tables {
        let sql = format!("SELECT CAST(COLUMNS(*) AS VARCHAR) FROM zuora.\"{table}\" ORDER BY id");
        let mut statement = conn.prepare(&sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
        let mut rows = statement.query([]).expect("the query runs");
        while let Some(row) = rows.next().expect("a row") {
            let count = row.as_ref().column_count();
            let cells: Vec<String> = (0..count)
                .map(|i| format!("{:?}", row.get::<_, Option<String>>(i).unwrap()))
                .collect();
            lines.push(format!("{table}: {}", cells.join("|")));
        }
    }
    lines
}

pub fn checkpoint_status(dir: &Path) -> serde_json::Value {
    let output = std::process::Command::new(BINARY)
        .args(["status", "--json"])
        .current_dir(dir)
        .output()
        .expect("status runs");
    assert_eq!(
        output.status.code(),
        Some(0),
        "status failed:\n{}",
        describe(&output)
    );
    serde_json::from_slice(&output.stdout).expect("status is JSON")
}

#[test]
fn decimals_are_put_at_scale_nine_exactly() {
    assert_eq!(decimal_at_scale_9("299.9"), "299.900000000");
    assert_eq!(decimal_at_scale_9("1e-9"), "0.000000001");
    assert_eq!(decimal_at_scale_9("0"), "0.000000000");
    assert_eq!(decimal_at_scale_9("-0.5"), "-0.500000000");
    assert_eq!(decimal_at_scale_9("1.5E+3"), "1500.000000000");
    assert_eq!(
        decimal_at_scale_9("12345678901234567890.123456789"),
        "12345678901234567890.123456789"
    );
}
