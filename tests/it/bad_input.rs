//! Bad input gets a clear error naming what was wrong and where, the right exit code, and a
//! checkpoint from which the next run completes exactly.

use zuora_sync::emulator::zuora::Value;

use crate::support::{Setup, checkpoint_status, describe};

fn text(output: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The first account that has a balance, and that balance as JSON text.
fn an_account_with_a_balance(setup: &Setup) -> (String, String) {
    setup
        .emulator
        .rows("Account")
        .into_iter()
        .find_map(|r| match r.values.get("Balance") {
            Some(Value::Decimal(text)) => Some((r.id.clone(), text.clone())),
            _ => None,
        })
        .expect("an account with a balance")
}

async fn assert_recovers(setup: &Setup) {
    let status = checkpoint_status(setup.dir.path());
    let account = &status["objects"][0];
    assert_eq!(account["status"], "In Progress", "{status}");
    assert!(account["watermark"].is_null(), "{status}");
    setup.sync_ok().await;
    setup.assert_warehouse_matches(&["Account".to_string()]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_string_in_a_decimal_field_names_object_record_and_field() {
    let setup = Setup::new(12, Some(&["Account"])).await;
    let (id, balance) = an_account_with_a_balance(&setup);
    setup
        .emulator
        .set_raw_value("Account", &id, "balance", "\"abc\"");

    let output = setup.run(&["sync"], &[]).await;
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let message = text(&output);
    for expected in ["Account", &id, "Balance", "abc"] {
        assert!(
            message.contains(expected),
            "{expected:?} not in:\n{message}"
        );
    }

    setup
        .emulator
        .set_raw_value("Account", &id, "balance", &balance);
    assert_recovers(&setup).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_field_names_the_key_and_the_record() {
    let setup = Setup::new(12, Some(&["Account"])).await;
    let (id, _) = an_account_with_a_balance(&setup);
    setup
        .emulator
        .set_raw_value("Account", &id, "surpriseField__c", "\"x\"");

    let output = setup.run(&["sync"], &[]).await;
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let message = text(&output);
    for expected in [
        "Account",
        &id,
        "surpriseField__c",
        "unknown_fields = \"ignore\"",
    ] {
        assert!(
            message.contains(expected),
            "{expected:?} not in:\n{message}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_page_json_is_a_clear_error_and_the_next_run_completes() {
    let setup = Setup::new(12, Some(&["Account"])).await;
    setup
        .emulator
        .fail_next_query("Account", 200, "{\"data\": [{\"id\": \"8a8a\", \"name\": ");

    let output = setup.run(&["sync"], &[]).await;
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let message = text(&output);
    assert!(message.contains("Account"), "{message}");
    assert!(
        message.contains("JSON") || message.contains("page"),
        "{message}"
    );

    assert_recovers(&setup).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_config_key_is_named_with_exit_78() {
    let setup = Setup::new(1, None).await;
    let path = setup.path("zuora-sync.toml");
    let config = std::fs::read_to_string(&path).unwrap();
    let without: String = config
        .lines()
        .filter(|l| !l.starts_with("client_id"))
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&path, without).unwrap();

    let output = setup.run(&["sync"], &[]).await;
    assert_eq!(output.status.code(), Some(78), "{}", describe(&output));
    assert!(
        text(&output).contains("[zuora] client_id"),
        "{}",
        describe(&output)
    );
    assert!(!setup.path("checkpoint.db").exists(), "nothing was started");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_secret_is_a_credentials_error_that_never_shows_the_secret() {
    let setup = Setup::new(1, None).await;
    let wrong = "not-the-secret-0123456789";
    let output = setup
        .run(&["sync"], &[("ZUORA_CLIENT_SECRET", wrong)])
        .await;
    assert_eq!(output.status.code(), Some(78), "{}", describe(&output));
    let message = text(&output);
    assert!(message.contains("rejected the credentials"), "{message}");
    assert!(message.contains("ZUORA_CLIENT_SECRET"), "{message}");
    assert!(!message.contains(wrong), "the secret leaked:\n{message}");

    let status = checkpoint_status(setup.dir.path());
    assert_eq!(status["objects"].as_array().unwrap().len(), 0, "{status}");
    let db = std::fs::read(setup.path("checkpoint.db")).unwrap();
    assert!(
        !db.windows(wrong.len()).any(|w| w == wrong.as_bytes()),
        "the secret is stored"
    );
}
