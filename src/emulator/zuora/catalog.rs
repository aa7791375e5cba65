//! The objects the emulated tenant knows and the Describe fields of each: name, label, type,
//! picklist options, contexts, and whether Object Query may filter or sort on the field. This
//! table is the single source for Describe XML, Object Query JSON keys and the generator.
//!
//! Each tenant starts from a copy of the table and may drift from it between runs: custom
//! fields added at the end, fields removed (their position kept, hidden, so stored rows need
//! no re-layout) and fields given another type. Without drift the copy equals the table.

use std::collections::HashMap;
use std::sync::LazyLock;

/// A Describe field type, spelled as Zuora spells it in `<type>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldType {
    Text,
    Picklist,
    Boolean,
    Integer,
    Decimal,
    Date,
    Datetime,
}

impl FieldType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Picklist => "picklist",
            Self::Boolean => "boolean",
            Self::Integer => "integer",
            Self::Decimal => "decimal",
            Self::Date => "date",
            Self::Datetime => "datetime",
        }
    }
}

/// One Describe field, as tests see it through [`super::Emulator::describe_fields`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSpec {
    /// The Describe name, PascalCase (`AccountNumber`, `VATId`, `Region__c`).
    pub name: String,
    pub label: String,
    pub field_type: FieldType,
    /// `["soap", "export"]`, or `["soap"]` for a field that exports reject.
    pub contexts: Vec<String>,
    /// Picklist values in Describe order; empty for other types.
    pub options: Vec<String>,
    pub required: bool,
    /// The Object Query key: the Describe name with its first letter lowercased.
    pub json_key: String,
    /// Whether Object Query accepts the field in `filter[]` and `sort[]`.
    pub filterable: bool,
}

/// A field as the emulator uses it internally.
#[derive(Debug, Clone)]
pub(crate) struct FieldDef {
    pub name: String,
    pub label: String,
    pub field_type: FieldType,
    pub options: Vec<String>,
    pub exported: bool,
    pub filterable: bool,
    pub required: bool,
    pub json_key: String,
    /// `"jsonKey":`, written before the value of every record, so pages are built by copying.
    pub key_prefix: String,
    /// Added to the tenant after generation: a mutation that touches a row fills it when it
    /// is null, as users start filling a new field.
    pub added: bool,
    /// Removed from the tenant: its position stays so rows keep their layout, but Describe,
    /// Object Query and records no longer show it and rows no longer hold values for it.
    pub removed: bool,
}

impl FieldDef {
    fn new(name: &str, field_type: FieldType) -> Self {
        let json_key = json_key(name);
        Self {
            name: name.to_string(),
            label: label(name),
            field_type,
            options: Vec::new(),
            exported: true,
            filterable: true,
            required: false,
            key_prefix: format!("\"{json_key}\":"),
            json_key,
            added: false,
            removed: false,
        }
    }

    /// The field lacks the `export` context: Object Query still returns it, exports do not.
    /// Such fields are never filterable.
    fn soap_only(mut self) -> Self {
        self.exported = false;
        self.filterable = false;
        self
    }

    /// Free text (addresses, descriptions, non-indexed custom fields) that Zuora does not list
    /// among a query's filterable fields.
    fn free_text(mut self) -> Self {
        self.filterable = false;
        self
    }

    fn required(mut self) -> Self {
        self.required = true;
        self
    }

    pub fn contexts(&self) -> &'static [&'static str] {
        if self.exported {
            &["soap", "export"]
        } else {
            &["soap"]
        }
    }

    pub fn spec(&self) -> FieldSpec {
        FieldSpec {
            name: self.name.clone(),
            label: self.label.clone(),
            field_type: self.field_type,
            contexts: self.contexts().iter().map(|c| c.to_string()).collect(),
            options: self.options.clone(),
            required: self.required,
            json_key: self.json_key.clone(),
            filterable: self.filterable,
        }
    }
}

fn text(name: &'static str) -> FieldDef {
    FieldDef::new(name, FieldType::Text)
}
fn picklist(name: &'static str, options: &'static [&'static str]) -> FieldDef {
    FieldDef {
        options: options.iter().map(|o| o.to_string()).collect(),
        ..FieldDef::new(name, FieldType::Picklist)
    }
}
fn boolean(name: &'static str) -> FieldDef {
    FieldDef::new(name, FieldType::Boolean)
}
fn integer(name: &'static str) -> FieldDef {
    FieldDef::new(name, FieldType::Integer)
}
fn decimal(name: &'static str) -> FieldDef {
    FieldDef::new(name, FieldType::Decimal)
}
fn date(name: &'static str) -> FieldDef {
    FieldDef::new(name, FieldType::Date)
}
fn datetime(name: &'static str) -> FieldDef {
    FieldDef::new(name, FieldType::Datetime)
}

/// A relation listed under `<related-objects>`: the role name and the object it points at.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Related {
    pub name: &'static str,
    pub object: &'static str,
}

#[derive(Debug, Clone)]
pub(crate) struct ObjectDef {
    pub name: &'static str,
    pub label: String,
    /// The Object Query path segment (`invoice-items`).
    pub path: &'static str,
    /// Every field ever defined, removed ones included, in row layout order.
    pub fields: Vec<FieldDef>,
    pub related: &'static [Related],
    /// The positions of the fields not removed, in order: the selection of a query without
    /// `fields[]`, and the fields Describe lists.
    pub every_field: Vec<usize>,
    /// The position of each field name as first defined: the emulator's own changes name
    /// catalog fields, and a field added later under a removed one's name is another field.
    positions: HashMap<String, usize>,
    created_date: usize,
    updated_date: usize,
}

/// Positions of the fields every object carries, fixed so the store can find them without a
/// lookup: `Id` first, the four audit fields last.
pub(crate) const ID: usize = 0;

impl ObjectDef {
    fn new(
        name: &'static str,
        path: &'static str,
        own: Vec<FieldDef>,
        related: &'static [Related],
    ) -> Self {
        let mut fields = vec![text(ID_NAME).required()];
        fields.extend(own);
        fields.push(text("CreatedById").required());
        fields.push(datetime(CREATED_DATE).required());
        fields.push(text("UpdatedById").required());
        fields.push(datetime(UPDATED_DATE).required());
        let positions = fields
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name.clone(), i))
            .collect();
        let every_field = (0..fields.len()).collect();
        let (created_date, updated_date) = (fields.len() - 3, fields.len() - 1);
        Self {
            name,
            label: label(name),
            path,
            fields,
            related,
            every_field,
            positions,
            created_date,
            updated_date,
        }
    }

    /// The position of a field by its exact Describe name; a removed field keeps its position,
    /// where rows hold no value.
    ///
    /// # Panics
    /// When the object has no such field: callers name fields from this file's table.
    pub fn position(&self, name: &str) -> usize {
        match self.positions.get(name) {
            Some(&at) => at,
            None => panic!("{} has no field named {name}", self.name),
        }
    }

    /// A field not removed, by Describe name or JSON key, ignoring case, as Object Query
    /// parameters name them.
    pub fn find_field(&self, name: &str) -> Option<usize> {
        self.fields
            .iter()
            .position(|f| !f.removed && f.name.eq_ignore_ascii_case(name))
    }

    /// The fields not removed, with their positions, in order.
    pub fn live_fields(&self) -> impl Iterator<Item = (usize, &FieldDef)> {
        self.every_field.iter().map(|&at| (at, &self.fields[at]))
    }

    pub fn created_date(&self) -> usize {
        self.created_date
    }

    pub fn updated_date(&self) -> usize {
        self.updated_date
    }

    /// Whether field `at` holds the id or an audit date: the keys of the store's indexes and
    /// of cursors, which must keep their type and stay.
    pub fn is_key(&self, at: usize) -> bool {
        at == ID || at == self.created_date || at == self.updated_date
    }

    /// Appends a custom field: exported, optional and, like a non-indexed custom field, not
    /// filterable. Returns its position.
    pub fn add_custom_field(
        &mut self,
        name: &str,
        field_type: FieldType,
        options: Vec<String>,
    ) -> usize {
        let at = self.fields.len();
        let field = FieldDef {
            options,
            added: true,
            ..FieldDef::new(name, field_type).free_text()
        };
        self.fields.push(field);
        self.every_field.push(at);
        self.positions.entry(name.to_string()).or_insert(at);
        at
    }

    pub fn remove_field(&mut self, at: usize) {
        self.fields[at].removed = true;
        self.every_field.retain(|&live| live != at);
    }

    /// Gives field `at` another type; `options` are the picklist values, empty otherwise.
    pub fn retype_field(&mut self, at: usize, field_type: FieldType, options: Vec<String>) {
        let field = &mut self.fields[at];
        field.field_type = field_type;
        field.options = options;
    }
}

pub(crate) const ID_NAME: &str = "Id";
pub(crate) const CREATED_DATE: &str = "CreatedDate";
pub(crate) const UPDATED_DATE: &str = "UpdatedDate";

/// Every object of the tenant, in Describe order (alphabetical, as `objects()` promises).
pub(crate) struct Catalog {
    pub objects: Vec<ObjectDef>,
}

impl Catalog {
    /// An object by Describe name, ignoring case.
    pub fn object(&self, name: &str) -> Option<usize> {
        self.objects
            .iter()
            .position(|o| o.name.eq_ignore_ascii_case(name))
    }

    /// An object by exact Describe name.
    ///
    /// # Panics
    /// When the catalog has no such object: callers name objects from this file's table.
    pub fn index(&self, name: &str) -> usize {
        self.object(name)
            .unwrap_or_else(|| panic!("the catalog has no object {name}"))
    }

    pub fn by_path(&self, path: &str) -> Option<usize> {
        self.objects.iter().position(|o| o.path == path)
    }
}

pub(crate) static CATALOG: LazyLock<Catalog> = LazyLock::new(build);

/// `AccountNumber` → `accountNumber`, `VATId` → `vATId`, `Region__c` → `region__c`: Object
/// Query lowercases only the first letter, acronyms included.
pub(crate) fn json_key(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A display label from a Describe name: `ProductRatePlanCharge` → `Product Rate Plan Charge`,
/// `VATId` → `VAT Id`, `Region__c` → `Region`.
fn label(name: &str) -> String {
    let base = name.split("__").next().unwrap_or(name);
    let chars: Vec<char> = base.chars().collect();
    let mut out = String::with_capacity(base.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        let prev = i.checked_sub(1).map(|p| chars[p]);
        let next = chars.get(i + 1).copied();
        let starts_word = c.is_uppercase()
            && prev.is_some_and(|p| {
                p.is_lowercase() || (p.is_uppercase() && next.is_some_and(char::is_lowercase))
            });
        if starts_word {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

const CHARGE_TYPES: &[&str] = &["OneTime", "Recurring", "Usage"];
const CHARGE_MODELS: &[&str] = &[
    "Flat Fee Pricing",
    "Per Unit Pricing",
    "Tiered Pricing",
    "Volume Pricing",
];
const BILLING_PERIODS: &[&str] = &["Month", "Quarter", "Annual"];
const TRIGGER_EVENTS: &[&str] = &[
    "ContractEffective",
    "ServiceActivation",
    "CustomerAcceptance",
];
const CURRENCIES: &[&str] = &["USD", "EUR", "GBP", "CAD", "JPY"];

fn build() -> Catalog {
    let mut objects = vec![
        account(),
        contact(),
        invoice(),
        invoice_item(),
        payment(),
        product(),
        product_rate_plan(),
        product_rate_plan_charge(),
        rate_plan(),
        rate_plan_charge(),
        subscription(),
    ];
    objects.sort_by_key(|o| o.name);
    Catalog { objects }
}

fn account() -> ObjectDef {
    const RELATED: &[Related] = &[
        Related {
            name: "BillToContact",
            object: "Contact",
        },
        Related {
            name: "SoldToContact",
            object: "Contact",
        },
        Related {
            name: "ParentAccount",
            object: "Account",
        },
    ];
    let fields = vec![
        text("AccountNumber").required(),
        text("Name").required(),
        picklist("Status", &["Active", "Draft", "Canceled"]).required(),
        picklist("Currency", CURRENCIES).required(),
        decimal("Balance"),
        decimal("CreditBalance"),
        decimal("TotalInvoiceBalance"),
        decimal("UnappliedBalance"),
        decimal("Mrr"),
        boolean("AutoPay").required(),
        integer("BillCycleDay").required(),
        text("PaymentTerm"),
        text("BillToId"),
        text("SoldToId"),
        text("DefaultPaymentMethodId"),
        text("ParentId"),
        text("CrmId"),
        picklist("Batch", &["Batch1", "Batch2", "Batch3", "Batch4", "Batch5"]).required(),
        date("LastInvoiceDate"),
        text("VATId").free_text(),
        picklist("Region__c", &["AMER", "EMEA", "APAC"]),
        // A non-indexed custom field: Zuora does not filter on those.
        text("Segment__c").free_text(),
        text("SequenceSetId").soap_only(),
    ];
    ObjectDef::new("Account", "accounts", fields, RELATED)
}

fn contact() -> ObjectDef {
    const RELATED: &[Related] = &[Related {
        name: "Account",
        object: "Account",
    }];
    let fields = vec![
        text("AccountId").required(),
        text("FirstName").required(),
        text("LastName").required(),
        text("WorkEmail"),
        text("PersonalEmail"),
        text("Address1").free_text(),
        text("Address2").free_text(),
        text("City").free_text(),
        text("State").free_text(),
        text("PostalCode").free_text(),
        text("Country"),
        text("County").free_text(),
        text("TaxRegion").free_text(),
        text("WorkPhone").free_text(),
        text("Fax").soap_only(),
    ];
    ObjectDef::new("Contact", "contacts", fields, RELATED)
}

fn product() -> ObjectDef {
    let fields = vec![
        text("Name").required(),
        text("SKU").required(),
        text("ProductNumber"),
        picklist(
            "Category",
            &["Base Products", "Add On Services", "Miscellaneous Products"],
        ),
        date("EffectiveStartDate").required(),
        date("EffectiveEndDate"),
        text("Description").free_text(),
        boolean("AllowFeatureChanges").soap_only(),
    ];
    ObjectDef::new("Product", "products", fields, &[])
}

fn product_rate_plan() -> ObjectDef {
    const RELATED: &[Related] = &[Related {
        name: "Product",
        object: "Product",
    }];
    let fields = vec![
        text("ProductId").required(),
        text("Name").required(),
        text("ProductRatePlanNumber"),
        date("EffectiveStartDate"),
        date("EffectiveEndDate"),
        integer("Grade"),
        text("ActiveCurrencies").soap_only(),
    ];
    ObjectDef::new("ProductRatePlan", "product-rate-plans", fields, RELATED)
}

fn product_rate_plan_charge() -> ObjectDef {
    const RELATED: &[Related] = &[Related {
        name: "ProductRatePlan",
        object: "ProductRatePlan",
    }];
    let fields = vec![
        text("ProductRatePlanId").required(),
        text("Name").required(),
        picklist("ChargeType", CHARGE_TYPES).required(),
        picklist("ChargeModel", CHARGE_MODELS).required(),
        picklist("BillingPeriod", BILLING_PERIODS),
        decimal("DefaultQuantity"),
        text("UOM"),
        boolean("Taxable"),
        text("TaxCode"),
        picklist("TaxMode", &["TaxExclusive", "TaxInclusive"]),
        picklist("TriggerEvent", TRIGGER_EVENTS),
        text("ProductRatePlanChargeNumber"),
        text("Formula").soap_only(),
    ];
    ObjectDef::new(
        "ProductRatePlanCharge",
        "product-rate-plan-charges",
        fields,
        RELATED,
    )
}

fn subscription() -> ObjectDef {
    const RELATED: &[Related] = &[
        Related {
            name: "Account",
            object: "Account",
        },
        Related {
            name: "InvoiceOwner",
            object: "Account",
        },
    ];
    let fields = vec![
        text("Name").required(),
        text("AccountId").required(),
        text("InvoiceOwnerId"),
        picklist(
            "Status",
            &["Draft", "Active", "Cancelled", "Expired", "Suspended"],
        )
        .required(),
        integer("Version").required(),
        text("OriginalId"),
        text("PreviousSubscriptionId"),
        boolean("IsLatestVersion").required(),
        picklist("TermType", &["TERMED", "EVERGREEN"]).required(),
        integer("InitialTerm"),
        integer("CurrentTerm"),
        integer("RenewalTerm"),
        boolean("AutoRenew"),
        date("SubscriptionStartDate"),
        date("SubscriptionEndDate"),
        date("TermStartDate"),
        date("TermEndDate"),
        date("ContractEffectiveDate"),
        date("ServiceActivationDate"),
        date("CancelledDate"),
        decimal("CMRR"),
        text("Currency"),
        datetime("OriginalCreatedDate"),
        text("QuoteNumber__QT"),
        date("OpportunityCloseDate__QT"),
        text("Notes").soap_only(),
    ];
    ObjectDef::new("Subscription", "subscriptions", fields, RELATED)
}

fn rate_plan() -> ObjectDef {
    const RELATED: &[Related] = &[
        Related {
            name: "Subscription",
            object: "Subscription",
        },
        Related {
            name: "ProductRatePlan",
            object: "ProductRatePlan",
        },
        Related {
            name: "Product",
            object: "Product",
        },
    ];
    let fields = vec![
        text("SubscriptionId").required(),
        text("ProductRatePlanId").required(),
        text("ProductId"),
        text("Name"),
        picklist(
            "AmendmentType",
            &["NewProduct", "UpdateProduct", "RemoveProduct"],
        ),
        text("SubscriptionRatePlanNumber"),
        boolean("Reverted").soap_only(),
    ];
    ObjectDef::new("RatePlan", "rate-plans", fields, RELATED)
}

fn rate_plan_charge() -> ObjectDef {
    const RELATED: &[Related] = &[
        Related {
            name: "RatePlan",
            object: "RatePlan",
        },
        Related {
            name: "ProductRatePlanCharge",
            object: "ProductRatePlanCharge",
        },
        Related {
            name: "Subscription",
            object: "Subscription",
        },
    ];
    let fields = vec![
        text("RatePlanId").required(),
        text("ProductRatePlanChargeId").required(),
        text("SubscriptionId"),
        text("ChargeNumber").required(),
        text("Name").required(),
        picklist("ChargeType", CHARGE_TYPES),
        picklist("ChargeModel", CHARGE_MODELS),
        picklist("BillingPeriod", BILLING_PERIODS),
        decimal("Quantity"),
        decimal("MRR"),
        decimal("TCV"),
        decimal("DMRC"),
        decimal("DTCV"),
        date("EffectiveStartDate"),
        date("EffectiveEndDate"),
        date("ChargedThroughDate"),
        date("ProcessedThroughDate"),
        integer("Segment"),
        integer("Version"),
        boolean("IsLastSegment"),
        text("UOM"),
        text("OriginalId"),
        picklist("TriggerEvent", TRIGGER_EVENTS),
        text("AccountingCode"),
        text("RevenueRecognitionRuleName").soap_only(),
    ];
    ObjectDef::new("RatePlanCharge", "rate-plan-charges", fields, RELATED)
}

fn invoice() -> ObjectDef {
    const RELATED: &[Related] = &[Related {
        name: "Account",
        object: "Account",
    }];
    let fields = vec![
        text("InvoiceNumber").required(),
        text("AccountId").required(),
        picklist("Status", &["Draft", "Posted", "Canceled"]).required(),
        date("InvoiceDate").required(),
        date("DueDate"),
        date("TargetDate"),
        decimal("Amount"),
        decimal("AmountWithoutTax"),
        decimal("TaxAmount"),
        decimal("Balance"),
        decimal("PaymentAmount"),
        decimal("RefundAmount"),
        decimal("CreditMemoAmount"),
        decimal("AdjustmentAmount"),
        text("Currency"),
        datetime("PostedDate"),
        text("PostedBy"),
        picklist("SourceType", &["Subscription", "Standalone"]),
        text("ExternalRef__c").free_text(),
        text("Body").soap_only(),
    ];
    ObjectDef::new("Invoice", "invoices", fields, RELATED)
}

fn invoice_item() -> ObjectDef {
    const RELATED: &[Related] = &[
        Related {
            name: "Invoice",
            object: "Invoice",
        },
        Related {
            name: "Subscription",
            object: "Subscription",
        },
        Related {
            name: "RatePlanCharge",
            object: "RatePlanCharge",
        },
        Related {
            name: "ProductRatePlanCharge",
            object: "ProductRatePlanCharge",
        },
    ];
    let fields = vec![
        text("InvoiceId").required(),
        text("SubscriptionId"),
        text("SubscriptionNumber"),
        text("RatePlanChargeId"),
        text("ProductRatePlanChargeId"),
        text("ChargeName"),
        text("ChargeNumber"),
        decimal("ChargeAmount"),
        decimal("TaxAmount"),
        decimal("UnitPrice"),
        decimal("Quantity"),
        text("UOM"),
        date("ServiceStartDate"),
        date("ServiceEndDate"),
        datetime("ChargeDate"),
        picklist("ProcessingType", &["Charge", "Discount", "Tax"]),
        text("SKU"),
        text("AccountingCode"),
        decimal("Balance"),
        text("AppliedToInvoiceItemId").soap_only(),
    ];
    ObjectDef::new("InvoiceItem", "invoice-items", fields, RELATED)
}

fn payment() -> ObjectDef {
    const RELATED: &[Related] = &[Related {
        name: "Account",
        object: "Account",
    }];
    let fields = vec![
        text("PaymentNumber").required(),
        text("AccountId").required(),
        decimal("Amount").required(),
        decimal("AppliedAmount"),
        decimal("UnappliedAmount"),
        decimal("RefundAmount"),
        text("Currency"),
        date("EffectiveDate").required(),
        picklist("Status", &["Processed", "Processing", "Error", "Canceled"]).required(),
        picklist("Type", &["Electronic", "External"]).required(),
        text("PaymentMethodId"),
        picklist(
            "GatewayState",
            &["NotSubmitted", "Submitted", "Settled", "FailedToSettle"],
        ),
        text("ReferenceId"),
        datetime("SettledOn"),
        datetime("SubmittedOn"),
        text("GatewayResponse").soap_only(),
    ];
    ObjectDef::new("Payment", "payments", fields, RELATED)
}

/// Every (object, field, target) foreign key of the catalog, for tests that check them.
#[cfg(test)]
pub(crate) const FOREIGN_KEYS: &[(&str, &str, &str)] = &[
    ("Contact", "AccountId", "Account"),
    ("Account", "BillToId", "Contact"),
    ("Account", "SoldToId", "Contact"),
    ("Account", "ParentId", "Account"),
    ("ProductRatePlan", "ProductId", "Product"),
    (
        "ProductRatePlanCharge",
        "ProductRatePlanId",
        "ProductRatePlan",
    ),
    ("Subscription", "AccountId", "Account"),
    ("Subscription", "InvoiceOwnerId", "Account"),
    ("Subscription", "OriginalId", "Subscription"),
    ("Subscription", "PreviousSubscriptionId", "Subscription"),
    ("RatePlan", "SubscriptionId", "Subscription"),
    ("RatePlan", "ProductRatePlanId", "ProductRatePlan"),
    ("RatePlan", "ProductId", "Product"),
    ("RatePlanCharge", "RatePlanId", "RatePlan"),
    (
        "RatePlanCharge",
        "ProductRatePlanChargeId",
        "ProductRatePlanCharge",
    ),
    ("RatePlanCharge", "SubscriptionId", "Subscription"),
    ("RatePlanCharge", "OriginalId", "RatePlanCharge"),
    ("Invoice", "AccountId", "Account"),
    ("InvoiceItem", "InvoiceId", "Invoice"),
    ("InvoiceItem", "SubscriptionId", "Subscription"),
    ("InvoiceItem", "RatePlanChargeId", "RatePlanCharge"),
    (
        "InvoiceItem",
        "ProductRatePlanChargeId",
        "ProductRatePlanCharge",
    ),
    ("InvoiceItem", "AppliedToInvoiceItemId", "InvoiceItem"),
    ("Payment", "AccountId", "Account"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_keys_lowercase_only_the_first_letter() {
        let cases = [
            ("AccountNumber", "accountNumber"),
            ("VATId", "vATId"),
            ("CMRR", "cMRR"),
            ("UOM", "uOM"),
            ("MRR", "mRR"),
            ("SKU", "sKU"),
            ("Region__c", "region__c"),
            ("QuoteNumber__QT", "quoteNumber__QT"),
        ];
        for (name, key) in cases {
            assert_eq!(json_key(name), key, "{name}");
        }
    }

    #[test]
    fn labels_split_words_and_keep_acronyms() {
        assert_eq!(label("ProductRatePlanCharge"), "Product Rate Plan Charge");
        assert_eq!(label("VATId"), "VAT Id");
        assert_eq!(label("CMRR"), "CMRR");
        assert_eq!(label("Region__c"), "Region");
        assert_eq!(label("Address1"), "Address1");
    }

    #[test]
    fn every_object_has_audit_fields_and_an_unexported_field() {
        for object in &CATALOG.objects {
            assert_eq!(object.fields[ID].name, ID_NAME);
            assert_eq!(object.fields[object.created_date()].name, CREATED_DATE);
            assert_eq!(object.fields[object.updated_date()].name, UPDATED_DATE);
            object.position("CreatedById");
            object.position("UpdatedById");
            assert!(object.fields.iter().any(|f| !f.exported), "{}", object.name);
            for related in object.related {
                assert!(
                    CATALOG.object(related.object).is_some(),
                    "{}",
                    related.object
                );
            }
        }
    }

    #[test]
    fn paths_are_plural_kebab_case_and_unique() {
        let cases = [
            ("Account", "accounts"),
            ("InvoiceItem", "invoice-items"),
            ("ProductRatePlanCharge", "product-rate-plan-charges"),
        ];
        for (name, path) in cases {
            assert_eq!(CATALOG.objects[CATALOG.index(name)].path, path);
        }
        let mut paths: Vec<_> = CATALOG.objects.iter().map(|o| o.path).collect();
        paths.sort_unstable();
        paths.dedup();
        assert_eq!(paths.len(), CATALOG.objects.len());
    }
}
