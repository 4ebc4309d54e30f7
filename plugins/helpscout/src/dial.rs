//! Click-to-dial (seed: "Click-to-Dial"): `GET /integrations/{id}/dial?to=…&agent=…`
//! is the link target a Help Scout `tel:` / `callto:` link (or a sidebar app)
//! points at. It starts an Aircall outbound call for the agent with that
//! e-mail: Aircall rings the agent's app, which then dials `to`.
//!
//! Query: `to` (any format; `tel:` / `callto:` prefixes are fine), `agent`
//! (Aircall user e-mail), optional `number` (Aircall number id; else the
//! `dial_number_id` setting or the first mapped number), and `key` when the
//! `dial_key` setting is set.

use crate::settings::Settings;
use serde_json::json;
use switchboard_sdk::phone::{self, Normalized};
use switchboard_sdk::{CapabilityError, Context, Request, Response, log, telephony};

fn answer(status: u16, body: serde_json::Value) -> Response {
    Response {
        status,
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.to_string().into_bytes(),
    }
}

fn error(status: u16, message: &str) -> Response {
    answer(status, json!({ "error": message }))
}

/// A query parameter, decoded and trimmed; empty counts as absent.
fn param(query: &str, name: &str) -> Option<String> {
    switchboard_sdk::query::param(query, name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

/// Constant-time comparison of the shared key.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Answer `GET /dial`.
pub fn handle(ctx: &Context, req: &Request) -> Response {
    let settings = Settings::from(ctx);
    if let Some(key) = &settings.dial_key
        && !param(&req.query, "key").is_some_and(|k| same(&k, key))
    {
        return error(403, "missing or wrong key");
    }
    let Some(raw_to) = param(&req.query, "to") else {
        return error(400, "missing `to`");
    };
    let Some(agent) = param(&req.query, "agent") else {
        return error(400, "missing `agent` (the Aircall user's e-mail)");
    };
    let raw = raw_to
        .trim_start_matches("tel:")
        .trim_start_matches("callto:")
        .trim_start_matches("//");
    let number_id = match param(&req.query, "number") {
        Some(n) => match n.parse::<u64>() {
            Ok(id) => Some(id),
            Err(_) => return error(400, "`number` must be an Aircall number id"),
        },
        None => settings.dial_number(),
    };
    let Some(number_id) = number_id else {
        return error(
            409,
            "no Aircall number to call from: set `dial_number_id` or map a number id in `mailboxes`",
        );
    };
    // The line's country is the region hint for a local number.
    let region = telephony::get_number(number_id)
        .ok()
        .and_then(|n| n.country)
        .or_else(|| ctx.default_region().map(str::to_string));
    let to = match phone::normalize(raw, region.as_deref()) {
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
                &[
                    ("user", &user.id.to_string()),
                    ("number", &number_id.to_string()),
                ],
            );
            answer(
                200,
                json!({ "status": "calling", "to": to, "user_id": user.id, "number_id": number_id }),
            )
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
        assert_eq!(
            param("to=%2B33%206%2012&agent=ada%40example.com", "to").as_deref(),
            Some("+33 6 12")
        );
        assert_eq!(param("to=&agent=x", "to"), None);
        assert!(same("abc", "abc") && !same("abc", "abd") && !same("ab", "abc"));
    }
}
