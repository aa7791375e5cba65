//! The embedded DuckDB that holds the tables: opening it locked down (no extensions, no file
//! or network access, since the emulator reads Parquet itself), running translated SQL into a
//! [`ResultSet`], reading a table's columns back as Databricks types, and wording DuckDB's
//! errors as the Databricks error classes clients look for.

use arrow::array::RecordBatch;
use arrow::datatypes::DataType;
use duckdb::{Config, Connection};

use super::error::SqlError;
use super::results::ResultSet;
use super::translate::duck_schema;
use super::types::DbType;
use crate::emulator::databricks::grants::Object;

/// A column of a table as DuckDB holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TableColumn {
    pub name: String,
    pub db_type: DbType,
    pub nullable: bool,
}

pub(crate) fn open() -> duckdb::Result<Connection> {
    let config = Config::default()
        .enable_autoload_extension(false)?
        .enable_external_access(false)?;
    Connection::open_in_memory_with_flags(config)
}

/// Runs one translated statement; returns DuckDB's changed-row count and the result rows.
pub(crate) fn run(conn: &Connection, sql: &str) -> Result<(usize, ResultSet), SqlError> {
    let mut statement = conn.prepare(sql).map_err(|e| error(&e))?;
    let changed = statement.execute([]).map_err(|e| error(&e))?;
    let schema = statement.schema();
    let mut batches = Vec::new();
    while let Some(chunk) = statement.step().map_err(|e| error(&e))? {
        batches.push(RecordBatch::from(&chunk));
    }
    let fields: Vec<(String, DataType)> = schema
        .fields()
        .iter()
        .map(|f| (f.name().clone(), f.data_type().clone()))
        .collect();
    let result = ResultSet::from_batches(&fields, &batches).map_err(SqlError::internal)?;
    Ok((changed, result))
}

/// Runs statements that return nothing, such as BEGIN or CREATE SCHEMA.
pub(crate) fn execute(conn: &Connection, sql: &str) -> Result<(), SqlError> {
    conn.execute_batch(sql).map_err(|e| error(&e))
}

/// The columns of a table, in order, with their Databricks types.
pub(crate) fn columns(conn: &Connection, table: &Object) -> Result<Vec<TableColumn>, SqlError> {
    let schema = duck_schema(&table.parts[0], &table.parts[1]);
    let sql = "SELECT column_name, data_type, is_nullable FROM duckdb_columns() \
               WHERE schema_name = ? AND table_name = ? ORDER BY column_index";
    let mut statement = conn.prepare(sql).map_err(|e| error(&e))?;
    let rows = statement
        .query_map([schema.as_str(), table.parts[2].as_str()], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, bool>(2)?,
            ))
        })
        .map_err(|e| error(&e))?;
    let mut columns = Vec::new();
    for row in rows {
        let (name, data_type, nullable) = row.map_err(|e| error(&e))?;
        let db_type = DbType::from_duckdb(&data_type).ok_or_else(|| {
            SqlError::internal(format!("column {name} has the unmapped type {data_type}"))
        })?;
        columns.push(TableColumn {
            name,
            db_type,
            nullable,
        });
    }
    Ok(columns)
}

/// DuckDB's error, worded as Databricks words the same failure where the class is known.
pub(crate) fn error(error: &duckdb::Error) -> SqlError {
    let text = error.to_string();
    if let Some(rest) = text.strip_prefix("Parser Error: ") {
        let near = between(rest, "at or near \"", "\"");
        return SqlError::syntax(Some(near.unwrap_or(rest)));
    }
    if text.starts_with("Binder Error: ")
        && let Some(column) = between(&text, "Referenced column \"", "\"")
    {
        let detail = format!(
            "A column, variable, or function parameter with name `{column}` cannot be \
             resolved."
        );
        return SqlError::new("UNRESOLVED_COLUMN.WITHOUT_SUGGESTION", detail, "42703");
    }
    if text.starts_with("Catalog Error: ")
        && let Some(function) = between(&text, "Function with name ", " does not exist")
    {
        let detail = format!("Cannot resolve routine `{function}` on search path.");
        return SqlError::new("UNRESOLVED_ROUTINE", detail, "42883");
    }
    if let Some(rest) = text.strip_prefix("Conversion Error: ") {
        return SqlError::new("CAST_INVALID_INPUT", first_line(rest), "22018");
    }
    // Both statements ("Constraint Error: ...") and the appender ("Failed to append: ...")
    // report the violation this way.
    if let Some(column) = text.split("NOT NULL constraint failed: ").nth(1) {
        let column = first_line(column);
        let column = column.rsplit('.').next().unwrap_or(column).trim();
        let detail = format!("NOT NULL constraint violated for column: {column}.");
        return SqlError::new("DELTA_NOT_NULL_CONSTRAINT_VIOLATED", detail, "23502");
    }
    SqlError::internal(format!(
        "The emulator's DuckDB failed: {}",
        first_line(&text)
    ))
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let rest = &text[text.find(start)? + start.len()..];
    Some(&rest[..rest.find(end)?])
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_sql_and_reads_columns_back() {
        let conn = open().unwrap();
        execute(
            &conn,
            "CREATE SCHEMA \"main.zuora\"; CREATE TABLE \"main.zuora\".\"t\" \
             (id BIGINT NOT NULL, amount DECIMAL(38,9), stamp TIMESTAMPTZ)",
        )
        .unwrap();
        let table = Object::new(
            crate::emulator::databricks::grants::Kind::Table,
            &["main", "zuora", "t"],
        );
        let columns = columns(&conn, &table).unwrap();
        let types: Vec<DbType> = columns.iter().map(|c| c.db_type).collect();
        assert_eq!(
            types,
            [DbType::BigInt, DbType::Decimal(38, 9), DbType::Timestamp]
        );
        assert!(!columns[0].nullable);

        let (_, result) = run(&conn, "SELECT 1 AS one, 'x' AS two").unwrap();
        assert_eq!(
            result.rows,
            [[Some("1".to_string()), Some("x".to_string())]]
        );
    }

    #[test]
    fn duckdb_errors_carry_databricks_classes() {
        let conn = open().unwrap();
        let error = run(&conn, "SELECT nope FROM (SELECT 1 AS a)").unwrap_err();
        assert_eq!(
            error.class.as_deref(),
            Some("UNRESOLVED_COLUMN.WITHOUT_SUGGESTION"),
            "{error}"
        );
        let error = run(&conn, "SELECT CAST('x' AS INTEGER)").unwrap_err();
        assert_eq!(
            error.class.as_deref(),
            Some("CAST_INVALID_INPUT"),
            "{error}"
        );
        execute(&conn, "CREATE TABLE n (a INTEGER NOT NULL)").unwrap();
        let error = run(&conn, "INSERT INTO n VALUES (NULL)").unwrap_err();
        assert_eq!(
            error.message,
            "[DELTA_NOT_NULL_CONSTRAINT_VIOLATED] NOT NULL constraint violated for column: a. \
             SQLSTATE: 23502"
        );
    }
}
