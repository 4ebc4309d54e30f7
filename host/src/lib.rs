//! switchboard: a self-hosted integration host that connects a cloud telephony
//! account (Aircall's public API: webhooks in, REST out) to CRMs and help desks
//! through sandboxed WebAssembly plugins.
//!
//! The modules follow the flow of one event:
//! [`server::webhook`] (ingest) → [`store`] (durable, deduplicated) →
//! [`queue`] (ordered per call, retried) → [`runtime`] (a fresh plugin instance
//! per job) → [`capabilities`] (HTTP, storage, telephony, phone, log, clock;
//! journaled). [`registry`] watches the plugin directory; [`config`] and
//! [`cli`] are the operator's side.

#![warn(missing_docs)]

pub mod aircall;
pub mod app;
pub mod capabilities;
pub mod cli;
pub mod clock;
pub mod config;
pub mod connections;
pub mod console;
pub mod contract;
pub mod integrations;
pub mod metrics;
pub mod outbound;
pub mod providers;
pub mod queue;
pub mod reconcile;
pub mod registry;
pub mod runtime;
pub mod server;
pub mod simulate;
pub mod store;

#[cfg(test)]
mod layering;
