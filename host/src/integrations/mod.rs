//! Integrations and Aircall accounts made in the console: kept in the store
//! beside the file's, applied to the running host without a restart.
//!
//! - [`stored`]: the store's document of console integrations and accounts
//!   ([`accounts`]) (one key-value entry, updated by compare-and-swap,
//!   secrets sealed under the master key);
//! - [`apply`]: turning it into the effective configuration
//!   ([`crate::config::LiveConfig`]) and rebinding what depends on it (the
//!   plugins' policies, the connections), and following the changes other
//!   hosts sharing the database make.
//!
//! The configuration file stays authoritative for what it declares: its
//! accounts and integrations are read-only in the console, and a console one
//! may not take one of their ids ([`crate::config::live::merge_accounts`],
//! [`crate::config::live::merge`]).

pub mod accounts;
pub mod apply;
pub mod check;
pub mod stored;

pub use apply::Applier;
pub use stored::StoredIntegration;
