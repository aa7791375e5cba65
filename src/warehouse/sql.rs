//! The SQL that every warehouse runs, written once for both dialects: table definitions with
//! explicit column types, and the deduplicating MERGE from the landing table.

use crate::schema::{DELETED, FieldType, ObjectSchema, SYNCED_AT};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    DuckDb,
    Databricks,
}

/// A table in a dialect: its qualified name and its columns with their SQL types.
pub struct Table<'a> {
    pub dialect: Dialect,
    /// The qualified name, already quoted (`"zuora"."account"` or `` `main`.`zuora`.`account` ``).
    pub name: String,
    pub schema: &'a ObjectSchema,
}

impl Dialect {
    pub fn quote(self, identifier: &str) -> String {
        match self {
            Self::DuckDb => format!("\"{}\"", identifier.replace('"', "\"\"")),
            Self::Databricks => format!("`{}`", identifier.replace('`', "``")),
        }
    }

    pub fn column_type(self, field_type: FieldType) -> &'static str {
        match (self, field_type) {
            (Self::DuckDb, FieldType::Text | FieldType::Picklist) => "VARCHAR",
            (Self::Databricks, FieldType::Text | FieldType::Picklist) => "STRING",
            (_, FieldType::Boolean) => "BOOLEAN",
            (_, FieldType::Integer) => "BIGINT",
            (_, FieldType::Decimal) => "DECIMAL(38, 9)",
            (_, FieldType::Date) => "DATE",
            // Both are instants in UTC, as the Parquet files say (isAdjustedToUTC=true).
            (Self::DuckDb, FieldType::Datetime) => "TIMESTAMPTZ",
            (Self::Databricks, FieldType::Datetime) => "TIMESTAMP",
        }
    }

    /// The definitions of every column: the fields, then `_synced_at` and `_deleted`.
    pub fn column_definitions(self, schema: &ObjectSchema) -> Vec<String> {
        let mut columns: Vec<String> = schema
            .fields
            .iter()
            .map(|f| {
                format!(
                    "{} {}",
                    self.quote(&f.column),
                    self.column_type(f.field_type)
                )
            })
            .collect();
        columns.push(format!(
            "{} {} NOT NULL",
            self.quote(SYNCED_AT),
            self.column_type(FieldType::Datetime)
        ));
        columns.push(format!("{} BOOLEAN NOT NULL", self.quote(DELETED)));
        columns
    }
}

impl Table<'_> {
    pub fn create(&self) -> String {
        format!(
            "CREATE TABLE IF NOT EXISTS {} ({})",
            self.name,
            self.dialect.column_definitions(self.schema).join(", ")
        )
    }

    fn columns(&self) -> Vec<String> {
        let mut columns: Vec<String> = self
            .schema
            .fields
            .iter()
            .map(|f| self.dialect.quote(&f.column))
            .collect();
        columns.push(self.dialect.quote(SYNCED_AT));
        columns.push(self.dialect.quote(DELETED));
        columns
    }

    /// MERGE the landing table into this table. The landing rows are first reduced to one per
    /// id (the newest by the cursor field, then the latest load), so MERGE never sees two
    /// source rows for one target row. A matched row is replaced when the source is newer, or
    /// equally new and different, so reloading the same rows changes nothing.
    pub fn merge_from(&self, landing: &str) -> String {
        let q = |c: &str| self.dialect.quote(c);
        let id = q(&self
            .schema
            .primary_key()
            .expect("every schema has an id")
            .column);
        let columns = self.columns();
        let cursor = self.schema.cursor_field().map(|f| q(&f.column));
        let (deleted, synced_at) = (q(DELETED), q(SYNCED_AT));
        // A tombstone outranks every live row of its id: Zuora never brings a deleted id back.
        let order = match &cursor {
            Some(c) => format!("{deleted} DESC, {c} DESC NULLS LAST, {synced_at} DESC"),
            None => format!("{deleted} DESC, {synced_at} DESC"),
        };
        let changed: Vec<String> = columns
            .iter()
            .filter(|c| **c != q(SYNCED_AT))
            .map(|c| format!("s.{c} IS DISTINCT FROM t.{c}"))
            .collect();
        let changed = changed.join(" OR ");
        let newer = match &cursor {
            Some(c) => format!("t.{c} IS NULL OR s.{c} > t.{c} OR (s.{c} = t.{c} AND ({changed}))"),
            None => changed,
        };
        let list = columns.join(", ");
        let set: Vec<String> = columns.iter().map(|c| format!("{c} = s.{c}")).collect();
        let values: Vec<String> = columns.iter().map(|c| format!("s.{c}")).collect();
        format!(
            "MERGE INTO {target} AS t USING (SELECT {list} FROM (SELECT *, ROW_NUMBER() OVER \
             (PARTITION BY {id} ORDER BY {order}) AS _zs_rank FROM {landing}) AS ranked \
             WHERE _zs_rank = 1) AS s ON t.{id} = s.{id} \
             WHEN MATCHED AND s.{deleted} AND NOT t.{deleted} THEN UPDATE SET \
             {deleted} = TRUE, {synced_at} = s.{synced_at} \
             WHEN MATCHED AND NOT s.{deleted} AND ({newer}) THEN UPDATE SET {set} \
             WHEN NOT MATCHED AND NOT s.{deleted} THEN INSERT ({list}) VALUES ({values})",
            target = self.name,
            set = set.join(", "),
            values = values.join(", "),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Field;

    fn schema() -> ObjectSchema {
        ObjectSchema::new(
            "Account",
            vec![
                Field::new("Id", "Id", FieldType::Text, vec![]),
                Field::new("Balance", "Balance", FieldType::Decimal, vec![]),
                Field::new("UpdatedDate", "Updated", FieldType::Datetime, vec![]),
            ],
            vec![],
        )
    }

    #[test]
    fn tables_have_explicit_types_per_dialect() {
        let schema = schema();
        let duck = Table {
            dialect: Dialect::DuckDb,
            name: "\"zuora\".\"account\"".into(),
            schema: &schema,
        };
        assert_eq!(
            duck.create(),
            "CREATE TABLE IF NOT EXISTS \"zuora\".\"account\" (\"id\" VARCHAR, \"balance\" \
             DECIMAL(38, 9), \"updated_date\" TIMESTAMPTZ, \"_synced_at\" TIMESTAMPTZ NOT NULL, \
             \"_deleted\" BOOLEAN NOT NULL)"
        );
        let bricks = Table {
            dialect: Dialect::Databricks,
            name: "`m`.`z`.`account`".into(),
            schema: &schema,
        };
        assert!(
            bricks
                .create()
                .contains("`id` STRING, `balance` DECIMAL(38, 9), `updated_date` TIMESTAMP")
        );
    }

    #[test]
    fn the_merge_dedupes_by_id_and_keeps_the_newest() {
        let schema = schema();
        let table = Table {
            dialect: Dialect::Databricks,
            name: "`account`".into(),
            schema: &schema,
        };
        let sql = table.merge_from("`_landing_account`");
        assert!(
            sql.contains(
                "ROW_NUMBER() OVER (PARTITION BY `id` ORDER BY `_deleted` DESC, `updated_date` \
                 DESC NULLS LAST, `_synced_at` DESC)"
            ),
            "{sql}"
        );
        assert!(sql.contains("ON t.`id` = s.`id`"), "{sql}");
        assert!(sql.contains("s.`updated_date` > t.`updated_date`"), "{sql}");
        assert!(!sql.contains("s.`_synced_at` IS DISTINCT FROM"), "{sql}");
        assert!(
            sql.contains(
                "WHEN MATCHED AND s.`_deleted` AND NOT t.`_deleted` THEN UPDATE SET \
                 `_deleted` = TRUE"
            ),
            "tombstones only flag the row: {sql}"
        );
        assert!(
            sql.contains("WHEN NOT MATCHED AND NOT s.`_deleted` THEN INSERT"),
            "{sql}"
        );
    }
}
