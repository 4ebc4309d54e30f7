//! Who writes in Gorgias: the Gorgias user with the Aircall user's e-mail, else
//! the first admin (seed, "Troubleshooting"). The user list is cached.

use crate::api::{Api, User};
use serde::{Deserialize, Serialize};
use switchboard_sdk::{PluginError, storage};

/// How long the user list is kept (seconds).
const USERS_TTL: u32 = 600;
const USERS_KEY: &str = "gorgias:users";

/// A Gorgias user as cached.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Agent {
    /// Gorgias user id.
    pub id: u64,
    /// E-mail, lower case.
    pub email: String,
    /// Admin role.
    pub admin: bool,
}

/// The account's active users, in the order Gorgias lists them.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Directory {
    /// One per user not deactivated; kept for 10 minutes.
    pub agents: Vec<Agent>,
}

/// Who a note or message is written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Author {
    /// Gorgias user id.
    pub id: u64,
    /// Whether it is the Aircall agent's own user (else the admin fallback).
    pub matched: bool,
}

impl Directory {
    /// From the cache, or `GET /api/users`.
    pub fn load(api: &Api) -> Result<Directory, PluginError> {
        storage::cached(USERS_KEY, USERS_TTL, || {
            let users = api.users()?;
            Ok(Directory { agents: users.into_iter().filter(|u| u.active != Some(false)).filter_map(agent).collect() })
        })
    }

    /// The Gorgias user with this e-mail (case-insensitive).
    pub fn by_email(&self, email: Option<&str>) -> Option<u64> {
        let email = email?.trim().to_lowercase();
        (!email.is_empty()).then_some(())?;
        self.agents.iter().find(|a| a.email == email).map(|a| a.id)
    }

    /// The first admin.
    pub fn first_admin(&self) -> Option<u64> {
        self.agents.iter().find(|a| a.admin).map(|a| a.id)
    }

    /// The author for an Aircall user's e-mail: their Gorgias user, else the first admin.
    pub fn author(&self, email: Option<&str>) -> Option<Author> {
        match self.by_email(email) {
            Some(id) => Some(Author { id, matched: true }),
            None => self.first_admin().map(|id| Author { id, matched: false }),
        }
    }

    /// The seed's "no matching user or admin" outcome: nothing can be written.
    pub fn no_author(email: Option<&str>) -> PluginError {
        PluginError::permanent(format!(
            "Gorgias has no user with the Aircall user's e-mail ({}) and no admin to write as: no ticket or note was written. \
             Give at least one Gorgias user the admin role, then replay this event.",
            email.unwrap_or("none")
        ))
    }

    /// Forget the cached list (after Gorgias refused a user id).
    pub fn forget() -> Result<(), PluginError> {
        storage::delete(USERS_KEY)
    }
}

fn agent(u: User) -> Option<Agent> {
    let email = u.email.unwrap_or_default().trim().to_lowercase();
    let admin = u.role.and_then(|r| r.name).is_some_and(|r| r.eq_ignore_ascii_case("admin"));
    Some(Agent { id: u.id, email, admin })
}
