//! COPY INTO with Databricks semantics: Parquet from a volume directory or file, or from
//! `s3://` with the statement's own credentials; FILES (at most 1000) or PATTERN; a per-table
//! ledger of loaded paths, so a path loaded once is skipped (even if its content changed)
//! unless `'force' = 'true'`; columns matched by name, case-insensitively, with missing ones
//! NULL; a file column the table lacks fails unless `'mergeSchema' = 'true'` adds it; a type
//! Delta cannot merge fails with DELTA_FAILED_TO_MERGE_FIELDS. The result is one row of
//! `num_affected_rows, num_inserted_rows, num_skipped_corrupt_files`.

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, Field, Schema};
use bytes::Bytes;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::Type as PhysicalType;
use parquet::file::reader::ChunkReader;

use super::Exec;
use super::engine::{self, TableColumn};
use super::error::SqlError;
use super::lexer::Kind as TokenKind;
use super::parser::{Cursor, Name};
use super::results::ResultSet;
use super::translate::{duck_schema, duck_table, quote, quoted_name};
use super::types::{DbType, Unreadable};
use crate::emulator::databricks::catalog::Change;
use crate::emulator::databricks::grants::{Object, Privilege};
use crate::emulator::databricks::s3::{self, S3Credentials, S3Location, SourceListing};
use crate::emulator::databricks::volumes::VolumePath;

/// Databricks' documented limit on FILES.
const MAX_FILES: usize = 1000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CopyInto {
    pub table: Name,
    pub source: String,
    pub credentials: Option<S3Credentials>,
    pub files: Option<Vec<String>>,
    pub pattern: Option<String>,
    pub force: bool,
    pub merge_schema: bool,
    pub ignore_corrupt_files: bool,
}

/// Parses what follows `COPY`.
pub(crate) fn parse(cursor: &mut Cursor) -> Result<CopyInto, SqlError> {
    cursor.expect("into")?;
    let table = cursor.name()?;
    cursor.expect("from")?;
    let source = cursor.string()?;
    let credentials = if cursor.eat("with") {
        Some(credentials(cursor)?)
    } else {
        None
    };
    cursor.expect("fileformat")?;
    cursor.expect_symbol("=")?;
    cursor.expect("parquet")?;

    let mut copy = CopyInto {
        table,
        source,
        credentials,
        files: None,
        pattern: None,
        force: false,
        merge_schema: false,
        ignore_corrupt_files: false,
    };
    if cursor.eat("files") {
        cursor.expect_symbol("=")?;
        copy.files = Some(cursor.list(|c| c.string())?);
    } else if cursor.eat("pattern") {
        cursor.expect_symbol("=")?;
        copy.pattern = Some(cursor.string()?);
    }
    if cursor.eat("format_options") {
        for (key, value) in cursor.list(option)? {
            match key.to_ascii_lowercase().as_str() {
                // Every file is read with its own schema, which is what merging the source
                // schemas amounts to for a table with explicit columns.
                "mergeschema" => {}
                "ignorecorruptfiles" => copy.ignore_corrupt_files = value,
                _ => return Err(SqlError::syntax(Some(&format!("'{key}'")))),
            }
        }
    }
    if cursor.eat("copy_options") {
        for (key, value) in cursor.list(option)? {
            match key.to_ascii_lowercase().as_str() {
                "force" => copy.force = value,
                "mergeschema" => copy.merge_schema = value,
                _ => return Err(SqlError::syntax(Some(&format!("'{key}'")))),
            }
        }
    }
    Ok(copy)
}

/// `WITH (CREDENTIAL (AWS_ACCESS_KEY = '...', AWS_SECRET_KEY = '...'[, AWS_SESSION_TOKEN]))`.
fn credentials(cursor: &mut Cursor) -> Result<S3Credentials, SqlError> {
    cursor.expect_symbol("(")?;
    cursor.expect("credential")?;
    let pairs = cursor.list(|c| {
        let key = c.identifier()?.to_ascii_uppercase();
        if !matches!(
            key.as_str(),
            "AWS_ACCESS_KEY" | "AWS_SECRET_KEY" | "AWS_SESSION_TOKEN"
        ) {
            return Err(SqlError::syntax(Some(&key)));
        }
        c.expect_symbol("=")?;
        Ok((key, c.string()?))
    })?;
    cursor.expect_symbol(")")?;
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    match (get("AWS_ACCESS_KEY"), get("AWS_SECRET_KEY")) {
        (Some(access_key), Some(secret_key)) => Ok(S3Credentials {
            access_key,
            secret_key,
            session_token: get("AWS_SESSION_TOKEN"),
        }),
        _ => Err(SqlError::syntax(Some(")"))),
    }
}

/// `'key' = 'true'` or `'key' = true`; values other than booleans are not emulated.
fn option(cursor: &mut Cursor) -> Result<(String, bool), SqlError> {
    let key = match cursor.peek() {
        Some(t) if t.kind == TokenKind::String || t.is_identifier() => t.text.clone(),
        _ => return Err(cursor.error()),
    };
    cursor.advance();
    cursor.expect_symbol("=")?;
    let value = match cursor.peek() {
        Some(t) if t.kind == TokenKind::String || t.kind == TokenKind::Word => {
            t.text.to_ascii_lowercase()
        }
        _ => return Err(cursor.error()),
    };
    let value = match value.as_str() {
        "true" => true,
        "false" => false,
        _ => return Err(cursor.error()),
    };
    cursor.advance();
    Ok((key, value))
}

/// A Parquet file chosen for loading: its identity in the ledger and its bytes.
enum Source {
    Local(String, std::fs::File),
    Remote(String, Bytes),
}

/// Why a file did not load.
enum LoadError {
    /// The file is not readable Parquet; `ignoreCorruptFiles` skips it.
    Corrupt(String),
    Failed(SqlError),
}

impl From<SqlError> for LoadError {
    fn from(error: SqlError) -> LoadError {
        LoadError::Failed(error)
    }
}

/// The target table's columns, growing when mergeSchema adds some.
struct Target {
    table: Object,
    columns: Vec<TableColumn>,
}

impl Target {
    fn find(&self, name: &str) -> Option<&TableColumn> {
        self.columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }
}

impl Exec<'_> {
    pub(super) fn copy_into(&mut self, copy: CopyInto) -> Result<ResultSet, SqlError> {
        if let Some(files) = &copy.files
            && files.len() > MAX_FILES
        {
            // The class and text of this failure are UNCONFIRMED; the limit is documented.
            let detail = format!(
                "COPY INTO accepts at most {MAX_FILES} FILES, but {} were given.",
                files.len()
            );
            return Err(SqlError::new(
                "COPY_INTO_FILES_LIMIT_EXCEEDED",
                detail,
                "54000",
            ));
        }
        let table = self.writable_table(&copy.table)?;
        let mut target = Target {
            columns: engine::columns(self.conn, &table)?,
            table,
        };

        let sources = if copy.source.starts_with("/Volumes/") {
            self.volume_sources(&copy, &target.table)?
        } else if copy.source.starts_with("s3://") {
            self.s3_sources(&copy, &target.table)?
        } else {
            let detail = format!(
                "COPY INTO from '{}': only /Volumes/... and s3://... sources",
                copy.source
            );
            return Err(SqlError::unsupported(detail));
        };

        let (mut inserted, mut corrupt, mut loaded) = (0u64, 0u64, Vec::new());
        for source in sources {
            let (path, result) = match source {
                Source::Local(path, file) => {
                    let result = self.load(&mut target, file, copy.merge_schema);
                    (path, result)
                }
                Source::Remote(path, bytes) => {
                    let result = self.load(&mut target, bytes, copy.merge_schema);
                    (path, result)
                }
            };
            match result {
                Ok(rows) => {
                    inserted += rows;
                    loaded.push(path);
                }
                // Skipped corrupt files are not recorded, so a later COPY tries them again.
                Err(LoadError::Corrupt(_)) if copy.ignore_corrupt_files => corrupt += 1,
                Err(LoadError::Corrupt(reason)) => return Err(unreadable_file(&path, &reason)),
                Err(LoadError::Failed(error)) => return Err(error),
            }
        }
        self.changes.push(Change::Loaded(target.table, loaded));
        Ok(ResultSet::counts(&[
            ("num_affected_rows", inserted),
            ("num_inserted_rows", inserted),
            ("num_skipped_corrupt_files", corrupt),
        ]))
    }

    /// The files of a volume source that this COPY loads; needs READ VOLUME.
    fn volume_sources(&self, copy: &CopyInto, table: &Object) -> Result<Vec<Source>, SqlError> {
        if copy.credentials.is_some() {
            // Whether Databricks ignores or refuses credentials on a volume path is
            // UNCONFIRMED; they are never needed there, so the emulator refuses them.
            return Err(SqlError::unsupported(
                "Temporary credentials on a /Volumes/... COPY INTO source",
            ));
        }
        let path =
            VolumePath::parse(&copy.source).ok_or_else(|| s3::path_not_found(&copy.source))?;
        let volume = path.volume.clone();
        let reached = self.meta.reach(self.who(), &volume);
        reached.map_err(|r| self.refused(r, &volume))?;
        let readable = self
            .meta
            .require(self.who(), Privilege::ReadVolume, &volume);
        readable.map_err(|r| self.refused(r, &volume))?;

        let entry = self.volumes.entry(&path);
        let listing = match entry {
            None => return Err(s3::path_not_found(&path.display())),
            Some(entry) if !entry.is_directory => SourceListing::File,
            Some(_) => {
                SourceListing::Directory(self.volumes.walk(&path).map_err(SqlError::internal)?)
            }
        };
        let base = path.display();
        let chosen = select(copy, listing.clone(), &base, &|p| {
            self.meta.was_loaded(table, p)
        })?;
        let mut sources = Vec::with_capacity(chosen.len());
        for relative in chosen {
            let file = match listing {
                SourceListing::File => path.clone(),
                SourceListing::Directory(_) => path
                    .join(&relative)
                    .ok_or_else(|| s3::path_not_found(&format!("{base}/{relative}")))?,
            };
            let opened = std::fs::File::open(self.volumes.local(&file))
                .map_err(|_| s3::path_not_found(&file.display()))?;
            sources.push(Source::Local(file.display(), opened));
        }
        Ok(sources)
    }

    fn s3_sources(&self, copy: &CopyInto, table: &Object) -> Result<Vec<Source>, SqlError> {
        let location =
            S3Location::parse(&copy.source).ok_or_else(|| s3::path_not_found(&copy.source))?;
        let Some(credentials) = &copy.credentials else {
            return Err(SqlError::unsupported(
                "Reading s3:// without WITH (CREDENTIAL (...)) (external locations)",
            ));
        };
        // The ledger key of every object is `base/relative`, so a bucket root has no slash.
        let key = location.key.trim_end_matches('/');
        let base = if key.is_empty() {
            format!("s3://{}", location.bucket)
        } else {
            location.url(key)
        };
        let choose = |listing: SourceListing| {
            select(copy, listing, &base, &|p| self.meta.was_loaded(table, p))
        };
        let files = s3::read(self.s3, credentials, &location, &choose)?;
        Ok(files
            .into_iter()
            .map(|(url, bytes)| Source::Remote(url, bytes))
            .collect())
    }

    /// Appends one Parquet file to the target; returns the number of rows.
    fn load<R: ChunkReader + 'static>(
        &mut self,
        target: &mut Target,
        reader: R,
        merge_schema: bool,
    ) -> Result<u64, LoadError> {
        let builder = ParquetRecordBatchReaderBuilder::try_new(reader)
            .map_err(|e| LoadError::Corrupt(e.to_string()))?;
        let int96: Vec<String> = builder
            .parquet_schema()
            .columns()
            .iter()
            .filter(|c| c.physical_type() == PhysicalType::INT96)
            .map(|c| c.name().to_string())
            .collect();
        let file_schema = builder.schema().clone();

        let mut plan: Vec<(usize, String, DbType)> = Vec::new();
        for (index, field) in file_schema.fields().iter().enumerate() {
            if int96.contains(field.name()) {
                let detail = "Parquet type not supported: INT96 (the emulator reads only \
                              TIMESTAMP(MICROS|MILLIS))";
                return Err(SqlError::new("PARQUET_TYPE_NOT_SUPPORTED", detail, "42846").into());
            }
            let file_type = DbType::from_arrow(field.data_type()).map_err(unreadable_type)?;
            let column = self.target_column(target, field.name(), file_type, merge_schema)?;
            if plan.iter().any(|(_, name, _)| *name == column.name) {
                let detail = format!(
                    "Found duplicate column(s) in the data to save: {}.",
                    field.name().to_lowercase()
                );
                return Err(SqlError::new("DELTA_DUPLICATE_COLUMNS_FOUND", detail, "42711").into());
            }
            plan.push((index, column.name.clone(), column.db_type));
        }

        let reader = builder
            .build()
            .map_err(|e| LoadError::Corrupt(e.to_string()))?;
        if plan.is_empty() {
            let rows = reader
                .map(|b| b.map(|b| b.num_rows() as u64))
                .sum::<Result<u64, _>>();
            let rows = rows.map_err(|e| LoadError::Corrupt(e.to_string()))?;
            self.append_nulls(target, rows)?;
            return Ok(rows);
        }

        let names: Vec<&str> = plan.iter().map(|(_, name, _)| name.as_str()).collect();
        let schema = duck_schema(&target.table.parts[0], &target.table.parts[1]);
        let mut appender = self
            .conn
            .appender_with_columns_to_db(&target.table.parts[2], &schema, &names)
            .map_err(|e| engine::error(&e))?;
        let fields: Vec<Field> = plan
            .iter()
            .map(|(_, name, db_type)| Field::new(name, db_type.arrow(), true))
            .collect();
        let schema = Arc::new(Schema::new(fields));
        let mut rows = 0u64;
        for batch in reader {
            let batch = batch.map_err(|e| LoadError::Corrupt(e.to_string()))?;
            let columns = plan
                .iter()
                .map(|(index, _, db_type)| cast(batch.column(*index), &db_type.arrow()))
                .collect::<Result<Vec<_>, _>>()?;
            let batch = RecordBatch::try_new(schema.clone(), columns)
                .map_err(|e| SqlError::internal(e.to_string()))?;
            rows += batch.num_rows() as u64;
            appender
                .append_record_batch(batch)
                .map_err(|e| engine::error(&e))?;
        }
        appender.flush().map_err(|e| engine::error(&e))?;
        Ok(rows)
    }

    /// The table column a file column goes into, adding it under mergeSchema.
    fn target_column(
        &mut self,
        target: &mut Target,
        name: &str,
        file_type: DbType,
        merge_schema: bool,
    ) -> Result<TableColumn, SqlError> {
        if let Some(column) = target.find(name) {
            if !column.db_type.accepts(file_type) {
                let detail = format!("Failed to merge fields '{}' and '{name}'.", column.name);
                return Err(SqlError::new(
                    "DELTA_FAILED_TO_MERGE_FIELDS",
                    detail,
                    "22005",
                ));
            }
            return Ok(column.clone());
        }
        if !merge_schema {
            // The class is what Databricks documents for COPY INTO; the wording is UNCONFIRMED.
            let detail = format!(
                "A schema mismatch was detected while copying into the Delta table {}: the \
                 source has the column `{name}`, which the table does not. Set COPY_OPTIONS \
                 ('mergeSchema' = 'true') to add it.",
                quoted_name(&target.table)
            );
            return Err(SqlError::new(
                "COPY_INTO_SCHEMA_MISMATCH_WITH_TARGET_TABLE",
                detail,
                "42KDG",
            ));
        }
        if name.contains(|c: char| " ,;{}()\n\t=".contains(c)) {
            let detail = format!(
                "Found invalid character(s) among ' ,;{{}}()\\n\\t=' in the column names of \
                 your schema: `{name}`."
            );
            return Err(SqlError::new(
                "DELTA_INVALID_CHARACTERS_IN_COLUMN_NAMES",
                detail,
                "42K05",
            ));
        }
        let sql = format!(
            "ALTER TABLE {} ADD COLUMN {} {}",
            duck_table(&target.table),
            quote(name),
            file_type.duckdb()
        );
        engine::execute(self.conn, &sql)?;
        let column = TableColumn {
            name: name.to_string(),
            db_type: file_type,
            nullable: true,
        };
        target.columns.push(column.clone());
        Ok(column)
    }

    /// A file none of whose columns the table has still adds its rows, all NULL.
    fn append_nulls(&self, target: &Target, rows: u64) -> Result<(), SqlError> {
        let Some(first) = target.columns.first() else {
            return Ok(());
        };
        let sql = format!(
            "INSERT INTO {} ({}) SELECT NULL FROM range({rows})",
            duck_table(&target.table),
            quote(&first.name)
        );
        engine::run(self.conn, &sql).map(|_| ())
    }
}

fn cast(array: &arrow::array::ArrayRef, to: &DataType) -> Result<arrow::array::ArrayRef, SqlError> {
    if array.data_type() == to {
        return Ok(array.clone());
    }
    arrow::compute::cast(array, to).map_err(|e| SqlError::internal(e.to_string()))
}

fn unreadable_type(reason: Unreadable) -> LoadError {
    let error = match reason {
        Unreadable::Illegal(detail) => SqlError::new(
            "PARQUET_TYPE_ILLEGAL",
            format!("Illegal Parquet type: {detail}."),
            "42846",
        ),
        Unreadable::NotSupported(detail) => SqlError::new(
            "PARQUET_TYPE_NOT_SUPPORTED",
            format!("Parquet type not supported: {detail}."),
            "42846",
        ),
    };
    LoadError::Failed(error)
}

fn unreadable_file(path: &str, reason: &str) -> SqlError {
    let detail = format!("Encountered error while reading file {path}: {reason}.");
    SqlError::new("FAILED_READ_FILE.NO_HINT", detail, "KD001")
}

/// Chooses the files of a listing: FILES by name, PATTERN by glob, or every visible file
/// (Spark skips names starting with `_` or `.`); then drops what the ledger has, unless
/// force. `base` is the source path, which the ledger keys are built from.
fn select(
    copy: &CopyInto,
    listing: SourceListing,
    base: &str,
    loaded: &dyn Fn(&str) -> bool,
) -> Result<Vec<String>, SqlError> {
    let candidates = match listing {
        SourceListing::File if copy.files.is_some() || copy.pattern.is_some() => {
            return Err(SqlError::unsupported(
                "FILES or PATTERN with a single-file COPY INTO source",
            ));
        }
        SourceListing::File => {
            let whole = !loaded(base) || copy.force;
            return Ok(if whole {
                vec![String::new()]
            } else {
                Vec::new()
            });
        }
        SourceListing::Directory(listed) => match (&copy.files, &copy.pattern) {
            (Some(files), _) => {
                let mut chosen: Vec<String> = Vec::new();
                for name in files {
                    let name = name.trim_start_matches('/').to_string();
                    if !listed.contains(&name) {
                        return Err(s3::path_not_found(&format!("{base}/{name}")));
                    }
                    if !chosen.contains(&name) {
                        chosen.push(name);
                    }
                }
                chosen
            }
            (None, Some(pattern)) => listed
                .into_iter()
                .filter(|p| visible(p) && glob(pattern, p))
                .collect(),
            (None, None) => listed.into_iter().filter(|p| visible(p)).collect(),
        },
    };
    Ok(candidates
        .into_iter()
        .filter(|relative| copy.force || !loaded(&format!("{base}/{relative}")))
        .collect())
}

fn visible(relative: &str) -> bool {
    relative
        .split('/')
        .all(|segment| !segment.starts_with('_') && !segment.starts_with('.'))
}

/// Hadoop-style globs as COPY INTO's PATTERN takes them: `*` and `?` stay within one path
/// segment, `[a-z]` and `[!a-z]` match one character, `{a,b}` either alternative.
pub(crate) fn glob(pattern: &str, path: &str) -> bool {
    expand_braces(pattern).iter().any(|p| {
        matches(
            &p.chars().collect::<Vec<_>>(),
            &path.chars().collect::<Vec<_>>(),
        )
    })
}

fn expand_braces(pattern: &str) -> Vec<String> {
    let Some(open) = pattern.find('{') else {
        return vec![pattern.to_string()];
    };
    let mut depth = 0;
    let mut close = None;
    for (i, c) in pattern[open..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    close = Some(open + i);
                    break;
                }
            }
            _ => {}
        }
    }
    let Some(close) = close else {
        return vec![pattern.to_string()];
    };
    let (head, tail) = (&pattern[..open], &pattern[close + 1..]);
    let mut alternatives = Vec::new();
    let (mut depth, mut start) = (0, open + 1);
    for (i, c) in pattern[open + 1..close].char_indices() {
        let at = open + 1 + i;
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                alternatives.push(&pattern[start..at]);
                start = at + 1;
            }
            _ => {}
        }
    }
    alternatives.push(&pattern[start..close]);
    alternatives
        .into_iter()
        .flat_map(|a| expand_braces(&format!("{head}{a}{tail}")))
        .collect()
}

fn matches(pattern: &[char], text: &[char]) -> bool {
    match pattern.first() {
        None => text.is_empty(),
        Some('*') => (0..=text.len())
            .take_while(|&i| i == 0 || text[i - 1] != '/')
            .any(|i| matches(&pattern[1..], &text[i..])),
        Some('?') => text.first().is_some_and(|c| *c != '/') && matches(&pattern[1..], &text[1..]),
        Some('[') => {
            let Some(close) = pattern
                .iter()
                .skip(1)
                .position(|c| *c == ']')
                .map(|i| i + 1)
            else {
                return text.first() == Some(&'[') && matches(&pattern[1..], &text[1..]);
            };
            let Some(c) = text.first() else {
                return false;
            };
            class_matches(&pattern[1..close], *c) && matches(&pattern[close + 1..], &text[1..])
        }
        Some('\\') if pattern.len() > 1 => {
            text.first() == Some(&pattern[1]) && matches(&pattern[2..], &text[1..])
        }
        Some(p) => text.first() == Some(p) && matches(&pattern[1..], &text[1..]),
    }
}

fn class_matches(class: &[char], c: char) -> bool {
    let (negated, class) = match class.first() {
        Some('!' | '^') => (true, &class[1..]),
        _ => (false, class),
    };
    let mut found = false;
    let mut i = 0;
    while i < class.len() {
        if i + 2 < class.len() && class[i + 1] == '-' {
            found |= (class[i]..=class[i + 2]).contains(&c);
            i += 3;
        } else {
            found |= class[i] == c;
            i += 1;
        }
    }
    found != negated
}

#[cfg(test)]
mod tests {
    use super::super::lexer::tokenize;
    use super::super::parser::{Statement, parse};
    use super::*;

    fn copy(sql: &str) -> CopyInto {
        match parse(&tokenize(sql).unwrap()).unwrap() {
            Statement::Copy(copy) => copy,
            other => panic!("not a COPY: {other:?}"),
        }
    }

    #[test]
    fn reads_every_clause_of_copy_into() {
        let copy = copy(
            "COPY INTO main.zuora.t FROM 's3://b/run/' WITH (CREDENTIAL (AWS_ACCESS_KEY = 'a', \
             AWS_SECRET_KEY = 'b', AWS_SESSION_TOKEN = 'c')) FILEFORMAT = PARQUET \
             FILES = ('x.parquet', 'y.parquet') FORMAT_OPTIONS ('mergeSchema' = 'true') \
             COPY_OPTIONS ('force' = 'true', 'mergeSchema' = true)",
        );
        assert_eq!(copy.table, ["main", "zuora", "t"]);
        assert_eq!(copy.source, "s3://b/run/");
        let credentials = copy.credentials.unwrap();
        assert_eq!(credentials.session_token.as_deref(), Some("c"));
        assert_eq!(copy.files.unwrap().len(), 2);
        assert!(copy.force && copy.merge_schema);
    }

    #[test]
    fn refuses_other_formats_and_unknown_options() {
        for sql in [
            "COPY INTO t FROM '/Volumes/a/b/c' FILEFORMAT = CSV",
            "COPY INTO t FROM (SELECT 1) FILEFORMAT = PARQUET",
            "COPY INTO t FROM '/x' FILEFORMAT = PARQUET COPY_OPTIONS ('foo' = 'true')",
            "COPY INTO t FROM '/x' FILEFORMAT = PARQUET FILES = ('a') PATTERN = '*'",
            "COPY INTO t FROM '/x' WITH (CREDENTIAL (AZURE_SAS_TOKEN = 'x')) FILEFORMAT = PARQUET",
        ] {
            let error = parse(&tokenize(sql).unwrap()).unwrap_err();
            assert_eq!(error.class.as_deref(), Some("PARSE_SYNTAX_ERROR"), "{sql}");
        }
    }

    #[test]
    fn selects_visible_files_by_name_or_pattern_minus_the_ledger() {
        let listing = SourceListing::Directory(vec![
            "_SUCCESS".into(),
            "a.parquet".into(),
            "b.parquet".into(),
            "sub/c.parquet".into(),
        ]);
        let mut copy = copy("COPY INTO t FROM '/Volumes/m/z/v/run' FILEFORMAT = PARQUET");
        let base = "/Volumes/m/z/v/run";
        let loaded = |p: &str| p == "/Volumes/m/z/v/run/a.parquet";
        let chosen = select(&copy, listing.clone(), base, &loaded).unwrap();
        assert_eq!(chosen, ["b.parquet", "sub/c.parquet"]);

        copy.force = true;
        copy.pattern = Some("*.parquet".into());
        let chosen = select(&copy, listing.clone(), base, &loaded).unwrap();
        assert_eq!(chosen, ["a.parquet", "b.parquet"]);

        copy.pattern = None;
        copy.files = Some(vec!["nope.parquet".into()]);
        let error = select(&copy, listing, base, &loaded).unwrap_err();
        assert_eq!(error.class.as_deref(), Some("PATH_NOT_FOUND"));
    }

    #[test]
    fn globs_follow_hadoop_rules() {
        assert!(glob("*.parquet", "a.parquet"));
        assert!(!glob("*.parquet", "dir/a.parquet"));
        assert!(glob("*/*.parquet", "dir/a.parquet"));
        assert!(glob("part-0[0-4]?.{parquet,pq}", "part-031.pq"));
        assert!(!glob("part-0[!0-4]?.parquet", "part-031.parquet"));
    }
}
