//! The Aircall insight card (seed: "Help Scout-Daten in Aircall Insight
//! Cards"): name and e-mail, a link to the customer profile, company, job
//! title and notes when present.

use crate::api::customers::{Customer, profile_url};
use switchboard_sdk::telephony::{self, CardItem, CardShortText, CardTitle};
use switchboard_sdk::{CapabilityError, PluginError, log};

/// The card's lines for a customer.
pub fn lines(customer: &Customer) -> Vec<CardItem> {
    let link = profile_url(customer.id);
    let mut items = vec![CardItem::Title(CardTitle {
        text: customer.name().unwrap_or_else(|| "Help Scout customer".into()),
        link: Some(link.clone()),
    })];
    let mut line = |label: &str, value: Option<&str>, link: Option<String>| {
        if let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) {
            items.push(CardItem::ShortText(CardShortText { label: label.into(), text: v.chars().take(200).collect(), link }));
        }
    };
    // Aircall card links must be http(s) (aircall-api.md §5.1), so no `mailto:`.
    line("Email", customer.email(), None);
    line("Company", customer.organization.as_deref(), None);
    line("Job title", customer.job_title.as_deref(), None);
    line("Notes", customer.background.as_deref(), None);
    line("Profile", Some("Open in Help Scout"), Some(link));
    items
}

/// Push the card. A call that is already gone (404) is not an error.
pub fn push(call_id: u64, customer: &Customer) -> Result<(), PluginError> {
    match telephony::push_insight_card(call_id, &lines(customer)) {
        Ok(()) => Ok(()),
        Err(CapabilityError::NotFound(m)) => {
            log::with(log::Level::Info, "insight card not shown: the call is gone", &[("reason", &m)]);
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}
