//! What the authorization server remembers: pending codes, issued access and
//! refresh tokens (with expiry and revocation), and the log of token requests.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::OAuthOptions;
use crate::common::util::now_millis;

/// One request to the token endpoint, as [`super::OAuthServer::token_requests`] lists it.
#[derive(Debug, Clone, Serialize)]
pub struct TokenRequest {
    /// `grant_type` as sent (empty when missing).
    pub grant_type: String,
    /// When it arrived.
    #[serde(skip)]
    pub at: Instant,
    /// When it arrived, UNIX milliseconds.
    pub at_ms: i64,
    /// Whether tokens were issued.
    pub ok: bool,
    /// The RFC 6749 `error` of a refused request.
    pub error: Option<String>,
}

/// An issued token and its status, as `GET /_sandbox/oauth` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct TokenInfo {
    /// `access` or `refresh`.
    pub kind: &'static str,
    /// The whole token (`sbx-VENDOR-at-…` or `sbx-VENDOR-rt-…`), so a test can
    /// present it.
    pub token: String,
    /// The grant that produced it (`authorization_code`, `refresh_token`, `client_credentials`).
    pub grant_type: String,
    /// Space-separated scopes granted.
    pub scope: String,
    /// Expiry, UNIX milliseconds (`None` = never).
    pub expires_at_ms: Option<i64>,
    /// Revoked (by `revoke_all`, rotation or an uninstall).
    pub revoked: bool,
    /// Usable now.
    pub live: bool,
}

/// A PKCE code challenge kept from the authorize request.
#[derive(Debug, Clone)]
pub struct Challenge {
    /// `code_challenge`.
    pub value: String,
    /// `S256` or `plain`.
    pub method: String,
}

/// A code handed out by authorize.
#[derive(Debug, Clone)]
pub struct Code {
    /// Client it was issued to.
    pub client_id: String,
    /// Redirect URI it was sent to (what the token request must repeat).
    pub redirect_uri: String,
    /// Scopes granted.
    pub scope: String,
    /// PKCE challenge, if the client sent one.
    pub challenge: Option<Challenge>,
    expires_at: Instant,
    used: bool,
    revoked: bool,
}

#[derive(Debug, Clone)]
struct Issued {
    kind: &'static str,
    token: String,
    grant_type: String,
    scope: String,
    expires_at: Option<(Instant, i64)>,
    revoked: bool,
}

impl Issued {
    fn live(&self, now: Instant) -> bool {
        !self.revoked && self.expires_at.is_none_or(|(at, _)| now < at)
    }
}

/// Why a code cannot be exchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeProblem {
    /// Never issued (or revoked).
    Unknown,
    /// Already exchanged once.
    Used,
    /// Older than the vendor's code lifetime.
    Expired,
}

/// The mutable part of an [`super::OAuthServer`].
pub struct Store {
    /// Options in force.
    pub options: OAuthOptions,
    /// Token requests, oldest first.
    pub log: Vec<TokenRequest>,
    codes: HashMap<String, Code>,
    issued: Vec<Issued>,
}

/// A fresh unguessable value: `sbx-<vendor>-<kind>-<32 hex>`.
pub fn fresh(vendor: &str, kind: &str) -> String {
    format!("sbx-{vendor}-{kind}-{:032x}", rand::random::<u128>())
}

impl Store {
    /// An empty store with `options`.
    pub fn new(options: OAuthOptions) -> Self {
        Self { options, log: Vec::new(), codes: HashMap::new(), issued: Vec::new() }
    }

    /// Keeps a new code valid for `lifetime`.
    pub fn add_code(
        &mut self,
        code: String,
        client_id: String,
        redirect_uri: String,
        scope: String,
        challenge: Option<Challenge>,
        lifetime: Duration,
    ) {
        let entry = Code { client_id, redirect_uri, scope, challenge, expires_at: Instant::now() + lifetime, used: false, revoked: false };
        self.codes.insert(code, entry);
    }

    /// The code if it can still be exchanged: issued, not yet used, not expired.
    pub fn code(&self, code: &str) -> Result<Code, CodeProblem> {
        let entry = self.codes.get(code).filter(|c| !c.revoked).ok_or(CodeProblem::Unknown)?;
        if entry.used {
            return Err(CodeProblem::Used);
        }
        if Instant::now() >= entry.expires_at {
            return Err(CodeProblem::Expired);
        }
        Ok(entry.clone())
    }

    /// Marks a code as exchanged: it never works again.
    pub fn spend_code(&mut self, code: &str) {
        if let Some(c) = self.codes.get_mut(code) {
            c.used = true;
        }
    }

    /// Records an access token living `lifetime` seconds (`None` = forever).
    pub fn add_access(&mut self, token: String, grant_type: &str, scope: &str, lifetime: Option<u64>) {
        let expires_at = lifetime.map(|s| (Instant::now() + Duration::from_secs(s), now_millis() + (s as i64) * 1000));
        self.issued.push(Issued { kind: "access", token, grant_type: grant_type.into(), scope: scope.into(), expires_at, revoked: false });
    }

    /// Records a refresh token (they do not expire).
    pub fn add_refresh(&mut self, token: String, grant_type: &str, scope: &str) {
        self.issued.push(Issued {
            kind: "refresh",
            token,
            grant_type: grant_type.into(),
            scope: scope.into(),
            expires_at: None,
            revoked: false,
        });
    }

    /// The scope of a live refresh token.
    pub fn refresh_scope(&self, token: &str) -> Option<String> {
        let now = Instant::now();
        self.issued.iter().find(|i| i.kind == "refresh" && i.token == token && i.live(now)).map(|i| i.scope.clone())
    }

    /// Retires a refresh token (after rotation).
    pub fn retire_refresh(&mut self, token: &str) {
        self.issued.iter_mut().filter(|i| i.kind == "refresh" && i.token == token).for_each(|i| i.revoked = true);
    }

    /// Whether `token` is a live access token.
    pub fn live(&self, token: &str) -> bool {
        let now = Instant::now();
        self.issued.iter().any(|i| i.kind == "access" && i.token == token && i.live(now))
    }

    /// Revokes every token and pending code.
    pub fn revoke_all(&mut self) {
        self.issued.iter_mut().for_each(|i| i.revoked = true);
        self.codes.values_mut().for_each(|c| c.revoked = true);
    }

    /// Moves the expiry of every access token to now.
    pub fn expire_access(&mut self) {
        let now = (Instant::now(), now_millis());
        self.issued.iter_mut().filter(|i| i.kind == "access").for_each(|i| i.expires_at = Some(now));
    }

    /// Adds a line to the token-request log.
    pub fn log(&mut self, grant_type: &str, error: Option<&str>) {
        let entry = TokenRequest {
            grant_type: grant_type.into(),
            at: Instant::now(),
            at_ms: now_millis(),
            ok: error.is_none(),
            error: error.map(str::to_owned),
        };
        self.log.push(entry);
    }

    /// The issued tokens as [`TokenInfo`]s, oldest first.
    pub fn infos(&self) -> Vec<TokenInfo> {
        let now = Instant::now();
        self.issued
            .iter()
            .map(|i| TokenInfo {
                kind: i.kind,
                token: i.token.clone(),
                grant_type: i.grant_type.clone(),
                scope: i.scope.clone(),
                expires_at_ms: i.expires_at.map(|(_, ms)| ms),
                revoked: i.revoked,
                live: i.live(now),
            })
            .collect()
    }
}
