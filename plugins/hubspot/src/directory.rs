//! Who is who: the Aircall side of the dropdowns — the SMS numbers linked to
//! the integration and the users of a number, cached in plugin storage (seed:
//! "Aufgrund der Zwischenspeicherung kann es bis zu 10 Minuten dauern") — and
//! the HubSpot owner of an Aircall user (by e-mail), shown as the SMS's author.

use crate::settings::Settings;
use serde::{Deserialize, Serialize};
use switchboard_sdk::{PluginError, storage, telephony};

/// How long the HubSpot owner of an Aircall user's e-mail is cached.
const OWNER_CACHE_SECONDS: u32 = 3600;

/// An Aircall number offered as "from".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmsNumber {
    /// Aircall number id.
    pub id: u64,
    /// The line's name in Aircall (`Support FR`), before the digits in the label.
    pub name: String,
    /// International display format.
    pub digits: String,
    /// ISO country (the region hint for the recipient's number).
    pub country: Option<String>,
}

impl SmsNumber {
    /// The dropdown label, e.g. `Support FR (+33 1 23 45 67 89)`.
    pub fn label(&self) -> String {
        match (self.name.trim(), self.digits.trim()) {
            ("", d) => d.to_string(),
            (n, "") => n.to_string(),
            (n, d) => format!("{n} ({d})"),
        }
    }
}

/// An Aircall user offered as "sender".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sender {
    /// Aircall user id.
    pub id: u64,
    /// The user's name in Aircall, before the e-mail in the label.
    pub name: String,
    /// E-mail (matches the HubSpot owner).
    pub email: Option<String>,
}

impl Sender {
    /// The dropdown label, e.g. `Ada Lovelace (ada@example.com)`.
    pub fn label(&self) -> String {
        match self.email.as_deref().filter(|e| !e.is_empty()) {
            Some(e) if !self.name.trim().is_empty() => format!("{} ({e})", self.name.trim()),
            Some(e) => e.to_string(),
            None => self.name.clone(),
        }
    }
}

/// The configured SMS numbers that exist in the Aircall account, in the
/// configured order (cached; the key names the configured list, so a changed
/// configuration is seen at once).
pub fn sms_numbers(settings: &Settings) -> Result<Vec<SmsNumber>, PluginError> {
    if settings.sms_numbers.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<String> = settings.sms_numbers.iter().map(u64::to_string).collect();
    let key = format!("cache:numbers:{}", ids.join(","));
    storage::cached(&key, settings.options_cache_seconds, || {
        let all = telephony::list_numbers()?;
        Ok(settings
            .sms_numbers
            .iter()
            .filter_map(|id| all.iter().find(|n| n.id == *id))
            .map(|n| SmsNumber { id: n.id, name: n.name.clone(), digits: n.digits.clone(), country: n.country.clone() })
            .collect())
    })
}

/// The configured SMS numbers that are not among `found` (the account's
/// numbers, from [`sms_numbers`]): a configuration mistake to report.
pub fn missing(settings: &Settings, found: &[SmsNumber]) -> Vec<u64> {
    settings.sms_numbers.iter().copied().filter(|id| !found.iter().any(|n| n.id == *id)).collect()
}

/// The users linked to an Aircall number (cached).
pub fn senders(settings: &Settings, number_id: u64) -> Result<Vec<Sender>, PluginError> {
    storage::cached(&format!("cache:senders:{number_id}"), settings.options_cache_seconds, || {
        Ok(telephony::number_users(number_id)?.into_iter().map(|u| Sender { id: u.id, name: u.name, email: u.email }).collect())
    })
}

/// The HubSpot owner id of an e-mail (cached; `None` when HubSpot has none).
pub fn owner_of(settings: &Settings, email: Option<&str>) -> Result<Option<String>, PluginError> {
    let Some(email) = email.map(str::trim).filter(|e| e.contains('@')) else {
        return Ok(None);
    };
    let email = email.to_lowercase();
    storage::cached(&format!("cache:owner:{email}"), OWNER_CACHE_SECONDS, || {
        crate::api::HubSpot::new(&settings.base_url).owner_id_by_email(&email)
    })
}
