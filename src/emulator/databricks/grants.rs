//! The Unity Catalog privilege model: which privileges exist, on which kinds of securable they
//! can be granted, and whether a principal holds one on an object. A grant on a catalog or a
//! schema covers the objects below it (that is how Unity Catalog inherits), but one privilege
//! never implies another: USE CATALOG gives no USE SCHEMA, SELECT gives no MODIFY. ALL
//! PRIVILEGES stands for every privilege applicable to the securable and its children.

use std::collections::BTreeSet;

/// The securable kinds of the SQL grammar, in containment order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Kind {
    Catalog,
    Schema,
    Table,
    Volume,
}

impl Kind {
    /// As messages write it: `Catalog 'main'`.
    pub fn title(self) -> &'static str {
        match self {
            Kind::Catalog => "Catalog",
            Kind::Schema => "Schema",
            Kind::Table => "Table",
            Kind::Volume => "Volume",
        }
    }

    /// As SQL and SHOW GRANTS write it: `CATALOG`.
    pub fn keyword(self) -> &'static str {
        match self {
            Kind::Catalog => "CATALOG",
            Kind::Schema => "SCHEMA",
            Kind::Table => "TABLE",
            Kind::Volume => "VOLUME",
        }
    }

    /// How many name parts an object of this kind has.
    pub fn depth(self) -> usize {
        match self {
            Kind::Catalog => 1,
            Kind::Schema => 2,
            Kind::Table | Kind::Volume => 3,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Privilege {
    UseCatalog,
    UseSchema,
    CreateSchema,
    CreateTable,
    CreateVolume,
    Select,
    Modify,
    ReadVolume,
    WriteVolume,
    Manage,
    AllPrivileges,
}

const PRIVILEGES: [Privilege; 11] = [
    Privilege::UseCatalog,
    Privilege::UseSchema,
    Privilege::CreateSchema,
    Privilege::CreateTable,
    Privilege::CreateVolume,
    Privilege::Select,
    Privilege::Modify,
    Privilege::ReadVolume,
    Privilege::WriteVolume,
    Privilege::Manage,
    Privilege::AllPrivileges,
];

impl Privilege {
    /// The SQL spelling, with a space: `USE CATALOG`.
    pub fn name(self) -> &'static str {
        match self {
            Privilege::UseCatalog => "USE CATALOG",
            Privilege::UseSchema => "USE SCHEMA",
            Privilege::CreateSchema => "CREATE SCHEMA",
            Privilege::CreateTable => "CREATE TABLE",
            Privilege::CreateVolume => "CREATE VOLUME",
            Privilege::Select => "SELECT",
            Privilege::Modify => "MODIFY",
            Privilege::ReadVolume => "READ VOLUME",
            Privilege::WriteVolume => "WRITE VOLUME",
            Privilege::Manage => "MANAGE",
            Privilege::AllPrivileges => "ALL PRIVILEGES",
        }
    }

    /// Accepts the SQL spelling and the REST one (`USE_CATALOG`), any case.
    pub fn parse(text: &str) -> Option<Privilege> {
        let words: Vec<String> = text
            .split([' ', '_'])
            .filter(|w| !w.is_empty())
            .map(str::to_ascii_uppercase)
            .collect();
        let spelled = words.join(" ");
        PRIVILEGES.into_iter().find(|p| p.name() == spelled)
    }

    /// The securable kinds a grant of this privilege can be placed on: the kind it acts on
    /// and the containers it inherits from.
    pub fn grantable_on(self, kind: Kind) -> bool {
        use Kind::{Catalog, Schema, Table, Volume};
        match self {
            Privilege::UseCatalog | Privilege::CreateSchema => kind == Catalog,
            Privilege::UseSchema | Privilege::CreateTable | Privilege::CreateVolume => {
                matches!(kind, Catalog | Schema)
            }
            Privilege::Select | Privilege::Modify => matches!(kind, Catalog | Schema | Table),
            Privilege::ReadVolume | Privilege::WriteVolume => {
                matches!(kind, Catalog | Schema | Volume)
            }
            Privilege::Manage | Privilege::AllPrivileges => true,
        }
    }
}

/// A securable named by its parts, lower case: `["main", "zuora", "account"]`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Object {
    pub kind: Kind,
    pub parts: Vec<String>,
}

impl Object {
    pub fn new(kind: Kind, parts: &[&str]) -> Object {
        debug_assert_eq!(parts.len(), kind.depth());
        Object {
            kind,
            parts: parts.iter().map(|p| p.to_ascii_lowercase()).collect(),
        }
    }

    pub fn catalog(name: &str) -> Object {
        Object::new(Kind::Catalog, &[name])
    }

    pub fn schema(catalog: &str, schema: &str) -> Object {
        Object::new(Kind::Schema, &[catalog, schema])
    }

    /// `main.zuora.account`, the `objectKey` of SHOW GRANTS and the name in messages.
    pub fn key(&self) -> String {
        self.parts.join(".")
    }

    /// The object itself, then its schema, then its catalog.
    fn lineage(&self) -> Vec<Object> {
        let mut lineage = vec![self.clone()];
        if self.parts.len() >= 3 {
            lineage.push(Object::schema(&self.parts[0], &self.parts[1]));
        }
        if self.parts.len() >= 2 {
            lineage.push(Object::catalog(&self.parts[0]));
        }
        lineage
    }

    /// Whether `self` is `other` or lies inside it.
    pub fn within(&self, other: &Object) -> bool {
        self.parts.starts_with(&other.parts)
    }
}

/// Direct grants, principal by principal.
#[derive(Debug, Default)]
pub(crate) struct Grants {
    entries: BTreeSet<(String, Object, Privilege)>,
}

impl Grants {
    pub fn grant(&mut self, principal: &str, privilege: Privilege, object: &Object) {
        self.entries
            .insert((principal.to_string(), object.clone(), privilege));
    }

    /// Revoking a privilege that was never granted is not an error in Unity Catalog.
    pub fn revoke(&mut self, principal: &str, privilege: Privilege, object: &Object) {
        self.entries
            .remove(&(principal.to_string(), object.clone(), privilege));
    }

    /// Whether `principal` holds `privilege` on `object`, directly or through a container.
    pub fn holds(&self, principal: &str, privilege: Privilege, object: &Object) -> bool {
        object.lineage().iter().any(|granted_on| {
            let direct = (principal.to_string(), granted_on.clone(), privilege);
            let all = (
                principal.to_string(),
                granted_on.clone(),
                Privilege::AllPrivileges,
            );
            self.entries.contains(&direct)
                || (privilege != Privilege::Manage && self.entries.contains(&all))
        })
    }

    /// The direct grants on exactly `object`, optionally of one principal, sorted.
    pub fn on(&self, object: &Object, principal: Option<&str>) -> Vec<(String, Privilege)> {
        self.entries
            .iter()
            .filter(|(who, on, _)| on == object && principal.is_none_or(|p| p == who))
            .map(|(who, _, privilege)| (who.clone(), *privilege))
            .collect()
    }

    /// Forgets every grant on `object` and below, when it is dropped.
    pub fn forget(&mut self, object: &Object) {
        self.entries.retain(|(_, on, _)| !on.within(object));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Object {
        Object::new(Kind::Table, &["main", "zuora", "account"])
    }

    #[test]
    fn privileges_read_in_both_spellings() {
        assert_eq!(Privilege::parse("use catalog"), Some(Privilege::UseCatalog));
        assert_eq!(Privilege::parse("READ_VOLUME"), Some(Privilege::ReadVolume));
        assert_eq!(
            Privilege::parse("ALL PRIVILEGES"),
            Some(Privilege::AllPrivileges)
        );
        assert_eq!(Privilege::parse("EXECUTE"), None);
    }

    #[test]
    fn grants_on_containers_reach_their_children() {
        let mut grants = Grants::default();
        grants.grant("sp", Privilege::Select, &Object::schema("main", "zuora"));
        assert!(grants.holds("sp", Privilege::Select, &table()));
        assert!(!grants.holds("sp", Privilege::Modify, &table()));
        assert!(!grants.holds("other", Privilege::Select, &table()));
    }

    #[test]
    fn use_catalog_does_not_imply_use_schema() {
        let mut grants = Grants::default();
        grants.grant("sp", Privilege::UseCatalog, &Object::catalog("main"));
        let schema = Object::schema("main", "zuora");
        assert!(!grants.holds("sp", Privilege::UseSchema, &schema));
        grants.grant("sp", Privilege::UseSchema, &Object::catalog("main"));
        assert!(grants.holds("sp", Privilege::UseSchema, &schema));
    }

    #[test]
    fn all_privileges_on_a_schema_covers_its_tables_and_volumes() {
        let mut grants = Grants::default();
        let schema = Object::schema("main", "zuora");
        grants.grant("sp", Privilege::AllPrivileges, &schema);
        let volume = Object::new(Kind::Volume, &["main", "zuora", "staging"]);
        assert!(grants.holds("sp", Privilege::Modify, &table()));
        assert!(grants.holds("sp", Privilege::WriteVolume, &volume));
        assert!(grants.holds("sp", Privilege::UseSchema, &schema));
        assert!(!grants.holds("sp", Privilege::UseCatalog, &Object::catalog("main")));
        grants.revoke("sp", Privilege::AllPrivileges, &schema);
        assert!(!grants.holds("sp", Privilege::Modify, &table()));
    }

    #[test]
    fn privileges_are_grantable_only_where_they_apply() {
        assert!(Privilege::Select.grantable_on(Kind::Table));
        assert!(!Privilege::ReadVolume.grantable_on(Kind::Table));
        assert!(!Privilege::UseCatalog.grantable_on(Kind::Schema));
        assert!(Privilege::ReadVolume.grantable_on(Kind::Catalog));
    }
}
