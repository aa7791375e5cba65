//! `zuora-sync check`: every credential and privilege a sync needs, tried one by one and all
//! reported. Exit code 0 only when every item passes.

use std::path::Path;

use clap::Args;

use crate::config::{Config, Needs, WarehouseConfig};
use crate::databricks::check::{Item, Verdict, run as check_databricks};
use crate::error::{Result, exit};
use crate::warehouse::Destination;
use crate::zuora::ZuoraClient;

#[derive(Args, Debug)]
pub(super) struct CheckArgs {
    /// Print the items as one JSON document on stdout.
    #[arg(long)]
    json: bool,
}

pub(super) async fn run(config_path: &Path, args: CheckArgs) -> Result<i32> {
    let config = Config::load(config_path, Needs::EVERYTHING)?;
    let mut items = zuora_items(&config).await;
    let destination = Destination::open(&config)?;
    match (&config.warehouse, &destination.databricks) {
        (WarehouseConfig::Databricks(databricks), Some(api)) => {
            items.extend(check_databricks(api, databricks, destination.stage.as_ref()).await);
        }
        _ => items.extend(local_items(&destination).await),
    }
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&items).expect("items serialise")
        );
    } else {
        for item in &items {
            let mark = match item.verdict {
                Verdict::Pass => "ok  ",
                Verdict::Warn => "warn",
                Verdict::Fail => "FAIL",
                Verdict::Skipped => "skip",
            };
            println!(
                "[{mark}] {:<16} {}",
                item.name,
                item.detail.replace('\n', "\n                        ")
            );
        }
    }
    Ok(if items.iter().all(Item::passed) {
        exit::SUCCESS
    } else {
        exit::CONFIG
    })
}

async fn zuora_items(config: &Config) -> Vec<Item> {
    let client = match ZuoraClient::new(&config.zuora) {
        Ok(client) => client,
        Err(e) => return vec![item("Zuora", Err(e))],
    };
    let token = client.authenticate().await;
    let authenticated = token.is_ok();
    let mut items = vec![item(
        "Zuora",
        token.map(|()| "OAuth token obtained".to_string()),
    )];
    if authenticated {
        let listed = client
            .list_objects()
            .await
            .map(|o| format!("Describe lists {} objects", o.len()));
        items.push(item("Zuora Describe", listed));
    }
    items
}

/// The embedded destination: the staging folder takes, returns and deletes a file.
async fn local_items(destination: &Destination) -> Vec<Item> {
    let stage = destination.stage.as_ref();
    let name = format!("_zuora_sync_check/{:016x}", rand::random::<u64>());
    let local =
        std::env::temp_dir().join(format!("zuora-sync-check-{:016x}", rand::random::<u64>()));
    let probe = async {
        std::fs::write(&local, b"zuora-sync check")
            .map_err(|e| crate::error::Error::io(format!("writing {}", local.display()), e))?;
        stage.put(&name, &local).await?;
        stage.get(&name).await?;
        stage.delete(&name).await?;
        Ok(format!(
            "{} takes, returns and deletes files",
            stage.describe()
        ))
    };
    let outcome = probe.await;
    let _ = std::fs::remove_file(&local);
    vec![
        item("warehouse", Ok(destination.warehouse.describe())),
        item("staging", outcome),
    ]
}

fn item(name: &str, result: Result<String>) -> Item {
    match result {
        Ok(detail) => Item {
            name: name.to_string(),
            verdict: Verdict::Pass,
            detail,
        },
        Err(e) => Item {
            name: name.to_string(),
            verdict: Verdict::Fail,
            detail: e.to_string(),
        },
    }
}
