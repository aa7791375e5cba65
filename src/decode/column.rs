//! One Arrow builder per exported field, fed the raw JSON text of each value. A value is either
//! appended exactly as its Describe type says or refused with a sentence naming what was
//! expected and what was found; a refused value appends nothing.

use std::borrow::Cow;
use std::mem;
use std::sync::Arc;

use arrow::array::{
    ArrayBuilder, ArrayRef, BooleanBuilder, Date32Builder, Decimal128Builder, Int64Builder,
    StringBuilder, TimestampMicrosecondBuilder,
};

use super::datetime::{self, BadDateTime};
use super::number::{self, Inexact};
use crate::schema::{DECIMAL_PRECISION, DECIMAL_SCALE, FieldType, UTC};

/// Offending values are quoted in errors up to this many bytes, so that a huge value cannot
/// flood a log line.
const QUOTE_LIMIT: usize = 60;

pub(super) enum Column {
    Text(StringBuilder),
    Boolean(BooleanBuilder),
    Integer(Int64Builder),
    Decimal(Decimal128Builder),
    Date(Date32Builder),
    Datetime(TimestampMicrosecondBuilder),
}

impl Column {
    pub(super) fn new(field_type: FieldType) -> Self {
        Self::with_capacity(field_type, 0, 0)
    }

    fn with_capacity(field_type: FieldType, rows: usize, text_bytes: usize) -> Self {
        match field_type {
            FieldType::Text | FieldType::Picklist => {
                Self::Text(StringBuilder::with_capacity(rows, text_bytes))
            }
            FieldType::Boolean => Self::Boolean(BooleanBuilder::with_capacity(rows)),
            FieldType::Integer => Self::Integer(Int64Builder::with_capacity(rows)),
            FieldType::Decimal => Self::Decimal(
                Decimal128Builder::with_capacity(rows).with_data_type(field_type.arrow_type()),
            ),
            FieldType::Date => Self::Date(Date32Builder::with_capacity(rows)),
            FieldType::Datetime => {
                Self::Datetime(TimestampMicrosecondBuilder::with_capacity(rows).with_timezone(UTC))
            }
        }
    }

    fn field_type(&self) -> FieldType {
        match self {
            Self::Text(_) => FieldType::Text,
            Self::Boolean(_) => FieldType::Boolean,
            Self::Integer(_) => FieldType::Integer,
            Self::Decimal(_) => FieldType::Decimal,
            Self::Date(_) => FieldType::Date,
            Self::Datetime(_) => FieldType::Datetime,
        }
    }

    /// Appends one JSON value, given as its raw text. Returns the microseconds of a date-time
    /// value (the cursor is one), or the reason the value cannot be stored.
    pub(super) fn append(&mut self, raw: &str) -> Result<Option<i64>, String> {
        if raw == "null" {
            self.append_null();
            return Ok(None);
        }
        match self {
            Self::Text(b) => b.append_value(string(raw, "a JSON string")?),
            Self::Boolean(b) => b.append_value(boolean(raw)?),
            Self::Integer(b) => b.append_value(integer(raw)?),
            Self::Decimal(b) => b.append_value(decimal(raw)?),
            Self::Date(b) => b.append_value(date(raw)?),
            Self::Datetime(b) => {
                let micros = timestamp(raw)?;
                b.append_value(micros);
                return Ok(Some(micros));
            }
        }
        Ok(None)
    }

    pub(super) fn append_null(&mut self) {
        match self {
            Self::Text(b) => b.append_null(),
            Self::Boolean(b) => b.append_null(),
            Self::Integer(b) => b.append_null(),
            Self::Decimal(b) => b.append_null(),
            Self::Date(b) => b.append_null(),
            Self::Datetime(b) => b.append_null(),
        }
    }

    /// The array built so far. The builder starts over sized like this array, so that pages of
    /// similar size do not grow their buffers value by value.
    pub(super) fn finish(&mut self) -> ArrayRef {
        let (rows, text_bytes) = match self {
            Self::Text(b) => (b.len(), b.values_slice().len()),
            Self::Boolean(b) => (b.len(), 0),
            Self::Integer(b) => (b.len(), 0),
            Self::Decimal(b) => (b.len(), 0),
            Self::Date(b) => (b.len(), 0),
            Self::Datetime(b) => (b.len(), 0),
        };
        let next = Self::with_capacity(self.field_type(), rows, text_bytes);
        match mem::replace(self, next) {
            Self::Text(mut b) => Arc::new(b.finish()),
            Self::Boolean(mut b) => Arc::new(b.finish()),
            Self::Integer(mut b) => Arc::new(b.finish()),
            Self::Decimal(mut b) => Arc::new(b.finish()),
            Self::Date(mut b) => Arc::new(b.finish()),
            Self::Datetime(mut b) => Arc::new(b.finish()),
        }
    }
}

/// The content of a JSON string, unescaped. Borrowed unless the text holds an escape; serde_json
/// has already validated the whole value, so the slow path cannot fail on well-formed input.
pub(super) fn string_content(raw: &str) -> Option<Cow<'_, str>> {
    let inner = raw.strip_prefix('"')?.strip_suffix('"')?;
    if !inner.as_bytes().contains(&b'\\') {
        return Some(Cow::Borrowed(inner));
    }
    serde_json::from_str::<String>(raw).ok().map(Cow::Owned)
}

fn string<'a>(raw: &'a str, expected: &str) -> Result<Cow<'a, str>, String> {
    string_content(raw).ok_or_else(|| mismatch(expected, raw))
}

fn boolean(raw: &str) -> Result<bool, String> {
    match raw {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(mismatch("a JSON true or false", raw)),
    }
}

fn integer(raw: &str) -> Result<i64, String> {
    let value = number::scaled(raw, 19, 0).map_err(|why| match why {
        Inexact::NotANumber => mismatch("a JSON number", raw),
        Inexact::Fraction => format!("expected an integer, found the number {}", quote(raw)),
        Inexact::Magnitude => out_of_range(raw),
    })?;
    i64::try_from(value).map_err(|_| out_of_range(raw))
}

fn out_of_range(raw: &str) -> String {
    format!(
        "the number {} is outside the range of a 64-bit integer",
        quote(raw)
    )
}

fn decimal(raw: &str) -> Result<i128, String> {
    let precision = u32::from(DECIMAL_PRECISION);
    let scale = DECIMAL_SCALE as u32;
    number::scaled(raw, precision, scale).map_err(|why| {
        let limit = match why {
            Inexact::NotANumber => return mismatch("a JSON number", raw),
            Inexact::Fraction => format!("it has more than {scale} fractional digits"),
            Inexact::Magnitude => format!("it has more than {} integer digits", precision - scale),
        };
        let column = format!("DECIMAL({precision},{scale})");
        format!(
            "{} cannot be stored exactly in {column}: {limit}",
            quote(raw)
        )
    })
}

fn date(raw: &str) -> Result<i32, String> {
    const EXPECTED: &str = "a date as \"YYYY-MM-DD\"";
    let text = string(raw, EXPECTED)?;
    datetime::parse_date(&text).ok_or_else(|| mismatch(EXPECTED, raw))
}

fn timestamp(raw: &str) -> Result<i64, String> {
    const EXPECTED: &str = "an RFC 3339 date-time such as \"2024-07-25T02:46:20Z\"";
    let text = string(raw, EXPECTED)?;
    datetime::parse_datetime(&text).map_err(|why| match why {
        BadDateTime::Malformed => mismatch(EXPECTED, raw),
        BadDateTime::TooPrecise => format!(
            "the date-time {} is more precise than the microseconds a timestamp keeps",
            quote(raw)
        ),
    })
}

/// "expected X, found the string "abc"": what the column needs and what the page carried.
pub(super) fn mismatch(expected: &str, raw: &str) -> String {
    let found = match raw.as_bytes().first() {
        Some(b'"') => "the string ",
        Some(b'{') => "the object ",
        Some(b'[') => "the array ",
        Some(b't' | b'f' | b'n') => "",
        _ => "the number ",
    };
    format!("expected {expected}, found {found}{}", quote(raw))
}

/// The value as the page carried it, cut at [`QUOTE_LIMIT`] bytes on a character boundary.
pub(super) fn quote(raw: &str) -> Cow<'_, str> {
    if raw.len() <= QUOTE_LIMIT {
        return Cow::Borrowed(raw);
    }
    let cut = (0..=QUOTE_LIMIT)
        .rev()
        .find(|&i| raw.is_char_boundary(i))
        .unwrap_or(0);
    Cow::Owned(format!("{}… ({} bytes)", &raw[..cut], raw.len()))
}
