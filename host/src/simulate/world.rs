//! The Aircall account scenarios talk about: users, numbers, teams and
//! contacts under short keys (`scenarios/world.toml`).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

/// The bundled world (`scenarios/world.toml`).
pub const BUNDLED_WORLD: &str = include_str!("../../../scenarios/world.toml");

/// Users, numbers, teams and contacts as Aircall objects, by key.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct World {
    /// Users (agents).
    #[serde(default)]
    pub users: BTreeMap<String, Value>,
    /// Aircall lines.
    #[serde(default)]
    pub numbers: BTreeMap<String, Value>,
    /// Teams by key. A team's `users` only says whom a transfer to it reaches;
    /// calls carry the team without it.
    #[serde(default)]
    pub teams: BTreeMap<String, Value>,
    /// Shared contacts.
    #[serde(default)]
    pub contacts: BTreeMap<String, Value>,
}

/// A scenario's additions to the world (same shape).
pub type WorldPatch = World;

fn find<'a>(map: &'a BTreeMap<String, Value>, kind: &str, key: &str) -> Result<&'a Value, String> {
    map.get(key).ok_or_else(|| {
        let known: Vec<&str> = map.keys().map(String::as_str).collect();
        format!("no {kind} `{key}` in the world (known: {})", known.join(", "))
    })
}

impl World {
    /// Parses a world file; every entry must be a table with an `id`.
    pub fn parse(text: &str) -> anyhow::Result<World> {
        let world: World = toml::from_str(text).map_err(|e| anyhow::anyhow!("world: {e}"))?;
        for (kind, map) in [("users", &world.users), ("numbers", &world.numbers), ("teams", &world.teams), ("contacts", &world.contacts)] {
            for (key, v) in map {
                if v.get("id").is_none() {
                    anyhow::bail!("world: {kind}.{key} has no `id`");
                }
            }
        }
        Ok(world)
    }

    /// The bundled world.
    pub fn bundled() -> anyhow::Result<World> {
        World::parse(BUNDLED_WORLD)
    }

    /// This world with `patch`'s entries added (replacing same keys).
    pub fn with(&self, patch: &WorldPatch) -> World {
        let mut w = self.clone();
        w.users.extend(patch.users.clone());
        w.numbers.extend(patch.numbers.clone());
        w.teams.extend(patch.teams.clone());
        w.contacts.extend(patch.contacts.clone());
        w
    }

    /// A user by key.
    pub fn user(&self, key: &str) -> Result<&Value, String> {
        find(&self.users, "user", key)
    }

    /// A number by key.
    pub fn number(&self, key: &str) -> Result<&Value, String> {
        find(&self.numbers, "number", key)
    }

    /// A team by key.
    pub fn team(&self, key: &str) -> Result<&Value, String> {
        find(&self.teams, "team", key)
    }

    /// A contact by key.
    pub fn contact(&self, key: &str) -> Result<&Value, String> {
        find(&self.contacts, "contact", key)
    }
}
