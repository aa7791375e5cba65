//! The synthetic tenant: a product catalog and, per account, contacts, versioned subscriptions
//! with rate plans and charges, invoices with items and payments, every foreign key pointing at
//! a row that exists. The same seed and account count always give the same rows, byte for byte:
//! one ChaCha8 stream drawn in a fixed order, and ordered maps only.
//!
//! Distributions are plausible rather than measured (mostly USD, mostly Active and Posted,
//! amounts with cents, timestamps in whole seconds from 2023-01-01 to 2026-06-30). The first ten
//! accounts also carry the values that break careless clients, so every tenant of ten accounts
//! or more has them:
//!
//! - account 0: a name with `é`, double quotes and a comma, and a bill-run invoice of 160–199
//!   items that all share one UpdatedDate second, so the tie spans several 99-row pages;
//! - account 1: every optional field null, and no children;
//! - account 2: a name with `東京` and `🚀`;
//! - account 3: a contact address with a newline, a tab, quotes and a backslash;
//! - account 4: a subscription CMRR and an account Mrr of `299.9`;
//! - account 5: an invoice item with UnitPrice `0.1`, Quantity `1e-9` and ChargeAmount `0`;
//! - account 6: a discount item with a negative amount, an invoice AdjustmentAmount of `-25.5`;
//! - account 7: an invoice Amount of `12345678901234567890.123456789`;
//! - account 8: an account Balance of `-120.75` (a credit).
//!
//! Product 1's description carries the same mix of awkward characters at any scale.

use chrono::{DateTime, Days, Months, NaiveDate};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::catalog::{CATALOG, ID};
use super::tenant::{Tenant, format_id};
use super::value::Value;

/// 2023-01-01T00:00:00Z and 2026-06-30T23:59:59Z: the span every generated timestamp lies in.
const START: i64 = 1_672_531_200;
const END: i64 = 1_782_863_999;
const DAY: i64 = 86_400;
/// Accounts are opened early enough that their subscriptions and invoices fit before `END`.
const LAST_ACCOUNT_OPENED: i64 = END - 90 * DAY;

const BULK_ACCOUNT: usize = 0;
const BARE_ACCOUNT: usize = 1;
const UNICODE_ACCOUNT: usize = 2;
const ADDRESS_ACCOUNT: usize = 3;
const MRR_ACCOUNT: usize = 4;
const TINY_AMOUNT_ACCOUNT: usize = 5;
const NEGATIVE_ACCOUNT: usize = 6;
const HUGE_AMOUNT_ACCOUNT: usize = 7;
const CREDIT_ACCOUNT: usize = 8;

/// The position given to the crowded bill-run invoice, after the account's ordinary ones.
const BILL_RUN_INVOICE: usize = usize::MAX;

const AWKWARD_TEXT: &str =
    "Line one: \"quoted\", comma\nLine two:\ttab, back\\slash, café, 東京, 🚀";

/// Builds the tenant for `seed` and `accounts`.
pub(crate) fn generate(seed: u64, accounts: usize) -> Tenant {
    let mut generator = Generator::new(seed);
    generator.catalog(accounts);
    for index in 0..accounts {
        generator.account(index);
    }
    generator.tenant.next_number = generator.next_number;
    generator.tenant.next_account = accounts as u64 + 1;
    generator.tenant
}

/// The client credentials of the tenant for `seed`: a 36-character id and a 40-character
/// secret, the lengths Zuora issues.
pub(crate) fn credentials(seed: u64) -> (String, String) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed_c0de_c1e7_0001);
    let id = uuid(rng.random());
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let secret = (0..40)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect();
    (id, secret)
}

pub(crate) use crate::emulator::uuid;

/// The ids of the users that create and update rows: the first draws of the seed's stream, so
/// later mutations are made by the same users as the generated history.
pub(super) fn users(seed: u64) -> Vec<String> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..6).map(|_| format_id(rng.random())).collect()
}

/// Catalog positions of the objects, looked up once.
#[derive(Clone, Copy)]
pub(super) struct Objects {
    pub account: usize,
    pub contact: usize,
    pub product: usize,
    pub product_rate_plan: usize,
    pub product_rate_plan_charge: usize,
    pub subscription: usize,
    pub rate_plan: usize,
    pub rate_plan_charge: usize,
    pub invoice: usize,
    pub invoice_item: usize,
    pub payment: usize,
}

impl Objects {
    pub fn find() -> Objects {
        let at = |name| CATALOG.index(name);
        Objects {
            account: at("Account"),
            contact: at("Contact"),
            product: at("Product"),
            product_rate_plan: at("ProductRatePlan"),
            product_rate_plan_charge: at("ProductRatePlanCharge"),
            subscription: at("Subscription"),
            rate_plan: at("RatePlan"),
            rate_plan_charge: at("RatePlanCharge"),
            invoice: at("Invoice"),
            invoice_item: at("InvoiceItem"),
            payment: at("Payment"),
        }
    }
}

/// The values of one row under construction, set by Describe name.
pub(super) struct Draft {
    pub object: usize,
    pub values: Vec<Option<Value>>,
}

impl Draft {
    /// A row of `object` with every field null.
    pub fn new(object: usize) -> Draft {
        let values = vec![None; CATALOG.objects[object].fields.len()];
        Draft { object, values }
    }

    pub fn set(&mut self, field: &str, value: Value) -> &mut Self {
        let at = CATALOG.objects[self.object].position(field);
        self.values[at] = Some(value);
        self
    }

    pub fn text(&mut self, field: &str, text: impl Into<String>) -> &mut Self {
        self.set(field, Value::Text(text.into()))
    }

    pub fn maybe_text(&mut self, field: &str, text: Option<impl Into<String>>) -> &mut Self {
        match text {
            Some(text) => self.text(field, text),
            None => self,
        }
    }

    pub fn id(&mut self, field: &str, id: u128) -> &mut Self {
        self.text(field, format_id(id))
    }

    pub fn decimal(&mut self, field: &str, text: impl Into<String>) -> &mut Self {
        self.set(field, Value::Decimal(text.into()))
    }

    pub fn money(&mut self, field: &str, minor: i64, currency: &str) -> &mut Self {
        self.decimal(field, money_text(minor, currency))
    }

    pub fn date(&mut self, field: &str, date: NaiveDate) -> &mut Self {
        self.set(field, Value::Date(date))
    }

    pub fn time(&mut self, field: &str, seconds: i64) -> &mut Self {
        self.set(field, Value::DateTime(datetime(seconds)))
    }
}

/// Renders minor currency units the way Zuora's JSON writer renders amounts: trailing zeros
/// dropped but one fractional digit kept (`299.9`, `0.0`, `123.45`). Yen have no minor unit.
pub(super) fn money_text(minor: i64, currency: &str) -> String {
    if currency == "JPY" {
        return format!("{minor}.0");
    }
    let sign = if minor < 0 { "-" } else { "" };
    let (whole, cents) = (minor.unsigned_abs() / 100, minor.unsigned_abs() % 100);
    if cents % 10 == 0 {
        format!("{sign}{whole}.{}", cents / 10)
    } else {
        format!("{sign}{whole}.{cents:02}")
    }
}

/// A quantity held in tenths, as decimal text (`12.5`, `3.0`).
pub(super) fn tenths_text(tenths: i64) -> String {
    format!("{}.{}", tenths / 10, tenths % 10)
}

/// A US-cent list price in the account's currency, in its minor units.
pub(super) fn local_minor(usd_cents: i64, currency: &str) -> i64 {
    match currency {
        "EUR" => usd_cents * 92 / 100,
        "GBP" => usd_cents * 79 / 100,
        "CAD" => usd_cents * 136 / 100,
        "JPY" => usd_cents * 150 / 100,
        _ => usd_cents,
    }
}

fn datetime(seconds: i64) -> DateTime<chrono::Utc> {
    DateTime::from_timestamp(seconds, 0).expect("generated timestamps are in range")
}

fn date_of(seconds: i64) -> NaiveDate {
    datetime(seconds).date_naive()
}

fn midnight(date: NaiveDate) -> i64 {
    date.and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_utc()
        .timestamp()
}

pub(super) fn plus_days(date: NaiveDate, days: u64) -> NaiveDate {
    date.checked_add_days(Days::new(days))
        .expect("generated dates are in range")
}

pub(super) fn plus_months(date: NaiveDate, months: u32) -> NaiveDate {
    date.checked_add_months(Months::new(months))
        .expect("generated dates are in range")
}

pub(super) fn months_in(period: &str) -> i64 {
    match period {
        "Quarter" => 3,
        "Annual" => 12,
        _ => 1,
    }
}

/// A charge of the product catalog, as subscriptions and invoice items copy it.
struct CatalogCharge {
    id: u128,
    name: String,
    charge_type: &'static str,
    model: &'static str,
    period: Option<&'static str>,
    uom: Option<&'static str>,
    usd_cents: i64,
    taxable: bool,
    trigger: &'static str,
    accounting_code: Option<&'static str>,
}

struct CatalogPlan {
    id: u128,
    product_id: u128,
    name: String,
    sku: String,
    charges: Vec<CatalogCharge>,
}

/// A subscription charge that invoice items can bill.
struct BillableCharge {
    subscription_id: u128,
    subscription_number: String,
    id: u128,
    product_charge_id: u128,
    name: String,
    number: String,
    uom: Option<&'static str>,
    sku: String,
    unit_minor: i64,
    quantity_tenths: Option<i64>,
    taxable: bool,
    accounting_code: Option<&'static str>,
    period: Option<&'static str>,
}

/// What an account's children add up to, for the account's own fields.
#[derive(Default)]
struct Totals {
    balance: i64,
    unapplied: i64,
    mrr: i64,
    last_invoice: Option<NaiveDate>,
    last_activity: i64,
}

struct AccountInfo {
    index: usize,
    id: u128,
    opened: i64,
    currency: &'static str,
    batch: usize,
    payment_method: Option<u128>,
}

struct Generator {
    rng: ChaCha8Rng,
    tenant: Tenant,
    objects: Objects,
    users: Vec<String>,
    plans: Vec<CatalogPlan>,
    /// Ids of the accounts generated so far, by index, for parent links.
    account_ids: Vec<u128>,
    next_number: u64,
}

impl Generator {
    fn new(seed: u64) -> Generator {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        // The same draws as `users(seed)`, so both name the same users.
        let users = (0..6).map(|_| format_id(rng.random())).collect();
        Generator {
            rng,
            tenant: Tenant::empty(),
            objects: Objects::find(),
            users,
            plans: Vec::new(),
            account_ids: Vec::new(),
            next_number: 1,
        }
    }

    fn number(&mut self, prefix: &str) -> String {
        let n = self.next_number;
        self.next_number += 1;
        format!("{prefix}{n:08}")
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p)
    }

    fn between(&mut self, low: i64, high: i64) -> i64 {
        if high <= low {
            low
        } else {
            self.rng.random_range(low..=high)
        }
    }

    /// One of `choices`, drawn with the given integer weights.
    fn pick<T: Copy>(&mut self, choices: &[(T, u32)]) -> T {
        crate::emulator::pick_weighted(&mut self.rng, choices)
    }

    fn user(&mut self) -> String {
        self.users[self.rng.random_range(0..self.users.len())].clone()
    }

    fn one_of<T: Copy>(&mut self, choices: &[T]) -> T {
        choices[self.rng.random_range(0..choices.len())]
    }

    /// A new row with a fresh id, its audit fields set.
    fn draft(&mut self, object: usize, created: i64, updated: i64) -> (u128, Draft) {
        debug_assert!(created <= updated && updated <= END, "{created} {updated}");
        let id: u128 = self.rng.random();
        let def = &CATALOG.objects[object];
        let mut values = vec![None; def.fields.len()];
        values[ID] = Some(Value::Text(format_id(id)));
        let mut draft = Draft { object, values };
        let (creator, updater) = (self.user(), self.user());
        draft
            .text("CreatedById", creator)
            .text("UpdatedById", updater)
            .time("CreatedDate", created)
            .time("UpdatedDate", updated);
        (id, draft)
    }

    fn store(&mut self, draft: Draft) {
        self.tenant.insert(draft.object, &draft.values);
    }

    /// Some time after `at` and never after `END`: often the same second, as a row that was
    /// created and never touched again.
    fn later(&mut self, at: i64, max_days: i64) -> i64 {
        if self.chance(0.4) {
            at
        } else {
            self.between(at, (at + max_days * DAY).min(END))
        }
    }

    fn catalog(&mut self, accounts: usize) {
        const NAMES: &[&str] = &[
            "Analytics Cloud",
            "Billing Engine",
            "Data Warehouse",
            "Support Desk",
            "Identity Vault",
            "Edge Network",
            "Mobile SDK",
            "Observability Suite",
        ];
        for index in 0..(accounts / 50).max(4) {
            let name = match NAMES.get(index) {
                Some(name) => (*name).to_string(),
                None => format!("{} {}", NAMES[index % NAMES.len()], index / NAMES.len() + 1),
            };
            self.product(index, name);
        }
    }

    fn product(&mut self, index: usize, name: String) {
        let created = self.between(START, START + 90 * DAY);
        let updated = self.later(created, 500);
        let (id, mut row) = self.draft(self.objects.product, created, updated);
        let sku = self.number("SKU-");
        let category = self.pick(&[
            ("Base Products", 6),
            ("Add On Services", 3),
            ("Miscellaneous Products", 1),
        ]);
        let starts = date_of(created);
        row.text("Name", name.clone())
            .text("SKU", sku.clone())
            .text("ProductNumber", self.number("PC-"))
            .text("Category", category)
            .date("EffectiveStartDate", starts)
            .set("AllowFeatureChanges", Value::Boolean(self.chance(0.3)));
        if self.chance(0.3) {
            row.date(
                "EffectiveEndDate",
                plus_days(starts, self.between(700, 1200) as u64),
            );
        }
        let description = match index {
            1 => Some(AWKWARD_TEXT.to_string()),
            _ if self.chance(0.7) => Some(format!("{name} for teams of every size.")),
            _ => None,
        };
        row.maybe_text("Description", description);
        self.store(row);

        for _ in 0..self.between(1, 3) {
            self.product_rate_plan(id, &name, &sku, starts, created);
        }
    }

    fn product_rate_plan(
        &mut self,
        product_id: u128,
        product: &str,
        sku: &str,
        starts: NaiveDate,
        product_created: i64,
    ) {
        let created = self.between(product_created, product_created + 30 * DAY);
        let updated = self.later(created, 400);
        let (id, mut row) = self.draft(self.objects.product_rate_plan, created, updated);
        let edition = self.one_of(&["Monthly", "Annual", "Enterprise", "Starter"]);
        let name = format!("{product} {edition}");
        row.id("ProductId", product_id)
            .text("Name", name.clone())
            .text("ProductRatePlanNumber", self.number("PRP-"))
            .date("EffectiveStartDate", starts)
            .text("ActiveCurrencies", "USD,EUR,GBP,CAD,JPY");
        if self.chance(0.6) {
            row.set("Grade", Value::Integer(self.between(1, 3)));
        }
        if self.chance(0.2) {
            row.date(
                "EffectiveEndDate",
                plus_days(starts, self.between(500, 1200) as u64),
            );
        }
        self.store(row);

        let charges = (0..self.between(1, 3)).map(|_| self.product_rate_plan_charge(id, created));
        let charges = charges.collect();
        let sku = sku.to_string();
        self.plans.push(CatalogPlan {
            id,
            product_id,
            name,
            sku,
            charges,
        });
    }

    fn product_rate_plan_charge(&mut self, plan_id: u128, plan_created: i64) -> CatalogCharge {
        let created = self.between(plan_created, plan_created + 3600);
        let updated = self.later(created, 400);
        let (id, mut row) = self.draft(self.objects.product_rate_plan_charge, created, updated);
        let charge_type = self.pick(&[("Recurring", 7), ("OneTime", 2), ("Usage", 2)]);
        let model = match charge_type {
            "Usage" => self.one_of(&["Per Unit Pricing", "Tiered Pricing", "Volume Pricing"]),
            "OneTime" => "Flat Fee Pricing",
            _ => self.pick(&[
                ("Flat Fee Pricing", 4),
                ("Per Unit Pricing", 4),
                ("Tiered Pricing", 1),
            ]),
        };
        let period = match charge_type {
            "OneTime" => None,
            "Usage" => Some("Month"),
            _ => Some(self.pick(&[("Month", 6), ("Quarter", 1), ("Annual", 3)])),
        };
        let uom = match (charge_type, model) {
            ("Usage", _) => Some(self.one_of(&["API Call", "GB", "Minute"])),
            (_, "Flat Fee Pricing") => None,
            _ => Some(self.one_of(&["Seat", "Each", "License"])),
        };
        let name = match charge_type {
            "OneTime" => "Setup Fee",
            "Usage" => "Usage Overage",
            _ if model == "Flat Fee Pricing" => "Platform Fee",
            _ => "Per Seat Fee",
        };
        let usd_cents = match charge_type {
            "Usage" => self.between(1, 50),
            _ => self.between(5, 2_000) * 100 - self.one_of(&[0, 1, 5, 25]),
        };
        let taxable = self.chance(0.6);
        let trigger = self.pick(&[
            ("ContractEffective", 8),
            ("ServiceActivation", 1),
            ("CustomerAcceptance", 1),
        ]);
        let accounting_code = self.chance(0.7).then_some("4000 Subscription Revenue");

        row.id("ProductRatePlanId", plan_id)
            .text("Name", name)
            .text("ChargeType", charge_type)
            .text("ChargeModel", model)
            .maybe_text("BillingPeriod", period)
            .maybe_text("UOM", uom)
            .set("Taxable", Value::Boolean(taxable))
            .text("TriggerEvent", trigger)
            .text("ProductRatePlanChargeNumber", self.number("PRPC-"));
        if charge_type != "Usage" {
            row.decimal(
                "DefaultQuantity",
                if uom.is_some() { "10.0" } else { "1.0" },
            );
        }
        if taxable {
            row.text("TaxCode", "SaaS").text(
                "TaxMode",
                self.pick(&[("TaxExclusive", 4), ("TaxInclusive", 1)]),
            );
        }
        if model == "Per Unit Pricing" && self.chance(0.3) {
            row.text("Formula", "quantity * listPrice");
        }
        self.store(row);
        let name = name.to_string();
        CatalogCharge {
            id,
            name,
            charge_type,
            model,
            period,
            uom,
            usd_cents,
            taxable,
            trigger,
            accounting_code,
        }
    }

    fn account(&mut self, index: usize) {
        let opened = self.between(START, LAST_ACCOUNT_OPENED);
        let currency = match index {
            MRR_ACCOUNT => "USD",
            _ => self.pick(&[("USD", 70), ("EUR", 12), ("GBP", 8), ("CAD", 6), ("JPY", 4)]),
        };
        let info = AccountInfo {
            index,
            id: self.rng.random(),
            opened,
            currency,
            batch: self.pick(&[(1, 12), (2, 3), (3, 2), (4, 1), (5, 1)]),
            payment_method: self.chance(0.8).then(|| self.rng.random()),
        };

        let mut totals = Totals {
            last_activity: opened,
            ..Totals::default()
        };
        if index != BARE_ACCOUNT {
            let contacts: Vec<u128> = (0..self.between(1, 2))
                .map(|n| self.contact(&info, n))
                .collect();
            let charges = self.subscriptions(&info, &mut totals);
            self.invoices(&info, &charges, &mut totals);
            self.account_row(&info, &contacts, &totals);
        } else {
            self.account_row(&info, &[], &totals);
        }
        self.account_ids.push(info.id);
    }

    /// 1–6 invoices over the account's life, plus the crowded bill-run invoice on one account.
    fn invoices(&mut self, info: &AccountInfo, charges: &[BillableCharge], totals: &mut Totals) {
        let count = self.between(1, 6);
        let mut dates: Vec<NaiveDate> = (0..count).map(|_| self.invoice_date(info)).collect();
        dates.sort_unstable();
        for (n, date) in dates.into_iter().enumerate() {
            let mut items = self.between(1, 5) as usize;
            if info.index == NEGATIVE_ACCOUNT && n == 0 {
                // The discount line needs a charge line before it.
                items = items.max(2);
            }
            self.invoice(info, n, date, items, charges, totals);
        }
        if info.index == BULK_ACCOUNT {
            let date = self.invoice_date(info);
            let items = self.between(160, 199) as usize;
            self.invoice(info, BILL_RUN_INVOICE, date, items, charges, totals);
        }
    }

    fn contact(&mut self, account: &AccountInfo, n: i64) -> u128 {
        const FIRST: &[&str] = &[
            "Amy", "Bella", "Carlos", "Dmitri", "Élodie", "Fatima", "Giulia", "Hiro", "Ingrid",
            "José", "Kwame", "Li", "Mateo", "Noor", "Olga", "Priya", "Søren", "Zoë",
        ];
        const LAST: &[&str] = &[
            "Smith",
            "García",
            "Müller",
            "Nakamura",
            "O'Brien",
            "Kowalski",
            "Nguyen",
            "Johansson",
            "Okafor",
            "Rossi",
            "Dubois",
            "Patel",
        ];
        let created = account.opened + n * 7;
        let updated = self.later(created, 300);
        let (id, mut row) = self.draft(self.objects.contact, created, updated);
        let (city, state, postal, country) = match account.currency {
            "EUR" => self.one_of(&[
                ("Berlin", None, "10115", "Germany"),
                ("Paris", None, "75002", "France"),
            ]),
            "GBP" => ("London", None, "EC1A 1BB", "United Kingdom"),
            "CAD" => ("Toronto", Some("ON"), "M5H 2N2", "Canada"),
            "JPY" => ("東京", None, "100-0005", "Japan"),
            _ => self.one_of(&[
                ("San Francisco", Some("CA"), "94105", "United States"),
                ("New York", Some("NY"), "10001", "United States"),
                ("Austin", Some("TX"), "78701", "United States"),
            ]),
        };
        let number = self.between(1, 999);
        row.id("AccountId", account.id)
            .text("FirstName", self.one_of(FIRST))
            .text("LastName", self.one_of(LAST))
            .text(
                "WorkEmail",
                format!("contact{}.{n}@example.com", account.index),
            )
            .text("Address1", format!("{number} Market Street"))
            .text("City", city)
            .maybe_text("State", state)
            .text("PostalCode", postal)
            .text("Country", country)
            .text(
                "WorkPhone",
                format!("+1 415 555 {:04}", self.between(0, 9999)),
            );
        if self.chance(0.3) {
            row.text(
                "PersonalEmail",
                format!("home{}@example.org", account.index),
            );
        }
        if self.chance(0.2) {
            row.text("Address2", format!("Floor {}", self.between(2, 40)));
        }
        if self.chance(0.1) {
            row.text("Fax", "+1 415 555 0100");
        }
        if country == "United States" && self.chance(0.5) {
            row.text("County", "County of the City")
                .text("TaxRegion", format!("US-{}", state.unwrap_or("")));
        }
        if account.index == ADDRESS_ACCOUNT && n == 0 {
            row.text("Address1", "12 Main St\nSuite \"400\"")
                .text("Address2", "Bldg\tC, back\\door")
                .text("City", "Saint-Étienne");
        }
        self.store(row);
        id
    }

    /// The account's subscriptions, each possibly amended once; returns the charges of the
    /// latest versions, which invoices bill.
    fn subscriptions(&mut self, account: &AccountInfo, totals: &mut Totals) -> Vec<BillableCharge> {
        let count = match account.index {
            MRR_ACCOUNT => 1,
            _ => self.pick(&[(0, 2), (1, 5), (2, 2), (3, 1)]),
        };
        let mut charges = Vec::new();
        for _ in 0..count {
            self.subscription(account, totals, &mut charges);
        }
        charges
    }

    fn subscription(
        &mut self,
        account: &AccountInfo,
        totals: &mut Totals,
        charges: &mut Vec<BillableCharge>,
    ) {
        let first_created = self.between(account.opened, account.opened + 60 * DAY);
        let name = self.number("A-S");
        let term_type = self.pick(&[("TERMED", 4), ("EVERGREEN", 1)]);
        let term = self.pick(&[(12, 6), (24, 2), (36, 1)]);
        let starts = plus_days(date_of(first_created), self.between(0, 10) as u64);
        let amended = self.chance(0.3);
        let latest_created = match amended {
            true => self.between(
                first_created + 30 * DAY,
                (first_created + 400 * DAY).min(END - DAY),
            ),
            false => first_created,
        };
        let status = match account.index {
            MRR_ACCOUNT => "Active",
            _ => self.pick(&[
                ("Active", 78),
                ("Cancelled", 10),
                ("Suspended", 5),
                ("Draft", 4),
                ("Expired", 3),
            ]),
        };

        let terms = Terms {
            name: &name,
            starts,
            term_type,
            term,
            original_created: first_created,
        };
        let plan_count = self.between(1, 2);
        let (latest_id, mut latest) =
            self.draft(self.objects.subscription, latest_created, latest_created);
        let mut cmrr = 0;
        let mut billable = Vec::new();
        for _ in 0..plan_count {
            let version = if amended { 2 } else { 1 };
            let plan = RatePlanContext {
                subscription_id: latest_id,
                subscription_number: &name,
                created: latest_created,
                starts,
                term_months: (term_type == "TERMED").then_some(term),
                version,
            };
            cmrr += self.rate_plan(account, &plan, &mut billable);
        }
        if account.index == MRR_ACCOUNT {
            cmrr = 29_990;
        }

        let original_id = if amended {
            let (first_id, mut first) =
                self.draft(self.objects.subscription, first_created, latest_created);
            self.subscription_fields(&mut first, account, &terms);
            first
                .id("OriginalId", first_id)
                .set("Version", Value::Integer(1))
                .set("IsLatestVersion", Value::Boolean(false))
                .text("Status", "Expired")
                .money("CMRR", cmrr, account.currency);
            self.store(first);
            latest
                .id("PreviousSubscriptionId", first_id)
                .set("Version", Value::Integer(2));
            first_id
        } else {
            latest.set("Version", Value::Integer(1));
            latest_id
        };

        self.subscription_fields(&mut latest, account, &terms);
        latest
            .id("OriginalId", original_id)
            .set("IsLatestVersion", Value::Boolean(true))
            .text("Status", status)
            .money("CMRR", cmrr, account.currency);
        let touched = self.later(latest_created, 200);
        latest.time("UpdatedDate", touched);
        if status == "Cancelled" {
            let cancelled = plus_days(starts, self.between(30, 400) as u64).min(date_of(END));
            latest
                .date("CancelledDate", cancelled)
                .date("SubscriptionEndDate", cancelled);
        }
        self.store(latest);

        if status == "Active" {
            totals.mrr += cmrr;
        }
        totals.last_activity = totals.last_activity.max(touched);
        if status != "Draft" {
            charges.extend(billable);
        }
    }

    /// The fields every version of a subscription repeats.
    fn subscription_fields(&mut self, row: &mut Draft, account: &AccountInfo, terms: &Terms) {
        let Terms {
            name,
            starts,
            term_type,
            term,
            original_created,
        } = *terms;
        row.text("Name", name)
            .id("AccountId", account.id)
            .id("InvoiceOwnerId", account.id)
            .text("TermType", term_type)
            .set("AutoRenew", Value::Boolean(self.chance(0.7)))
            .date("SubscriptionStartDate", starts)
            .date("TermStartDate", starts)
            .date("ContractEffectiveDate", starts)
            .date("ServiceActivationDate", starts)
            .text("Currency", account.currency)
            .time("OriginalCreatedDate", original_created);
        if term_type == "TERMED" {
            let ends = plus_months(starts, term);
            row.set("InitialTerm", Value::Integer(term.into()))
                .set("CurrentTerm", Value::Integer(term.into()))
                .set("RenewalTerm", Value::Integer(12))
                .date("TermEndDate", ends)
                .date("SubscriptionEndDate", ends);
        }
        if self.chance(0.4) {
            row.text(
                "QuoteNumber__QT",
                format!("Q-{:05}", self.between(1, 99_999)),
            )
            .date(
                "OpportunityCloseDate__QT",
                starts - Days::new(self.between(1, 30) as u64),
            );
        }
        if self.chance(0.1) {
            row.text("Notes", "Renewal negotiated by the account team.");
        }
    }

    /// One rate plan of a subscription and its charges; returns the plan's monthly recurring
    /// revenue in minor units.
    fn rate_plan(
        &mut self,
        account: &AccountInfo,
        context: &RatePlanContext,
        billable: &mut Vec<BillableCharge>,
    ) -> i64 {
        let plan_index = self.rng.random_range(0..self.plans.len());
        let created = context.created;
        let updated = self.later(created, 30);
        let (id, mut row) = self.draft(self.objects.rate_plan, created, updated);
        let (plan_id, product_id) = (self.plans[plan_index].id, self.plans[plan_index].product_id);
        row.id("SubscriptionId", context.subscription_id)
            .id("ProductRatePlanId", plan_id)
            .id("ProductId", product_id)
            .text("Name", self.plans[plan_index].name.clone())
            .text("SubscriptionRatePlanNumber", self.number("SRP-"))
            .set("Reverted", Value::Boolean(false));
        if context.version > 1 {
            row.text(
                "AmendmentType",
                self.pick(&[("UpdateProduct", 2), ("NewProduct", 1)]),
            );
        }
        self.store(row);

        let mut mrr = 0;
        for charge_index in 0..self.plans[plan_index].charges.len() {
            mrr += self.rate_plan_charge(account, context, id, plan_index, charge_index, billable);
        }
        mrr
    }

    fn rate_plan_charge(
        &mut self,
        account: &AccountInfo,
        context: &RatePlanContext,
        rate_plan_id: u128,
        plan_index: usize,
        charge_index: usize,
        billable: &mut Vec<BillableCharge>,
    ) -> i64 {
        let plan = &self.plans[plan_index];
        let charge = &plan.charges[charge_index];
        let (product_charge_id, name, sku) = (charge.id, charge.name.clone(), plan.sku.clone());
        let (charge_type, model, period, uom) =
            (charge.charge_type, charge.model, charge.period, charge.uom);
        let (usd_cents, taxable, trigger, accounting_code) = (
            charge.usd_cents,
            charge.taxable,
            charge.trigger,
            charge.accounting_code,
        );

        let created = context.created;
        let updated = self.later(created, 30);
        let (id, mut row) = self.draft(self.objects.rate_plan_charge, created, updated);
        let unit = local_minor(usd_cents, account.currency);
        let quantity_tenths = match (charge_type, uom) {
            ("Usage", _) => None,
            (_, Some(_)) => Some(self.between(1, 200) * 10),
            (_, None) => Some(10),
        };
        let number = self.number("C-");
        row.id("RatePlanId", rate_plan_id)
            .id("ProductRatePlanChargeId", product_charge_id)
            .id("SubscriptionId", context.subscription_id)
            .text("ChargeNumber", number.clone())
            .text("Name", name.clone())
            .text("ChargeType", charge_type)
            .text("ChargeModel", model)
            .maybe_text("BillingPeriod", period)
            .maybe_text("UOM", uom)
            .date("EffectiveStartDate", context.starts)
            .set("Segment", Value::Integer(1))
            .set("Version", Value::Integer(context.version))
            .set("IsLastSegment", Value::Boolean(true))
            .id("OriginalId", id)
            .text("TriggerEvent", trigger)
            .maybe_text("AccountingCode", accounting_code)
            .text("RevenueRecognitionRuleName", "Recognize upon invoicing");
        if let Some(tenths) = quantity_tenths {
            row.decimal("Quantity", tenths_text(tenths));
        }
        if let Some(months) = context.term_months {
            row.date("EffectiveEndDate", plus_months(context.starts, months));
        }

        let mrr = match (charge_type, period, quantity_tenths) {
            ("Recurring", Some(period), Some(tenths)) => unit * tenths / 10 / months_in(period),
            _ => 0,
        };
        if charge_type == "Recurring" {
            let tcv = mrr * i64::from(context.term_months.unwrap_or(12));
            row.money("MRR", mrr, account.currency)
                .money("DMRC", mrr, account.currency)
                .money("TCV", tcv, account.currency)
                .money("DTCV", tcv, account.currency);
            if self.chance(0.8) {
                let through =
                    plus_months(context.starts, self.between(1, 18) as u32).min(date_of(END));
                row.date("ChargedThroughDate", through)
                    .date("ProcessedThroughDate", through);
            }
        } else if charge_type == "OneTime" {
            row.money("TCV", unit, account.currency)
                .money("DTCV", unit, account.currency);
        }
        self.store(row);

        billable.push(BillableCharge {
            subscription_id: context.subscription_id,
            subscription_number: context.subscription_number.to_string(),
            id,
            product_charge_id,
            name,
            number,
            uom,
            sku,
            unit_minor: unit.max(1),
            quantity_tenths,
            taxable,
            accounting_code,
            period,
        });
        mrr
    }

    fn invoice_date(&mut self, account: &AccountInfo) -> NaiveDate {
        date_of(self.between(account.opened + 7 * DAY, END - DAY))
    }

    /// The second a bill run for `date` and `batch` writes its invoices and items: every
    /// invoice of that run shares it, which is how one UpdatedDate second fills many pages.
    fn bill_run(date: NaiveDate, batch: usize) -> i64 {
        midnight(date) + 5 * 3600 + batch as i64 * 97
    }

    fn posting(date: NaiveDate, batch: usize) -> i64 {
        midnight(date) + 8 * 3600 + batch as i64 * 53
    }

    fn invoice(
        &mut self,
        account: &AccountInfo,
        n: usize,
        date: NaiveDate,
        items: usize,
        charges: &[BillableCharge],
        totals: &mut Totals,
    ) {
        let bulk = n == BILL_RUN_INVOICE;
        let status = match bulk || account.index == HUGE_AMOUNT_ACCOUNT {
            true => "Posted",
            false => self.pick(&[("Posted", 85), ("Draft", 8), ("Canceled", 7)]),
        };
        let created = Self::bill_run(date, account.batch);
        let posted = (status != "Draft").then(|| Self::posting(date, account.batch));
        let (id, mut row) = self.draft(self.objects.invoice, created, posted.unwrap_or(created));

        let mut amount = Amounts::default();
        let mut previous_item = None;
        for item in 0..items {
            let special = match (account.index, n, item) {
                (TINY_AMOUNT_ACCOUNT, 0, 0) => Special::Tiny,
                (NEGATIVE_ACCOUNT, 0, 1) => Special::Discount,
                _ => Special::None,
            };
            let line = ItemContext {
                invoice_id: id,
                created,
                date,
                currency: account.currency,
                special,
                previous_item,
            };
            let (item_id, item_amounts) = self.invoice_item(&line, charges, status);
            amount.add(&item_amounts);
            previous_item = Some(item_id);
        }

        let source = if charges.is_empty() {
            "Standalone"
        } else {
            "Subscription"
        };
        row.text("InvoiceNumber", self.number("INV"))
            .id("AccountId", account.id)
            .text("Status", status)
            .date("InvoiceDate", date)
            .date("TargetDate", date)
            .date("DueDate", plus_days(date, 30))
            .money("AmountWithoutTax", amount.charges, account.currency)
            .money("TaxAmount", amount.tax, account.currency)
            .money("Amount", amount.charges + amount.tax, account.currency)
            .money("RefundAmount", 0, account.currency)
            .money("CreditMemoAmount", 0, account.currency)
            .money("AdjustmentAmount", 0, account.currency)
            .text("Currency", account.currency)
            .text("SourceType", source);
        if self.chance(0.3) {
            row.text(
                "ExternalRef__c",
                format!("ERP-{:06}", self.between(1, 999_999)),
            );
        }
        if self.chance(0.5) {
            row.text("Body", "JVBERi0xLjQKJcfsj6IKNSAwIG9iago=");
        }
        if account.index == NEGATIVE_ACCOUNT && n == 0 {
            row.decimal("AdjustmentAmount", "-25.5");
        }

        let total = amount.charges + amount.tax;
        let mut paid = 0;
        let mut updated = posted.unwrap_or(created);
        if let Some(posted) = posted {
            let poster = self.user();
            row.time("PostedDate", posted).text("PostedBy", poster);
            if status == "Posted" && self.chance(0.75) {
                let payment = self.payment(account, date, posted, total, totals);
                paid = payment.applied;
                updated = updated.max(payment.at);
            }
        }
        let balance = match status {
            "Canceled" => 0,
            _ => total - paid,
        };
        if status == "Canceled" {
            updated = self.between(updated, (updated + 30 * DAY).min(END));
        }
        row.money("PaymentAmount", paid, account.currency)
            .money("Balance", balance, account.currency)
            .time("UpdatedDate", updated);
        if account.index == HUGE_AMOUNT_ACCOUNT && n == 0 {
            row.decimal("Amount", "12345678901234567890.123456789");
        }
        self.store(row);

        if status == "Posted" {
            totals.balance += balance;
            totals.last_invoice = totals.last_invoice.max(Some(date));
        }
        totals.last_activity = totals.last_activity.max(updated);
    }

    /// One invoice line; returns its id and what it adds to the invoice.
    fn invoice_item(
        &mut self,
        line: &ItemContext,
        charges: &[BillableCharge],
        status: &str,
    ) -> (u128, Amounts) {
        let (id, mut row) = self.draft(self.objects.invoice_item, line.created, line.created);
        let currency = line.currency;
        let mut period = Some("Month");
        row.id("InvoiceId", line.invoice_id);

        let (unit, tenths, taxable) = match charges.is_empty() {
            true => {
                let name = self.one_of(&["Setup Fee", "Professional Services", "Training"]);
                row.text("ChargeName", name);
                (
                    local_minor(self.between(50, 5_000) * 100, currency),
                    10,
                    self.chance(0.5),
                )
            }
            false => {
                let charge = &charges[self.rng.random_range(0..charges.len())];
                let tenths = match charge.quantity_tenths {
                    Some(tenths) => tenths,
                    None => self.between(1, 50_000),
                };
                row.id("SubscriptionId", charge.subscription_id)
                    .text("SubscriptionNumber", charge.subscription_number.clone())
                    .id("RatePlanChargeId", charge.id)
                    .id("ProductRatePlanChargeId", charge.product_charge_id)
                    .text("ChargeName", charge.name.clone())
                    .text("ChargeNumber", charge.number.clone())
                    .maybe_text("UOM", charge.uom)
                    .text("SKU", charge.sku.clone())
                    .maybe_text("AccountingCode", charge.accounting_code);
                period = charge.period;
                (charge.unit_minor, tenths, charge.taxable)
            }
        };

        let discount = line.special == Special::Discount
            || (line.previous_item.is_some() && self.chance(0.08));
        let mut charge = unit * tenths / 10;
        let mut processing = "Charge";
        if discount && let Some(target) = line.previous_item {
            charge = -(charge / 10).max(1);
            processing = "Discount";
            row.id("AppliedToInvoiceItemId", target);
        }
        let tax = if taxable && !discount {
            charge * 8 / 100
        } else {
            0
        };
        let balance = if status == "Posted" { charge + tax } else { 0 };
        let ends = match period {
            Some(period) => plus_months(line.date, months_in(period) as u32) - Days::new(1),
            None => line.date,
        };
        row.money("ChargeAmount", charge, currency)
            .money("TaxAmount", tax, currency)
            .money("UnitPrice", unit, currency)
            .decimal("Quantity", tenths_text(tenths))
            .date("ServiceStartDate", line.date)
            .date("ServiceEndDate", ends)
            .time("ChargeDate", line.created)
            .text("ProcessingType", processing)
            .money("Balance", balance, currency);

        if line.special == Special::Tiny {
            row.decimal("UnitPrice", "0.1")
                .decimal("Quantity", "1e-9")
                .decimal("ChargeAmount", "0")
                .decimal("TaxAmount", "0")
                .decimal("Balance", "0");
            self.store(row);
            return (id, Amounts::default());
        }
        self.store(row);
        (
            id,
            Amounts {
                charges: charge,
                tax,
            },
        )
    }

    fn payment(
        &mut self,
        account: &AccountInfo,
        invoice_date: NaiveDate,
        posted: i64,
        total: i64,
        totals: &mut Totals,
    ) -> PaymentOutcome {
        let effective = plus_days(invoice_date, self.between(0, 30) as u64).min(date_of(END));
        let submitted = (midnight(effective) + 10 * 3600 + self.between(0, 3600))
            .max(posted + 60)
            .min(END);
        let status = self.pick(&[
            ("Processed", 92),
            ("Error", 4),
            ("Processing", 2),
            ("Canceled", 2),
        ]);
        let kind = self.pick(&[("Electronic", 4), ("External", 1)]);
        let amount = match self.pick(&[(0, 85), (1, 10), (2, 5)]) {
            1 => total / 2,
            2 => total + local_minor(1_000, account.currency),
            _ => total,
        };
        let (applied, unapplied) = match status {
            "Processed" => (amount.min(total), (amount - total).max(0)),
            _ => (0, 0),
        };
        let settled = (status == "Processed" && kind == "Electronic")
            .then(|| self.between(submitted + 3600, submitted + 2 * DAY).min(END));
        let updated = settled.unwrap_or(submitted);
        let (_, mut row) = self.draft(self.objects.payment, submitted, updated);
        let gateway = match (kind, status) {
            ("External", _) => "NotSubmitted",
            (_, "Processed") => "Settled",
            (_, "Error") => "FailedToSettle",
            _ => "Submitted",
        };
        let method = account.payment_method.unwrap_or_else(|| self.rng.random());
        row.text("PaymentNumber", self.number("P-"))
            .id("AccountId", account.id)
            .money("Amount", amount, account.currency)
            .money("AppliedAmount", applied, account.currency)
            .money("UnappliedAmount", unapplied, account.currency)
            .money("RefundAmount", 0, account.currency)
            .text("Currency", account.currency)
            .date("EffectiveDate", effective)
            .text("Status", status)
            .text("Type", kind)
            .id("PaymentMethodId", method)
            .text("GatewayState", gateway);
        if kind == "Electronic" {
            let reference: String = (0..24)
                .map(|_| self.one_of(&b"abcdefghijklmnopqrstuvwxyz0123456789"[..]) as char)
                .collect();
            row.text("ReferenceId", format!("ch_{reference}"))
                .time("SubmittedOn", submitted)
                .text(
                    "GatewayResponse",
                    if status == "Error" {
                        "Card declined: insufficient funds"
                    } else {
                        "Approved"
                    },
                );
        } else if self.chance(0.5) {
            row.text(
                "ReferenceId",
                format!("CHK-{:06}", self.between(1, 999_999)),
            );
        }
        if let Some(settled) = settled {
            row.time("SettledOn", settled);
        }
        self.store(row);
        totals.unapplied += unapplied;
        PaymentOutcome {
            applied,
            at: updated,
        }
    }

    fn account_row(&mut self, info: &AccountInfo, contacts: &[u128], totals: &Totals) {
        let updated = self.later(totals.last_activity.max(info.opened), 20);
        let (_, mut row) = self.draft(self.objects.account, info.opened, updated);
        row.values[ID] = Some(Value::Text(format_id(info.id)));
        let name = match info.index {
            BULK_ACCOUNT => "Café \"Le Petit\", Paris".to_string(),
            UNICODE_ACCOUNT => "東京 Rocket Labs 🚀".to_string(),
            _ => self.company_name(),
        };
        let status = match info.index {
            BARE_ACCOUNT => "Draft",
            _ => self.pick(&[("Active", 85), ("Canceled", 10), ("Draft", 5)]),
        };
        let any_day = self.between(2, 28);
        let bill_cycle_day = self.pick(&[(1, 6), (15, 2), (any_day, 2)]);
        row.text("AccountNumber", format!("A{:08}", info.index + 1))
            .text("Name", name)
            .text("Status", status)
            .text("Currency", info.currency)
            .set(
                "AutoPay",
                Value::Boolean(info.payment_method.is_some() && self.chance(0.5)),
            )
            .set("BillCycleDay", Value::Integer(bill_cycle_day))
            .text("Batch", format!("Batch{}", info.batch));
        if info.index == BARE_ACCOUNT {
            self.store(row);
            return;
        }

        row.money("Balance", totals.balance, info.currency)
            .money("TotalInvoiceBalance", totals.balance, info.currency)
            .money("CreditBalance", 0, info.currency)
            .money("UnappliedBalance", totals.unapplied, info.currency)
            .money("Mrr", totals.mrr, info.currency)
            .text(
                "PaymentTerm",
                self.pick(&[("Net 30", 6), ("Due Upon Receipt", 2), ("Net 60", 1)]),
            )
            .text("SequenceSetId", format_id(self.rng.random()));
        if let Some(&bill_to) = contacts.first() {
            row.id("BillToId", bill_to)
                .id("SoldToId", *contacts.last().unwrap_or(&bill_to));
        }
        if let Some(method) = info.payment_method {
            row.id("DefaultPaymentMethodId", method);
        }
        if let Some(date) = totals.last_invoice {
            row.date("LastInvoiceDate", date);
        }
        if self.chance(0.6) {
            row.text(
                "CrmId",
                format!("0015e00000{:08X}", self.rng.random::<u32>()),
            );
        }
        if matches!(info.currency, "EUR" | "GBP") && self.chance(0.7) {
            row.text("VATId", format!("EU{:09}", self.between(0, 999_999_999)));
        }
        if info.index > 9 && self.chance(0.1) {
            // A parent from earlier in the list, so the key points at an account that exists.
            let parent = self.account_ids[self.rng.random_range(0..info.index)];
            row.id("ParentId", parent);
        }
        let region = match info.currency {
            "EUR" | "GBP" => "EMEA",
            "JPY" => "APAC",
            _ => "AMER",
        };
        if self.chance(0.9) {
            row.text("Region__c", region);
        }
        if self.chance(0.8) {
            row.text(
                "Segment__c",
                self.pick(&[("SMB", 5), ("Mid-Market", 3), ("Enterprise", 2)]),
            );
        }
        if info.index == CREDIT_ACCOUNT {
            row.decimal("Balance", "-120.75")
                .decimal("CreditBalance", "120.75");
        }
        if info.index == MRR_ACCOUNT {
            row.decimal("Mrr", "299.9");
        }
        self.store(row);
    }

    fn company_name(&mut self) -> String {
        const BRANDS: &[&str] = &[
            "Acme",
            "Globex",
            "Initech",
            "Umbrella",
            "Stark",
            "Hooli",
            "Vandelay",
            "Soylent",
            "Tyrell",
            "Cyberdyne",
            "Wonka",
            "Aperture",
            "Oscorp",
            "Nakatomi",
            "Gekko",
            "Duff",
        ];
        const TRADES: &[&str] = &[
            "Analytics",
            "Logistics",
            "Labs",
            "Foods",
            "Systems",
            "Health",
            "Media",
            "Energy",
        ];
        const FORMS: &[&str] = &["Inc.", "LLC", "GmbH", "Ltd", "SA", "Corp."];
        format!(
            "{} {} {}",
            self.one_of(BRANDS),
            self.one_of(TRADES),
            self.one_of(FORMS)
        )
    }
}

/// What the versions of one subscription share.
#[derive(Clone, Copy)]
struct Terms<'a> {
    name: &'a str,
    starts: NaiveDate,
    term_type: &'static str,
    term: u32,
    original_created: i64,
}

struct RatePlanContext<'a> {
    subscription_id: u128,
    subscription_number: &'a str,
    created: i64,
    starts: NaiveDate,
    term_months: Option<u32>,
    version: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Special {
    None,
    Tiny,
    Discount,
}

struct ItemContext {
    invoice_id: u128,
    created: i64,
    date: NaiveDate,
    currency: &'static str,
    special: Special,
    previous_item: Option<u128>,
}

#[derive(Default)]
struct Amounts {
    charges: i64,
    tax: i64,
}

impl Amounts {
    fn add(&mut self, other: &Amounts) {
        self.charges += other.charges;
        self.tax += other.tax;
    }
}

struct PaymentOutcome {
    applied: i64,
    at: i64,
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::super::catalog::{FieldType, ObjectDef};
    use super::super::value::Record;
    use super::*;

    fn def(name: &str) -> &'static ObjectDef {
        &CATALOG.objects[CATALOG.index(name)]
    }

    fn records(tenant: &Tenant, name: &str) -> Vec<Record> {
        let table = &tenant.tables[CATALOG.index(name)];
        table
            .rows
            .values()
            .map(|row| row.record(def(name)))
            .collect()
    }

    fn text<'r>(record: &'r Record, field: &str) -> Option<&'r str> {
        match record.values.get(field)? {
            Value::Text(text) => Some(text),
            other => panic!("{field} of {} is not text: {other:?}", record.id),
        }
    }

    fn ids(tenant: &Tenant, name: &str) -> BTreeSet<String> {
        tenant.tables[CATALOG.index(name)]
            .rows
            .keys()
            .map(|&id| format_id(id))
            .collect()
    }

    fn pages(tenant: &Tenant) -> Vec<String> {
        let mut out = Vec::new();
        for (object, table) in CATALOG.objects.iter().zip(&tenant.tables) {
            for row in table.rows.values() {
                let mut json = String::new();
                row.write_json(object, None, true, &mut json);
                out.push(json);
            }
        }
        out
    }

    #[test]
    fn the_same_seed_gives_the_same_rows_and_another_seed_does_not() {
        let first = pages(&generate(11, 25));
        assert_eq!(first, pages(&generate(11, 25)));
        assert_ne!(first, pages(&generate(12, 25)));
        assert!(first.len() > 25 * 5, "{} rows", first.len());
    }

    #[test]
    fn foreign_keys_point_at_rows_that_exist() {
        let tenant = generate(3, 60);
        let links = crate::emulator::zuora::catalog::FOREIGN_KEYS;
        for (object, field, target) in links {
            let targets = ids(&tenant, target);
            let mut linked = 0;
            for record in records(&tenant, object) {
                if let Some(id) = text(&record, field) {
                    assert!(
                        targets.contains(id),
                        "{object}.{field} {id} of {}",
                        record.id
                    );
                    linked += 1;
                }
            }
            assert!(linked > 0, "no {object}.{field} is set");
        }
    }

    #[test]
    fn children_belong_to_the_same_account_as_their_parents() {
        let tenant = generate(5, 60);
        let by_id = |name| -> BTreeMap<String, Record> {
            records(&tenant, name)
                .into_iter()
                .map(|r| (r.id.clone(), r))
                .collect()
        };
        let (contacts, subscriptions, invoices) =
            (by_id("Contact"), by_id("Subscription"), by_id("Invoice"));
        for account in records(&tenant, "Account") {
            for key in ["BillToId", "SoldToId"] {
                if let Some(contact) = text(&account, key) {
                    assert_eq!(
                        text(&contacts[contact], "AccountId"),
                        Some(account.id.as_str())
                    );
                }
            }
        }
        for item in records(&tenant, "InvoiceItem") {
            let invoice = &invoices[text(&item, "InvoiceId").unwrap()];
            if let Some(subscription) = text(&item, "SubscriptionId") {
                let owner = text(&subscriptions[subscription], "AccountId");
                assert_eq!(owner, text(invoice, "AccountId"), "item {}", item.id);
            }
        }
        let plans = by_id("ProductRatePlan");
        for rate_plan in records(&tenant, "RatePlan") {
            let plan = &plans[text(&rate_plan, "ProductRatePlanId").unwrap()];
            assert_eq!(text(plan, "ProductId"), text(&rate_plan, "ProductId"));
        }
    }

    #[test]
    fn timestamps_are_ordered_whole_seconds_in_range_and_required_fields_are_set() {
        let tenant = generate(9, 40);
        let (start, end) = (datetime(START), datetime(END));
        for object in &CATALOG.objects {
            for record in records(&tenant, object.name) {
                let at = |name: &str| match record.values.get(name) {
                    Some(Value::DateTime(at)) => *at,
                    other => panic!("{}.{name} of {}: {other:?}", object.name, record.id),
                };
                let (created, updated) = (at("CreatedDate"), at("UpdatedDate"));
                assert!(
                    start <= created && created <= updated && updated <= end,
                    "{record:?}"
                );
                for field in object.fields.iter().filter(|f| f.required) {
                    assert!(
                        record.values.contains_key(&field.name),
                        "{}.{}",
                        object.name,
                        field.name
                    );
                }
            }
        }
    }

    #[test]
    fn row_counts_follow_the_account_count() {
        let accounts = 120;
        let tenant = generate(4, accounts);
        let count = |name: &str| tenant.tables[CATALOG.index(name)].len();
        assert_eq!(count("Account"), accounts);
        assert_eq!(count("Product"), 4);
        assert!((accounts - 1..=2 * accounts).contains(&count("Contact")));
        assert!((accounts - 1..=6 * accounts + 1).contains(&count("Invoice")));
        assert!(count("InvoiceItem") <= 5 * 6 * accounts + 199);
        assert!(count("Payment") <= count("Invoice"));
        assert_eq!(generate(4, 500).tables[CATALOG.index("Product")].len(), 10);
    }

    /// Every JSON value text of `object` for `field`.
    fn wire_values(tenant: &Tenant, object: &str, field: &str) -> Vec<String> {
        let at = def(object).position(field);
        let table = &tenant.tables[CATALOG.index(object)];
        table
            .rows
            .values()
            .filter_map(|row| row.field(at).map(str::to_string))
            .collect()
    }

    #[test]
    fn adversarial_values_are_present_from_ten_accounts() {
        for seed in [0, 1, 77] {
            let tenant = generate(seed, 10);
            let mut decimals = BTreeSet::new();
            let mut texts = String::new();
            for object in &CATALOG.objects {
                for row in tenant.tables[CATALOG.index(object.name)].rows.values() {
                    for (at, field) in object.fields.iter().enumerate() {
                        match (field.field_type, row.field(at)) {
                            (FieldType::Decimal, Some(text)) => {
                                decimals.insert(text.to_string());
                            }
                            (FieldType::Text, Some(text)) => {
                                texts.push_str(&serde_json::from_str::<String>(text).unwrap());
                            }
                            _ => {}
                        }
                    }
                }
            }
            for wanted in [
                "0.1",
                "299.9",
                "1e-9",
                "0",
                "12345678901234567890.123456789",
            ] {
                assert!(
                    decimals.contains(wanted),
                    "seed {seed}: no decimal {wanted}"
                );
            }
            assert!(
                decimals.iter().any(|d| d.starts_with('-')),
                "seed {seed}: no negative"
            );
            for wanted in ["é", "東京", "🚀", "\"", ",", "\n", "\t", "\\"] {
                assert!(
                    texts.contains(wanted),
                    "seed {seed}: no text with {wanted:?}"
                );
            }

            let items = &tenant.tables[CATALOG.index("InvoiceItem")];
            let mut per_second: BTreeMap<i64, usize> = BTreeMap::new();
            for &(second, _) in &items.by_updated {
                *per_second.entry(second).or_default() += 1;
            }
            assert!(
                per_second.values().any(|&n| n > 150),
                "seed {seed}: no crowded second"
            );

            let mrr = wire_values(&tenant, "Account", "Mrr");
            assert!(mrr.contains(&"299.9".to_string()), "seed {seed}");
            let quantities = wire_values(&tenant, "InvoiceItem", "Quantity");
            assert!(quantities.contains(&"1e-9".to_string()), "seed {seed}");
        }
    }

    #[test]
    fn one_account_has_every_optional_field_null_and_others_have_some_nulls() {
        let tenant = generate(2, 10);
        let account = def("Account");
        let required: BTreeSet<&str> = account
            .fields
            .iter()
            .filter(|f| f.required)
            .map(|f| f.name.as_str())
            .collect();
        let accounts = records(&tenant, "Account");
        let bare = accounts
            .iter()
            .filter(|a| a.values.keys().all(|name| required.contains(name.as_str())));
        assert_eq!(bare.count(), 1);
        for object in &CATALOG.objects {
            let optional = object.fields.iter().filter(|f| !f.required).count();
            let nulls = records(&tenant, object.name)
                .iter()
                .any(|r| r.values.len() < object.fields.len());
            assert!(optional == 0 || nulls, "{} has no null value", object.name);
        }
    }

    #[test]
    fn money_is_written_like_zuora_writes_amounts() {
        assert_eq!(money_text(29_990, "USD"), "299.9");
        assert_eq!(money_text(0, "USD"), "0.0");
        assert_eq!(money_text(12_345, "EUR"), "123.45");
        assert_eq!(money_text(-1_550, "USD"), "-15.5");
        assert_eq!(money_text(-5, "USD"), "-0.05");
        assert_eq!(money_text(1_234, "JPY"), "1234.0");
        assert_eq!(tenths_text(125), "12.5");
    }

    #[test]
    fn users_are_the_ones_the_generated_rows_name() {
        let tenant = generate(6, 10);
        let users: BTreeSet<String> = users(6).into_iter().collect();
        for record in records(&tenant, "Invoice") {
            assert!(users.contains(text(&record, "UpdatedById").unwrap()));
        }
    }

    #[test]
    fn credentials_have_zuora_lengths_and_depend_on_the_seed() {
        let (id, secret) = credentials(1);
        assert_eq!((id.len(), secret.len()), (36, 40));
        assert_eq!(credentials(1), (id.clone(), secret));
        assert_ne!(credentials(2).0, id);
    }
}
