//! An emulated Zuora tenant on a loopback HTTP port: OAuth client credentials, the Describe API,
//! Object Query with keyset cursors and filters, and Data Query as a delete channel, over a
//! seeded synthetic data set. Tests and benchmarks start it in-process; `zuora-sync emulate
//! zuora` serves it to other processes.
//!
//! Time is the emulator's own clock: it stamps every response's `Date` and every change, and
//! tests move it instead of sleeping. The tenant changes on demand (inserts, updates with and
//! without an UpdatedDate bump, deletions, subscription amendments), optionally while clients
//! page and with a visibility delay; faults (429s, 5xx, timeouts, truncated transfers,
//! expiring tokens and cursors) are injected on demand and logged. Its schema drifts on demand
//! too: custom fields added, fields removed or retyped between two runs of a client.
//!
//! It follows `reference/zuora-api.md` and refuses what it does not emulate (`expand[]`, unknown
//! parameters, by-key paths, SQL beyond what a sync sends) with an error rather than a guess.
//! The same seeds, calls and requests always produce the same rows, pages and faults.

mod auth;
mod catalog;
mod clock;
mod cursors;
mod data_query;
mod describe;
mod drift;
mod faults;
mod generate;
mod mutate;
mod query;
mod server;
mod tenant;
mod value;

#[cfg(test)]
mod http_data_query_tests;
#[cfg(test)]
mod http_drift_tests;
#[cfg(test)]
mod http_fault_tests;
#[cfg(test)]
mod http_mutation_tests;
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
pub use faults::{Bursts, FaultKind, Faults, InjectedFault, Throttle};
pub use mutate::MutationReport;
pub use value::{Record, Value};

use catalog::CATALOG;
use mutate::Mutator;
use server::{Canned, Shared};
use tenant::{Tenant, format_id, parse_id};

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

    /// The current rows of `object` (Describe name, any case), sorted by id: every committed
    /// change included, also those that the visibility delay still hides from Object Query.
    ///
    /// # Panics
    /// When the tenant has no such object.
    pub fn rows(&self, object: &str) -> Vec<Record> {
        let at = object_index(object);
        let tenant = self.shared.tenant.read().expect("tenant lock");
        let def = &tenant.schema[at];
        let mut rows = Vec::with_capacity(tenant.current_len(at));
        tenant.for_each_current(at, |row| rows.push((row.id, row.record(def))));
        rows.sort_unstable_by_key(|&(id, _)| id);
        rows.into_iter().map(|(_, record)| record).collect()
    }

    /// The number of rows of `object`, as [`Emulator::rows`] counts them, without copying them.
    ///
    /// # Panics
    /// When the tenant has no such object.
    pub fn row_count(&self, object: &str) -> usize {
        let at = object_index(object);
        self.shared
            .tenant
            .read()
            .expect("tenant lock")
            .current_len(at)
    }

    /// The Describe fields of `object`, in Describe order, schema drift included.
    ///
    /// # Panics
    /// When the tenant has no such object.
    pub fn describe_fields(&self, object: &str) -> Vec<FieldSpec> {
        let at = object_index(object);
        let def = self.shared.tenant.read().expect("tenant lock").def(at);
        def.live_fields().map(|(_, f)| f.spec()).collect()
    }

    /// The emulator's "now": real time since start, plus every [`Emulator::advance_clock`] and
    /// [`Emulator::set_clock`], never earlier than a second after the newest generated
    /// UpdatedDate. Responses carry it in their `Date` header.
    pub fn now(&self) -> DateTime<Utc> {
        self.shared.clock.now()
    }

    /// Moves the emulator clock forward, e.g. past a token's lifetime, without waiting.
    pub fn advance_clock(&self, by: Duration) {
        self.shared.clock.advance(by);
    }

    /// Moves the emulator clock forward to `at`. The clock never goes back: an `at` that is not
    /// in the future changes nothing, as an earlier clock would stamp changes with
    /// UpdatedDates older than ones already served.
    pub fn set_clock(&self, at: DateTime<Utc>) {
        self.shared.clock.set(at);
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
        let key = parse_id(id).unwrap_or_else(|| panic!("'{id}' is not a 32-hex-digit id"));
        let mut tenant = self.shared.tenant.write().expect("tenant lock");
        let def = tenant.def(at);
        let field = def.live_fields().find(|(_, f)| f.json_key == json_key);
        let planted = tenant.rewrite(at, key, |row| match field {
            Some((field, _)) => row.with_field_text(field, raw_json),
            None => row.with_extra_key(json_key, raw_json),
        });
        drop(tenant);
        assert!(planted, "{} has no id {id}", def.name);
    }

    /// A random batch of `count` changes, all stamped now: inserted accounts with their
    /// children, field updates of any object (decimal edge values and unicode text included),
    /// unbumped updates, deletions of leaf rows and of whole accounts, and subscription
    /// amendments. The same seed on the same tenant makes the same changes.
    pub fn mutate(&self, seed: u64, count: usize) -> MutationReport {
        let mut rng = mutate::batch_rng(seed);
        self.shared.mutate(&mut rng, |m| m.random(count)).1
    }

    /// Inserts an account with contacts, subscriptions, rate plans, charges, invoices, items
    /// and payments, all created now; returns the account's id.
    pub fn insert_account(&self) -> String {
        let (id, _) = self.helper(|m| Ok(m.insert_account()));
        format_id(id)
    }

    /// Changes one to three fields of a row (Describe object name, any case) and moves its
    /// UpdatedDate to now.
    ///
    /// # Panics
    /// When the object or the row does not exist.
    pub fn update(&self, object: &str, id: &str) {
        let (object, id) = (object_index(object), id_of(id));
        self.helper(|m| m.update(object, id));
    }

    /// Changes a RatePlanCharge's ChargedThroughDate and ProcessedThroughDate, or an
    /// InvoiceItem's AccountingCode, without moving UpdatedDate, as Zuora does: only a client
    /// that re-reads history sees the change.
    ///
    /// # Panics
    /// When the row does not exist or is of another object.
    pub fn update_without_bump(&self, object: &str, id: &str) {
        let (object, id) = (object_index(object), id_of(id));
        self.helper(|m| m.update_without_bump(object, id));
    }

    /// Deletes a row and what points at it (an Account takes its whole tree; an Invoice its
    /// items; an InvoiceItem the discounts applied to it). Deleted rows vanish from Object
    /// Query and appear in [`Emulator::deleted_rows`] and Data Query's deleted rows; the
    /// report lists them all.
    ///
    /// # Panics
    /// When the row does not exist, is a Contact its account bills or sells to, or is not an
    /// Account, Contact, Invoice, InvoiceItem or Payment.
    pub fn delete(&self, object: &str, id: &str) -> MutationReport {
        let (object, id) = (object_index(object), id_of(id));
        self.helper(|m| m.delete(object, id)).1
    }

    /// Amends a subscription: a new version (new id, Version + 1, latest) with copies of the
    /// rate plans and charges, and the amended version `Expired` and no longer the latest.
    /// Returns the new version's id.
    ///
    /// # Panics
    /// When the subscription does not exist or is not the latest version.
    pub fn amend_subscription(&self, id: &str) -> String {
        let id = id_of(id);
        format_id(self.helper(|m| m.amend_subscription(id)).0)
    }

    /// Runs a fine-grained change on the helpers' own random stream; panics with the refusal,
    /// after the tenant lock is released.
    fn helper<T>(
        &self,
        change: impl FnOnce(&mut Mutator) -> Result<T, String>,
    ) -> (T, MutationReport) {
        let mut rng = self.shared.mutation_rng.lock().expect("mutation lock");
        let (result, report) = self.shared.mutate(&mut rng, change);
        drop(rng);
        match result {
            Ok(out) => (out, report),
            Err(refusal) => panic!("{refusal}"),
        }
    }

    /// Adds a custom field to `object` (Describe name, any case), as an admin does between two
    /// runs of a client. `name` ends in `__c`; `options` are a picklist's values and empty for
    /// any other type. Describe lists the field at once, after the others, with the `export`
    /// context; Object Query records carry it under its JSON key (`Tier__c` → `tier__c`) once
    /// a row has a value. Existing rows keep it null and keep their UpdatedDate, as in Zuora;
    /// rows inserted, or changed with a bump, from now on get a random value of its type
    /// (from the mutation's own random stream). Like a non-indexed custom field it cannot be
    /// filtered or sorted on.
    ///
    /// # Panics
    /// When the object does not exist, the name is not a custom field name or is already a
    /// field of the object, or the options do not fit the type.
    pub fn add_custom_field(
        &self,
        object: &str,
        name: &str,
        field_type: FieldType,
        options: Vec<String>,
    ) {
        let at = object_index(object);
        self.drift(|tenant| drift::add_custom_field(tenant, at, name, field_type, options));
    }

    /// Removes a field (Describe name or JSON key, any case) from `object`: Describe, Object
    /// Query, [`Emulator::rows`] and [`Emulator::deleted_rows`] stop showing it, and its
    /// values are dropped from every row. No UpdatedDate moves. Standard fields can go too,
    /// as feature-gated ones do; the emulator's own changes then find them null.
    ///
    /// # Panics
    /// When the object or the field does not exist, or the field is Id, CreatedDate or
    /// UpdatedDate.
    pub fn remove_field(&self, object: &str, name: &str) {
        let at = object_index(object);
        self.drift(|tenant| drift::remove_field(tenant, at, name));
    }

    /// Gives a field of `object` another type. Describe reports the new type; every stored
    /// value is rewritten in the new type's wire format where it fits (a decimal becomes text
    /// with the same digits, `"42"` an integer, a datetime its day) and dropped where it does
    /// not. A field that becomes a picklist takes its distinct values as options. No
    /// UpdatedDate moves.
    ///
    /// # Panics
    /// When the object or the field does not exist, or the field is Id, CreatedDate or
    /// UpdatedDate.
    pub fn change_field_type(&self, object: &str, name: &str, field_type: FieldType) {
        let at = object_index(object);
        self.drift(|tenant| drift::change_field_type(tenant, at, name, field_type));
    }

    /// Applies a schema change; panics with the refusal, after the tenant lock is released.
    fn drift(&self, change: impl FnOnce(&mut Tenant) -> Result<(), String>) {
        let mut tenant = self.shared.tenant.write().expect("tenant lock");
        let result = change(&mut tenant);
        drop(tenant);
        if let Err(refusal) = result {
            panic!("{refusal}");
        }
    }

    /// Every deleted row of `object` with its last values and when it was deleted, oldest
    /// deletion first.
    ///
    /// # Panics
    /// When the tenant has no such object.
    pub fn deleted_rows(&self, object: &str) -> Vec<(Record, DateTime<Utc>)> {
        let at = object_index(object);
        let tenant = self.shared.tenant.read().expect("tenant lock");
        let def = &tenant.schema[at];
        let deleted = tenant.deleted(at).iter();
        deleted.map(|d| (d.row.record(def), d.at)).collect()
    }

    /// From now on, a change committed at `t` reaches Object Query and Data Query only when
    /// the emulator clock reaches `t + delay`; until then they serve the row's previous
    /// version, or nothing for an insert. Zero (the default) makes changes visible at once.
    pub fn set_visibility_delay(&self, delay: Duration) {
        let delay = TimeDelta::from_std(delay).unwrap_or(TimeDelta::MAX);
        let mut tenant = self.shared.tenant.write().expect("tenant lock");
        tenant.set_visibility_delay(delay);
        tenant.settle(self.shared.clock.now());
    }

    /// Every `every_n_pages`-th Object Query request first applies a random batch of `count`
    /// changes (as [`Emulator::mutate`], seeded from `seed` and the batch number), so rows
    /// move past cursors while a client pages. Zero turns it off.
    pub fn mutate_during_scans(&self, every_n_pages: usize, seed: u64, count: usize) {
        let mut scans = self.shared.scans.lock().expect("scan lock");
        scans.every = every_n_pages;
        (scans.seed, scans.count, scans.pages) = (seed, count, 0);
    }

    /// The batches applied during scans so far, oldest first.
    pub fn scan_mutations(&self) -> Vec<MutationReport> {
        self.shared.scans.lock().expect("scan lock").reports.clone()
    }

    /// Replaces the injected faults; `Faults::default()` injects none. Counters restart.
    pub fn set_faults(&self, faults: Faults) {
        self.shared.faults.set(faults);
    }

    /// Every fault injected so far (the latest million), oldest first.
    pub fn fault_log(&self) -> Vec<InjectedFault> {
        self.shared.faults.log()
    }

    /// Every Object Query cursor handed out so far is refused from now on, with a 400.
    pub fn expire_cursors(&self) {
        let now = self.shared.clock.now();
        self.shared
            .cursors
            .lock()
            .expect("cursor lock")
            .expire_all(now);
    }

    /// Data Query jobs submitted from now on show `completed` on poll `polls + 1` (default
    /// 2: `submitted`, `in_progress`, then `completed`).
    pub fn set_data_query_polls(&self, polls: usize) {
        let mut jobs = self.shared.jobs.lock().expect("job lock");
        jobs.set_polls_before_done(polls);
    }

    /// API requests arriving while the hold lives are admitted (counted in flight, checked
    /// against limits and tokens) and then wait until it is dropped, so a test can have a
    /// known number of requests in flight without sleeping.
    pub fn hold_requests(&self) -> RequestHold {
        self.shared.holds.send_modify(|holds| *holds += 1);
        RequestHold {
            shared: self.shared.clone(),
        }
    }

    /// Waits until at least `count` API requests are in flight.
    pub async fn wait_until_in_flight(&self, count: usize) {
        let mut in_flight = self.shared.in_flight.subscribe();
        let _ = in_flight.wait_for(|&running| running >= count).await;
    }

    /// The next Object Query request for `object` (Describe name, any case) is answered with
    /// exactly this status and body, after authentication; calls queue up in order.
    ///
    /// # Panics
    /// When the object does not exist or `status` is not an HTTP status code.
    pub fn fail_next_query(&self, object: &str, status: u16, raw_body: &str) {
        self.fail_next_query_bytes(object, status, raw_body.as_bytes());
    }

    /// [`Emulator::fail_next_query`] with a body of any bytes, UTF-8 or not.
    ///
    /// # Panics
    /// When the object does not exist or `status` is not an HTTP status code.
    pub fn fail_next_query_bytes(&self, object: &str, status: u16, raw_body: &[u8]) {
        let at = object_index(object);
        let status = StatusCode::from_u16(status).expect("an HTTP status code");
        let canned = Canned {
            status,
            body: raw_body.to_vec(),
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

/// Held API requests wait while this lives; see [`Emulator::hold_requests`].
#[derive(Debug)]
#[must_use = "requests are held only while the hold lives"]
pub struct RequestHold {
    shared: Arc<Shared>,
}

impl Drop for RequestHold {
    fn drop(&mut self) {
        self.shared.holds.send_modify(|holds| *holds -= 1);
    }
}

fn id_of(id: &str) -> u128 {
    parse_id(id).unwrap_or_else(|| panic!("'{id}' is not a 32-hex-digit id"))
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
