//! The Unity Catalog metastore of the emulated workspace: which catalogs, schemas, tables and
//! volumes exist, who owns each, which files every table has loaded with COPY INTO (its
//! ledger), and the grants. It answers access questions in the order Unity Catalog asks them:
//! the catalog must exist and be usable, then the schema, then the object itself.
//!
//! The data of the tables lives in DuckDB; this registry is the source of truth for names,
//! ownership and privileges, and both change together under the workspace's SQL lock.

use std::collections::{BTreeMap, BTreeSet};

use super::auth::Principal;
use super::grants::{Grants, Kind, Object, Privilege};

/// Why an access check failed; the SQL and REST layers word it each in their own way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    CatalogMissing(String),
    SchemaMissing(String, String),
    ObjectMissing(Object),
    Denied(Privilege, Object),
    NotOwner(Object),
}

/// A change a statement makes to the metastore, applied only once its DuckDB transaction has
/// committed, so a failed or canceled statement leaves no trace in either.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Change {
    CreateSchema(Object, String),
    CreateTable(Object, String),
    DropTable(Object),
    CreateVolume(Object, String),
    /// Paths a COPY INTO loaded into a table.
    Loaded(Object, Vec<String>),
    Grant(String, Privilege, Object),
    Revoke(String, Privilege, Object),
}

#[derive(Debug)]
struct Catalog {
    owner: String,
    schemas: BTreeMap<String, Schema>,
}

#[derive(Debug)]
struct Schema {
    owner: String,
    tables: BTreeMap<String, Table>,
    volumes: BTreeMap<String, String>,
}

#[derive(Debug)]
struct Table {
    owner: String,
    /// Every source path COPY INTO has loaded, the identity it skips by.
    loaded: BTreeSet<String>,
}

#[derive(Debug, Default)]
pub(crate) struct Metastore {
    catalogs: BTreeMap<String, Catalog>,
    pub grants: Grants,
}

impl Metastore {
    /// Creates the catalog if it is new; like `CREATE CATALOG`, it comes with a `default`
    /// schema.
    pub fn create_catalog(&mut self, name: &str, owner: &str) {
        let name = name.to_ascii_lowercase();
        self.catalogs
            .entry(name.clone())
            .or_insert_with(|| Catalog {
                owner: owner.to_string(),
                schemas: BTreeMap::new(),
            });
        self.apply(Change::CreateSchema(
            Object::schema(&name, "default"),
            owner.to_string(),
        ));
    }

    pub fn exists(&self, object: &Object) -> bool {
        self.owner(object).is_some()
    }

    pub fn owner(&self, object: &Object) -> Option<&str> {
        let parts = &object.parts;
        let catalog = self.catalogs.get(&parts[0])?;
        if object.kind == Kind::Catalog {
            return Some(&catalog.owner);
        }
        let schema = catalog.schemas.get(&parts[1])?;
        match object.kind {
            Kind::Schema => Some(&schema.owner),
            Kind::Table => schema.tables.get(&parts[2]).map(|t| t.owner.as_str()),
            Kind::Volume => schema.volumes.get(&parts[2]).map(String::as_str),
            Kind::Catalog => unreachable!("handled above"),
        }
    }

    /// The schemas of every catalog, as `(catalog, schema)`.
    pub fn schemas(&self) -> Vec<(String, String)> {
        self.catalogs
            .iter()
            .flat_map(|(c, catalog)| catalog.schemas.keys().map(|s| (c.clone(), s.clone())))
            .collect()
    }

    /// Whether COPY INTO already loaded `path` into `table`.
    pub fn was_loaded(&self, table: &Object, path: &str) -> bool {
        self.table(table).is_some_and(|t| t.loaded.contains(path))
    }

    fn table(&self, table: &Object) -> Option<&Table> {
        let parts = &table.parts;
        let schema = self.catalogs.get(&parts[0])?.schemas.get(&parts[1])?;
        schema.tables.get(&parts[2])
    }

    fn schema_mut(&mut self, catalog: &str, schema: &str) -> Option<&mut Schema> {
        self.catalogs.get_mut(catalog)?.schemas.get_mut(schema)
    }

    pub fn apply(&mut self, change: Change) {
        match change {
            Change::CreateSchema(object, owner) => {
                if let Some(catalog) = self.catalogs.get_mut(&object.parts[0]) {
                    catalog
                        .schemas
                        .entry(object.parts[1].clone())
                        .or_insert_with(|| Schema {
                            owner,
                            tables: BTreeMap::new(),
                            volumes: BTreeMap::new(),
                        });
                }
            }
            Change::CreateTable(object, owner) => {
                let table = Table {
                    owner,
                    loaded: BTreeSet::new(),
                };
                if let Some(schema) = self.schema_mut(&object.parts[0], &object.parts[1]) {
                    schema.tables.insert(object.parts[2].clone(), table);
                }
            }
            Change::DropTable(object) => {
                if let Some(schema) = self.schema_mut(&object.parts[0], &object.parts[1]) {
                    schema.tables.remove(&object.parts[2]);
                }
                self.grants.forget(&object);
            }
            Change::CreateVolume(object, owner) => {
                if let Some(schema) = self.schema_mut(&object.parts[0], &object.parts[1]) {
                    schema.volumes.insert(object.parts[2].clone(), owner);
                }
            }
            Change::Loaded(object, paths) => {
                if let Some(schema) = self.schema_mut(&object.parts[0], &object.parts[1])
                    && let Some(table) = schema.tables.get_mut(&object.parts[2])
                {
                    table.loaded.extend(paths);
                }
            }
            Change::Grant(principal, privilege, object) => {
                self.grants.grant(&principal, privilege, &object);
            }
            Change::Revoke(principal, privilege, object) => {
                self.grants.revoke(&principal, privilege, &object);
            }
        }
    }

    /// Admins pass every check; owners hold every privilege on what they own.
    pub fn allows(&self, who: &Principal, privilege: Privilege, object: &Object) -> bool {
        who.admin
            || self.owner(object) == Some(who.name.as_str())
            || self.grants.holds(&who.name, privilege, object)
    }

    pub fn require(
        &self,
        who: &Principal,
        privilege: Privilege,
        object: &Object,
    ) -> Result<(), Refusal> {
        if self.allows(who, privilege, object) {
            Ok(())
        } else {
            Err(Refusal::Denied(privilege, object.clone()))
        }
    }

    /// Walks to `object`: its catalog exists and `who` may USE it, then its schema likewise,
    /// then the object exists. It checks no privilege on the object itself.
    pub fn reach(&self, who: &Principal, object: &Object) -> Result<(), Refusal> {
        let catalog = Object::catalog(&object.parts[0]);
        if !self.exists(&catalog) {
            return Err(Refusal::CatalogMissing(catalog.parts[0].clone()));
        }
        self.require(who, Privilege::UseCatalog, &catalog)?;
        if object.kind == Kind::Catalog {
            return Ok(());
        }

        let schema = Object::schema(&object.parts[0], &object.parts[1]);
        if !self.exists(&schema) {
            let [c, s] = [&schema.parts[0], &schema.parts[1]];
            return Err(Refusal::SchemaMissing(c.clone(), s.clone()));
        }
        self.require(who, Privilege::UseSchema, &schema)?;
        if object.kind != Kind::Schema && !self.exists(object) {
            return Err(Refusal::ObjectMissing(object.clone()));
        }
        Ok(())
    }

    /// Owner-only operations (ALTER, DROP): the owner, a MANAGE holder or an admin.
    pub fn require_owner(&self, who: &Principal, object: &Object) -> Result<(), Refusal> {
        if self.allows(who, Privilege::Manage, object) {
            Ok(())
        } else {
            Err(Refusal::NotOwner(object.clone()))
        }
    }

    /// Writing a table: its owner, or MODIFY together with SELECT.
    pub fn require_write(&self, who: &Principal, table: &Object) -> Result<(), Refusal> {
        if self.owner(table) == Some(who.name.as_str()) {
            return Ok(());
        }
        self.require(who, Privilege::Modify, table)?;
        self.require(who, Privilege::Select, table)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(name: &str) -> Principal {
        Principal {
            name: name.to_string(),
            admin: false,
        }
    }

    fn metastore() -> Metastore {
        let mut meta = Metastore::default();
        meta.create_catalog("main", "admin");
        meta.apply(Change::CreateSchema(
            Object::schema("main", "zuora"),
            "admin".into(),
        ));
        meta
    }

    #[test]
    fn reach_checks_catalog_then_schema_then_the_object() {
        let mut meta = metastore();
        let sp = principal("sp");
        let table = Object::new(Kind::Table, &["main", "zuora", "account"]);
        let use_catalog = Refusal::Denied(Privilege::UseCatalog, Object::catalog("main"));
        assert_eq!(meta.reach(&sp, &table), Err(use_catalog));

        meta.grants
            .grant("sp", Privilege::UseCatalog, &Object::catalog("main"));
        let schema = Object::schema("main", "zuora");
        let use_schema = Refusal::Denied(Privilege::UseSchema, schema.clone());
        assert_eq!(meta.reach(&sp, &table), Err(use_schema));

        meta.grants.grant("sp", Privilege::UseSchema, &schema);
        let missing = Refusal::ObjectMissing(table.clone());
        assert_eq!(meta.reach(&sp, &table), Err(missing));

        meta.apply(Change::CreateTable(table.clone(), "sp".into()));
        assert_eq!(meta.reach(&sp, &table), Ok(()));
        assert_eq!(meta.require_write(&sp, &table), Ok(()));
        let other = Object::new(Kind::Table, &["nope", "zuora", "account"]);
        assert_eq!(
            meta.reach(&sp, &other),
            Err(Refusal::CatalogMissing("nope".into()))
        );
    }

    #[test]
    fn the_ledger_belongs_to_the_table() {
        let mut meta = metastore();
        let table = Object::new(Kind::Table, &["main", "zuora", "landing"]);
        meta.apply(Change::CreateTable(table.clone(), "sp".into()));
        meta.apply(Change::Loaded(
            table.clone(),
            vec!["/Volumes/a.parquet".into()],
        ));
        assert!(meta.was_loaded(&table, "/Volumes/a.parquet"));
        meta.apply(Change::DropTable(table.clone()));
        meta.apply(Change::CreateTable(table.clone(), "sp".into()));
        assert!(!meta.was_loaded(&table, "/Volumes/a.parquet"));
    }

    #[test]
    fn writers_need_modify_and_select_unless_they_own_the_table() {
        let mut meta = metastore();
        let table = Object::new(Kind::Table, &["main", "zuora", "account"]);
        meta.apply(Change::CreateTable(table.clone(), "admin".into()));
        let sp = principal("sp");
        assert_eq!(
            meta.require_write(&sp, &table),
            Err(Refusal::Denied(Privilege::Modify, table.clone()))
        );
        meta.grants.grant("sp", Privilege::Modify, &table);
        assert_eq!(
            meta.require_write(&sp, &table),
            Err(Refusal::Denied(Privilege::Select, table.clone()))
        );
        assert_eq!(
            meta.require_owner(&sp, &table),
            Err(Refusal::NotOwner(table.clone()))
        );
    }
}
