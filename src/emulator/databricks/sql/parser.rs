//! Recognises the statement forms the emulator executes and refuses everything else with
//! PARSE_SYNTAX_ERROR at the first token it does not accept. Queries and expressions stay
//! token lists, translated later; DDL, grants and USE are parsed into their parts here, COPY
//! INTO and MERGE in their own modules.

use super::copy::{self, CopyInto};
use super::error::SqlError;
use super::lexer::{Kind as TokenKind, Token};
use super::merge::{self, MergeInto};
use super::types::DbType;
use crate::emulator::databricks::grants::{Kind, Privilege};

/// A dotted name as written, one to three parts.
pub(crate) type Name = Vec<String>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ColumnDef {
    pub name: String,
    pub data_type: DbType,
    pub not_null: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Statement {
    Query(Vec<Token>),
    DescribeTable(Name),
    DescribeSchema(Name),
    UseCatalog(Name),
    UseSchema(Name),
    ShowGrants {
        principal: Option<String>,
        kind: Kind,
        name: Name,
    },
    CreateSchema {
        if_not_exists: bool,
        name: Name,
    },
    CreateTable {
        if_not_exists: bool,
        name: Name,
        columns: Vec<ColumnDef>,
    },
    AddColumns {
        name: Name,
        columns: Vec<ColumnDef>,
    },
    DropTable {
        if_exists: bool,
        name: Name,
    },
    Delete {
        name: Name,
        alias: Option<String>,
        predicate: Option<Vec<Token>>,
    },
    Truncate(Name),
    Insert {
        name: Name,
        columns: Option<Vec<String>>,
        source: Vec<Token>,
    },
    CreateVolume {
        if_not_exists: bool,
        name: Name,
    },
    /// GRANT, or REVOKE when `revoke`.
    Grant {
        revoke: bool,
        privileges: Vec<Privilege>,
        kind: Kind,
        name: Name,
        principal: String,
    },
    Copy(CopyInto),
    Merge(MergeInto),
}

/// Walks a token list; every failure is a syntax error at the current token.
pub(crate) struct Cursor<'a> {
    tokens: &'a [Token],
    at: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(tokens: &'a [Token]) -> Cursor<'a> {
        Cursor { tokens, at: 0 }
    }

    pub fn peek(&self) -> Option<&'a Token> {
        self.tokens.get(self.at)
    }

    pub fn peek_at(&self, ahead: usize) -> Option<&'a Token> {
        self.tokens.get(self.at + ahead)
    }

    pub fn advance(&mut self) -> Option<&'a Token> {
        let token = self.tokens.get(self.at)?;
        self.at += 1;
        Some(token)
    }

    pub fn at_end(&self) -> bool {
        self.at >= self.tokens.len()
    }

    /// The tokens not yet read; reading them all moves to the end.
    pub fn rest(&mut self) -> &'a [Token] {
        let rest = &self.tokens[self.at.min(self.tokens.len())..];
        self.at = self.tokens.len();
        rest
    }

    pub fn error(&self) -> SqlError {
        SqlError::syntax(self.peek().map(Token::echo).as_deref())
    }

    pub fn eat(&mut self, keyword: &str) -> bool {
        let found = self.peek().is_some_and(|t| t.is_word(keyword));
        self.at += usize::from(found);
        found
    }

    pub fn expect(&mut self, keyword: &str) -> Result<(), SqlError> {
        if self.eat(keyword) {
            Ok(())
        } else {
            Err(self.error())
        }
    }

    /// Eats the keywords in order, or none of them.
    pub fn eat_all(&mut self, keywords: &[&str]) -> bool {
        let matches = keywords
            .iter()
            .enumerate()
            .all(|(i, k)| self.peek_at(i).is_some_and(|t| t.is_word(k)));
        if matches {
            self.at += keywords.len();
        }
        matches
    }

    pub fn eat_symbol(&mut self, symbol: &str) -> bool {
        let found = self.peek().is_some_and(|t| t.is_symbol(symbol));
        self.at += usize::from(found);
        found
    }

    pub fn expect_symbol(&mut self, symbol: &str) -> Result<(), SqlError> {
        if self.eat_symbol(symbol) {
            Ok(())
        } else {
            Err(self.error())
        }
    }

    pub fn identifier(&mut self) -> Result<String, SqlError> {
        match self.peek() {
            Some(token) if token.is_identifier() => {
                self.at += 1;
                Ok(token.text.clone())
            }
            _ => Err(self.error()),
        }
    }

    /// `a`, `a.b` or `a.b.c`, each part plain or backticked.
    pub fn name(&mut self) -> Result<Name, SqlError> {
        let mut parts = vec![self.identifier()?];
        while self.peek().is_some_and(|t| t.is_symbol(".")) {
            if parts.len() == 3 {
                return Err(self.error());
            }
            self.at += 1;
            parts.push(self.identifier()?);
        }
        Ok(parts)
    }

    pub fn string(&mut self) -> Result<String, SqlError> {
        match self.peek() {
            Some(token) if token.kind == TokenKind::String => {
                self.at += 1;
                Ok(token.text.clone())
            }
            _ => Err(self.error()),
        }
    }

    pub fn finish(&self) -> Result<(), SqlError> {
        if self.at_end() {
            Ok(())
        } else {
            Err(self.error())
        }
    }

    /// `(item, item, ...)` with at least one item.
    pub fn list<T>(
        &mut self,
        mut item: impl FnMut(&mut Cursor<'a>) -> Result<T, SqlError>,
    ) -> Result<Vec<T>, SqlError> {
        self.expect_symbol("(")?;
        let mut items = vec![item(self)?];
        while self.eat_symbol(",") {
            items.push(item(self)?);
        }
        self.expect_symbol(")")?;
        Ok(items)
    }
}

/// Parses one statement. A single trailing `;` is allowed; a second statement is not, since
/// the Statement Execution API runs one statement per request.
pub(crate) fn parse(tokens: &[Token]) -> Result<Statement, SqlError> {
    let tokens = match tokens.split_last() {
        Some((last, rest)) if last.is_symbol(";") => rest,
        _ => tokens,
    };
    let refused = tokens.iter().find(|t| t.is_symbol(";") || t.is_symbol("?"));
    if let Some(token) = refused {
        return Err(SqlError::syntax(Some(&token.text)));
    }

    let mut cursor = Cursor::new(tokens);
    let Some(first) = cursor.peek() else {
        return Err(SqlError::syntax(None));
    };
    let query_start = ["select", "with", "values", "from"];
    if query_start.iter().any(|k| first.is_word(k)) || first.is_symbol("(") {
        return Ok(Statement::Query(tokens.to_vec()));
    }
    cursor.advance();
    let statement = match first.text.to_ascii_lowercase().as_str() {
        _ if first.kind != TokenKind::Word => return Err(SqlError::syntax(Some(&first.echo()))),
        "describe" | "desc" => describe(&mut cursor)?,
        "use" => use_statement(&mut cursor)?,
        "show" => show_grants(&mut cursor)?,
        "create" => create(&mut cursor)?,
        "alter" => alter(&mut cursor)?,
        "drop" => drop_table(&mut cursor)?,
        "delete" => delete(&mut cursor)?,
        "truncate" => {
            cursor.expect("table")?;
            Statement::Truncate(cursor.name()?)
        }
        "insert" => insert(&mut cursor)?,
        "grant" => grant(&mut cursor, false)?,
        "revoke" => grant(&mut cursor, true)?,
        "copy" => Statement::Copy(copy::parse(&mut cursor)?),
        "merge" => Statement::Merge(merge::parse(&mut cursor)?),
        _ => return Err(SqlError::syntax(Some(&first.text))),
    };
    cursor.finish()?;
    Ok(statement)
}

fn describe(cursor: &mut Cursor) -> Result<Statement, SqlError> {
    if cursor.eat("schema") || cursor.eat("database") {
        return Ok(Statement::DescribeSchema(cursor.name()?));
    }
    cursor.eat("table");
    Ok(Statement::DescribeTable(cursor.name()?))
}

fn use_statement(cursor: &mut Cursor) -> Result<Statement, SqlError> {
    if cursor.eat("catalog") {
        return Ok(Statement::UseCatalog(cursor.name()?));
    }
    if !cursor.eat("schema") {
        cursor.eat("database");
    }
    Ok(Statement::UseSchema(cursor.name()?))
}

fn show_grants(cursor: &mut Cursor) -> Result<Statement, SqlError> {
    cursor.expect("grants")?;
    let principal = match cursor.peek() {
        Some(token) if !token.is_word("on") => Some(cursor.identifier()?),
        _ => None,
    };
    cursor.expect("on")?;
    let kind = securable_kind(cursor)?;
    Ok(Statement::ShowGrants {
        principal,
        kind,
        name: cursor.name()?,
    })
}

fn securable_kind(cursor: &mut Cursor) -> Result<Kind, SqlError> {
    let kind = match cursor.peek() {
        Some(t) if t.is_word("catalog") => Kind::Catalog,
        Some(t) if t.is_word("schema") || t.is_word("database") => Kind::Schema,
        Some(t) if t.is_word("table") => Kind::Table,
        Some(t) if t.is_word("volume") => Kind::Volume,
        _ => return Err(cursor.error()),
    };
    cursor.advance();
    Ok(kind)
}

fn create(cursor: &mut Cursor) -> Result<Statement, SqlError> {
    if cursor.eat("schema") || cursor.eat("database") {
        let if_not_exists = cursor.eat_all(&["if", "not", "exists"]);
        let name = cursor.name()?;
        return Ok(Statement::CreateSchema {
            if_not_exists,
            name,
        });
    }
    if cursor.eat("volume") {
        let if_not_exists = cursor.eat_all(&["if", "not", "exists"]);
        let name = cursor.name()?;
        return Ok(Statement::CreateVolume {
            if_not_exists,
            name,
        });
    }
    cursor.expect("table")?;
    let if_not_exists = cursor.eat_all(&["if", "not", "exists"]);
    let name = cursor.name()?;
    let columns = cursor.list(|c| column_def(c, true))?;
    // Every table is a Delta table; saying so is allowed, any other property is not emulated.
    if cursor.eat("using") {
        cursor.expect("delta")?;
    }
    Ok(Statement::CreateTable {
        if_not_exists,
        name,
        columns,
    })
}

fn column_def(cursor: &mut Cursor, allow_not_null: bool) -> Result<ColumnDef, SqlError> {
    let name = cursor.identifier()?;
    let data_type = data_type(cursor)?;
    let not_null = allow_not_null && cursor.eat_all(&["not", "null"]);
    Ok(ColumnDef {
        name,
        data_type,
        not_null,
    })
}

/// A type name with its optional `(precision, scale)`.
pub(crate) fn data_type(cursor: &mut Cursor) -> Result<DbType, SqlError> {
    let Some(name) = cursor.peek().filter(|t| t.kind == TokenKind::Word) else {
        return Err(cursor.error());
    };
    cursor.advance();
    let mut parameters = Vec::new();
    if cursor.peek().is_some_and(|t| t.is_symbol("(")) {
        parameters = cursor.list(|c| match c.advance() {
            Some(t) if t.kind == TokenKind::Number => t.text.parse::<u32>().map_err(|_| c.error()),
            _ => Err(c.error()),
        })?;
    }
    DbType::from_name(&name.text, &parameters).ok_or_else(|| {
        let detail = format!(
            "Unsupported data type \"{}\".",
            name.text.to_ascii_uppercase()
        );
        SqlError::new("UNSUPPORTED_DATATYPE", detail, "0A000")
    })
}

fn alter(cursor: &mut Cursor) -> Result<Statement, SqlError> {
    cursor.expect("table")?;
    let name = cursor.name()?;
    cursor.expect("add")?;
    if !cursor.eat("columns") {
        cursor.expect("column")?;
    }
    // Delta refuses NOT NULL on added columns, so the grammar does too.
    let columns = if cursor.peek().is_some_and(|t| t.is_symbol("(")) {
        cursor.list(|c| column_def(c, false))?
    } else {
        vec![column_def(cursor, false)?]
    };
    Ok(Statement::AddColumns { name, columns })
}

fn drop_table(cursor: &mut Cursor) -> Result<Statement, SqlError> {
    cursor.expect("table")?;
    let if_exists = cursor.eat_all(&["if", "exists"]);
    Ok(Statement::DropTable {
        if_exists,
        name: cursor.name()?,
    })
}

fn delete(cursor: &mut Cursor) -> Result<Statement, SqlError> {
    cursor.expect("from")?;
    let name = cursor.name()?;
    let alias = alias(cursor, &["where"])?;
    let predicate = if cursor.eat("where") {
        let predicate = cursor.rest().to_vec();
        if predicate.is_empty() {
            return Err(SqlError::syntax(None));
        }
        Some(predicate)
    } else {
        None
    };
    Ok(Statement::Delete {
        name,
        alias,
        predicate,
    })
}

/// `[AS] alias`, unless the next word is one of `stops`.
pub(crate) fn alias(cursor: &mut Cursor, stops: &[&str]) -> Result<Option<String>, SqlError> {
    if cursor.eat("as") {
        return cursor.identifier().map(Some);
    }
    match cursor.peek() {
        Some(t) if t.is_identifier() && !stops.iter().any(|s| t.is_word(s)) => {
            cursor.identifier().map(Some)
        }
        _ => Ok(None),
    }
}

fn insert(cursor: &mut Cursor) -> Result<Statement, SqlError> {
    cursor.expect("into")?;
    cursor.eat("table");
    let name = cursor.name()?;
    let starts_query = |t: Option<&Token>| {
        t.is_some_and(|t| t.is_word("select") || t.is_word("with") || t.is_word("values"))
    };
    let mut columns = None;
    if cursor.peek().is_some_and(|t| t.is_symbol("(")) && !starts_query(cursor.peek_at(1)) {
        columns = Some(cursor.list(|c| c.identifier())?);
    }
    let first = cursor.peek();
    if !starts_query(first) && !first.is_some_and(|t| t.is_symbol("(")) {
        return Err(cursor.error());
    }
    let source = cursor.rest().to_vec();
    Ok(Statement::Insert {
        name,
        columns,
        source,
    })
}

fn grant(cursor: &mut Cursor, revoke: bool) -> Result<Statement, SqlError> {
    let mut privileges = Vec::new();
    loop {
        let mut words = Vec::new();
        while let Some(t) = cursor
            .peek()
            .filter(|t| t.kind == TokenKind::Word && !t.is_word("on"))
        {
            words.push(t.text.clone());
            cursor.advance();
        }
        let privilege = Privilege::parse(&words.join(" "));
        let Some(privilege) = privilege.filter(|_| !words.is_empty()) else {
            let near = words.first().cloned();
            return Err(SqlError::syntax(near.as_deref().or(Some("ON"))));
        };
        privileges.push(privilege);
        if !cursor.eat_symbol(",") {
            break;
        }
    }
    cursor.expect("on")?;
    let kind = securable_kind(cursor)?;
    let name = cursor.name()?;
    cursor.expect(if revoke { "from" } else { "to" })?;
    let principal = cursor.identifier()?;
    Ok(Statement::Grant {
        revoke,
        privileges,
        kind,
        name,
        principal,
    })
}

#[cfg(test)]
mod tests {
    use super::super::lexer::tokenize;
    use super::*;

    fn parsed(sql: &str) -> Result<Statement, SqlError> {
        parse(&tokenize(sql).unwrap())
    }

    fn syntax_error(sql: &str) -> String {
        let error = parsed(sql).expect_err(sql);
        assert_eq!(error.class.as_deref(), Some("PARSE_SYNTAX_ERROR"), "{sql}");
        error.message
    }

    #[test]
    fn reads_create_table_with_databricks_types() {
        let sql = "CREATE TABLE IF NOT EXISTS `main`.zuora.account (`id` STRING NOT NULL, \
                   balance DECIMAL(38, 9), updated TIMESTAMP) USING DELTA;";
        let Statement::CreateTable {
            if_not_exists,
            name,
            columns,
        } = parsed(sql).unwrap()
        else {
            panic!("not a CREATE TABLE");
        };
        assert!(if_not_exists);
        assert_eq!(name, ["main", "zuora", "account"]);
        assert_eq!(columns.len(), 3);
        assert!(columns[0].not_null);
        assert_eq!(columns[1].data_type, DbType::Decimal(38, 9));
        assert_eq!(columns[2].data_type, DbType::Timestamp);
    }

    #[test]
    fn reads_grants_with_multiword_privileges() {
        let sql = "GRANT USE SCHEMA, CREATE TABLE ON SCHEMA main.zuora TO `sp-1`";
        let Statement::Grant {
            revoke,
            privileges,
            kind,
            principal,
            ..
        } = parsed(sql).unwrap()
        else {
            panic!("not a GRANT");
        };
        assert!(!revoke);
        assert_eq!(privileges, [Privilege::UseSchema, Privilege::CreateTable]);
        assert_eq!(kind, Kind::Schema);
        assert_eq!(principal, "sp-1");
        assert!(matches!(
            parsed("REVOKE SELECT ON TABLE t FROM x"),
            Ok(Statement::Grant { revoke: true, .. })
        ));
    }

    #[test]
    fn refuses_what_it_does_not_emulate() {
        assert!(syntax_error("VACUUM t").contains("near 'VACUUM'"));
        assert!(syntax_error("SELECT 1; SELECT 2").contains("near ';'"));
        assert!(syntax_error("CREATE OR REPLACE TABLE t (a INT)").contains("near 'OR'"));
        assert!(syntax_error("ALTER TABLE t ADD COLUMN a INT NOT NULL").contains("near 'NOT'"));
        assert!(syntax_error("SELECT * FROM t WHERE id = ?").contains("near '?'"));
        assert!(syntax_error("DROP TABLE a.b.c.d").contains("near '.'"));
        assert!(syntax_error("").contains("end of input"));
        let unknown = parsed("CREATE TABLE t (a VARIANT)").unwrap_err();
        assert_eq!(unknown.class.as_deref(), Some("UNSUPPORTED_DATATYPE"));
    }

    #[test]
    fn reads_the_small_statements() {
        assert!(matches!(parsed("select 1"), Ok(Statement::Query(_))));
        assert!(matches!(
            parsed("DESCRIBE TABLE t"),
            Ok(Statement::DescribeTable(_))
        ));
        assert!(matches!(
            parsed("describe schema main.zuora"),
            Ok(Statement::DescribeSchema(_))
        ));
        assert!(matches!(
            parsed("USE CATALOG main"),
            Ok(Statement::UseCatalog(_))
        ));
        assert!(matches!(parsed("USE zuora"), Ok(Statement::UseSchema(_))));
        assert!(matches!(
            parsed("SHOW GRANTS `sp` ON CATALOG main"),
            Ok(Statement::ShowGrants {
                principal: Some(_),
                kind: Kind::Catalog,
                ..
            })
        ));
        assert!(matches!(
            parsed("DELETE FROM t AS x WHERE x.a = 1"),
            Ok(Statement::Delete {
                alias: Some(_),
                predicate: Some(_),
                ..
            })
        ));
        assert!(matches!(
            parsed("INSERT INTO t (a, b) VALUES (1, 2)"),
            Ok(Statement::Insert {
                columns: Some(_),
                ..
            })
        ));
        assert!(matches!(
            parsed("ALTER TABLE t ADD COLUMNS (a INT, b STRING)"),
            Ok(Statement::AddColumns { .. })
        ));
        assert!(matches!(
            parsed("CREATE VOLUME IF NOT EXISTS main.zuora.v"),
            Ok(Statement::CreateVolume {
                if_not_exists: true,
                ..
            })
        ));
    }
}
