//! Errors: capability failures convert into plugin errors with `?`.

pub use crate::bindings::switchboard::plugin::types::CapabilityError;
use crate::bindings::switchboard::plugin::types::{PluginError, RateLimit};

impl From<CapabilityError> for PluginError {
    fn from(e: CapabilityError) -> Self {
        match e {
            CapabilityError::Denied(m) => PluginError::Permanent(format!("denied: {m}")),
            CapabilityError::Invalid(m) => PluginError::Permanent(format!("invalid: {m}")),
            CapabilityError::NotFound(m) => PluginError::Permanent(format!("not found: {m}")),
            CapabilityError::Unauthorized(m) => PluginError::Unauthorized(m),
            CapabilityError::RateLimited(ms) => {
                PluginError::RateLimited(RateLimit { retry_after_ms: ms, reason: "host rate limit".into() })
            }
            CapabilityError::Unavailable(m) => PluginError::Retryable(m),
            // An ambiguous write must be checked by the plugin; replaying blindly could
            // duplicate it, so the job stops for an operator to look at.
            CapabilityError::Ambiguous(m) => PluginError::Permanent(format!("ambiguous: {m}")),
        }
    }
}

impl PluginError {
    /// `Retryable` from anything printable.
    pub fn retryable(m: impl std::fmt::Display) -> Self {
        PluginError::Retryable(m.to_string())
    }
    /// `Permanent` from anything printable.
    pub fn permanent(m: impl std::fmt::Display) -> Self {
        PluginError::Permanent(m.to_string())
    }
}
