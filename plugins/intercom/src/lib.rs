//! # The Intercom connector
//!
//! Reproduces Aircall's Intercom integration (seed `000_e6e512e308edd16a`) and
//! Intercom Switch (seed `004_c815dabd727713ea`):
//!
//! | event | what happens | module |
//! | --- | --- | --- |
//! | `call.created` | contact found (or created), synced to Aircall, insight cards | [`cards`], [`sync`], [`party`] |
//! | `call.ivr_option_selected` | the configured option sends a Switch | [`calls::ivr_option`] |
//! | `call.ended` | message + notes + assignment + tags in the contact's conversation | [`calls::log_call`], [`conversation`] |
//! | `call.transferred` / `unsuccessful_transfer` | remembered for the log's assignee (reassigns a call already logged) | [`calls::transferred`], [`rules::transfer`] |
//! | `call.commented` / `tagged` / `untagged` / `assigned` / `voicemail_left` | follow-ups on the logged conversation | [`calls`] |
//! | `message.sent` / `received` / `status_updated` | SMS logging and delivery status | [`messages`] |
//!
//! The vendor's API is in [`api`]; the seed's rules in [`rules`]; the words in [`text`].

pub mod api;
pub mod calls;
pub mod cards;
pub mod conversation;
pub mod directory;
pub mod job;
pub mod links;
pub mod messages;
pub mod party;
pub mod records;
pub mod rules;
pub mod settings;
pub mod sync;
pub mod text;

use job::Job;
use switchboard_sdk::{CallEvent, CallEventKind, Context, Event, MessageEvent, Plugin, PluginError, export_plugin, log};

/// The Intercom connector.
pub struct Intercom;

impl Plugin for Intercom {
    fn handle_event(ctx: &Context, event: Event) -> Result<(), PluginError> {
        let job = Job::new(ctx)?;
        handle(&job, ctx, &event)
    }
}

/// Routes one event to the module that handles it.
fn handle(job: &Job, ctx: &Context, event: &Event) -> Result<(), PluginError> {
    {
        match event {
            Event::Call(CallEvent { kind, call }) => match kind {
                CallEventKind::Created => cards::call_created(job, call),
                CallEventKind::IvrOptionSelected => {
                    // Webhooks do not carry the choice; the SDK reads it from Aircall.
                    calls::ivr_option(job, &switchboard_sdk::calls::with_ivr_options(call.clone(), *kind)?)
                }
                CallEventKind::Ended => calls::log_call(job, call),
                CallEventKind::Commented => calls::comment(job, call),
                CallEventKind::Tagged => calls::tagged(job, call),
                CallEventKind::Untagged => calls::untagged(job, call),
                CallEventKind::Assigned => calls::assigned(job, call),
                CallEventKind::Transferred => calls::transferred(job, call, rules::TransferEvent::Succeeded),
                CallEventKind::UnsuccessfulTransfer => calls::transferred(job, call, rules::TransferEvent::Failed),
                CallEventKind::VoicemailLeft => calls::voicemail(job, call),
                _ => {
                    log::debug(&format!("{}: nothing to do", ctx.event_name()));
                    Ok(())
                }
            },
            Event::Message(MessageEvent { kind, message }) => messages::handle(job, *kind, message),
            _ => {
                log::debug(&format!("{}: nothing to do", ctx.event_name()));
                Ok(())
            }
        }
    }
}

export_plugin!(Intercom);
