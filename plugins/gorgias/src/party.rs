//! The other party of a call or message: its number, normalised by the host's
//! phone engine, and the Gorgias customer it belongs to — found by phone, or
//! created when there is none (seed: "Ticket-Erstellung für Anrufe" step 2,
//! "Einseitige Kontaktsynchronisierung").

use crate::api::{Api, Customer};
use crate::rules::{NEW_CONTACT, placeholder_email};
use crate::settings::Settings;
use serde_json::{Value, json};
use switchboard_sdk::phone::{self, Normalized};
use switchboard_sdk::{Contact, Context, Number, PluginError, log, storage};

/// The external party: E.164 when it is a number, `None` when withheld or unreadable.
pub struct Party {
    /// E.164.
    pub e164: Option<String>,
    /// What to show.
    pub shown: String,
}

impl Party {
    /// Normalise a raw number with the line's country (else the integration's region).
    pub fn new(raw: &str, line: Option<&Number>, ctx: &Context) -> Party {
        match phone::normalize(raw, ctx.region_for(line)) {
            Ok(Normalized::Number(e164)) => Party { shown: e164.clone(), e164: Some(e164) },
            Ok(Normalized::Anonymous) => Party { e164: None, shown: "Anonymous".into() },
            Err(_) => Party { e164: None, shown: raw.trim().chars().take(40).collect() },
        }
    }
}

/// How long a phone → customer match is kept (seconds).
const CUSTOMER_TTL: u32 = 3600;
/// How long "Gorgias has nobody with this number" is believed (seconds): long
/// enough for the call that started to be answered without a second search,
/// short enough for a customer added in Gorgias meanwhile to be found.
const MISS_TTL: u32 = 120;

fn key(e164: &str) -> String {
    format!("customer:{e164}")
}

fn miss_key(e164: &str) -> String {
    format!("customer-miss:{e164}")
}

/// The customer with this number: cache, else `customers_by_phone` (exact E.164,
/// as the seed says: numbers stored in other formats are not matched).
pub fn find(api: &Api, e164: &str) -> Result<Option<Customer>, PluginError> {
    if let Some(c) = storage::get::<Customer>(&key(e164))? {
        return Ok(Some(c));
    }
    if storage::get::<bool>(&miss_key(e164))?.is_some() {
        return Ok(None);
    }
    let found = api.customers_by_phone(e164)?.into_iter().next();
    match &found {
        Some(c) => storage::set(&key(e164), c, Some(CUSTOMER_TTL))?,
        None => storage::set(&miss_key(e164), &true, Some(MISS_TTL))?,
    }
    Ok(found)
}

/// Forget a cached match (the customer was deleted or merged in Gorgias).
pub fn forget(e164: &str) -> Result<(), PluginError> {
    storage::delete(&key(e164))?;
    storage::delete(&miss_key(e164))
}

fn non_empty(s: &Option<String>) -> Option<String> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

/// The create body: from the Aircall contact (first name, e-mail or a generic
/// one, number), or "Aircall New Contact +number" with a generated e-mail; with
/// a note saying why it was created.
pub fn new_customer_body(e164: &str, contact: Option<&Contact>, settings: &Settings) -> Value {
    let placeholder = placeholder_email(e164, settings);
    let note = format!("Created by Aircall: no Gorgias customer was found with the phone number {e164}.");
    let (firstname, lastname, email) = match contact {
        Some(c) => {
            let email = c.emails.iter().map(|e| e.value.trim()).find(|e| e.contains('@')).map(str::to_string);
            (non_empty(&c.first_name), non_empty(&c.last_name), email)
        }
        None => (None, None, None),
    };
    let name = match (&firstname, &lastname) {
        (None, None) => contact.and_then(|c| non_empty(&c.company_name)).unwrap_or_else(|| format!("{NEW_CONTACT} {e164}")),
        _ => [firstname.clone(), lastname.clone()].into_iter().flatten().collect::<Vec<_>>().join(" "),
    };
    let email = email.unwrap_or(placeholder);
    let mut body = json!({
        "name": name,
        "email": email,
        "note": note,
        "channels": [
            { "type": "phone", "address": e164, "preferred": true },
            { "type": "email", "address": email, "preferred": false },
        ],
    });
    if let Some(f) = firstname {
        body["firstname"] = json!(f);
    }
    if let Some(l) = lastname {
        body["lastname"] = json!(l);
    }
    body
}

/// The customer of `e164`, created when Gorgias has none.
pub fn find_or_create(api: &Api, e164: &str, contact: Option<&Contact>, settings: &Settings) -> Result<Customer, PluginError> {
    if let Some(c) = find(api, e164)? {
        return Ok(c);
    }
    create(api, e164, contact, settings)
}

/// Create the customer of `e164` (no lookup first). On a conflict (the e-mail is
/// taken) or an ambiguous earlier attempt, the existing customer is used.
pub fn create(api: &Api, e164: &str, contact: Option<&Contact>, settings: &Settings) -> Result<Customer, PluginError> {
    let body = new_customer_body(e164, contact, settings);
    let created = match api.create_customer(&body)? {
        Some(c) => c,
        None => {
            // 409 or ambiguous: whoever has the number or the e-mail is the customer.
            let by_phone = api.customers_by_phone(e164)?.into_iter().next();
            let email = body.get("email").and_then(Value::as_str).unwrap_or_default();
            match by_phone {
                Some(c) => c,
                None => api.customer_by_email(email)?.ok_or_else(|| {
                    PluginError::retryable(format!("Gorgias refused to create the customer of {e164} and none has its e-mail {email}"))
                })?,
            }
        }
    };
    log::with(log::Level::Info, "Gorgias customer created or matched", &[("phone", e164), ("customer", &created.id.to_string())]);
    storage::set(&key(e164), &created, Some(CUSTOMER_TTL))?;
    storage::delete(&miss_key(e164))?;
    Ok(created)
}

/// The customer that stands for withheld numbers (one per account, found by its e-mail).
pub fn anonymous(api: &Api, settings: &Settings) -> Result<Customer, PluginError> {
    let email = format!("anonymous@{}", settings.placeholder_email_domain);
    if let Some(c) = storage::get::<Customer>("customer:anonymous")? {
        return Ok(c);
    }
    let c = match api.customer_by_email(&email)? {
        Some(c) => c,
        None => {
            let body = json!({
                "name": "Anonymous caller", "email": email,
                "note": "Created by Aircall for calls and messages from withheld numbers.",
                "channels": [{ "type": "email", "address": email, "preferred": true }],
            });
            match api.create_customer(&body)? {
                Some(c) => c,
                None => {
                    api.customer_by_email(&email)?.ok_or_else(|| PluginError::retryable("anonymous customer not found after a conflict"))?
                }
            }
        }
    };
    storage::set("customer:anonymous", &c, Some(CUSTOMER_TTL))?;
    Ok(c)
}
