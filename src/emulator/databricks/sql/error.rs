//! The failure of a statement as the Statement Execution API reports it: a message that starts
//! with the `[ERROR_CLASS]` clients classify by and ends with `SQLSTATE: xxxxx`, plus the
//! SQLSTATE on its own for `status.sql_state`.

use std::fmt;

use super::super::grants::{Kind, Privilege};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SqlError {
    /// `PARSE_SYNTAX_ERROR`, `INSUFFICIENT_PERMISSIONS`, ...; `None` for failures that carry
    /// no class, such as errors reported by the storage client.
    pub class: Option<String>,
    /// The whole text of `status.error.message`.
    pub message: String,
    pub sql_state: Option<String>,
}

impl SqlError {
    /// `[CLASS] detail SQLSTATE: state`, the shape of every Databricks SQL error.
    pub fn new(class: &str, detail: impl fmt::Display, sql_state: &str) -> SqlError {
        SqlError {
            class: Some(class.to_string()),
            message: format!("[{class}] {detail} SQLSTATE: {sql_state}"),
            sql_state: Some(sql_state.to_string()),
        }
    }

    /// A message planted by a test, kept verbatim; its class is the leading `[...]`, if any.
    pub fn planted(message: &str, sql_state: &str) -> SqlError {
        let class = message
            .strip_prefix('[')
            .and_then(|rest| rest.split_once(']'))
            .map(|(class, _)| class.to_string());
        SqlError {
            class,
            message: message.to_string(),
            sql_state: Some(sql_state.to_string()),
        }
    }

    /// A failure without an error class, e.g. a storage exception surfaced as is.
    pub fn unclassified(message: impl Into<String>, sql_state: Option<&str>) -> SqlError {
        SqlError {
            class: None,
            message: message.into(),
            sql_state: sql_state.map(str::to_string),
        }
    }

    /// `near` is the offending token's text, or `None` at the end of the statement.
    pub fn syntax(near: Option<&str>) -> SqlError {
        let detail = match near {
            Some(text) => format!("Syntax error at or near '{text}'."),
            None => "Syntax error at or near end of input.".to_string(),
        };
        SqlError::new("PARSE_SYNTAX_ERROR", detail, "42601")
    }

    /// The exact text users report for a missing Unity Catalog privilege.
    pub fn insufficient(privilege: Privilege, kind: Kind, key: &str) -> SqlError {
        let detail = format!(
            "Insufficient privileges: User does not have {} on {} '{key}'.",
            privilege.name(),
            kind.title()
        );
        SqlError::new("INSUFFICIENT_PERMISSIONS", detail, "42501")
    }

    /// Altering or dropping a table is for its owner (or a MANAGE holder) only.
    pub fn not_owner(kind: Kind, key: &str) -> SqlError {
        let detail = format!(
            "Insufficient privileges: User is not an owner of {} '{key}'.",
            kind.title()
        );
        SqlError::new("INSUFFICIENT_PERMISSIONS", detail, "42501")
    }

    /// `quoted` is the backticked name, e.g. `` `main`.`zuora`.`account` ``.
    pub fn table_not_found(quoted: &str) -> SqlError {
        let detail = format!(
            "The table or view {quoted} cannot be found. Verify the spelling and correctness \
             of the schema and catalog."
        );
        SqlError::new("TABLE_OR_VIEW_NOT_FOUND", detail, "42P01")
    }

    pub fn schema_not_found(quoted: &str) -> SqlError {
        let detail = format!(
            "The schema {quoted} cannot be found. Verify the spelling and correctness of the \
             schema and catalog."
        );
        SqlError::new("SCHEMA_NOT_FOUND", detail, "42704")
    }

    /// The class follows the brief and Spark's error classes; the text Databricks prints for
    /// a missing catalog is UNCONFIRMED (some workspaces say NO_SUCH_CATALOG_EXCEPTION).
    pub fn catalog_not_found(quoted: &str) -> SqlError {
        let detail = format!("The catalog {quoted} cannot be found.");
        SqlError::new("CATALOG_NOT_FOUND", detail, "42P08")
    }

    /// Something Databricks does but this emulator does not; it refuses rather than guesses.
    pub fn unsupported(detail: impl fmt::Display) -> SqlError {
        SqlError::new(
            "UNSUPPORTED_FEATURE",
            format!("{detail} (not emulated)."),
            "0A000",
        )
    }

    /// A failure of the emulator itself, with the underlying text for whoever debugs it.
    pub fn internal(detail: impl fmt::Display) -> SqlError {
        SqlError::new("INTERNAL_ERROR", detail, "XX000")
    }
}

impl fmt::Display for SqlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SqlError {}

/// The backticked form of a dotted name, as Databricks quotes names in its messages.
pub(crate) fn backticked(parts: &[&str]) -> String {
    parts
        .iter()
        .map(|p| format!("`{}`", p.replace('`', "``")))
        .collect::<Vec<_>>()
        .join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_permission_message_matches_what_users_report() {
        let error = SqlError::insufficient(Privilege::UseCatalog, Kind::Catalog, "main");
        assert_eq!(
            error.message,
            "[INSUFFICIENT_PERMISSIONS] Insufficient privileges: User does not have USE CATALOG \
             on Catalog 'main'. SQLSTATE: 42501"
        );
        assert_eq!(error.sql_state.as_deref(), Some("42501"));
        assert_eq!(error.class.as_deref(), Some("INSUFFICIENT_PERMISSIONS"));
    }

    #[test]
    fn planted_messages_keep_their_class() {
        let error = SqlError::planted("[DELTA_CONCURRENT_APPEND] Files were added", "2D521");
        assert_eq!(error.class.as_deref(), Some("DELTA_CONCURRENT_APPEND"));
        assert_eq!(error.message, "[DELTA_CONCURRENT_APPEND] Files were added");
        assert_eq!(SqlError::planted("boom", "XX000").class, None);
    }

    #[test]
    fn syntax_errors_name_the_token_or_the_end() {
        assert_eq!(
            SqlError::syntax(Some("VACUUM")).message,
            "[PARSE_SYNTAX_ERROR] Syntax error at or near 'VACUUM'. SQLSTATE: 42601"
        );
        assert!(
            SqlError::syntax(None)
                .message
                .contains("near end of input.")
        );
    }
}
