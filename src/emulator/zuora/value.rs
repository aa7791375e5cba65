//! One cell of the tenant and its wire form: how each Describe type is written into Object Query
//! JSON (decimals as the exact number text, datetimes as `YYYY-MM-DDThh:mm:ssZ`), how the
//! stored JSON text reads back into a typed value for tests, and what becomes of a value when
//! its field changes type.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};

use super::catalog::FieldType;

/// A non-null cell. A null is the absence of the field from [`Record::values`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Text(String),
    Boolean(bool),
    Integer(i64),
    /// The exact decimal text as sent on the wire (`"299.9"`, `"1e-9"`, `"0.1"`); never an `f64`,
    /// so what a test compares is what the client received.
    Decimal(String),
    Date(NaiveDate),
    DateTime(DateTime<Utc>),
}

/// One row of an object: its id and every non-null field by Describe name (`Id` included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub id: String,
    pub values: BTreeMap<String, Value>,
}

pub(crate) const DATETIME_FORMAT: &str = "%Y-%m-%dT%H:%M:%SZ";
pub(crate) const DATE_FORMAT: &str = "%Y-%m-%d";

impl Value {
    /// Appends the JSON text of the value.
    ///
    /// # Panics
    /// When a `Decimal` is not a JSON number: a generator bug, not input.
    pub(crate) fn write_json(&self, out: &mut String) {
        match self {
            Self::Text(text) => write_json_string(text, out),
            Self::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
            Self::Integer(i) => {
                let _ = write!(out, "{i}");
            }
            Self::Decimal(text) => {
                assert!(
                    is_json_number(text),
                    "decimal {text:?} is not a JSON number"
                );
                out.push_str(text);
            }
            Self::Date(d) => {
                let _ = write!(out, "\"{}\"", d.format(DATE_FORMAT));
            }
            Self::DateTime(t) => {
                let _ = write!(out, "\"{}\"", t.format(DATETIME_FORMAT));
            }
        }
    }

    /// Reads a field's stored JSON text back as the field's type; `None` for JSON `null`.
    ///
    /// Text that does not fit the type (planted by `set_raw_value`) is reported by its JSON
    /// shape instead, so a test sees what the wire carries: a string as `Text`, a number as
    /// `Decimal`, a boolean as `Boolean`, anything else as `Text` of the raw JSON.
    pub(crate) fn from_json(field_type: FieldType, text: &str) -> Option<Value> {
        let text = text.trim();
        if text == "null" {
            return None;
        }
        Some(typed(field_type, text).unwrap_or_else(|| by_shape(text)))
    }

    /// Whether a field of type `field_type` holds the value as it is.
    pub(crate) fn fits(&self, field_type: FieldType) -> bool {
        matches!(
            (self, field_type),
            (Self::Text(_), FieldType::Text | FieldType::Picklist)
                | (Self::Boolean(_), FieldType::Boolean)
                | (Self::Integer(_), FieldType::Integer)
                | (Self::Decimal(_), FieldType::Decimal)
                | (Self::Date(_), FieldType::Date)
                | (Self::DateTime(_), FieldType::Datetime)
        )
    }

    /// The value as a field of type `to` holds it: its text for text and picklist fields (a
    /// decimal keeps its digits, a date its `YYYY-MM-DD`), otherwise the same number, day or
    /// flag where `to` can hold it (`"12.50"` as a decimal, `42.0` as an integer, a datetime's
    /// day as a date, a date's midnight UTC as a datetime), and `None` where it cannot.
    pub(crate) fn converted(self, to: FieldType) -> Option<Value> {
        match (to, self) {
            (FieldType::Text | FieldType::Picklist, value) => Some(Self::Text(value.into_text())),
            (FieldType::Boolean, Self::Boolean(b)) => Some(Self::Boolean(b)),
            (FieldType::Boolean, Self::Text(text)) => text.parse().ok().map(Self::Boolean),
            (FieldType::Integer, Self::Integer(i)) => Some(Self::Integer(i)),
            (FieldType::Integer, Self::Decimal(text) | Self::Text(text)) => {
                whole_number(&text).map(Self::Integer)
            }
            (FieldType::Decimal, Self::Decimal(text)) => Some(Self::Decimal(text)),
            (FieldType::Decimal, Self::Integer(i)) => Some(Self::Decimal(i.to_string())),
            (FieldType::Decimal, Self::Text(text)) => {
                is_json_number(&text).then_some(Self::Decimal(text))
            }
            (FieldType::Date, Self::Date(day)) => Some(Self::Date(day)),
            (FieldType::Date, Self::DateTime(at)) => Some(Self::Date(at.date_naive())),
            (FieldType::Date, Self::Text(text)) => parse_date(&text).map(Self::Date),
            (FieldType::Datetime, Self::DateTime(at)) => Some(Self::DateTime(at)),
            (FieldType::Datetime, Self::Date(day)) => {
                Some(Self::DateTime(day.and_time(NaiveTime::MIN).and_utc()))
            }
            (FieldType::Datetime, Self::Text(text)) => parse_datetime(&text).map(Self::DateTime),
            _ => None,
        }
    }

    /// The value as text, spelled as its JSON carries it, without quotes.
    fn into_text(self) -> String {
        match self {
            Self::Text(text) | Self::Decimal(text) => text,
            Self::Boolean(b) => b.to_string(),
            Self::Integer(i) => i.to_string(),
            Self::Date(day) => day.format(DATE_FORMAT).to_string(),
            Self::DateTime(at) => at.format(DATETIME_FORMAT).to_string(),
        }
    }
}

/// A JSON number without a fractional part other than zeros and without an exponent, as an
/// integer: `42`, `42.0`, `-7.000`.
fn whole_number(text: &str) -> Option<i64> {
    if !is_json_number(text) {
        return None;
    }
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let zeros = fraction.bytes().all(|b| b == b'0');
    zeros.then(|| whole.parse().ok()).flatten()
}

fn typed(field_type: FieldType, text: &str) -> Option<Value> {
    match field_type {
        FieldType::Text | FieldType::Picklist => json_string(text).map(Value::Text),
        FieldType::Boolean => text.parse().ok().map(Value::Boolean),
        FieldType::Integer => text.parse().ok().map(Value::Integer),
        FieldType::Decimal => is_json_number(text).then(|| Value::Decimal(text.to_string())),
        FieldType::Date => parse_date(&json_string(text)?).map(Value::Date),
        FieldType::Datetime => parse_datetime(&json_string(text)?).map(Value::DateTime),
    }
}

fn by_shape(text: &str) -> Value {
    if let Some(s) = json_string(text) {
        Value::Text(s)
    } else if is_json_number(text) {
        Value::Decimal(text.to_string())
    } else if let Ok(b) = text.parse() {
        Value::Boolean(b)
    } else {
        Value::Text(text.to_string())
    }
}

fn json_string(text: &str) -> Option<String> {
    if text.starts_with('"') {
        serde_json::from_str(text).ok()
    } else {
        None
    }
}

pub(crate) fn parse_date(text: &str) -> Option<NaiveDate> {
    // chrono accepts a missing zero pad ("2024-1-5"); the wire format never omits it.
    (text.len() == 10)
        .then(|| NaiveDate::parse_from_str(text, DATE_FORMAT).ok())
        .flatten()
}

pub(crate) fn parse_datetime(text: &str) -> Option<DateTime<Utc>> {
    if text.len() != 20 {
        return None;
    }
    NaiveDateTime::parse_from_str(text, DATETIME_FORMAT)
        .ok()
        .map(|t| t.and_utc())
}

/// Writes `text` as a JSON string: quotes, backslashes and control characters escaped, every
/// other character as UTF-8, as Zuora's JSON writer does.
pub(crate) fn write_json_string(text: &str, out: &mut String) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Whether `text` is a JSON number: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
pub(crate) fn is_json_number(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut at = usize::from(bytes.first() == Some(&b'-'));
    let digits = |at: &mut usize| {
        let start = *at;
        while bytes.get(*at).is_some_and(u8::is_ascii_digit) {
            *at += 1;
        }
        *at - start
    };
    let int_start = at;
    match digits(&mut at) {
        0 => return false,
        n if n > 1 && bytes[int_start] == b'0' => return false,
        _ => {}
    }
    if bytes.get(at) == Some(&b'.') {
        at += 1;
        if digits(&mut at) == 0 {
            return false;
        }
    }
    if matches!(bytes.get(at), Some(b'e' | b'E')) {
        at += 1;
        if matches!(bytes.get(at), Some(b'+' | b'-')) {
            at += 1;
        }
        if digits(&mut at) == 0 {
            return false;
        }
    }
    at == bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(value: &Value) -> String {
        let mut out = String::new();
        value.write_json(&mut out);
        out
    }

    #[test]
    fn decimals_are_written_as_their_exact_text() {
        for text in [
            "0.1",
            "299.9",
            "1e-9",
            "0",
            "-15.5",
            "12345678901234567890.123456789",
        ] {
            assert_eq!(json(&Value::Decimal(text.into())), text);
        }
    }

    #[test]
    fn json_number_grammar() {
        for ok in ["0", "-0", "1.5", "1e-9", "1E+3", "-0.0", "10"] {
            assert!(is_json_number(ok), "{ok}");
        }
        for bad in [
            "", "-", "01", "1.", ".5", "1e", "NaN", "+1", "1_0", "0x10", " 1",
        ] {
            assert!(!is_json_number(bad), "{bad}");
        }
    }

    #[test]
    fn texts_escape_and_read_back() {
        let text = "Café \"東京\" 🚀,\n\tback\\slash\u{1}";
        let written = json(&Value::Text(text.into()));
        assert_eq!(
            written,
            "\"Café \\\"東京\\\" 🚀,\\n\\tback\\\\slash\\u0001\""
        );
        assert_eq!(serde_json::from_str::<String>(&written).unwrap(), text);
        assert_eq!(
            Value::from_json(FieldType::Text, &written),
            Some(Value::Text(text.into()))
        );
    }

    #[test]
    fn dates_and_datetimes_round_trip() {
        let date = NaiveDate::from_ymd_opt(2024, 7, 25).unwrap();
        let at = date.and_hms_opt(2, 46, 20).unwrap().and_utc();
        assert_eq!(json(&Value::Date(date)), "\"2024-07-25\"");
        assert_eq!(json(&Value::DateTime(at)), "\"2024-07-25T02:46:20Z\"");
        assert_eq!(
            Value::from_json(FieldType::Date, "\"2024-07-25\""),
            Some(Value::Date(date))
        );
        assert_eq!(
            Value::from_json(FieldType::Datetime, "\"2024-07-25T02:46:20Z\""),
            Some(Value::DateTime(at))
        );
        assert_eq!(parse_datetime("2024-07-25T02:46:20.5Z"), None);
        assert_eq!(parse_date("2024-7-25"), None);
    }

    #[test]
    fn values_convert_to_another_type_where_they_fit() {
        let day = NaiveDate::from_ymd_opt(2024, 7, 25).unwrap();
        let at = day.and_hms_opt(2, 46, 20).unwrap().and_utc();
        let text = |t: &str| Value::Text(t.into());
        let decimal = |t: &str| Value::Decimal(t.into());
        let cases = [
            (
                decimal("12345678901234567890.5"),
                FieldType::Text,
                Some(text("12345678901234567890.5")),
            ),
            (decimal("1e-9"), FieldType::Text, Some(text("1e-9"))),
            (Value::Integer(-3), FieldType::Picklist, Some(text("-3"))),
            (Value::Boolean(true), FieldType::Text, Some(text("true"))),
            (Value::Date(day), FieldType::Text, Some(text("2024-07-25"))),
            (
                Value::DateTime(at),
                FieldType::Text,
                Some(text("2024-07-25T02:46:20Z")),
            ),
            (text("12.50"), FieldType::Decimal, Some(decimal("12.50"))),
            (text("twelve"), FieldType::Decimal, None),
            (Value::Integer(7), FieldType::Decimal, Some(decimal("7"))),
            (
                decimal("42.00"),
                FieldType::Integer,
                Some(Value::Integer(42)),
            ),
            (decimal("42.5"), FieldType::Integer, None),
            (decimal("1e3"), FieldType::Integer, None),
            (
                text("false"),
                FieldType::Boolean,
                Some(Value::Boolean(false)),
            ),
            (decimal("1"), FieldType::Boolean, None),
            (Value::DateTime(at), FieldType::Date, Some(Value::Date(day))),
            (text("2024-07-25"), FieldType::Date, Some(Value::Date(day))),
            (text("25/07/2024"), FieldType::Date, None),
            (
                Value::Date(day),
                FieldType::Datetime,
                Some(Value::DateTime(day.and_hms_opt(0, 0, 0).unwrap().and_utc())),
            ),
            (Value::Boolean(false), FieldType::Date, None),
        ];
        for (value, to, expected) in cases {
            assert_eq!(value.clone().converted(to), expected, "{value:?} to {to:?}");
        }
    }

    #[test]
    fn misfit_raw_text_is_reported_by_its_json_shape() {
        let decimal = FieldType::Decimal;
        assert_eq!(
            Value::from_json(decimal, "\"12.50\""),
            Some(Value::Text("12.50".into()))
        );
        assert_eq!(Value::from_json(decimal, "null"), None);
        assert_eq!(
            Value::from_json(FieldType::Integer, "2.5"),
            Some(Value::Decimal("2.5".into()))
        );
        assert_eq!(
            Value::from_json(FieldType::Text, "true"),
            Some(Value::Boolean(true))
        );
        assert_eq!(
            Value::from_json(FieldType::Date, "{\"a\":1}"),
            Some(Value::Text("{\"a\":1}".into()))
        );
    }
}
