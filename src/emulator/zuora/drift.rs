//! Schema drift between two runs of a client, as a Zuora admin makes it: a custom field added,
//! a field removed, a field given another type. Describe and Object Query see the change at
//! once and no row's UpdatedDate moves. An added field is null in every existing row until a
//! mutation touches the row; a removed field's values are gone from every stored version of
//! every row; a retyped field's values are rewritten in the new type where they fit and
//! dropped where they do not.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::catalog::FieldType;
use super::tenant::Tenant;
use super::value::Value;

/// Adds custom field `name` to `object`, after its other fields. Refused when the name is
/// not a custom field name (letters, digits and underscores, starting with a letter, ending in
/// `__c`), is already a field of the object, or when `options` do not fit the type: a
/// picklist needs distinct, non-empty options and no other type takes any.
pub(crate) fn add_custom_field(
    tenant: &mut Tenant,
    object: usize,
    name: &str,
    field_type: FieldType,
    options: Vec<String>,
) -> Result<(), String> {
    let def = &tenant.schema[object];
    check_custom_name(name)?;
    if let Some(at) = def.find_field(name) {
        let taken = &def.fields[at].name;
        return Err(format!("{} already has a field named {taken}", def.name));
    }
    check_options(name, field_type, &options)?;
    Arc::make_mut(&mut tenant.schema[object]).add_custom_field(name, field_type, options);
    Ok(())
}

/// Removes field `name` (Describe name or JSON key, any case) from `object` and drops its
/// values. Refused for Id, CreatedDate and UpdatedDate, which key the store and cursors.
pub(crate) fn remove_field(tenant: &mut Tenant, object: usize, name: &str) -> Result<(), String> {
    let at = changeable_field(tenant, object, name, "remove")?;
    tenant.rewrite_every(object, |row| {
        row.field(at)?;
        Some(row.with_field_text(at, ""))
    });
    Arc::make_mut(&mut tenant.schema[object]).remove_field(at);
    Ok(())
}

/// Gives field `name` of `object` another type, rewriting each stored value as
/// [`Value::converted`] says. A field that becomes a picklist takes the distinct values it
/// ends up with as its options, in order. Refused for Id, CreatedDate and UpdatedDate.
pub(crate) fn change_field_type(
    tenant: &mut Tenant,
    object: usize,
    name: &str,
    field_type: FieldType,
) -> Result<(), String> {
    let at = changeable_field(tenant, object, name, "retype")?;
    let from = tenant.schema[object].fields[at].field_type;
    if from == field_type {
        return Ok(());
    }

    let mut values = BTreeSet::new();
    tenant.rewrite_every(object, |row| {
        let value = Value::from_json(from, row.field(at)?);
        let mut text = String::new();
        if let Some(value) = value.and_then(|v| v.converted(field_type)) {
            value.write_json(&mut text);
            if let Value::Text(value) = value {
                values.insert(value);
            }
        }
        (Some(text.as_str()) != row.field(at)).then(|| row.with_field_text(at, &text))
    });
    let options = match field_type {
        FieldType::Picklist => values.into_iter().collect(),
        _ => Vec::new(),
    };
    Arc::make_mut(&mut tenant.schema[object]).retype_field(at, field_type, options);
    Ok(())
}

/// The position of a field that drift may remove or retype.
fn changeable_field(
    tenant: &Tenant,
    object: usize,
    name: &str,
    verb: &str,
) -> Result<usize, String> {
    let def = &tenant.schema[object];
    let at = def
        .find_field(name)
        .ok_or_else(|| format!("{} has no field named {name}", def.name))?;
    if def.is_key(at) {
        return Err(format!(
            "the emulator cannot {verb} {}.{}: Id, CreatedDate and UpdatedDate key its store \
             and cursors",
            def.name, def.fields[at].name
        ));
    }
    Ok(at)
}

fn check_custom_name(name: &str) -> Result<(), String> {
    let base = name.strip_suffix("__c").unwrap_or("");
    let valid = base.starts_with(|c: char| c.is_ascii_alphabetic())
        && base.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    match valid {
        true => Ok(()),
        false => Err(format!(
            "'{name}' is not a custom field name: letters, digits and underscores, starting \
             with a letter and ending in __c"
        )),
    }
}

fn check_options(name: &str, field_type: FieldType, options: &[String]) -> Result<(), String> {
    if field_type != FieldType::Picklist {
        let kind = field_type.as_str();
        return match options.is_empty() {
            true => Ok(()),
            false => Err(format!(
                "{name} is a {kind} field; only picklists take options"
            )),
        };
    }
    let distinct: BTreeSet<&str> = options.iter().map(String::as_str).collect();
    if options.is_empty() {
        Err(format!("picklist {name} needs at least one option"))
    } else if distinct.len() < options.len() || distinct.contains("") {
        Err(format!(
            "the options of picklist {name} must be distinct and not empty"
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use chrono::{DateTime, TimeDelta, Utc};

    use super::super::catalog::CATALOG;
    use super::super::describe;
    use super::super::generate::{generate, users};
    use super::super::mutate::{MutationReport, Mutator, batch_rng};
    use super::super::tenant::{Row, format_id};
    use super::*;

    /// After every generated row, as the emulator clock always is.
    fn at() -> DateTime<Utc> {
        DateTime::from_timestamp(1_790_000_000, 0).unwrap()
    }

    fn mutate(tenant: &mut Tenant, seed: u64, change: impl FnOnce(&mut Mutator)) -> MutationReport {
        let (mut rng, users) = (batch_rng(seed), users(3));
        let mut mutator = Mutator::new(tenant, &mut rng, &users, at());
        change(&mut mutator);
        mutator.finish()
    }

    /// Every committed row of `object` as Object Query writes it, by id.
    fn wire(tenant: &Tenant, object: usize, include_nulls: bool) -> BTreeMap<u128, String> {
        let def = tenant.def(object);
        let mut rows = BTreeMap::new();
        tenant.for_each_current(object, |row| {
            let mut json = String::new();
            row.write_json(&def, None, include_nulls, &mut json);
            rows.insert(row.id, json);
        });
        rows
    }

    fn updated(tenant: &Tenant, object: usize) -> BTreeMap<u128, i64> {
        let mut dates = BTreeMap::new();
        tenant.for_each_current(object, |row| _ = dates.insert(row.id, row.updated));
        dates
    }

    fn ids(report: &MutationReport, object: &str) -> Vec<u128> {
        let touched = report.inserted.get(object).into_iter();
        let touched = touched.chain(report.updated.get(object)).flatten();
        touched
            .map(|id| u128::from_str_radix(id, 16).unwrap())
            .collect()
    }

    fn options(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| v.to_string()).collect()
    }

    #[test]
    fn an_added_field_is_null_in_every_row_and_moves_no_updated_date() {
        let mut tenant = generate(3, 20);
        let account = CATALOG.index("Account");
        let (pages, dates) = (wire(&tenant, account, false), updated(&tenant, account));

        let tiers = options(&["Gold", "Silver"]);
        add_custom_field(&mut tenant, account, "Tier__c", FieldType::Picklist, tiers).unwrap();

        assert_eq!(wire(&tenant, account, false), pages, "no row gains a key");
        assert_eq!(updated(&tenant, account), dates);
        let with_nulls = wire(&tenant, account, true);
        assert!(
            with_nulls
                .values()
                .all(|json| json.ends_with(",\"tier__c\":null}"))
        );
        let def = tenant.def(account);
        let (_, tier) = def.live_fields().last().unwrap();
        assert_eq!(
            (tier.name.as_str(), tier.json_key.as_str()),
            ("Tier__c", "tier__c")
        );
        assert_eq!(tier.spec().contexts, ["soap", "export"]);
        assert!(!tier.filterable && !tier.required && tier.added);
        assert_eq!(def.find_field("TIER__C"), def.find_field("tier__c"));
    }

    #[test]
    fn rows_touched_after_an_addition_get_a_value_and_the_same_seed_gives_the_same_one() {
        let run = || {
            let mut tenant = generate(3, 20);
            for (object, name, field_type) in [
                ("Account", "Score__c", FieldType::Decimal),
                ("Account", "Since__c", FieldType::Date),
                ("Subscription", "Seats__c", FieldType::Integer),
                ("InvoiceItem", "Note__c", FieldType::Text),
            ] {
                let object = CATALOG.index(object);
                add_custom_field(&mut tenant, object, name, field_type, Vec::new()).unwrap();
            }
            let report = mutate(&mut tenant, 9, |m| m.random(120));
            (tenant, report)
        };
        let (tenant, report) = run();
        let (again, _) = run();

        for (object, fields) in [
            ("Account", &["Score__c", "Since__c"][..]),
            ("Subscription", &["Seats__c"]),
            ("InvoiceItem", &["Note__c"]),
        ] {
            let at = CATALOG.index(object);
            let def = tenant.def(at);
            let touched = ids(&report, object);
            assert!(!touched.is_empty(), "the batch touches some {object}");
            for id in &touched {
                let Some(row) = tenant.current(at, *id) else {
                    continue;
                };
                for field in fields {
                    let value = row.value(&def, def.position(field));
                    assert!(
                        value.is_some(),
                        "{object} {} has no {field}",
                        format_id(*id)
                    );
                }
            }
            let untouched = |row: &Row| !touched.contains(&row.id);
            tenant.for_each_current(at, |row| {
                if untouched(row) {
                    assert!(fields.iter().all(|f| row.field(def.position(f)).is_none()));
                }
            });
            assert_eq!(wire(&tenant, at, true), wire(&again, at, true), "{object}");
        }
    }

    #[test]
    fn an_update_fills_an_added_field_and_an_unbumped_one_does_not() {
        let mut tenant = generate(3, 20);
        let (account, charge) = (CATALOG.index("Account"), CATALOG.index("RatePlanCharge"));
        add_custom_field(
            &mut tenant,
            account,
            "Joined__c",
            FieldType::Datetime,
            Vec::new(),
        )
        .unwrap();
        add_custom_field(
            &mut tenant,
            charge,
            "Flag__c",
            FieldType::Boolean,
            Vec::new(),
        )
        .unwrap();
        let some_account = *updated(&tenant, account).keys().next().unwrap();
        let some_charge = *updated(&tenant, charge).keys().next().unwrap();

        mutate(&mut tenant, 1, |m| {
            m.update(account, some_account).unwrap();
            m.update_without_bump(charge, some_charge).unwrap();
        });

        let row = tenant.current(account, some_account).unwrap();
        let joined = tenant.def(account).position("Joined__c");
        let now = Value::DateTime(at());
        assert_eq!(row.value(&tenant.def(account), joined), Some(now));
        assert_eq!(row.updated, at().timestamp());
        let flag = tenant.def(charge).position("Flag__c");
        assert_eq!(
            tenant.current(charge, some_charge).unwrap().field(flag),
            None
        );
    }

    #[test]
    fn a_removed_field_is_gone_from_every_stored_version_and_stays_gone() {
        let mut tenant = generate(3, 20);
        let account = CATALOG.index("Account");
        let region = tenant.def(account).position("Region__c");
        let regions = |tenant: &Tenant| {
            let mut count = 0;
            tenant.for_each_current(account, |row| {
                count += usize::from(row.field(region).is_some())
            });
            count
        };
        assert!(regions(&tenant) > 0);
        let dates = updated(&tenant, account);
        let (first, second) = {
            let mut ids = dates.keys();
            (*ids.next().unwrap(), *ids.next().unwrap())
        };
        mutate(&mut tenant, 2, |m| m.delete(account, first).unwrap());
        tenant.set_visibility_delay(TimeDelta::hours(1));
        mutate(&mut tenant, 3, |m| m.update(account, second).unwrap());

        remove_field(&mut tenant, account, "region__C").unwrap();

        assert_eq!(
            regions(&tenant),
            0,
            "committed versions, the queued one included"
        );
        assert!(
            tenant.tables[account]
                .rows
                .values()
                .all(|r| r.field(region).is_none())
        );
        let gone = &tenant.deleted(account)[0].row;
        assert_eq!(gone.field(region), None);
        let def = tenant.def(account);
        assert!(!gone.record(&def).values.contains_key("Region__c"));
        assert_eq!(def.find_field("Region__c"), None);
        assert!(!describe::object(&def, "http://h").contains("Region__c"));
        assert_eq!(
            updated(&tenant, account).get(&second),
            Some(&at().timestamp())
        );

        let inserted = mutate(&mut tenant, 4, |m| _ = m.insert_account());
        let new = ids(&inserted, "Account")[0];
        assert_eq!(tenant.current(account, new).unwrap().field(region), None);

        let text = FieldType::Text;
        add_custom_field(&mut tenant, account, "Region__c", text, Vec::new()).unwrap();
        let again = tenant.def(account).find_field("Region__c").unwrap();
        assert_ne!(again, region, "a new field, in a new place");
        let pages = wire(&tenant, account, false);
        assert!(
            pages.values().all(|json| !json.contains("region__c")),
            "empty"
        );

        // The generator's own region is for the catalog field; the new one gets random text.
        let inserted = mutate(&mut tenant, 5, |m| _ = m.insert_account());
        let new = tenant.current(account, ids(&inserted, "Account")[0]);
        let value = new.unwrap().value(&tenant.def(account), again);
        let regions = [Value::Text("AMER".into()), Value::Text("EMEA".into())];
        assert!(value.is_some_and(|v| !regions.contains(&v)));
    }

    #[test]
    fn a_retyped_field_keeps_what_fits_the_new_type_and_drops_the_rest() {
        let mut tenant = generate(3, 20);
        let account = CATALOG.index("Account");
        let before = tenant.def(account);
        let dates = updated(&tenant, account);
        let values = |tenant: &Tenant, field: &str| {
            let def = tenant.def(account);
            let mut values = BTreeMap::new();
            tenant.for_each_current(account, |row| {
                _ = values.insert(row.id, row.value(&def, def.position(field)));
            });
            values
        };
        let (balances, mrrs) = (values(&tenant, "Balance"), values(&tenant, "Mrr"));
        let terms = values(&tenant, "PaymentTerm").into_values().flatten();
        let terms: BTreeSet<String> = terms
            .filter_map(|v| match v {
                Value::Text(text) => Some(text),
                _ => None,
            })
            .collect();

        change_field_type(&mut tenant, account, "Balance", FieldType::Text).unwrap();
        change_field_type(&mut tenant, account, "mrr", FieldType::Integer).unwrap();
        change_field_type(&mut tenant, account, "Currency", FieldType::Text).unwrap();
        change_field_type(&mut tenant, account, "PaymentTerm", FieldType::Picklist).unwrap();

        let as_text = |v: &Option<Value>| match v {
            Some(Value::Decimal(digits)) => Some(Value::Text(digits.clone())),
            other => other.clone(),
        };
        let expected: BTreeMap<_, _> = balances.iter().map(|(id, v)| (*id, as_text(v))).collect();
        assert_eq!(values(&tenant, "Balance"), expected);
        for (id, mrr) in values(&tenant, "Mrr") {
            let Some(Value::Decimal(digits)) = &mrrs[&id] else {
                assert_eq!(mrr, None);
                continue;
            };
            let whole = digits.strip_suffix(".0").and_then(|w| w.parse().ok());
            assert_eq!(mrr, whole.map(Value::Integer), "{digits}");
        }
        assert_eq!(updated(&tenant, account), dates);

        let def = tenant.def(account);
        let field = |name: &str| &def.fields[def.position(name)];
        assert_eq!(field("Balance").field_type, FieldType::Text);
        assert!(field("Currency").options.is_empty(), "a picklist no more");
        assert!(terms.len() > 1);
        let terms: Vec<String> = terms.into_iter().collect();
        let options = &field("PaymentTerm").options;
        assert_eq!(options, &terms, "a new picklist takes the values");
        let balance = before.position("Balance");
        assert_eq!(before.fields[balance].field_type, FieldType::Decimal);

        // The emulator's own inserts write the catalog's types; they arrive converted.
        let inserted = mutate(&mut tenant, 6, |m| _ = m.insert_account());
        let new = tenant
            .current(account, ids(&inserted, "Account")[0])
            .unwrap();
        assert!(matches!(new.value(&def, balance), Some(Value::Text(_))));
        let mrr = new.field(def.position("Mrr"));
        assert!(mrr.is_none_or(|m| m.parse::<i64>().is_ok()), "{mrr:?}");
    }

    #[test]
    fn refusals_name_the_problem() {
        let mut tenant = generate(3, 2);
        let account = CATALOG.index("Account");
        let add = |tenant: &mut Tenant, name: &str, field_type, values: &[&str]| {
            add_custom_field(tenant, account, name, field_type, options(values)).unwrap_err()
        };
        for name in ["Tier", "__c", "1Tier__c", "Ti-er__c", "Tier__C"] {
            let refusal = add(&mut tenant, name, FieldType::Text, &[]);
            assert!(refusal.contains("not a custom field name"), "{refusal}");
        }
        let taken = add(&mut tenant, "REGION__c", FieldType::Text, &[]);
        assert_eq!(taken, "Account already has a field named Region__c");
        assert!(add(&mut tenant, "Tier__c", FieldType::Picklist, &[]).contains("needs"));
        assert!(add(&mut tenant, "Tier__c", FieldType::Picklist, &["A", "A"]).contains("distinct"));
        assert!(add(&mut tenant, "Tier__c", FieldType::Text, &["A"]).contains("only picklists"));

        for name in ["Id", "updateddate", "CreatedDate"] {
            let refusal = remove_field(&mut tenant, account, name).unwrap_err();
            assert!(refusal.contains("key its store"), "{refusal}");
        }
        let retype = change_field_type(&mut tenant, account, "UpdatedDate", FieldType::Text);
        assert!(
            retype
                .unwrap_err()
                .contains("cannot retype Account.UpdatedDate")
        );
        let missing = remove_field(&mut tenant, account, "Nope__c").unwrap_err();
        assert_eq!(missing, "Account has no field named Nope__c");
        assert_eq!(
            tenant.def(account).fields.len(),
            CATALOG.objects[account].fields.len()
        );
    }

    #[test]
    fn random_batches_still_run_with_standard_fields_removed() {
        let mut tenant = generate(3, 20);
        for (object, field) in [
            ("Subscription", "IsLatestVersion"),
            ("Account", "BillToId"),
            ("RatePlanCharge", "ChargedThroughDate"),
            ("InvoiceItem", "AccountingCode"),
            ("Contact", "AccountId"),
        ] {
            remove_field(&mut tenant, CATALOG.index(object), field).unwrap();
        }
        let report = mutate(&mut tenant, 11, |m| m.random(300));
        assert!(report.len() >= 300, "every change of the batch was made");
        let subscription = CATALOG.index("Subscription");
        let latest = tenant.def(subscription).position("IsLatestVersion");
        tenant.for_each_current(subscription, |row| assert_eq!(row.field(latest), None));
    }
}
