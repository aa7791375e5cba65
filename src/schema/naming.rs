//! Name rules shared by every destination: Describe names (PascalCase, acronyms in capitals,
//! custom suffixes such as `__c`) become snake_case identifiers with each acronym kept as one
//! word, and object names become the plural kebab-case paths of the Object Query API.

/// `AccountNumber` → `account_number`, `VATId` → `vat_id`, `CMRR` → `cmrr`,
/// `Region__c` → `region__c`, `InvoiceItem` → `invoice_item`.
pub fn snake_case(name: &str) -> String {
    let (base, suffix) = match name.find("__") {
        Some(at) => (&name[..at], Some(&name[at + 2..])),
        None => (name, None),
    };
    let mut out = words(base).join("_");
    if let Some(suffix) = suffix {
        out.push_str("__");
        out.push_str(&suffix.to_ascii_lowercase());
    }
    out
}

/// The Object Query path segment of an object: `InvoiceItem` → `invoice-items`.
pub fn object_query_path(object: &str) -> String {
    let mut path = words(object).join("-");
    if path.ends_with('s') || path.ends_with('x') {
        path.push_str("es");
    } else if path.ends_with('y') && !path.ends_with("ay") && !path.ends_with("ey") {
        path.pop();
        path.push_str("ies");
    } else {
        path.push('s');
    }
    path
}

/// Splits a PascalCase name into lowercase words. A run of capitals is one word (an acronym);
/// its last capital starts the next word when a lowercase letter follows (`VATId` → vat, id).
fn words(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.chars().collect();
    let mut words = Vec::new();
    let mut current = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            continue;
        }
        let prev = i.checked_sub(1).map(|p| chars[p]);
        let next = chars.get(i + 1).copied();
        let starts_word = c.is_uppercase()
            && prev.is_some_and(|p| {
                p.is_lowercase()
                    || p.is_ascii_digit()
                    || (p.is_uppercase() && next.is_some_and(char::is_lowercase))
            });
        if starts_word && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        current.extend(c.to_lowercase());
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_keeps_acronyms_whole() {
        let cases = [
            ("AccountNumber", "account_number"),
            ("VATId", "vat_id"),
            ("CMRR", "cmrr"),
            ("UOM", "uom"),
            ("SKU", "sku"),
            ("Id", "id"),
            ("Mrr", "mrr"),
            ("TaxExemptCertificateID", "tax_exempt_certificate_id"),
            ("Region__c", "region__c"),
            ("QuoteNumber__QT", "quote_number__qt"),
            ("InvoiceItem", "invoice_item"),
            ("ProductRatePlanCharge", "product_rate_plan_charge"),
            ("Address1", "address1"),
            ("BillToId", "bill_to_id"),
        ];
        for (name, expected) in cases {
            assert_eq!(snake_case(name), expected, "{name}");
        }
    }

    #[test]
    fn object_query_paths_are_plural_kebab_case() {
        let cases = [
            ("Account", "accounts"),
            ("InvoiceItem", "invoice-items"),
            ("ProductRatePlanCharge", "product-rate-plan-charges"),
            ("Subscription", "subscriptions"),
            ("Usage", "usages"),
            ("TaxationItem", "taxation-items"),
            ("BillingRun", "billing-runs"),
            ("ContactSnapshot", "contact-snapshots"),
        ];
        for (object, expected) in cases {
            assert_eq!(object_query_path(object), expected, "{object}");
        }
    }
}
