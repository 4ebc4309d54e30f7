//! Aircall's side of the wire: the webhook envelope, the objects it carries, and
//! the REST client the telephony capability uses.

pub mod client;
mod lenient;
pub mod model;

pub use model::{Envelope, ParsedEvent};
