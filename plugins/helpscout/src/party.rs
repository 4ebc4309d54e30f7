//! Who the other party is, in Help Scout and in Aircall — the seed's
//! "Kontakt-Suche bei jedem Anruf" and "Szenarien zur Kontaktübereinstimmung":
//!
//! | Aircall | Help Scout | result |
//! | --- | --- | --- |
//! | no | no | scenario 1: a Help Scout customer with the number and a note that Aircall created it ("Unknown Contact (Aircall)") |
//! | yes | no | scenario 2: a Help Scout customer from the Aircall name, e-mail and number |
//! | no | yes | scenario 3: an Aircall contact from the Help Scout data ([`sync_to_aircall`]) |
//!
//! The search asks for every format of the seed at once (one request, via the
//! host's phone engine); several matches go through the matching rule
//! ([`rules::pick`]).

use crate::api::customers::{Customer, Entry, NewCustomer, clip, profile_url};
use crate::api::{ApiError, Client};
use crate::rules::{self, Search, UNKNOWN_NAME};
use crate::settings::Settings;
use switchboard_sdk::LabeledValue;
use switchboard_sdk::phone::{self, Normalized, Style};
use switchboard_sdk::telephony::{self, ContactFields};
use switchboard_sdk::{Contact, PluginError, datetime, log};

/// The customer's party on a call or message.
#[derive(Debug, Clone)]
pub struct Party {
    /// E.164, or `None` for anonymous / unreadable numbers.
    pub e164: Option<String>,
    /// How to show the number to people (international format, else as received).
    pub display: String,
    /// The Aircall contact attached to the event, if any.
    pub contact: Option<Contact>,
}

impl Party {
    /// Read a raw number (`raw_digits` / `external_number`) with a region hint.
    pub fn new(raw: &str, region: Option<&str>, contact: Option<Contact>) -> Party {
        let e164 = match phone::normalize(raw, region) {
            Ok(Normalized::Number(n)) => Some(n),
            _ => None,
        };
        let display = e164
            .as_deref()
            .and_then(|n| phone::format(n, Style::International).ok())
            .unwrap_or_else(|| if raw.trim().is_empty() { "anonymous".into() } else { raw.trim().to_string() });
        Party { e164, display, contact }
    }
}

/// Search Help Scout for the number in the seed's formats.
pub fn search(client: &Client, settings: &Settings, e164: &str) -> Result<Search, PluginError> {
    let mut variants = phone::variants(e164).unwrap_or_default();
    if !variants.iter().any(|v| v == e164) {
        variants.insert(0, e164.to_string());
    }
    let found = client.search_customers_by_phone(&variants)?;
    Ok(rules::pick(found, settings.matching_rule))
}

/// The Aircall contact for the party: the one on the event, else a look-up.
pub fn aircall_contact(party: &Party) -> Result<Option<Contact>, PluginError> {
    if let Some(c) = &party.contact {
        return Ok(Some(c.clone()));
    }
    let Some(e164) = &party.e164 else {
        return Ok(None);
    };
    Ok(telephony::find_contacts_by_phone(e164)?.into_iter().next())
}

fn entry_kind(label: Option<&str>) -> String {
    match label.map(str::to_lowercase).as_deref() {
        Some(l) if l.contains("mobile") || l.contains("cell") => "mobile".into(),
        Some(l) if l.contains("home") => "home".into(),
        // [U] §2.10: the allowed phone/e-mail `type` values of v2 are not confirmed.
        _ => "work".into(),
    }
}

/// A non-blank, clipped value.
fn text(v: Option<&str>, max: usize) -> Option<String> {
    v.map(|s| clip(s, max)).filter(|s| !s.is_empty())
}

/// Scenario 1 / 2: the customer to create for a party Help Scout does not know.
pub fn new_customer(party: &Party, contact: Option<&Contact>, now: i64, channel: &str) -> NewCustomer {
    let phones = party.e164.iter().map(|n| Entry { kind: "work".into(), value: n.clone() }).collect();
    let when = datetime::display(now);
    match contact {
        Some(c) => {
            let (first, last) = (text(c.first_name.as_deref(), 40), text(c.last_name.as_deref(), 40));
            let nameless = first.is_none() && last.is_none();
            NewCustomer {
                first_name: if nameless { Some(UNKNOWN_NAME.into()) } else { first },
                last_name: if nameless { text(Some(&party.display), 40) } else { last },
                background: Some(clip(&format!("Created by Aircall from the Aircall contact on {when} ({channel})."), 200)),
                organization: text(c.company_name.as_deref(), 60),
                phones: {
                    let mut p: Vec<Entry> = phones;
                    for n in &c.phone_numbers {
                        let e164 = match phone::normalize(&n.value, None) {
                            Ok(Normalized::Number(e)) => e,
                            _ => continue,
                        };
                        if !p.iter().any(|x| x.value == e164) {
                            p.push(Entry { kind: entry_kind(n.label.as_deref()), value: e164 });
                        }
                    }
                    p
                },
                emails: c
                    .emails
                    .iter()
                    .filter(|e| e.value.contains('@'))
                    .map(|e| Entry { kind: entry_kind(e.label.as_deref()), value: e.value.trim().to_string() })
                    .collect(),
            }
        }
        None => NewCustomer {
            first_name: Some(UNKNOWN_NAME.into()),
            last_name: text(Some(&party.display), 40),
            background: Some(clip(&format!("Created automatically by Aircall on {when} ({channel} with {}).", party.display), 200)),
            phones,
            ..NewCustomer::default()
        },
    }
}

/// Create the customer; when an earlier attempt's create may have happened,
/// search again before creating.
pub fn create_customer(client: &Client, settings: &Settings, party: &Party, fields: &NewCustomer) -> Result<u64, PluginError> {
    match client.create_customer(fields) {
        Ok(id) => Ok(id),
        Err(ApiError::Ambiguous) => {
            if let Some(e164) = &party.e164
                && let Search::Found(c) = search(client, settings, e164)?
            {
                return Ok(c.id);
            }
            Ok(client.create_customer(fields)?)
        }
        Err(e) => Err(e.into()),
    }
}

/// A customer found or made for a party.
#[derive(Debug, Clone)]
pub enum Resolved {
    /// The customer id and, when it was found, the record.
    Customer(u64, Option<Box<Customer>>),
    /// Several matches and the rule says to log nothing.
    LogNothing,
}

/// Find the party's customer, or create it (scenarios 1 and 2).
pub fn find_or_create(client: &Client, settings: &Settings, party: &Party, now: i64, channel: &str) -> Result<Resolved, PluginError> {
    if let Some(e164) = &party.e164 {
        match search(client, settings, e164)? {
            Search::Found(c) => return Ok(Resolved::Customer(c.id, Some(c))),
            Search::LogNothing => return Ok(Resolved::LogNothing),
            Search::None => {}
        }
    }
    let contact = if party.e164.is_some() { aircall_contact(party)? } else { None };
    let fields = new_customer(party, contact.as_ref(), now, channel);
    let id = create_customer(client, settings, party, &fields)?;
    log::with(
        log::Level::Info,
        "Help Scout customer created",
        &[("customer", &id.to_string()), ("from_aircall_contact", if contact.is_some() { "yes" } else { "no" })],
    );
    Ok(Resolved::Customer(id, None))
}

/// Scenario 3: the customer exists only in Help Scout → create the Aircall
/// contact from its data (name, company, e-mails, the number, a link back).
pub fn sync_to_aircall(party: &Party, customer: &Customer) -> Result<(), PluginError> {
    let Some(e164) = &party.e164 else {
        return Ok(());
    };
    if aircall_contact(party)?.is_some() {
        return Ok(());
    }
    let fields = ContactFields {
        first_name: customer.first_name.clone().filter(|s| !s.trim().is_empty()),
        last_name: customer.last_name.clone().filter(|s| !s.trim().is_empty()),
        company_name: customer.organization.clone().filter(|s| !s.trim().is_empty()),
        information: Some(format!("Help Scout: {}", profile_url(customer.id))),
        phone_numbers: vec![LabeledValue { label: Some("Help Scout".into()), value: e164.clone() }],
        emails: customer
            .emails()
            .iter()
            .filter(|e| e.value.contains('@'))
            .map(|e| LabeledValue { label: Some("Help Scout".into()), value: e.value.trim().to_string() })
            .collect(),
    };
    let created = telephony::create_contact(&fields)?;
    log::with(
        log::Level::Info,
        "Aircall contact created from Help Scout",
        &[("contact", &created.id.to_string()), ("customer", &customer.id.to_string())],
    );
    Ok(())
}
