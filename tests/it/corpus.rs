//! The bad-input corpus in `fixtures/bad-input/`: each case is a page Zuora might send (or a
//! configuration a user might write) with the exit code and the words its error must have.
//! After a page case the object's checkpoint is exactly as before the run.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::support::{Setup, describe};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    description: String,
    kind: String,
    object: Option<String>,
    status: Option<u16>,
    repeat: Option<usize>,
    body: Option<String>,
    body_file: Option<String>,
    body_generated: Option<Generated>,
    config: Option<String>,
    #[serde(default)]
    env: std::collections::BTreeMap<String, String>,
    exit: i32,
    expect: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Generated {
    prefix: String,
    fill: String,
    times: usize,
    suffix: String,
}

fn corpus() -> Vec<(PathBuf, Case)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/bad-input");
    let mut cases: Vec<(PathBuf, Case)> = std::fs::read_dir(&dir)
        .expect("the corpus folder")
        .map(|entry| entry.expect("an entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "toml"))
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("a case");
            let case = toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (path, case)
        })
        .collect();
    cases.sort_by(|a, b| a.0.cmp(&b.0));
    cases
}

fn body(path: &Path, case: &Case) -> Vec<u8> {
    if let Some(file) = &case.body_file {
        return std::fs::read(path.with_file_name(file)).expect("the body file");
    }
    if let Some(g) = &case.body_generated {
        return format!("{}{}{}", g.prefix, g.fill.repeat(g.times), g.suffix).into_bytes();
    }
    case.body.clone().expect("a body").into_bytes()
}

fn output_text(output: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn the_corpus_has_at_least_thirty_cases_of_every_kind() {
    let cases = corpus();
    assert!(cases.len() >= 30, "{} cases", cases.len());
    assert!(
        cases.iter().any(|(_, c)| c.kind == "page")
            && cases.iter().any(|(_, c)| c.kind == "config")
    );
    for (path, case) in &cases {
        assert!(
            !case.description.is_empty() && !case.expect.is_empty(),
            "{}",
            path.display()
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_bad_page_gets_its_error_and_exit_code_and_leaves_the_checkpoint_as_it_was() {
    let setup = Setup::new(8, Some(&["Account"])).await;
    setup.sync_ok().await;
    let before = state(&setup).await;
    let mut failures = Vec::new();

    for (path, case) in corpus().into_iter().filter(|(_, c)| c.kind == "page") {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let object = case
            .object
            .as_deref()
            .expect("a page case names its object");
        let body = body(&path, &case);
        for _ in 0..case.repeat.unwrap_or(1) {
            setup
                .emulator
                .fail_next_query_bytes(object, case.status.unwrap_or(200), &body);
        }
        let output = setup.run(&["sync"], &[]).await;
        if output.status.code() != Some(case.exit) {
            failures.push(format!(
                "{name}: exit {:?}, not {}: {}",
                output.status,
                case.exit,
                describe(&output)
            ));
        }
        let text = output_text(&output);
        for expected in case.expect.iter().filter(|e| !text.contains(e.as_str())) {
            failures.push(format!("{name}: {expected:?} not in:\n{text}"));
        }
        if state(&setup).await != before {
            failures.push(format!("{name}: the checkpoint changed"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    setup.sync_ok().await;
    setup.assert_warehouse_matches(&["Account".to_string()]);
}

/// The object's checkpoint as `state show` reports it, without the last error.
async fn state(setup: &Setup) -> serde_json::Value {
    let output = setup
        .run(&["state", "show", "Account", "--json"], &[])
        .await;
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    let mut state: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    state.as_object_mut().unwrap().remove("last_error");
    state
}

#[tokio::test(flavor = "multi_thread")]
async fn every_bad_configuration_is_named_with_exit_78_before_anything_starts() {
    let setup = Setup::new(1, None).await;
    for (path, case) in corpus().into_iter().filter(|(_, c)| c.kind == "config") {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let dir = tempfile::tempdir().unwrap();
        let config = case
            .config
            .as_deref()
            .expect("a config case has a configuration")
            .replace("{base_url}", &setup.emulator.url())
            .replace("{client_id}", setup.emulator.client_id());
        std::fs::write(dir.path().join("zuora-sync.toml"), config).unwrap();
        let mut command = setup.command(&["sync"], &[]);
        command.current_dir(dir.path());
        for (key, value) in &case.env {
            command.env(key, value);
        }
        let output = command.output().await.expect("the binary runs");
        assert_eq!(
            output.status.code(),
            Some(case.exit),
            "{name}: {}",
            describe(&output)
        );
        let text = output_text(&output);
        for expected in &case.expect {
            assert!(
                text.contains(expected.as_str()),
                "{name}: {expected:?} not in:\n{text}"
            );
        }
        assert!(
            !dir.path().join("checkpoint.db").exists(),
            "{name}: a checkpoint was created"
        );
    }
}
