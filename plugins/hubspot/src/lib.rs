//! HubSpot connector: the Aircall "Send SMS" custom workflow action (seed
//! `003`, issue 8).
//!
//! HubSpot calls us: the host routes `/integrations/{id}/…` to
//! [`Plugin::handle_request`], where [`routes`] checks HubSpot's signature and
//! serves the action definition, the two dropdowns and the executions. The
//! Aircall `message.received` events of the integration's numbers go to
//! [`replies`] (reply logging, opt-out).
//!
//! Modules: the vendor API in [`api`]; the seed's rules in [`execution`]
//! (validation, personalisation, sending), [`limits`], [`options`] and
//! [`directory`] (dropdowns and their cache), [`logbook`] (SMS on the record),
//! [`replies`] and [`optout`].

pub mod api;
pub mod definition;
pub mod directory;
pub mod execution;
pub mod inputs;
pub mod limits;
pub mod logbook;
pub mod once;
pub mod options;
pub mod optout;
pub mod recipient;
pub mod replies;
pub mod routes;
pub mod settings;
pub mod signature;
pub mod template;

use switchboard_sdk::{Context, Event, MessageEvent, MessageEventKind, Plugin, PluginError, Request, Response, export_plugin, log};

/// The HubSpot connector.
pub struct HubSpotConnector;

impl Plugin for HubSpotConnector {
    fn handle_event(ctx: &Context, event: Event) -> Result<(), PluginError> {
        let settings = settings::Settings::from_context(ctx).map_err(PluginError::Permanent)?;
        // Communications HubSpot could not take when their SMS went out are logged
        // first; a failure makes the host retry this job later.
        let flushed = logbook::flush(&settings)?;
        if flushed > 0 {
            log::info(&format!("{flushed} deferred communication(s) logged"));
        }
        match &event {
            Event::Message(MessageEvent { kind: MessageEventKind::Received, message }) => replies::received(ctx, &settings, message),
            _ => {
                log::debug(&format!("ignoring {}", ctx.event_name()));
                Ok(())
            }
        }
    }

    fn handle_request(ctx: &Context, req: Request) -> Response {
        routes::handle(ctx, req)
    }
}

export_plugin!(HubSpotConnector);
