//! The shape of one Zuora object as zuora-sync stores it: the exportable Describe fields, each
//! with its Describe name, its JSON key rule, its column name and its Arrow type, plus the two
//! metadata columns every table carries.

mod naming;

pub use naming::{object_query_path, snake_case};

use std::sync::Arc;

use arrow::datatypes::{DataType, Field as ArrowField, Schema, SchemaRef, TimeUnit};

/// Every decimal column is stored as `DECIMAL(38, 9)`: Zuora amounts carry at most nine
/// fractional digits (Data Query types them `decimal(22,9)`), and 38 digits is the widest type
/// that Arrow, Parquet, DuckDB and Delta share.
pub const DECIMAL_PRECISION: u8 = 38;
pub const DECIMAL_SCALE: i8 = 9;

/// The time zone written on timestamp columns. An offset rather than a zone name, so Arrow needs
/// no time-zone database to read it; Parquet records it as `isAdjustedToUTC=true` either way.
pub const UTC: &str = "+00:00";

pub const SYNCED_AT: &str = "_synced_at";
pub const DELETED: &str = "_deleted";

/// A Describe field type, as Zuora names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    Text,
    Picklist,
    Boolean,
    Integer,
    Decimal,
    Date,
    Datetime,
}

impl FieldType {
    /// Parses a Describe `<type>`; `timestamp` is Zuora's older spelling of `datetime`.
    pub fn from_describe(text: &str) -> Option<Self> {
        Some(match text.trim().to_ascii_lowercase().as_str() {
            "text" | "string" => Self::Text,
            "picklist" => Self::Picklist,
            "boolean" => Self::Boolean,
            "integer" | "int" | "long" => Self::Integer,
            "decimal" | "number" | "double" => Self::Decimal,
            "date" => Self::Date,
            "datetime" | "timestamp" => Self::Datetime,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Picklist => "picklist",
            Self::Boolean => "boolean",
            Self::Integer => "integer",
            Self::Decimal => "decimal",
            Self::Date => "date",
            Self::Datetime => "datetime",
        }
    }

    pub fn arrow_type(self) -> DataType {
        match self {
            Self::Text | Self::Picklist => DataType::Utf8,
            Self::Boolean => DataType::Boolean,
            Self::Integer => DataType::Int64,
            Self::Decimal => DataType::Decimal128(DECIMAL_PRECISION, DECIMAL_SCALE),
            Self::Date => DataType::Date32,
            Self::Datetime => DataType::Timestamp(TimeUnit::Microsecond, Some(UTC.into())),
        }
    }
}

/// One exportable field of an object.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Field {
    /// The Describe name, e.g. `AccountNumber` or `Region__c`.
    pub name: String,
    pub label: String,
    #[serde(rename = "type")]
    pub field_type: FieldType,
    /// The snake_case column name, e.g. `account_number`.
    pub column: String,
    pub custom: bool,
    /// The picklist's allowed values, as Describe lists them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
}

impl Field {
    pub fn new(name: &str, label: &str, field_type: FieldType, options: Vec<String>) -> Self {
        Self {
            name: name.to_string(),
            label: label.to_string(),
            field_type,
            column: snake_case(name),
            custom: name.contains("__"),
            options,
        }
    }
}

/// An object as the warehouse stores it: its exportable fields in Describe order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ObjectSchema {
    /// The Describe name, e.g. `InvoiceItem`.
    pub object: String,
    /// The table name, e.g. `invoice_item`.
    pub table: String,
    pub fields: Vec<Field>,
    /// Describe names of fields that exist but lack the `export` context: pages may carry them,
    /// and they are dropped without complaint.
    #[serde(default)]
    pub unexported: Vec<String>,
}

/// The fields that zuora-sync relies on, by Describe name.
pub const ID: &str = "Id";
pub const UPDATED_DATE: &str = "UpdatedDate";

/// Append-only Zuora objects have no `UpdatedDate`; these are their cursor fields, in order.
const CURSOR_CANDIDATES: [&str; 3] = [UPDATED_DATE, "TransactionDate", "UpdatedOn"];

impl ObjectSchema {
    pub fn new(object: &str, fields: Vec<Field>, unexported: Vec<String>) -> Self {
        Self {
            object: object.to_string(),
            table: snake_case(object),
            fields,
            unexported,
        }
    }

    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))
    }

    /// The field that incremental reads filter and sort on, if the object has one.
    pub fn cursor_field(&self) -> Option<&Field> {
        CURSOR_CANDIDATES
            .iter()
            .filter_map(|name| self.field(name))
            .find(|f| f.field_type == FieldType::Datetime)
    }

    pub fn primary_key(&self) -> Option<&Field> {
        self.field(ID)
    }

    /// The Arrow schema of a batch: one column per field, then `_synced_at` and `_deleted`.
    pub fn arrow_schema(&self) -> SchemaRef {
        let mut columns: Vec<ArrowField> = self
            .fields
            .iter()
            .map(|f| ArrowField::new(&f.column, f.field_type.arrow_type(), true))
            .collect();
        columns.push(ArrowField::new(
            SYNCED_AT,
            FieldType::Datetime.arrow_type(),
            false,
        ));
        columns.push(ArrowField::new(DELETED, DataType::Boolean, false));
        Arc::new(Schema::new(columns))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(name: &str, field_type: FieldType) -> Field {
        Field::new(name, name, field_type, Vec::new())
    }

    #[test]
    fn cursor_field_prefers_updated_date() {
        let schema = ObjectSchema::new(
            "PaymentTransactionLog",
            vec![
                field("Id", FieldType::Text),
                field("TransactionDate", FieldType::Datetime),
            ],
            Vec::new(),
        );
        assert_eq!(schema.cursor_field().unwrap().name, "TransactionDate");
        assert_eq!(schema.table, "payment_transaction_log");
    }

    #[test]
    fn arrow_schema_ends_with_metadata_columns() {
        let schema = ObjectSchema::new(
            "Account",
            vec![
                field("Id", FieldType::Text),
                field("Balance", FieldType::Decimal),
            ],
            Vec::new(),
        );
        let arrow = schema.arrow_schema();
        let names: Vec<_> = arrow.fields().iter().map(|f| f.name().as_str()).collect();
        assert_eq!(names, ["id", "balance", "_synced_at", "_deleted"]);
        assert_eq!(arrow.field(1).data_type(), &DataType::Decimal128(38, 9));
    }
}
