//! The custom-action definition to register in the HubSpot app
//! (`POST /automation/v4/actions/{appId}`, reference §2.4), served by
//! `GET /integrations/{id}/action-definition`.

use crate::settings::Settings;
use serde_json::{Value, json};

/// Input field names (the keys of `inputFields` in executions).
pub mod field {
    /// The Aircall number id to send from.
    pub const FROM_NUMBER: &str = "fromNumber";
    /// The Aircall user id to send as.
    pub const SENDER_USER: &str = "senderUser";
    /// The recipient's phone number (a phone property of the record).
    pub const TO_PHONE: &str = "toPhone";
    /// The message, with record tokens.
    pub const MESSAGE: &str = "message";
}

/// Paths below `/integrations/{id}` that HubSpot calls.
pub mod path {
    /// The action URL (executions).
    pub const EXECUTE: &str = "/actions/send-sms";
    /// Options of the "from" dropdown.
    pub const FROM_OPTIONS: &str = "/options/from-number";
    /// Options of the "sender" dropdown.
    pub const SENDER_OPTIONS: &str = "/options/sender-user";
    /// This definition.
    pub const DEFINITION: &str = "/action-definition";
}

/// The workflow object types the action is offered on (seed: Kontakt, Deal,
/// Ticket, Unternehmen, Angebot, Benutzer, Bestellung, Warenkorb, Rechnung,
/// Lead). [U] reference §2.8/§3.14: only `CONTACT` and `DEAL` are spelled in
/// official examples; the rest follow the same pattern.
pub const OBJECT_TYPES: &[&str] = &["CONTACT", "DEAL", "TICKET", "COMPANY", "QUOTE", "USER", "ORDER", "CART", "INVOICE", "LEAD"];

/// Properties of the enrolled record HubSpot is asked to include, so most
/// messages render without reading the record back.
fn requested_properties(settings: &Settings) -> Vec<String> {
    let mut p: Vec<String> = ["firstname", "lastname", "email", "phone", "mobilephone", "company", "dealname", "subject", "name"]
        .iter()
        .map(|s| (*s).to_string())
        .collect();
    p.push(settings.opt_out_property.clone());
    p
}

fn select(name: &str, options_url: &str) -> Value {
    json!({
        "isRequired": true,
        "supportedValueTypes": ["STATIC_VALUE"],
        "typeDefinition": { "name": name, "type": "enumeration", "fieldType": "select", "options": [], "optionsUrl": options_url },
    })
}

/// The definition, with URLs under `base` (`https://host/integrations/{id}`).
pub fn definition(settings: &Settings, base: &str) -> Value {
    use field::*;
    json!({
        "actionUrl": format!("{base}{}", path::EXECUTE),
        "published": false,
        "objectTypes": OBJECT_TYPES,
        "objectRequestOptions": { "properties": requested_properties(settings) },
        "inputFields": [
            select(FROM_NUMBER, &format!("{base}{}", path::FROM_OPTIONS)),
            select(SENDER_USER, &format!("{base}{}", path::SENDER_OPTIONS)),
            {
                "isRequired": true,
                "supportedValueTypes": ["OBJECT_PROPERTY"],
                "typeDefinition": { "name": TO_PHONE, "type": "string", "fieldType": "phonenumber", "options": [] },
            },
            {
                "isRequired": true,
                "supportedValueTypes": ["STATIC_VALUE", "OBJECT_PROPERTY"],
                "typeDefinition": { "name": MESSAGE, "type": "string", "fieldType": "textarea", "options": [] },
            },
        ],
        "inputFieldDependencies": [
            { "dependencyType": "SINGLE_FIELD", "controllingFieldName": FROM_NUMBER, "dependentFieldNames": [SENDER_USER] },
        ],
        "outputFields": [
            { "typeDefinition": { "name": "status", "type": "enumeration", "fieldType": "select",
                "options": [ { "label": "Sent", "value": "sent" }, { "label": "Skipped", "value": "skipped" }, { "label": "Failed", "value": "failed" } ] } },
            { "typeDefinition": { "name": "reason", "type": "string", "fieldType": "text", "options": [] } },
            { "typeDefinition": { "name": "messageId", "type": "string", "fieldType": "text", "options": [] } },
        ],
        "functions": [],
        "labels": {
            "en": {
                "appDisplayName": "Aircall",
                "actionName": "Send SMS – Beta",
                "actionDescription": "Send an SMS from an Aircall number, as an Aircall user, to a phone number of the enrolled record. Up to 1,600 characters; record tokens such as {{contact.firstname}} are filled in.",
                "inputFieldLabels": {
                    FROM_NUMBER: "Aircall number (from)", SENDER_USER: "Sender user",
                    TO_PHONE: "Recipient number (to)", MESSAGE: "Message",
                },
                "inputFieldDescriptions": {
                    FROM_NUMBER: "Only SMS-capable Aircall numbers linked to this integration are listed.",
                    SENDER_USER: "Only users linked to the chosen number are listed. New numbers and users can take up to 10 minutes to appear.",
                    TO_PHONE: "The phone number property of the record the SMS is sent to.",
                    MESSAGE: "Up to 1,600 characters after personalisation, e.g. Hi {{contact.firstname}}.",
                },
                "outputFieldLabels": { "status": "Status", "reason": "Reason", "messageId": "Aircall message id" },
            },
            "de": {
                "appDisplayName": "Aircall",
                "actionName": "SMS senden – Beta",
                "inputFieldLabels": {
                    FROM_NUMBER: "Aircall-Nummer (Von)", SENDER_USER: "Absender-Benutzer",
                    TO_PHONE: "Empfängernummer (An)", MESSAGE: "Nachricht",
                },
                "outputFieldLabels": { "status": "Status", "reason": "Grund", "messageId": "Aircall-Nachrichten-ID" },
            },
        },
    })
}

/// The integration's base URL (`…/integrations/{id}`) from the URL a request
/// came in on and its path below the integration.
pub fn base_from(url: &str, path: &str) -> String {
    let no_query = url.split(['?', '#']).next().unwrap_or(url);
    no_query.strip_suffix(path).unwrap_or(no_query).trim_end_matches('/').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_is_derived() {
        assert_eq!(
            base_from("https://sb.example/integrations/hs/action-definition?x=1", "/action-definition"),
            "https://sb.example/integrations/hs"
        );
    }
}
