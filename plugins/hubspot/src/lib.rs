//! HubSpot connector: the Aircall "Send SMS" custom workflow action (seed
//! `003`, issue 8).
//!
//! HubSpot calls us: the host routes `/integrations/{id}/…` to
//! [`Plugin::handle_request`], where [`routes`] checks HubSpot's signature and
//! serves the action definition, the two dropdowns and the executions. The
//! Aircall `message.received` events of the integration's numbers go to
//! [`replies`] (reply logging, opt-out).
//!
//! Layout (the connectors' shared one, `plugins/README.md`): [`api`] is
//! HubSpot's API (requests and JSON, nothing else); [`rules`] holds the seed's
//! decisions as pure functions (action log outcome, message length and tokens,
//! limits, opt-out); [`directory`] is who is who (SMS numbers, their users,
//! HubSpot owners), [`conversation`] logs SMS and replies on the record,
//! [`records`] is what is kept (threads, the backlog), [`settings`] the
//! settings. Requests from HubSpot go through [`routes`] ([`signature`],
//! [`once`]) to [`definition`], [`options`] and [`execution`] (with
//! [`inputs`], [`recipient`], [`template`], [`limits`]); Aircall events go to
//! [`replies`].

pub mod api;
pub mod conversation;
pub mod definition;
pub mod directory;
pub mod execution;
pub mod inputs;
pub mod limits;
pub mod once;
pub mod options;
pub mod recipient;
pub mod records;
pub mod replies;
pub mod routes;
pub mod rules;
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
        let flushed = conversation::flush(&settings)?;
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
