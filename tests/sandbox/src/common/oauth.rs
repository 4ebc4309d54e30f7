//! One OAuth 2.0 authorization server (RFC 6749, PKCE per RFC 7636) that every
//! emulator mounts on its vendor's real paths, so connect flows run offline.
//!
//! A [`Vendor`] profile (a `const` in each emulator) fixes what differs between
//! vendors: paths, how the client authenticates, whether `redirect_uri` is a
//! parameter or registered with the app, required scopes, refresh support and
//! lifetimes. [`OAuthOptions`] are what a test changes at run time, through
//! [`OAuthServer`] (the emulator's `oauth()`) or `GET|POST /_sandbox/oauth`.
//!
//! The authorize route behaves as an admin who consents at once: it answers
//! 302 to `redirect_uri?code=…&state=…` (or `error=access_denied` with the
//! `deny` option). The harness routes both OAuth paths past the emulator's
//! credential gate but through its journal and fault injection, and each
//! emulator's gate accepts what [`OAuthServer::accepts`] says is live.

mod authorize;
mod control;
mod errors;
mod store;
mod token;

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

pub use errors::OAuthError;
pub use store::{TokenInfo, TokenRequest};

use super::util::lock;
use store::Store;

/// How a client proves who it is at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuth {
    /// `client_id` and `client_secret` among the request parameters.
    Body,
    /// `Authorization: Basic base64(client_id:client_secret)`; body values are ignored.
    Basic,
}

/// Where the redirect URI of a code flow comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Redirect {
    /// `redirect_uri` is required at authorize and must be repeated, equal, at the token endpoint.
    Required,
    /// `redirect_uri` is optional at authorize (default: the registered one); at the
    /// token endpoint it is optional but must be equal when sent.
    Optional,
    /// No parameter: the redirect registered with the app is used (option `registered_redirect`).
    Registered,
}

/// Which scope the authorize request must carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScopeRule {
    /// None required.
    Any,
    /// At least one scope.
    NonEmpty,
    /// This scope among the space-separated ones.
    Contains(&'static str),
}

/// When a code exchange also yields a refresh token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RefreshRule {
    /// Never; the `refresh_token` grant is unsupported.
    Never,
    /// Every code exchange yields one (HubSpot, Help Scout).
    Always,
    /// Only when this scope was granted (Gorgias `offline`).
    WithScope(&'static str),
}

/// The fixed OAuth facts of one vendor.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Vendor {
    /// Lower-case name, used in default credentials and token prefixes.
    pub name: &'static str,
    /// Path of the authorize page (served on the emulator's own port).
    pub authorize_path: &'static str,
    /// Paths of the token endpoint (several when a vendor has versions).
    pub token_paths: &'static [&'static str],
    /// Client authentication at the token endpoint.
    pub client_auth: ClientAuth,
    /// Where the redirect URI comes from.
    pub redirect: Redirect,
    /// Whether authorize requires `response_type` (it must be `code` when sent).
    pub response_type_required: bool,
    /// Scope the authorize request must carry.
    pub scope: ScopeRule,
    /// Refresh-token support.
    pub refresh: RefreshRule,
    /// Whether the `client_credentials` grant is supported.
    pub client_credentials: bool,
    /// Access-token lifetime in seconds when the options say nothing (`None` = no expiry).
    pub default_expires_in: Option<u64>,
    /// Whether a refresh returns a new refresh token (and retires the old one) by default.
    pub default_rotate: bool,
    /// Lifetime of an authorization code, seconds.
    pub code_lifetime_secs: u64,
    /// `token_type` in token answers.
    pub token_type: &'static str,
    /// Token answers also carry the access token as `token` (Intercom).
    pub token_alias: bool,
    /// Errors also carry HubSpot's legacy `status`/`message`/`correlationId`.
    pub legacy_errors: bool,
}

impl Vendor {
    /// The default OAuth app: `sandbox-<vendor>-client-id` / `sandbox-<vendor>-client-secret`.
    pub fn default_options(&self) -> OAuthOptions {
        OAuthOptions {
            client_id: format!("sandbox-{}-client-id", self.name),
            client_secret: format!("sandbox-{}-client-secret", self.name),
            registered_redirect: None,
            expires_in: None,
            rotate_refresh: self.default_rotate,
            refuse_refresh: None,
            deny: false,
        }
    }

    fn serves(&self, path: &str) -> bool {
        path == self.authorize_path || self.token_paths.contains(&path)
    }
}

/// What a test may change at run time (all fields; `POST /_sandbox/oauth`
/// takes any subset as JSON and keeps the rest).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OAuthOptions {
    /// The app's client id.
    pub client_id: String,
    /// The app's client secret.
    pub client_secret: String,
    /// The redirect URI registered with the app. Vendors taking a `redirect_uri`
    /// parameter accept any http(s) URI while this is `None`, only this one when set;
    /// Help Scout's code flow needs it (400 without).
    pub registered_redirect: Option<String>,
    /// Access-token lifetime in seconds; `None` = the vendor's default.
    pub expires_in: Option<u64>,
    /// A refresh returns a new refresh token and the old one stops working.
    pub rotate_refresh: bool,
    /// Answer every refresh with this RFC 6749 error (e.g. `invalid_grant`).
    pub refuse_refresh: Option<String>,
    /// The admin refuses consent: authorize redirects with `error=access_denied`.
    pub deny: bool,
}

/// Handle on one emulator's authorization server (cheap to clone).
#[derive(Clone)]
pub struct OAuthServer {
    vendor: &'static Vendor,
    initial: OAuthOptions,
    store: Arc<Mutex<Store>>,
}

impl OAuthServer {
    /// A server for `vendor` starting (and resetting) with `options`.
    pub fn new(vendor: &'static Vendor, options: OAuthOptions) -> Self {
        Self { vendor, initial: options.clone(), store: Arc::new(Mutex::new(Store::new(options))) }
    }

    /// The vendor profile.
    pub fn vendor(&self) -> &'static Vendor {
        self.vendor
    }

    /// The options in force.
    pub fn options(&self) -> OAuthOptions {
        lock(&self.store).options.clone()
    }

    /// Replaces the options.
    pub fn set_options(&self, options: OAuthOptions) {
        lock(&self.store).options = options;
    }

    /// Changes the options in place: `oauth.configure(|o| o.expires_in = Some(1))`.
    pub fn configure(&self, f: impl FnOnce(&mut OAuthOptions)) {
        f(&mut lock(&self.store).options);
    }

    /// Every issued access and refresh token, and every pending code, stops working.
    pub fn revoke_all(&self) {
        lock(&self.store).revoke_all();
    }

    /// Every issued access token expires now; refresh tokens keep working.
    pub fn expire_access_tokens(&self) {
        lock(&self.store).expire_access();
    }

    /// Whether `token` is an access token this server issued that is neither expired nor revoked.
    pub fn accepts(&self, token: &str) -> bool {
        lock(&self.store).live(token)
    }

    /// Every token request so far, oldest first.
    pub fn token_requests(&self) -> Vec<TokenRequest> {
        lock(&self.store).log.clone()
    }

    /// The access and refresh tokens issued so far, with their status.
    pub fn tokens(&self) -> Vec<TokenInfo> {
        lock(&self.store).infos()
    }

    /// Back to the starting options, no codes, no tokens, empty log.
    pub fn reset(&self) {
        *lock(&self.store) = Store::new(self.initial.clone());
    }

    /// Whether `path` is this server's authorize or token path.
    pub fn serves(&self, path: &str) -> bool {
        self.vendor.serves(path)
    }

    /// The authorize and token routes (no credential gate).
    pub fn router(&self) -> Router {
        let mut router = Router::new().route(self.vendor.authorize_path, get(authorize::authorize));
        for path in self.vendor.token_paths {
            router = router.route(path, post(token::token));
        }
        router.with_state(self.clone())
    }

    /// `GET|POST /_sandbox/oauth`.
    pub fn control_router(&self) -> Router {
        control::router(self.clone())
    }

    /// The lifetime new access tokens get, seconds (`None` = no expiry).
    fn lifetime(&self, options: &OAuthOptions) -> Option<u64> {
        options.expires_in.or(self.vendor.default_expires_in)
    }
}
