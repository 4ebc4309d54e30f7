//! Click-to-dial (seed: "Click-to-Dial"): `GET /integrations/{id}/dial?…` is
//! the link target a Help Scout `tel:` / `callto:` link (or a sidebar app)
//! points at. It starts an Aircall outbound call for the agent with that
//! e-mail: Aircall rings the agent's app, which then dials `to`.
//!
//! Anyone who can reach the host could otherwise make Aircall ring an agent's
//! phone and dial out, so every link is signed and nothing is dialled without
//! a valid signature:
//!
//! * the integration's `dial_key` setting (at least [`MIN_KEY_LEN`]
//!   characters) is the HMAC-SHA256 key; without it every dial request is
//!   refused (403, saying so);
//! * a link carries `to` (any format; `tel:` / `callto:` prefixes are fine),
//!   `agent` (Aircall user e-mail), optional `number` (Aircall number id; else
//!   the `dial_number_id` setting or the first mapped number), `expires` (UNIX
//!   seconds) and `sig` = hex HMAC-SHA256(`dial_key`, [`message`]), compared in
//!   constant time; an expired link is refused;
//! * `POST /integrations/{id}/dial-links` with `Authorization: Bearer
//!   {dial_key}` and `{"agent", "to", "number"?, "ttl_seconds"?}` answers a
//!   signed link ([`link`]), for a sidebar app or a script that holds the key.
//!
//! [U] The key is a plugin setting because contract v0.1.0 gives plugins no
//! access to secrets; a later contract's `crypto.hmac-sha256(secret-name, …)`
//! lets the host keep it.

use crate::settings::Settings;
use serde::Deserialize;
use serde_json::json;
use switchboard_sdk::phone::{self, Normalized};
use switchboard_sdk::{CapabilityError, Context, Request, Response, hmac, log, query, telephony};

/// Shortest `dial_key` accepted: a guessable key would make signing pointless.
pub const MIN_KEY_LEN: usize = 16;
/// Lifetime of a link minted by `POST /dial-links` when none is asked for.
pub const DEFAULT_TTL_SECONDS: i64 = 15 * 60;
/// Longest lifetime a minted link may have.
pub const MAX_TTL_SECONDS: i64 = 7 * 24 * 3600;

fn answer(status: u16, body: serde_json::Value) -> Response {
    Response { status, headers: vec![("content-type".into(), "application/json".into())], body: body.to_string().into_bytes() }
}

fn error(status: u16, message: &str) -> Response {
    answer(status, json!({ "error": message }))
}

/// A query parameter, decoded and trimmed; empty counts as absent.
fn param(query: &str, name: &str) -> Option<String> {
    switchboard_sdk::query::param(query, name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

/// The bytes a link's signature covers: a version tag, the agent's e-mail
/// (trimmed, lower case), the number to dial and the Aircall number id as they
/// appear in the link (empty when absent), and the expiry, one per line.
pub fn message(agent: &str, to: &str, number: Option<&str>, expires: i64) -> String {
    format!("switchboard-dial-v1\n{}\n{}\n{}\n{expires}", agent.trim().to_lowercase(), to.trim(), number.map(str::trim).unwrap_or(""))
}

/// The signature of a link (lower-case hex).
pub fn sign(key: &str, agent: &str, to: &str, number: Option<&str>, expires: i64) -> String {
    hmac::sha256_hex(key.as_bytes(), &[message(agent, to, number, expires).as_bytes()])
}

/// A signed dial link under `base` (`https://host/integrations/{id}`).
pub fn link(base: &str, key: &str, agent: &str, to: &str, number: Option<&str>, expires: i64) -> String {
    let mut url = format!("{}/dial?to={}&agent={}", base.trim_end_matches('/'), query::encode(to.trim()), query::encode(agent.trim()));
    if let Some(n) = number.map(str::trim).filter(|n| !n.is_empty()) {
        url.push_str(&format!("&number={}", query::encode(n)));
    }
    url.push_str(&format!("&expires={expires}&sig={}", sign(key, agent, to, number, expires)));
    url
}

/// Why a dial request was refused before anything was dialled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No `dial_key` is configured: click-to-dial is off.
    NoKey,
    /// The configured key is too short to be a secret.
    WeakKey,
    /// The link has no `sig` or no `expires`.
    Unsigned,
    /// `expires` is not a number.
    BadExpiry,
    /// The link expired at this time (UNIX seconds).
    Expired(i64),
    /// The signature does not match (the link was altered or signed with another key).
    Mismatch,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::NoKey => f.write_str("click-to-dial is off: set the integration's `dial_key` setting (a random string of at least 16 characters) and use links signed with it"),
            Refusal::WeakKey => write!(f, "click-to-dial is off: the `dial_key` setting is shorter than {MIN_KEY_LEN} characters"),
            Refusal::Unsigned => f.write_str("unsigned dial link: `expires` and `sig` are required (get a link from POST /dial-links)"),
            Refusal::BadExpiry => f.write_str("`expires` must be UNIX seconds"),
            Refusal::Expired(at) => write!(f, "this dial link expired at {at} (UNIX seconds); get a new one"),
            Refusal::Mismatch => f.write_str("the dial link's signature does not match (altered link or another key)"),
        }
    }
}

/// The configured signing key (the `dial_key` setting), or why click-to-dial is off.
pub fn usable_key(configured: Option<&str>) -> Result<&str, Refusal> {
    match configured {
        None => Err(Refusal::NoKey),
        Some(k) if k.chars().count() < MIN_KEY_LEN => Err(Refusal::WeakKey),
        Some(k) => Ok(k),
    }
}

/// Checks a dial request's signature and expiry at `now` (UNIX seconds).
/// `to`, `agent` and `number` are the link's parameters as received.
pub fn verify(key: &str, query: &str, to: &str, agent: &str, number: Option<&str>, now: i64) -> Result<(), Refusal> {
    let (Some(expires), Some(sig)) = (param(query, "expires"), param(query, "sig")) else {
        return Err(Refusal::Unsigned);
    };
    let expires: i64 = expires.parse().map_err(|_| Refusal::BadExpiry)?;
    // The signature first: an altered expiry is a mismatch, not "expired".
    if !hmac::verify_hex(key.as_bytes(), &[message(agent, to, number, expires).as_bytes()], &sig) {
        return Err(Refusal::Mismatch);
    }
    if now > expires {
        return Err(Refusal::Expired(expires));
    }
    Ok(())
}

fn refuse(why: &Refusal) -> Response {
    log::with(log::Level::Warn, "click-to-dial refused", &[("why", &why.to_string())]);
    error(403, &why.to_string())
}

/// The body of `POST /dial-links`.
#[derive(Debug, Deserialize)]
struct LinkRequest {
    agent: String,
    to: String,
    #[serde(default)]
    number: Option<u64>,
    #[serde(default)]
    ttl_seconds: Option<i64>,
}

/// Answer `POST /dial-links`: a signed link for the caller that proves it
/// holds the key (`Authorization: Bearer {dial_key}`, compared in constant
/// time).
pub fn mint(ctx: &Context, req: &Request) -> Response {
    let settings = match Settings::from(ctx) {
        Ok(s) => s,
        Err(why) => return error(500, &why),
    };
    let key = match usable_key(settings.dial_key.as_deref()) {
        Ok(k) => k,
        Err(why) => return refuse(&why),
    };
    let bearer = req
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        .and_then(|(_, v)| v.trim().strip_prefix("Bearer "))
        .map(str::trim);
    if !bearer.is_some_and(|b| hmac::constant_time_eq(b.as_bytes(), key.as_bytes())) {
        return error(401, "minting dial links needs `Authorization: Bearer <dial_key>`");
    }
    let body: LinkRequest = match serde_json::from_slice(&req.body) {
        Ok(b) => b,
        Err(e) => {
            return error(400, &format!("body must be {{\"agent\", \"to\", \"number\"?, \"ttl_seconds\"?}}: {e}"));
        }
    };
    if body.agent.trim().is_empty() || body.to.trim().is_empty() {
        return error(400, "`agent` and `to` must not be empty");
    }
    let ttl = body.ttl_seconds.unwrap_or(DEFAULT_TTL_SECONDS);
    if !(1..=MAX_TTL_SECONDS).contains(&ttl) {
        return error(400, &format!("`ttl_seconds` must be between 1 and {MAX_TTL_SECONDS}"));
    }
    let expires = switchboard_sdk::now_ms() / 1000 + ttl;
    let number = body.number.map(|n| n.to_string());
    let base = integration_base(req);
    let url = link(&base, key, &body.agent, &body.to, number.as_deref(), expires);
    answer(200, json!({ "url": url, "expires": expires }))
}

/// `https://host/integrations/{id}` from the request's public URL and path.
fn integration_base(req: &Request) -> String {
    let without_query = req.url.split('?').next().unwrap_or_default();
    without_query.strip_suffix(req.path.as_str()).unwrap_or(without_query).trim_end_matches('/').to_string()
}

/// Answer `GET /dial`.
pub fn handle(ctx: &Context, req: &Request) -> Response {
    let settings = match Settings::from(ctx) {
        Ok(s) => s,
        Err(why) => return error(500, &why),
    };
    let key = match usable_key(settings.dial_key.as_deref()) {
        Ok(k) => k,
        Err(why) => return refuse(&why),
    };
    let Some(raw_to) = param(&req.query, "to") else {
        return error(400, "missing `to`");
    };
    let Some(agent) = param(&req.query, "agent") else {
        return error(400, "missing `agent` (the Aircall user's e-mail)");
    };
    let number_param = param(&req.query, "number");
    let now = switchboard_sdk::now_ms() / 1000;
    if let Err(why) = verify(key, &req.query, &raw_to, &agent, number_param.as_deref(), now) {
        return refuse(&why);
    }
    let raw = raw_to.trim_start_matches("tel:").trim_start_matches("callto:").trim_start_matches("//");
    let number_id = match number_param {
        Some(n) => match n.parse::<u64>() {
            Ok(id) => Some(id),
            Err(_) => return error(400, "`number` must be an Aircall number id"),
        },
        None => settings.dial_number(),
    };
    let Some(number_id) = number_id else {
        return error(409, "no Aircall number to call from: set `dial_number_id` or map a number id in `mailboxes`");
    };
    // The line's country is the region hint for a local number.
    let line = telephony::get_number(number_id).ok();
    let to = match phone::normalize(raw, ctx.region_for(line.as_ref())) {
        Ok(Normalized::Number(e164)) => e164,
        Ok(Normalized::Anonymous) => return error(422, "no number to call"),
        Err(e) => return error(422, &format!("not a phone number: {e}")),
    };
    let user = match telephony::find_user_by_email(&agent) {
        Ok(Some(u)) => u,
        Ok(None) => return error(404, "no Aircall user with that e-mail"),
        Err(e) => return error(502, &format!("Aircall: {e:?}")),
    };
    match telephony::start_outbound_call(user.id, number_id, &to) {
        Ok(()) => {
            log::with(
                log::Level::Info,
                "click-to-dial call started",
                &[("user", &user.id.to_string()), ("number", &number_id.to_string())],
            );
            answer(200, json!({ "status": "calling", "to": to, "user_id": user.id, "number_id": number_id }))
        }
        Err(CapabilityError::NotFound(m)) => error(404, &m),
        Err(CapabilityError::Invalid(m)) => error(422, &m),
        Err(e) => error(502, &format!("Aircall: {e:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_decode() {
        assert_eq!(param("to=%2B33%206%2012&agent=ada%40example.com", "to").as_deref(), Some("+33 6 12"));
        assert_eq!(param("to=&agent=x", "to"), None);
    }

    const KEY: &str = "0123456789abcdef-key";

    fn query_of(link: &str) -> &str {
        link.split_once('?').map(|(_, q)| q).unwrap_or_default()
    }

    #[test]
    fn a_signed_link_verifies_until_it_expires() {
        let l = link("https://h/integrations/hs", KEY, "Ada@Example.com", "+33 6 12 34 56 78", Some("2001"), 1_000);
        assert!(
            l.starts_with(
                "https://h/integrations/hs/dial?to=%2B33%206%2012%2034%2056%2078&agent=Ada%40Example.com&number=2001&expires=1000&sig="
            ),
            "{l}"
        );
        let q = query_of(&l);
        let p = |n: &str| param(q, n).unwrap_or_default();
        assert_eq!(verify(KEY, q, &p("to"), &p("agent"), Some("2001"), 999), Ok(()));
        assert_eq!(verify(KEY, q, &p("to"), &p("agent"), Some("2001"), 1_001), Err(Refusal::Expired(1_000)));
    }

    #[test]
    fn altered_unsigned_and_keyless_links_are_refused() {
        let l = link("https://h/i/hs", KEY, "ada@example.com", "+33612345678", None, 1_000);
        let q = query_of(&l);
        // Another number, agent, line or expiry: mismatch.
        assert_eq!(verify(KEY, q, "+33699999999", "ada@example.com", None, 0), Err(Refusal::Mismatch));
        assert_eq!(verify(KEY, q, "+33612345678", "eve@example.com", None, 0), Err(Refusal::Mismatch));
        assert_eq!(verify(KEY, q, "+33612345678", "ada@example.com", Some("2002"), 0), Err(Refusal::Mismatch));
        let later = q.replace("expires=1000", "expires=9999999999");
        assert_eq!(verify(KEY, &later, "+33612345678", "ada@example.com", None, 0), Err(Refusal::Mismatch));
        assert_eq!(verify("another-key-0123456", q, "+33612345678", "ada@example.com", None, 0), Err(Refusal::Mismatch));
        assert_eq!(
            verify(KEY, "to=%2B33612345678&agent=ada%40example.com", "+33612345678", "ada@example.com", None, 0),
            Err(Refusal::Unsigned)
        );
        assert_eq!(verify(KEY, "expires=soon&sig=00", "x", "y", None, 0), Err(Refusal::BadExpiry));
        assert_eq!(usable_key(None), Err(Refusal::NoKey));
        assert_eq!(usable_key(Some("short")), Err(Refusal::WeakKey));
        assert_eq!(usable_key(Some(KEY)), Ok(KEY));
    }
}
