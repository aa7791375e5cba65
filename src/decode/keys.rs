//! Resolves a record's JSON keys to Describe fields. Keys match Describe names without regard to
//! case (Zuora sends `vATId` for `VATId`), so a key is resolved once, by a case-insensitive scan,
//! and remembered under its exact spelling. Records of one page repeat the same keys in the same
//! order, so the key that followed the previous one last time is tried first: on the hot path a
//! key costs one short byte comparison, with no hashing, lowercasing or allocation.

use std::collections::HashMap;

use crate::schema::{ID, ObjectSchema};

/// What a JSON key names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Target {
    /// The exported field at this index of `ObjectSchema::fields`, which is also its column.
    Column(usize),
    /// The Describe field at this index of `ObjectSchema::unexported`: known, not stored.
    Unexported(usize),
    /// No Describe field has this name.
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Resolved {
    pub(super) target: Target,
    /// The key is the record's `id`, whichever target it has: errors name the record by it.
    pub(super) is_id: bool,
}

/// Distinct keys remembered at most. A page cannot carry more Describe fields than this, so
/// only a flood of unknown keys reaches it; those are then resolved by scanning, uncached, to
/// keep memory bounded.
const MAX_KEYS: usize = 4096;

/// Marks "no key seen yet" in the successor table.
const NONE: u32 = u32::MAX;

pub(super) struct KeyResolver {
    fields: Vec<String>,
    unexported: Vec<String>,
    /// Every key seen so far, in its exact spelling.
    entries: Vec<(Box<str>, Resolved)>,
    by_key: HashMap<Box<str>, u32>,
    /// `successor[0]` is the entry that last opened a record, `successor[i + 1]` the entry that
    /// last followed entry `i`.
    successor: Vec<u32>,
    /// Where in `successor` the next key's guess is.
    position: usize,
}

impl KeyResolver {
    pub(super) fn new(schema: &ObjectSchema) -> Self {
        Self {
            fields: schema.fields.iter().map(|f| f.name.clone()).collect(),
            unexported: schema.unexported.clone(),
            entries: Vec::new(),
            by_key: HashMap::new(),
            successor: vec![NONE],
            position: 0,
        }
    }

    /// Starts guessing from the first key of a record.
    pub(super) fn restart(&mut self) {
        self.position = 0;
    }

    pub(super) fn resolve(&mut self, key: &str) -> Resolved {
        let guess = self.successor[self.position];
        if let Some((known, resolved)) = self.entries.get(guess as usize)
            && **known == *key
        {
            self.position = guess as usize + 1;
            return *resolved;
        }

        let entry = match self.by_key.get(key) {
            Some(&entry) => entry,
            None if self.entries.len() < MAX_KEYS => self.remember(key),
            None => return self.classify(key),
        };
        self.successor[self.position] = entry;
        self.position = entry as usize + 1;
        self.entries[entry as usize].1
    }

    fn remember(&mut self, key: &str) -> u32 {
        let entry = self.entries.len() as u32;
        let resolved = self.classify(key);
        self.entries.push((key.into(), resolved));
        self.by_key.insert(key.into(), entry);
        self.successor.push(NONE);
        entry
    }

    fn classify(&self, key: &str) -> Resolved {
        let named = |names: &[String]| names.iter().position(|n| n.eq_ignore_ascii_case(key));
        let target = if let Some(i) = named(&self.fields) {
            Target::Column(i)
        } else if let Some(i) = named(&self.unexported) {
            Target::Unexported(i)
        } else {
            Target::Unknown
        };
        Resolved {
            target,
            is_id: key.eq_ignore_ascii_case(ID),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Field, FieldType};

    fn resolver() -> KeyResolver {
        let fields = ["Id", "VATId", "Region__c"]
            .map(|name| Field::new(name, name, FieldType::Text, Vec::new()))
            .to_vec();
        KeyResolver::new(&ObjectSchema::new("Account", fields, vec!["Secret".into()]))
    }

    #[test]
    fn keys_match_describe_names_in_any_case() {
        let mut keys = resolver();
        assert_eq!(keys.resolve("vATId").target, Target::Column(1));
        assert_eq!(keys.resolve("REGION__C").target, Target::Column(2));
        assert_eq!(keys.resolve("secret").target, Target::Unexported(0));
        assert_eq!(keys.resolve("billTo").target, Target::Unknown);
        assert!(keys.resolve("id").is_id);
        assert!(!keys.resolve("vatid").is_id);
    }

    #[test]
    fn guesses_follow_the_previous_record_and_recover_from_gaps() {
        let mut keys = resolver();
        let order = ["id", "vATId", "region__c"];
        for record in [&order[..], &order[..], &["id", "region__c"], &order[..]] {
            keys.restart();
            let got: Vec<_> = record.iter().map(|k| keys.resolve(k).target).collect();
            let want: Vec<_> = record.iter().map(|k| keys.classify(k).target).collect();
            assert_eq!(got, want);
        }
        assert_eq!(keys.entries.len(), 3);
    }

    #[test]
    fn a_flood_of_unknown_keys_is_not_cached() {
        let mut keys = resolver();
        for i in 0..MAX_KEYS + 10 {
            keys.resolve(&format!("unknown{i}"));
        }
        assert_eq!(keys.entries.len(), MAX_KEYS);
        assert_eq!(keys.resolve("vATId").target, Target::Column(1));
    }
}
