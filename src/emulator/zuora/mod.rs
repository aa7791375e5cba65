//! An emulated Zuora tenant on a loopback HTTP port: OAuth client credentials, the Describe API
//! and Object Query with keyset cursors and filters, over a seeded synthetic data set. Tests and
//! benchmarks start it in-process; `zuora-sync emulate zuora` serves it to other processes.
//!
//! It follows `reference/zuora-api.md` and refuses what it does not emulate (`expand[]`, unknown
//! parameters, by-key paths) with an error rather than a guess. The same seed and account count
//! always produce the same rows and the same pages.

mod auth;
mod catalog;
mod clock;
mod describe;
mod generate;
mod query;
mod server;
mod tenant;
mod value;

#[cfg(test)]
mod http_tests;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::StatusCode;
use chrono::{DateTime, TimeDelta, Utc};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use catalog::{FieldSpec, FieldType};
pub use value::{Record, Value};

use catalog::CATALOG;
use server::{Canned, Shared};
use tenant::parse_id;

/// What Object Query does with a `pageSize` outside 1..=99 (a missing one is always 10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InvalidPageSize {
    /// Serve 10 rows, as Zuora's pagination guide says it "typically" does.
    #[default]
    DefaultTo10,
    /// Answer 400, as Zuora's generic v1 documentation says.
    Reject,
}

/// How to start an emulator.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where to listen. Default `127.0.0.1:0`: loopback only, on a free port.
    pub listen: SocketAddr,
    /// Seeds the data, credentials and tokens. Default 1.
    pub seed: u64,
    /// Number of accounts; every other object scales with it. Default 100: every adversarial
    /// value is present from 10 accounts up, and 100 generate in milliseconds.
    pub accounts: usize,
    /// Lifetime of an access token. Default 3599 s, what Zuora issues.
    pub token_ttl: Duration,
    /// Default [`InvalidPageSize::DefaultTo10`], the documented behaviour.
    pub invalid_page_size: InvalidPageSize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            seed: 1,
            accounts: 100,
            token_ttl: Duration::from_secs(3599),
            invalid_page_size: InvalidPageSize::DefaultTo10,
        }
    }
}

/// One request as the emulator saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedRequest {
    pub method: String,
    pub path: String,
    /// The raw (still percent-encoded) query string, empty when there was none.
    pub query: String,
    pub status: u16,
}

/// A running emulator. Clones share the same tenant and server.
#[derive(Debug, Clone)]
pub struct Emulator {
    shared: Arc<Shared>,
    server: Arc<Mutex<Option<Server>>>,
}

#[derive(Debug)]
struct Server {
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Emulator {
    /// Generates the tenant, binds `options.listen` and serves on the current tokio runtime.
    /// Returns once the port accepts connections.
    pub async fn start(options: Options) -> std::io::Result<Emulator> {
        let listener = tokio::net::TcpListener::bind(options.listen).await?;
        let url = format!("http://{}", listener.local_addr()?);
        let (seed, accounts) = (options.seed, options.accounts);
        // Generation is CPU work that takes seconds at benchmark scale; keep it off the
        // runtime's worker threads.
        let tenant = tokio::task::spawn_blocking(move || generate::generate(seed, accounts))
            .await
            .map_err(std::io::Error::other)?;

        let clock = clock::Clock::starting_at(clock_start(tenant.latest_update()));
        let (client_id, client_secret) = generate::credentials(seed);
        let auth = auth::Auth::new(seed, client_id, client_secret, options.token_ttl);
        let shared = Arc::new(Shared::new(
            url,
            seed,
            options.invalid_page_size,
            tenant,
            clock,
            auth,
        ));

        let (stop, stopped) = oneshot::channel::<()>();
        let app = server::router(shared.clone());
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
        });
        let server = Arc::new(Mutex::new(Some(Server { stop, task })));
        Ok(Emulator { shared, server })
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn url(&self) -> String {
        self.shared.base_url.clone()
    }

    pub fn client_id(&self) -> &str {
        self.shared.auth.client_id()
    }

    pub fn client_secret(&self) -> &str {
        self.shared.auth.client_secret()
    }

    /// The Describe names of every object, in the order `GET /v1/describe` lists them.
    pub fn objects(&self) -> Vec<String> {
        CATALOG.objects.iter().map(|o| o.name.to_string()).collect()
    }

    /// The current rows of `object` (Describe name, any case), sorted by id.
    ///
    /// # Panics
    /// When the tenant has no such object.
    pub fn rows(&self, object: &str) -> Vec<Record> {
        let at = object_index(object);
        let def = &CATALOG.objects[at];
        let tenant = self.shared.tenant.read().expect("tenant lock");
        tenant.tables[at]
            .rows
            .values()
            .map(|row| row.record(def))
            .collect()
    }

    /// The number of rows of `object`, without copying them.
    ///
    /// # Panics
    /// When the tenant has no such object.
    pub fn row_count(&self, object: &str) -> usize {
        let at = object_index(object);
        self.shared.tenant.read().expect("tenant lock").tables[at].len()
    }

    /// The Describe fields of `object`, in Describe order.
    ///
    /// # Panics
    /// When the tenant has no such object.
    pub fn describe_fields(&self, object: &str) -> Vec<FieldSpec> {
        CATALOG.objects[object_index(object)]
            .fields
            .iter()
            .map(|f| f.spec())
            .collect()
    }

    /// The emulator's "now": real time since start, plus every [`Emulator::advance_clock`],
    /// never earlier than a second after the newest generated UpdatedDate.
    pub fn now(&self) -> DateTime<Utc> {
        self.shared.clock.now()
    }

    /// Moves the emulator clock forward, e.g. past a token's lifetime, without waiting.
    pub fn advance_clock(&self, by: Duration) {
        self.shared.clock.advance(by);
    }

    /// Every token issued so far is expired from now on; new ones can still be obtained.
    pub fn expire_tokens(&self) {
        self.shared.auth.expire_all(self.shared.clock.now());
    }

    /// Makes the record's JSON carry `json_key` with `raw_json` verbatim, for bad-input tests:
    /// a string in a decimal field, a malformed date, an unknown key. A known key (`balance`)
    /// replaces that field's text; any other key is added after the known ones and sent only
    /// when the request has no `fields[]`. The row keeps its place in the indexes, so paging
    /// and filters on Id, CreatedDate and UpdatedDate behave as before.
    ///
    /// # Panics
    /// When the object or the record does not exist.
    pub fn set_raw_value(&self, object: &str, id: &str, json_key: &str, raw_json: &str) {
        let at = object_index(object);
        let def = &CATALOG.objects[at];
        let key = parse_id(id).unwrap_or_else(|| panic!("'{id}' is not a 32-hex-digit id"));
        let mut tenant = self.shared.tenant.write().expect("tenant lock");
        let table = &mut tenant.tables[at];
        let row = table
            .rows
            .get(&key)
            .unwrap_or_else(|| panic!("{} has no id {id}", def.name));
        let row = match def.fields.iter().position(|f| f.json_key == json_key) {
            Some(field) => row.with_field_text(field, raw_json),
            None => row.with_extra_key(json_key, raw_json),
        };
        table.upsert(row);
    }

    /// The next Object Query request for `object` (Describe name, any case) is answered with
    /// exactly this status and body, after authentication; calls queue up in order.
    ///
    /// # Panics
    /// When the object does not exist or `status` is not an HTTP status code.
    pub fn fail_next_query(&self, object: &str, status: u16, raw_body: &str) {
        let at = object_index(object);
        let status = StatusCode::from_u16(status).expect("an HTTP status code");
        let canned = Canned {
            status,
            body: raw_body.to_string(),
        };
        let mut planted = self.shared.canned.lock().expect("canned lock");
        planted.entry(at).or_default().push_back(canned);
    }

    /// Every request served so far (the latest million), oldest first.
    pub fn request_log(&self) -> Vec<LoggedRequest> {
        self.shared
            .log
            .lock()
            .expect("log lock")
            .iter()
            .cloned()
            .collect()
    }

    /// Stops accepting connections and waits for requests in flight to finish.
    pub async fn shutdown(self) {
        let server = self.server.lock().expect("server lock").take();
        if let Some(Server { stop, task }) = server {
            let _ = stop.send(());
            let _ = task.await;
        }
    }
}

fn object_index(object: &str) -> usize {
    CATALOG
        .object(object)
        .unwrap_or_else(|| panic!("the emulated tenant has no object {object}"))
}

/// Real time in whole seconds, but after the newest generated row, so rows written later
/// always carry a newer UpdatedDate even on a machine whose clock is behind the data.
fn clock_start(latest_update: Option<i64>) -> DateTime<Utc> {
    let now = Utc::now();
    let now = now - TimeDelta::nanoseconds(i64::from(now.timestamp_subsec_nanos()));
    let after_data = latest_update.and_then(|s| DateTime::from_timestamp(s + 1, 0));
    after_data.map_or(now, |after| now.max(after))
}
