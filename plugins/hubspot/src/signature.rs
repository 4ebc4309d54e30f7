//! Verifying that a request came from HubSpot (reference §2.5).
//!
//! * v3: `X-HubSpot-Signature-v3` = base64(HMAC-SHA256(client secret,
//!   METHOD + URI + body + X-HubSpot-Request-Timestamp)); the timestamp
//!   (milliseconds) must be recent.
//! * v2, only when no v3 signature is present: `X-HubSpot-Signature` = hex
//!   SHA-256(client secret + METHOD + URI + body), with
//!   `X-HubSpot-Signature-Version: v2`. v2 carries no timestamp, so a replayed
//!   execution is made harmless by the per-callback idempotency record.
//!
//! Comparisons are constant-time. [U] reference §3.13: HubSpot URL-decodes a
//! few characters of the URI before hashing for v3; the list used here
//! ([`DECODED`]) is from HubSpot's request-validation page as remembered, and
//! the URI is also tried exactly as received.

use base64::Engine;
use sha2::{Digest, Sha256};
use switchboard_sdk::hmac::constant_time_eq;

/// Why a request was refused (the text goes into the 401 body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// No client secret is configured.
    NoSecret,
    /// Neither a v3 nor a v2 signature header.
    Missing,
    /// v3 without a usable timestamp.
    BadTimestamp,
    /// v3 timestamp outside the accepted window.
    Stale,
    /// The signature does not match.
    Mismatch(&'static str),
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rejection::NoSecret => f.write_str("no client secret is configured for this integration"),
            Rejection::Missing => f.write_str("missing X-HubSpot-Signature-v3 (or v2 X-HubSpot-Signature)"),
            Rejection::BadTimestamp => f.write_str("missing or invalid X-HubSpot-Request-Timestamp"),
            Rejection::Stale => f.write_str("X-HubSpot-Request-Timestamp is too old (or in the future)"),
            Rejection::Mismatch(v) => write!(f, "{v} signature does not match"),
        }
    }
}

/// Which signature was accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepted {
    /// HMAC with timestamp.
    V3,
    /// Plain hash (no freshness).
    V2,
}

/// Percent-escapes HubSpot decodes before computing v3 (case-insensitive hex).
pub const DECODED: &[(&str, &str)] = &[
    ("%3A", ":"),
    ("%2F", "/"),
    ("%3F", "?"),
    ("%40", "@"),
    ("%21", "!"),
    ("%24", "$"),
    ("%27", "'"),
    ("%28", "("),
    ("%29", ")"),
    ("%2A", "*"),
    ("%2C", ","),
    ("%3B", ";"),
];

/// The URI with [`DECODED`] escapes replaced.
pub fn decode_uri(uri: &str) -> String {
    let mut out = String::with_capacity(uri.len());
    let mut rest = uri;
    while let Some(pos) = rest.find('%') {
        out.push_str(&rest[..pos]);
        let esc = rest.get(pos..pos + 3).unwrap_or("");
        match DECODED.iter().find(|(e, _)| e.eq_ignore_ascii_case(esc)) {
            Some((_, ch)) => {
                out.push_str(ch);
                rest = &rest[pos + 3..];
            }
            None => {
                out.push('%');
                rest = &rest[pos + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The v3 signature of a request.
pub fn v3(secret: &str, method: &str, uri: &str, body: &[u8], timestamp: &str) -> String {
    let mac = switchboard_sdk::hmac::sha256(secret.as_bytes(), &[method.as_bytes(), uri.as_bytes(), body, timestamp.as_bytes()]);
    base64::engine::general_purpose::STANDARD.encode(mac)
}

/// The v2 signature of a request (lower-case hex).
pub fn v2(secret: &str, method: &str, uri: &str, body: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(secret.as_bytes());
    h.update(method.as_bytes());
    h.update(uri.as_bytes());
    h.update(body);
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// What a signature check needs from a request.
pub struct Signed<'a> {
    /// HTTP method, upper case.
    pub method: &'a str,
    /// The full URL the caller used.
    pub uri: &'a str,
    /// The raw body.
    pub body: &'a [u8],
    /// Headers (names compared case-insensitively).
    pub headers: &'a [(String, String)],
}

impl Signed<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim())
    }

    /// Check the request's signature at time `now_ms`.
    pub fn verify(&self, secret: &str, now_ms: i64, max_age_ms: i64) -> Result<Accepted, Rejection> {
        if secret.is_empty() {
            return Err(Rejection::NoSecret);
        }
        let method = self.method.to_ascii_uppercase();
        if let Some(sig) = self.header("x-hubspot-signature-v3") {
            let ts = self.header("x-hubspot-request-timestamp").ok_or(Rejection::BadTimestamp)?;
            let at: i64 = ts.parse().map_err(|_| Rejection::BadTimestamp)?;
            if (now_ms - at).abs() > max_age_ms {
                return Err(Rejection::Stale);
            }
            let decoded = decode_uri(self.uri);
            let ok = [decoded.as_str(), self.uri]
                .iter()
                .any(|uri| constant_time_eq(v3(secret, &method, uri, self.body, ts).as_bytes(), sig.as_bytes()));
            return if ok { Ok(Accepted::V3) } else { Err(Rejection::Mismatch("v3")) };
        }
        let sig = self.header("x-hubspot-signature").ok_or(Rejection::Missing)?;
        match self.header("x-hubspot-signature-version") {
            None | Some("v2") | Some("V2") => {}
            Some(_) => return Err(Rejection::Missing),
        }
        let expected = v2(secret, &method, self.uri, self.body);
        if constant_time_eq(expected.as_bytes(), sig.to_ascii_lowercase().as_bytes()) {
            Ok(Accepted::V2)
        } else {
            Err(Rejection::Mismatch("v2"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_values() {
        // The sandbox's independently computed vectors (openssl / sha256sum).
        assert_eq!(v3("secret", "POST", "https://x.test/a", b"{}", "1700000000000"), "w1a/7BeaC02hmQtNEZnYIjQMm2WlGkXVqS/G1Zk6zzk=");
        assert_eq!(v2("secret", "POST", "https://x.test/a", b"{}"), "baec38f366d40069eea5283bc9e0ed1aad26fc541dfa78457c138322f7617cc9");
    }

    fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_string(), (*v).to_string())).collect()
    }

    #[test]
    fn v3_fresh_stale_wrong() {
        let sig = v3("s", "POST", "https://x.test/a?b=1", b"{}", "1000000");
        let h = headers(&[("X-HubSpot-Signature-v3", &sig), ("X-HubSpot-Request-Timestamp", "1000000")]);
        let req = Signed { method: "post", uri: "https://x.test/a?b=1", body: b"{}", headers: &h };
        assert_eq!(req.verify("s", 1_000_000 + 299_000, 300_000), Ok(Accepted::V3));
        assert_eq!(req.verify("s", 1_000_000 + 301_000, 300_000), Err(Rejection::Stale));
        assert_eq!(req.verify("other", 1_000_000, 300_000), Err(Rejection::Mismatch("v3")));
        let tampered = Signed { body: b"{ }", ..req };
        assert_eq!(tampered.verify("s", 1_000_000, 300_000), Err(Rejection::Mismatch("v3")));
    }

    #[test]
    fn v2_only_without_v3() {
        let sig = v2("s", "POST", "https://x.test/a", b"x");
        let h = headers(&[("x-hubspot-signature", &sig), ("x-hubspot-signature-version", "v2")]);
        let req = Signed { method: "POST", uri: "https://x.test/a", body: b"x", headers: &h };
        assert_eq!(req.verify("s", 0, 300_000), Ok(Accepted::V2));
        assert_eq!(req.verify("t", 0, 300_000), Err(Rejection::Mismatch("v2")));
        let none: Vec<(String, String)> = Vec::new();
        assert_eq!(Signed { headers: &none, ..req }.verify("s", 0, 1), Err(Rejection::Missing));
    }

    #[test]
    fn decodes_listed_escapes_only() {
        assert_eq!(decode_uri("https://x.test/a%3Ab%2fc%20d%"), "https://x.test/a:b/c%20d%");
    }
}
