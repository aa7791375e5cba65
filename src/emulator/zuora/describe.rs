//! The Describe API's XML: the object list of `GET /v1/describe` and one object's fields and
//! related objects for `GET /v1/describe/{Object}`, in the element shape Zuora documents, every
//! text XML-escaped. Links point at the emulator's own address.

use std::fmt::Write as _;

use quick_xml::escape::escape;

use super::catalog::{Catalog, ObjectDef};

const DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

/// `<objects><object href=".../v1/describe/Account"><name>..</name><label>..</label></object>…`
pub(crate) fn object_list(catalog: &Catalog, base_url: &str) -> String {
    let mut xml = String::from(DECLARATION);
    xml.push_str("<objects>\n");
    for object in &catalog.objects {
        link(
            &mut xml,
            "  ",
            base_url,
            object.name,
            &object.label,
            object.name,
        );
    }
    xml.push_str("</objects>\n");
    xml
}

/// One object: `<object><name/><label/><fields><field>…</field></fields><related-objects/>`,
/// with the fields of its current schema: removed ones left out, added ones at the end.
pub(crate) fn object(object: &ObjectDef, base_url: &str) -> String {
    let mut xml = String::from(DECLARATION);
    let _ = writeln!(
        xml,
        "<object>\n  <name>{}</name>\n  <label>{}</label>\n  <fields>",
        escape(object.name),
        escape(object.label.as_str())
    );
    for (_, field) in object.live_fields() {
        let _ = write!(
            xml,
            "    <field>\n      <name>{}</name>\n      <label>{}</label>\n      \
             <type>{}</type>\n      <selectable>true</selectable>\n      \
             <required>{}</required>\n",
            escape(field.name.as_str()),
            escape(field.label.as_str()),
            field.field_type.as_str(),
            field.required,
        );
        if !field.options.is_empty() {
            xml.push_str("      <options>\n");
            for option in &field.options {
                let _ = writeln!(xml, "        <option>{}</option>", escape(option.as_str()));
            }
            xml.push_str("      </options>\n");
        }
        xml.push_str("      <contexts>\n");
        for context in field.contexts() {
            let _ = writeln!(xml, "        <context>{context}</context>");
        }
        xml.push_str("      </contexts>\n    </field>\n");
    }
    xml.push_str("  </fields>\n  <related-objects>\n");
    for related in object.related {
        let label = spaced(related.name);
        link(
            &mut xml,
            "    ",
            base_url,
            related.object,
            &label,
            related.name,
        );
    }
    xml.push_str("  </related-objects>\n</object>\n");
    xml
}

/// `<object href="{base}/v1/describe/{target}"><name>{name}</name><label>{label}</label></object>`
fn link(xml: &mut String, indent: &str, base_url: &str, target: &str, label: &str, name: &str) {
    let href = format!("{base_url}/v1/describe/{target}");
    let _ = writeln!(
        xml,
        "{indent}<object href=\"{}\">\n{indent}  <name>{}</name>\n{indent}  <label>{}</label>\n\
         {indent}</object>",
        escape(href.as_str()),
        escape(name),
        escape(label)
    );
}

/// A relation's label from its role name: `BillToContact` → `Bill To Contact`.
fn spaced(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if i > 0 && c.is_uppercase() {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// The Describe XML read back with serde, as a client would, for tests of this folder.
#[cfg(test)]
pub(crate) mod parsed {
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    pub struct ObjectList {
        #[serde(rename = "object", default)]
        pub objects: Vec<Link>,
    }

    #[derive(Debug, Deserialize)]
    pub struct Link {
        #[serde(rename = "@href")]
        pub href: String,
        pub name: String,
        pub label: String,
    }

    #[derive(Debug, Deserialize)]
    pub struct Object {
        pub name: String,
        pub label: String,
        pub fields: Fields,
        #[serde(rename = "related-objects")]
        pub related: Related,
    }

    #[derive(Debug, Deserialize)]
    pub struct Fields {
        #[serde(rename = "field", default)]
        pub fields: Vec<Field>,
    }

    #[derive(Debug, Deserialize)]
    pub struct Field {
        pub name: String,
        pub label: String,
        #[serde(rename = "type")]
        pub field_type: String,
        pub selectable: bool,
        pub required: bool,
        pub options: Option<Options>,
        pub contexts: Contexts,
    }

    #[derive(Debug, Deserialize)]
    pub struct Options {
        #[serde(rename = "option", default)]
        pub options: Vec<String>,
    }

    #[derive(Debug, Deserialize)]
    pub struct Contexts {
        #[serde(rename = "context", default)]
        pub contexts: Vec<String>,
    }

    #[derive(Debug, Deserialize)]
    pub struct Related {
        #[serde(rename = "object", default)]
        pub objects: Vec<Link>,
    }
}

#[cfg(test)]
mod tests {
    use super::super::catalog::CATALOG;
    use super::*;

    #[test]
    fn object_list_names_every_object_with_a_link() {
        let xml = object_list(&CATALOG, "http://127.0.0.1:1");
        let list: parsed::ObjectList = quick_xml::de::from_str(&xml).unwrap();
        let names: Vec<_> = list.objects.iter().map(|o| o.name.as_str()).collect();
        let expected: Vec<_> = CATALOG.objects.iter().map(|o| o.name).collect();
        assert_eq!(names, expected);
        let item = list
            .objects
            .iter()
            .find(|o| o.name == "InvoiceItem")
            .unwrap();
        assert_eq!(item.href, "http://127.0.0.1:1/v1/describe/InvoiceItem");
        assert_eq!(item.label, "Invoice Item");
    }

    #[test]
    fn object_lists_fields_options_contexts_and_relations() {
        let def = &CATALOG.objects[CATALOG.index("ProductRatePlanCharge")];
        let xml = object(def, "http://h");
        let parsed: parsed::Object = quick_xml::de::from_str(&xml).unwrap();
        assert_eq!(parsed.name, "ProductRatePlanCharge");
        assert_eq!(parsed.label, "Product Rate Plan Charge");
        assert_eq!(parsed.fields.fields.len(), def.fields.len());

        let field = |name: &str| {
            parsed
                .fields
                .fields
                .iter()
                .find(|f| f.name == name)
                .unwrap()
        };
        let tax_mode = field("TaxMode");
        assert_eq!(tax_mode.field_type, "picklist");
        let options = &tax_mode.options.as_ref().unwrap().options;
        assert_eq!(options, &["TaxExclusive", "TaxInclusive"]);
        assert_eq!(field("Id").contexts.contexts, ["soap", "export"]);
        assert_eq!(field("Formula").contexts.contexts, ["soap"]);
        assert!(field("Name").options.is_none());

        let related = &parsed.related.objects;
        assert_eq!(related.len(), 1);
        assert_eq!(related[0].name, "ProductRatePlan");
        assert_eq!(related[0].href, "http://h/v1/describe/ProductRatePlan");
    }

    #[test]
    fn relation_labels_and_escaping() {
        let def = &CATALOG.objects[CATALOG.index("Account")];
        let xml = object(def, "http://h/?a=1&b=<2>");
        assert!(xml.contains("href=\"http://h/?a=1&amp;b=&lt;2&gt;/v1/describe/Contact\""));
        let parsed: parsed::Object = quick_xml::de::from_str(&xml).unwrap();
        let bill_to = &parsed.related.objects[0];
        assert_eq!(
            (bill_to.name.as_str(), bill_to.label.as_str()),
            ("BillToContact", "Bill To Contact")
        );
        assert_eq!(bill_to.href, "http://h/?a=1&b=<2>/v1/describe/Contact");
    }
}
