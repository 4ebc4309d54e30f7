//! The plugin contract as the host sees it: the bindings generated from every
//! released `wit/vX.Y.Z` folder, the adapter that converts between v0.1.0 and
//! the newest version, and the conversion of Aircall's objects
//! ([`crate::aircall::model`]) into the contract's records. Nothing here runs a
//! plugin or performs an effect; the runtime and the capabilities build on it.

pub mod bindings;
pub mod compat_v0_1;
pub mod convert;

pub use bindings::{CONTRACT_VERSION, CapabilityError, PACKAGE, SUPPORTED_CONTRACTS, SettingValue};
