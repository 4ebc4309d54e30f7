//! Message events (SMS, WhatsApp): a note per event.

use crate::api::{self, Note};
use crate::rules;
use crate::settings::Settings;
use switchboard_sdk::{Context, Message, PluginError, phone};

/// Handle one message event.
pub fn handle(ctx: &Context, settings: &Settings, msg: &Message) -> Result<Note, PluginError> {
    let region = ctx.region_for(msg.number.as_ref());
    let note = Note {
        external_id: ctx.event_id().to_string(),
        event: ctx.event_name().to_string(),
        subject: rules::subject("message", &msg.id),
        number: rules::party_shown(&msg.external_number, phone::normalize(&msg.external_number, region)),
        attempt: ctx.attempt(),
    };
    api::create_once(&settings.base_url, &note)?;
    Ok(note)
}
