//! The Describe API: `GET /v1/describe` lists the objects of the tenant and
//! `GET /v1/describe/{Object}` their fields, as XML. Only fields that are selectable and whose
//! contexts include `export` become columns; fields of types zuora-sync cannot store are
//! reported, never silently dropped.

use serde::Deserialize;

use super::ZuoraClient;
use crate::error::{Error, Result};
use crate::schema::{Field, FieldType, ObjectSchema};

/// An object's schema together with the fields that were left out, and why.
#[derive(Debug, Clone)]
pub struct DescribedObject {
    pub schema: ObjectSchema,
    pub skipped: Vec<SkippedField>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct SkippedField {
    pub name: String,
    pub reason: String,
}

#[derive(Deserialize)]
struct XmlObjectList {
    #[serde(rename = "object", default)]
    objects: Vec<XmlListedObject>,
}

#[derive(Deserialize)]
struct XmlListedObject {
    name: String,
}

#[derive(Deserialize)]
struct XmlObject {
    name: String,
    #[serde(default)]
    fields: XmlFields,
}

#[derive(Deserialize, Default)]
struct XmlFields {
    #[serde(rename = "field", default)]
    fields: Vec<XmlField>,
}

#[derive(Deserialize)]
struct XmlField {
    name: String,
    label: Option<String>,
    #[serde(rename = "type")]
    field_type: String,
    selectable: Option<String>,
    #[serde(default)]
    options: XmlOptions,
    #[serde(default)]
    contexts: XmlContexts,
}

#[derive(Deserialize, Default)]
struct XmlOptions {
    #[serde(rename = "option", default)]
    options: Vec<String>,
}

#[derive(Deserialize, Default)]
struct XmlContexts {
    #[serde(rename = "context", default)]
    contexts: Vec<String>,
}

impl ZuoraClient {
    /// The Describe names of every object in the tenant.
    pub async fn list_objects(&self) -> Result<Vec<String>> {
        let response = self.get("v1/describe", &[]).await?;
        parse_object_list(&response.body)
    }

    pub async fn describe(&self, object: &str) -> Result<DescribedObject> {
        let response = self.get(&format!("v1/describe/{object}"), &[]).await?;
        parse_describe(object, &response.body)
    }
}

pub fn parse_object_list(xml: &[u8]) -> Result<Vec<String>> {
    let text = std::str::from_utf8(xml)
        .map_err(|e| Error::Source(format!("GET /v1/describe returned invalid UTF-8: {e}")))?;
    let list: XmlObjectList = quick_xml::de::from_str(text)
        .map_err(|e| Error::Source(format!("GET /v1/describe returned unreadable XML: {e}")))?;
    Ok(list
        .objects
        .into_iter()
        .map(|o| o.name.trim().to_string())
        .collect())
}

pub fn parse_describe(object: &str, xml: &[u8]) -> Result<DescribedObject> {
    let unreadable =
        |e: &dyn std::fmt::Display| Error::Source(format!("GET /v1/describe/{object}: {e}"));
    let text = std::str::from_utf8(xml).map_err(|e| unreadable(&e))?;
    let described: XmlObject = quick_xml::de::from_str(text).map_err(|e| unreadable(&e))?;

    let mut fields = Vec::new();
    let mut unexported = Vec::new();
    let mut skipped = Vec::new();
    for field in described.fields.fields {
        let name = field.name.trim().to_string();
        let selectable = field
            .selectable
            .as_deref()
            .is_none_or(|s| s.trim() != "false");
        let exported = field.contexts.contexts.iter().any(|c| c.trim() == "export");
        if !(selectable && exported) {
            unexported.push(name);
            continue;
        }
        let Some(field_type) = FieldType::from_describe(&field.field_type) else {
            skipped.push(SkippedField {
                reason: format!("type {:?} has no column type", field.field_type.trim()),
                name: name.clone(),
            });
            unexported.push(name);
            continue;
        };
        let label = field.label.as_deref().unwrap_or(&name).trim().to_string();
        let options = field
            .options
            .options
            .iter()
            .map(|o| o.trim().to_string())
            .collect();
        fields.push(Field::new(&name, &label, field_type, options));
    }
    let schema = ObjectSchema::new(described.name.trim(), fields, unexported);
    if schema.primary_key().is_none() {
        return Err(Error::Unsupported(format!(
            "{object} has no exportable Id field, so its rows cannot be merged by id"
        )));
    }
    Ok(DescribedObject { schema, skipped })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape of the official sample, with a field of each kind added.
    const SAMPLE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<object><name>ProductRatePlanCharge</name><label>Product Rate Plan Charge</label><fields>
  <field><name>Id</name><label>Id</label><type>text</type><selectable>true</selectable>
    <required>false</required><contexts><context>soap</context><context>export</context></contexts>
  </field>
  <field><name>TaxMode</name><label>Tax Mode</label><type>picklist</type><options>
    <option>TaxExclusive</option><option>TaxInclusive</option></options>
    <contexts><context>export</context></contexts></field>
  <field><name>UpdatedDate</name><label>Updated Date</label><type>datetime</type>
    <selectable>true</selectable><required>false</required>
    <contexts><context>export</context></contexts></field>
  <field><name>Formula</name><label>Formula</label><type>text</type>
    <contexts><context>soap</context></contexts></field>
  <field><name>Rule__c</name><label>Rule</label><type>ZOQL</type>
    <contexts><context>export</context></contexts></field>
  <field><name>Hidden</name><label>Hidden</label><type>text</type><selectable>false</selectable>
    <contexts><context>export</context></contexts></field>
</fields><related-objects><object href="https://rest.zuora.com/v1/describe/ProductRatePlan">
  <name>ProductRatePlan</name><label>Product Rate Plan</label></object>
</related-objects></object>"#;

    #[test]
    fn only_selectable_export_fields_become_columns() {
        let described = parse_describe("ProductRatePlanCharge", SAMPLE.as_bytes()).unwrap();
        let schema = &described.schema;
        let names: Vec<_> = schema.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["Id", "TaxMode", "UpdatedDate"]);
        assert_eq!(schema.table, "product_rate_plan_charge");
        assert_eq!(schema.fields[1].options, ["TaxExclusive", "TaxInclusive"]);
        assert_eq!(schema.unexported, ["Formula", "Rule__c", "Hidden"]);
        assert_eq!(described.skipped.len(), 1);
        assert!(described.skipped[0].reason.contains("ZOQL"));
        assert_eq!(schema.cursor_field().unwrap().name, "UpdatedDate");
    }

    #[test]
    fn an_object_without_id_is_unsupported() {
        let xml = "<object><name>Odd</name><fields><field><name>X</name><type>text</type>\
                   <contexts><context>export</context></contexts></field></fields></object>";
        let err = parse_describe("Odd", xml.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("no exportable Id"), "{err}");
    }

    #[test]
    fn the_object_list_is_read() {
        let xml = r#"<objects><object href="https://x/v1/describe/Account"><name>Account</name>
            <label>Account</label></object><object href="x"><name>InvoiceItem</name></object>
            </objects>"#;
        assert_eq!(
            parse_object_list(xml.as_bytes()).unwrap(),
            ["Account", "InvoiceItem"]
        );
    }

    #[test]
    fn unreadable_xml_names_the_object() {
        let err = parse_describe("Account", b"<object><name>Acc").unwrap_err();
        assert!(err.to_string().contains("/v1/describe/Account"), "{err}");
    }
}
