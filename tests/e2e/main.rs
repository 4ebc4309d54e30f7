//! End-to-end tests, one binary: the real `switchboard` binary (or the host
//! library in-process), real plugins from `dist/plugins`, the sandbox
//! emulators. One file per area, each a module here; run one area with
//! `cargo test -p switchboard --test e2e pipeline::` (after `cargo xtask plugins`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod browser;
mod cli;
mod connections;
mod console;
mod console_actions;
mod crash_recovery;
mod faults;
mod gorgias;
mod helpscout;
mod hot_reload;
mod hubspot;
mod intercom;
mod pipeline;
mod reconcile;
mod same_customer;
mod sandboxing;
mod scaleout;
mod shared_budget;
mod simulate;
mod soak;
