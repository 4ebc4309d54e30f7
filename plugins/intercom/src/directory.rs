//! Cached look-ups of things that change rarely: the set-up admin and the
//! workspace (`/me`), the admins (matched to Aircall users by e-mail) and tag
//! ids. They live in the integration's storage with a lifetime each, so a busy
//! line costs Intercom almost no reads for them.

use crate::api::model::{Admin, Me};
use crate::api::{ApiError, Client};
use crate::settings::Settings;
use serde::{Deserialize, Serialize};
use switchboard_sdk::PluginError;
use switchboard_sdk::storage as store;

/// `/me` rarely changes (the token's owner and its workspace): a day.
const ME_TTL: u32 = 24 * 3600;
/// Teammates join and leave; an hour keeps assignment close to the truth.
const ADMINS_TTL: u32 = 3600;
/// A tag's id never changes while the tag exists; a deleted tag is noticed on use.
const TAG_TTL: u32 = 7 * 24 * 3600;

/// What `/me` told us, as cached.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Workspace {
    /// The token owner's admin id.
    pub me: String,
    /// The workspace id (`app.id_code`), when given.
    pub app_id: Option<String>,
}

fn workspace(client: &Client) -> Result<Workspace, PluginError> {
    store::cached("me", ME_TTL, || {
        let me: Me = client.me().map_err(PluginError::from)?;
        if me.id.is_empty() {
            return Err(PluginError::Retryable("Intercom: GET /me answered without an admin id".into()));
        }
        Ok(Workspace { me: me.id, app_id: me.app.id_code })
    })
}

/// The admin who set up the integration: the `setup_admin_id` setting, else the token's owner.
pub fn setup_admin(settings: &Settings, client: &Client) -> Result<String, PluginError> {
    match &settings.setup_admin_id {
        Some(id) => Ok(id.clone()),
        None => Ok(workspace(client)?.me),
    }
}

/// The workspace id for links, when a contact did not carry it.
pub fn app_id(client: &Client) -> Result<Option<String>, PluginError> {
    Ok(workspace(client)?.app_id)
}

/// Every admin (cached).
pub fn admins(client: &Client) -> Result<Vec<Admin>, PluginError> {
    store::cached("admins", ADMINS_TTL, || Ok(client.admins().map_err(PluginError::from)?.admins))
}

/// The admin whose e-mail is `email` (case-insensitive), if any.
pub fn admin_by_email(client: &Client, email: Option<&str>) -> Result<Option<Admin>, PluginError> {
    let Some(email) = email.map(str::trim).filter(|e| !e.is_empty()) else {
        return Ok(None);
    };
    Ok(admins(client)?.into_iter().find(|a| a.email.as_deref().is_some_and(|x| x.trim().eq_ignore_ascii_case(email))))
}

/// The admin with this id, if any.
pub fn admin_by_id(client: &Client, id: &str) -> Result<Option<Admin>, PluginError> {
    Ok(admins(client)?.into_iter().find(|a| a.id == id))
}

fn tag_key(name: &str) -> String {
    format!("tag:{}", name.trim().to_lowercase())
}

/// The id of the tag called `name`, created in Intercom when missing (§1.9: names
/// are case-insensitive, `POST /tags` returns the existing one).
pub fn tag_id(client: &Client, name: &str) -> Result<String, PluginError> {
    store::cached(&tag_key(name), TAG_TTL, || {
        let tag = client.tag_named(name.trim()).map_err(PluginError::from)?;
        if tag.id.is_empty() {
            return Err(PluginError::Retryable(format!("Intercom: POST /tags for {name:?} answered without an id")));
        }
        Ok(tag.id)
    })
}

/// Forget a cached tag id (the tag was deleted in Intercom).
pub fn forget_tag(name: &str) -> Result<(), PluginError> {
    store::delete(&tag_key(name))
}

/// Whether an API error says a cached id is stale.
pub fn is_missing(e: &ApiError) -> bool {
    matches!(e, ApiError::NotFound(_))
}
