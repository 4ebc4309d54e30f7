//! `crypto`: HMAC-SHA256 keyed by a secret the plugin names but never reads.
//!
//! A signature check (HubSpot's v3 header, a signed click-to-dial link) needs
//! the client secret; with this capability it stays a secret of the
//! integration — out of settings, logs and plugin memory. Pure computation, so
//! nothing is journaled: the same inputs give the same answer on a retry.

use super::JobCaps;
use crate::contract::bindings::CapabilityError;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

impl JobCaps {
    fn keyed(&self, secret_name: &str) -> Result<HmacSha256, CapabilityError> {
        let credential = self.integration.credentials.get(secret_name).ok_or_else(|| {
            CapabilityError::Denied(format!("no secret {secret_name:?} is configured for integration {:?}", self.integration.id))
        })?;
        let value = credential
            .static_value()
            .ok_or_else(|| CapabilityError::Denied(format!("secret {secret_name:?} is an OAuth connection's token; it cannot sign")))?;
        HmacSha256::new_from_slice(value.as_bytes()).map_err(|e| CapabilityError::Invalid(format!("secret {secret_name:?}: {e}")))
    }

    /// `crypto.hmac-sha256`
    pub fn crypto_hmac_sha256(&self, secret_name: &str, data: &[u8]) -> Result<Vec<u8>, CapabilityError> {
        let mut mac = self.keyed(secret_name)?;
        mac.update(data);
        Ok(mac.finalize().into_bytes().to_vec())
    }

    /// `crypto.verify-hmac-sha256`, in constant time.
    pub fn crypto_verify_hmac_sha256(&self, secret_name: &str, data: &[u8], signature: &[u8]) -> Result<bool, CapabilityError> {
        let mut mac = self.keyed(secret_name)?;
        mac.update(data);
        Ok(mac.verify_slice(signature).is_ok())
    }
}
