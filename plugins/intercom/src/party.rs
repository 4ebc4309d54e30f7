//! Who is on the other end: the external number, normalised by the host's
//! phone engine, and the Intercom user or lead it belongs to — found by phone
//! in every format a person may have stored it in, or created when the settings
//! say so (seed: "Logging to existing users / leads", "New contacts",
//! "Anonymous calls").

use crate::api::model::Contact;
use crate::api::{ApiError, Client};
use serde::{Deserialize, Serialize};
use switchboard_sdk::phone::{self, Normalized};
use switchboard_sdk::storage as store;
use switchboard_sdk::{PluginError, log};

/// A contact we found by searching: an hour (names and e-mails get edited).
const FOUND_TTL: u32 = 3600;
/// A contact we created: Intercom's search may not show it for minutes (§1.6),
/// so we remember it for a week.
const CREATED_TTL: u32 = 7 * 24 * 3600;

/// The seed's anonymous contact (issue 5 point 5; the seed's "anonymoys@" is a typo).
pub const ANONYMOUS_EMAIL: &str = "anonymous@aircall.io";
/// The name it is created with (a lead).
pub const ANONYMOUS_NAME: &str = "Anonymous Aircall contact";
/// Last name the seed gives new leads (their first name is the number).
pub const NEW_CONTACT_SUFFIX: &str = "Aircall new contact";

/// The external party of a call or message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// A valid number, E.164.
    Number(String),
    /// A withheld number.
    Anonymous,
}

impl Caller {
    /// Normalises what Aircall shows (`raw_digits`, `external_number`) with the
    /// line's country as region hint. `None` when it is not a number at all.
    pub fn parse(raw: &str, region: Option<&str>) -> Option<Caller> {
        match phone::normalize(raw, region) {
            Ok(Normalized::Number(e164)) => Some(Caller::Number(e164)),
            Ok(Normalized::Anonymous) => Some(Caller::Anonymous),
            Err(why) => {
                log::with(log::Level::Warn, "not a phone number; nothing to match", &[("raw", raw), ("why", &why.text)]);
                None
            }
        }
    }

    /// The E.164 number, when there is one.
    pub fn e164(&self) -> Option<&str> {
        match self {
            Caller::Number(n) => Some(n),
            Caller::Anonymous => None,
        }
    }

    /// The number for people to read (international format), or "anonymous".
    pub fn display(&self) -> String {
        match self {
            Caller::Number(n) => phone::format(n, phone::Style::International).unwrap_or_else(|_| n.clone()),
            Caller::Anonymous => "anonymous".into(),
        }
    }

    fn cache_key(&self) -> String {
        match self {
            Caller::Number(n) => format!("contact:{n}"),
            Caller::Anonymous => "contact:anonymous".into(),
        }
    }
}

/// An Intercom contact, as much as the connector keeps of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactRef {
    /// Intercom id.
    pub id: String,
    /// `user` or `lead`.
    pub role: String,
    /// Intercom's contact `name`; `None` when blank.
    pub name: Option<String>,
    /// Intercom's contact `email`; `None` when blank.
    pub email: Option<String>,
    /// Phone as stored in Intercom.
    pub phone: Option<String>,
    /// Workspace id (for links).
    pub workspace_id: Option<String>,
    /// Last change (UNIX seconds), to notice edits worth syncing.
    pub updated_at: Option<i64>,
    /// Whether this connector created it.
    pub created_here: bool,
}

impl ContactRef {
    fn from_api(c: Contact, created_here: bool) -> ContactRef {
        ContactRef {
            id: c.id,
            role: if c.role == "user" { "user".into() } else { "lead".into() },
            name: c.name.filter(|n| !n.trim().is_empty()),
            email: c.email.filter(|e| !e.trim().is_empty()),
            phone: c.phone,
            workspace_id: c.workspace_id,
            updated_at: c.updated_at,
            created_here,
        }
    }

    /// "User" or "Lead".
    pub fn kind(&self) -> &'static str {
        if self.role == "user" { "User" } else { "Lead" }
    }
}

/// What a look-up found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    /// Exactly one contact.
    One(ContactRef),
    /// Several contacts share the number: nothing is logged (seed).
    Shared(Vec<String>),
    /// Nobody, and creation is off (or the number is anonymous and creation is off).
    Nobody,
}

/// The contact for `caller`: cached, else searched, else created when `create` is on.
pub fn resolve(client: &Client, caller: &Caller, create: bool) -> Result<Match, PluginError> {
    if let Some(known) = store::get::<ContactRef>(&caller.cache_key())? {
        return Ok(Match::One(known));
    }
    resolve_live(client, caller, create)
}

/// Like [`resolve`], ignoring (and replacing) what the cache holds: after Intercom
/// said the cached contact is gone.
pub fn resolve_again(client: &Client, caller: &Caller, create: bool) -> Result<Match, PluginError> {
    store::delete(&caller.cache_key())?;
    resolve_live(client, caller, create)
}

fn resolve_live(client: &Client, caller: &Caller, create: bool) -> Result<Match, PluginError> {
    let found = search(client, caller)?;
    match choose(found) {
        Match::One(c) => {
            store::set(&caller.cache_key(), &c, Some(FOUND_TTL))?;
            Ok(Match::One(c))
        }
        Match::Shared(ids) => Ok(Match::Shared(ids)),
        Match::Nobody if create => create_contact(client, caller).map(Match::One),
        Match::Nobody => Ok(Match::Nobody),
    }
}

fn search(client: &Client, caller: &Caller) -> Result<Vec<Contact>, PluginError> {
    let found = match caller {
        Caller::Number(e164) => {
            let mut forms = phone::variants(e164).unwrap_or_default();
            if !forms.iter().any(|f| f == e164) {
                forms.insert(0, e164.clone());
            }
            client.contacts_by_phone(&forms)?
        }
        Caller::Anonymous => client.contacts_by_email(ANONYMOUS_EMAIL)?,
    };
    Ok(found.into_iter().filter(|c| !c.id.is_empty()).collect())
}

/// The seed's rule: one user → that user; several users → nobody is logged.
/// Without users, the same for leads.
fn choose(found: Vec<Contact>) -> Match {
    let (users, leads): (Vec<Contact>, Vec<Contact>) = found.into_iter().partition(|c| c.role == "user");
    let pool = if users.is_empty() { leads } else { users };
    match pool.len() {
        0 => Match::Nobody,
        1 => pool.into_iter().next().map(|c| Match::One(ContactRef::from_api(c, false))).unwrap_or(Match::Nobody),
        _ => Match::Shared(pool.into_iter().map(|c| c.id).collect()),
    }
}

fn create_contact(client: &Client, caller: &Caller) -> Result<ContactRef, PluginError> {
    // §1.6: at least one of email / external_id / role; Intercom contacts have one
    // `name`, so the seed's first name (the number) and last name go into it.
    let body = match caller {
        Caller::Number(e164) => {
            serde_json::json!({ "role": "lead", "name": format!("{e164} {NEW_CONTACT_SUFFIX}"), "phone": e164 })
        }
        Caller::Anonymous => {
            serde_json::json!({ "role": "lead", "name": ANONYMOUS_NAME, "email": ANONYMOUS_EMAIL })
        }
    };
    let created = client.create_contact(&body).map_err(PluginError::from)?;
    if created.id.is_empty() {
        return Err(PluginError::Retryable("Intercom: POST /contacts answered without an id".into()));
    }
    let mine = ContactRef::from_api(created, true);
    // Two jobs may create the same contact at once (two calls from a new number):
    // the first to record it wins, the other removes its duplicate.
    if store::claim(&caller.cache_key(), &mine, Some(CREATED_TTL))? {
        log::with(log::Level::Info, "created Intercom lead", &[("contact", &mine.id), ("number", &caller.display())]);
        return Ok(mine);
    }
    let Some(winner) = store::get::<ContactRef>(&caller.cache_key())? else {
        // The other job's entry vanished in between; ours is as good.
        store::set(&caller.cache_key(), &mine, Some(CREATED_TTL))?;
        return Ok(mine);
    };
    match client.delete_contact(&mine.id) {
        Ok(_) | Err(ApiError::NotFound(_)) => {}
        Err(e) => log::with(log::Level::Warn, "could not remove a duplicate lead", &[("contact", &mine.id), ("error", &format!("{e:?}"))]),
    }
    Ok(winner)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contact(id: &str, role: &str) -> Contact {
        Contact { id: id.into(), role: role.into(), ..Contact::default() }
    }

    #[test]
    fn one_user_wins_over_leads_and_several_users_block_logging() {
        assert!(matches!(choose(vec![contact("a", "lead"), contact("b", "user")]), Match::One(c) if c.id == "b"));
        assert_eq!(choose(vec![contact("a", "user"), contact("b", "user")]), Match::Shared(vec!["a".into(), "b".into()]));
        assert_eq!(choose(vec![]), Match::Nobody);
        assert!(matches!(choose(vec![contact("l", "lead")]), Match::One(c) if c.kind() == "Lead"));
    }
}
