//! Which window an object reads next. The first sync reads everything up to `now - lag`; each
//! later sync reads from the watermark (less the lookback) to `now - lag`. Window ends are whole
//! seconds, because Zuora filters at whole seconds, so the watermark only ever moves to a second
//! that is fully read.

use chrono::{DateTime, Utc};

use super::fetch::floor_second;
use crate::checkpoint::{ObjectState, Phase, Range};
use crate::config::SyncConfig;
use crate::schema::ObjectSchema;

/// The next windows of an object, or `None` when it is up to date.
pub(super) fn next_windows(
    state: &ObjectState,
    schema: &ObjectSchema,
    sync: &SyncConfig,
    now: DateTime<Utc>,
) -> Option<(Phase, Vec<Range>)> {
    let phase = match state.watermark {
        Some(_) => Phase::Incremental,
        None => Phase::Historical,
    };
    // An object without a cursor field can only be read whole, every time.
    if schema.cursor_field().is_none() {
        return Some((phase, vec![(None, None)]));
    }
    let lag = chrono::Duration::from_std(sync.lag).unwrap_or(chrono::Duration::zero());
    let end = floor_second(now - lag);
    let start = match state.watermark {
        Some(watermark) if watermark >= end => return None,
        Some(watermark) => {
            let lookback = chrono::Duration::from_std(sync.lookback_for(&schema.object))
                .unwrap_or(chrono::Duration::zero());
            Some(watermark - lookback)
        }
        None => sync.start,
    };
    if start.is_some_and(|s| s >= end) {
        return None;
    }
    Some((phase, vec![(start, Some(end))]))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chrono::TimeZone;

    use super::*;
    use crate::checkpoint::ObjectStatus;
    use crate::schema::{Field, FieldType};

    fn schema() -> ObjectSchema {
        ObjectSchema::new(
            "InvoiceItem",
            vec![
                Field::new("Id", "Id", FieldType::Text, vec![]),
                Field::new("UpdatedDate", "U", FieldType::Datetime, vec![]),
            ],
            vec![],
        )
    }

    fn state(watermark: Option<DateTime<Utc>>) -> ObjectState {
        ObjectState {
            object: "InvoiceItem".into(),
            phase: Phase::Historical,
            status: ObjectStatus::InProgress,
            watermark,
            schema: None,
            rows_merged: 0,
            last_run_id: None,
            last_error: None,
            updated_at: Utc::now(),
        }
    }

    fn sync(lookback: u64) -> SyncConfig {
        SyncConfig {
            lag: Duration::from_secs(300),
            lookback: Duration::from_secs(lookback),
            start: None,
            max_parallel_objects: 1,
            objects: Default::default(),
        }
    }

    #[test]
    fn windows_end_a_lag_behind_now_at_a_whole_second() {
        let now = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
            + chrono::Duration::milliseconds(700);
        let (phase, ranges) = next_windows(&state(None), &schema(), &sync(0), now).unwrap();
        assert_eq!(phase, Phase::Historical);
        assert_eq!(
            ranges,
            [(
                None,
                Some(Utc.with_ymd_and_hms(2026, 3, 1, 11, 55, 0).unwrap())
            )]
        );
    }

    #[test]
    fn incremental_windows_start_a_lookback_before_the_watermark() {
        let watermark = Utc.with_ymd_and_hms(2026, 3, 1, 11, 0, 0).unwrap();
        let now = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
        let (phase, ranges) =
            next_windows(&state(Some(watermark)), &schema(), &sync(3600), now).unwrap();
        assert_eq!(phase, Phase::Incremental);
        assert_eq!(
            ranges[0].0,
            Some(Utc.with_ymd_and_hms(2026, 3, 1, 10, 0, 0).unwrap())
        );
    }

    #[test]
    fn nothing_is_read_until_the_lag_has_passed() {
        let watermark = Utc.with_ymd_and_hms(2026, 3, 1, 11, 58, 0).unwrap();
        let now = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
        assert_eq!(
            next_windows(&state(Some(watermark)), &schema(), &sync(0), now),
            None
        );
    }
}
