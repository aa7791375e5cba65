//! The annotated configuration that `zuora-sync init` writes and `demo` fills in: every key
//! with its default and the reason for it, so the file documents itself.

/// An annotated configuration for the given Zuora tenant, loading into a local DuckDB file.
pub fn template(base_url: &str, client_id: &str) -> String {
    format!(
        r#"# zuora-sync configuration. Relative paths resolve against this file's folder.
# Secrets never go in this file: they come from the environment.

[zuora]
# The REST host of your tenant, e.g. https://rest.na.zuora.com or https://rest.eu.zuora.com.
base_url = "{base_url}"
# An OAuth client of the tenant. Its secret comes from ZUORA_CLIENT_SECRET.
client_id = "{client_id}"
# Objects to sync, by Describe name. Omitted: every object Describe lists as exportable.
# objects = ["Account", "Invoice"]
# exclude_objects = []
# Rows per Object Query page; 99 is Zuora's maximum and means the fewest requests.
# page_size = 99
# Requests in flight at once across all objects. Zuora allows 80 Object Query requests per
# tenant, shared with every other integration; 16 leaves most of them to the others.
# max_concurrency = 16
# The Zuora-Version header, pinned so that responses do not change shape under us.
# zuora_version = "2025-08-12"
# With Multi-entity, the entity to read (sent as Zuora-Entity-Ids).
# entity_ids = "..."
# Zuora's gateway answers 504 after 120 s; wait a little longer to see it.
# request_timeout = "150s"
# Retries of one request (429 honouring Retry-After, 5xx, timeouts), and the most time spent
# retrying before the run gives up with exit code 69.
# max_retries = 8
# retry_budget = "15m"
# A page key that Describe does not list: "error" stops the object (the schema changed; run
# discover), "ignore" drops the key.
# unknown_fields = "error"

[warehouse]
# "duckdb" (a local file, no account needed) or "databricks".
kind = "duckdb"
path = "warehouse.duckdb"
# Tables are created in this schema, one per object: Account -> zuora.account.
# schema = "zuora"

[staging]
# Where Parquet files wait to be loaded: a local folder (or file:///absolute/path), a Unity
# Catalog volume (/Volumes/<catalog>/<schema>/<volume>) or s3://bucket/prefix (Hive metastore).
url = "staging"
# Files are deleted once merged, unless kept for inspection.
# keep_staged_files = false
# Parquet files roll at about this size: large enough for efficient loads, small enough that a
# retried upload is cheap.
# file_target_mb = 128

[state]
# The checkpoint database; its run lock and spool folder sit next to it.
path = "checkpoint.db"

[sync]
# Windows end this far behind now, because Zuora's query index is eventually consistent.
# lag = "5m"
# Each incremental run re-reads this much history before the watermark ("all": everything).
# lookback = "0s"
# The first sync reads rows updated since this date; omitted: everything.
# start_date = "2020-01-01"
# Objects synced at once, and windows (parts of an object's time range) read at once across
# all objects. Each window keeps one Object Query request in flight.
# max_parallel_objects = 4
# max_parallel_windows = 8
# The first sync of an object is split into this many windows by UpdatedDate; a second holding
# many rows is split further by id while it is read.
# backfill_windows = 8
# Deleted rows never appear in Object Query: "data_query" reads the ids deleted in the last
# 30 days from Data Query and flags them _deleted = true; "off" skips that.
# deletes = "data_query"
# delete_check_interval = "1h"

# Per-object settings, by Describe name. Item tables need a lookback, because changes to related
# objects do not bump their UpdatedDate: InvoiceItem, TaxationItem and DebitMemoItem default to
# 14 days and CreditMemoItem to 90. Fields such as ChargedThroughDate change without bumping
# UpdatedDate on rows of any age; only lookback = "all" (or a periodic --full-refresh) sees those.
# [objects.InvoiceItem]
# lookback = "14d"
"#
    )
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::{Config, Needs, WarehouseConfig};

    #[test]
    fn the_template_is_a_valid_configuration() {
        let text = super::template("http://127.0.0.1:9", "client");
        let config = Config::parse(
            &text,
            Path::new("/tmp/demo/zuora-sync.toml"),
            Needs::NOTHING,
        )
        .expect("the template parses");
        assert_eq!(config.zuora.page_size, 99);
        assert_eq!(config.state.path, Path::new("/tmp/demo/checkpoint.db"));
        assert!(matches!(
            config.warehouse,
            WarehouseConfig::DuckDb { ref path, .. }
                if path == Path::new("/tmp/demo/warehouse.duckdb")
        ));
    }
}
