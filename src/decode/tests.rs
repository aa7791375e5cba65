//! Behaviour of the page decoder, driven through `PageDecoder::decode` with page bodies as
//! Zuora sends them.

use std::sync::Arc;

use arrow::array::{
    Array, AsArray, BooleanArray, Date32Array, Decimal128Array, Int64Array, StringArray,
    TimestampMicrosecondArray,
};
use arrow::datatypes::DataType;

use super::*;
use crate::schema::{Field, FieldType};

const SYNCED_AT: i64 = 1_750_000_000_000_000;
const JULY_25: i64 = 1_721_875_580_000_000; // 2024-07-25T02:46:20Z

fn account() -> Arc<ObjectSchema> {
    let fields = [
        ("Id", FieldType::Text),
        ("AccountNumber", FieldType::Text),
        ("VATId", FieldType::Text),
        ("Status", FieldType::Picklist),
        ("Balance", FieldType::Decimal),
        ("AutoPay", FieldType::Boolean),
        ("BillCycleDay", FieldType::Integer),
        ("LastInvoiceDate", FieldType::Date),
        ("UpdatedDate", FieldType::Datetime),
        ("Region__c", FieldType::Text),
    ]
    .map(|(name, t)| Field::new(name, name, t, Vec::new()))
    .to_vec();
    Arc::new(ObjectSchema::new(
        "Account",
        fields,
        vec!["SequenceSetId".into()],
    ))
}

fn decoder(policy: UnknownFieldPolicy) -> PageDecoder {
    PageDecoder::new(account(), SYNCED_AT, policy)
}

fn decode(records: &str) -> Result<DecodedPage> {
    decoder(UnknownFieldPolicy::Error).decode(format!(r#"{{"data":[{records}]}}"#).as_bytes())
}

fn data_error(records: &str) -> (Option<String>, Option<String>, String) {
    match decode(records) {
        Err(Error::Data {
            object,
            record_id,
            field,
            detail,
        }) => {
            assert_eq!(object, "Account");
            (record_id, field, detail)
        }
        other => panic!("expected a data error, got {other:?}"),
    }
}

fn source_error(body: &str) -> String {
    match decoder(UnknownFieldPolicy::Error).decode(body.as_bytes()) {
        Err(Error::Source(message)) => message,
        other => panic!("expected a source error, got {other:?}"),
    }
}

fn text<'a>(page: &'a DecodedPage, column: &str) -> &'a StringArray {
    page.batch
        .column_by_name(column)
        .unwrap()
        .as_string::<i32>()
}

fn decimals(page: &DecodedPage) -> &Decimal128Array {
    page.batch.column_by_name("balance").unwrap().as_primitive()
}

#[test]
fn decimals_are_stored_exactly() {
    let values = [
        "0.1",
        "299.9",
        "1e-9",
        "12345678901234567890.123456789",
        "-0.5",
        "1.5E+3",
    ];
    let records: Vec<_> = values
        .iter()
        .map(|v| format!(r#"{{"id":"a","balance":{v}}}"#))
        .collect();
    let page = decode(&records.join(",")).unwrap();

    let scaled: Vec<i128> = decimals(&page).values().to_vec();
    assert_eq!(
        scaled,
        [
            100_000_000,
            299_900_000_000,
            1,
            12_345_678_901_234_567_890_123_456_789,
            -500_000_000,
            1_500_000_000_000,
        ]
    );
    assert_eq!(decimals(&page).value_as_string(1), "299.900000000");
    assert_eq!(decimals(&page).data_type(), &DataType::Decimal128(38, 9));
}

#[test]
fn ten_fractional_digits_name_object_record_and_field() {
    let (record_id, field, detail) =
        data_error(r#"{"id":"ok"},{"balance":0.1234567891,"accountNumber":"A1","id":"8a8a0002"}"#);
    assert_eq!(record_id.as_deref(), Some("8a8a0002"));
    assert_eq!(field.as_deref(), Some("Balance"));
    assert_eq!(
        detail,
        "0.1234567891 cannot be stored exactly in DECIMAL(38,9): it has more than 9 fractional \
         digits"
    );
}

#[test]
fn thirty_integer_digits_are_refused() {
    let (_, _, detail) = data_error(r#"{"id":"x","balance":123456789012345678901234567890}"#);
    assert!(detail.ends_with("more than 29 integer digits"), "{detail}");
}

#[test]
fn a_string_in_a_decimal_field_is_refused() {
    let error = decode(r#"{"balance":"abc","id":"8a8a0001"}"#).unwrap_err();
    assert_eq!(
        error.to_string(),
        "Account record 8a8a0001 field Balance: expected a JSON number, found the string \"abc\""
    );
}

#[test]
fn wrong_json_types_are_refused() {
    let cases = [
        (
            r#""autoPay":"true""#,
            "AutoPay",
            "expected a JSON true or false, found the string",
        ),
        (
            r#""accountNumber":12"#,
            "AccountNumber",
            "expected a JSON string, found the number 12",
        ),
        (
            r#""status":{"a":1}"#,
            "Status",
            "found the object {\"a\":1}",
        ),
        (
            r#""billCycleDay":5.5"#,
            "BillCycleDay",
            "expected an integer, found the number 5.5",
        ),
        (
            r#""billCycleDay":1e19"#,
            "BillCycleDay",
            "outside the range of a 64-bit integer",
        ),
        (
            r#""billCycleDay":[1]"#,
            "BillCycleDay",
            "found the array [1]",
        ),
        (
            r#""lastInvoiceDate":"2024/07/25""#,
            "LastInvoiceDate",
            "YYYY-MM-DD",
        ),
        (r#""updatedDate":"2024-07-25""#, "UpdatedDate", "RFC 3339"),
        (
            r#""updatedDate":"2024-07-25T02:46:20.1234567Z""#,
            "UpdatedDate",
            "more precise",
        ),
    ];
    for (pair, want_field, want_detail) in cases {
        let (record_id, field, detail) = data_error(&format!(r#"{{{pair},"id":"r1"}}"#));
        assert_eq!(record_id.as_deref(), Some("r1"), "{pair}");
        assert_eq!(field.as_deref(), Some(want_field), "{pair}");
        assert!(detail.contains(want_detail), "{pair}: {detail}");
    }
}

#[test]
fn long_offending_values_are_cut_short() {
    let long = "9".repeat(500);
    let (_, _, detail) = data_error(&format!(r#"{{"id":"x","accountNumber":{long}}}"#));
    assert!(detail.len() < 150, "{detail}");
    assert!(detail.contains("(500 bytes)"), "{detail}");
}

#[test]
fn integers_booleans_dates_and_datetimes_decode() {
    let page = decode(
        r#"{"id":"a","autoPay":true,"billCycleDay":5.0,"lastInvoiceDate":"2024-07-25",
            "updatedDate":"2024-07-25T02:46:20Z"},
           {"id":"b","autoPay":false,"billCycleDay":-3,
            "updatedDate":"2024-07-25T03:46:20.25+01:00"}"#,
    )
    .unwrap();
    let batch = &page.batch;
    let auto_pay: &BooleanArray = batch.column_by_name("auto_pay").unwrap().as_boolean();
    assert_eq!((auto_pay.value(0), auto_pay.value(1)), (true, false));
    let day: &Int64Array = batch
        .column_by_name("bill_cycle_day")
        .unwrap()
        .as_primitive();
    assert_eq!(day.values().to_vec(), [5, -3]);
    let invoiced: &Date32Array = batch
        .column_by_name("last_invoice_date")
        .unwrap()
        .as_primitive();
    assert_eq!((invoiced.value(0), invoiced.is_null(1)), (19_929, true));
    let updated: &TimestampMicrosecondArray =
        batch.column_by_name("updated_date").unwrap().as_primitive();
    assert_eq!(updated.values().to_vec(), [JULY_25, JULY_25 + 250_000]);
    assert_eq!(updated.timezone(), Some("+00:00"));
}

#[test]
fn keys_match_describe_names_in_any_case() {
    let page =
        decode(r#"{"ID":"a","vATId":"GB123","REGION__C":"EMEA","AccountNumber":"A1"}"#).unwrap();
    assert_eq!(text(&page, "id").value(0), "a");
    assert_eq!(text(&page, "vat_id").value(0), "GB123");
    assert_eq!(text(&page, "region__c").value(0), "EMEA");
    assert_eq!(text(&page, "account_number").value(0), "A1");
}

#[test]
fn unexported_keys_are_skipped_silently() {
    let page =
        decode(r#"{"id":"a","sequenceSetId":"s1"},{"id":"b","sequenceSetId":{"x":[1]}}"#).unwrap();
    assert_eq!(page.rows, 2);
    assert_eq!(page.batch.schema(), account().arrow_schema());
}

#[test]
fn a_record_without_an_id_is_refused() {
    let (record_id, field, detail) = data_error(r#"{"accountNumber":"A1","balance":1}"#);
    assert_eq!((record_id, field.as_deref()), (None, Some("Id")));
    assert!(detail.contains("no id"), "{detail}");
}

#[test]
fn unknown_keys_fail_the_page_and_name_discover() {
    let (record_id, field, detail) =
        data_error(r#"{"billTo":{"firstName":"Amy"},"id":"8a8a0003"}"#);
    assert_eq!(record_id.as_deref(), Some("8a8a0003"));
    assert_eq!(field, None);
    assert!(detail.contains("\"billTo\""), "{detail}");
    assert!(detail.contains("zuora-sync discover"), "{detail}");
    assert!(detail.contains("unknown_fields = \"ignore\""), "{detail}");
}

#[test]
fn unknown_keys_of_any_shape_can_be_ignored() {
    let body = r#"{"data":[{"id":"a","billTo":{"firstName":"Amy","tags":[1,{"x":null}]},
        "extra":[[],{}],"more":"x","balance":1}]}"#;
    let page = decoder(UnknownFieldPolicy::Ignore)
        .decode(body.as_bytes())
        .unwrap();
    assert_eq!(page.rows, 1);
    assert_eq!(decimals(&page).value(0), 1_000_000_000);
}

#[test]
fn a_key_twice_in_one_record_is_refused() {
    for record in [
        r#"{"id":"a","balance":1,"balance":2}"#,
        r#"{"id":"a","vatId":"x","vATId":"y"}"#,
        r#"{"id":"a","sequenceSetId":"x","SequenceSetId":"y"}"#,
    ] {
        let (record_id, _, detail) = data_error(record);
        assert_eq!(record_id.as_deref(), Some("a"));
        assert!(detail.contains("more than once"), "{detail}");
    }
}

#[test]
fn text_round_trips_unicode_escapes_and_nul() {
    let page = decode(
        r#"{"id":"1","accountNumber":"Zoë — 東京 🚀"},
           {"id":"2","accountNumber":"line\nbreak\ttab \"quoted\" back\\slash \/"},
           {"id":"3","accountNumber":"\u00e9\ud83d\ude80 nul:\u0000:end"},
           {"id":"4","accountNumber":""}"#,
    )
    .unwrap();
    let names = text(&page, "account_number");
    assert_eq!(names.value(0), "Zoë — 東京 🚀");
    assert_eq!(names.value(1), "line\nbreak\ttab \"quoted\" back\\slash /");
    assert_eq!(names.value(2), "é🚀 nul:\0:end");
    assert_eq!((names.value(3), names.is_null(3)), ("", false));
}

#[test]
fn escaped_keys_are_matched_too() {
    let page = decode(r#"{"id":"1","account\u004eumber":"A1"}"#).unwrap();
    assert_eq!(text(&page, "account_number").value(0), "A1");
}

#[test]
fn nulls_and_absent_keys_are_null() {
    let page = decode(r#"{"id":"a","balance":null,"autoPay":null},{"id":"b"}"#).unwrap();
    for column in page.batch.columns().iter().skip(1).take(9) {
        assert_eq!(column.null_count(), 2);
    }
    assert_eq!(
        page.batch
            .column_by_name("_synced_at")
            .unwrap()
            .null_count(),
        0
    );
}

#[test]
fn metadata_columns_are_filled_on_every_row() {
    let page = decode(r#"{"id":"a"},{"id":"b"}"#).unwrap();
    let synced: &TimestampMicrosecondArray = page
        .batch
        .column_by_name("_synced_at")
        .unwrap()
        .as_primitive();
    assert_eq!(synced.values().to_vec(), [SYNCED_AT, SYNCED_AT]);
    let deleted = page.batch.column_by_name("_deleted").unwrap().as_boolean();
    assert_eq!(deleted.false_count(), 2);
    assert_eq!(page.batch.schema(), account().arrow_schema());
}

#[test]
fn next_page_is_returned_when_present() {
    let mut decoder = decoder(UnknownFieldPolicy::Error);
    let page = decoder
        .decode(br#"{"nextPage":"W3sidmFsdWUi","data":[{"id":"a"}]}"#)
        .unwrap();
    assert_eq!(page.next_page.as_deref(), Some("W3sidmFsdWUi"));

    let last = decoder
        .decode(br#"{"data":[{"id":"b"}],"somethingNew":{"x":[1]}}"#)
        .unwrap();
    assert_eq!((last.next_page, last.rows), (None, 1));

    let empty = decoder.decode(br#"{"data":[]}"#).unwrap();
    assert_eq!(
        (empty.rows, empty.batch.num_rows(), empty.last_cursor),
        (0, 0, None)
    );
}

#[test]
fn cursor_of_the_last_record_and_the_greatest_cursor_are_reported() {
    let page = decode(
        r#"{"id":"a","updatedDate":"2024-07-25T02:46:21Z"},
           {"id":"b","updatedDate":"2024-07-25T02:46:20Z"}"#,
    )
    .unwrap();
    assert_eq!(page.last_cursor, Some((JULY_25, "b".to_string())));
    assert_eq!(page.max_cursor_micros, Some(JULY_25 + 1_000_000));
}

#[test]
fn a_failed_page_leaves_nothing_behind() {
    let mut decoder = decoder(UnknownFieldPolicy::Error);
    let bad = br#"{"data":[{"id":"a","balance":1},{"id":"b","balance":"x"},{"id":"c"}]}"#;
    assert!(decoder.decode(bad).is_err());
    assert!(decoder.decode(br#"{"data":[{"id":"a"},{"id":"b""#).is_err());

    let page = decoder
        .decode(br#"{"data":[{"id":"d","balance":2}]}"#)
        .unwrap();
    assert_eq!(page.rows, 1);
    assert_eq!(text(&page, "id").value(0), "d");
    assert_eq!(decimals(&page).values().to_vec(), [2_000_000_000]);
}

#[test]
fn malformed_envelopes_are_source_errors_with_an_excerpt() {
    let cases = [
        (r#"{"data":[{"id":"a",}]}"#, "malformed JSON"),
        (r#"{"data":[{"id":"a"}"#, "ends too early"),
        (r#"{"data":[{"id":"a"},{"id":"#, "ends too early"),
        ("", "ends too early"),
        (r#"{"data":{"id":"a"}}"#, "`data` to be an array of records"),
        (r#"{"data":[["a"]]}"#, "each record to be a JSON object"),
        (r#"{"data":[null]}"#, "each record to be a JSON object"),
        (r#"{"nextPage":"x"}"#, "missing field `data`"),
        (r#"{"data":[],"data":[]}"#, "duplicate field `data`"),
        (r#"[{"id":"a"}]"#, "a page object with a `data` array"),
        (r#"{"data":[]} trailing"#, "trailing characters"),
        ("<html>502 Bad Gateway</html>", "malformed JSON"),
    ];
    for (body, want) in cases {
        let message = source_error(body);
        assert!(
            message.contains("the Account page is not an Object Query response"),
            "{message}"
        );
        assert!(message.contains(want), "{body}: {message}");
    }
}

#[test]
fn source_errors_quote_only_the_neighbourhood_of_the_fault() {
    let records: Vec<_> = (0..1000)
        .map(|i| format!(r#"{{"id":"{i:032}"}}"#))
        .collect();
    let body = format!(r#"{{"data":[{},{{"id":oops}}]}}"#, records.join(","));
    let message = source_error(&body);
    assert!(message.len() < 300, "{message}");
    assert!(message.contains("oops"), "{message}");
    assert!(
        message.contains(&format!("at byte {}", body.find("oops").unwrap())),
        "{message}"
    );
}

#[test]
fn bodies_that_are_not_utf8_are_source_errors() {
    let mut body = br#"{"data":[{"id":"a"#.to_vec();
    body.extend_from_slice(&[0xff, 0xfe]);
    body.extend_from_slice(br#""}]}"#);
    let Err(Error::Source(message)) = decoder(UnknownFieldPolicy::Error).decode(&body) else {
        panic!("expected a source error");
    };
    assert!(message.contains("not UTF-8, at byte 17"), "{message}");
}
