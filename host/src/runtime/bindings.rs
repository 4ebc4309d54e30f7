//! Host bindings generated from the frozen contract `wit/v0.1.0`
//! (`switchboard:plugin@0.1.0`). A later contract version gets its own module
//! beside this one; plugins built against this one keep loading.

#[allow(missing_docs)]
mod generated {
wasmtime::component::bindgen!({
    path: "../wit/v0.1.0",
    world: "connector",
    imports: { default: async },
    exports: { default: async },
    additional_derives: [serde::Serialize, serde::Deserialize],
});
}
pub use generated::*;

/// The contract version these bindings implement.
pub const CONTRACT_VERSION: &str = "0.1.0";

pub use generated::switchboard::plugin::types::{CapabilityError, SettingValue};
