//! `zuora-sync discover`: what a sync would read. For each object its table, cursor field,
//! primary key and columns with their Describe and warehouse types, and the fields left out.

use std::path::Path;

use clap::Args;
use serde::Serialize;

use crate::config::{Config, Needs};
use crate::error::{Result, exit};
use crate::schema::{DECIMAL_PRECISION, DECIMAL_SCALE, FieldType};
use crate::zuora::{SkippedField, ZuoraClient};

#[derive(Args, Debug)]
pub(super) struct DiscoverArgs {
    /// Print the catalog as one JSON document on stdout.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Discovered {
    object: String,
    table: String,
    cursor_field: Option<String>,
    primary_key: Option<String>,
    columns: Vec<Column>,
    unexported: Vec<String>,
    skipped: Vec<SkippedField>,
}

#[derive(Serialize)]
struct Column {
    field: String,
    column: String,
    #[serde(rename = "type")]
    field_type: FieldType,
    arrow_type: String,
    custom: bool,
}

pub(super) async fn run(config_path: &Path, args: DiscoverArgs) -> Result<i32> {
    let config = Config::load(config_path, Needs::ZUORA)?;
    let client = ZuoraClient::new(&config.zuora)?;
    client.authenticate().await?;
    let mut names = match &config.zuora.objects {
        Some(names) => names.clone(),
        None => client.list_objects().await?,
    };
    names.retain(|n| {
        !config
            .zuora
            .exclude_objects
            .iter()
            .any(|x| x.eq_ignore_ascii_case(n))
    });

    let mut catalog = Vec::new();
    for name in names {
        let described = client.describe(&name).await?;
        let schema = described.schema;
        catalog.push(Discovered {
            cursor_field: schema.cursor_field().map(|f| f.name.clone()),
            primary_key: schema.primary_key().map(|f| f.name.clone()),
            columns: schema
                .fields
                .iter()
                .map(|f| Column {
                    field: f.name.clone(),
                    column: f.column.clone(),
                    field_type: f.field_type,
                    arrow_type: match f.field_type {
                        FieldType::Decimal => {
                            format!("Decimal128({DECIMAL_PRECISION}, {DECIMAL_SCALE})")
                        }
                        other => other.arrow_type().to_string(),
                    },
                    custom: f.custom,
                })
                .collect(),
            object: schema.object,
            table: schema.table,
            unexported: schema.unexported,
            skipped: described.skipped,
        });
    }

    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&catalog).expect("catalogs serialise")
        );
        return Ok(exit::SUCCESS);
    }
    for object in &catalog {
        println!(
            "{} -> {}  (cursor {}, key {})",
            object.object,
            object.table,
            object
                .cursor_field
                .as_deref()
                .unwrap_or("none: read whole every run"),
            object.primary_key.as_deref().unwrap_or("none"),
        );
        for c in &object.columns {
            let custom = if c.custom { "  custom" } else { "" };
            println!(
                "    {:<32} {:<32} {}{custom}",
                c.field,
                c.column,
                c.field_type.as_str()
            );
        }
        for s in &object.skipped {
            println!("    {:<32} left out: {}", s.name, s.reason);
        }
    }
    Ok(exit::SUCCESS)
}
