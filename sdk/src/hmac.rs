//! HMAC-SHA256 signatures and their constant-time check, for plugins that sign
//! links they hand out (Help Scout click-to-dial) or verify requests a CRM
//! signs (HubSpot's `X-HubSpot-Signature-v3`).
//!
//! ```
//! use switchboard_sdk::hmac;
//! let sig = hmac::sha256_hex(b"key", &[b"ada@example.com", b"\n", b"+33612345678"]);
//! assert!(hmac::verify_hex(b"key", &[b"ada@example.com", b"\n", b"+33612345678"], &sig));
//! assert!(!hmac::verify_hex(b"key", &[b"eve@example.com", b"\n", b"+33612345678"], &sig));
//! ```

use ::hmac::{Hmac, Mac};
use ::sha2::Sha256;

/// HMAC-SHA256 of the concatenation of `parts` under `key` (any length).
pub fn sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC accepts keys of every length: `new_from_slice` only fails for
    // fixed-size-key MACs, so this branch never runs; all-zero would simply
    // never match a real signature.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return [0; 32];
    };
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// [`sha256`] as lower-case hex (64 characters).
pub fn sha256_hex(key: &[u8], parts: &[&[u8]]) -> String {
    sha256(key, parts).iter().map(|b| format!("{b:02x}")).collect()
}

/// Constant-time equality of two byte strings: the time taken depends on the
/// lengths only, not on where they differ (the length is not secret).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether `signature` (hex, either case) is the HMAC-SHA256 of `parts` under
/// `key`, compared in constant time.
pub fn verify_hex(key: &[u8], parts: &[&[u8]], signature: &str) -> bool {
    constant_time_eq(sha256_hex(key, parts).as_bytes(), signature.trim().to_ascii_lowercase().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_4231_test_case_2() {
        // Key "Jefe", data "what do ya want for nothing?" (RFC 4231 §4.3).
        assert_eq!(
            sha256_hex(b"Jefe", &[b"what do ya want ", b"for nothing?"]),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn verification_is_exact() {
        let sig = sha256_hex(b"k", &[b"a", b"b"]);
        assert!(verify_hex(b"k", &[b"ab"], &sig));
        assert!(verify_hex(b"k", &[b"ab"], &sig.to_ascii_uppercase()));
        assert!(!verify_hex(b"k2", &[b"ab"], &sig));
        assert!(!verify_hex(b"k", &[b"ab"], &sig[..63]));
        assert!(!verify_hex(b"k", &[b"ab"], ""));
        assert!(constant_time_eq(b"abc", b"abc") && !constant_time_eq(b"abc", b"abd") && !constant_time_eq(b"ab", b"abc"));
    }
}
