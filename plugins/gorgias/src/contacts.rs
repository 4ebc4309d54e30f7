//! One-way contact sync (seed: "Einseitige Kontaktsynchronisierung"): an Aircall
//! contact that Gorgias does not know by any of its numbers is created there.

use crate::api::Api;
use crate::party::{self, Party};
use crate::settings::Settings;
use switchboard_sdk::{Contact, Context, PluginError, log};

/// Numbers of one contact looked up at most (each is one search).
const MAX_NUMBERS: usize = 3;

/// `contact.created` / `contact.updated`.
pub fn sync(ctx: &Context, settings: &Settings, api: &Api, contact: &Contact) -> Result<(), PluginError> {
    let numbers: Vec<String> =
        contact.phone_numbers.iter().filter_map(|p| Party::new(&p.value, None, ctx).e164).take(MAX_NUMBERS).collect();
    let Some(first) = numbers.first() else {
        log::with(log::Level::Debug, "contact without a usable number; not synced", &[("contact", &contact.id.to_string())]);
        return Ok(());
    };
    for n in &numbers {
        if party::find(api, n)?.is_some() {
            return Ok(());
        }
    }
    party::create(api, first, Some(contact), settings)?;
    Ok(())
}
