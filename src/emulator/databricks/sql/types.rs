//! Column types in their three spellings: Databricks SQL (`STRING`, `TIMESTAMP`), the DuckDB
//! type the emulator stores them as (`VARCHAR`, `TIMESTAMPTZ`), and the Arrow type Parquet
//! files carry; plus the Delta rule for whether a file column may be written into a table
//! column.

use arrow::datatypes::{DataType, TimeUnit};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DbType {
    String,
    Boolean,
    TinyInt,
    SmallInt,
    Int,
    BigInt,
    Float,
    Double,
    Decimal(u8, i8),
    Date,
    /// An instant (Spark's TIMESTAMP_LTZ), stored as DuckDB TIMESTAMPTZ.
    Timestamp,
    /// A wall-clock time without zone, stored as DuckDB TIMESTAMP.
    TimestampNtz,
    Binary,
}

/// Why a Parquet column cannot be read at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Unreadable {
    /// Spark refuses the type outright (`TIMESTAMP(NANOS)`): PARQUET_TYPE_ILLEGAL.
    Illegal(String),
    /// A type Spark may read but whose mapping is unconfirmed, or nested data.
    NotSupported(String),
}

impl DbType {
    /// From a Databricks type name and its parameters; `None` for unknown names.
    pub fn from_name(name: &str, parameters: &[u32]) -> Option<DbType> {
        let name = name.to_ascii_uppercase();
        let plain = |t: DbType| parameters.is_empty().then_some(t);
        match name.as_str() {
            "STRING" => plain(DbType::String),
            "BOOLEAN" => plain(DbType::Boolean),
            "TINYINT" | "BYTE" => plain(DbType::TinyInt),
            "SMALLINT" | "SHORT" => plain(DbType::SmallInt),
            "INT" | "INTEGER" => plain(DbType::Int),
            "BIGINT" | "LONG" => plain(DbType::BigInt),
            "FLOAT" | "REAL" => plain(DbType::Float),
            "DOUBLE" => plain(DbType::Double),
            "DATE" => plain(DbType::Date),
            "TIMESTAMP" | "TIMESTAMP_LTZ" => plain(DbType::Timestamp),
            "TIMESTAMP_NTZ" => plain(DbType::TimestampNtz),
            "BINARY" => plain(DbType::Binary),
            "DECIMAL" | "DEC" | "NUMERIC" => decimal(parameters),
            _ => None,
        }
    }

    /// As DESCRIBE TABLE prints it: `decimal(38,9)`.
    pub fn databricks(self) -> String {
        match self {
            DbType::String => "string".into(),
            DbType::Boolean => "boolean".into(),
            DbType::TinyInt => "tinyint".into(),
            DbType::SmallInt => "smallint".into(),
            DbType::Int => "int".into(),
            DbType::BigInt => "bigint".into(),
            DbType::Float => "float".into(),
            DbType::Double => "double".into(),
            DbType::Decimal(p, s) => format!("decimal({p},{s})"),
            DbType::Date => "date".into(),
            DbType::Timestamp => "timestamp".into(),
            DbType::TimestampNtz => "timestamp_ntz".into(),
            DbType::Binary => "binary".into(),
        }
    }

    pub fn duckdb(self) -> String {
        match self {
            DbType::String => "VARCHAR".into(),
            DbType::Boolean => "BOOLEAN".into(),
            DbType::TinyInt => "TINYINT".into(),
            DbType::SmallInt => "SMALLINT".into(),
            DbType::Int => "INTEGER".into(),
            DbType::BigInt => "BIGINT".into(),
            DbType::Float => "FLOAT".into(),
            DbType::Double => "DOUBLE".into(),
            DbType::Decimal(p, s) => format!("DECIMAL({p},{s})"),
            DbType::Date => "DATE".into(),
            DbType::Timestamp => "TIMESTAMPTZ".into(),
            DbType::TimestampNtz => "TIMESTAMP".into(),
            DbType::Binary => "BLOB".into(),
        }
    }

    /// From the `data_type` text of `duckdb_columns()`.
    pub fn from_duckdb(text: &str) -> Option<DbType> {
        let text = text.to_ascii_uppercase();
        if let Some(inner) = text
            .strip_prefix("DECIMAL(")
            .and_then(|t| t.strip_suffix(')'))
        {
            let (p, s) = inner.split_once(',')?;
            return Some(DbType::Decimal(
                p.trim().parse().ok()?,
                s.trim().parse().ok()?,
            ));
        }
        Some(match text.as_str() {
            "VARCHAR" => DbType::String,
            "BOOLEAN" => DbType::Boolean,
            "TINYINT" => DbType::TinyInt,
            "SMALLINT" => DbType::SmallInt,
            "INTEGER" => DbType::Int,
            "BIGINT" => DbType::BigInt,
            "FLOAT" => DbType::Float,
            "DOUBLE" => DbType::Double,
            "DATE" => DbType::Date,
            "TIMESTAMP WITH TIME ZONE" | "TIMESTAMPTZ" => DbType::Timestamp,
            "TIMESTAMP" => DbType::TimestampNtz,
            "BLOB" => DbType::Binary,
            _ => return None,
        })
    }

    /// How Spark reads an Arrow type decoded from Parquet.
    pub fn from_arrow(data_type: &DataType) -> Result<DbType, Unreadable> {
        Ok(match data_type {
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => DbType::String,
            DataType::Boolean => DbType::Boolean,
            DataType::Int8 => DbType::TinyInt,
            DataType::Int16 => DbType::SmallInt,
            DataType::Int32 => DbType::Int,
            DataType::Int64 => DbType::BigInt,
            DataType::Float32 => DbType::Float,
            DataType::Float64 => DbType::Double,
            DataType::Decimal32(p, s) | DataType::Decimal64(p, s) | DataType::Decimal128(p, s)
                if *p <= 38 =>
            {
                DbType::Decimal(*p, *s)
            }
            DataType::Date32 => DbType::Date,
            DataType::Timestamp(TimeUnit::Nanosecond, zone) => {
                let adjusted = zone.is_some();
                let detail = format!("INT64 (TIMESTAMP(NANOS,{adjusted}))");
                return Err(Unreadable::Illegal(detail));
            }
            DataType::Timestamp(_, Some(_)) => DbType::Timestamp,
            DataType::Timestamp(_, None) => DbType::TimestampNtz,
            DataType::Binary | DataType::LargeBinary | DataType::BinaryView => DbType::Binary,
            // Unsigned integers: Spark's mapping is UNCONFIRMED, so they are refused.
            other => return Err(Unreadable::NotSupported(other.to_string())),
        })
    }

    /// The Arrow type handed to the DuckDB appender for a column of this type.
    pub fn arrow(self) -> DataType {
        match self {
            DbType::String => DataType::Utf8,
            DbType::Boolean => DataType::Boolean,
            DbType::TinyInt => DataType::Int8,
            DbType::SmallInt => DataType::Int16,
            DbType::Int => DataType::Int32,
            DbType::BigInt => DataType::Int64,
            DbType::Float => DataType::Float32,
            DbType::Double => DataType::Float64,
            DbType::Decimal(p, s) => DataType::Decimal128(p, s),
            DbType::Date => DataType::Date32,
            DbType::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            DbType::TimestampNtz => DataType::Timestamp(TimeUnit::Microsecond, None),
            DbType::Binary => DataType::Binary,
        }
    }

    /// Delta's schema merge: a file column may go into a table column of the same type; the
    /// only widening is among TINYINT, SMALLINT and INT, which Parquet stores alike. INT into
    /// BIGINT, a different decimal precision or scale, or TIMESTAMP_NTZ into TIMESTAMP fail
    /// with DELTA_FAILED_TO_MERGE_FIELDS.
    pub fn accepts(self, file: DbType) -> bool {
        use DbType::{Int, SmallInt, TinyInt};
        self == file
            || matches!(
                (self, file),
                (SmallInt, TinyInt) | (Int, TinyInt) | (Int, SmallInt)
            )
    }
}

/// `DECIMAL` is `DECIMAL(10,0)`; precision 1..=38 and scale 0..=precision.
fn decimal(parameters: &[u32]) -> Option<DbType> {
    let (p, s) = match parameters {
        [] => (10, 0),
        [p] => (*p, 0),
        [p, s] => (*p, *s),
        _ => return None,
    };
    ((1..=38).contains(&p) && s <= p).then_some(DbType::Decimal(p as u8, s as i8))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_spellings_round_trip() {
        let types = [
            DbType::String,
            DbType::Boolean,
            DbType::Int,
            DbType::BigInt,
            DbType::Decimal(38, 9),
            DbType::Date,
            DbType::Timestamp,
            DbType::TimestampNtz,
            DbType::Binary,
        ];
        for t in types {
            assert_eq!(DbType::from_duckdb(&t.duckdb()), Some(t), "{t:?}");
            assert_eq!(DbType::from_arrow(&t.arrow()), Ok(t), "{t:?}");
        }
        assert_eq!(
            DbType::from_duckdb("TIMESTAMP WITH TIME ZONE"),
            Some(DbType::Timestamp)
        );
    }

    #[test]
    fn names_take_their_parameters() {
        assert_eq!(
            DbType::from_name("decimal", &[38, 9]),
            Some(DbType::Decimal(38, 9))
        );
        assert_eq!(
            DbType::from_name("DECIMAL", &[]),
            Some(DbType::Decimal(10, 0))
        );
        assert_eq!(DbType::from_name("decimal", &[39, 0]), None);
        assert_eq!(DbType::from_name("string", &[10]), None);
        assert_eq!(DbType::from_name("long", &[]), Some(DbType::BigInt));
        assert_eq!(DbType::from_name("variant", &[]), None);
    }

    #[test]
    fn delta_merges_only_identical_types_and_small_integers() {
        assert!(DbType::Decimal(38, 9).accepts(DbType::Decimal(38, 9)));
        assert!(!DbType::Decimal(38, 9).accepts(DbType::Decimal(18, 9)));
        assert!(!DbType::BigInt.accepts(DbType::Int));
        assert!(DbType::Int.accepts(DbType::SmallInt));
        assert!(!DbType::Timestamp.accepts(DbType::TimestampNtz));
    }

    #[test]
    fn nanosecond_timestamps_are_illegal_in_parquet() {
        let nanos = DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into()));
        assert!(matches!(
            DbType::from_arrow(&nanos),
            Err(Unreadable::Illegal(_))
        ));
        assert!(matches!(
            DbType::from_arrow(&DataType::UInt32),
            Err(Unreadable::NotSupported(_))
        ));
    }
}
