//! Zuora's date and date-time text as Arrow stores it: `YYYY-MM-DD` as days since 1970-01-01
//! (`Date32`), and RFC 3339 date-times as microseconds since the epoch in UTC. Offsets other
//! than `Z` are converted to UTC; a fraction finer than a microsecond is refused, not truncated.

/// Why date-time text cannot be stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BadDateTime {
    /// Not an RFC 3339 date-time, or not a real calendar instant.
    Malformed,
    /// Non-zero digits below the microsecond.
    TooPrecise,
}

/// Days since 1970-01-01 of `YYYY-MM-DD`.
pub(super) fn parse_date(text: &str) -> Option<i32> {
    days(text.as_bytes()).and_then(|d| i32::try_from(d).ok())
}

/// Microseconds since the epoch, in UTC, of `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`.
pub(super) fn parse_datetime(text: &str) -> Result<i64, BadDateTime> {
    let bytes = text.as_bytes();
    if bytes.len() < 20 || !matches!(bytes[10], b'T' | b't' | b' ') {
        return Err(BadDateTime::Malformed);
    }
    let days = days(&bytes[..10]).ok_or(BadDateTime::Malformed)?;
    let seconds = time_of_day(&bytes[11..19]).ok_or(BadDateTime::Malformed)?;
    let (micros, zone) = fraction(&bytes[19..])?;
    let offset = offset_seconds(zone).ok_or(BadDateTime::Malformed)?;
    Ok(((days * 86_400 + seconds - offset) * 1_000_000) + micros)
}

/// Days since the epoch of a ten-byte `YYYY-MM-DD`, checking that the day exists.
fn days(bytes: &[u8]) -> Option<i64> {
    let [y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1] = *bytes else {
        return None;
    };
    let year = i64::from(two_digits(y0, y1)? * 100 + two_digits(y2, y3)?);
    let month = two_digits(m0, m1)?;
    let day = two_digits(d0, d1)?;
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    Some(days_from_civil(year, i64::from(month), i64::from(day)))
}

/// Seconds since midnight of `HH:MM:SS`. A leap second (`:60`) is refused: Zuora never sends
/// one and a microsecond timestamp cannot represent it.
fn time_of_day(bytes: &[u8]) -> Option<i64> {
    let [h0, h1, b':', m0, m1, b':', s0, s1] = *bytes else {
        return None;
    };
    let (hour, minute, second) = (
        two_digits(h0, h1)?,
        two_digits(m0, m1)?,
        two_digits(s0, s1)?,
    );
    (hour < 24 && minute < 60 && second < 60)
        .then(|| i64::from(hour) * 3600 + i64::from(minute) * 60 + i64::from(second))
}

/// Splits an optional `.fraction` off the zone, returning it in microseconds.
fn fraction(bytes: &[u8]) -> Result<(i64, &[u8]), BadDateTime> {
    let [b'.', rest @ ..] = bytes else {
        return Ok((0, bytes));
    };
    let n = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if n == 0 {
        return Err(BadDateTime::Malformed);
    }
    let (digits, zone) = rest.split_at(n);
    if digits.iter().skip(6).any(|&d| d != b'0') {
        return Err(BadDateTime::TooPrecise);
    }
    let micros = (0..6).fold(0i64, |acc, i| {
        acc * 10 + digits.get(i).map_or(0, |&d| i64::from(d - b'0'))
    });
    Ok((micros, zone))
}

/// The zone's offset east of UTC in seconds: `Z`, `+01:00`, `-05:30`.
fn offset_seconds(zone: &[u8]) -> Option<i64> {
    let (sign, h0, h1, m0, m1) = match *zone {
        [b'Z' | b'z'] => return Some(0),
        [b'+', h0, h1, b':', m0, m1] => (1, h0, h1, m0, m1),
        [b'-', h0, h1, b':', m0, m1] => (-1, h0, h1, m0, m1),
        _ => return None,
    };
    let (hours, minutes) = (two_digits(h0, h1)?, two_digits(m0, m1)?);
    (hours < 24 && minutes < 60).then(|| sign * (i64::from(hours) * 3600 + i64::from(minutes) * 60))
}

fn two_digits(high: u8, low: u8) -> Option<u32> {
    (high.is_ascii_digit() && low.is_ascii_digit())
        .then(|| u32::from(high - b'0') * 10 + u32::from(low - b'0'))
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a proleptic Gregorian date. Counting years from March puts the leap
/// day last, so each 400-year era has the same fixed layout of 146,097 days.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_count_days_from_the_epoch() {
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(parse_date("2024-07-25"), Some(19_929));
        assert_eq!(parse_date("1969-12-31"), Some(-1));
        assert_eq!(parse_date("2000-02-29"), Some(11_016));
        assert_eq!(parse_date("0001-01-01"), Some(-719_162));
        assert_eq!(parse_date("9999-12-31"), Some(2_932_896));
    }

    #[test]
    fn impossible_or_misshapen_dates_are_refused() {
        for text in [
            "2023-02-29",
            "2024-13-01",
            "2024-00-10",
            "2024-04-31",
            "2024-7-25",
            "",
        ] {
            assert_eq!(parse_date(text), None, "{text}");
        }
        assert_eq!(parse_date("2024-07-25T00:00:00Z"), None);
        assert_eq!(parse_date("2024/07/25"), None);
    }

    #[test]
    fn datetimes_become_utc_microseconds() {
        let base = 1_721_875_580_000_000; // 2024-07-25T02:46:20Z
        assert_eq!(parse_datetime("2024-07-25T02:46:20Z"), Ok(base));
        assert_eq!(parse_datetime("2024-07-25t02:46:20z"), Ok(base));
        assert_eq!(parse_datetime("2024-07-25T03:46:20+01:00"), Ok(base));
        assert_eq!(parse_datetime("2024-07-24T21:16:20-05:30"), Ok(base));
        assert_eq!(parse_datetime("2024-07-25T02:46:20.5Z"), Ok(base + 500_000));
        assert_eq!(
            parse_datetime("2024-07-25T02:46:20.123456Z"),
            Ok(base + 123_456)
        );
        assert_eq!(
            parse_datetime("2024-07-25T02:46:20.123456000Z"),
            Ok(base + 123_456)
        );
        assert_eq!(parse_datetime("1969-12-31T23:59:59.999999Z"), Ok(-1));
    }

    #[test]
    fn misshapen_datetimes_are_refused() {
        assert_eq!(
            parse_datetime("2024-07-25T02:46:20.1234567Z"),
            Err(BadDateTime::TooPrecise)
        );
        for text in [
            "2024-07-25",
            "2024-07-25T02:46:20",
            "2024-07-25T24:00:00Z",
            "2024-07-25T02:46:60Z",
            "2024-07-25T02:46:20.Z",
            "2024-07-25T02:46:20+0100",
            "2024-02-30T02:46:20Z",
            "2024-07-25X02:46:20Z",
        ] {
            assert_eq!(parse_datetime(text), Err(BadDateTime::Malformed), "{text}");
        }
    }
}
