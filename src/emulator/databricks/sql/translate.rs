//! Turns Databricks SQL text into DuckDB SQL text, token by token: backticked names become
//! double-quoted ones, strings get SQL quoting, Databricks-only spellings are rewritten
//! (`* EXCEPT`, `<=>`, `::STRING`, `TIMESTAMP '...'`, `current_user()`), and every table
//! reference is resolved through the session's catalog and schema, checked for SELECT and
//! replaced by the DuckDB table that holds it.
//!
//! A table reference is the name after FROM, JOIN or a comma of a FROM list, in a query
//! context (the top of a query, or a parenthesis that opens with SELECT or WITH). Names
//! defined by WITH are left alone.

use std::collections::BTreeSet;

use super::Session;
use super::error::{SqlError, backticked};
use super::lexer::{Kind as TokenKind, Token};
use crate::emulator::databricks::catalog::{Metastore, Refusal};
use crate::emulator::databricks::grants::{Kind, Object, Privilege};

/// Qualifies a name written with one to `kind.depth()` parts through the session defaults.
pub(crate) fn qualify(session: &Session, name: &[String], kind: Kind) -> Result<Object, SqlError> {
    let depth = kind.depth();
    if name.is_empty() || name.len() > depth {
        return Err(SqlError::syntax(Some(&name.join("."))));
    }
    let defaults = [session.catalog.as_str(), session.schema.as_str()];
    let mut parts: Vec<&str> = defaults[..depth.min(2)]
        .iter()
        .take(depth - name.len())
        .copied()
        .collect();
    parts.extend(name.iter().map(String::as_str));
    Ok(Object::new(kind, &parts))
}

/// The DuckDB schema that holds a Unity Catalog schema: one schema per `catalog.schema`,
/// named with the dot, so the pair maps one to one and never collides.
pub(crate) fn duck_schema(catalog: &str, schema: &str) -> String {
    format!("{catalog}.{schema}")
}

/// The DuckDB name of a table, quoted: `"main.zuora"."account"`.
pub(crate) fn duck_table(table: &Object) -> String {
    let schema = duck_schema(&table.parts[0], &table.parts[1]);
    format!("{}.{}", quote(&schema), quote(&table.parts[2]))
}

pub(crate) fn quote(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}

pub(crate) fn string_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// The backticked full name of an object, as messages print it.
pub(crate) fn quoted_name(object: &Object) -> String {
    let parts: Vec<&str> = object.parts.iter().map(String::as_str).collect();
    backticked(&parts)
}

/// The SQL error for a failed access check on an object that is read or written.
pub(crate) fn refusal(refusal: Refusal, reading: &Object) -> SqlError {
    match refusal {
        Refusal::Denied(privilege, object) => {
            SqlError::insufficient(privilege, object.kind, &object.key())
        }
        Refusal::NotOwner(object) => SqlError::not_owner(object.kind, &object.key()),
        Refusal::CatalogMissing(_) | Refusal::SchemaMissing(..) | Refusal::ObjectMissing(_) => {
            match reading.kind {
                Kind::Table => SqlError::table_not_found(&quoted_name(reading)),
                _ => missing(reading),
            }
        }
    }
}

/// Not-found errors for DDL on schemas and catalogs.
pub(crate) fn missing(object: &Object) -> SqlError {
    let parts: Vec<&str> = object.parts.iter().map(String::as_str).collect();
    match object.kind {
        Kind::Catalog => SqlError::catalog_not_found(&backticked(&parts[..1])),
        Kind::Schema => SqlError::schema_not_found(&backticked(&parts[..2])),
        Kind::Table => SqlError::table_not_found(&backticked(&parts)),
        // The volume error class is UNCONFIRMED; the shape follows the other not-found errors.
        Kind::Volume => SqlError::new(
            "UC_VOLUME_NOT_FOUND",
            format!("The volume {} cannot be found.", backticked(&parts)),
            "42704",
        ),
    }
}

#[derive(Debug, Clone, Copy)]
struct Frame {
    /// The parenthesis holds a query, so FROM introduces tables.
    query: bool,
    /// Between FROM and the next clause of this query.
    in_from: bool,
    /// The parenthesis of CAST( or TRY_CAST(, where AS introduces a type.
    cast: bool,
}

/// Renders queries and expressions of one statement, collecting every table it reads.
pub(crate) struct Translator<'a> {
    meta: &'a Metastore,
    session: &'a Session,
    ctes: BTreeSet<String>,
    /// Every table read, after its SELECT check passed.
    pub reads: Vec<Object>,
}

/// Words that end the FROM list of a query.
const CLAUSES: [&str; 13] = [
    "where",
    "group",
    "having",
    "order",
    "limit",
    "union",
    "except",
    "intersect",
    "qualify",
    "window",
    "offset",
    "fetch",
    "select",
];

/// Functions that answer from the session, not from DuckDB.
const SESSION_FUNCTIONS: [&str; 6] = [
    "current_user",
    "session_user",
    "user",
    "current_catalog",
    "current_schema",
    "current_database",
];

impl<'a> Translator<'a> {
    pub fn new(meta: &'a Metastore, session: &'a Session) -> Translator<'a> {
        Translator {
            meta,
            session,
            ctes: BTreeSet::new(),
            reads: Vec::new(),
        }
    }

    /// A whole query: SELECT, WITH, VALUES or a parenthesised query.
    pub fn query(&mut self, tokens: &[Token]) -> Result<String, SqlError> {
        self.render(tokens, true)
    }

    /// An expression such as a WHERE or ON condition; subqueries inside it are queries.
    pub fn expression(&mut self, tokens: &[Token]) -> Result<String, SqlError> {
        self.render(tokens, false)
    }

    /// Resolves a table that the statement reads and checks SELECT on it.
    pub fn read_table(&mut self, name: &[String]) -> Result<Object, SqlError> {
        let table = qualify(self.session, name, Kind::Table)?;
        let who = &self.session.principal;
        let check = self
            .meta
            .reach(who, &table)
            .and_then(|()| self.meta.require(who, Privilege::Select, &table));
        check.map_err(|r| refusal(r, &table))?;
        self.reads.push(table.clone());
        Ok(table)
    }

    fn render(&mut self, tokens: &[Token], query: bool) -> Result<String, SqlError> {
        self.collect_ctes(tokens);
        let mut out = Output::default();
        let mut frames = vec![Frame {
            query,
            in_from: false,
            cast: false,
        }];
        let mut table_next = false;
        let mut at = 0;
        while at < tokens.len() {
            if std::mem::take(&mut table_next)
                && let Some(read) = self.table_reference(&tokens[at..], &mut out)?
            {
                at += read;
                continue;
            }
            let token = &tokens[at];
            let previous = at.checked_sub(1).map(|i| &tokens[i]);
            let frame = frames.last_mut().expect("the outer frame stays");
            match token.kind {
                TokenKind::Symbol if token.text == "(" => {
                    let next = tokens.get(at + 1);
                    let opens_query = next.is_some_and(|n| {
                        n.is_word("select") || n.is_word("with") || n.is_symbol("(")
                    });
                    let cast = previous.is_some_and(|p| p.is_word("cast") || p.is_word("try_cast"));
                    frames.push(Frame {
                        query: opens_query,
                        in_from: false,
                        cast,
                    });
                    // `count(*)` stays `count(*)`: a parenthesis keeps the spacing it had.
                    if previous.is_some_and(|p| p.end > 0 && p.end == token.at) {
                        out.glue("(");
                    } else {
                        out.push("(");
                    }
                }
                TokenKind::Symbol if token.text == ")" => {
                    if frames.len() == 1 {
                        return Err(SqlError::syntax(Some(")")));
                    }
                    frames.pop();
                    out.push(")");
                }
                TokenKind::Symbol if token.text == "," => {
                    table_next = frame.in_from;
                    out.push(",");
                }
                TokenKind::Symbol if token.text == "::" => {
                    out.push("::");
                    at += 1;
                    at += self.data_type(&tokens[at..], &mut out)?;
                    continue;
                }
                TokenKind::Symbol => out.push(symbol(&token.text)),
                TokenKind::Word => {
                    if let Some(read) = self.word(&tokens[at..], previous, frame, &mut out)? {
                        table_next = read.table_next;
                        at += read.tokens;
                        continue;
                    }
                }
                TokenKind::Quoted => out.push(&quote(&token.text)),
                TokenKind::String => out.push(&string_literal(&token.text)),
                TokenKind::Number => out.push(&token.text),
                TokenKind::Parameter => {
                    let detail = format!("Found the unbound parameter: {}.", token.text);
                    return Err(SqlError::new("UNBOUND_SQL_PARAMETER", detail, "42P02"));
                }
            }
            at += 1;
        }
        if frames.len() > 1 {
            return Err(SqlError::syntax(None));
        }
        Ok(out.text)
    }

    /// Handles a word; returns how many tokens it consumed and whether a table follows.
    fn word(
        &mut self,
        tokens: &[Token],
        previous: Option<&Token>,
        frame: &mut Frame,
        out: &mut Output,
    ) -> Result<Option<Read>, SqlError> {
        let token = &tokens[0];
        let lower = token.text.to_ascii_lowercase();
        let mut table_next = false;
        if frame.query && lower == "from" {
            frame.in_from = true;
            table_next = true;
        } else if frame.in_from && lower == "join" {
            table_next = true;
        } else if lower == "except" && previous.is_some_and(|p| p.is_symbol("*")) {
            out.push("EXCLUDE");
            return Ok(Some(Read::one()));
        } else if CLAUSES.contains(&lower.as_str()) {
            frame.in_from = false;
        }

        let call = tokens.get(1).is_some_and(|t| t.is_symbol("("))
            && tokens.get(2).is_some_and(|t| t.is_symbol(")"));
        if call && SESSION_FUNCTIONS.contains(&lower.as_str()) {
            out.push(&string_literal(&self.session_value(&lower)));
            return Ok(Some(Read {
                tokens: 3,
                table_next: false,
            }));
        }
        if frame.cast && lower == "as" {
            out.push("AS");
            let read = self.data_type(&tokens[1..], out)?;
            return Ok(Some(Read {
                tokens: 1 + read,
                table_next: false,
            }));
        }
        let literal = tokens.get(1).is_some_and(|t| t.kind == TokenKind::String);
        if literal && let Some(duck) = timestamp_literal(&lower) {
            out.push(duck);
            return Ok(Some(Read::one()));
        }
        out.push(&token.text);
        Ok(Some(Read {
            tokens: 1,
            table_next,
        }))
    }

    fn session_value(&self, function: &str) -> String {
        match function {
            "current_catalog" => self.session.catalog.clone(),
            "current_schema" | "current_database" => self.session.schema.clone(),
            _ => self.session.principal.name.clone(),
        }
    }

    /// A type after `::` or `CAST(... AS`: Databricks names become DuckDB names; parameters
    /// such as `(38, 9)` follow as ordinary tokens.
    fn data_type(&mut self, tokens: &[Token], out: &mut Output) -> Result<usize, SqlError> {
        let Some(name) = tokens.first().filter(|t| t.kind == TokenKind::Word) else {
            return Err(SqlError::syntax(tokens.first().map(Token::echo).as_deref()));
        };
        let duck = match name.text.to_ascii_uppercase().as_str() {
            "STRING" => "VARCHAR",
            "TIMESTAMP" | "TIMESTAMP_LTZ" => "TIMESTAMPTZ",
            "TIMESTAMP_NTZ" => "TIMESTAMP",
            "LONG" => "BIGINT",
            "SHORT" => "SMALLINT",
            "BYTE" => "TINYINT",
            "BINARY" => "BLOB",
            _ => &name.text,
        };
        out.push(duck);
        Ok(1)
    }

    /// At a table position: a table name (resolved and checked), a WITH name, `range(n)`, or
    /// nothing special (a subquery). Returns the number of tokens consumed, if any.
    fn table_reference(
        &mut self,
        tokens: &[Token],
        out: &mut Output,
    ) -> Result<Option<usize>, SqlError> {
        let Some(first) = tokens.first().filter(|t| t.is_identifier()) else {
            return Ok(None);
        };
        let keyword = ["lateral", "values", "unnest"];
        if first.kind == TokenKind::Word && keyword.iter().any(|k| first.is_word(k)) {
            return Ok(None);
        }
        if tokens.get(1).is_some_and(|t| t.is_symbol("(")) {
            return self.table_function(tokens, out).map(Some);
        }

        let mut name = vec![first.text.clone()];
        let mut read = 1;
        while tokens.get(read).is_some_and(|t| t.is_symbol("."))
            && let Some(part) = tokens.get(read + 1).filter(|t| t.is_identifier())
        {
            name.push(part.text.clone());
            read += 2;
        }
        if name.len() == 1 && self.ctes.contains(&name[0].to_ascii_lowercase()) {
            out.push(&quote(&name[0]));
            return Ok(Some(1));
        }
        let table = self.read_table(&name)?;
        out.push(&duck_table(&table));
        Ok(Some(read))
    }

    /// Only `range(...)` exists here; it yields a column `id`, as in Spark.
    fn table_function(&mut self, tokens: &[Token], out: &mut Output) -> Result<usize, SqlError> {
        let name = &tokens[0];
        if !name.is_word("range") {
            let detail = format!(
                "Could not resolve {} to a table-valued function.",
                backticked(&[&name.text])
            );
            return Err(SqlError::new(
                "UNRESOLVABLE_TABLE_VALUED_FUNCTION",
                detail,
                "42883",
            ));
        }
        let close = matching_paren(tokens, 1).ok_or_else(|| SqlError::syntax(None))?;
        let arguments = self.expression(&tokens[2..close])?;
        out.push(&format!("(SELECT range AS id FROM range({arguments}))"));
        Ok(close + 1)
    }

    /// Names defined by `WITH name AS (` anywhere in the statement.
    fn collect_ctes(&mut self, tokens: &[Token]) {
        for window in tokens.windows(4) {
            let [before, name, as_word, open] = window else {
                continue;
            };
            let introduces =
                before.is_word("with") || before.is_word("recursive") || before.is_symbol(",");
            if introduces && name.is_identifier() && as_word.is_word("as") && open.is_symbol("(") {
                self.ctes.insert(name.text.to_ascii_lowercase());
            }
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Read {
    tokens: usize,
    table_next: bool,
}

impl Read {
    fn one() -> Read {
        Read {
            tokens: 1,
            table_next: false,
        }
    }
}

/// The index of the `)` that closes the `(` at `open`.
pub(crate) fn matching_paren(tokens: &[Token], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, token) in tokens.iter().enumerate().skip(open) {
        if token.is_symbol("(") {
            depth += 1;
        } else if token.is_symbol(")") {
            depth -= 1;
            if depth == 0 {
                return Some(i);
            }
        }
    }
    None
}

fn symbol(text: &str) -> &str {
    match text {
        "==" => "=",
        "<=>" => "IS NOT DISTINCT FROM",
        other => other,
    }
}

/// `TIMESTAMP '...'` is an instant in Databricks and a wall-clock time in DuckDB.
fn timestamp_literal(word: &str) -> Option<&'static str> {
    match word {
        "timestamp" | "timestamp_ltz" => Some("TIMESTAMPTZ"),
        "timestamp_ntz" => Some("TIMESTAMP"),
        _ => None,
    }
}

/// SQL text with one space between tokens, except around dots and inside parentheses.
#[derive(Debug, Default)]
struct Output {
    text: String,
}

impl Output {
    fn push(&mut self, token: &str) {
        let glued_left = matches!(token, ")" | "," | "." | "::");
        let glued_right = self.text.ends_with(['(', '.']) || self.text.ends_with("::");
        if !self.text.is_empty() && !glued_left && !glued_right {
            self.text.push(' ');
        }
        self.text.push_str(token);
    }

    fn glue(&mut self, token: &str) {
        self.text.push_str(token);
    }
}

#[cfg(test)]
mod tests {
    use super::super::lexer::tokenize;
    use super::*;
    use crate::emulator::databricks::auth::Principal;
    use crate::emulator::databricks::catalog::Change;

    fn session(admin: bool) -> Session {
        Session {
            principal: Principal {
                name: "sp".into(),
                admin,
            },
            catalog: "main".into(),
            schema: "zuora".into(),
        }
    }

    fn metastore() -> Metastore {
        let mut meta = Metastore::default();
        meta.create_catalog("main", "admin");
        meta.apply(Change::CreateSchema(
            Object::schema("main", "zuora"),
            "admin".into(),
        ));
        let account = Object::new(Kind::Table, &["main", "zuora", "account"]);
        meta.apply(Change::CreateTable(account, "admin".into()));
        meta
    }

    fn translate(sql: &str, session: &Session, meta: &Metastore) -> Result<String, SqlError> {
        Translator::new(meta, session).query(&tokenize(sql).unwrap())
    }

    #[test]
    fn qualifies_tables_and_rewrites_databricks_spellings() {
        let meta = metastore();
        let sql = "SELECT * EXCEPT (_rn), `a``b`, x::STRING, current_user() FROM \
                   (SELECT *, 1 AS _rn FROM account) WHERE \"s\" <=> 'it''s'";
        let duck = translate(sql, &session(true), &meta).unwrap();
        assert_eq!(
            duck,
            "SELECT * EXCLUDE (_rn), \"a`b\", x::VARCHAR, 'sp' FROM (SELECT *, 1 AS _rn FROM \
             \"main.zuora\".\"account\") WHERE 's' IS NOT DISTINCT FROM 'its'"
        );
    }

    #[test]
    fn names_resolve_through_the_session_and_ctes_stay() {
        let meta = metastore();
        let sql = "WITH recent AS (SELECT id FROM main.zuora.account) \
                   SELECT CAST(r.id AS TIMESTAMP) FROM recent r JOIN zuora.account a ON 1 = 1, \
                   `account` WHERE EXTRACT(YEAR FROM TIMESTAMP '2024-01-01') > 0";
        let duck = translate(sql, &session(true), &meta).unwrap();
        assert_eq!(
            duck.matches("\"main.zuora\".\"account\"").count(),
            3,
            "{duck}"
        );
        assert!(duck.contains("FROM \"recent\" r"), "{duck}");
        assert!(duck.contains("CAST(r.id AS TIMESTAMPTZ)"), "{duck}");
        assert!(
            duck.contains("EXTRACT(YEAR FROM TIMESTAMPTZ '2024-01-01')"),
            "{duck}"
        );
    }

    #[test]
    fn reading_needs_select_and_an_existing_table() {
        let meta = metastore();
        let error = translate("SELECT * FROM account", &session(false), &meta).unwrap_err();
        assert!(
            error
                .message
                .contains("does not have USE CATALOG on Catalog 'main'"),
            "{error}"
        );
        let error = translate("SELECT * FROM nope.t", &session(true), &meta).unwrap_err();
        assert_eq!(
            error.message,
            "[TABLE_OR_VIEW_NOT_FOUND] The table or view `main`.`nope`.`t` cannot be found. \
             Verify the spelling and correctness of the schema and catalog. SQLSTATE: 42P01"
        );
    }

    #[test]
    fn range_yields_an_id_column_and_other_table_functions_are_refused() {
        let meta = metastore();
        let duck = translate("SELECT id FROM range(3)", &session(true), &meta).unwrap();
        assert_eq!(duck, "SELECT id FROM (SELECT range AS id FROM range(3))");
        let error = translate("SELECT * FROM read_csv('x')", &session(true), &meta).unwrap_err();
        assert_eq!(
            error.class.as_deref(),
            Some("UNRESOLVABLE_TABLE_VALUED_FUNCTION")
        );
    }
}
