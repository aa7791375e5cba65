//! `sync --dry-run`: the plan of a sync without reading a page or loading a file. For each
//! object, the windows an earlier run left and the windows this run would read, with the
//! backfill slices computed from the oldest row (one request of one row).

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::plan::{self, Next};
use super::{SyncOptions, describe, object, objects_are_listed, select_objects};
use crate::checkpoint::{Checkpoint, Span, Window};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::zuora::ZuoraClient;

#[derive(Debug, Serialize)]
pub struct DryRun {
    pub now: DateTime<Utc>,
    pub objects: Vec<PlannedObject>,
}

#[derive(Debug, Serialize)]
pub struct PlannedObject {
    pub object: String,
    pub status: String,
    pub watermark: Option<DateTime<Utc>>,
    /// Windows an earlier run did not finish; this run finishes them first.
    pub resumed: Vec<PlannedWindow>,
    /// Windows this run would add.
    pub planned: Vec<PlannedWindow>,
}

#[derive(Debug, Serialize)]
pub struct PlannedWindow {
    pub phase: String,
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_start: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_end: Option<String>,
    pub pages_read: u64,
}

impl PlannedWindow {
    fn new(phase: &str, span: &Span, pages_read: u64) -> Self {
        Self {
            phase: phase.to_string(),
            start: span.start,
            end: span.end,
            id_start: span.id_start.clone(),
            id_end: span.id_end.clone(),
            pages_read,
        }
    }

    fn from_window(window: &Window) -> Self {
        Self::new(window.phase.as_str(), &window.span, window.progress.pages)
    }
}

/// The plan of a sync with `config` and `options`; the checkpoint is read, never written.
pub async fn dry_run(config: &Config, options: &SyncOptions) -> Result<DryRun> {
    let client = ZuoraClient::new(&config.zuora)?;
    client.authenticate().await?;
    let checkpoint = Checkpoint::open(&config.state.path)?;
    let listed = objects_are_listed(config, options);
    let mut objects = Vec::new();
    for name in select_objects(&client, config, options).await? {
        match plan_object(&client, &checkpoint, config, options, &name).await {
            Ok(planned) => objects.push(planned),
            Err(e @ Error::Unsupported(_)) if listed => objects.push(PlannedObject {
                object: name,
                status: format!("skipped: {e}"),
                watermark: None,
                resumed: Vec::new(),
                planned: Vec::new(),
            }),
            Err(e) => return Err(e),
        }
    }
    Ok(DryRun {
        now: client.server_now(),
        objects,
    })
}

async fn plan_object(
    client: &ZuoraClient,
    checkpoint: &Checkpoint,
    config: &Config,
    options: &SyncOptions,
    name: &str,
) -> Result<PlannedObject> {
    let schema = describe(client, name).await?;
    let refresh = options
        .full_refresh
        .iter()
        .any(|o| o.eq_ignore_ascii_case(name));
    let state = match checkpoint.object(name)? {
        Some(state) if !refresh => state,
        _ => crate::checkpoint::ObjectState::new(name),
    };
    let resumed = if refresh {
        Vec::new()
    } else {
        checkpoint.unmerged_windows(name)?
    };
    let planned = match plan::next(&state, &schema, &config.sync, client.server_now()) {
        Next::UpToDate => Vec::new(),
        Next::Windows(phase, spans) => spans
            .iter()
            .map(|s| PlannedWindow::new(phase.as_str(), s, 0))
            .collect(),
        Next::Backfill { start, end } => {
            let oldest = object::oldest_row(client, &schema, start, end).await?;
            let spans = plan::backfill_spans(oldest, start, end, config.sync.backfill_windows);
            spans
                .iter()
                .map(|s| PlannedWindow::new("historical", s, 0))
                .collect()
        }
    };
    Ok(PlannedObject {
        object: name.to_string(),
        status: state.status.as_str().to_string(),
        watermark: state.watermark,
        resumed: resumed.iter().map(PlannedWindow::from_window).collect(),
        planned,
    })
}
