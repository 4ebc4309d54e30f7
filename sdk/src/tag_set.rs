//! Tag-set arithmetic for CRMs whose tag endpoint replaces the whole set
//! (read the current tags, add ours, remove the ones we own, write them back).
//! Names compare case-insensitively and keep the first spelling seen.
//!
//! ```
//! use switchboard_sdk::tag_set::TagSet;
//! let mut tags = TagSet::from_names(["VIP", "call in progress"]);
//! tags.insert("inbound");
//! tags.remove("Call in Progress");
//! assert_eq!(tags.names(), ["VIP", "inbound"]);
//! ```

/// An ordered set of tag names, case-insensitive.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagSet {
    names: Vec<String>,
}

/// The key tags compare by: trimmed and lower-cased.
fn key(name: &str) -> String {
    name.trim().to_lowercase()
}

impl TagSet {
    /// A set from names (blank names and repeats are dropped).
    pub fn from_names<I, S>(names: I) -> TagSet
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut set = TagSet::default();
        for n in names {
            set.insert(n.as_ref());
        }
        set
    }

    /// Whether a tag of this name is in the set.
    pub fn contains(&self, name: &str) -> bool {
        let k = key(name);
        self.names.iter().any(|n| key(n) == k)
    }

    /// Add a tag; returns whether it was new.
    pub fn insert(&mut self, name: &str) -> bool {
        if name.trim().is_empty() || self.contains(name) {
            return false;
        }
        self.names.push(name.trim().to_string());
        true
    }

    /// Remove a tag; returns whether it was there.
    pub fn remove(&mut self, name: &str) -> bool {
        let k = key(name);
        let before = self.names.len();
        self.names.retain(|n| key(n) != k);
        self.names.len() != before
    }

    /// The names, in insertion order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Whether both sets hold the same tags, whatever their order and case.
    pub fn same_tags(&self, other: &TagSet) -> bool {
        self.names.len() == other.names.len() && self.names.iter().all(|n| other.contains(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_insensitive_and_ordered() {
        let mut t = TagSet::from_names(["A", "a", " ", "b"]);
        assert_eq!(t.names(), ["A", "b"]);
        assert!(!t.insert("B"));
        assert!(t.remove("a"));
        assert!(t.same_tags(&TagSet::from_names(["B"])));
        assert!(!t.same_tags(&TagSet::from_names(["B", "c"])));
    }
}
