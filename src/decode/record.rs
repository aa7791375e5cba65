//! The rows of one page as they are decoded: each record's key/value pairs go into the column
//! builders, absent keys become nulls, and the first problem of a record is held until the
//! record ends, because the `id` that names the record in the error may come after the bad field.

use arrow::array::ArrayRef;

use super::UnknownFieldPolicy;
use super::column::{self, Column};
use super::keys::{KeyResolver, Target};
use crate::Error;
use crate::schema::ObjectSchema;

pub(super) struct Records {
    object: String,
    field_names: Vec<String>,
    unexported_names: Vec<String>,
    policy: UnknownFieldPolicy,
    columns: Vec<Column>,
    keys: KeyResolver,
    cursor_column: Option<usize>,
    /// For each Describe field (columns first, then unexported), the number of the record that
    /// last carried it: a key met twice in one record is a duplicate, a column not met is null.
    seen: Vec<u64>,
    record_number: u64,

    /// The current (after a page: the last) record's id, if it has one, and cursor value. The
    /// id's buffer is reused from record to record.
    record_id: String,
    has_record_id: bool,
    record_cursor: Option<i64>,
    problem: Option<Problem>,

    rows: usize,
    max_cursor: Option<i64>,
    failure: Option<Error>,
}

/// What is wrong with the current record, before its id is known.
struct Problem {
    field: Option<String>,
    detail: String,
}

/// A finished page's rows.
pub(super) struct PageRows {
    pub(super) columns: Vec<ArrayRef>,
    pub(super) rows: usize,
    pub(super) last_cursor: Option<(i64, String)>,
    pub(super) max_cursor: Option<i64>,
}

impl Records {
    pub(super) fn new(schema: &ObjectSchema, policy: UnknownFieldPolicy) -> Self {
        let cursor = schema.cursor_field().map(|f| f.name.as_str());
        Self {
            object: schema.object.clone(),
            field_names: schema.fields.iter().map(|f| f.name.clone()).collect(),
            unexported_names: schema.unexported.clone(),
            policy,
            columns: schema
                .fields
                .iter()
                .map(|f| Column::new(f.field_type))
                .collect(),
            keys: KeyResolver::new(schema),
            cursor_column: schema
                .fields
                .iter()
                .position(|f| Some(f.name.as_str()) == cursor),
            seen: vec![0; schema.fields.len() + schema.unexported.len()],
            record_number: 0,
            record_id: String::new(),
            has_record_id: false,
            record_cursor: None,
            problem: None,
            rows: 0,
            max_cursor: None,
            failure: None,
        }
    }

    pub(super) fn begin_record(&mut self) {
        self.record_number += 1;
        self.has_record_id = false;
        self.record_cursor = None;
        self.keys.restart();
    }

    /// Takes one key and its raw JSON value. Problems are recorded, not returned, so that the
    /// rest of the record is still read for its id.
    pub(super) fn accept(&mut self, key: &str, raw: &str) {
        let resolved = self.keys.resolve(key);
        if resolved.is_id {
            self.note_id(raw);
        }
        match resolved.target {
            Target::Column(c) => self.accept_column(c, key, raw),
            Target::Unexported(u) => {
                if self.carried_twice(self.columns.len() + u) {
                    self.duplicate(self.unexported_names[u].clone(), key);
                }
            }
            Target::Unknown => {
                if self.policy == UnknownFieldPolicy::Error {
                    self.unknown(key);
                }
            }
        }
    }

    fn note_id(&mut self, raw: &str) {
        self.record_id.clear();
        self.has_record_id = match column::string_content(raw) {
            Some(id) => {
                self.record_id.push_str(&id);
                true
            }
            None => false,
        };
    }

    fn current_id(&self) -> Option<String> {
        self.has_record_id.then(|| self.record_id.clone())
    }

    fn accept_column(&mut self, c: usize, key: &str, raw: &str) {
        if self.carried_twice(c) {
            return self.duplicate(self.field_names[c].clone(), key);
        }
        match self.columns[c].append(raw) {
            Ok(micros) if Some(c) == self.cursor_column => self.record_cursor = micros,
            Ok(_) => {}
            Err(detail) => {
                // Keeps every column one value per record, as if the value were absent.
                self.columns[c].append_null();
                self.report(Some(self.field_names[c].clone()), detail);
            }
        }
    }

    /// Marks the field as carried by the current record; true if it already was.
    fn carried_twice(&mut self, describe_index: usize) -> bool {
        let seen = &mut self.seen[describe_index];
        let twice = *seen == self.record_number;
        *seen = self.record_number;
        twice
    }

    fn duplicate(&mut self, field: String, key: &str) {
        let detail = format!(
            "the record carries this field more than once (again as the key \"{}\")",
            column::quote(key)
        );
        self.report(Some(field), detail);
    }

    fn unknown(&mut self, key: &str) {
        let detail = format!(
            "the key \"{}\" names no field that Describe lists for {}; see the fields with \
             `zuora-sync discover`, or set [zuora] unknown_fields = \"ignore\" to drop such keys",
            column::quote(key),
            self.object
        );
        self.report(None, detail);
    }

    fn report(&mut self, field: Option<String>, detail: String) {
        if self.problem.is_none() {
            self.problem = Some(Problem { field, detail });
        }
    }

    /// Ends a record: fills the columns it did not carry with nulls, and turns its problem, if
    /// any, into the page's failure (returned as `Err`).
    pub(super) fn end_record(&mut self) -> Result<(), ()> {
        for (c, column) in self.columns.iter_mut().enumerate() {
            if self.seen[c] != self.record_number {
                column.append_null();
            }
        }
        if !self.has_record_id {
            let detail = "the record has no id, and rows are merged by id".to_string();
            self.report(Some("Id".to_string()), detail);
        }

        if let Some(Problem { field, detail }) = self.problem.take() {
            let record_id = self.current_id();
            self.failure = Some(Error::Data {
                object: self.object.clone(),
                record_id,
                field,
                detail,
            });
            return Err(());
        }
        self.rows += 1;
        self.max_cursor = self.max_cursor.max(self.record_cursor);
        Ok(())
    }

    /// The error that stopped the page, if a record's content (not the JSON) was the cause.
    pub(super) fn take_failure(&mut self) -> Option<Error> {
        self.failure.take()
    }

    /// Hands over the page's columns and starts the next page empty.
    pub(super) fn finish_page(&mut self) -> PageRows {
        let last_cursor = match (self.rows, self.record_cursor, self.current_id()) {
            (1.., Some(cursor), Some(id)) => Some((cursor, id)),
            _ => None,
        };
        let page = PageRows {
            columns: self.columns.iter_mut().map(Column::finish).collect(),
            rows: self.rows,
            last_cursor,
            max_cursor: self.max_cursor,
        };
        self.reset();
        page
    }

    /// Drops whatever a failed page left in the builders.
    pub(super) fn discard_page(&mut self) {
        for column in &mut self.columns {
            column.finish();
        }
        self.reset();
    }

    fn reset(&mut self) {
        self.rows = 0;
        self.max_cursor = None;
        self.has_record_id = false;
        self.record_cursor = None;
        self.problem = None;
    }
}
