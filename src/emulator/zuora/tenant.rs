//! The data store of the emulated tenant: per object, rows keyed by id, each held as the JSON
//! text of its values so a page is built by copying, with ordered indexes on
//! (UpdatedDate, Id) and (CreatedDate, Id). Inserting, replacing and removing a row keep the
//! indexes right, so mutations during a scan are a matter of calling them.

use std::collections::{BTreeMap, BTreeSet};

use super::catalog::{CATALOG, ID, ObjectDef};
use super::value::{Record, Value};

/// Ids are 32 lowercase hex digits, which order the same as the `u128` they spell; storing the
/// number halves the key size and makes id ranges plain integer ranges.
pub(crate) fn parse_id(text: &str) -> Option<u128> {
    let valid = text.len() == 32 && text.bytes().all(|b| b.is_ascii_hexdigit());
    valid.then(|| u128::from_str_radix(text, 16).ok()).flatten()
}

pub(crate) fn format_id(id: u128) -> String {
    format!("{id:032x}")
}

/// One row: its index keys and the JSON text of every field, concatenated in catalog order.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub id: u128,
    /// Epoch seconds of CreatedDate and UpdatedDate, the keys of the indexes. Raw text planted
    /// over those fields changes what is sent, not where the row sorts.
    pub created: i64,
    pub updated: i64,
    text: Box<str>,
    /// Where each field's text ends in `text`; an empty span is a null.
    ends: Box<[u32]>,
    /// Keys the catalog does not know, planted by tests, with their raw JSON text.
    extra: Box<[(Box<str>, Box<str>)]>,
}

impl Row {
    /// Builds a row from one value per catalog field (`None` = null).
    ///
    /// # Panics
    /// When Id, CreatedDate or UpdatedDate is missing or of the wrong type: the generator and
    /// the mutation hooks always set them.
    pub fn new(object: &ObjectDef, values: &[Option<Value>]) -> Row {
        assert_eq!(
            values.len(),
            object.fields.len(),
            "{}: one value per field",
            object.name
        );
        let id = match &values[ID] {
            Some(Value::Text(id)) => parse_id(id),
            _ => None,
        };
        let id = id.unwrap_or_else(|| panic!("{}: Id must be 32 hex digits", object.name));
        let seconds = |at: usize| match &values[at] {
            Some(Value::DateTime(t)) => t.timestamp(),
            _ => panic!("{}: {} must be set", object.name, object.fields[at].name),
        };
        let (created, updated) = (
            seconds(object.created_date()),
            seconds(object.updated_date()),
        );

        let mut text = String::with_capacity(values.len() * 16);
        let mut ends = Vec::with_capacity(values.len());
        for value in values {
            if let Some(value) = value {
                value.write_json(&mut text);
            }
            ends.push(offset(text.len()));
        }
        Row {
            id,
            created,
            updated,
            text: text.into(),
            ends: ends.into(),
            extra: Box::new([]),
        }
    }

    /// The JSON text of field `at`, `None` when it is null.
    pub fn field(&self, at: usize) -> Option<&str> {
        let start = if at == 0 {
            0
        } else {
            self.ends[at - 1] as usize
        };
        let text = &self.text[start..self.ends[at] as usize];
        (!text.is_empty()).then_some(text)
    }

    /// The same row with field `at` carrying `raw` as its JSON text, verbatim.
    pub fn with_field_text(&self, at: usize, raw: &str) -> Row {
        let mut text = String::with_capacity(self.text.len() + raw.len());
        let mut ends = Vec::with_capacity(self.ends.len());
        for i in 0..self.ends.len() {
            text.push_str(if i == at {
                raw
            } else {
                self.field(i).unwrap_or("")
            });
            ends.push(offset(text.len()));
        }
        Row {
            text: text.into(),
            ends: ends.into(),
            ..self.clone()
        }
    }

    /// The same row with an extra top-level key that the catalog does not know.
    pub fn with_extra_key(&self, key: &str, raw: &str) -> Row {
        let mut extra: Vec<_> = self
            .extra
            .iter()
            .filter(|(k, _)| &**k != key)
            .cloned()
            .collect();
        extra.push((key.into(), raw.into()));
        Row {
            extra: extra.into(),
            ..self.clone()
        }
    }

    /// Appends the row as a JSON object. `selected` lists the fields to write in catalog order
    /// (all of them, and the extra keys, when `None`); nulls are left out unless
    /// `include_nulls`.
    pub fn write_json(
        &self,
        object: &ObjectDef,
        selected: Option<&[usize]>,
        include_nulls: bool,
        out: &mut String,
    ) {
        out.push('{');
        let mut first = true;
        let mut separate = |out: &mut String| {
            if !std::mem::take(&mut first) {
                out.push(',');
            }
        };
        for &at in selected.unwrap_or(&object.every_field) {
            let value = match self.field(at) {
                Some(value) => value,
                None if include_nulls => "null",
                None => continue,
            };
            separate(out);
            out.push_str(&object.fields[at].key_prefix);
            out.push_str(value);
        }
        if selected.is_none() {
            for (key, raw) in &self.extra {
                separate(out);
                super::value::write_json_string(key, out);
                out.push(':');
                out.push_str(raw);
            }
        }
        out.push('}');
    }

    /// The row as typed values, for tests that compare every cell.
    pub fn record(&self, object: &ObjectDef) -> Record {
        let values = object
            .fields
            .iter()
            .enumerate()
            .filter_map(|(at, f)| {
                let value = Value::from_json(f.field_type, self.field(at)?)?;
                Some((f.name.to_string(), value))
            })
            .collect();
        Record {
            id: format_id(self.id),
            values,
        }
    }
}

fn offset(len: usize) -> u32 {
    u32::try_from(len).expect("a row's JSON text stays under 4 GiB")
}

/// The rows of one object and their indexes.
#[derive(Debug, Default)]
pub(crate) struct Table {
    pub rows: BTreeMap<u128, Row>,
    pub by_updated: BTreeSet<(i64, u128)>,
    pub by_created: BTreeSet<(i64, u128)>,
}

impl Table {
    /// Inserts the row, or replaces the row with the same id; returns the replaced row.
    pub fn upsert(&mut self, row: Row) -> Option<Row> {
        let old = self.remove(row.id);
        self.by_updated.insert((row.updated, row.id));
        self.by_created.insert((row.created, row.id));
        self.rows.insert(row.id, row);
        old
    }

    pub fn remove(&mut self, id: u128) -> Option<Row> {
        let old = self.rows.remove(&id)?;
        self.by_updated.remove(&(old.updated, id));
        self.by_created.remove(&(old.created, id));
        Some(old)
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }
}

/// Every object's table, in catalog order.
#[derive(Debug)]
pub(crate) struct Tenant {
    pub tables: Vec<Table>,
}

impl Tenant {
    pub fn empty() -> Tenant {
        Tenant {
            tables: CATALOG.objects.iter().map(|_| Table::default()).collect(),
        }
    }

    /// Adds a row built from one value per field of object `object`.
    ///
    /// # Panics
    /// When the id is already taken: ids are random 128-bit numbers, so a repeat is a bug.
    pub fn insert(&mut self, object: usize, values: &[Option<Value>]) {
        let def = &CATALOG.objects[object];
        let row = Row::new(def, values);
        let id = row.id;
        assert!(
            self.tables[object].upsert(row).is_none(),
            "{}: duplicate id {id:032x}",
            def.name
        );
    }

    /// The newest UpdatedDate in the tenant, in epoch seconds.
    pub fn latest_update(&self) -> Option<i64> {
        self.tables
            .iter()
            .filter_map(|t| t.by_updated.last().map(|&(at, _)| at))
            .max()
    }
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;

    use super::*;

    fn contact(id: u128, updated: i64, city: Option<&str>) -> Vec<Option<Value>> {
        let def = &CATALOG.objects[CATALOG.index("Contact")];
        let mut values = vec![None; def.fields.len()];
        let at = |s: i64| Some(Value::DateTime(DateTime::from_timestamp(s, 0).unwrap()));
        values[ID] = Some(Value::Text(format_id(id)));
        values[def.created_date()] = at(updated - 10);
        values[def.updated_date()] = at(updated);
        values[def.position("City")] = city.map(|c| Value::Text(c.into()));
        values
    }

    #[test]
    fn ids_parse_only_as_32_hex_digits() {
        assert_eq!(
            parse_id("8a8aa3bc90c4f1690190e7c2545f3c86"),
            Some(0x8a8aa3bc90c4f1690190e7c2545f3c86)
        );
        assert_eq!(parse_id("8a8aa3bc"), None);
        assert_eq!(parse_id("+a8aa3bc90c4f1690190e7c2545f3c86"), None);
        assert_eq!(format_id(255), "000000000000000000000000000000ff");
    }

    #[test]
    fn upsert_moves_the_row_in_the_indexes() {
        let object = CATALOG.index("Contact");
        let def = &CATALOG.objects[object];
        let mut tenant = Tenant::empty();
        tenant.insert(object, &contact(7, 1_000, Some("Oslo")));
        let table = &mut tenant.tables[object];
        table.upsert(Row::new(def, &contact(7, 2_000, None)));

        assert_eq!(table.len(), 1);
        assert_eq!(
            table.by_updated.iter().copied().collect::<Vec<_>>(),
            [(2_000, 7)]
        );
        assert_eq!(table.rows[&7].field(def.position("City")), None);
        table.remove(7);
        assert!(table.by_updated.is_empty() && table.by_created.is_empty());
    }

    #[test]
    fn planted_text_replaces_one_field_and_extra_keys_follow_the_fields() {
        let object = CATALOG.index("Contact");
        let def = &CATALOG.objects[object];
        let row = Row::new(def, &contact(7, 1_000, Some("Oslo")));
        let city = def.position("City");
        let row = row
            .with_field_text(city, "42")
            .with_extra_key("surprise", "[1]");

        let mut out = String::new();
        row.write_json(def, None, false, &mut out);
        let json: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(json["city"], 42);
        assert_eq!(json["surprise"], serde_json::json!([1]));
        assert_eq!(json["id"], format_id(7));
        assert_eq!(row.record(def).values["City"], Value::Decimal("42".into()));
    }

    #[test]
    fn selected_fields_and_nulls() {
        let def = &CATALOG.objects[CATALOG.index("Contact")];
        let row = Row::new(def, &contact(7, 1_000, None));
        let (id, city) = (ID, def.position("City"));
        let mut out = String::new();
        row.write_json(def, Some(&[id, city]), true, &mut out);
        assert_eq!(
            out,
            format!("{{\"id\":\"{}\",\"city\":null}}", format_id(7))
        );
        out.clear();
        row.write_json(def, Some(&[id, city]), false, &mut out);
        assert_eq!(out, format!("{{\"id\":\"{}\"}}", format_id(7)));
    }
}
