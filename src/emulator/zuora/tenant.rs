//! The data store of the emulated tenant: per object, rows keyed by id, each held as the JSON
//! text of its values so a page is built by copying, with ordered indexes on
//! (UpdatedDate, Id) and (CreatedDate, Id). Inserting, replacing and removing a row keep the
//! indexes right, so mutations during a scan are a matter of calling them.
//!
//! The tables hold what Object Query can see. A change is committed at an instant and becomes
//! visible a configurable delay later (Zuora's read side is eventually consistent); until then
//! it waits in a queue, in commit order, and [`Tenant::current`] already answers with it. Every
//! deleted row is kept with its last values and the instant of its deletion.
//!
//! The tenant also holds its schema, the catalog as drifted since generation. A field added
//! later lies past the end of older rows, which read as null there; a removed field keeps its
//! position and no row holds a value for it.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};

use super::catalog::{CATALOG, FieldDef, ID, ObjectDef};
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

/// One row: its index keys and the JSON text of every field, concatenated in schema order.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub id: u128,
    /// Epoch seconds of CreatedDate and UpdatedDate, the keys of the indexes. Raw text planted
    /// over those fields changes what is sent, not where the row sorts.
    pub created: i64,
    pub updated: i64,
    text: Box<str>,
    /// Where each field's text ends in `text`; an empty span is a null, and so is every field
    /// past the end, added to the schema after the row was written.
    ends: Box<[u32]>,
    /// Keys the catalog does not know, planted by tests, with their raw JSON text.
    extra: Box<[(Box<str>, Box<str>)]>,
}

impl Row {
    /// Builds a row from one value per schema field (`None` = null), as [`write_value`] writes
    /// them.
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
        for (value, field) in values.iter().zip(&object.fields) {
            if let Some(value) = value {
                write_value(value, field, &mut text);
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
        let end = *self.ends.get(at)? as usize;
        let start = if at == 0 {
            0
        } else {
            self.ends[at - 1] as usize
        };
        let text = &self.text[start..end];
        (!text.is_empty()).then_some(text)
    }

    /// The same row with field `at` carrying `raw` as its JSON text, verbatim; an empty `raw`
    /// makes it null.
    pub fn with_field_text(&self, at: usize, raw: &str) -> Row {
        let len = self.ends.len().max(at + 1);
        let mut text = String::with_capacity(self.text.len() + raw.len());
        let mut ends = Vec::with_capacity(len);
        for i in 0..len {
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

    /// Appends the row as a JSON object. `selected` lists the fields to write in schema order
    /// (every field not removed, and the extra keys, when `None`); nulls are left out unless
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

    /// The same row with some fields set (`None` = null, values as [`write_value`] writes them)
    /// and the others' text kept verbatim, planted text and extra keys included, laid out for
    /// the current schema. Setting Id, CreatedDate or UpdatedDate moves the row's index keys
    /// with them.
    ///
    /// # Panics
    /// When Id, CreatedDate or UpdatedDate is set to null or to a value of the wrong type.
    pub fn with_values(&self, object: &ObjectDef, changes: &[(usize, Option<Value>)]) -> Row {
        let mut text = String::with_capacity(self.text.len() + 64);
        let mut ends = Vec::with_capacity(object.fields.len());
        for (at, field) in object.fields.iter().enumerate() {
            match changes.iter().rev().find(|(change, _)| *change == at) {
                Some((_, Some(value))) => write_value(value, field, &mut text),
                Some((_, None)) => {}
                None => text.push_str(self.field(at).unwrap_or("")),
            }
            ends.push(offset(text.len()));
        }
        let mut row = Row {
            text: text.into(),
            ends: ends.into(),
            ..self.clone()
        };
        for (at, value) in changes {
            let unset = |what: &str| -> u128 { panic!("{}: {what} must be set", object.name) };
            match (*at, value) {
                (ID, Some(Value::Text(id))) => {
                    row.id = parse_id(id).unwrap_or_else(|| unset("Id as 32 hex digits"))
                }
                (ID, _) => _ = unset("Id"),
                (at, Some(Value::DateTime(t))) if at == object.created_date() => {
                    row.created = t.timestamp()
                }
                (at, Some(Value::DateTime(t))) if at == object.updated_date() => {
                    row.updated = t.timestamp()
                }
                (at, _) if at == object.created_date() || at == object.updated_date() => {
                    _ = unset("CreatedDate and UpdatedDate")
                }
                _ => {}
            }
        }
        row
    }

    /// Field `at` as a typed value; `None` for a null.
    pub fn value(&self, object: &ObjectDef, at: usize) -> Option<Value> {
        Value::from_json(object.fields[at].field_type, self.field(at)?)
    }

    /// Field `at` read as an id (a foreign key), `None` when null or not an id.
    pub fn id_in(&self, at: usize) -> Option<u128> {
        let text = self.field(at)?;
        parse_id(text.strip_prefix('"')?.strip_suffix('"')?)
    }

    /// The row as typed values of the fields not removed, for tests that compare every cell.
    pub fn record(&self, object: &ObjectDef) -> Record {
        let values = object
            .live_fields()
            .filter_map(|(at, f)| {
                let value = Value::from_json(f.field_type, self.field(at)?)?;
                Some((f.name.clone(), value))
            })
            .collect();
        Record {
            id: format_id(self.id),
            values,
        }
    }
}

/// Appends the JSON text of `value` as `field` holds it now. The emulator's own changes name
/// catalog fields with values of their catalog types: nothing is written to a removed field,
/// and a value for a field retyped since is converted first, or dropped when it does not fit.
fn write_value(value: &Value, field: &FieldDef, out: &mut String) {
    if field.removed {
        return;
    }
    if value.fits(field.field_type) {
        value.write_json(out);
    } else if let Some(value) = value.clone().converted(field.field_type) {
        value.write_json(out);
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

/// A row as it was when it was deleted, and when that was.
#[derive(Debug, Clone)]
pub(crate) struct Deleted {
    pub row: Row,
    pub at: DateTime<Utc>,
}

/// A committed change that Object Query does not see yet: the row's new version, or `None`
/// for a deletion.
#[derive(Debug)]
struct Change {
    at: DateTime<Utc>,
    object: usize,
    id: u128,
    row: Option<Row>,
}

/// Committed changes on their way to visibility, and the deleted rows.
#[derive(Debug, Default)]
struct Changes {
    delay: TimeDelta,
    queue: VecDeque<Change>,
    /// For every row with a change in `queue`: its newest version (`None` once deleted) and
    /// how many of its changes are queued, so the entry goes when the last one is applied.
    newest: BTreeMap<(usize, u128), (Option<Row>, usize)>,
    /// Per object, in order of deletion.
    deleted: Vec<Vec<Deleted>>,
}

/// Every object's table, in catalog order.
#[derive(Debug)]
pub(crate) struct Tenant {
    pub tables: Vec<Table>,
    /// Every object's definition as it is now, in catalog order: the catalog, drifted by
    /// fields added, removed or retyped since generation. Behind an `Arc` so a batch of
    /// mutations can hold a definition while it changes rows.
    pub schema: Vec<Arc<ObjectDef>>,
    /// The next value of the counter behind invoice, payment, charge and other numbers, so
    /// rows inserted after generation continue the sequence instead of repeating it.
    pub next_number: u64,
    /// The next account number (`A00000101`): accounts are numbered apart from the rest.
    pub next_account: u64,
    changes: Changes,
}

impl Tenant {
    pub fn empty() -> Tenant {
        Tenant {
            tables: CATALOG.objects.iter().map(|_| Table::default()).collect(),
            schema: CATALOG.objects.iter().cloned().map(Arc::new).collect(),
            next_number: 1,
            next_account: 1,
            changes: Changes {
                deleted: CATALOG.objects.iter().map(|_| Vec::new()).collect(),
                ..Changes::default()
            },
        }
    }

    /// The committed version of a row, visible or not yet; `None` when it does not exist or
    /// was deleted.
    pub fn current(&self, object: usize, id: u128) -> Option<&Row> {
        match self.changes.newest.get(&(object, id)) {
            Some((row, _)) => row.as_ref(),
            None => self.tables[object].rows.get(&id),
        }
    }

    /// Calls `visit` with the committed version of every row of `object`, in no useful order.
    pub fn for_each_current(&self, object: usize, mut visit: impl FnMut(&Row)) {
        let newest = &self.changes.newest;
        for row in self.tables[object].rows.values() {
            if !newest.contains_key(&(object, row.id)) {
                visit(row);
            }
        }
        for ((_, _), (row, _)) in newest.range((object, 0)..=(object, u128::MAX)) {
            if let Some(row) = row {
                visit(row);
            }
        }
    }

    /// The number of committed rows of `object`.
    pub fn current_len(&self, object: usize) -> usize {
        let mut len = self.tables[object].len();
        for ((_, id), (row, _)) in self.changes.newest.range((object, 0)..=(object, u128::MAX)) {
            match (self.tables[object].rows.contains_key(id), row.is_some()) {
                (true, false) => len -= 1,
                (false, true) => len += 1,
                _ => {}
            }
        }
        len
    }

    /// The first visible id at or after `from`, wrapping around, whose row still exists: with
    /// a random `from` this picks a row nearly uniformly, as ids are random, in O(log n).
    pub fn live_id_near(&self, object: usize, from: u128) -> Option<u128> {
        let rows = &self.tables[object].rows;
        let id = *rows.range(from..).next().or_else(|| rows.iter().next())?.0;
        self.current(object, id).map(|_| id)
    }

    /// Commits a new version of a row (`None` deletes it) at `at`, which must not be earlier
    /// than the previous commit. Object Query sees it once the visibility delay has passed.
    pub fn commit(&mut self, object: usize, id: u128, row: Option<Row>, at: DateTime<Utc>) {
        if row.is_none()
            && let Some(old) = self.current(object, id)
        {
            let gone = Deleted {
                row: old.clone(),
                at,
            };
            self.changes.deleted[object].push(gone);
        }
        if self.changes.queue.is_empty() && self.changes.delay <= TimeDelta::zero() {
            self.apply(object, id, row);
            return;
        }
        let newest = self.changes.newest.entry((object, id)).or_insert((None, 0));
        newest.0.clone_from(&row);
        newest.1 += 1;
        let change = Change {
            at,
            object,
            id,
            row,
        };
        self.changes.queue.push_back(change);
    }

    fn apply(&mut self, object: usize, id: u128, row: Option<Row>) {
        match row {
            Some(row) => self.tables[object].upsert(row),
            None => self.tables[object].remove(id),
        };
    }

    /// Whether a queued change has become visible by `now`.
    pub fn needs_settling(&self, now: DateTime<Utc>) -> bool {
        let delay = self.changes.delay;
        self.changes
            .queue
            .front()
            .is_some_and(|c| c.at + delay <= now)
    }

    /// Makes every change committed at least the visibility delay before `now` visible.
    pub fn settle(&mut self, now: DateTime<Utc>) {
        while self.needs_settling(now) {
            let Some(change) = self.changes.queue.pop_front() else {
                break;
            };
            let key = (change.object, change.id);
            if let Some(newest) = self.changes.newest.get_mut(&key) {
                newest.1 -= 1;
                if newest.1 == 0 {
                    self.changes.newest.remove(&key);
                }
            }
            self.apply(change.object, change.id, change.row);
        }
    }

    /// From now on, a change becomes visible `delay` after its commit; queued changes follow
    /// the new delay too.
    pub fn set_visibility_delay(&mut self, delay: TimeDelta) {
        self.changes.delay = delay;
    }

    pub fn visibility_delay(&self) -> TimeDelta {
        self.changes.delay
    }

    /// Every row of `object` deleted so far, oldest deletion first.
    pub fn deleted(&self, object: usize) -> &[Deleted] {
        &self.changes.deleted[object]
    }

    /// Replaces every stored version of a row, visible and queued, with `rewrite` of it.
    /// Returns false when the row has no committed version.
    pub fn rewrite(&mut self, object: usize, id: u128, rewrite: impl Fn(&Row) -> Row) -> bool {
        if self.current(object, id).is_none() {
            return false;
        }
        if let Some(row) = self.tables[object].rows.get(&id) {
            let row = rewrite(row);
            self.tables[object].upsert(row);
        }
        let queued = self.changes.queue.iter_mut();
        for change in queued.filter(|c| (c.object, c.id) == (object, id)) {
            if let Some(row) = &mut change.row {
                *row = rewrite(row);
            }
        }
        if let Some((Some(row), _)) = self.changes.newest.get_mut(&(object, id)) {
            *row = rewrite(row);
        }
        true
    }

    /// Replaces every stored version of every row of `object`, visible, queued and deleted,
    /// with what `rewrite` makes of it (`None` keeps it), which must keep the id and the audit
    /// dates. Used when the schema changes under the rows.
    pub fn rewrite_every(&mut self, object: usize, mut rewrite: impl FnMut(&Row) -> Option<Row>) {
        let mut apply = |row: &mut Row| {
            if let Some(new) = rewrite(row) {
                *row = new;
            }
        };
        self.tables[object].rows.values_mut().for_each(&mut apply);
        let queued = self.changes.queue.iter_mut().filter(|c| c.object == object);
        queued.filter_map(|c| c.row.as_mut()).for_each(&mut apply);
        let newest = self
            .changes
            .newest
            .range_mut((object, 0)..=(object, u128::MAX));
        newest
            .filter_map(|(_, (row, _))| row.as_mut())
            .for_each(&mut apply);
        let deleted = self.changes.deleted[object].iter_mut();
        deleted.map(|gone| &mut gone.row).for_each(&mut apply);
    }

    /// The current definition of `object`.
    pub fn def(&self, object: usize) -> Arc<ObjectDef> {
        self.schema[object].clone()
    }

    /// Adds a row built from one value per field of object `object`.
    ///
    /// # Panics
    /// When the id is already taken: ids are random 128-bit numbers, so a repeat is a bug.
    pub fn insert(&mut self, object: usize, values: &[Option<Value>]) {
        let def = &self.schema[object];
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
    fn committed_changes_reach_the_tables_after_the_delay_in_order() {
        let object = CATALOG.index("Contact");
        let def = &CATALOG.objects[object];
        let mut tenant = Tenant::empty();
        tenant.insert(object, &contact(7, 1_000, Some("Oslo")));
        tenant.insert(object, &contact(8, 1_000, Some("Rome")));
        tenant.set_visibility_delay(TimeDelta::seconds(10));
        let t = DateTime::from_timestamp(5_000, 0).unwrap();

        let moved = Row::new(def, &contact(7, 2_000, Some("Bergen")));
        tenant.commit(object, 7, Some(moved), t);
        tenant.commit(object, 8, None, t);
        let later = t + TimeDelta::seconds(5);
        tenant.commit(
            object,
            9,
            Some(Row::new(def, &contact(9, 2_005, None))),
            later,
        );

        assert_eq!(tenant.current(object, 7).unwrap().updated, 2_000);
        assert!(tenant.current(object, 8).is_none() && tenant.current(object, 9).is_some());
        assert_eq!(tenant.current_len(object), 2);
        assert_eq!(
            tenant.deleted(object).len(),
            1,
            "a deletion is kept at once"
        );
        let table = &tenant.tables[object];
        assert_eq!(table.rows[&7].updated, 1_000, "still the old version");
        assert!(table.rows.contains_key(&8) && !table.rows.contains_key(&9));

        assert!(!tenant.needs_settling(t + TimeDelta::seconds(9)));
        tenant.settle(t + TimeDelta::seconds(10));
        let table = &tenant.tables[object];
        assert_eq!(table.rows[&7].updated, 2_000);
        assert!(!table.rows.contains_key(&8) && !table.rows.contains_key(&9));
        assert_eq!(table.by_updated.len(), 1);

        tenant.settle(later + TimeDelta::seconds(10));
        assert!(tenant.tables[object].rows.contains_key(&9));
        assert!(!tenant.needs_settling(later + TimeDelta::days(1)));
        let mut seen = Vec::new();
        tenant.for_each_current(object, |row| seen.push(row.id));
        seen.sort_unstable();
        assert_eq!(seen, [7, 9]);
    }

    #[test]
    fn without_a_delay_commits_apply_at_once_and_deletions_are_kept() {
        let object = CATALOG.index("Contact");
        let mut tenant = Tenant::empty();
        tenant.insert(object, &contact(7, 1_000, Some("Oslo")));
        let t = DateTime::from_timestamp(5_000, 0).unwrap();
        tenant.commit(object, 7, None, t);
        assert!(tenant.tables[object].rows.is_empty());
        let gone = &tenant.deleted(object)[0];
        assert_eq!((gone.row.id, gone.at), (7, t));
        let city = CATALOG.objects[object].position("City");
        assert_eq!(gone.row.field(city), Some("\"Oslo\""), "its last values");
    }

    #[test]
    fn with_values_keeps_other_text_and_moves_the_keys() {
        let def = &CATALOG.objects[CATALOG.index("Contact")];
        let row = Row::new(def, &contact(7, 1_000, Some("Oslo"))).with_extra_key("x", "1");
        let at = DateTime::from_timestamp(3_000, 0).unwrap();
        let changed = row.with_values(
            def,
            &[
                (ID, Some(Value::Text(format_id(9)))),
                (def.updated_date(), Some(Value::DateTime(at))),
                (def.position("City"), None),
            ],
        );
        assert_eq!(
            (changed.id, changed.updated, changed.created),
            (9, 3_000, 990)
        );
        assert_eq!(changed.field(def.position("City")), None);
        let mut out = String::new();
        changed.write_json(def, None, false, &mut out);
        assert!(
            out.contains("\"x\":1") && out.contains("\"updatedDate\":\"1970-01-01T00:50:00Z\"")
        );
        assert_eq!(changed.id_in(ID), Some(9));
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
