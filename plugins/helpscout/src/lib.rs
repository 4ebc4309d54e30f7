//! # The Help Scout connector
//!
//! Reproduces Aircall's Help Scout v3 integration (seed `001`, issue 6) on
//! the Mailbox API 2.0: each selected Aircall number logs into a Help Scout
//! mailbox; calls become a phone thread when answered and a wrap-up after
//! `call.ended`; SMS / WhatsApp messages join the open conversation; customers
//! are searched in the seed's phone formats and kept in sync with Aircall
//! contacts; insight cards show the customer; operational and agent tags are
//! kept; click-to-dial starts Aircall calls.
//!
//! Layout (the connectors' shared one, `plugins/README.md`): [`api`] is Help
//! Scout's API (requests, JSON types, nothing else); [`rules`] holds the
//! seed's decisions as pure functions (matching rule, which conversation,
//! assignment, tags, AI notes); [`party`] finds or creates the customer,
//! [`directory`] matches Aircall users to Help Scout users, [`conversation`]
//! writes into the chosen conversation, [`records`] is what is kept per call,
//! [`settings`] the settings; the event handlers are [`calls`], [`messages`],
//! [`voice_agent`], [`intelligence`], [`dial`]; [`card`], [`call_text`] and
//! [`ai_text`] render.

pub mod ai_text;
pub mod api;
pub mod call_text;
pub mod calls;
pub mod card;
pub mod conversation;
pub mod dial;
pub mod directory;
pub mod intelligence;
pub mod messages;
pub mod party;
pub mod records;
pub mod rules;
pub mod settings;
pub mod voice_agent;

use api::Client;
use calls::CallJob;
use party::Party;
use settings::Settings;
use switchboard_sdk::{
    CallEvent, Context, Event, MessageEvent, Plugin, PluginError, Request, Response, VoiceAgentEvent, export_plugin, log,
};

/// The Help Scout connector.
pub struct HelpScout;

/// Event time in UNIX seconds (scenario time in simulations), else the clock.
fn event_time(ctx: &Context) -> i64 {
    match ctx.event_timestamp() {
        t if t > 0 => t,
        _ => switchboard_sdk::now_ms() / 1000,
    }
}

impl Plugin for HelpScout {
    fn handle_event(ctx: &Context, event: Event) -> Result<(), PluginError> {
        let settings = Settings::from(ctx).map_err(PluginError::Permanent)?;
        let client = Client::new(&settings.base_url);
        let now = event_time(ctx);
        match &event {
            Event::Call(CallEvent { kind, call }) => {
                // The IVR choice (callback tag) is not in webhooks.
                let call = &switchboard_sdk::calls::with_ivr_options(call.clone(), *kind)?;
                let Some(number) = &call.number else {
                    return Ok(());
                };
                let Some(mailbox) = settings.mailbox_for(number) else {
                    log::with(log::Level::Debug, "call on a number without a mailbox; not logged", &[("number", &number.id.to_string())]);
                    return Ok(());
                };
                let party = Party::new(&call.raw_digits, ctx.region_for(Some(number)), call.contact.clone());
                CallJob { client: &client, settings: &settings, call, party, mailbox, now }.handle(*kind)
            }
            Event::Message(MessageEvent { kind, message: m }) => {
                messages::handle(&client, &settings, now, ctx.region_for(m.number.as_ref()), *kind, m)
            }
            Event::VoiceAgent(VoiceAgentEvent { kind, session: s }) => {
                voice_agent::handle(&client, &settings, now, ctx.default_region(), *kind, s)
            }
            Event::Intelligence(i) => intelligence::handle(&client, &settings, i),
            _ => Ok(()),
        }
    }

    fn handle_request(ctx: &Context, req: Request) -> Response {
        match (req.method.as_str(), req.path.trim_end_matches('/')) {
            ("GET", "/dial") => dial::handle(ctx, &req),
            ("POST", "/dial-links") => dial::mint(ctx, &req),
            _ => Response {
                status: 404,
                headers: vec![("content-type".into(), "application/json".into())],
                body: br#"{"error":"not found"}"#.to_vec(),
            },
        }
    }
}

export_plugin!(HelpScout);
