//! The hot path on one core: Object Query page JSON → Arrow batches → Parquet, over about 100k
//! synthetic Account rows (20 fields) in pages of 99, all in memory.
//!
//! - `envelope`: serde_json parses each page, records left as borrowed raw JSON: the ceiling of
//!   any decoder of this input on this machine, measured in the same run.
//! - `decode`: `PageDecoder`, pages to `RecordBatch`es.
//! - `arrow_json`: arrow-json decoding the same pages as `{data: [struct]}`, the reference
//!   figure of MEASURED.md (it matches keys exactly, so its schema uses the JSON keys).
//! - `parquet_zstd1`: the decoded batches encoded with the engine's writer properties.
//! - `decode_and_parquet`: both, as one core runs them in production.
//!
//! Every line reports rows/s and the JSON bytes/s they stand for, so they compare directly.

use std::hint::black_box;
use std::sync::Arc;

use arrow::datatypes::{DataType, Field as ArrowField, Fields, Schema};
use arrow::json::ReaderBuilder;
use arrow::record_batch::RecordBatch;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use parquet::arrow::ArrowWriter;
use serde::Deserialize;
use serde_json::value::RawValue;
use zuora_sync::decode::{PageDecoder, UnknownFieldPolicy};
use zuora_sync::schema::{Field, FieldType, ObjectSchema};
use zuora_sync::write::{WriteOptions, writer_properties};

const ROWS: usize = 100_000;
const PAGE_SIZE: usize = 99;
const SYNCED_AT: i64 = 1_750_000_000_000_000;

/// The Account fields of the benchmark: (JSON key, Describe name, type).
const FIELDS: [(&str, &str, FieldType); 20] = [
    ("id", "Id", FieldType::Text),
    ("accountNumber", "AccountNumber", FieldType::Text),
    ("name", "Name", FieldType::Text),
    ("status", "Status", FieldType::Picklist),
    ("currency", "Currency", FieldType::Picklist),
    ("balance", "Balance", FieldType::Decimal),
    ("creditBalance", "CreditBalance", FieldType::Decimal),
    (
        "totalInvoiceBalance",
        "TotalInvoiceBalance",
        FieldType::Decimal,
    ),
    ("mrr", "MRR", FieldType::Decimal),
    ("autoPay", "AutoPay", FieldType::Boolean),
    ("billCycleDay", "BillCycleDay", FieldType::Integer),
    ("paymentTerm", "PaymentTerm", FieldType::Text),
    ("billToId", "BillToId", FieldType::Text),
    ("soldToId", "SoldToId", FieldType::Text),
    ("batch", "Batch", FieldType::Text),
    ("lastInvoiceDate", "LastInvoiceDate", FieldType::Date),
    ("createdDate", "CreatedDate", FieldType::Datetime),
    ("updatedDate", "UpdatedDate", FieldType::Datetime),
    ("createdById", "CreatedById", FieldType::Text),
    ("updatedById", "UpdatedById", FieldType::Text),
];

fn account_schema() -> Arc<ObjectSchema> {
    let fields = FIELDS
        .iter()
        .map(|&(_, name, t)| Field::new(name, name, t, Vec::new()))
        .collect();
    Arc::new(ObjectSchema::new("Account", fields, Vec::new()))
}

/// A deterministic stream of numbers (64-bit LCG), so every run decodes the same pages.
struct Numbers(u64);

impl Numbers {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % below
    }

    fn hex_id(&mut self) -> String {
        format!(
            "8a8a{:012x}{:016x}",
            self.next(1 << 48),
            self.next(u64::MAX)
        )
    }

    fn money(&mut self) -> String {
        match self.next(4) {
            0 => "0.0".to_string(),
            _ => format!("{}.{:02}", self.next(100_000), self.next(100)),
        }
    }
}

fn record(n: &mut Numbers, i: usize) -> String {
    const STATUSES: [&str; 3] = ["Active", "Draft", "Canceled"];
    const CURRENCIES: [&str; 4] = ["USD", "EUR", "GBP", "CAD"];
    let second = 1_700_000_000 + i as u64 * 7;
    let (created, updated) = (second - n.next(1_000_000), second);
    format!(
        concat!(
            r#"{{"id":"{}","accountNumber":"A{:08}","name":"Customer {} Holdings Ltd","#,
            r#""status":"{}","currency":"{}","balance":{},"creditBalance":{},"#,
            r#""totalInvoiceBalance":{},"mrr":{},"autoPay":{},"billCycleDay":{},"#,
            r#""paymentTerm":"Net {}","billToId":"{}","soldToId":"{}","batch":"Batch{}","#,
            r#""lastInvoiceDate":"{}","createdDate":"{}","updatedDate":"{}","#,
            r#""createdById":"{}","updatedById":"{}"}}"#
        ),
        n.hex_id(),
        i,
        n.next(1_000_000),
        STATUSES[n.next(3) as usize],
        CURRENCIES[n.next(4) as usize],
        n.money(),
        n.money(),
        n.money(),
        n.money(),
        n.next(2) == 0,
        n.next(28) + 1,
        [15, 30, 45][n.next(3) as usize],
        n.hex_id(),
        n.hex_id(),
        n.next(50) + 1,
        date(second - n.next(3_000_000)),
        datetime(created),
        datetime(updated),
        n.hex_id(),
        n.hex_id(),
    )
}

/// `YYYY-MM-DD` of a Unix time (civil-from-days, proleptic Gregorian).
fn date(unix: u64) -> String {
    let days = (unix / 86_400) as i64 + 719_468;
    let era = days / 146_097;
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

fn datetime(unix: u64) -> String {
    let second = unix % 86_400;
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        date(unix),
        second / 3600,
        second / 60 % 60,
        second % 60
    )
}

fn pages() -> Vec<Vec<u8>> {
    let mut numbers = Numbers(42);
    let records: Vec<String> = (0..ROWS).map(|i| record(&mut numbers, i)).collect();
    let count = records.len().div_ceil(PAGE_SIZE);
    records
        .chunks(PAGE_SIZE)
        .enumerate()
        .map(|(p, chunk)| {
            let next = if p + 1 < count {
                format!(r#","nextPage":"W3sidmFsdWUiOi{p:08}""#)
            } else {
                String::new()
            };
            format!(r#"{{"data":[{}]{next}}}"#, chunk.join(",")).into_bytes()
        })
        .collect()
}

fn decode_all(decoder: &mut PageDecoder, pages: &[Vec<u8>]) -> Vec<RecordBatch> {
    pages
        .iter()
        .map(|page| decoder.decode(page).expect("synthetic pages decode").batch)
        .collect()
}

fn encode(batches: &[RecordBatch]) -> Vec<u8> {
    let properties = writer_properties(&WriteOptions::default()).expect("default options");
    let mut writer = ArrowWriter::try_new(Vec::new(), batches[0].schema(), Some(properties))
        .expect("writer starts");
    for batch in batches {
        writer.write(batch).expect("batch encodes");
    }
    writer.into_inner().expect("footer written")
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    data: Vec<&'a RawValue>,
    #[serde(rename = "nextPage")]
    next_page: Option<&'a str>,
}

/// arrow-json's view of a page: one row whose `data` column lists the records.
fn arrow_json_schema() -> Arc<Schema> {
    let fields: Fields = FIELDS
        .iter()
        .map(|&(key, _, t)| ArrowField::new(key, t.arrow_type(), true))
        .collect();
    let item = ArrowField::new_list_field(DataType::Struct(fields), true);
    Arc::new(Schema::new(vec![ArrowField::new(
        "data",
        DataType::List(Arc::new(item)),
        true,
    )]))
}

fn hot_path(c: &mut Criterion) {
    let pages = pages();
    let json_bytes: usize = pages.iter().map(Vec::len).sum();
    let schema = account_schema();
    let batches = decode_all(
        &mut PageDecoder::new(schema.clone(), SYNCED_AT, UnknownFieldPolicy::Error),
        &pages,
    );
    let parquet_bytes = encode(&batches).len();
    eprintln!(
        "{ROWS} rows in {} pages: {json_bytes} bytes of JSON ({} per row), {parquet_bytes} \
         bytes of Parquet zstd(1) ({:.1} per row)",
        pages.len(),
        json_bytes / ROWS,
        parquet_bytes as f64 / ROWS as f64
    );

    let mut group = c.benchmark_group("hot_path");
    group.sample_size(10);
    group.throughput(Throughput::ElementsAndBytes {
        elements: ROWS as u64,
        bytes: json_bytes as u64,
    });

    group.bench_function("envelope", |b| {
        b.iter(|| {
            for page in &pages {
                let envelope: Envelope = serde_json::from_slice(page).expect("page parses");
                black_box((envelope.data.len(), envelope.next_page));
            }
        })
    });

    let mut decoder = PageDecoder::new(schema.clone(), SYNCED_AT, UnknownFieldPolicy::Error);
    group.bench_function("decode", |b| {
        b.iter(|| black_box(decode_all(&mut decoder, &pages)))
    });

    let reference = arrow_json_schema();
    group.bench_function("arrow_json", |b| {
        b.iter(|| {
            let mut decoder = ReaderBuilder::new(reference.clone())
                .build_decoder()
                .expect("schema");
            for page in &pages {
                decoder.decode(page).expect("page decodes");
                black_box(decoder.flush().expect("page flushes"));
            }
        })
    });

    group.bench_function("parquet_zstd1", |b| {
        b.iter_batched(
            || batches.clone(),
            |batches| black_box(encode(&batches)),
            BatchSize::LargeInput,
        )
    });

    group.bench_function("decode_and_parquet", |b| {
        b.iter(|| black_box(encode(&decode_all(&mut decoder, &pages))))
    });
    group.finish();
}

criterion_group!(benches, hot_path);
criterion_main!(benches);
