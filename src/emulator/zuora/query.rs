//! Object Query over one table: parsing `pageSize`, `cursor`, `filter[]`, `sort[]`, `fields[]` and
//! `includeNullFields`, then serving one page in keyset order. The next page starts strictly
//! after the last row returned, so a cursor stays valid while rows change under it.
//!
//! Sorting on UpdatedDate, CreatedDate or Id walks the matching index from the cursor and stops
//! one row past the page, whatever the table size; filters on those fields narrow the walk.
//! Sorting on any other field sorts every matching row per page, which is fine for tests and
//! slow on purpose-built large tenants.

use std::cmp::Ordering;
use std::fmt::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::InvalidPageSize;
use super::catalog::{FieldType, ID, ObjectDef};
use super::tenant::{Row, Table, format_id, parse_id};
use super::value::{self, Value, is_json_number, write_json_string};

pub(crate) const MAX_PAGE_SIZE: usize = 99;
pub(crate) const DEFAULT_PAGE_SIZE: usize = 10;

/// Error codes follow Zuora's scheme (a six-digit resource, then a two-digit category: `90`
/// malformed request, `20` invalid value). The resource part and the literal 400 body of Object
/// Query are UNCONFIRMED: the SDK only documents `{code, message}`, so that is the shape used.
pub(crate) const MALFORMED: u32 = 50_000_090;
pub(crate) const INVALID_VALUE: u32 = 50_000_020;

/// Why a request was refused with 400.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct QueryError {
    pub code: u32,
    pub message: String,
}

fn malformed(message: impl Into<String>) -> QueryError {
    QueryError {
        code: MALFORMED,
        message: message.into(),
    }
}

fn invalid(message: impl Into<String>) -> QueryError {
    QueryError {
        code: INVALID_VALUE,
        message: message.into(),
    }
}

/// A parsed request, ready to run against the object's table.
#[derive(Debug)]
pub(crate) struct Query {
    pub page_size: usize,
    filters: Vec<Filter>,
    sort: Sort,
    /// Selected field positions in catalog order; `None` = every field.
    fields: Option<Vec<usize>>,
    include_nulls: bool,
    after: Option<Keyset>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Sort {
    field: usize,
    descending: bool,
}

/// The position after which the next page starts: the sort key and id of the last row sent.
#[derive(Debug, Clone)]
struct Keyset {
    key: Key,
    id: u128,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    Sw,
}

#[derive(Debug)]
struct Filter {
    field: usize,
    op: Op,
    operands: Vec<Key>,
}

/// A typed value to filter and sort by. `Null` sorts before every value; Zuora's null ordering
/// is UNCONFIRMED, and a keyset needs some total order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Null,
    Bool(bool),
    Int(i64),
    Dec(DecimalKey),
    Date(NaiveDate),
    /// Epoch seconds.
    Time(i64),
    Id(u128),
    Text(String),
}

impl Query {
    /// Parses the raw query string of `GET /object-query/{path}`.
    pub fn parse(
        object: &ObjectDef,
        raw_query: &str,
        page_size_policy: InvalidPageSize,
    ) -> Result<Query, QueryError> {
        let mut page_size = None;
        let mut cursor = None;
        let mut filters = Vec::new();
        let mut sort = None;
        let mut fields: Option<Vec<usize>> = None;
        let mut include_nulls = None;
        for (name, value) in form_urlencoded::parse(raw_query.as_bytes()) {
            match &*name {
                "pageSize" => once(&mut page_size, "pageSize", value.into_owned())?,
                "cursor" => once(&mut cursor, "cursor", value.into_owned())?,
                "filter[]" => filters.push(Filter::parse(object, &value)?),
                "sort[]" => once(&mut sort, "sort[]", Sort::parse(object, &value)?)
                    .map_err(|_| invalid("only one sort[] field is allowed"))?,
                "fields[]" => fields
                    .get_or_insert_default()
                    .extend(parse_fields(object, &value)?),
                "includeNullFields" => {
                    once(&mut include_nulls, "includeNullFields", parse_bool(&value)?)?
                }
                "expand[]" => return Err(invalid("expand[] is not supported by the emulator")),
                other => return Err(malformed(format!("unknown query parameter '{other}'"))),
            }
        }

        let sort = sort.unwrap_or(Sort {
            field: object.updated_date(),
            descending: true,
        });
        let after = cursor
            .map(|c| Keyset::decode(object, sort, &c))
            .transpose()?;
        if let Some(fields) = &mut fields {
            fields.sort_unstable();
            fields.dedup();
        }
        Ok(Query {
            page_size: page_size_of(page_size.as_deref(), page_size_policy)?,
            filters,
            sort,
            fields,
            include_nulls: include_nulls.unwrap_or(false),
            after,
        })
    }

    /// Serves one page as the response body: `{"data":[...],"nextPage":"..."}`, `nextPage`
    /// left out when no row follows.
    #[cfg(test)]
    pub fn run(&self, object: &ObjectDef, table: &Table) -> String {
        self.page(object, table).0
    }

    /// [`Query::run`], also returning the `nextPage` cursor when there is one.
    pub fn page(&self, object: &ObjectDef, table: &Table) -> (String, Option<String>) {
        let rows = match index_of(object, self.sort.field) {
            Some(index) => self.walk_index(object, table, index),
            None => self.sort_matches(object, table),
        };
        let more = rows.len() > self.page_size;
        let rows = &rows[..rows.len().min(self.page_size)];

        let mut body = String::with_capacity(64 + rows.len() * 640);
        body.push_str("{\"data\":[");
        for (n, row) in rows.iter().enumerate() {
            if n > 0 {
                body.push(',');
            }
            row.write_json(
                object,
                self.fields.as_deref(),
                self.include_nulls,
                &mut body,
            );
        }
        body.push(']');
        let next = match (more, rows.last()) {
            (true, Some(last)) => Some(self.cursor_after(object, last)),
            _ => None,
        };
        if let Some(next) = &next {
            body.push_str(",\"nextPage\":\"");
            body.push_str(next);
            body.push('"');
        }
        body.push('}');
        (body, next)
    }

    /// Rows in index order from the cursor, up to one past the page.
    fn walk_index<'t>(&self, object: &ObjectDef, table: &'t Table, index: Index) -> Vec<&'t Row> {
        let ids: Box<dyn Iterator<Item = u128> + 't> = match index {
            Index::Id => {
                let Some((low, high)) = self.id_range() else {
                    return Vec::new();
                };
                let keys = table.rows.range(low..=high).map(|(&id, _)| id);
                if self.sort.descending {
                    Box::new(keys.rev())
                } else {
                    Box::new(keys)
                }
            }
            Index::Created | Index::Updated => {
                let set = if index == Index::Created {
                    &table.by_created
                } else {
                    &table.by_updated
                };
                let Some((low, high)) = self.time_range(self.sort.field) else {
                    return Vec::new();
                };
                let keys = set.range(low..=high).map(|&(_, id)| id);
                if self.sort.descending {
                    Box::new(keys.rev())
                } else {
                    Box::new(keys)
                }
            }
        };
        let mut rows = Vec::with_capacity(self.page_size + 1);
        for id in ids {
            let row = &table.rows[&id];
            if self.filters.iter().all(|f| f.accepts(object, row)) {
                rows.push(row);
                if rows.len() > self.page_size {
                    break;
                }
            }
        }
        rows
    }

    /// Every matching row sorted by the sort field, from the cursor, up to one past the page.
    fn sort_matches<'t>(&self, object: &ObjectDef, table: &'t Table) -> Vec<&'t Row> {
        let candidates: Box<dyn Iterator<Item = &'t Row> + 't> =
            match self.time_range(object.updated_date()) {
                Some((low, high)) => Box::new(
                    table
                        .by_updated
                        .range(low..=high)
                        .map(|(_, id)| &table.rows[id]),
                ),
                None => return Vec::new(),
            };
        let mut keyed: Vec<(Key, &Row)> = candidates
            .filter(|row| self.filters.iter().all(|f| f.accepts(object, row)))
            .map(|row| (key_of(object, row, self.sort.field), row))
            .collect();
        keyed.sort_unstable_by(|a, b| self.order(&a.0, a.1.id, &b.0, b.1.id));
        let start = match &self.after {
            Some(after) => keyed.partition_point(|(key, row)| {
                self.order(key, row.id, &after.key, after.id) != Ordering::Greater
            }),
            None => 0,
        };
        keyed
            .into_iter()
            .skip(start)
            .take(self.page_size + 1)
            .map(|(_, row)| row)
            .collect()
    }

    fn order(&self, a: &Key, a_id: u128, b: &Key, b_id: u128) -> Ordering {
        let ascending = a.cmp(b).then(a_id.cmp(&b_id));
        if self.sort.descending {
            ascending.reverse()
        } else {
            ascending
        }
    }

    /// The (seconds, id) span of an index on `field` that the filters and cursor allow, or
    /// `None` when it is empty.
    fn time_range(&self, field: usize) -> Option<((i64, u128), (i64, u128))> {
        let (mut low, mut high) = ((i64::MIN, 0), (i64::MAX, u128::MAX));
        for filter in self.filters.iter().filter(|f| f.field == field) {
            let seconds = filter.operands.iter().filter_map(|k| match k {
                Key::Time(t) => Some(*t),
                _ => None,
            });
            // A null operand bounds nothing; the filter itself still runs on every row.
            let (Some(min), Some(max)) = (seconds.clone().min(), seconds.max()) else {
                continue;
            };
            match filter.op {
                Op::Ge => low = low.max((min, 0)),
                Op::Gt => low = low.max((min.checked_add(1)?, 0)),
                Op::Le => high = high.min((max, u128::MAX)),
                Op::Lt => high = high.min((max.checked_sub(1)?, u128::MAX)),
                Op::Eq | Op::In => {
                    low = low.max((min, 0));
                    high = high.min((max, u128::MAX));
                }
                Op::Ne | Op::Sw => {}
            }
        }
        if let (Some(after), true) = (&self.after, field == self.sort.field) {
            let Key::Time(seconds) = after.key else {
                return None;
            };
            if self.sort.descending {
                high = high.min(predecessor((seconds, after.id))?);
            } else {
                low = low.max(successor((seconds, after.id))?);
            }
        }
        (low <= high).then_some((low, high))
    }

    /// The id span that the filters on Id and the cursor allow, or `None` when it is empty.
    fn id_range(&self) -> Option<(u128, u128)> {
        let (mut low, mut high) = (0, u128::MAX);
        for filter in self.filters.iter().filter(|f| f.field == ID) {
            let ids = filter.operands.iter().filter_map(|k| match k {
                Key::Id(id) => Some(*id),
                _ => None,
            });
            let (Some(min), Some(max)) = (ids.clone().min(), ids.max()) else {
                continue;
            };
            match filter.op {
                Op::Ge => low = low.max(min),
                Op::Gt => low = low.max(min.checked_add(1)?),
                Op::Le => high = high.min(max),
                Op::Lt => high = high.min(max.checked_sub(1)?),
                Op::Eq | Op::In => {
                    low = low.max(min);
                    high = high.min(max);
                }
                Op::Ne | Op::Sw => {}
            }
        }
        if let Some(after) = &self.after {
            if self.sort.descending {
                high = high.min(after.id.checked_sub(1)?);
            } else {
                low = low.max(after.id.checked_add(1)?);
            }
        }
        (low <= high).then_some((low, high))
    }

    /// The `nextPage` value: base64 of the JSON keyset of `last`, as Zuora writes it.
    fn cursor_after(&self, object: &ObjectDef, last: &Row) -> String {
        let order = if self.sort.descending { "DESC" } else { "ASC" };
        let mut json = String::from("[");
        if self.sort.field != ID {
            json.push_str("{\"value\":");
            key_of(object, last, self.sort.field).write_json(&mut json);
            let field = &object.fields[self.sort.field].name;
            let _ = write!(
                json,
                ",\"orderBy\":{{\"field\":\"{field}\",\"order\":\"{order}\"}}}},"
            );
        }
        let id = format_id(last.id);
        let _ = write!(
            json,
            "{{\"value\":\"{id}\",\"orderBy\":{{\"field\":\"Id\",\"order\":\"{order}\"}}}}]"
        );
        BASE64.encode(json)
    }
}

fn successor((seconds, id): (i64, u128)) -> Option<(i64, u128)> {
    match id.checked_add(1) {
        Some(id) => Some((seconds, id)),
        None => Some((seconds.checked_add(1)?, 0)),
    }
}

fn predecessor((seconds, id): (i64, u128)) -> Option<(i64, u128)> {
    match id.checked_sub(1) {
        Some(id) => Some((seconds, id)),
        None => Some((seconds.checked_sub(1)?, u128::MAX)),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Index {
    Id,
    Created,
    Updated,
}

fn index_of(object: &ObjectDef, field: usize) -> Option<Index> {
    match field {
        ID => Some(Index::Id),
        f if f == object.created_date() => Some(Index::Created),
        f if f == object.updated_date() => Some(Index::Updated),
        _ => None,
    }
}

/// The typed value of `field` in `row`. Id and the audit dates come from the index keys; other
/// fields from their JSON text, a planted value that fits no type reading as `Null`.
fn key_of(object: &ObjectDef, row: &Row, field: usize) -> Key {
    match index_of(object, field) {
        Some(Index::Id) => return Key::Id(row.id),
        Some(Index::Created) => return Key::Time(row.created),
        Some(Index::Updated) => return Key::Time(row.updated),
        None => {}
    }
    let Some(text) = row.field(field) else {
        return Key::Null;
    };
    match Value::from_json(object.fields[field].field_type, text) {
        None => Key::Null,
        Some(Value::Text(text)) => Key::Text(text),
        Some(Value::Boolean(b)) => Key::Bool(b),
        Some(Value::Integer(i)) => Key::Int(i),
        Some(Value::Decimal(text)) => DecimalKey::parse(&text).map_or(Key::Null, Key::Dec),
        Some(Value::Date(date)) => Key::Date(date),
        Some(Value::DateTime(at)) => Key::Time(at.timestamp()),
    }
}

impl Key {
    /// The key's JSON as a cursor carries it.
    fn write_json(&self, out: &mut String) {
        match self {
            Key::Null => out.push_str("null"),
            Key::Bool(b) => Value::Boolean(*b).write_json(out),
            Key::Int(i) => Value::Integer(*i).write_json(out),
            Key::Dec(d) => out.push_str(&d.text),
            Key::Date(d) => Value::Date(*d).write_json(out),
            Key::Time(t) => match chrono::DateTime::from_timestamp(*t, 0) {
                Some(at) => Value::DateTime(at).write_json(out),
                None => out.push_str("null"),
            },
            Key::Id(id) => write_json_string(&format_id(*id), out),
            Key::Text(text) => write_json_string(text, out),
        }
    }

    /// A filter operand or cursor value as the type of `field`.
    fn parse(object: &ObjectDef, field: usize, text: &str) -> Option<Key> {
        if field == ID {
            return parse_id(&text.to_ascii_lowercase()).map(Key::Id);
        }
        Some(match object.fields[field].field_type {
            FieldType::Text | FieldType::Picklist => Key::Text(text.to_string()),
            FieldType::Boolean => Key::Bool(parse_bool(text).ok()?),
            FieldType::Integer => Key::Int(text.parse().ok()?),
            FieldType::Decimal => Key::Dec(DecimalKey::parse(text)?),
            FieldType::Date => Key::Date(value::parse_date(text)?),
            FieldType::Datetime => Key::Time(value::parse_datetime(text)?.timestamp()),
        })
    }

    /// Compares with a filter operand of the same type; `None` across types. Text compares
    /// without regard to case, as the Object Query guide describes EQ, NE, IN and SW (the older
    /// Quickstart guide says the opposite; UNCONFIRMED).
    fn compare(&self, operand: &Key) -> Option<Ordering> {
        match (self, operand) {
            (Key::Text(a), Key::Text(b)) => Some(a.to_lowercase().cmp(b)),
            (Key::Null, _) | (_, Key::Null) => None,
            (a, b) if std::mem::discriminant(a) == std::mem::discriminant(b) => Some(a.cmp(b)),
            _ => None,
        }
    }
}

impl Filter {
    /// `field.OP:value`, e.g. `updateddate.GE:2024-01-01T00:00:00Z` or `name.IN:[Amy,Bella]`.
    fn parse(object: &ObjectDef, text: &str) -> Result<Filter, QueryError> {
        let shape = || {
            malformed(format!(
                "filter[] '{text}' is not of the form field.OP:value"
            ))
        };
        let (name, rest) = text.split_once('.').ok_or_else(shape)?;
        let (op, operand) = rest.split_once(':').ok_or_else(shape)?;
        let field = object
            .find_field(name)
            .ok_or_else(|| unknown_field(object, name))?;
        let def = &object.fields[field];
        if !def.filterable {
            return Err(invalid(format!(
                "field '{name}' of {} is not filterable",
                object.name
            )));
        }
        let op = match op {
            "EQ" => Op::Eq,
            "NE" => Op::Ne,
            "LT" => Op::Lt,
            "LE" => Op::Le,
            "GT" => Op::Gt,
            "GE" => Op::Ge,
            "IN" => Op::In,
            "SW" => Op::Sw,
            other => return Err(malformed(format!("unknown filter operator '{other}'"))),
        };
        let ordered = matches!(op, Op::Lt | Op::Le | Op::Gt | Op::Ge);
        let textual = matches!(def.field_type, FieldType::Text | FieldType::Picklist);
        if ordered && (def.field_type == FieldType::Boolean || (textual && field != ID)) {
            return Err(invalid(format!(
                "operator {op:?} does not apply to {}",
                def.name
            )));
        }
        if op == Op::Sw && (!textual || field == ID) {
            return Err(invalid(format!(
                "SW applies to text fields, not {}",
                def.name
            )));
        }

        let operands = match op {
            Op::In => {
                let list = operand.strip_prefix('[').and_then(|l| l.strip_suffix(']'));
                let list =
                    list.ok_or_else(|| malformed(format!("IN needs [a,b], got '{operand}'")))?;
                let values: Result<Vec<_>, _> = list
                    .split(',')
                    .map(|v| operand_key(object, field, v, false))
                    .collect();
                values?
            }
            Op::Eq | Op::Ne => vec![operand_key(object, field, operand, true)?],
            _ => vec![operand_key(object, field, operand, false)?],
        };
        Ok(Filter {
            field,
            op,
            operands,
        })
    }

    fn accepts(&self, object: &ObjectDef, row: &Row) -> bool {
        let value = key_of(object, row, self.field);
        let first = &self.operands[0];
        if *first == Key::Null {
            return match self.op {
                Op::Eq => value == Key::Null,
                _ => value != Key::Null,
            };
        }
        // SQL semantics: a null matches no comparison, NE included (UNCONFIRMED for Zuora).
        let compare = |operand: &Key| value.compare(operand);
        match self.op {
            Op::Eq => compare(first) == Some(Ordering::Equal),
            Op::Ne => compare(first).is_some_and(|o| o != Ordering::Equal),
            Op::Lt => compare(first) == Some(Ordering::Less),
            Op::Le => compare(first).is_some_and(|o| o != Ordering::Greater),
            Op::Gt => compare(first) == Some(Ordering::Greater),
            Op::Ge => compare(first).is_some_and(|o| o != Ordering::Less),
            Op::In => self
                .operands
                .iter()
                .any(|o| compare(o) == Some(Ordering::Equal)),
            Op::Sw => match (&value, first) {
                (Key::Text(text), Key::Text(prefix)) => text.to_lowercase().starts_with(prefix),
                _ => false,
            },
        }
    }
}

/// `null` means null (for EQ and NE only); `%02%03` is the documented spelling of the empty
/// string. Text operands are lowercased once here, as matching ignores case.
fn operand_key(
    object: &ObjectDef,
    field: usize,
    text: &str,
    null_allowed: bool,
) -> Result<Key, QueryError> {
    if text == "null" {
        return match null_allowed {
            true => Ok(Key::Null),
            false => Err(invalid("null is only allowed with EQ and NE")),
        };
    }
    let text = if text == "\u{2}\u{3}" { "" } else { text };
    let def = &object.fields[field];
    match Key::parse(object, field, text) {
        Some(Key::Text(text)) => Ok(Key::Text(text.to_lowercase())),
        Some(key) => Ok(key),
        None => Err(invalid(format!(
            "'{text}' is not a valid {} value for {}{}",
            def.field_type.as_str(),
            def.name,
            match def.field_type {
                FieldType::Datetime => " (expected YYYY-MM-DDThh:mm:ssZ)",
                FieldType::Date => " (expected YYYY-MM-DD)",
                _ if field == ID => " (expected 32 hex digits)",
                _ => "",
            }
        ))),
    }
}

impl Sort {
    /// `field.ASC` or `field.DESC`.
    fn parse(object: &ObjectDef, text: &str) -> Result<Sort, QueryError> {
        let (name, order) = text
            .rsplit_once('.')
            .ok_or_else(|| malformed(format!("sort[] '{text}' is not of the form field.ASC")))?;
        let field = object
            .find_field(name)
            .ok_or_else(|| unknown_field(object, name))?;
        if !object.fields[field].filterable {
            return Err(invalid(format!(
                "field '{name}' of {} is not sortable",
                object.name
            )));
        }
        let descending = match order {
            "ASC" => false,
            "DESC" => true,
            other => {
                return Err(malformed(format!(
                    "sort order '{other}' is not ASC or DESC"
                )));
            }
        };
        Ok(Sort { field, descending })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CursorEntry<'a> {
    #[serde(borrow)]
    value: &'a RawValue,
    #[serde(rename = "orderBy")]
    order_by: OrderBy,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OrderBy {
    field: String,
    order: String,
}

impl Keyset {
    /// Reads a `cursor` back. It must come from a request with the same sort: the cursor holds
    /// only the keyset, and Zuora expects a cursor to come back "with no other change to the
    /// query", so a mismatch is refused rather than guessed at.
    fn decode(object: &ObjectDef, sort: Sort, cursor: &str) -> Result<Keyset, QueryError> {
        let bad = |why: &str| malformed(format!("invalid cursor: {why}"));
        let json = BASE64.decode(cursor).map_err(|_| bad("not base64"))?;
        let entries: Vec<CursorEntry> =
            serde_json::from_slice(&json).map_err(|_| bad("not a keyset"))?;
        let expected: &[usize] = if sort.field == ID {
            &[ID]
        } else {
            &[sort.field, ID]
        };
        let order = if sort.descending { "DESC" } else { "ASC" };
        let matches_sort = entries.len() == expected.len()
            && entries.iter().zip(expected).all(|(entry, &field)| {
                entry.order_by.field == object.fields[field].name && entry.order_by.order == order
            });
        if !matches_sort {
            return Err(bad("it was issued for a different sort[]"));
        }

        let mut keys = entries.iter().zip(expected).map(|(entry, &field)| {
            let raw = entry.value.get();
            let key = match raw {
                "null" if field != ID => Some(Key::Null),
                _ if raw.starts_with('"') => serde_json::from_str::<String>(raw)
                    .ok()
                    .and_then(|text| Key::parse(object, field, &text)),
                _ => Key::parse(object, field, raw),
            };
            key.ok_or_else(|| bad("a keyset value does not fit its field"))
        });
        let first = keys.next().expect("a keyset has at least the id")?;
        let (key, id) = match keys.next() {
            Some(id) => (first, id?),
            None => (first.clone(), first),
        };
        match id {
            Key::Id(id) => Ok(Keyset { key, id }),
            _ => Err(bad("the last entry is not an id")),
        }
    }
}

fn unknown_field(object: &ObjectDef, name: &str) -> QueryError {
    invalid(format!("{} has no field named '{name}'", object.name))
}

fn parse_fields(object: &ObjectDef, list: &str) -> Result<Vec<usize>, QueryError> {
    list.split(',')
        .map(|name| match name.trim() {
            "" => Err(malformed(format!("fields[] '{list}' has an empty name"))),
            name => object
                .find_field(name)
                .ok_or_else(|| unknown_field(object, name)),
        })
        .collect()
}

fn parse_bool(text: &str) -> Result<bool, QueryError> {
    match text {
        "true" => Ok(true),
        "false" => Ok(false),
        other => Err(invalid(format!("'{other}' is not true or false"))),
    }
}

fn once<T>(slot: &mut Option<T>, name: &str, value: T) -> Result<(), QueryError> {
    match slot.replace(value) {
        None => Ok(()),
        Some(_) => Err(malformed(format!("{name} is given more than once"))),
    }
}

/// `pageSize` is 1 to 99. Zuora's guides say a missing or invalid value "typically defaults to
/// 10", while generic v1 text says 400; `policy` picks the invalid-value behaviour, and a missing
/// value is 10 either way.
fn page_size_of(text: Option<&str>, policy: InvalidPageSize) -> Result<usize, QueryError> {
    let Some(text) = text else {
        return Ok(DEFAULT_PAGE_SIZE);
    };
    match text.parse::<usize>() {
        Ok(size) if (1..=MAX_PAGE_SIZE).contains(&size) => Ok(size),
        _ => match policy {
            InvalidPageSize::DefaultTo10 => Ok(DEFAULT_PAGE_SIZE),
            InvalidPageSize::Reject => Err(invalid(format!(
                "pageSize '{text}' is not between 1 and {MAX_PAGE_SIZE}"
            ))),
        },
    }
}

/// An exact decimal for comparison: sign, integer digits without leading zeros and fraction
/// digits without trailing zeros, so `1.50`, `1.5` and `15e-1` are equal. Keeps the text it
/// was read from, which is what a cursor sends back.
#[derive(Debug, Clone)]
struct DecimalKey {
    negative: bool,
    integer: String,
    fraction: String,
    text: String,
}

/// Exponents beyond this are refused rather than expanded into digit strings.
const MAX_EXPONENT: i64 = 400;

impl DecimalKey {
    fn parse(text: &str) -> Option<DecimalKey> {
        if !is_json_number(text) {
            return None;
        }
        let (negative, unsigned) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
            Some((m, e)) => (
                m,
                e.parse::<i64>().ok().filter(|e| e.abs() <= MAX_EXPONENT)?,
            ),
            None => (unsigned, 0),
        };
        let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let digits = format!("{int_part}{frac_part}");
        let point = int_part.len() as i64 + exponent;
        let (integer, fraction) = if point <= 0 {
            (
                String::new(),
                format!("{}{digits}", "0".repeat(point.unsigned_abs() as usize)),
            )
        } else if point as usize >= digits.len() {
            (
                format!("{digits}{}", "0".repeat(point as usize - digits.len())),
                String::new(),
            )
        } else {
            (
                digits[..point as usize].to_string(),
                digits[point as usize..].to_string(),
            )
        };
        let integer = integer.trim_start_matches('0').to_string();
        let fraction = fraction.trim_end_matches('0').to_string();
        let zero = integer.is_empty() && fraction.is_empty();
        Some(DecimalKey {
            negative: negative && !zero,
            integer,
            fraction,
            text: text.to_string(),
        })
    }

    fn magnitude(&self, other: &DecimalKey) -> Ordering {
        self.integer
            .len()
            .cmp(&other.integer.len())
            .then_with(|| self.integer.cmp(&other.integer))
            .then_with(|| self.fraction.cmp(&other.fraction))
    }
}

impl Ord for DecimalKey {
    fn cmp(&self, other: &DecimalKey) -> Ordering {
        match (self.negative, other.negative) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (false, false) => self.magnitude(other),
            (true, true) => other.magnitude(self),
        }
    }
}

impl PartialOrd for DecimalKey {
    fn partial_cmp(&self, other: &DecimalKey) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for DecimalKey {
    fn eq(&self, other: &DecimalKey) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for DecimalKey {}

#[cfg(test)]
mod tests {
    use std::sync::LazyLock;

    use super::super::catalog::CATALOG;
    use super::super::generate::generate;
    use super::super::tenant::Tenant;
    use super::*;

    static TENANT: LazyLock<Tenant> = LazyLock::new(|| generate(21, 40));

    fn object(name: &str) -> (&'static ObjectDef, &'static Table) {
        let at = CATALOG.index(name);
        (&CATALOG.objects[at], &TENANT.tables[at])
    }

    fn page(name: &str, query: &str) -> Result<serde_json::Value, QueryError> {
        let (def, table) = object(name);
        let query = Query::parse(def, query, InvalidPageSize::DefaultTo10)?;
        Ok(serde_json::from_str(&query.run(def, table)).expect("the body is JSON"))
    }

    /// Every row of a query, following `nextPage` to the end.
    fn scan(name: &str, query: &str) -> Vec<serde_json::Value> {
        let mut rows = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let mut full = query.to_string();
            if let Some(cursor) = &next {
                let cursor: String = form_urlencoded::byte_serialize(cursor.as_bytes()).collect();
                full.push_str(&format!("&cursor={cursor}"));
            }
            let body = page(name, &full).unwrap();
            rows.extend(body["data"].as_array().unwrap().iter().cloned());
            match body.get("nextPage") {
                Some(cursor) => next = Some(cursor.as_str().unwrap().to_string()),
                None => return rows,
            }
        }
    }

    fn ids(rows: &[serde_json::Value]) -> Vec<String> {
        rows.iter()
            .map(|r| r["id"].as_str().unwrap().to_string())
            .collect()
    }

    fn updated(rows: &[serde_json::Value]) -> Vec<(String, String)> {
        rows.iter()
            .map(|r| {
                (
                    r["updatedDate"].as_str().unwrap().to_string(),
                    r["id"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }

    fn error(name: &str, query: &str) -> QueryError {
        page(name, query).expect_err("the query is refused")
    }

    #[test]
    fn an_ascending_window_returns_each_row_in_it_once_across_a_crowded_second() {
        let (_, table) = object("InvoiceItem");
        let mut per_second = std::collections::BTreeMap::<i64, usize>::new();
        for &(second, _) in &table.by_updated {
            *per_second.entry(second).or_default() += 1;
        }
        let (&crowded, _) = per_second.iter().max_by_key(|&(_, n)| *n).unwrap();
        let (from, to) = (crowded - 86_400, crowded + 86_400);
        let stamp = |s: i64| {
            let at = chrono::DateTime::from_timestamp(s, 0).unwrap();
            at.format(value::DATETIME_FORMAT).to_string()
        };
        let window = format!(
            "filter[]=updatedDate.GE:{}&filter[]=UpdatedDate.LT:{}",
            stamp(from),
            stamp(to)
        );
        let query = format!("pageSize=99&sort[]=updateddate.ASC&{window}");
        let rows = scan("InvoiceItem", &query);

        let expected: Vec<String> = table
            .by_updated
            .range((from, 0)..(to, 0))
            .map(|&(_, id)| format_id(id))
            .collect();
        assert!(
            expected.len() > 150,
            "{} rows in the window",
            expected.len()
        );
        assert_eq!(ids(&rows), expected);
        let keys = updated(&rows);
        assert!(
            keys.windows(2).all(|w| w[0] < w[1]),
            "ascending (updatedDate, id)"
        );
    }

    #[test]
    fn the_default_order_is_updated_date_then_id_descending() {
        let rows = scan("Invoice", "pageSize=7");
        let (_, table) = object("Invoice");
        assert_eq!(rows.len(), table.len());
        let keys = updated(&rows);
        assert!(
            keys.windows(2).all(|w| w[0] > w[1]),
            "descending (updatedDate, id)"
        );
        let body = page("Invoice", "").unwrap();
        assert_eq!(body["data"].as_array().unwrap().len(), DEFAULT_PAGE_SIZE);
    }

    #[test]
    fn the_cursor_is_base64_of_the_documented_keyset() {
        let body = page("Account", "pageSize=2&sort[]=updatedDate.ASC").unwrap();
        let last = &body["data"][1];
        let json = BASE64.decode(body["nextPage"].as_str().unwrap()).unwrap();
        let expected = format!(
            "[{{\"value\":\"{}\",\"orderBy\":{{\"field\":\"UpdatedDate\",\"order\":\"ASC\"}}}},\
             {{\"value\":\"{}\",\"orderBy\":{{\"field\":\"Id\",\"order\":\"ASC\"}}}}]",
            last["updatedDate"].as_str().unwrap(),
            last["id"].as_str().unwrap()
        );
        assert_eq!(String::from_utf8(json).unwrap(), expected);
    }

    #[test]
    fn every_sort_field_pages_through_every_row_once() {
        let (_, table) = object("InvoiceItem");
        let mut all: Vec<String> = table.rows.keys().map(|&id| format_id(id)).collect();
        for sort in [
            "id.ASC",
            "id.DESC",
            "createddate.DESC",
            "chargeAmount.DESC",
            "sKU.ASC",
        ] {
            let rows = scan("InvoiceItem", &format!("pageSize=99&sort[]={sort}"));
            let mut seen = ids(&rows);
            if sort == "id.ASC" {
                assert_eq!(seen, all);
            }
            seen.sort();
            all.sort();
            assert_eq!(seen, all, "{sort}");
        }
        let rows = scan("InvoiceItem", "pageSize=50&sort[]=chargeamount.ASC");
        let amounts: Vec<DecimalKey> = rows
            .iter()
            .map(|r| DecimalKey::parse(&r["chargeAmount"].to_string()).unwrap())
            .collect();
        assert!(
            amounts.windows(2).all(|w| w[0] <= w[1]),
            "ascending amounts"
        );
    }

    #[test]
    fn filters_on_ids_dates_text_and_nulls() {
        let (def, table) = object("Account");
        let first = format_id(*table.rows.keys().next().unwrap());
        let second = format_id(*table.rows.keys().nth(1).unwrap());
        let one = page(
            "Account",
            &format!("filter[]=id.EQ:{}", first.to_uppercase()),
        )
        .unwrap();
        assert_eq!(
            ids(one["data"].as_array().unwrap()),
            std::slice::from_ref(&first)
        );
        let both = page(
            "Account",
            &format!("filter[]=Id.IN:[{first},{second}]&sort[]=id.ASC"),
        );
        assert_eq!(
            ids(both.unwrap()["data"].as_array().unwrap()),
            [first.clone(), second.clone()]
        );
        let rest = scan("Account", &format!("pageSize=99&filter[]=id.GT:{first}"));
        assert_eq!(rest.len(), table.len() - 1);
        let not_first = scan("Account", &format!("pageSize=99&filter[]=id.NE:{first}"));
        assert_eq!(not_first.len(), table.len() - 1);

        let currency = def.position("Currency");
        let usd = table
            .rows
            .values()
            .filter(|r| r.field(currency) == Some("\"USD\""))
            .count();
        assert_eq!(
            scan("Account", "pageSize=99&filter[]=currency.EQ:usd").len(),
            usd
        );
        let region = def.position("Region__c");
        let no_region = table
            .rows
            .values()
            .filter(|r| r.field(region).is_none())
            .count();
        assert_eq!(
            scan("Account", "pageSize=99&filter[]=region__c.EQ:null").len(),
            no_region
        );
        let with_region = scan("Account", "pageSize=99&filter[]=region__c.NE:null").len();
        assert_eq!(with_region, table.len() - no_region);

        let created = scan(
            "Account",
            "pageSize=99&filter[]=createddate.LT:2024-01-01T00:00:00Z",
        );
        assert!(
            created
                .iter()
                .all(|r| r["createdDate"].as_str().unwrap() < "2024-01-01")
        );
        let expected = table.by_created.range(..(1_704_067_200, 0)).count();
        assert_eq!(created.len(), expected);
        let none = page("Account", "filter[]=updateddate.GE:2030-01-01T00:00:00Z").unwrap();
        assert_eq!(none, serde_json::json!({"data": []}));
    }

    #[test]
    fn fields_select_keys_and_nulls_are_left_out_unless_asked_for() {
        let body = page(
            "Account",
            "pageSize=99&fields[]=ID,accountnumber&fields[]=vatid",
        )
        .unwrap();
        for row in body["data"].as_array().unwrap() {
            let keys: Vec<&str> = row
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            assert!(
                keys.iter()
                    .all(|k| ["id", "accountNumber", "vATId"].contains(k)),
                "{keys:?}"
            );
        }
        let nulls = page(
            "Account",
            "pageSize=99&fields[]=id,vATId&includeNullFields=true",
        );
        let rows = nulls.unwrap()["data"].as_array().unwrap().clone();
        assert!(rows.iter().all(|r| r.as_object().unwrap().len() == 2));
        assert!(rows.iter().any(|r| r["vATId"].is_null()));

        let all = scan("Account", "pageSize=99");
        assert!(
            all.iter()
                .all(|r| r.as_object().unwrap().values().all(|v| !v.is_null()))
        );
        assert!(
            all.iter().any(|r| r.get("sequenceSetId").is_some()),
            "soap-only fields too"
        );
    }

    #[test]
    fn bad_requests_are_refused_with_a_code() {
        let cases = [
            ("filter[]=vATId.EQ:x", INVALID_VALUE),
            ("filter[]=segment__c.EQ:x", INVALID_VALUE),
            ("filter[]=sequenceSetId.EQ:x", INVALID_VALUE),
            ("filter[]=nosuch.EQ:x", INVALID_VALUE),
            ("filter[]=updateddate.GE:2024-01-01", INVALID_VALUE),
            (
                "filter[]=updateddate.GE:2024-01-01T00:00:00.5Z",
                INVALID_VALUE,
            ),
            ("filter[]=name.LT:b", INVALID_VALUE),
            ("filter[]=id.EQ:123", INVALID_VALUE),
            ("filter[]=updateddate.GE", MALFORMED),
            ("filter[]=updateddate.BETWEEN:1", MALFORMED),
            ("sort[]=updateddate.ASC&sort[]=id.ASC", INVALID_VALUE),
            ("sort[]=updateddate.asc", MALFORMED),
            ("fields[]=id,nosuch", INVALID_VALUE),
            ("cursor=%%%", MALFORMED),
            ("cursor=bm90IGpzb24=", MALFORMED),
            ("includeNullFields=yes", INVALID_VALUE),
            ("expand[]=billto", INVALID_VALUE),
            ("pagesize=5", MALFORMED),
        ];
        for (query, code) in cases {
            assert_eq!(error("Account", query).code, code, "{query}");
        }
    }

    #[test]
    fn a_cursor_only_continues_the_sort_it_came_from() {
        let body = page("Account", "pageSize=3&sort[]=updateddate.ASC").unwrap();
        let cursor: String =
            form_urlencoded::byte_serialize(body["nextPage"].as_str().unwrap().as_bytes())
                .collect();
        let other = error(
            "Account",
            &format!("sort[]=updateddate.DESC&cursor={cursor}"),
        );
        assert_eq!(other.code, MALFORMED);
        assert!(
            page(
                "Account",
                &format!("sort[]=updateddate.ASC&cursor={cursor}")
            )
            .is_ok()
        );
    }

    #[test]
    fn page_size_out_of_range_defaults_or_is_refused() {
        let (def, table) = object("Account");
        for size in ["0", "100", "-1", "ten"] {
            let query = Query::parse(
                def,
                &format!("pageSize={size}"),
                InvalidPageSize::DefaultTo10,
            );
            assert_eq!(query.unwrap().page_size, DEFAULT_PAGE_SIZE);
            let refused = Query::parse(def, &format!("pageSize={size}"), InvalidPageSize::Reject);
            assert_eq!(refused.unwrap_err().code, INVALID_VALUE, "{size}");
        }
        let query = Query::parse(def, "pageSize=99", InvalidPageSize::Reject).unwrap();
        let body: serde_json::Value = serde_json::from_str(&query.run(def, table)).unwrap();
        assert_eq!(body["data"].as_array().unwrap().len(), 40);
        assert!(
            body.get("nextPage").is_none(),
            "the last page has no nextPage"
        );
    }

    #[test]
    fn decimal_keys_compare_exactly() {
        let key = |text| DecimalKey::parse(text).unwrap();
        assert!(key("1e-9") < key("0.1"));
        assert_eq!(key("0.1"), key("0.10"));
        assert_eq!(key("15e-1"), key("1.5"));
        assert_eq!(key("-0.0"), key("0"));
        assert!(key("-15.5") < key("-1.55"));
        assert!(key("-15.5") < key("0"));
        assert!(key("12345678901234567890.123456789") > key("12345678901234567890.12345678"));
        assert!(key("299.9") < key("1E3"));
        assert!(DecimalKey::parse("1e999").is_none());
        assert!(DecimalKey::parse("abc").is_none());
    }
}
