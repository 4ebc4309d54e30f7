//! The Help Scout users Aircall agents are matched to (seed: "Gesprächs- und
//! Thread-Zuweisung"): the Help Scout user with the Aircall user's e-mail;
//! without one, threads go to an administrator. Whether the conversation is
//! assigned is [`rules::assignee`]. Look-ups are cached in plugin storage for
//! an hour.

use crate::api::Client;
use crate::rules;
use crate::settings::Settings;
use serde::{Deserialize, Serialize};
use switchboard_sdk::{PluginError, User, storage};

/// How long a user look-up is trusted.
const CACHE_SECONDS: u32 = 3600;

#[derive(Serialize, Deserialize)]
struct Cached {
    id: Option<u64>,
}

/// The Help Scout side of an Aircall agent.
#[derive(Debug, Clone, Copy, Default)]
pub struct Agent {
    /// The Help Scout user with the agent's e-mail.
    pub matched: Option<u64>,
    /// Who threads are written as: `matched`, else an administrator.
    pub author: Option<u64>,
}

/// The Help Scout user with this e-mail (cached).
fn user_id(client: &Client, email: &str) -> Result<Option<u64>, PluginError> {
    let key = format!("hs-user:{}", email.trim().to_lowercase());
    let cached = storage::cached(&key, CACHE_SECONDS, || Ok(Cached { id: client.user_by_email(email)?.map(|u| u.id) }))?;
    Ok(cached.id)
}

/// The administrator threads fall back to (setting, else the first owner/admin; cached).
pub fn admin(client: &Client, settings: &Settings) -> Result<Option<u64>, PluginError> {
    if let Some(id) = settings.fallback_user {
        return Ok(Some(id));
    }
    let cached = storage::cached("hs-admin", CACHE_SECONDS, || Ok(Cached { id: client.first_admin()?.map(|u| u.id) }))?;
    Ok(cached.id)
}

/// Resolve an Aircall user (absent on unanswered calls).
pub fn resolve(client: &Client, settings: &Settings, user: Option<&User>) -> Result<Agent, PluginError> {
    let matched = match rules::agent_email(user) {
        Some(e) => user_id(client, e)?,
        None => None,
    };
    let author = match matched {
        Some(id) => Some(id),
        None => admin(client, settings)?,
    };
    Ok(Agent { matched, author })
}
