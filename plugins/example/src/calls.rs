//! Call events: a note per event, and the caller's card on `call.created`.

use crate::api::{self, Note};
use crate::rules;
use crate::settings::Settings;
use switchboard_sdk::telephony::{self, CardItem, CardShortText, CardTitle};
use switchboard_sdk::{Call, CallEventKind, Context, PluginError, phone};

/// Handle one call event.
pub fn handle(ctx: &Context, settings: &Settings, kind: CallEventKind, call: &Call) -> Result<Note, PluginError> {
    let region = ctx.region_for(call.number.as_ref());
    let party = rules::party_shown(&call.raw_digits, phone::normalize(&call.raw_digits, region));
    if rules::pushes_card(kind, settings.insight_cards) {
        let items = vec![
            CardItem::Title(CardTitle { text: "Caller".into(), link: None }),
            CardItem::ShortText(CardShortText { label: "Number".into(), text: party.clone(), link: None }),
        ];
        telephony::push_insight_card(call.id, &items)?;
    }
    let note = Note {
        external_id: ctx.event_id().to_string(),
        event: ctx.event_name().to_string(),
        subject: rules::subject("call", call.id),
        number: party,
        attempt: ctx.attempt(),
    };
    api::create_once(&settings.base_url, &note)?;
    Ok(note)
}
