//! # switchboard-sdk
//!
//! What a switchboard plugin author depends on: the bindings to the
//! `switchboard:plugin@0.2.0` contract, the [`Plugin`] trait with the
//! [`export_plugin!`] macro, JSON helpers for [`http`], typed [`storage`], the
//! error type and [`log`]ging.
//!
//! ```no_run
//! use switchboard_sdk::{Context, Event, Plugin, PluginError, export_plugin};
//!
//! struct MyCrm;
//! impl Plugin for MyCrm {
//!     fn handle_event(ctx: &Context, event: Event) -> Result<(), PluginError> {
//!         switchboard_sdk::log::info(&format!("got {}", ctx.event_name()));
//!         Ok(())
//!     }
//! }
//! export_plugin!(MyCrm);
//! # fn main() {}
//! ```

#![deny(missing_docs)]

extern crate self as switchboard_sdk;

/// Bindings generated from the contract. Hidden: the export macro needs them,
/// plugins use the curated re-exports below ([`Call`], [`telephony`], [`phone`]…),
/// so a contract change surfaces in the SDK, not in every plugin.
#[doc(hidden)]
#[allow(missing_docs, unsafe_code)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../wit/v0.2.0",
        world: "connector",
        pub_export_macro: true,
        export_macro_name: "__export_connector",
        default_bindings_module: "switchboard_sdk::bindings",
        runtime_path: "switchboard_sdk::__wit_bindgen::rt",
        generate_all,
    });
}

#[doc(hidden)]
pub use wit_bindgen as __wit_bindgen;

pub mod calls;
mod context;
pub mod datetime;
mod error;
pub mod hmac;
pub mod html;
pub mod http;
pub mod json_patch;
pub mod log;
pub mod multipart;
pub mod once;
pub mod query;
pub mod quota;
pub mod settings;
pub mod storage;
pub mod tag_set;

// What a plugin receives: Aircall's objects as the host parsed them.
pub use bindings::switchboard::plugin::types::{
    // The objects.
    Call,
    // The events and their kinds.
    CallEvent,
    CallEventKind,
    CallStatus,
    Channel,
    Comment,
    Contact,
    ContactEvent,
    ContactEventKind,
    Direction,
    Event,
    // The job and its outcome.
    EventContext,
    GroupMessage,
    GroupMessageEvent,
    Intelligence,
    IvrOption,
    LabeledValue,
    Media,
    Message,
    MessageEvent,
    MessageEventKind,
    Number,
    NumberEvent,
    NumberEventKind,
    Participant,
    PluginError,
    RateLimit,
    RequestContext,
    Tag,
    Team,
    User,
    UserEvent,
    UserEventKind,
    VoiceAgentEvent,
    VoiceAgentEventKind,
    VoiceAgentSession,
    WhatsappDetails,
};
// A request routed to the integration's URL and its answer.
pub use bindings::switchboard::plugin::incoming::{Request, Response};

/// Wall-clock time, replayed on a retried job (see also [`now_ms`]).
pub mod clock {
    pub use crate::bindings::switchboard::plugin::clock::now_ms;
}

/// Signing and verifying with the integration's secrets without reading them
/// (the host computes; see [`crate::hmac`] for plain HMAC over known keys).
pub mod crypto {
    pub use crate::bindings::switchboard::plugin::crypto::{hmac_sha256, verify_hmac_sha256};
}

/// The host's phone-number engine: normalise a raw number with a region hint
/// (see [`crate::Context::region_for`]), format E.164, list the spellings a CRM
/// may have stored.
pub mod phone {
    pub use crate::bindings::switchboard::plugin::phone::{
        Normalized, PhoneError, PhoneErrorKind, Style, format, normalize, region_of, variants,
    };
}

/// The Aircall side, typed: insight cards, shared contacts, messages, users and
/// numbers, and the REST-only call data. The host holds the credentials.
pub mod telephony {
    pub use crate::bindings::switchboard::plugin::telephony::{
        CardItem, CardShortText, CardTitle, ContactFields, OutgoingMessage, SentMessage, create_contact, find_contacts_by_email,
        find_contacts_by_phone, find_user_by_email, get_call, get_number, list_numbers, number_users, push_insight_card, send_message,
        start_outbound_call, update_contact, user_availability,
    };
}

pub use context::Context;
pub use error::CapabilityError;

/// A connector. Implement `handle_event`; `handle_request` answers requests sent
/// to `/integrations/{id}/…` (404 unless overridden). A fresh instance serves
/// each call, so there is no state to keep between calls: use [`storage`].
pub trait Plugin {
    /// Handle one telephony event.
    fn handle_event(ctx: &Context, event: Event) -> Result<(), PluginError>;

    /// Answer an HTTP request routed to the integration.
    fn handle_request(_ctx: &Context, _req: Request) -> Response {
        Response {
            status: 404,
            headers: vec![("content-type".into(), "application/json".into())],
            body: br#"{"error":"not found"}"#.to_vec(),
        }
    }
}

/// Export a [`Plugin`] implementation as the component's `connector` world.
#[macro_export]
macro_rules! export_plugin {
    ($plugin:ty) => {
        #[doc(hidden)]
        pub struct __SwitchboardExport;
        impl $crate::bindings::Guest for __SwitchboardExport {
            fn handle_event(
                ctx: $crate::EventContext,
                event: $crate::Event,
            ) -> ::core::result::Result<(), $crate::PluginError> {
                <$plugin as $crate::Plugin>::handle_event(&$crate::Context::new(ctx), event)
            }
            fn handle_request(ctx: $crate::RequestContext, req: $crate::Request) -> $crate::Response {
                <$plugin as $crate::Plugin>::handle_request(&$crate::Context::for_request(ctx), req)
            }
        }
        $crate::bindings::__export_connector!(__SwitchboardExport with_types_in $crate::bindings);
    };
}

impl From<phone::PhoneError> for String {
    fn from(e: phone::PhoneError) -> String {
        e.text
    }
}

/// Wall clock in milliseconds since the UNIX epoch (replayed on retries).
pub fn now_ms() -> i64 {
    clock::now_ms()
}
