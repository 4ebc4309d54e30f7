//! The Gorgias connector: Aircall calls and SMS become Gorgias tickets with
//! internal notes and tags; customers are found by phone number (or created);
//! the agent sees the Gorgias customer on an insight card.
//!
//! Layout (the connectors' shared one, `plugins/README.md`): [`api`] is
//! Gorgias's API (requests and JSON, nothing else); [`rules`] holds the seed's
//! decisions (`shared/seeds/002_3c911f1e9dfe88a3.txt`) as pure functions —
//! titles, the call's agent, where an SMS goes, which tags; [`party`] finds or
//! creates the customer of a number, [`directory`] matches Aircall users to
//! Gorgias users, [`records`] is what is kept per call, [`settings`] the
//! settings; the event handlers are [`calls`], [`messages`], [`contacts`];
//! [`card`], [`notes`] and [`media`] render and upload.

pub mod api;
pub mod calls;
pub mod card;
pub mod contacts;
pub mod directory;
pub mod media;
pub mod messages;
pub mod notes;
pub mod party;
pub mod records;
pub mod rules;
pub mod settings;

use api::Api;
use settings::Settings;
use switchboard_sdk::{CallEvent, ContactEvent, ContactEventKind, Context, Event, MessageEvent, Plugin, PluginError, export_plugin, log};

/// The [`Plugin`] the host calls; events other than call, message and contact
/// events are logged at debug level and ignored.
pub struct Gorgias;

impl Plugin for Gorgias {
    fn handle_event(ctx: &Context, event: Event) -> Result<(), PluginError> {
        let relevant = matches!(&event, Event::Call(_) | Event::Message(_) | Event::Contact(_));
        if !relevant {
            log::debug(&format!("ignoring {}", ctx.event_name()));
            return Ok(());
        }
        let settings = Settings::read(ctx)?;
        let api = Api::new(&settings.base_url);
        match event {
            Event::Call(CallEvent { kind, call }) => {
                // The IVR choice (note line, callback tags) is not in webhooks.
                let call = switchboard_sdk::calls::with_ivr_options(call, kind)?;
                calls::handle(ctx, &settings, &api, kind, &call)
            }
            Event::Message(MessageEvent { kind, message }) => messages::handle(ctx, &settings, &api, kind, &message),
            Event::Contact(ContactEvent { kind: ContactEventKind::Deleted, .. }) => Ok(()),
            Event::Contact(ContactEvent { contact, .. }) => contacts::sync(ctx, &settings, &api, &contact),
            _ => Ok(()),
        }
    }
}

export_plugin!(Gorgias);
