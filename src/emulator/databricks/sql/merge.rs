//! MERGE INTO in its Databricks spellings (`UPDATE SET *`, `INSERT *`, `WHEN NOT MATCHED [BY
//! TARGET | BY SOURCE]`), translated to DuckDB's MERGE with the stars expanded over the
//! target's columns. Like Delta, it fails when several source rows match one target row that
//! a clause would modify, and it reports `num_affected_rows, num_updated_rows,
//! num_deleted_rows, num_inserted_rows`.

use super::Exec;
use super::engine;
use super::error::SqlError;
use super::lexer::Token;
use super::parser::{Cursor, Name, alias};
use super::results::ResultSet;
use super::translate::{duck_table, matching_paren, quote};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MergeInto {
    pub target: Name,
    pub target_alias: Option<String>,
    pub source: MergeSource,
    pub source_alias: Option<String>,
    pub on: Vec<Token>,
    pub clauses: Vec<Clause>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MergeSource {
    /// The tokens inside `USING ( ... )`.
    Query(Vec<Token>),
    Table(Name),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum When {
    Matched,
    NotMatched,
    NotMatchedBySource,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Action {
    Delete,
    UpdateAll,
    Update(Vec<(String, Vec<Token>)>),
    InsertAll,
    Insert(Vec<String>, Vec<Vec<Token>>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Clause {
    pub when: When,
    pub condition: Option<Vec<Token>>,
    pub action: Action,
}

/// Parses what follows `MERGE`. `MERGE WITH SCHEMA EVOLUTION` is not emulated.
pub(crate) fn parse(cursor: &mut Cursor) -> Result<MergeInto, SqlError> {
    cursor.expect("into")?;
    let target = cursor.name()?;
    let target_alias = alias(cursor, &["using"])?;
    cursor.expect("using")?;
    let source = if cursor.peek().is_some_and(|t| t.is_symbol("(")) {
        let rest = cursor.rest();
        let close = matching_paren(rest, 0).ok_or_else(|| SqlError::syntax(None))?;
        *cursor = Cursor::new(&rest[close + 1..]);
        MergeSource::Query(rest[1..close].to_vec())
    } else {
        MergeSource::Table(cursor.name()?)
    };
    let source_alias = alias(cursor, &["on"])?;
    if matches!(source, MergeSource::Query(_)) && source_alias.is_none() {
        return Err(cursor.error());
    }
    cursor.expect("on")?;
    let on = until(cursor, &["when"]);
    if on.is_empty() {
        return Err(cursor.error());
    }

    let mut clauses = Vec::new();
    while cursor.eat("when") {
        clauses.push(clause(cursor)?);
    }
    if clauses.is_empty() {
        return Err(cursor.error());
    }
    Ok(MergeInto {
        target,
        target_alias,
        source,
        source_alias,
        on,
        clauses,
    })
}

fn clause(cursor: &mut Cursor) -> Result<Clause, SqlError> {
    let when = if cursor.eat("matched") {
        When::Matched
    } else {
        cursor.expect("not")?;
        cursor.expect("matched")?;
        if cursor.eat_all(&["by", "source"]) {
            When::NotMatchedBySource
        } else {
            cursor.eat_all(&["by", "target"]);
            When::NotMatched
        }
    };
    let condition = if cursor.eat("and") {
        Some(until(cursor, &["then"]))
    } else {
        None
    };
    cursor.expect("then")?;

    let action = if cursor.eat("delete") {
        Action::Delete
    } else if cursor.eat("update") {
        cursor.expect("set")?;
        if cursor.eat_symbol("*") {
            Action::UpdateAll
        } else {
            Action::Update(assignments(cursor)?)
        }
    } else {
        cursor.expect("insert")?;
        if cursor.eat_symbol("*") {
            Action::InsertAll
        } else {
            let columns = cursor.list(|c| c.identifier())?;
            cursor.expect("values")?;
            cursor.expect_symbol("(")?;
            let values = split(&until(cursor, &[]));
            cursor.expect_symbol(")")?;
            if values.len() != columns.len() || values.iter().any(Vec::is_empty) {
                return Err(cursor.error());
            }
            Action::Insert(columns, values)
        }
    };

    let allowed = match when {
        When::Matched => matches!(
            action,
            Action::Delete | Action::UpdateAll | Action::Update(_)
        ),
        When::NotMatched => matches!(action, Action::InsertAll | Action::Insert(..)),
        When::NotMatchedBySource => matches!(action, Action::Delete | Action::Update(_)),
    };
    if !allowed {
        return Err(cursor.error());
    }
    Ok(Clause {
        when,
        condition,
        action,
    })
}

/// `col = expr, t.col = expr, ...`; a qualifier on the target column is dropped.
fn assignments(cursor: &mut Cursor) -> Result<Vec<(String, Vec<Token>)>, SqlError> {
    let tokens = until(cursor, &["when"]);
    let mut assignments = Vec::new();
    for part in split(&tokens) {
        let equals = part
            .iter()
            .position(|t| t.is_symbol("="))
            .ok_or_else(|| SqlError::syntax(part.first().map(Token::echo).as_deref()))?;
        let column = part[..equals]
            .iter()
            .rev()
            .find(|t| t.is_identifier())
            .ok_or_else(|| SqlError::syntax(Some("=")))?;
        let expression = part[equals + 1..].to_vec();
        if expression.is_empty() {
            return Err(SqlError::syntax(None));
        }
        assignments.push((column.text.clone(), expression));
    }
    Ok(assignments)
}

/// The tokens up to the first of `stops` outside parentheses and CASE ... END (or up to an
/// unbalanced `)`, or the end).
fn until(cursor: &mut Cursor, stops: &[&str]) -> Vec<Token> {
    let (mut depth, mut cases) = (0usize, 0usize);
    let mut tokens = Vec::new();
    while let Some(token) = cursor.peek() {
        let top = depth == 0 && cases == 0;
        if top && (stops.iter().any(|s| token.is_word(s)) || token.is_symbol(")")) {
            break;
        }
        if token.is_symbol("(") {
            depth += 1;
        } else if token.is_symbol(")") {
            depth -= 1;
        } else if token.is_word("case") {
            cases += 1;
        } else if token.is_word("end") && cases > 0 {
            cases -= 1;
        }
        tokens.push(token.clone());
        cursor.advance();
    }
    tokens
}

/// Splits a token list at its top-level commas.
fn split(tokens: &[Token]) -> Vec<Vec<Token>> {
    let mut parts = vec![Vec::new()];
    let mut depth = 0usize;
    for token in tokens {
        if token.is_symbol("(") {
            depth += 1;
        } else if token.is_symbol(")") {
            depth = depth.saturating_sub(1);
        } else if token.is_symbol(",") && depth == 0 {
            parts.push(Vec::new());
            continue;
        }
        parts.last_mut().expect("never empty").push(token.clone());
    }
    parts
}

impl Exec<'_> {
    pub(super) fn merge_into(&mut self, merge: MergeInto) -> Result<ResultSet, SqlError> {
        let table = self.writable_table(&merge.target)?;
        let columns: Vec<String> = engine::columns(self.conn, &table)?
            .into_iter()
            .map(|c| c.name)
            .collect();
        let target_alias = quote(merge.target_alias.as_deref().unwrap_or(&table.parts[2]));
        let target = format!("{} AS {target_alias}", duck_table(&table));

        let mut translator = self.translator();
        let (source, default_alias) = match &merge.source {
            MergeSource::Query(tokens) => (format!("({})", translator.query(tokens)?), None),
            MergeSource::Table(name) => {
                let read = translator.read_table(name)?;
                (duck_table(&read), Some(read.parts[2].clone()))
            }
        };
        let source_alias = merge.source_alias.clone().or(default_alias);
        let source_alias = quote(&source_alias.expect("a subquery source has an alias"));
        let source = format!("{source} AS {source_alias}");
        let on = translator.expression(&merge.on)?;

        let mut clauses = Vec::new();
        let mut matched_conditions = Vec::new();
        for clause in &merge.clauses {
            let condition = match &clause.condition {
                Some(tokens) => Some(translator.expression(tokens)?),
                None => None,
            };
            if clause.when == When::Matched {
                matched_conditions.push(condition.clone());
            }
            let action = render_action(&clause.action, &columns, &source_alias, &mut translator)?;
            let when = match clause.when {
                When::Matched => "WHEN MATCHED",
                When::NotMatched => "WHEN NOT MATCHED BY TARGET",
                When::NotMatchedBySource => "WHEN NOT MATCHED BY SOURCE",
            };
            let condition = condition.map_or_else(String::new, |c| format!(" AND ({c})"));
            clauses.push(format!("{when}{condition} THEN {action}"));
        }

        let only_deletes = merge
            .clauses
            .iter()
            .filter(|c| c.when == When::Matched)
            .all(|c| c.action == Action::Delete && c.condition.is_none());
        if !matched_conditions.is_empty() && !only_deletes {
            self.refuse_multiple_matches(
                &target,
                &target_alias,
                &source,
                &on,
                &matched_conditions,
            )?;
        }

        let sql = format!(
            "MERGE INTO {target} USING {source} ON {on} {} RETURNING merge_action",
            clauses.join(" ")
        );
        let (_, result) = engine::run(self.conn, &sql)?;
        let count = |action: &str| {
            result
                .rows
                .iter()
                .filter(|row| {
                    row[0]
                        .as_deref()
                        .is_some_and(|a| a.eq_ignore_ascii_case(action))
                })
                .count() as u64
        };
        let (updated, deleted, inserted) = (count("UPDATE"), count("DELETE"), count("INSERT"));
        Ok(ResultSet::counts(&[
            ("num_affected_rows", updated + deleted + inserted),
            ("num_updated_rows", updated),
            ("num_deleted_rows", deleted),
            ("num_inserted_rows", inserted),
        ]))
    }

    /// Delta's rule: among the target rows some matched clause applies to, none may be
    /// matched by two source rows.
    fn refuse_multiple_matches(
        &self,
        target: &str,
        target_alias: &str,
        source: &str,
        on: &str,
        matched_conditions: &[Option<String>],
    ) -> Result<(), SqlError> {
        let filter = if matched_conditions.iter().all(Option::is_some) {
            let any: Vec<String> = matched_conditions
                .iter()
                .flatten()
                .map(|c| format!("({c})"))
                .collect();
            format!(" WHERE {}", any.join(" OR "))
        } else {
            String::new()
        };
        let sql = format!(
            "SELECT 1 FROM {target} JOIN {source} ON {on}{filter} GROUP BY {target_alias}.rowid \
             HAVING count(*) > 1 LIMIT 1"
        );
        let (_, duplicates) = engine::run(self.conn, &sql)?;
        if duplicates.rows.is_empty() {
            return Ok(());
        }
        let detail = "Cannot perform Merge as multiple source rows matched and attempted to \
                      modify the same target row in the Delta table. Deduplicate the source so \
                      that each target row is matched at most once.";
        Err(SqlError::new(
            "DELTA_MULTIPLE_SOURCE_ROW_MATCHING_TARGET_ROW_IN_MERGE",
            detail,
            "21506",
        ))
    }
}

fn render_action(
    action: &Action,
    columns: &[String],
    source_alias: &str,
    translator: &mut super::translate::Translator,
) -> Result<String, SqlError> {
    let from_source = |c: &String| format!("{source_alias}.{}", quote(c));
    Ok(match action {
        Action::Delete => "DELETE".to_string(),
        Action::UpdateAll => {
            let set: Vec<String> = columns
                .iter()
                .map(|c| format!("{} = {}", quote(c), from_source(c)))
                .collect();
            format!("UPDATE SET {}", set.join(", "))
        }
        Action::Update(assignments) => {
            let mut set = Vec::new();
            for (column, expression) in assignments {
                let value = translator.expression(expression)?;
                set.push(format!("{} = {value}", quote(column)));
            }
            format!("UPDATE SET {}", set.join(", "))
        }
        Action::InsertAll => {
            let names: Vec<String> = columns.iter().map(|c| quote(c)).collect();
            let values: Vec<String> = columns.iter().map(from_source).collect();
            format!(
                "INSERT ({}) VALUES ({})",
                names.join(", "),
                values.join(", ")
            )
        }
        Action::Insert(names, values) => {
            let names: Vec<String> = names.iter().map(|c| quote(c)).collect();
            let mut rendered = Vec::new();
            for value in values {
                rendered.push(translator.expression(value)?);
            }
            format!(
                "INSERT ({}) VALUES ({})",
                names.join(", "),
                rendered.join(", ")
            )
        }
    })
}

#[cfg(test)]
mod tests {
    use super::super::lexer::tokenize;
    use super::super::parser::{Statement, parse};
    use super::*;

    fn merge(sql: &str) -> MergeInto {
        match parse(&tokenize(sql).unwrap()).unwrap() {
            Statement::Merge(merge) => merge,
            other => panic!("not a MERGE: {other:?}"),
        }
    }

    #[test]
    fn reads_the_zuora_sync_merge() {
        let merge = merge(
            "MERGE INTO main.zuora.account AS t USING (SELECT * EXCEPT (_rn) FROM (SELECT *, \
             ROW_NUMBER() OVER (PARTITION BY id ORDER BY updated DESC) AS _rn FROM stage) \
             WHERE _rn = 1) AS s ON t.id = s.id \
             WHEN MATCHED AND s._deleted THEN DELETE \
             WHEN MATCHED AND (t.updated IS NULL OR CASE WHEN s.updated > t.updated THEN true \
             ELSE false END) THEN UPDATE SET * \
             WHEN NOT MATCHED AND NOT s._deleted THEN INSERT *",
        );
        assert_eq!(merge.target_alias.as_deref(), Some("t"));
        assert_eq!(merge.source_alias.as_deref(), Some("s"));
        assert!(matches!(merge.source, MergeSource::Query(_)));
        assert_eq!(merge.on.len(), 7);
        let actions: Vec<&Action> = merge.clauses.iter().map(|c| &c.action).collect();
        assert_eq!(
            actions,
            [&Action::Delete, &Action::UpdateAll, &Action::InsertAll]
        );
        assert_eq!(merge.clauses[2].when, When::NotMatched);
    }

    #[test]
    fn reads_explicit_assignments_and_inserts() {
        let merge = merge(
            "MERGE INTO t USING stage s ON t.id = s.id \
             WHEN MATCHED THEN UPDATE SET t.a = s.a, b = coalesce(s.b, 0) \
             WHEN NOT MATCHED BY TARGET THEN INSERT (id, a) VALUES (s.id, s.a) \
             WHEN NOT MATCHED BY SOURCE THEN DELETE",
        );
        let Action::Update(assignments) = &merge.clauses[0].action else {
            panic!("not an update");
        };
        let names: Vec<&str> = assignments.iter().map(|(c, _)| c.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        assert!(
            matches!(&merge.clauses[1].action, Action::Insert(c, v) if c.len() == 2 && v.len() == 2)
        );
        assert_eq!(merge.clauses[2].when, When::NotMatchedBySource);
    }

    #[test]
    fn refuses_clauses_in_the_wrong_place() {
        for sql in [
            "MERGE INTO t USING s ON t.id = s.id WHEN NOT MATCHED THEN DELETE",
            "MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN INSERT *",
            "MERGE WITH SCHEMA EVOLUTION INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE",
            "MERGE INTO t USING (SELECT 1) ON 1 = 1 WHEN MATCHED THEN DELETE",
            "MERGE INTO t USING s ON t.id = s.id",
        ] {
            let error = parse(&tokenize(sql).unwrap()).unwrap_err();
            assert_eq!(error.class.as_deref(), Some("PARSE_SYNTAX_ERROR"), "{sql}");
        }
    }
}
