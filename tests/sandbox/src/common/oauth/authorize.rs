//! The authorize page, played by an admin who consents at once (RFC 6749 §4.1.1-2).
//!
//! A bad `client_id` or redirect URI is answered 400 on the spot (the server
//! must not redirect to an unverified URI, §4.1.2.1); every other problem, and
//! a refusal (`deny` option), goes back to the redirect URI as `error=…`.

use std::time::Duration;

use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::store::{Challenge, fresh};
use super::{OAuthError, OAuthOptions, OAuthServer, Redirect, ScopeRule, Vendor};
use crate::common::util::{lock, query_pairs, url_encode};

/// `GET <authorize_path>?client_id&redirect_uri&response_type&scope&state&code_challenge&code_challenge_method`.
pub async fn authorize(State(server): State<OAuthServer>, RawQuery(q): RawQuery) -> Response {
    let pairs = query_pairs(q.as_deref());
    let param = |n: &str| pairs.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone()).filter(|v| !v.is_empty());
    let vendor = server.vendor;
    let options = server.options();

    if param("client_id").as_deref() != Some(options.client_id.as_str()) {
        let shown = param("client_id").unwrap_or_default();
        return OAuthError::new("invalid_request", format!("Unknown client_id `{shown}`")).response(vendor);
    }
    let redirect_uri = match redirect_target(vendor, &options, param("redirect_uri")) {
        Ok(uri) => uri,
        Err(e) => return e.response(vendor),
    };
    let state = param("state");
    let back = |fields: Vec<(&str, String)>| redirect(&redirect_uri, fields, state.as_deref());

    let scope = param("scope").unwrap_or_default();
    let challenge = match check_request(vendor, param("response_type"), &scope, param("code_challenge"), param("code_challenge_method")) {
        Ok(c) => c,
        Err(e) => return back(vec![("error", e.error), ("error_description", e.description)]),
    };
    if options.deny {
        return back(vec![("error", "access_denied".into()), ("error_description", "The admin refused (sandbox option deny)".into())]);
    }
    let code = fresh(vendor.name, "code");
    let lifetime = Duration::from_secs(vendor.code_lifetime_secs);
    lock(&server.store).add_code(code.clone(), options.client_id, redirect_uri.clone(), scope, challenge, lifetime);
    back(vec![("code", code)])
}

/// The redirect URI a code goes to, or why there is none to trust.
fn redirect_target(vendor: &Vendor, options: &OAuthOptions, given: Option<String>) -> Result<String, OAuthError> {
    let registered = options.registered_redirect.clone();
    let uri = match vendor.redirect {
        Redirect::Required => given.ok_or_else(|| OAuthError::new("invalid_request", "redirect_uri is required"))?,
        Redirect::Optional => given.or(registered.clone()).ok_or_else(|| {
            OAuthError::new("invalid_request", "no redirect_uri given and none registered (sandbox option registered_redirect)")
        })?,
        Redirect::Registered => registered.clone().ok_or_else(|| {
            OAuthError::new(
                "invalid_request",
                format!(
                    "{} takes no redirect_uri: the app's registered redirect is used, and none is set \
                     (POST /_sandbox/oauth {{\"registered_redirect\": \"http://…\"}})",
                    vendor.name
                ),
            )
        })?,
    };
    if !(uri.starts_with("http://") || uri.starts_with("https://")) || uri.contains('#') {
        return Err(OAuthError::new("invalid_request", format!("redirect_uri `{uri}` is not an http(s) URI without fragment")));
    }
    if vendor.redirect != Redirect::Registered && registered.as_ref().is_some_and(|r| *r != uri) {
        return Err(OAuthError::new("invalid_request", format!("redirect_uri `{uri}` is not the one registered for the app")));
    }
    Ok(uri)
}

/// Checks `response_type`, the scope and the PKCE parameters; returns the challenge to keep.
fn check_request(
    vendor: &Vendor,
    response_type: Option<String>,
    scope: &str,
    challenge: Option<String>,
    method: Option<String>,
) -> Result<Option<Challenge>, OAuthError> {
    match response_type.as_deref() {
        Some("code") => {}
        None if !vendor.response_type_required => {}
        None => return Err(OAuthError::new("invalid_request", "response_type is required")),
        Some(other) => return Err(OAuthError::new("unsupported_response_type", format!("response_type `{other}` is not supported"))),
    }
    let scopes: Vec<&str> = scope.split(' ').filter(|s| !s.is_empty()).collect();
    match vendor.scope {
        ScopeRule::Any => {}
        ScopeRule::NonEmpty if scopes.is_empty() => return Err(OAuthError::new("invalid_scope", "scope is required")),
        ScopeRule::NonEmpty => {}
        ScopeRule::Contains(s) if !scopes.contains(&s) => {
            return Err(OAuthError::new("invalid_scope", format!("scope must include `{s}`")));
        }
        ScopeRule::Contains(_) => {}
    }
    let Some(value) = challenge else {
        return Ok(None);
    };
    // RFC 7636 §4.3: the method defaults to `plain`.
    let method = method.unwrap_or_else(|| "plain".into());
    if method != "S256" && method != "plain" {
        return Err(OAuthError::new("invalid_request", format!("code_challenge_method `{method}` is not supported")));
    }
    Ok(Some(Challenge { value, method }))
}

/// 302 to `uri` with `fields` and the echoed `state` added to its query.
fn redirect(uri: &str, fields: Vec<(&str, String)>, state: Option<&str>) -> Response {
    let mut query: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={}", url_encode(v))).collect();
    if let Some(s) = state {
        query.push(format!("state={}", url_encode(s)));
    }
    let sep = if uri.contains('?') { '&' } else { '?' };
    (StatusCode::FOUND, [(header::LOCATION, format!("{uri}{sep}{}", query.join("&")))]).into_response()
}
