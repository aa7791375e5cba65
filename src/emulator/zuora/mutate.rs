//! Writes to the tenant after generation, shaped like Zuora's own: new accounts with their
//! children, field updates that bump UpdatedDate, the updates Zuora makes without bumping it
//! (`ChargedThroughDate`, `ProcessedThroughDate`, `AccountingCode`), deletions of leaf rows or
//! of an account with everything under it, and subscription amendments that add a version.
//!
//! Every change of one batch carries the same UpdatedDate, the emulator clock in whole seconds,
//! and goes through the store's commit, so indexes, running keysets, deleted-row history and
//! the visibility delay all hold. Foreign keys stay consistent: an insert only points at rows
//! that exist, and a deletion takes the rows that point at the deleted one with it. A row
//! inserted or changed with a bump also gets a value in each custom field added to the schema
//! since generation that it still has null.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Days, NaiveDate, Utc};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::catalog::{CATALOG, FieldDef, FieldType, ID, ObjectDef};
use super::generate::{
    Draft, Objects, local_minor, money_text, months_in, plus_days, plus_months, tenths_text,
};
use super::tenant::{Row, Tenant, format_id};
use super::value::Value;

/// What one call changed: row ids per Describe object name, per kind of change, in the order
/// the changes were made. A row can appear under several kinds (inserted, then updated).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MutationReport {
    /// The UpdatedDate the changes carry: the emulator clock, whole seconds.
    pub at: DateTime<Utc>,
    pub inserted: BTreeMap<String, Vec<String>>,
    /// Changed with UpdatedDate moved to `at`.
    pub updated: BTreeMap<String, Vec<String>>,
    /// Changed with UpdatedDate left as it was, as Zuora does for a few fields: only a client
    /// that re-reads history sees these.
    pub unbumped: BTreeMap<String, Vec<String>>,
    /// Gone from Object Query, kept in `Emulator::deleted_rows` and the Data Query channel.
    pub deleted: BTreeMap<String, Vec<String>>,
    /// `(expired version, new version)` of each amended subscription. The new version is also
    /// under `inserted`, the expired one under `updated`.
    pub amended: Vec<(String, String)>,
}

impl MutationReport {
    /// The number of row changes listed (an amendment counts its rows, not itself).
    pub fn len(&self) -> usize {
        [&self.inserted, &self.updated, &self.unbumped, &self.deleted]
            .iter()
            .flat_map(|kind| kind.values())
            .map(Vec::len)
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every id of `object` (Describe name) under any kind.
    pub fn touched(&self, object: &str) -> BTreeSet<String> {
        [&self.inserted, &self.updated, &self.unbumped, &self.deleted]
            .iter()
            .filter_map(|kind| kind.get(object))
            .flatten()
            .cloned()
            .collect()
    }

    fn note(kind: &mut BTreeMap<String, Vec<String>>, object: usize, id: u128) {
        let name = CATALOG.objects[object].name.to_string();
        kind.entry(name).or_default().push(format_id(id));
    }
}

/// Fields whose changes Zuora makes without moving UpdatedDate (reference §6).
const UNBUMPED: &[(&str, &str)] = &[
    ("RatePlanCharge", "ChargedThroughDate"),
    ("RatePlanCharge", "ProcessedThroughDate"),
    ("InvoiceItem", "AccountingCode"),
];

/// Text that breaks careless clients: quotes, separators, control characters, scripts and
/// characters outside the Basic Multilingual Plane.
const TEXTS: &[&str] = &[
    "Zoë Ångström-Øberg",
    "東京 Rocket Labs 🚀",
    "O'Brien & Søn, \"Ltd\"",
    "Line one\nLine two\ttabbed",
    "back\\slash; semi;colon",
    "Ünïcödé ✓ ∑ €",
    "Straße 12, 3. OG",
];

/// Decimals at the edges: zero in two spellings, binary-inexact values, an exponent, a
/// negative, more digits than an f64 holds.
const DECIMALS: &[&str] = &[
    "0",
    "0.0",
    "0.1",
    "299.9",
    "1e-9",
    "-0.05",
    "-120.75",
    "12345678901234567890.123456789",
    "0.000000001",
    "99999999.99",
];

const ACCOUNTING_CODES: &[&str] = &[
    "4000 Subscription Revenue",
    "4010 Services Revenue",
    "4100 Usage Revenue – EMEA",
];

/// The kinds of change a random batch draws from, with their weights.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Insert,
    Update,
    Unbumped,
    DeleteLeaf,
    DeleteAccount,
    Amend,
}

const KINDS: &[(Kind, u32)] = &[
    (Kind::Insert, 15),
    (Kind::Update, 40),
    (Kind::Unbumped, 15),
    (Kind::DeleteLeaf, 15),
    (Kind::DeleteAccount, 5),
    (Kind::Amend, 10),
];

/// A charge of a new subscription that a new invoice can bill.
struct NewCharge {
    subscription_id: u128,
    subscription_number: String,
    id: u128,
    product_charge_id: u128,
    name: String,
    number: String,
    uom: Option<String>,
    sku: Option<String>,
    unit_minor: i64,
    accounting_code: Option<String>,
}

/// One batch of changes against the tenant, all committed at one instant.
pub(crate) struct Mutator<'a> {
    tenant: &'a mut Tenant,
    rng: &'a mut ChaCha8Rng,
    users: &'a [String],
    objects: Objects,
    /// The commit instant; UpdatedDate is its whole second.
    at: DateTime<Utc>,
    seconds: i64,
    report: MutationReport,
}

impl<'a> Mutator<'a> {
    pub fn new(
        tenant: &'a mut Tenant,
        rng: &'a mut ChaCha8Rng,
        users: &'a [String],
        at: DateTime<Utc>,
    ) -> Mutator<'a> {
        let seconds = at.timestamp();
        let stamp = DateTime::from_timestamp(seconds, 0).expect("the clock is in range");
        Mutator {
            tenant,
            rng,
            users,
            objects: Objects::find(),
            at,
            seconds,
            report: MutationReport {
                at: stamp,
                ..MutationReport::default()
            },
        }
    }

    pub fn finish(self) -> MutationReport {
        self.report
    }

    /// `count` changes of random kinds on random rows. A kind with nothing to act on (no
    /// subscription to amend, say) becomes an insert, so the batch always makes `count`.
    pub fn random(&mut self, count: usize) {
        for _ in 0..count {
            let done = match self.pick(KINDS) {
                Kind::Insert => false,
                Kind::Update => self.random_update(),
                Kind::Unbumped => self.random_unbumped(),
                Kind::DeleteLeaf => self.random_leaf_delete(),
                Kind::DeleteAccount => self.random_account_delete(),
                Kind::Amend => self.random_amendment(),
            };
            if !done {
                self.insert_account();
            }
        }
    }

    fn random_update(&mut self) -> bool {
        let object = self.rng.random_range(0..CATALOG.objects.len());
        let Some(id) = self.random_row(object, |_, _| true) else {
            return false;
        };
        self.update(object, id).expect("a random row exists");
        true
    }

    fn random_unbumped(&mut self) -> bool {
        let object = match self.rng.random_bool(0.5) {
            true => self.objects.rate_plan_charge,
            false => self.objects.invoice_item,
        };
        let Some(id) = self.random_row(object, |_, _| true) else {
            return false;
        };
        self.update_without_bump(object, id)
            .expect("a random row of an unbumped object exists");
        true
    }

    fn random_leaf_delete(&mut self) -> bool {
        let o = self.objects;
        let object = self.pick(&[(o.invoice_item, 5), (o.payment, 3), (o.contact, 2)]);
        // A contact that bills or sells to its account cannot go; Zuora refuses that too.
        let deletable = |tenant: &Tenant, row: &Row| {
            object != o.contact || contact_user(tenant, &o, row).is_none()
        };
        let id = self.random_row(object, deletable);
        let Some(id) = id else { return false };
        self.delete(object, id)
            .expect("a random leaf can be deleted");
        true
    }

    fn random_account_delete(&mut self) -> bool {
        let Some(id) = self.random_row(self.objects.account, |_, _| true) else {
            return false;
        };
        self.delete(self.objects.account, id)
            .expect("a random account exists");
        true
    }

    fn random_amendment(&mut self) -> bool {
        let subscription = self.objects.subscription;
        let latest = CATALOG.objects[subscription].position("IsLatestVersion");
        let is_latest = |_: &Tenant, row: &Row| row.field(latest) == Some("true");
        let Some(id) = self.random_row(subscription, is_latest) else {
            return false;
        };
        self.amend_subscription(id)
            .expect("a random latest subscription can be amended");
        true
    }

    /// A random existing row of `object` that `accept` takes, or `None` after a few misses.
    fn random_row(
        &mut self,
        object: usize,
        accept: impl Fn(&Tenant, &Row) -> bool,
    ) -> Option<u128> {
        for _ in 0..16 {
            let id = self.tenant.live_id_near(object, self.rng.random())?;
            let row = self.tenant.current(object, id);
            if row.is_some_and(|row| accept(self.tenant, row)) {
                return Some(id);
            }
        }
        None
    }

    /// Changes one to three fields of the row to fresh values of their types and moves its
    /// UpdatedDate to now. Refused when the row does not exist.
    pub fn update(&mut self, object: usize, id: u128) -> Result<(), String> {
        let def = self.tenant.def(object);
        let row = self.find(object, id)?.clone();
        let mut fields: Vec<usize> = (0..def.fields.len())
            .filter(|&at| updatable(&def, at))
            .collect();
        let count = self.rng.random_range(1..=3).min(fields.len());
        let mut changes = Vec::with_capacity(count + 2);
        for _ in 0..count {
            let at = fields.swap_remove(self.rng.random_range(0..fields.len()));
            changes.push((at, self.fresh_value(&def, at, &row)));
        }
        changes.extend(self.bump(&def));
        self.commit_touched(object, id, row.with_values(&def, &changes));
        MutationReport::note(&mut self.report.updated, object, id);
        Ok(())
    }

    /// Moves a RatePlanCharge's ChargedThroughDate and ProcessedThroughDate a month on, or
    /// gives an InvoiceItem another AccountingCode, leaving UpdatedDate where it was. Refused
    /// when the row does not exist or belongs to another object: Zuora bumps UpdatedDate for
    /// every other change.
    pub fn update_without_bump(&mut self, object: usize, id: u128) -> Result<(), String> {
        let def = self.tenant.def(object);
        let row = self.find(object, id)?.clone();
        let changes = if object == self.objects.rate_plan_charge {
            let charged = def.position("ChargedThroughDate");
            let from = match row.value(&def, charged) {
                Some(Value::Date(date)) => date,
                _ => self.at.date_naive(),
            };
            let through = Some(Value::Date(plus_months(from, 1)));
            let processed = def.position("ProcessedThroughDate");
            vec![(charged, through.clone()), (processed, through)]
        } else if object == self.objects.invoice_item {
            let code = def.position("AccountingCode");
            let current = row.value(&def, code);
            let fresh = ACCOUNTING_CODES
                .iter()
                .map(|c| Value::Text(c.to_string()))
                .filter(|c| Some(c) != current.as_ref())
                .collect::<Vec<_>>();
            let fresh = fresh[self.rng.random_range(0..fresh.len())].clone();
            vec![(code, Some(fresh))]
        } else {
            return Err(format!(
                "Zuora changes {} only with a new UpdatedDate; unbumped updates are for \
                 RatePlanCharge and InvoiceItem",
                def.name
            ));
        };
        self.tenant
            .commit(object, id, Some(row.with_values(&def, &changes)), self.at);
        MutationReport::note(&mut self.report.unbumped, object, id);
        Ok(())
    }

    /// Deletes a row and what points at it: an Account with its contacts, subscriptions (every
    /// version), rate plans, charges, invoices, items and payments, its child accounts losing
    /// their ParentId; an Invoice with its items; an InvoiceItem with the discounts applied to
    /// it; a Contact or a Payment alone. Refused when the row does not exist, when it is a
    /// Contact that its account bills to or sells to (Zuora refuses that too), or when it is of
    /// another object: those go with their account.
    pub fn delete(&mut self, object: usize, id: u128) -> Result<(), String> {
        let def = &CATALOG.objects[object];
        let o = self.objects;
        let row = self.find(object, id)?;
        if object == o.account {
            self.delete_account(id);
        } else if object == o.contact {
            if let Some(account) = contact_user(self.tenant, &o, row) {
                return Err(format!(
                    "Contact {} is the bill-to or sold-to contact of Account {}; Zuora refuses \
                     to delete it",
                    format_id(id),
                    format_id(account)
                ));
            }
            self.remove(object, id);
        } else if object == o.invoice {
            let items = self.children(o.invoice_item, "InvoiceId", &BTreeSet::from([id]));
            self.remove_items(items);
            self.remove(object, id);
        } else if object == o.invoice_item {
            self.remove_items(BTreeSet::from([id]));
        } else if object == o.payment {
            self.remove(object, id);
        } else {
            return Err(format!(
                "the emulator deletes Account, Contact, Invoice, InvoiceItem and Payment rows; \
                 {} rows go with their account",
                def.name
            ));
        }
        Ok(())
    }

    fn delete_account(&mut self, id: u128) {
        let o = self.objects;
        let account = BTreeSet::from([id]);
        let contacts = self.children(o.contact, "AccountId", &account);
        let mut subscriptions = self.children(o.subscription, "AccountId", &account);
        subscriptions.extend(self.children(o.subscription, "InvoiceOwnerId", &account));
        let plans = self.children(o.rate_plan, "SubscriptionId", &subscriptions);
        let mut charges = self.children(o.rate_plan_charge, "SubscriptionId", &subscriptions);
        charges.extend(self.children(o.rate_plan_charge, "RatePlanId", &plans));
        let invoices = self.children(o.invoice, "AccountId", &account);
        let mut items = self.children(o.invoice_item, "InvoiceId", &invoices);
        items.extend(self.children(o.invoice_item, "SubscriptionId", &subscriptions));
        items.extend(self.children(o.invoice_item, "RatePlanChargeId", &charges));
        let payments = self.children(o.payment, "AccountId", &account);
        let child_accounts = self.children(o.account, "ParentId", &account);

        self.remove_items(items);
        for (object, ids) in [
            (o.payment, payments),
            (o.invoice, invoices),
            (o.rate_plan_charge, charges),
            (o.rate_plan, plans),
            (o.subscription, subscriptions),
            (o.contact, contacts),
        ] {
            for id in ids {
                self.remove(object, id);
            }
        }
        let def = self.tenant.def(o.account);
        for child in child_accounts.into_iter().filter(|&child| child != id) {
            let mut changes = vec![(def.position("ParentId"), None)];
            changes.extend(self.bump(&def));
            let row = self.existing(o.account, child).with_values(&def, &changes);
            self.commit_touched(o.account, child, row);
            MutationReport::note(&mut self.report.updated, o.account, child);
        }
        self.remove(o.account, id);
    }

    /// Removes invoice items and the discount items applied to them.
    fn remove_items(&mut self, mut items: BTreeSet<u128>) {
        let item = self.objects.invoice_item;
        items.extend(self.children(item, "AppliedToInvoiceItemId", &items));
        for id in items {
            self.remove(item, id);
        }
    }

    fn remove(&mut self, object: usize, id: u128) {
        if self.tenant.current(object, id).is_some() {
            self.tenant.commit(object, id, None, self.at);
            MutationReport::note(&mut self.report.deleted, object, id);
        }
    }

    /// The ids of the committed rows of `object` whose `field` holds one of `parents`.
    fn children(&self, object: usize, field: &str, parents: &BTreeSet<u128>) -> BTreeSet<u128> {
        let at = CATALOG.objects[object].position(field);
        let mut ids = BTreeSet::new();
        self.tenant.for_each_current(object, |row| {
            if row
                .id_in(at)
                .is_some_and(|parent| parents.contains(&parent))
            {
                ids.insert(row.id);
            }
        });
        ids
    }

    /// Amends a subscription: a new version with a new id, Version + 1 and the same OriginalId
    /// becomes the latest; the amended one turns `Expired` and stops being the latest. Its rate
    /// plans and charges are copied to the new version with new ids, one charge with a new
    /// quantity and Version + 1. Returns the new version's id. Refused when the subscription
    /// does not exist or is not its latest version.
    pub fn amend_subscription(&mut self, id: u128) -> Result<u128, String> {
        let o = self.objects;
        let def = self.tenant.def(o.subscription);
        let old = self.find(o.subscription, id)?.clone();
        let field = |name| def.position(name);
        if old.field(field("IsLatestVersion")) != Some("true") {
            return Err(format!(
                "Subscription {} is not the latest version; Zuora amends only the latest",
                format_id(id)
            ));
        }
        let version = match old.value(&def, field("Version")) {
            Some(Value::Integer(version)) => version,
            _ => 1,
        };
        let original = old.id_in(field("OriginalId")).unwrap_or(id);
        let new_id: u128 = self.rng.random();
        let mut changes = self.created(&def, new_id);
        changes.extend([
            (field("Version"), Some(Value::Integer(version + 1))),
            (field("OriginalId"), Some(Value::Text(format_id(original)))),
            (
                field("PreviousSubscriptionId"),
                Some(Value::Text(format_id(id))),
            ),
            (field("IsLatestVersion"), Some(Value::Boolean(true))),
        ]);
        let fresh = old.with_values(&def, &changes);
        self.commit_touched(o.subscription, new_id, fresh);
        MutationReport::note(&mut self.report.inserted, o.subscription, new_id);

        let mut expire = vec![
            (field("Status"), Some(Value::Text("Expired".into()))),
            (field("IsLatestVersion"), Some(Value::Boolean(false))),
        ];
        expire.extend(self.bump(&def));
        let expired = old.with_values(&def, &expire);
        self.commit_touched(o.subscription, id, expired);
        MutationReport::note(&mut self.report.updated, o.subscription, id);

        self.copy_rate_plans(id, new_id, version + 1);
        self.report.amended.push((format_id(id), format_id(new_id)));
        Ok(new_id)
    }

    fn copy_rate_plans(&mut self, from: u128, to: u128, version: i64) {
        let o = self.objects;
        let (plan_def, charge_def) = (
            self.tenant.def(o.rate_plan),
            self.tenant.def(o.rate_plan_charge),
        );
        let plans = self.children(o.rate_plan, "SubscriptionId", &BTreeSet::from([from]));
        let mut changed_one = false;
        for plan in plans {
            let plan_id: u128 = self.rng.random();
            let mut changes = self.created(&plan_def, plan_id);
            changes.push((
                plan_def.position("SubscriptionId"),
                Some(Value::Text(format_id(to))),
            ));
            let row = self
                .existing(o.rate_plan, plan)
                .with_values(&plan_def, &changes);
            self.commit_touched(o.rate_plan, plan_id, row);
            MutationReport::note(&mut self.report.inserted, o.rate_plan, plan_id);

            let charges = self.children(o.rate_plan_charge, "RatePlanId", &BTreeSet::from([plan]));
            for charge in charges {
                let charge_id: u128 = self.rng.random();
                let old = self.existing(o.rate_plan_charge, charge).clone();
                let mut changes = self.created(&charge_def, charge_id);
                changes.extend([
                    (
                        charge_def.position("RatePlanId"),
                        Some(Value::Text(format_id(plan_id))),
                    ),
                    (
                        charge_def.position("SubscriptionId"),
                        Some(Value::Text(format_id(to))),
                    ),
                    (
                        charge_def.position("OriginalId"),
                        Some(Value::Text(format_id(
                            old.id_in(charge_def.position("OriginalId"))
                                .unwrap_or(charge),
                        ))),
                    ),
                ]);
                if !std::mem::replace(&mut changed_one, true) {
                    let quantity = tenths_text(self.rng.random_range(1..=200) * 10);
                    changes.extend([
                        (
                            charge_def.position("Quantity"),
                            Some(Value::Decimal(quantity)),
                        ),
                        (
                            charge_def.position("Version"),
                            Some(Value::Integer(version)),
                        ),
                    ]);
                }
                let row = old.with_values(&charge_def, &changes);
                self.commit_touched(o.rate_plan_charge, charge_id, row);
                MutationReport::note(&mut self.report.inserted, o.rate_plan_charge, charge_id);
            }
        }
    }

    /// A new account with one or two contacts (bill-to and sold-to, and sometimes a third that
    /// is neither), up to two subscriptions with rate plans and charges from the product
    /// catalog, and up to two posted invoices with items and payments. Returns the account id.
    pub fn insert_account(&mut self) -> u128 {
        let account: u128 = self.rng.random();
        let currency = self.pick(&[("USD", 70), ("EUR", 12), ("GBP", 8), ("CAD", 6), ("JPY", 4)]);
        let contacts: Vec<u128> = (0..self.rng.random_range(1..=2))
            .map(|n| self.insert_contact(account, n))
            .collect();
        if self.rng.random_bool(0.5) {
            self.insert_contact(account, 2);
        }
        let mut charges = Vec::new();
        let mut mrr = 0;
        for _ in 0..self.rng.random_range(0..=2) {
            mrr += self.insert_subscription(account, currency, &mut charges);
        }
        let mut balance = 0;
        for _ in 0..self.rng.random_range(0..=2) {
            balance += self.insert_invoice(account, currency, &charges);
        }

        let (_, mut row) = self.draft_with(self.objects.account, account);
        let number = self.tenant.next_account;
        self.tenant.next_account += 1;
        let name = TEXTS[self.rng.random_range(0..TEXTS.len())];
        row.text("AccountNumber", format!("A{number:08}"))
            .text("Name", format!("{name} {number}"))
            .text("Status", "Active")
            .text("Currency", currency)
            .money("Balance", balance, currency)
            .money("TotalInvoiceBalance", balance, currency)
            .money("CreditBalance", 0, currency)
            .money("UnappliedBalance", 0, currency)
            .money("Mrr", mrr, currency)
            .set("AutoPay", Value::Boolean(self.rng.random_bool(0.5)))
            .set(
                "BillCycleDay",
                Value::Integer(self.rng.random_range(1..=28)),
            )
            .text("PaymentTerm", "Net 30")
            .text("Batch", "Batch1")
            .id("BillToId", contacts[0])
            .id("SoldToId", contacts[contacts.len() - 1])
            .text("SequenceSetId", format_id(self.rng.random()))
            .text("Region__c", if currency == "USD" { "AMER" } else { "EMEA" });
        if balance != 0 {
            row.date("LastInvoiceDate", self.today());
        }
        self.store(row);
        account
    }

    fn insert_contact(&mut self, account: u128, n: usize) -> u128 {
        const FIRST: &[&str] = &["Zoë", "José", "Søren", "Noor", "Hiro", "Amy"];
        const LAST: &[&str] = &["O'Brien", "Müller", "Nakamura", "García", "Smith"];
        let (id, mut row) = self.draft(self.objects.contact);
        row.id("AccountId", account)
            .text("FirstName", FIRST[self.rng.random_range(0..FIRST.len())])
            .text("LastName", LAST[self.rng.random_range(0..LAST.len())])
            .text(
                "WorkEmail",
                format!("contact.{n}.{:08x}@example.com", id as u32),
            )
            .text("Address1", TEXTS[self.rng.random_range(0..TEXTS.len())])
            .text("City", "Saint-Étienne")
            .text("PostalCode", "42000")
            .text("Country", "France");
        self.store(row);
        id
    }

    /// One subscription (version 1) on a random product rate plan; returns its MRR in minor
    /// units and adds its charges to `billable`.
    fn insert_subscription(
        &mut self,
        account: u128,
        currency: &str,
        billable: &mut Vec<NewCharge>,
    ) -> i64 {
        let o = self.objects;
        let Some(plan) = self.random_row(o.product_rate_plan, |_, _| true) else {
            return 0;
        };
        let today = self.today();
        let (id, mut row) = self.draft(o.subscription);
        let name = self.number("A-S");
        row.text("Name", name.clone())
            .id("AccountId", account)
            .id("InvoiceOwnerId", account)
            .text("Status", "Active")
            .set("Version", Value::Integer(1))
            .id("OriginalId", id)
            .set("IsLatestVersion", Value::Boolean(true))
            .text("TermType", "TERMED")
            .set("InitialTerm", Value::Integer(12))
            .set("CurrentTerm", Value::Integer(12))
            .set("RenewalTerm", Value::Integer(12))
            .set("AutoRenew", Value::Boolean(true))
            .date("SubscriptionStartDate", today)
            .date("SubscriptionEndDate", plus_months(today, 12))
            .date("TermStartDate", today)
            .date("TermEndDate", plus_months(today, 12))
            .date("ContractEffectiveDate", today)
            .date("ServiceActivationDate", today)
            .text("Currency", currency)
            .time("OriginalCreatedDate", self.seconds);

        let plan_def = self.tenant.def(o.product_rate_plan);
        let plan_row = self.existing(o.product_rate_plan, plan).clone();
        let product = plan_row.id_in(plan_def.position("ProductId"));
        let product_def = self.tenant.def(o.product);
        let sku = product
            .and_then(|p| self.tenant.current(o.product, p))
            .and_then(|p| text_of(p, &product_def, "SKU"));
        let (plan_id, mut rate_plan) = self.draft(o.rate_plan);
        rate_plan
            .id("SubscriptionId", id)
            .id("ProductRatePlanId", plan)
            .maybe_text("Name", text_of(&plan_row, &plan_def, "Name"))
            .text("SubscriptionRatePlanNumber", self.number("SRP-"))
            .set("Reverted", Value::Boolean(false));
        if let Some(product) = product {
            rate_plan.id("ProductId", product);
        }
        self.store(rate_plan);

        let charges = self.children(
            o.product_rate_plan_charge,
            "ProductRatePlanId",
            &BTreeSet::from([plan]),
        );
        let mut mrr = 0;
        for product_charge in charges {
            let charge = self.insert_rate_plan_charge(id, plan_id, product_charge, currency);
            let (charge, charge_mrr) = charge;
            mrr += charge_mrr;
            billable.push(NewCharge {
                subscription_number: name.clone(),
                sku: sku.clone(),
                ..charge
            });
        }
        row.money("CMRR", mrr, currency);
        self.store(row);
        mrr
    }

    fn insert_rate_plan_charge(
        &mut self,
        subscription: u128,
        rate_plan: u128,
        product_charge: u128,
        currency: &str,
    ) -> (NewCharge, i64) {
        let o = self.objects;
        let catalog_def = self.tenant.def(o.product_rate_plan_charge);
        let catalog = self
            .existing(o.product_rate_plan_charge, product_charge)
            .clone();
        let text = |name| text_of(&catalog, &catalog_def, name);
        let (name, charge_type) = (text("Name").unwrap_or_default(), text("ChargeType"));
        let (period, uom) = (text("BillingPeriod"), text("UOM"));
        let unit = local_minor(self.rng.random_range(5..=2_000) * 100 - 1, currency);
        let tenths = self.rng.random_range(1..=50) * 10;
        let recurring = charge_type.as_deref() == Some("Recurring");
        let mrr = match (recurring, &period) {
            (true, Some(period)) => unit * tenths / 10 / months_in(period),
            _ => 0,
        };

        let today = self.today();
        let (id, mut row) = self.draft(o.rate_plan_charge);
        let number = self.number("C-");
        let accounting_code = self
            .rng
            .random_bool(0.7)
            .then(|| ACCOUNTING_CODES[0].to_string());
        row.id("RatePlanId", rate_plan)
            .id("ProductRatePlanChargeId", product_charge)
            .id("SubscriptionId", subscription)
            .text("ChargeNumber", number.clone())
            .text("Name", name.clone())
            .maybe_text("ChargeType", charge_type)
            .maybe_text("ChargeModel", text("ChargeModel"))
            .maybe_text("BillingPeriod", period)
            .maybe_text("UOM", uom.clone())
            .decimal("Quantity", tenths_text(tenths))
            .date("EffectiveStartDate", today)
            .date("EffectiveEndDate", plus_months(today, 12))
            .set("Segment", Value::Integer(1))
            .set("Version", Value::Integer(1))
            .set("IsLastSegment", Value::Boolean(true))
            .id("OriginalId", id)
            .maybe_text("TriggerEvent", text("TriggerEvent"))
            .maybe_text("AccountingCode", accounting_code.clone())
            .text("RevenueRecognitionRuleName", "Recognize upon invoicing");
        if recurring {
            row.money("MRR", mrr, currency)
                .money("DMRC", mrr, currency)
                .money("TCV", mrr * 12, currency)
                .money("DTCV", mrr * 12, currency)
                .date("ChargedThroughDate", today)
                .date("ProcessedThroughDate", today);
        }
        self.store(row);
        let charge = NewCharge {
            subscription_id: subscription,
            subscription_number: String::new(),
            id,
            product_charge_id: product_charge,
            name,
            number,
            uom,
            sku: None,
            unit_minor: unit.max(1),
            accounting_code,
        };
        (charge, mrr)
    }

    /// A posted invoice of one to three items, paid in full half of the time; returns what
    /// is left to pay, in minor units.
    fn insert_invoice(&mut self, account: u128, currency: &str, charges: &[NewCharge]) -> i64 {
        let o = self.objects;
        let today = self.today();
        let (id, mut row) = self.draft(o.invoice);
        let mut total = 0;
        for _ in 0..self.rng.random_range(1..=3) {
            total += self.insert_item(id, currency, charges);
        }
        let paid = match self.rng.random_bool(0.5) {
            true => self.insert_payment(account, currency, total),
            false => 0,
        };
        let poster = self.user();
        row.text("InvoiceNumber", self.number("INV"))
            .id("AccountId", account)
            .text("Status", "Posted")
            .date("InvoiceDate", today)
            .date("TargetDate", today)
            .date("DueDate", plus_days(today, 30))
            .money("Amount", total, currency)
            .money("AmountWithoutTax", total, currency)
            .money("TaxAmount", 0, currency)
            .money("Balance", total - paid, currency)
            .money("PaymentAmount", paid, currency)
            .money("RefundAmount", 0, currency)
            .money("CreditMemoAmount", 0, currency)
            .money("AdjustmentAmount", 0, currency)
            .text("Currency", currency)
            .time("PostedDate", self.seconds)
            .text("PostedBy", poster)
            .text(
                "SourceType",
                if charges.is_empty() {
                    "Standalone"
                } else {
                    "Subscription"
                },
            );
        self.store(row);
        total - paid
    }

    fn insert_item(&mut self, invoice: u128, currency: &str, charges: &[NewCharge]) -> i64 {
        let (_, mut row) = self.draft(self.objects.invoice_item);
        let today = self.today();
        row.id("InvoiceId", invoice);
        let unit = match charges.is_empty() {
            true => {
                row.text("ChargeName", "Professional Services");
                local_minor(self.rng.random_range(50..=5_000) * 100, currency)
            }
            false => {
                let charge = &charges[self.rng.random_range(0..charges.len())];
                row.id("SubscriptionId", charge.subscription_id)
                    .text("SubscriptionNumber", charge.subscription_number.clone())
                    .id("RatePlanChargeId", charge.id)
                    .id("ProductRatePlanChargeId", charge.product_charge_id)
                    .text("ChargeName", charge.name.clone())
                    .text("ChargeNumber", charge.number.clone())
                    .maybe_text("UOM", charge.uom.clone())
                    .maybe_text("SKU", charge.sku.clone())
                    .maybe_text("AccountingCode", charge.accounting_code.clone());
                charge.unit_minor
            }
        };
        row.money("ChargeAmount", unit, currency)
            .money("TaxAmount", 0, currency)
            .money("UnitPrice", unit, currency)
            .decimal("Quantity", "1.0")
            .date("ServiceStartDate", today)
            .date("ServiceEndDate", plus_months(today, 1) - Days::new(1))
            .time("ChargeDate", self.seconds)
            .text("ProcessingType", "Charge")
            .money("Balance", unit, currency);
        self.store(row);
        unit
    }

    fn insert_payment(&mut self, account: u128, currency: &str, amount: i64) -> i64 {
        let (_, mut row) = self.draft(self.objects.payment);
        let reference = format_id(self.rng.random());
        row.text("PaymentNumber", self.number("P-"))
            .id("AccountId", account)
            .money("Amount", amount, currency)
            .money("AppliedAmount", amount, currency)
            .money("UnappliedAmount", 0, currency)
            .money("RefundAmount", 0, currency)
            .text("Currency", currency)
            .date("EffectiveDate", self.today())
            .text("Status", "Processed")
            .text("Type", "Electronic")
            .id("PaymentMethodId", self.rng.random())
            .text("GatewayState", "Settled")
            .text("ReferenceId", format!("ch_{}", &reference[..24]))
            .time("SubmittedOn", self.seconds)
            .time("SettledOn", self.seconds)
            .text("GatewayResponse", "Approved");
        self.store(row);
        amount
    }

    /// A row of `object` with a fresh id, created and updated now by a random user.
    fn draft(&mut self, object: usize) -> (u128, Draft) {
        let id = self.rng.random();
        self.draft_with(object, id)
    }

    fn draft_with(&mut self, object: usize, id: u128) -> (u128, Draft) {
        let mut draft = Draft::new(object);
        let (creator, updater) = (self.user(), self.user());
        draft
            .id("Id", id)
            .text("CreatedById", creator)
            .text("UpdatedById", updater)
            .time("CreatedDate", self.seconds)
            .time("UpdatedDate", self.seconds);
        (id, draft)
    }

    fn store(&mut self, mut draft: Draft) {
        let def = self.tenant.def(draft.object);
        draft.values.resize(def.fields.len(), None);
        let row = Row::new(&def, &draft.values);
        let id = row.id;
        self.commit_touched(draft.object, id, row);
        MutationReport::note(&mut self.report.inserted, draft.object, id);
    }

    /// Commits a row that a user created or changed now. Each field added to the schema since
    /// generation that the row has null gets a value first: users start filling a new field,
    /// and only rows they touch get it.
    fn commit_touched(&mut self, object: usize, id: u128, row: Row) {
        let def = self.tenant.def(object);
        let mut fills = Vec::new();
        for (at, field) in def.live_fields() {
            if field.added
                && row.field(at).is_none()
                && let Some(value) = self.random_value(field, None)
            {
                fills.push((at, Some(value)));
            }
        }
        let row = match fills.is_empty() {
            true => row,
            false => row.with_values(&def, &fills),
        };
        self.tenant.commit(object, id, Some(row), self.at);
    }

    /// The changes that make a copied row a new one: id and audit fields.
    fn created(&mut self, def: &ObjectDef, id: u128) -> Vec<(usize, Option<Value>)> {
        let now = Value::DateTime(self.report.at);
        let (creator, updater) = (self.user(), self.user());
        vec![
            (ID, Some(Value::Text(format_id(id)))),
            (def.position("CreatedById"), Some(Value::Text(creator))),
            (def.created_date(), Some(now.clone())),
            (def.position("UpdatedById"), Some(Value::Text(updater))),
            (def.updated_date(), Some(now)),
        ]
    }

    /// The changes every bumped update makes: UpdatedDate now, by a random user.
    fn bump(&mut self, def: &ObjectDef) -> [(usize, Option<Value>); 2] {
        [
            (def.position("UpdatedById"), Some(Value::Text(self.user()))),
            (def.updated_date(), Some(Value::DateTime(self.report.at))),
        ]
    }

    /// A new value for field `at` of `row`, of the field's type, sometimes null when the field
    /// is optional.
    fn fresh_value(&mut self, def: &ObjectDef, at: usize, row: &Row) -> Option<Value> {
        let field = &def.fields[at];
        if !field.required && self.rng.random_bool(0.1) {
            return None;
        }
        let current = row.value(def, at);
        self.random_value(field, current)
    }

    /// A random value of the field's type, another than `current` where the type allows;
    /// `None` only for a picklist without options.
    fn random_value(&mut self, field: &FieldDef, current: Option<Value>) -> Option<Value> {
        Some(match field.field_type {
            FieldType::Picklist => {
                let every: Vec<&str> = field.options.iter().map(String::as_str).collect();
                let other: Vec<&str> = every
                    .iter()
                    .copied()
                    .filter(|&o| !matches!(&current, Some(Value::Text(c)) if c == o))
                    .collect();
                let options = if other.is_empty() { every } else { other };
                if options.is_empty() {
                    return None;
                }
                Value::Text(options[self.rng.random_range(0..options.len())].to_string())
            }
            FieldType::Text => Value::Text(match self.rng.random_bool(0.7) {
                true => TEXTS[self.rng.random_range(0..TEXTS.len())].to_string(),
                false => format!("Updated {}", self.rng.random_range(1..100_000)),
            }),
            FieldType::Boolean => Value::Boolean(current != Some(Value::Boolean(true))),
            FieldType::Integer => Value::Integer(match field.name.as_str() {
                "BillCycleDay" => self.rng.random_range(1..=28),
                "Grade" => self.rng.random_range(1..=3),
                _ => self.rng.random_range(1..=36),
            }),
            FieldType::Decimal => Value::Decimal(match self.rng.random_bool(0.6) {
                true => DECIMALS[self.rng.random_range(0..DECIMALS.len())].to_string(),
                false => money_text(self.rng.random_range(-10_000..1_000_000), "USD"),
            }),
            FieldType::Date => {
                let start = NaiveDate::from_ymd_opt(2023, 1, 1).expect("a valid date");
                Value::Date(plus_days(start, self.rng.random_range(0..1_800)))
            }
            FieldType::Datetime => Value::DateTime(self.report.at),
        })
    }

    fn find(&self, object: usize, id: u128) -> Result<&Row, String> {
        self.tenant.current(object, id).ok_or_else(|| {
            let name = CATALOG.objects[object].name;
            format!("{name} has no id {}", format_id(id))
        })
    }

    /// A row that the data's own links say exists.
    fn existing(&self, object: usize, id: u128) -> &Row {
        self.tenant.current(object, id).unwrap_or_else(|| {
            let name = CATALOG.objects[object].name;
            panic!("{name} has no id {}", format_id(id))
        })
    }

    fn number(&mut self, prefix: &str) -> String {
        let n = self.tenant.next_number;
        self.tenant.next_number += 1;
        format!("{prefix}{n:08}")
    }

    fn user(&mut self) -> String {
        self.users[self.rng.random_range(0..self.users.len())].clone()
    }

    fn today(&self) -> NaiveDate {
        self.at.date_naive()
    }

    fn pick<T: Copy>(&mut self, choices: &[(T, u32)]) -> T {
        crate::emulator::pick_weighted(&mut *self.rng, choices)
    }
}

/// A random stream for one `mutate(seed, ..)` call.
pub(crate) fn batch_rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed ^ 0x6d75_7461_7465_0004)
}

/// Whether a bumped update may change field `at`: not a removed field, not the id, the audit
/// fields, foreign keys, numbers or currencies (Zuora does not let those change), not the
/// subscription version fields that only amendments move, and not the fields Zuora changes
/// without a bump.
fn updatable(object: &ObjectDef, at: usize) -> bool {
    let name = object.fields[at].name.as_str();
    let key = object.fields[at].removed || object.is_key(at);
    let audit = matches!(name, "CreatedById" | "UpdatedById" | "OriginalCreatedDate");
    let reference = name.ends_with("Id") && !matches!(name, "CrmId" | "VATId");
    let number = name.ends_with("Number") || matches!(name, "SKU" | "Currency");
    let versioning = object.name == "Subscription"
        && matches!(name, "Name" | "Version" | "IsLatestVersion" | "Status");
    let unbumped = UNBUMPED.contains(&(object.name, name));
    !(key || audit || reference || number || versioning || unbumped)
}

/// The account that uses a contact as its bill-to or sold-to contact, if any.
fn contact_user(tenant: &Tenant, objects: &Objects, contact: &Row) -> Option<u128> {
    let contact_def = &tenant.schema[objects.contact];
    let account = contact.id_in(contact_def.position("AccountId"))?;
    let account_def = &tenant.schema[objects.account];
    let row = tenant.current(objects.account, account)?;
    let uses = |field| row.id_in(account_def.position(field)) == Some(contact.id);
    (uses("BillToId") || uses("SoldToId")).then_some(account)
}

fn text_of(row: &Row, def: &ObjectDef, field: &str) -> Option<String> {
    match row.value(def, def.position(field))? {
        Value::Text(text) => Some(text),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::generate::{generate, users};
    use super::*;

    /// A time after every generated row, as the emulator clock always is.
    fn after_data() -> DateTime<Utc> {
        DateTime::from_timestamp(1_790_000_000, 0).unwrap()
    }

    fn with_mutator<T>(
        tenant: &mut Tenant,
        seed: u64,
        change: impl FnOnce(&mut Mutator) -> T,
    ) -> (T, MutationReport) {
        let mut rng = batch_rng(seed);
        let users = users(1);
        let mut mutator = Mutator::new(tenant, &mut rng, &users, after_data());
        let out = change(&mut mutator);
        (out, mutator.finish())
    }

    fn ids(tenant: &Tenant, object: &str) -> BTreeSet<u128> {
        let mut ids = BTreeSet::new();
        tenant.for_each_current(CATALOG.index(object), |row| {
            ids.insert(row.id);
        });
        ids
    }

    fn assert_links_hold(tenant: &Tenant) {
        for &(object, field, target) in super::super::catalog::FOREIGN_KEYS {
            let targets = ids(tenant, target);
            let at = CATALOG.objects[CATALOG.index(object)].position(field);
            tenant.for_each_current(CATALOG.index(object), |row| {
                if let Some(id) = row.id_in(at) {
                    assert!(
                        targets.contains(&id),
                        "{object}.{field} of {} points at a missing {target}",
                        format_id(row.id)
                    );
                }
            });
        }
    }

    /// The (UpdatedDate, Id) and (CreatedDate, Id) indexes hold exactly the rows' keys, and
    /// the keys agree with the rows' JSON text.
    fn assert_indexes_hold(tenant: &Tenant) {
        for (def, table) in CATALOG.objects.iter().zip(&tenant.tables) {
            let by_updated: BTreeSet<(i64, u128)> =
                table.rows.values().map(|r| (r.updated, r.id)).collect();
            assert_eq!(table.by_updated, by_updated, "{}", def.name);
            assert_eq!(table.by_created.len(), table.rows.len(), "{}", def.name);
            for row in table.rows.values() {
                let updated = match row.value(def, def.updated_date()) {
                    Some(Value::DateTime(at)) => at.timestamp(),
                    other => panic!("{}: {other:?}", def.name),
                };
                assert_eq!(updated, row.updated, "{}", def.name);
                assert_eq!(row.id_in(ID), Some(row.id));
            }
        }
    }

    fn value(tenant: &Tenant, object: &str, id: u128, field: &str) -> Option<Value> {
        let def = &CATALOG.objects[CATALOG.index(object)];
        tenant
            .current(CATALOG.index(object), id)
            .unwrap()
            .value(def, def.position(field))
    }

    #[test]
    fn random_batches_repeat_for_a_seed_and_keep_keys_and_indexes_right() {
        let run = |seed: u64| {
            let mut tenant = generate(8, 30);
            let mut reports = Vec::new();
            for batch in 0..6 {
                reports.push(with_mutator(&mut tenant, seed + batch, |m| m.random(40)).1);
            }
            (tenant, reports)
        };
        let (tenant, reports) = run(1);
        let (_, again) = run(1);
        assert_eq!(reports, again);
        assert_ne!(reports, run(2).1);

        let all = |pick: fn(&MutationReport) -> usize| reports.iter().map(pick).sum::<usize>();
        assert!(all(|r| r.inserted.len()) > 0 && all(|r| r.updated.len()) > 0);
        assert!(all(|r| r.unbumped.len()) > 0 && all(|r| r.deleted.len()) > 0);
        assert!(all(|r| r.amended.len()) > 0);
        assert_links_hold(&tenant);
        assert_indexes_hold(&tenant);
    }

    #[test]
    fn an_update_moves_updated_date_to_now_and_changes_fields() {
        let mut tenant = generate(8, 10);
        let object = CATALOG.index("Account");
        let id = *tenant.tables[object].rows.keys().nth(3).unwrap();
        let before = tenant.current(object, id).unwrap().clone();
        let (result, report) = with_mutator(&mut tenant, 1, |m| m.update(object, id));
        result.unwrap();
        let after = tenant.current(object, id).unwrap();
        assert_eq!(after.updated, after_data().timestamp());
        assert_eq!(after.created, before.created);
        let def = &CATALOG.objects[object];
        let changed = (0..def.fields.len())
            .filter(|&at| before.field(at) != after.field(at))
            .map(|at| def.fields[at].name.as_str())
            .collect::<Vec<_>>();
        assert!(changed.contains(&"UpdatedDate"), "{changed:?}");
        assert!(
            changed.len() >= 2,
            "a field besides the audit ones: {changed:?}"
        );
        assert_eq!(report.updated["Account"], [format_id(id)]);
        assert_indexes_hold(&tenant);
    }

    #[test]
    fn unbumped_updates_leave_updated_date_alone() {
        let mut tenant = generate(8, 10);
        let charge = CATALOG.index("RatePlanCharge");
        let id = *tenant.tables[charge].rows.keys().next().unwrap();
        let before = tenant.current(charge, id).unwrap().clone();
        let (result, report) = with_mutator(&mut tenant, 1, |m| m.update_without_bump(charge, id));
        result.unwrap();
        let after = tenant.current(charge, id).unwrap();
        assert_eq!(after.updated, before.updated);
        let def = &CATALOG.objects[charge];
        let through = def.position("ChargedThroughDate");
        assert_ne!(after.field(through), before.field(through));
        assert_eq!(report.unbumped["RatePlanCharge"], [format_id(id)]);

        let item = CATALOG.index("InvoiceItem");
        let id = *tenant.tables[item].rows.keys().next().unwrap();
        let code = |t: &Tenant| value(t, "InvoiceItem", id, "AccountingCode");
        let old = code(&tenant);
        with_mutator(&mut tenant, 2, |m| m.update_without_bump(item, id))
            .0
            .unwrap();
        assert_ne!(code(&tenant), old);

        let account = CATALOG.index("Account");
        let id = *tenant.tables[account].rows.keys().next().unwrap();
        let refused = with_mutator(&mut tenant, 3, |m| m.update_without_bump(account, id)).0;
        assert!(refused.unwrap_err().contains("only with a new UpdatedDate"));
    }

    #[test]
    fn an_amendment_adds_a_version_and_expires_the_old_one() {
        let mut tenant = generate(8, 20);
        let subscription = CATALOG.index("Subscription");
        let def = &CATALOG.objects[subscription];
        let latest = def.position("IsLatestVersion");
        let old = *tenant.tables[subscription]
            .rows
            .values()
            .find(|r| r.field(latest) == Some("true"))
            .map(|r| &r.id)
            .unwrap();
        let (new, report) = with_mutator(&mut tenant, 1, |m| m.amend_subscription(old));
        let new = new.unwrap();

        let field = |id, name| value(&tenant, "Subscription", id, name);
        assert_eq!(field(old, "Status"), Some(Value::Text("Expired".into())));
        assert_eq!(field(old, "IsLatestVersion"), Some(Value::Boolean(false)));
        assert_eq!(field(new, "IsLatestVersion"), Some(Value::Boolean(true)));
        let version = |id| match field(id, "Version") {
            Some(Value::Integer(v)) => v,
            other => panic!("{other:?}"),
        };
        assert_eq!(version(new), version(old) + 1);
        assert_eq!(field(new, "Name"), field(old, "Name"));
        assert_eq!(
            field(new, "PreviousSubscriptionId"),
            Some(Value::Text(format_id(old)))
        );
        let original = field(old, "OriginalId");
        assert!(original.is_some());
        assert_eq!(field(new, "OriginalId"), original);
        let now = after_data().timestamp();
        assert_eq!(tenant.current(subscription, old).unwrap().updated, now);
        assert_eq!(tenant.current(subscription, new).unwrap().created, now);

        let plans = |id| {
            let rate_plan = CATALOG.index("RatePlan");
            let at = CATALOG.objects[rate_plan].position("SubscriptionId");
            let mut n = 0;
            tenant.for_each_current(rate_plan, |r| n += usize::from(r.id_in(at) == Some(id)));
            n
        };
        assert!(plans(old) > 0);
        assert_eq!(plans(new), plans(old));
        assert_eq!(report.amended, [(format_id(old), format_id(new))]);
        assert!(report.inserted["RatePlanCharge"].len() >= plans(new));

        let again = with_mutator(&mut tenant, 2, |m| m.amend_subscription(old)).0;
        assert!(again.unwrap_err().contains("not the latest version"));
        assert_links_hold(&tenant);
    }

    #[test]
    fn deleting_an_account_takes_its_tree_and_keeps_every_key_valid() {
        let mut tenant = generate(8, 20);
        let account = CATALOG.index("Account");
        // The bulk account has contacts, subscriptions, invoices, items and payments.
        let number = CATALOG.objects[account].position("AccountNumber");
        let id = tenant.tables[account]
            .rows
            .values()
            .find(|r| r.field(number) == Some("\"A00000001\""))
            .unwrap()
            .id;
        let (result, report) = with_mutator(&mut tenant, 1, |m| m.delete(account, id));
        result.unwrap();
        for object in [
            "Account",
            "Contact",
            "Subscription",
            "RatePlan",
            "Invoice",
            "InvoiceItem",
        ] {
            assert!(!report.deleted[object].is_empty(), "{object}");
            for gone in &report.deleted[object] {
                let gone = super::super::tenant::parse_id(gone).unwrap();
                assert!(tenant.current(CATALOG.index(object), gone).is_none());
            }
        }
        assert!(
            report.deleted["InvoiceItem"].len() > 150,
            "the bill-run invoice went too"
        );
        let kept = tenant.deleted(account);
        assert_eq!((kept[0].row.id, kept[0].at), (id, after_data()));
        assert_links_hold(&tenant);
        assert_indexes_hold(&tenant);
    }

    #[test]
    fn deletions_refuse_what_zuora_refuses() {
        let mut tenant = generate(8, 10);
        let contact = CATALOG.index("Contact");
        let bill_to = *tenant.tables[contact].rows.keys().next().unwrap();
        let refused = with_mutator(&mut tenant, 1, |m| m.delete(contact, bill_to)).0;
        assert!(refused.unwrap_err().contains("bill-to or sold-to"));
        let product = CATALOG.index("Product");
        let id = *tenant.tables[product].rows.keys().next().unwrap();
        let refused = with_mutator(&mut tenant, 1, |m| m.delete(product, id)).0;
        assert!(refused.unwrap_err().contains("go with their account"));
        let missing = with_mutator(&mut tenant, 1, |m| m.delete(contact, 42)).0;
        assert!(missing.unwrap_err().contains("has no id"));
        assert!(tenant.tables[contact].rows.contains_key(&bill_to));
    }

    #[test]
    fn an_inserted_account_has_linked_children_stamped_now() {
        let mut tenant = generate(8, 10);
        let accounts_before = tenant.tables[CATALOG.index("Account")].len();
        let mut reports = Vec::new();
        for seed in 0..8 {
            reports.push(with_mutator(&mut tenant, seed, |m| m.insert_account()).1);
        }
        assert_eq!(
            tenant.tables[CATALOG.index("Account")].len(),
            accounts_before + 8
        );
        let inserted = |object: &str| {
            reports
                .iter()
                .filter_map(|r| r.inserted.get(object))
                .count()
        };
        for object in [
            "Contact",
            "Subscription",
            "RatePlanCharge",
            "Invoice",
            "InvoiceItem",
        ] {
            assert!(inserted(object) > 0, "{object}");
        }
        let numbers: BTreeSet<String> = reports
            .iter()
            .map(|r| {
                let id = super::super::tenant::parse_id(&r.inserted["Account"][0]).unwrap();
                format!("{:?}", value(&tenant, "Account", id, "AccountNumber"))
            })
            .collect();
        assert_eq!(numbers.len(), 8, "account numbers are not reused");
        for (def, table) in CATALOG.objects.iter().zip(&tenant.tables) {
            for row in table
                .rows
                .values()
                .filter(|r| r.created == after_data().timestamp())
            {
                assert_eq!(row.updated, row.created, "{}", def.name);
            }
        }
        assert_links_hold(&tenant);
        assert_indexes_hold(&tenant);
    }
}
