//! Cross-site request forgery: every POST carries a token that only a page the
//! console rendered for this session (or this login form) knows. A form
//! without it, or with another session's, is refused with 403 before anything
//! happens. `SameSite=Strict` cookies already keep other sites' forms from
//! riding the session; the token is the second lock.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use subtle::ConstantTimeEq;

/// The form field that carries the token.
pub const FIELD: &str = "csrf";

/// A fresh token: 256 random bits, URL-safe.
pub fn token() -> String {
    B64URL.encode(rand::random::<[u8; 32]>())
}

/// Whether `given` is the `expected` token, compared in constant time. An empty
/// expected token never matches (a session always has one).
pub fn matches(expected: &str, given: Option<&str>) -> bool {
    match given {
        Some(given) if !expected.is_empty() => expected.as_bytes().ct_eq(given.as_bytes()).into(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_url_safe() {
        let (a, b) = (token(), token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43, "32 bytes in unpadded base64");
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    }

    #[test]
    fn only_the_same_token_matches() {
        let t = token();
        assert!(matches(&t, Some(&t)));
        assert!(!matches(&t, None), "a form without the token");
        assert!(!matches(&t, Some("")));
        assert!(!matches(&t, Some(&token())), "another session's token");
        assert!(!matches(&t, Some(&t[..42])), "a prefix");
        assert!(!matches("", Some("")), "no expected token: nothing matches");
    }
}
