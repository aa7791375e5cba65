//! Statement results as the Statement Execution API serves them with JSON_ARRAY: a column
//! list with Databricks `type_name`/`type_text`, and rows in which every non-null cell is a
//! string (booleans `true`/`false`, dates `YYYY-MM-DD`, timestamps ISO-8601 with `Z`, decimals
//! with their full scale, binary as base64).

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Date32Array, Decimal128Array, RecordBatch,
};
use arrow::datatypes::{
    DataType, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, TimeUnit,
    UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow::util::display::{ArrayFormatter, FormatOptions};
use base64::Engine;
use chrono::{DateTime, NaiveDate};

use super::types::DbType;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResultColumn {
    pub name: String,
    /// The `ColumnInfoTypeName` enum: `STRING`, `LONG`, `DECIMAL`, ...
    pub type_name: &'static str,
    /// The SQL spelling, lower case as in the reference example: `bigint`, `decimal(38,9)`.
    pub type_text: String,
    pub precision: Option<u8>,
    pub scale: Option<i8>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ResultSet {
    pub columns: Vec<ResultColumn>,
    pub rows: Vec<Vec<Option<String>>>,
}

impl ResultColumn {
    pub fn new(name: &str, db_type: DbType) -> ResultColumn {
        let (precision, scale) = match db_type {
            DbType::Decimal(p, s) => (Some(p), Some(s)),
            _ => (None, None),
        };
        ResultColumn {
            name: name.to_string(),
            type_name: type_name(db_type),
            type_text: db_type.databricks(),
            precision,
            scale,
        }
    }

    fn from_arrow(name: &str, data_type: &DataType) -> ResultColumn {
        if let Ok(db_type) = DbType::from_arrow(data_type) {
            return ResultColumn::new(name, db_type);
        }
        let (type_name, type_text) = match data_type {
            DataType::Null => ("NULL", "void"),
            DataType::UInt8 | DataType::UInt16 => ("INT", "int"),
            DataType::UInt32 => ("LONG", "bigint"),
            DataType::UInt64 => ("DECIMAL", "decimal(20,0)"),
            DataType::Timestamp(_, Some(_)) => ("TIMESTAMP", "timestamp"),
            DataType::Timestamp(_, None) => ("TIMESTAMP", "timestamp_ntz"),
            DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(..) => {
                ("ARRAY", "array")
            }
            DataType::Struct(_) => ("STRUCT", "struct"),
            DataType::Map(..) => ("MAP", "map"),
            DataType::Interval(_) | DataType::Duration(_) => ("INTERVAL", "interval"),
            _ => ("STRING", "string"),
        };
        ResultColumn {
            name: name.to_string(),
            type_name,
            type_text: type_text.to_string(),
            precision: None,
            scale: None,
        }
    }
}

fn type_name(db_type: DbType) -> &'static str {
    match db_type {
        DbType::String => "STRING",
        DbType::Boolean => "BOOLEAN",
        DbType::TinyInt => "BYTE",
        DbType::SmallInt => "SHORT",
        DbType::Int => "INT",
        DbType::BigInt => "LONG",
        DbType::Float => "FLOAT",
        DbType::Double => "DOUBLE",
        DbType::Decimal(..) => "DECIMAL",
        DbType::Date => "DATE",
        // The enum has no TIMESTAMP_NTZ; type_text tells the two apart.
        DbType::Timestamp | DbType::TimestampNtz => "TIMESTAMP",
        DbType::Binary => "BINARY",
    }
}

impl ResultSet {
    /// A result with no columns, for DDL and the like.
    pub fn empty() -> ResultSet {
        ResultSet::default()
    }

    /// One row of LONG counters, as COPY INTO, MERGE and DML report.
    pub fn counts(counters: &[(&str, u64)]) -> ResultSet {
        ResultSet {
            columns: counters
                .iter()
                .map(|(name, _)| ResultColumn::new(name, DbType::BigInt))
                .collect(),
            rows: vec![counters.iter().map(|(_, n)| Some(n.to_string())).collect()],
        }
    }

    /// Rows of strings under STRING columns, for DESCRIBE and SHOW.
    pub fn strings(names: &[&str], rows: Vec<Vec<Option<String>>>) -> ResultSet {
        ResultSet {
            columns: names
                .iter()
                .map(|name| ResultColumn::new(name, DbType::String))
                .collect(),
            rows,
        }
    }

    pub fn from_batches(
        fields: &[(String, DataType)],
        batches: &[RecordBatch],
    ) -> Result<ResultSet, String> {
        let columns = fields
            .iter()
            .map(|(name, data_type)| ResultColumn::from_arrow(name, data_type))
            .collect();
        let mut rows = Vec::new();
        for batch in batches {
            let formatted: Vec<Vec<Option<String>>> = batch
                .columns()
                .iter()
                .map(cells)
                .collect::<Result<_, _>>()?;
            for row in 0..batch.num_rows() {
                rows.push(formatted.iter().map(|column| column[row].clone()).collect());
            }
        }
        Ok(ResultSet { columns, rows })
    }
}

/// Every cell of one column, as JSON_ARRAY text.
fn cells(array: &ArrayRef) -> Result<Vec<Option<String>>, String> {
    let text = |i: usize, value: String| (!array.is_null(i)).then_some(value);
    let rows = 0..array.len();
    Ok(match array.data_type() {
        DataType::Null => rows.map(|_| None).collect(),
        DataType::Boolean => {
            let values: &BooleanArray = array.as_boolean();
            rows.map(|i| text(i, values.value(i).to_string())).collect()
        }
        DataType::Int8 => integers(array.as_primitive::<Int8Type>()),
        DataType::Int16 => integers(array.as_primitive::<Int16Type>()),
        DataType::Int32 => integers(array.as_primitive::<Int32Type>()),
        DataType::Int64 => integers(array.as_primitive::<Int64Type>()),
        DataType::UInt8 => integers(array.as_primitive::<UInt8Type>()),
        DataType::UInt16 => integers(array.as_primitive::<UInt16Type>()),
        DataType::UInt32 => integers(array.as_primitive::<UInt32Type>()),
        DataType::UInt64 => integers(array.as_primitive::<UInt64Type>()),
        DataType::Float32 => {
            let values = array.as_primitive::<Float32Type>();
            rows.map(|i| text(i, float(f64::from(values.value(i)))))
                .collect()
        }
        DataType::Float64 => {
            let values = array.as_primitive::<Float64Type>();
            rows.map(|i| text(i, float(values.value(i)))).collect()
        }
        DataType::Decimal128(..) => {
            let values: &Decimal128Array = array.as_primitive();
            rows.map(|i| text(i, values.value_as_string(i))).collect()
        }
        DataType::Date32 => {
            let values: &Date32Array = array.as_primitive();
            rows.map(|i| text(i, date(values.value(i)))).collect()
        }
        DataType::Timestamp(_, zone) => {
            let micros = arrow::compute::cast(
                array,
                &DataType::Timestamp(TimeUnit::Microsecond, zone.clone()),
            )
            .map_err(|e| e.to_string())?;
            let values = micros.as_primitive::<arrow::datatypes::TimestampMicrosecondType>();
            rows.map(|i| text(i, timestamp(values.value(i), zone.is_some())))
                .collect()
        }
        DataType::Binary | DataType::LargeBinary => {
            let binary =
                arrow::compute::cast(array, &DataType::LargeBinary).map_err(|e| e.to_string())?;
            let values = binary.as_binary::<i64>();
            let engine = base64::engine::general_purpose::STANDARD;
            rows.map(|i| text(i, engine.encode(values.value(i))))
                .collect()
        }
        _ => {
            let options = FormatOptions::default();
            let formatter = ArrayFormatter::try_new(array, &options).map_err(|e| e.to_string())?;
            rows.map(|i| text(i, formatter.value(i).to_string()))
                .collect()
        }
    })
}

fn integers<T>(values: &arrow::array::PrimitiveArray<T>) -> Vec<Option<String>>
where
    T: arrow::datatypes::ArrowPrimitiveType,
    T::Native: ToString,
{
    values
        .iter()
        .map(|value| value.map(|v| v.to_string()))
        .collect()
}

/// Spark's spelling of doubles: `1.0`, `NaN`, `Infinity`.
fn float(value: f64) -> String {
    if value.is_nan() {
        "NaN".into()
    } else if value.is_infinite() {
        if value > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else if value.fract() == 0.0 && value.abs() < 1e16 {
        format!("{value:.1}")
    } else {
        value.to_string()
    }
}

fn date(days: i32) -> String {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("a valid date");
    epoch
        .checked_add_signed(chrono::TimeDelta::days(i64::from(days)))
        .map_or_else(|| days.to_string(), |d| d.format("%Y-%m-%d").to_string())
}

/// ISO-8601 with only as many fraction digits as needed; instants end with `Z`.
fn timestamp(micros: i64, instant: bool) -> String {
    let Some(time) = DateTime::from_timestamp_micros(micros) else {
        return micros.to_string();
    };
    let zone = if instant { "Z" } else { "" };
    format!("{}{zone}", time.naive_utc().format("%Y-%m-%dT%H:%M:%S%.f"))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Int64Array, StringArray, TimestampMicrosecondArray};
    use arrow::datatypes::{Field, Schema};

    use super::*;

    #[test]
    fn cells_are_strings_in_the_databricks_spelling() {
        let decimals = Decimal128Array::from(vec![Some(1_500_000_000), None])
            .with_precision_and_scale(38, 9)
            .unwrap();
        let stamps = TimestampMicrosecondArray::from(vec![Some(1_704_067_200_123_000), None])
            .with_timezone("UTC");
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from(vec![Some(1), None])),
            Arc::new(StringArray::from(vec![Some("a"), None])),
            Arc::new(decimals),
            Arc::new(stamps),
            Arc::new(BooleanArray::from(vec![Some(true), None])),
            Arc::new(Date32Array::from(vec![Some(19_723), None])),
        ];
        let fields: Vec<Field> = columns
            .iter()
            .enumerate()
            .map(|(i, c)| Field::new(format!("c{i}"), c.data_type().clone(), true))
            .collect();
        let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap();
        let fields: Vec<(String, DataType)> = batch
            .schema()
            .fields()
            .iter()
            .map(|f| (f.name().clone(), f.data_type().clone()))
            .collect();
        let result = ResultSet::from_batches(&fields, &[batch]).unwrap();
        let first: Vec<Option<&str>> = result.rows[0].iter().map(|c| c.as_deref()).collect();
        assert_eq!(
            first,
            [
                Some("1"),
                Some("a"),
                Some("1.500000000"),
                Some("2024-01-01T00:00:00.123Z"),
                Some("true"),
                Some("2024-01-01"),
            ]
        );
        assert!(result.rows[1].iter().all(Option::is_none));
        let types: Vec<&str> = result.columns.iter().map(|c| c.type_name).collect();
        assert_eq!(
            types,
            ["LONG", "STRING", "DECIMAL", "TIMESTAMP", "BOOLEAN", "DATE"]
        );
        assert_eq!(result.columns[2].type_text, "decimal(38,9)");
        assert_eq!(result.columns[2].precision, Some(38));
    }

    #[test]
    fn doubles_print_like_spark() {
        assert_eq!(float(1.0), "1.0");
        assert_eq!(float(0.25), "0.25");
        assert_eq!(float(f64::NAN), "NaN");
    }
}
