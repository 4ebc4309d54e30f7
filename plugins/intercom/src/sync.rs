//! Contact sync (seed "Kontaktsynchronisierung"): the Intercom user or lead
//! found for a call is copied into Aircall's shared contacts — name, phone,
//! e-mail — with a link back ("Edit in Intercom"), so the phone app shows the
//! name. Edits happen in Intercom; Aircall follows on the next call.

use crate::party::ContactRef;
use switchboard_sdk::LabeledValue;
use switchboard_sdk::storage as store;
use switchboard_sdk::telephony::ContactFields;
use switchboard_sdk::{Contact, PluginError, log, telephony};

/// A contact synced at one version is not synced again for a day.
const SYNCED_TTL: u32 = 24 * 3600;

/// Splits "Chloé Client" into first and last name (Intercom has one `name`).
pub fn split_name(name: Option<&str>) -> (Option<String>, Option<String>) {
    let Some(name) = name.map(str::trim).filter(|n| !n.is_empty()) else {
        return (None, None);
    };
    match name.split_once(char::is_whitespace) {
        Some((first, last)) => (Some(first.to_string()), Some(last.trim().to_string())),
        None => (Some(name.to_string()), None),
    }
}

/// The text Aircall shows in the contact's information field.
pub fn edit_link_text(link: &str) -> String {
    format!("Edit in Intercom: {link}")
}

fn labeled(value: &str) -> LabeledValue {
    LabeledValue { label: Some("Intercom".into()), value: value.to_string() }
}

fn same(a: Option<&str>, b: Option<&str>) -> bool {
    a.map(str::trim).unwrap_or("") == b.map(str::trim).unwrap_or("")
}

/// Whether the Aircall contact already shows what Intercom has.
fn up_to_date(existing: &Contact, fields: &ContactFields) -> bool {
    same(existing.first_name.as_deref(), fields.first_name.as_deref())
        && same(existing.last_name.as_deref(), fields.last_name.as_deref())
        && same(existing.information.as_deref(), fields.information.as_deref())
}

/// Copies `contact` (found for `e164`) into Aircall.
pub fn to_aircall(contact: &ContactRef, e164: &str, link: Option<&str>) -> Result<(), PluginError> {
    let marker = format!("synced:{}:{}", contact.id, contact.updated_at.unwrap_or(0));
    if store::get::<bool>(&marker)?.is_some() {
        return Ok(());
    }
    let (first_name, last_name) = split_name(contact.name.as_deref());
    let fields = ContactFields {
        first_name,
        last_name,
        company_name: None,
        information: link.map(edit_link_text),
        phone_numbers: vec![labeled(e164)],
        emails: contact.email.as_deref().map(labeled).into_iter().collect(),
    };
    let existing = telephony::find_contacts_by_phone(e164)?;
    match existing.first() {
        None => {
            let made = telephony::create_contact(&fields)?;
            log::with(
                log::Level::Info,
                "Intercom contact synced to Aircall",
                &[("aircall_contact", &made.id.to_string()), ("intercom_contact", &contact.id)],
            );
        }
        Some(c) if up_to_date(c, &fields) => {}
        Some(c) => {
            telephony::update_contact(c.id, &fields)?;
            log::with(
                log::Level::Info,
                "Aircall contact updated from Intercom",
                &[("aircall_contact", &c.id.to_string()), ("intercom_contact", &contact.id)],
            );
        }
    }
    store::set(&marker, &true, Some(SYNCED_TTL))
}

#[cfg(test)]
mod tests {
    use super::split_name;

    #[test]
    fn names_split_at_the_first_space() {
        assert_eq!(split_name(Some("Chloé Client")), (Some("Chloé".into()), Some("Client".into())));
        assert_eq!(split_name(Some("Ana María de la Cruz")), (Some("Ana".into()), Some("María de la Cruz".into())));
        assert_eq!(split_name(Some("  ")), (None, None));
        assert_eq!(split_name(Some("Cher")), (Some("Cher".into()), None));
    }
}
