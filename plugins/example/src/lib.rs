//! The reference connector, and the template for new ones
//! (`cargo xtask new-plugin NAME` copies it).
//!
//! Every call or message event becomes a note `POST {base_url}/notes` with the
//! event's id as `external_id`, so the notes service can be checked before a
//! write that may already have happened (an *ambiguous* effect after a crash).
//! On `call.created` it can push an insight card with the caller's number in
//! E.164, from the host's phone engine.
//!
//! The layout every connector shares (`plugins/README.md` has it with the
//! nouns):
//! - `api/`: the vendor's requests and JSON, nothing else;
//! - `rules.rs`: the spec's decisions as pure, unit-tested functions;
//! - one module per event family (`calls.rs`, `messages.rs`) and `requests.rs`
//!   for requests routed to the integration;
//! - `settings.rs`: the settings as a serde type (defaults only in `plugin.toml`);
//! - `records.rs`: what the connector keeps in storage, when it keeps anything
//!   (this one keeps nothing: the notes service is looked up by `external_id`);
//! - `party.rs`, `directory.rs`, `conversation.rs`: the CRM person of the
//!   external number, the CRM users matched to Aircall users, and where an
//!   event is logged — when the CRM has them (the notes service has none).

mod api;
mod calls;
mod messages;
mod requests;
mod rules;
mod settings;

use settings::Settings;
use switchboard_sdk::{CallEvent, Context, Event, MessageEvent, Plugin, PluginError, Request, Response, export_plugin, log};

/// The example connector.
pub struct Example;

impl Plugin for Example {
    fn handle_event(ctx: &Context, event: Event) -> Result<(), PluginError> {
        let settings = Settings::from_context(ctx)?;
        let note = match &event {
            Event::Call(CallEvent { kind, call }) => calls::handle(ctx, &settings, *kind, call)?,
            Event::Message(MessageEvent { message, .. }) => messages::handle(ctx, &settings, message)?,
            _ => {
                log::debug(&format!("ignoring {}", ctx.event_name()));
                return Ok(());
            }
        };
        log::with(log::Level::Info, "note logged", &[("subject", &note.subject), ("number", &note.number)]);
        Ok(())
    }

    fn handle_request(ctx: &Context, req: Request) -> Response {
        requests::handle(ctx, &req)
    }
}

export_plugin!(Example);
