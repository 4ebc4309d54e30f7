//! Aircall's side of the wire: the webhook envelope, the objects it carries, and
//! the REST client the telephony capability uses.

pub mod accounts;
pub mod client;
mod lenient;
pub mod model;

pub use model::{Envelope, ParsedEvent};

/// What an event says happened, for the events that happen once per Aircall
/// resource and that the host may synthesise from the REST API when their
/// webhook never came (reconciliation, backfill): `call.ended` of call 123 is
/// `call.ended:123` whichever body carries it. Each integration gets one job
/// per occurrence ([`crate::store::NewEvent::occurrence`]). Other events
/// (`call.tagged`, `call.transferred`, ...) can happen several times per call
/// and have none.
pub fn occurrence(event: &str, parsed: &ParsedEvent) -> Option<String> {
    match (event, parsed) {
        ("call.ended", ParsedEvent::Call(_, call)) => Some(format!("call.ended:{}", call.id)),
        _ => None,
    }
}
