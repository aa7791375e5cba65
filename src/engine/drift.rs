//! Schema drift between runs. A field that appears in Describe becomes a new column (null in
//! older rows); a field that disappears keeps its column, null in rows loaded from then on; a
//! field whose type changes is an error that says what to do, because a column cannot change
//! type in place without rewriting the table.

use crate::error::{Error, Result};
use crate::schema::ObjectSchema;

/// The table a run loads into: the stored columns in their order, each checked against the
/// type Describe gives now, then the fields that are new.
pub(super) fn reconcile(
    stored: Option<&ObjectSchema>,
    source: &ObjectSchema,
) -> Result<ObjectSchema> {
    let Some(stored) = stored else {
        return Ok(source.clone());
    };
    let mut fields = Vec::with_capacity(stored.fields.len().max(source.fields.len()));
    for old in &stored.fields {
        match source.fields.iter().find(|f| f.column == old.column) {
            Some(new) if new.field_type.arrow_type() != old.field_type.arrow_type() => {
                return Err(Error::Unsupported(format!(
                    "{object} field {field} changed type from {from} to {to} in Describe, and the \
                     column {table}.{column} cannot change type in place; rename or drop the \
                     table, then run `zuora-sync sync --full-refresh {object}` to reload it",
                    object = source.object,
                    field = new.name,
                    from = old.field_type.as_str(),
                    to = new.field_type.as_str(),
                    table = source.table,
                    column = old.column,
                )));
            }
            Some(new) => fields.push(new.clone()),
            None => {
                tracing::info!(object = %source.object, field = %old.name,
                    "Field no longer in Describe; its column stays, null for new rows");
                fields.push(old.clone());
            }
        }
    }
    for new in &source.fields {
        if !fields.iter().any(|f| f.column == new.column) {
            tracing::info!(object = %source.object, field = %new.name, "New field: a new column");
            fields.push(new.clone());
        }
    }
    Ok(ObjectSchema {
        fields,
        ..source.clone()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Field, FieldType};

    fn schema(fields: &[(&str, FieldType)]) -> ObjectSchema {
        let fields = fields
            .iter()
            .map(|(n, t)| Field::new(n, n, *t, vec![]))
            .collect();
        ObjectSchema::new("Account", fields, vec![])
    }

    #[test]
    fn new_fields_are_added_and_vanished_ones_kept() {
        let stored = schema(&[("Id", FieldType::Text), ("Old__c", FieldType::Text)]);
        let now = schema(&[("Id", FieldType::Text), ("New__c", FieldType::Date)]);
        let table = reconcile(Some(&stored), &now).unwrap();
        let columns: Vec<_> = table.fields.iter().map(|f| f.column.as_str()).collect();
        assert_eq!(columns, ["id", "old__c", "new__c"]);
    }

    #[test]
    fn a_type_change_is_an_error_that_says_what_to_do() {
        let stored = schema(&[("Id", FieldType::Text), ("Balance", FieldType::Decimal)]);
        let now = schema(&[("Id", FieldType::Text), ("Balance", FieldType::Text)]);
        let err = reconcile(Some(&stored), &now).unwrap_err().to_string();
        assert!(
            err.contains("Balance changed type from decimal to text"),
            "{err}"
        );
        assert!(err.contains("--full-refresh Account"), "{err}");
        let picklist = schema(&[("Id", FieldType::Text), ("Balance", FieldType::Decimal)]);
        assert!(reconcile(Some(&stored), &picklist).is_ok());
    }
}
