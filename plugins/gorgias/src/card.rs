//! The insight card shown when a call starts (seed: "Gorgias-Daten in Aircall
//! Insight Cards"): customer name and e-mail, notes, link to the profile.

use crate::api::Api;
use crate::party;
use switchboard_sdk::telephony::{self, CardItem, CardShortText, CardTitle};
use switchboard_sdk::{CapabilityError, PluginError, log};

/// Longest note shown on the card.
const NOTE_MAX: usize = 500;

/// Look the caller up and push the card; nothing when Gorgias does not know them.
pub fn push(api: &Api, call_id: u64, e164: &str) -> Result<(), PluginError> {
    let Some(c) = party::find(api, e164)? else {
        log::with(log::Level::Debug, "no Gorgias customer for the caller; no card", &[("phone", e164)]);
        return Ok(());
    };
    let link = api.customer_link(c.id);
    let mut items = vec![CardItem::Title(CardTitle { text: "Gorgias customer".into(), link: Some(link.clone()) })];
    let mut line = |label: &str, text: Option<String>, link: Option<String>| {
        if let Some(t) = text.map(|t| t.trim().to_string()).filter(|t| !t.is_empty()) {
            items.push(CardItem::ShortText(CardShortText { label: label.into(), text: t, link }));
        }
    };
    line("Name", c.display_name(), Some(link));
    line("Email", c.email.clone(), None);
    line("Notes", c.note.as_ref().map(|n| n.chars().take(NOTE_MAX).collect()), None);
    match telephony::push_insight_card(call_id, &items) {
        Ok(()) => Ok(()),
        // The call is already over, or unknown to Aircall: a card has no use any more.
        Err(CapabilityError::NotFound(m)) | Err(CapabilityError::Invalid(m)) => {
            log::with(log::Level::Info, "insight card not shown", &[("reason", &m)]);
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}
