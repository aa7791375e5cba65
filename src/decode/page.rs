//! The Object Query page envelope, `{"data": [{...}, ...], "nextPage": "..."}`, read in one pass
//! by serde_json: each record is streamed key by key into [`Records`], with every value handed
//! over as its raw text borrowed from the body, so nothing is copied or allocated per value
//! except what the column builders keep.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::record::Records;
use crate::Error;

/// Bytes of the body shown on each side of the point where a malformed page went wrong.
const EXCERPT_RADIUS: usize = 40;

/// Reads a page body into `records`; returns its `nextPage`. A record whose content is wrong
/// stops the read with a placeholder error, the real one being left in `records`.
pub(super) fn read(body: &str, records: &mut Records) -> serde_json::Result<Option<String>> {
    let mut deserializer = serde_json::Deserializer::from_str(body);
    let next_page = Envelope { records }.deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(next_page)
}

/// The `Error::Source` for a body that is not an Object Query page, with a short excerpt around
/// the place it went wrong (never the whole body, which may be megabytes).
pub(super) fn malformed(object: &str, body: &[u8], what: &str, offset: usize) -> Error {
    let offset = offset.min(body.len());
    let start = offset.saturating_sub(EXCERPT_RADIUS);
    let end = (offset + EXCERPT_RADIUS).min(body.len());
    let excerpt = one_line(&String::from_utf8_lossy(&body[start..end]));
    Error::Source(format!(
        "the {object} page is not an Object Query response: {what}, at byte {offset} of {}, \
         near `{excerpt}`",
        body.len(),
    ))
}

/// The text with control characters escaped, so that an excerpt stays on one line of a log.
fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Describes a serde_json error and locates it as a byte offset into `body`.
pub(super) fn locate(body: &str, error: &serde_json::Error) -> (String, usize) {
    let line_start: usize = body
        .split('\n')
        .take(error.line().saturating_sub(1))
        .map(|l| l.len() + 1)
        .sum();
    let offset = line_start + error.column().saturating_sub(1);

    let message = error.to_string();
    let position = format!(" at line {} column {}", error.line(), error.column());
    let message = message.strip_suffix(&position).unwrap_or(&message);
    let what = match error.classify() {
        serde_json::error::Category::Eof => format!("the body ends too early ({message})"),
        serde_json::error::Category::Syntax => format!("malformed JSON ({message})"),
        _ => message.to_string(),
    };
    (what, offset)
}

/// The page object. Keys other than `data` and `nextPage` are skipped.
struct Envelope<'r> {
    records: &'r mut Records,
}

impl<'de> DeserializeSeed<'de> for Envelope<'_> {
    type Value = Option<String>;

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Envelope<'_> {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a page object with a `data` array")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut next_page = None;
        let mut has_data = false;
        while let Some(key) = map.next_key_seed(Key)? {
            match &*key {
                "data" if has_data => return Err(de::Error::duplicate_field("data")),
                "data" => {
                    has_data = true;
                    map.next_value_seed(RecordArray {
                        records: &mut *self.records,
                    })?;
                }
                "nextPage" => next_page = map.next_value::<Option<String>>()?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if !has_data {
            return Err(de::Error::missing_field("data"));
        }
        Ok(next_page)
    }
}

struct RecordArray<'r> {
    records: &'r mut Records,
}

impl<'de> DeserializeSeed<'de> for RecordArray<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for RecordArray<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("`data` to be an array of records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq
            .next_element_seed(Record {
                records: &mut *self.records,
            })?
            .is_some()
        {}
        Ok(())
    }
}

struct Record<'r> {
    records: &'r mut Records,
}

impl<'de> DeserializeSeed<'de> for Record<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Record<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("each record to be a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.records.begin_record();
        while let Some(key) = map.next_key_seed(Key)? {
            let value: &'de RawValue = map.next_value()?;
            self.records.accept(&key, value.get());
        }
        self.records
            .end_record()
            .map_err(|()| de::Error::custom("a record cannot be stored (see the data error)"))
    }
}

/// A JSON object key, borrowed from the body unless it holds an escape.
struct Key;

impl<'de> DeserializeSeed<'de> for Key {
    type Value = Cow<'de, str>;

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_borrowed_str<E: de::Error>(self, key: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(key))
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(key.to_owned()))
    }
}
