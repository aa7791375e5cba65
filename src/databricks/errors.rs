//! Databricks failures in words a user can act on. A statement that fails carries its error
//! class (`[INSUFFICIENT_PERMISSIONS] ...`) and SQLSTATE; a missing privilege becomes the GRANT
//! that fixes it, a missing catalog, schema or table a configuration error, and anything else a
//! warehouse error with Databricks' own message.

use crate::error::Error;

/// A privilege that a message says the principal lacks, on what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Privilege {
    /// As Databricks spells it in SQL: `USE CATALOG`, `READ VOLUME`, `MODIFY`, ...
    pub privilege: String,
    /// `CATALOG`, `SCHEMA`, `TABLE` or `VOLUME`.
    pub securable: String,
    /// The securable's full name, e.g. `main.zuora`.
    pub name: String,
}

/// Reads `... does not have USE CATALOG on Catalog 'main'` out of a message.
pub fn parse_missing_privilege(message: &str) -> Option<Privilege> {
    let rest = &message[message.find("does not have ")? + "does not have ".len()..];
    let (privilege, rest) = rest.split_once(" on ")?;
    let (securable, rest) = rest.trim_start().split_once(' ')?;
    let name = rest.trim_start().strip_prefix('\'')?;
    let name = &name[..name.find('\'')?];
    Some(Privilege {
        privilege: privilege.trim().to_ascii_uppercase(),
        securable: securable.trim().to_ascii_uppercase(),
        name: name.to_string(),
    })
}

/// `GRANT USE CATALOG ON CATALOG `main` TO `principal``.
pub fn grant_statement(privilege: &Privilege, principal: &str) -> String {
    let name: Vec<String> = privilege
        .name
        .split('.')
        .map(|part| format!("`{}`", part.replace('`', "``")))
        .collect();
    format!(
        "GRANT {} ON {} {} TO `{}`",
        privilege.privilege,
        privilege.securable,
        name.join("."),
        principal.replace('`', "``")
    )
}

/// The error class at the start of a message: `[TABLE_OR_VIEW_NOT_FOUND] ...`.
pub(super) fn error_class(message: &str) -> Option<&str> {
    let rest = message.trim_start().strip_prefix('[')?;
    Some(&rest[..rest.find(']')?])
}

/// The error of a FAILED statement; `what` says what the statement was for.
pub(super) fn statement_error(
    what: &str,
    message: &str,
    sql_state: Option<&str>,
    principal: &str,
) -> Error {
    let class = error_class(message).unwrap_or("");
    if class == "INSUFFICIENT_PERMISSIONS" || sql_state == Some("42501") {
        let fix = parse_missing_privilege(message).map_or_else(
            || "ask an admin for the privilege the message names".to_string(),
            |p| format!("run as an admin: {}", grant_statement(&p, principal)),
        );
        return Error::Denied {
            service: "Databricks",
            detail: format!("{what}: {message}\n  fix: {fix}"),
        };
    }
    if matches!(
        class,
        "CATALOG_NOT_FOUND" | "SCHEMA_NOT_FOUND" | "NO_SUCH_CATALOG_EXCEPTION"
    ) {
        return Error::config(format!(
            "{what}: {message}\n  fix: create it, or set [warehouse] catalog and schema to ones \
             that exist"
        ));
    }
    Error::Destination(format!("{what}: {message}"))
}

/// Whether a FAILED statement is worth running again: the service, not the statement, failed.
/// Every statement zuora-sync sends is safe to repeat.
pub(super) fn is_transient(error_code: &str, message: &str) -> bool {
    matches!(
        error_code,
        "TEMPORARILY_UNAVAILABLE"
            | "SERVICE_UNDER_MAINTENANCE"
            | "WORKSPACE_TEMPORARILY_UNAVAILABLE"
            | "INTERNAL_ERROR"
            | "IO_ERROR"
            | "DEADLINE_EXCEEDED"
    ) || message.contains("The protocol version of the Delta table has been changed")
        || message.contains("DELTA_CONCURRENT")
}

#[cfg(test)]
mod tests {
    use super::*;

    const DENIED: &str = "[INSUFFICIENT_PERMISSIONS] Insufficient privileges: User does not have \
                          USE CATALOG on Catalog 'main'. SQLSTATE: 42501";

    #[test]
    fn a_missing_privilege_becomes_its_grant() {
        let privilege = parse_missing_privilege(DENIED).unwrap();
        assert_eq!(privilege.privilege, "USE CATALOG");
        assert_eq!(privilege.securable, "CATALOG");
        assert_eq!(privilege.name, "main");
        assert_eq!(
            grant_statement(&privilege, "sp-123"),
            "GRANT USE CATALOG ON CATALOG `main` TO `sp-123`"
        );
        let volume = parse_missing_privilege(
            "User does not have WRITE VOLUME on Volume 'main.zuora.staging'.",
        )
        .unwrap();
        assert_eq!(
            grant_statement(&volume, "sp"),
            "GRANT WRITE VOLUME ON VOLUME `main`.`zuora`.`staging` TO `sp`"
        );
    }

    #[test]
    fn failed_statements_map_to_errors_that_say_what_to_do() {
        let denied = statement_error("creating zuora.account", DENIED, Some("42501"), "sp-1");
        assert_eq!(denied.exit_code(), crate::error::exit::CONFIG);
        assert!(
            denied
                .to_string()
                .contains("GRANT USE CATALOG ON CATALOG `main` TO `sp-1`")
        );
        let missing = statement_error(
            "x",
            "[SCHEMA_NOT_FOUND] The schema `main`.`z` cannot be found.",
            None,
            "sp",
        );
        assert_eq!(missing.exit_code(), crate::error::exit::CONFIG);
        let other = statement_error(
            "x",
            "[DIVIDE_BY_ZERO] Division by zero.",
            Some("22012"),
            "sp",
        );
        assert_eq!(other.exit_code(), crate::error::exit::FAILURE);
        assert_eq!(
            error_class("[PARSE_SYNTAX_ERROR] Syntax error"),
            Some("PARSE_SYNTAX_ERROR")
        );
    }
}
