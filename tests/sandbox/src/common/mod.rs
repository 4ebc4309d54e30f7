//! Shared framework of every emulator: request journal, fault injection, the
//! `/_sandbox/*` control routes, credential parsing, the OAuth authorization
//! server and the HTTP server loop.

pub mod auth;
pub mod faults;
pub mod harness;
pub mod journal;
pub mod media;
pub mod oauth;
pub mod server;
pub mod state;
pub mod util;

pub use faults::Fault;
pub use harness::{Control, Running};
pub use journal::RequestRecord;
pub use oauth::{OAuthOptions, OAuthServer, TokenRequest};
