//! Which windows an object reads next. The first sync reads everything up to `now - lag`,
//! split into equal slices of time from the oldest row on, so that they can be read in
//! parallel; each later sync reads from the watermark (less the lookback) to `now - lag`.
//! Window ends are whole seconds, because Zuora filters at whole seconds, so the watermark only
//! ever moves to a second that is fully read.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};

use crate::checkpoint::{ObjectState, Phase, Span};
use crate::config::{Lookback, SyncConfig};
use crate::schema::ObjectSchema;

/// A backfill slice is never shorter than this: shorter ones cost more requests than they
/// save, and a busy stretch is split by id while it is read anyway.
const MIN_SLICE: TimeDelta = TimeDelta::hours(1);

/// What an object reads next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Next {
    UpToDate,
    /// The first sync of `[start, end)`; it is sliced once the oldest row is known.
    Backfill {
        start: Option<DateTime<Utc>>,
        end: DateTime<Utc>,
    },
    Windows(Phase, Vec<Span>),
}

pub(super) fn next(
    state: &ObjectState,
    schema: &ObjectSchema,
    sync: &SyncConfig,
    now: DateTime<Utc>,
) -> Next {
    let phase = if state.watermark.is_some() {
        Phase::Incremental
    } else {
        Phase::Historical
    };
    // An object without a cursor field can only be read whole, every time.
    if schema.cursor_field().is_none() {
        return Next::Windows(phase, vec![Span::default()]);
    }
    let lag = TimeDelta::from_std(sync.lag).unwrap_or(TimeDelta::zero());
    let end = floor_second(now - lag);
    let Some(watermark) = state.watermark else {
        return match sync.start {
            Some(start) if start >= end => Next::UpToDate,
            start => Next::Backfill { start, end },
        };
    };
    if watermark >= end {
        return Next::UpToDate;
    }
    let start = match sync.lookback_for(&schema.object) {
        Lookback::All => None,
        Lookback::Since(lookback) => {
            Some(watermark - TimeDelta::from_std(lookback).unwrap_or(TimeDelta::zero()))
        }
    };
    Next::Windows(Phase::Incremental, vec![Span::new(start, Some(end))])
}

/// Slices `[start, end)` into at most `count` windows of equal length from the oldest row's
/// second on; the first window also takes everything before it (nothing, when the probe that
/// found the oldest row is right).
pub(super) fn backfill_spans(
    oldest: Option<DateTime<Utc>>,
    start: Option<DateTime<Utc>>,
    end: DateTime<Utc>,
    count: usize,
) -> Vec<Span> {
    let Some(oldest) = oldest.map(floor_second).filter(|o| *o < end) else {
        return vec![Span::new(start, Some(end))];
    };
    let from = start.map_or(oldest, |s| s.max(oldest));
    let length = (end - from).max(TimeDelta::zero());
    let slices = (length.num_seconds() / MIN_SLICE.num_seconds()).clamp(1, count.max(1) as i64);
    let step = length.num_seconds() / slices;
    let mut bounds: Vec<DateTime<Utc>> = (1..slices)
        .map(|i| from + TimeDelta::seconds(step * i))
        .collect();
    bounds.push(end);
    let mut spans = Vec::with_capacity(bounds.len());
    let mut previous = start;
    for bound in bounds {
        spans.push(Span::new(previous, Some(bound)));
        previous = Some(bound);
    }
    spans
}

pub(super) fn floor_second(t: DateTime<Utc>) -> DateTime<Utc> {
    Utc.timestamp_opt(t.timestamp(), 0)
        .single()
        .expect("whole seconds are valid")
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::checkpoint::ObjectStatus;
    use crate::schema::{Field, FieldType};

    fn schema(object: &str) -> ObjectSchema {
        ObjectSchema::new(
            object,
            vec![
                Field::new("Id", "Id", FieldType::Text, vec![]),
                Field::new("UpdatedDate", "U", FieldType::Datetime, vec![]),
            ],
            vec![],
        )
    }

    fn state(watermark: Option<DateTime<Utc>>) -> ObjectState {
        ObjectState {
            object: "Account".into(),
            phase: Phase::Historical,
            status: ObjectStatus::InProgress,
            watermark,
            schema: None,
            rows_merged: 0,
            last_run_id: None,
            last_error: None,
            deletes_checked_at: None,
            updated_at: Utc::now(),
        }
    }

    fn sync(lookback: Lookback) -> SyncConfig {
        SyncConfig {
            lag: Duration::from_secs(300),
            lookback,
            start: None,
            max_parallel_objects: 1,
            max_parallel_windows: 4,
            backfill_windows: 4,
            deletes: false,
            delete_check_interval: Duration::ZERO,
            objects: Default::default(),
        }
    }

    fn at(day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, day, hour, 0, 0).unwrap()
    }

    #[test]
    fn the_first_sync_ends_a_lag_behind_now_at_a_whole_second() {
        let now = at(1, 12) + TimeDelta::milliseconds(700);
        let next = next(
            &state(None),
            &schema("Account"),
            &sync(Lookback::Since(Duration::ZERO)),
            now,
        );
        assert_eq!(
            next,
            Next::Backfill {
                start: None,
                end: at(1, 12) - TimeDelta::minutes(5)
            }
        );
    }

    #[test]
    fn incremental_windows_start_a_lookback_before_the_watermark() {
        let lookback = Lookback::Since(Duration::from_secs(3600));
        let next = next(
            &state(Some(at(1, 11))),
            &schema("Account"),
            &sync(lookback),
            at(1, 12),
        );
        let Next::Windows(phase, spans) = next else {
            panic!("{next:?}")
        };
        assert_eq!(phase, Phase::Incremental);
        assert_eq!(spans[0].start, Some(at(1, 10)));
    }

    #[test]
    fn item_tables_look_back_fourteen_days_and_all_means_everything() {
        let none = Lookback::Since(Duration::ZERO);
        let Next::Windows(_, spans) = next(
            &state(Some(at(20, 0))),
            &schema("InvoiceItem"),
            &sync(none),
            at(21, 0),
        ) else {
            panic!()
        };
        assert_eq!(spans[0].start, Some(at(6, 0)));
        let Next::Windows(_, spans) = next(
            &state(Some(at(20, 0))),
            &schema("Account"),
            &sync(Lookback::All),
            at(21, 0),
        ) else {
            panic!()
        };
        assert_eq!(spans[0].start, None);
    }

    #[test]
    fn nothing_is_read_until_the_lag_has_passed() {
        let watermark = at(1, 12) - TimeDelta::minutes(2);
        let next = next(
            &state(Some(watermark)),
            &schema("Account"),
            &sync(Lookback::All),
            at(1, 12),
        );
        assert_eq!(next, Next::UpToDate);
    }

    #[test]
    fn backfills_are_sliced_from_the_oldest_row_and_cover_everything() {
        let spans = backfill_spans(
            Some(at(1, 0) + TimeDelta::milliseconds(5)),
            None,
            at(5, 0),
            4,
        );
        assert_eq!(spans.len(), 4);
        assert_eq!(spans[0].start, None);
        assert_eq!(spans[0].end, Some(at(2, 0)));
        for pair in spans.windows(2) {
            assert_eq!(pair[0].end, pair[1].start, "contiguous");
        }
        assert_eq!(spans[3].end, Some(at(5, 0)));

        let short = backfill_spans(Some(at(1, 0)), None, at(1, 0) + TimeDelta::minutes(30), 8);
        assert_eq!(short.len(), 1, "no slice shorter than an hour");
        assert_eq!(
            backfill_spans(None, None, at(5, 0), 8),
            [Span::new(None, Some(at(5, 0)))]
        );
    }
}
