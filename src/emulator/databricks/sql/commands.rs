//! The statements other than queries, COPY INTO and MERGE: DESCRIBE, USE, SHOW GRANTS, the
//! DDL of schemas, tables and volumes, DELETE, TRUNCATE, INSERT, GRANT and REVOKE. Each one
//! first walks to its object (catalog, then schema, then object, with USE CATALOG and USE
//! SCHEMA checked on the way) and then checks the privilege its operation needs.

use super::error::SqlError;
use super::parser::{ColumnDef, Name, Statement};
use super::results::ResultSet;
use super::translate::{self, duck_schema, duck_table, quote};
use super::{Exec, engine};
use crate::emulator::databricks::catalog::{Change, Refusal};
use crate::emulator::databricks::grants::{Kind, Object, Privilege};

/// Delta refuses these in column names unless column mapping is on, which the emulator's
/// tables never have.
const INVALID_NAME_CHARACTERS: &[char] = &[' ', ',', ';', '{', '}', '(', ')', '\n', '\t', '='];

impl Exec<'_> {
    pub(super) fn command(&mut self, statement: Statement) -> Result<ResultSet, SqlError> {
        match statement {
            Statement::DescribeTable(name) => self.describe_table(&name),
            Statement::DescribeSchema(name) => self.describe_schema(&name),
            Statement::UseCatalog(name) => {
                self.reach(&name, Kind::Catalog)?;
                Ok(ResultSet::empty())
            }
            Statement::UseSchema(name) => {
                self.reach(&name, Kind::Schema)?;
                Ok(ResultSet::empty())
            }
            Statement::ShowGrants {
                principal,
                kind,
                name,
            } => self.show_grants(principal.as_deref(), kind, &name),
            Statement::CreateSchema {
                if_not_exists,
                name,
            } => self.create_schema(if_not_exists, &name),
            Statement::CreateTable {
                if_not_exists,
                name,
                columns,
            } => self.create_table(if_not_exists, &name, &columns),
            Statement::AddColumns { name, columns } => self.add_columns(&name, &columns),
            Statement::DropTable { if_exists, name } => self.drop_table(if_exists, &name),
            Statement::Delete {
                name,
                alias,
                predicate,
            } => self.delete(&name, alias.as_deref(), predicate.as_deref()),
            Statement::Truncate(name) => self.truncate(&name),
            Statement::Insert {
                name,
                columns,
                source,
            } => self.insert(&name, columns.as_deref(), &source),
            Statement::CreateVolume {
                if_not_exists,
                name,
            } => self.create_volume(if_not_exists, &name),
            Statement::Grant {
                revoke,
                privileges,
                kind,
                name,
                principal,
            } => self.grant(revoke, &privileges, kind, &name, &principal),
            Statement::Query(_) | Statement::Copy(_) | Statement::Merge(_) => {
                Err(SqlError::internal("dispatched to the wrong executor"))
            }
        }
    }

    fn describe_table(&mut self, name: &Name) -> Result<ResultSet, SqlError> {
        let table = self.reach(name, Kind::Table)?;
        let readable = self.meta.allows(self.who(), Privilege::Select, &table)
            || self.meta.allows(self.who(), Privilege::Modify, &table);
        if !readable {
            return Err(SqlError::insufficient(
                Privilege::Select,
                Kind::Table,
                &table.key(),
            ));
        }
        let rows = engine::columns(self.conn, &table)?
            .into_iter()
            .map(|c| vec![Some(c.name), Some(c.db_type.databricks()), None])
            .collect();
        Ok(ResultSet::strings(
            &["col_name", "data_type", "comment"],
            rows,
        ))
    }

    fn describe_schema(&mut self, name: &Name) -> Result<ResultSet, SqlError> {
        let schema = self.reach(name, Kind::Schema)?;
        let owner = self.meta.owner(&schema).map(str::to_string);
        let rows = vec![
            vec![Some("Catalog Name".into()), Some(schema.parts[0].clone())],
            vec![Some("Namespace Name".into()), Some(schema.parts[1].clone())],
            vec![Some("Comment".into()), Some(String::new())],
            vec![Some("Owner".into()), owner],
        ];
        let columns = ["database_description_item", "database_description_value"];
        Ok(ResultSet::strings(&columns, rows))
    }

    /// Allowed for admins, owners, MANAGE holders, and a principal asking about itself.
    fn show_grants(
        &mut self,
        principal: Option<&str>,
        kind: Kind,
        name: &Name,
    ) -> Result<ResultSet, SqlError> {
        let object = translate::qualify(self.session, name, kind)?;
        if !self.meta.exists(&object) {
            return Err(translate::missing(&object));
        }
        let about_self = principal == Some(self.who().name.as_str());
        if !about_self && !self.meta.allows(self.who(), Privilege::Manage, &object) {
            return Err(SqlError::insufficient(
                Privilege::Manage,
                kind,
                &object.key(),
            ));
        }
        let rows = self
            .meta
            .grants
            .on(&object, principal)
            .into_iter()
            .map(|(who, privilege)| {
                vec![
                    Some(who),
                    Some(privilege.name().to_string()),
                    Some(kind.keyword().to_string()),
                    Some(object.key()),
                ]
            })
            .collect();
        let columns = ["principal", "actionType", "objectType", "objectKey"];
        Ok(ResultSet::strings(&columns, rows))
    }

    fn create_schema(&mut self, if_not_exists: bool, name: &Name) -> Result<ResultSet, SqlError> {
        let schema = translate::qualify(self.session, name, Kind::Schema)?;
        let catalog = self.reach(&schema.parts[..1], Kind::Catalog)?;
        self.require(Privilege::CreateSchema, &catalog)?;
        if self.meta.exists(&schema) {
            if if_not_exists {
                return Ok(ResultSet::empty());
            }
            let detail = format!(
                "Cannot create schema {} because it already exists.",
                translate::quoted_name(&schema)
            );
            return Err(SqlError::new("SCHEMA_ALREADY_EXISTS", detail, "42P06"));
        }
        let duck = quote(&duck_schema(&schema.parts[0], &schema.parts[1]));
        engine::execute(self.conn, &format!("CREATE SCHEMA {duck}"))?;
        self.changes
            .push(Change::CreateSchema(schema, self.who().name.clone()));
        Ok(ResultSet::empty())
    }

    fn create_table(
        &mut self,
        if_not_exists: bool,
        name: &Name,
        columns: &[ColumnDef],
    ) -> Result<ResultSet, SqlError> {
        let table = translate::qualify(self.session, name, Kind::Table)?;
        let schema = self.reach(&table.parts[..2], Kind::Schema)?;
        self.require(Privilege::CreateTable, &schema)?;
        if self.meta.exists(&table) {
            if if_not_exists {
                return Ok(ResultSet::empty());
            }
            let detail = format!(
                "Cannot create table or view {} because it already exists.",
                translate::quoted_name(&table)
            );
            return Err(SqlError::new(
                "TABLE_OR_VIEW_ALREADY_EXISTS",
                detail,
                "42P07",
            ));
        }
        check_new_columns(&[], columns)?;
        let definitions: Vec<String> = columns.iter().map(definition).collect();
        let sql = format!(
            "CREATE TABLE {} ({})",
            duck_table(&table),
            definitions.join(", ")
        );
        engine::execute(self.conn, &sql)?;
        self.changes
            .push(Change::CreateTable(table, self.who().name.clone()));
        Ok(ResultSet::empty())
    }

    /// The exact rule for ALTER is UNCONFIRMED; the emulator takes the strictest reading
    /// (owner or MANAGE), so a client that passes here passes on a real workspace.
    fn add_columns(&mut self, name: &Name, columns: &[ColumnDef]) -> Result<ResultSet, SqlError> {
        let table = self.reach(name, Kind::Table)?;
        let owner = self.meta.require_owner(self.who(), &table);
        owner.map_err(|r| self.refused(r, &table))?;
        let existing: Vec<String> = engine::columns(self.conn, &table)?
            .into_iter()
            .map(|c| c.name)
            .collect();
        check_new_columns(&existing, columns)?;
        for column in columns {
            let sql = format!(
                "ALTER TABLE {} ADD COLUMN {}",
                duck_table(&table),
                definition(column)
            );
            engine::execute(self.conn, &sql)?;
        }
        Ok(ResultSet::empty())
    }

    fn drop_table(&mut self, if_exists: bool, name: &Name) -> Result<ResultSet, SqlError> {
        let table = translate::qualify(self.session, name, Kind::Table)?;
        match self.meta.reach(self.who(), &table) {
            Ok(()) => {}
            Err(refusal @ Refusal::Denied(..)) => return Err(self.refused(refusal, &table)),
            Err(_) if if_exists => return Ok(ResultSet::empty()),
            Err(refusal) => return Err(self.refused(refusal, &table)),
        }
        let owner = self.meta.require_owner(self.who(), &table);
        owner.map_err(|r| self.refused(r, &table))?;
        engine::execute(self.conn, &format!("DROP TABLE {}", duck_table(&table)))?;
        self.changes.push(Change::DropTable(table));
        Ok(ResultSet::empty())
    }

    fn delete(
        &mut self,
        name: &Name,
        alias: Option<&str>,
        predicate: Option<&[super::lexer::Token]>,
    ) -> Result<ResultSet, SqlError> {
        let table = self.writable_table(name)?;
        let mut sql = format!("DELETE FROM {}", duck_table(&table));
        if let Some(alias) = alias {
            sql.push_str(&format!(" AS {}", quote(alias)));
        }
        if let Some(predicate) = predicate {
            let condition = self.translator().expression(predicate)?;
            sql.push_str(&format!(" WHERE {condition}"));
        }
        let (deleted, _) = engine::run(self.conn, &sql)?;
        Ok(ResultSet::counts(&[("num_affected_rows", deleted as u64)]))
    }

    fn truncate(&mut self, name: &Name) -> Result<ResultSet, SqlError> {
        let table = self.reach(name, Kind::Table)?;
        self.require(Privilege::Modify, &table)?;
        engine::execute(self.conn, &format!("DELETE FROM {}", duck_table(&table)))?;
        Ok(ResultSet::empty())
    }

    fn insert(
        &mut self,
        name: &Name,
        columns: Option<&[String]>,
        source: &[super::lexer::Token],
    ) -> Result<ResultSet, SqlError> {
        let table = self.reach(name, Kind::Table)?;
        self.require(Privilege::Modify, &table)?;
        let query = self.translator().query(source)?;
        let list = columns.map_or_else(String::new, |columns| {
            let quoted: Vec<String> = columns.iter().map(|c| quote(c)).collect();
            format!(" ({})", quoted.join(", "))
        });
        let sql = format!("INSERT INTO {}{list} {query}", duck_table(&table));
        let (inserted, _) = engine::run(self.conn, &sql)?;
        let inserted = inserted as u64;
        Ok(ResultSet::counts(&[
            ("num_affected_rows", inserted),
            ("num_inserted_rows", inserted),
        ]))
    }

    fn create_volume(&mut self, if_not_exists: bool, name: &Name) -> Result<ResultSet, SqlError> {
        let volume = translate::qualify(self.session, name, Kind::Volume)?;
        let schema = self.reach(&volume.parts[..2], Kind::Schema)?;
        self.require(Privilege::CreateVolume, &schema)?;
        if self.meta.exists(&volume) {
            if if_not_exists {
                return Ok(ResultSet::empty());
            }
            // The error class for an existing volume is UNCONFIRMED.
            let detail = format!(
                "Cannot create volume {} because it already exists.",
                translate::quoted_name(&volume)
            );
            return Err(SqlError::new("VOLUME_ALREADY_EXISTS", detail, "42000"));
        }
        self.changes
            .push(Change::CreateVolume(volume, self.who().name.clone()));
        Ok(ResultSet::empty())
    }

    /// GRANT and REVOKE are for workspace admins only in this emulator.
    fn grant(
        &mut self,
        revoke: bool,
        privileges: &[Privilege],
        kind: Kind,
        name: &Name,
        principal: &str,
    ) -> Result<ResultSet, SqlError> {
        let object = translate::qualify(self.session, name, kind)?;
        if !self.meta.exists(&object) {
            return Err(translate::missing(&object));
        }
        if !self.who().admin {
            return Err(SqlError::insufficient(
                Privilege::Manage,
                kind,
                &object.key(),
            ));
        }
        for privilege in privileges {
            if !privilege.grantable_on(kind) {
                // The wording of this refusal is UNCONFIRMED.
                let detail = format!(
                    "Privilege {} is not applicable to {} '{}'.",
                    privilege.name(),
                    kind.title(),
                    object.key()
                );
                return Err(SqlError::new("INVALID_PARAMETER_VALUE", detail, "22023"));
            }
            let who = principal.to_string();
            self.changes.push(if revoke {
                Change::Revoke(who, *privilege, object.clone())
            } else {
                Change::Grant(who, *privilege, object.clone())
            });
        }
        Ok(ResultSet::empty())
    }

    fn require(&self, privilege: Privilege, object: &Object) -> Result<(), SqlError> {
        let allowed = self.meta.require(self.who(), privilege, object);
        allowed.map_err(|r| self.refused(r, object))
    }
}

fn definition(column: &ColumnDef) -> String {
    let not_null = if column.not_null { " NOT NULL" } else { "" };
    format!(
        "{} {}{not_null}",
        quote(&column.name),
        column.data_type.duckdb()
    )
}

/// Column names are case-insensitive and must be unique, also against `existing`.
fn check_new_columns(existing: &[String], columns: &[ColumnDef]) -> Result<(), SqlError> {
    let mut seen: Vec<String> = existing.iter().map(|c| c.to_lowercase()).collect();
    for column in columns {
        if column.name.contains(INVALID_NAME_CHARACTERS) {
            let detail = format!(
                "Found invalid character(s) among ' ,;{{}}()\\n\\t=' in the column names of \
                 your schema: `{}`.",
                column.name
            );
            return Err(SqlError::new(
                "DELTA_INVALID_CHARACTERS_IN_COLUMN_NAMES",
                detail,
                "42K05",
            ));
        }
        let lower = column.name.to_lowercase();
        if seen.contains(&lower) {
            let detail = format!("The column `{}` already exists.", column.name);
            return Err(SqlError::new("COLUMN_ALREADY_EXISTS", detail, "42711"));
        }
        seen.push(lower);
    }
    Ok(())
}
