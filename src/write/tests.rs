//! Parquet files written to a temporary directory and read back, data and metadata both.

use std::fs;
use std::path::Path;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanArray, Date32Array, Decimal128Array, Int64Array, RecordBatch, StringArray,
    TimestampMicrosecondArray,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use bytes::Bytes;
use parquet::basic::{Compression, LogicalType, TimeUnit as ParquetTimeUnit, Type as PhysicalType};
use parquet::file::reader::{FileReader, SerializedFileReader};

use super::*;

/// Every batch of a staged file, read back the way the DuckDB loader reads it.
fn read_all(bytes: Bytes) -> crate::Result<Vec<RecordBatch>> {
    batch_reader(bytes)?.collect()
}

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Utf8, true),
        Field::new("balance", DataType::Decimal128(38, 9), true),
        Field::new("auto_pay", DataType::Boolean, true),
        Field::new("bill_cycle_day", DataType::Int64, true),
        Field::new("last_invoice_date", DataType::Date32, true),
        Field::new(
            "updated_date",
            DataType::Timestamp(TimeUnit::Microsecond, Some("+00:00".into())),
            true,
        ),
    ]))
}

fn batch(first: i64, rows: usize) -> RecordBatch {
    let ids = (first..).take(rows);
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter(
            ids.clone()
                .map(|i| (i % 7 != 0).then(|| format!("id\0{i}"))),
        )),
        Arc::new(
            Decimal128Array::from_iter(
                ids.clone()
                    .map(|i| (i % 5 != 0).then_some(i128::from(i) * 10i128.pow(20) + 1)),
            )
            .with_precision_and_scale(38, 9)
            .unwrap(),
        ),
        Arc::new(BooleanArray::from_iter(
            ids.clone().map(|i| (i % 3 != 0).then_some(i % 2 == 0)),
        )),
        Arc::new(Int64Array::from_iter(ids.clone().map(|i| Some(i - 1000)))),
        Arc::new(Date32Array::from_iter(ids.clone().map(|i| Some(i as i32)))),
        Arc::new(
            TimestampMicrosecondArray::from_iter(ids.map(|i| Some(i * 1_000_001)))
                .with_timezone("+00:00"),
        ),
    ];
    RecordBatch::try_new(schema(), columns).unwrap()
}

fn write(path: &Path, batches: &[RecordBatch], options: &WriteOptions) -> FileStats {
    let mut file = ParquetFile::create(path, schema(), options).unwrap();
    for batch in batches {
        file.write(batch).unwrap();
    }
    file.finish().unwrap()
}

#[test]
fn a_written_file_reads_back_as_the_same_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("account-0001.parquet");
    let batches = [batch(0, 99), batch(99, 99), batch(198, 5)];

    let stats = write(&path, &batches, &WriteOptions::default());

    assert_eq!(stats.rows, 203);
    assert_eq!(stats.bytes, fs::metadata(&path).unwrap().len());
    let read = read_all(Bytes::from(fs::read(&path).unwrap())).unwrap();
    let expected = arrow::compute::concat_batches(&schema(), &batches).unwrap();
    let actual = arrow::compute::concat_batches(&schema(), &read).unwrap();
    assert_eq!(actual, expected);
}

#[test]
fn parquet_types_are_utc_micros_and_decimal_38_9() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("types.parquet");
    write(&path, &[batch(1, 10)], &WriteOptions::default());

    let reader = SerializedFileReader::new(fs::File::open(&path).unwrap()).unwrap();
    let metadata = reader.metadata();
    let columns = metadata.file_metadata().schema_descr();

    let decimal = columns.column(1);
    assert_eq!(decimal.physical_type(), PhysicalType::FIXED_LEN_BYTE_ARRAY);
    assert_eq!(
        decimal.logical_type_ref(),
        Some(&LogicalType::decimal(9, 38))
    );
    assert_eq!((decimal.type_precision(), decimal.type_scale()), (38, 9));

    let timestamp = columns.column(5);
    assert_eq!(timestamp.physical_type(), PhysicalType::INT64);
    assert_eq!(
        timestamp.logical_type_ref(),
        Some(&LogicalType::timestamp(true, ParquetTimeUnit::MICROS))
    );

    let created_by = metadata.file_metadata().created_by().unwrap();
    assert!(
        created_by.starts_with("zuora-sync version "),
        "{created_by}"
    );
    let chunk = metadata.row_group(0).column(0);
    assert!(matches!(chunk.compression(), Compression::ZSTD(_)));
    assert!(
        chunk.dictionary_page_offset().is_some(),
        "dictionary encoding is on"
    );
}

#[test]
fn row_groups_are_bounded_by_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("groups.parquet");
    let options = WriteOptions {
        max_row_group_rows: 100,
        ..WriteOptions::default()
    };
    write(
        &path,
        &[batch(0, 99), batch(99, 99), batch(198, 99)],
        &options,
    );

    let reader = SerializedFileReader::new(fs::File::open(&path).unwrap()).unwrap();
    let rows: Vec<i64> = reader
        .metadata()
        .row_groups()
        .iter()
        .map(|g| g.num_rows())
        .collect();
    assert_eq!(rows, [100, 100, 97]);
}

#[test]
fn no_partial_file_survives_finish() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("account.parquet");
    let partial = dir.path().join("account.parquet.partial");

    let mut file = ParquetFile::create(&path, schema(), &WriteOptions::default()).unwrap();
    file.write(&batch(0, 10)).unwrap();
    assert!(
        partial.exists() && !path.exists(),
        "the data lives under .partial until finish"
    );
    file.finish().unwrap();

    assert!(path.exists());
    assert!(!partial.exists());
}

#[test]
fn create_removes_a_stale_partial_and_finish_replaces_the_old_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("account.parquet");
    let partial = dir.path().join("account.parquet.partial");
    fs::write(&partial, b"half a file from a crashed run").unwrap();
    fs::write(&path, b"an older attempt").unwrap();

    let stats = write(&path, &[batch(0, 3)], &WriteOptions::default());

    assert!(!partial.exists());
    let read = read_all(Bytes::from(fs::read(&path).unwrap())).unwrap();
    assert_eq!(read.iter().map(RecordBatch::num_rows).sum::<usize>(), 3);
    assert_eq!(stats.rows, 3);
}

#[test]
fn a_file_dropped_unfinished_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("account.parquet");
    let mut file = ParquetFile::create(&path, schema(), &WriteOptions::default()).unwrap();
    file.write(&batch(0, 10)).unwrap();
    drop(file);

    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn bytes_so_far_grows_with_every_batch() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("size.parquet");
    let mut file = ParquetFile::create(&path, schema(), &WriteOptions::default()).unwrap();
    let mut last = file.bytes_so_far();
    for i in 0..5 {
        file.write(&batch(i * 1000, 1000)).unwrap();
        let now = file.bytes_so_far();
        assert!(now > last, "{now} after {last}");
        last = now;
    }
    assert_eq!(file.rows(), 5000);
    let stats = file.finish().unwrap();
    // The estimate of the unflushed row group counts its pages before compression: it errs
    // high, so files rolled on it come out under the target, never over.
    assert!(
        stats.bytes <= last && stats.bytes * 4 >= last,
        "estimate {last}, file {}",
        stats.bytes
    );
}

#[test]
fn a_batch_of_another_schema_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wrong.parquet");
    let mut file = ParquetFile::create(&path, schema(), &WriteOptions::default()).unwrap();
    let other = Arc::new(Schema::new(vec![Field::new("x", DataType::Int64, true)]));
    let wrong = RecordBatch::try_new(other, vec![Arc::new(Int64Array::from(vec![1]))]).unwrap();

    let message = file.write(&wrong).unwrap_err().to_string();
    assert!(message.contains("wrong.parquet.partial"), "{message}");
}

#[test]
fn unusable_options_are_configuration_errors() {
    let bad_level = WriteOptions {
        zstd_level: 99,
        ..WriteOptions::default()
    };
    assert!(matches!(
        writer_properties(&bad_level),
        Err(Error::Config(_))
    ));
    let no_rows = WriteOptions {
        max_row_group_rows: 0,
        ..WriteOptions::default()
    };
    assert!(matches!(writer_properties(&no_rows), Err(Error::Config(_))));
}

#[test]
fn bytes_that_are_not_parquet_are_an_error() {
    assert!(read_all(Bytes::from_static(b"not parquet at all")).is_err());
}
