//! Who may use the console: the admin password (an argon2 hash in
//! `[console] admin_password_hash`), or a one-time sign-in link printed by
//! `switchboard console-link` (its token is stored hashed in the store, valid
//! 10 minutes, single use). Either opens a session: a random 32-byte id in an
//! `HttpOnly; SameSite=Strict` cookie, kept on the server (hashed) with its
//! expiry and its CSRF token. Failed logins are limited per client address.

use crate::store::{KvWrite, Store};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// The session cookie.
pub const SESSION_COOKIE: &str = "sb_console";
/// The login form's own CSRF cookie (before there is a session).
pub const LOGIN_COOKIE: &str = "sb_console_login";
/// Namespace of sign-in link tokens in the store's key-value table.
pub const LINKS: &str = "host:console-links";
/// How long a sign-in link is valid.
pub const LINK_LIFETIME_MS: i64 = 10 * 60 * 1000;
/// Failed logins allowed per address within [`LIMIT_WINDOW_MS`].
pub const MAX_FAILURES: u32 = 5;
/// The window of [`MAX_FAILURES`]; an address that used them up waits until it ends.
pub const LIMIT_WINDOW_MS: i64 = 15 * 60 * 1000;

/// Hex SHA-256: what is kept instead of a session id or link token.
fn digest(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

/// A random URL-safe value with 256 bits of entropy.
pub fn random_id() -> String {
    B64URL.encode(rand::random::<[u8; 32]>())
}

/// One signed-in browser.
#[derive(Debug, Clone)]
pub struct Session {
    /// The token its forms carry.
    pub csrf: String,
    /// When it ends (ms since epoch).
    pub expires_at_ms: i64,
}

/// Open sessions, keyed by the hash of their id.
pub struct Sessions {
    lifetime_ms: i64,
    open: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    /// Sessions that last `lifetime_ms`.
    pub fn new(lifetime_ms: i64) -> Sessions {
        Sessions { lifetime_ms, open: Mutex::new(HashMap::new()) }
    }

    /// Open a session; returns its id (the cookie's value, never stored as is).
    pub fn open(&self, now_ms: i64) -> String {
        let id = random_id();
        if let Ok(mut open) = self.open.lock() {
            open.retain(|_, s| s.expires_at_ms > now_ms);
            open.insert(digest(&id), Session { csrf: super::csrf::token(), expires_at_ms: now_ms + self.lifetime_ms });
        }
        id
    }

    /// The session of a cookie value, if it is open and not expired.
    pub fn get(&self, id: &str, now_ms: i64) -> Option<Session> {
        let mut open = self.open.lock().ok()?;
        let key = digest(id);
        match open.get(&key) {
            Some(s) if s.expires_at_ms > now_ms => Some(s.clone()),
            Some(_) => {
                open.remove(&key);
                None
            }
            None => None,
        }
    }

    /// Sign out.
    pub fn close(&self, id: &str) {
        if let Ok(mut open) = self.open.lock() {
            open.remove(&digest(id));
        }
    }
}

/// Failed logins per client address.
#[derive(Default)]
pub struct Limiter {
    failures: Mutex<HashMap<IpAddr, (i64, u32)>>,
}

impl Limiter {
    /// `Err(seconds to wait)` when `ip` used up its failures in the current window.
    pub fn check(&self, ip: IpAddr, now_ms: i64) -> Result<(), u64> {
        let Ok(failures) = self.failures.lock() else { return Err(60) };
        match failures.get(&ip) {
            Some(&(start, n)) if n >= MAX_FAILURES && now_ms - start < LIMIT_WINDOW_MS => {
                Err(u64::try_from((start + LIMIT_WINDOW_MS - now_ms) / 1000).unwrap_or(0) + 1)
            }
            _ => Ok(()),
        }
    }

    /// Count a failed login.
    pub fn failed(&self, ip: IpAddr, now_ms: i64) {
        let Ok(mut failures) = self.failures.lock() else { return };
        if failures.len() > 10_000 {
            failures.retain(|_, (start, _)| now_ms - *start < LIMIT_WINDOW_MS);
        }
        let entry = failures.entry(ip).or_insert((now_ms, 0));
        if now_ms - entry.0 >= LIMIT_WINDOW_MS {
            *entry = (now_ms, 0);
        }
        entry.1 += 1;
    }

    /// A successful login clears the address's failures.
    pub fn succeeded(&self, ip: IpAddr) {
        if let Ok(mut failures) = self.failures.lock() {
            failures.remove(&ip);
        }
    }
}

/// The argon2id PHC string of a password (what `switchboard console-password` prints).
pub fn hash_password(password: &str) -> Result<String, String> {
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>()).map_err(|e| e.to_string())?;
    argon2::Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| e.to_string())
}

/// Whether `password` is the one `hash` was made from. Slow on purpose (argon2):
/// call it off the async threads.
pub fn verify_password(hash: &str, password: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => argon2::Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// Issue a one-time sign-in token (stored hashed, valid [`LINK_LIFETIME_MS`]).
pub async fn issue_link(store: &Arc<dyn Store>, now_ms: i64) -> Result<String, String> {
    let token = random_id();
    store
        .kv_write(LINKS, KvWrite::Set { key: digest(&token), value: b"console".to_vec(), expires_at_ms: Some(now_ms + LINK_LIFETIME_MS) })
        .await
        .map_err(|e| e.to_string())?;
    Ok(token)
}

/// Redeem a sign-in token: true once, for a token issued in the last 10
/// minutes; it is gone afterwards (compare-and-swap, so two racing uses
/// cannot both succeed).
pub async fn redeem_link(store: &Arc<dyn Store>, token: &str, now_ms: i64) -> Result<bool, String> {
    let key = digest(token);
    let Some(raw) = store.kv_get(LINKS, &key, now_ms).await.map_err(|e| e.to_string())? else {
        return Ok(false);
    };
    let removed = store
        .kv_write(LINKS, KvWrite::Cas { key, expected: Some(raw), new: None, expires_at_ms: None })
        .await
        .map_err(|e| e.to_string())?;
    Ok(removed == Some(true))
}

/// The value of cookie `name` in a request's headers.
pub fn cookie(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// A `Set-Cookie` value: `HttpOnly; SameSite=Strict; Path=/`, for `max_age_s`
/// seconds (0 deletes it).
pub fn set_cookie(name: &str, value: &str, max_age_s: i64) -> String {
    format!("{name}={value}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age_s}")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn sessions_open_expire_and_close() {
        let sessions = Sessions::new(1000);
        let id = sessions.open(0);
        assert_eq!(B64URL.decode(&id).unwrap().len(), 32, "a random 32-byte id");
        let s = sessions.get(&id, 999).unwrap();
        assert_eq!(s.expires_at_ms, 1000);
        assert!(!s.csrf.is_empty());
        assert!(sessions.get("forged", 1).is_none());
        assert!(sessions.get(&id, 1000).is_none(), "expired");
        assert!(sessions.get(&id, 0).is_none(), "an expired session is forgotten");
        let other = sessions.open(0);
        assert_ne!(sessions.get(&other, 1).unwrap().csrf, s.csrf, "each session has its own CSRF token");
        sessions.close(&other);
        assert!(sessions.get(&other, 1).is_none());
        assert!(!sessions.open.lock().unwrap().contains_key(&id), "ids are kept hashed, never as is");
    }

    #[test]
    fn failed_logins_are_limited_per_address_and_window() {
        let limiter = Limiter::default();
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        for _ in 0..MAX_FAILURES {
            assert!(limiter.check(a, 0).is_ok());
            limiter.failed(a, 0);
        }
        assert_eq!(limiter.check(a, 1000), Err(15 * 60), "wait until the window ends");
        assert!(limiter.check(b, 1000).is_ok(), "another address is not affected");
        assert!(limiter.check(a, LIMIT_WINDOW_MS).is_ok(), "a new window");
        limiter.failed(a, LIMIT_WINDOW_MS);
        assert!(limiter.check(a, LIMIT_WINDOW_MS).is_ok(), "the count restarted with the window");
        for _ in 0..MAX_FAILURES {
            limiter.failed(b, 0);
        }
        limiter.succeeded(b);
        assert!(limiter.check(b, 1).is_ok(), "a success clears the failures");
    }

    #[test]
    fn passwords_verify_against_their_argon2_hash_only() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password(&hash, "correct horse"));
        assert!(!verify_password(&hash, "correct hors"));
        assert!(!verify_password("not a hash", "correct horse"));
        assert_ne!(hash, hash_password("correct horse").unwrap(), "salted");
    }

    #[tokio::test]
    async fn a_sign_in_link_works_once_and_expires() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(crate::store::SqliteStore::open(&dir.path().join("s.db"), std::time::Duration::ZERO).unwrap());
        // The store's compare-and-swap reads the real clock: use it.
        let now = crate::clock::now_ms();
        let token = issue_link(&store, now).await.unwrap();
        assert!(store.kv_get(LINKS, &token, now).await.unwrap().is_none(), "stored hashed");
        assert!(!redeem_link(&store, "forged", now).await.unwrap());
        assert!(redeem_link(&store, &token, now).await.unwrap());
        assert!(!redeem_link(&store, &token, now).await.unwrap(), "single use");
        let late = issue_link(&store, now - LINK_LIFETIME_MS - 1).await.unwrap();
        assert!(!redeem_link(&store, &late, now).await.unwrap(), "10 minutes");
    }

    #[test]
    fn cookies_are_read_by_name_and_set_strict() {
        let mut h = axum::http::HeaderMap::new();
        h.insert(axum::http::header::COOKIE, "a=1; sb_console=xyz; b=2".parse().unwrap());
        assert_eq!(cookie(&h, SESSION_COOKIE).as_deref(), Some("xyz"));
        assert_eq!(cookie(&h, "sb"), None);
        let set = set_cookie(SESSION_COOKIE, "v", 60);
        assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict"), "{set}");
    }
}
