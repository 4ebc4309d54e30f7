//! The token endpoint (RFC 6749 §4.1.3, §4.4, §6; PKCE RFC 7636 §4.6): the
//! `authorization_code`, `refresh_token` and (where the vendor has it)
//! `client_credentials` grants. Parameters are read from a JSON or form body,
//! then the query string; every request is added to the token-request log.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::store::{Code, CodeProblem, Store, fresh};
use super::{ClientAuth, OAuthError, OAuthOptions, OAuthServer, Redirect, RefreshRule};
use crate::common::auth::{Presented, presented};
use crate::common::util::{lock, query_pairs};

/// The request parameters, body first, then query.
struct Params(Vec<(String, String)>);

impl Params {
    fn parse(headers: &HeaderMap, query: Option<&str>, body: &[u8]) -> Self {
        let json = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|ct| ct.contains("json"));
        let mut pairs: Vec<(String, String)> = match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(m)) if json || body.first() == Some(&b'{') => m
                .into_iter()
                .map(|(k, v)| {
                    let v = match v {
                        Value::String(s) => s,
                        Value::Null => String::new(),
                        other => other.to_string(),
                    };
                    (k, v)
                })
                .collect(),
            _ => query_pairs(std::str::from_utf8(body).ok()),
        };
        pairs.extend(query_pairs(query));
        Self(pairs)
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, v)| k == name && !v.is_empty()).map(|(_, v)| v.as_str())
    }
}

/// `POST <token_path>`.
pub async fn token(State(server): State<OAuthServer>, headers: HeaderMap, RawQuery(q): RawQuery, body: Bytes) -> Response {
    let params = Params::parse(&headers, q.as_deref(), &body);
    let grant_type = params.get("grant_type").unwrap_or("").to_owned();
    let mut store = lock(&server.store);
    let outcome = exchange(&server, &mut store, &headers, &params, &grant_type);
    store.log(&grant_type, outcome.as_ref().err().map(|e| e.error.as_str()));
    drop(store);
    match outcome {
        Ok(body) => {
            let mut r = Json(Value::Object(body)).into_response();
            r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r.headers_mut().insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
            r
        }
        Err(e) => e.response(server.vendor),
    }
}

/// Checks the grant and issues tokens; the answer's JSON object or the refusal.
fn exchange(
    server: &OAuthServer,
    store: &mut Store,
    headers: &HeaderMap,
    p: &Params,
    grant: &str,
) -> Result<Map<String, Value>, OAuthError> {
    let vendor = server.vendor;
    let supported = match grant {
        "" => return Err(OAuthError::new("invalid_request", "grant_type is required")),
        "authorization_code" => true,
        "refresh_token" => vendor.refresh != RefreshRule::Never,
        "client_credentials" => vendor.client_credentials,
        _ => false,
    };
    if !supported {
        return Err(OAuthError::new("unsupported_grant_type", format!("{} does not support grant_type `{grant}`", vendor.name)));
    }
    let options = store.options.clone();
    authenticate(vendor.client_auth, &options, headers, p)?;
    let (scope, refresh) = match grant {
        "authorization_code" => {
            let code = p.get("code").ok_or_else(|| OAuthError::new("invalid_request", "code is required"))?;
            let granted = check_code(server, store, &options, code, p)?;
            store.spend_code(code);
            let refresh = match vendor.refresh {
                RefreshRule::Never => None,
                RefreshRule::Always => Some(fresh(vendor.name, "rt")),
                RefreshRule::WithScope(s) => granted.scope.split(' ').any(|x| x == s).then(|| fresh(vendor.name, "rt")),
            };
            if let Some(rt) = &refresh {
                store.add_refresh(rt.clone(), grant, &granted.scope);
            }
            (granted.scope, refresh)
        }
        "refresh_token" => {
            if let Some(error) = &options.refuse_refresh {
                return Err(OAuthError::new(error, "Refresh refused (sandbox option refuse_refresh)").legacy("BAD_REFRESH_TOKEN"));
            }
            let old = p.get("refresh_token").ok_or_else(|| OAuthError::new("invalid_request", "refresh_token is required"))?;
            let scope = store
                .refresh_scope(old)
                .ok_or_else(|| OAuthError::new("invalid_grant", "unknown or revoked refresh token").legacy("BAD_REFRESH_TOKEN"))?;
            let refresh = if options.rotate_refresh {
                store.retire_refresh(old);
                let rt = fresh(vendor.name, "rt");
                store.add_refresh(rt.clone(), grant, &scope);
                rt
            } else {
                old.to_owned()
            };
            (scope, Some(refresh))
        }
        _ => (String::new(), None),
    };
    let access = fresh(vendor.name, "at");
    let lifetime = server.lifetime(&options);
    store.add_access(access.clone(), grant, &scope, lifetime);

    let mut body = Map::new();
    body.insert("token_type".into(), json!(vendor.token_type));
    body.insert("access_token".into(), json!(access));
    if vendor.token_alias {
        body.insert("token".into(), json!(access));
    }
    if let Some(secs) = lifetime {
        body.insert("expires_in".into(), json!(secs));
    }
    if let Some(rt) = refresh {
        body.insert("refresh_token".into(), json!(rt));
    }
    if !scope.is_empty() {
        body.insert("scope".into(), json!(scope));
    }
    Ok(body)
}

/// Client authentication the way the vendor expects it.
fn authenticate(how: ClientAuth, options: &OAuthOptions, headers: &HeaderMap, p: &Params) -> Result<(), OAuthError> {
    let (id, secret) = match how {
        ClientAuth::Body => (p.get("client_id").unwrap_or("").to_owned(), p.get("client_secret").unwrap_or("").to_owned()),
        ClientAuth::Basic => match presented(headers) {
            Presented::Basic(id, secret) => (id, secret),
            _ => return Err(OAuthError::new("invalid_client", "client authentication by HTTP Basic is required")),
        },
    };
    if id == options.client_id && secret == options.client_secret {
        Ok(())
    } else {
        Err(OAuthError::new("invalid_client", "Bad client credentials"))
    }
}

/// The code, if this request may exchange it: same client, same redirect URI, PKCE verifier matching.
fn check_code(server: &OAuthServer, store: &Store, options: &OAuthOptions, code: &str, p: &Params) -> Result<Code, OAuthError> {
    let c = store.code(code).map_err(|problem| {
        let why = match problem {
            CodeProblem::Unknown => "unknown or revoked authorization code",
            CodeProblem::Used => "authorization code already used",
            CodeProblem::Expired => "authorization code expired",
        };
        OAuthError::new("invalid_grant", why)
    })?;
    if c.client_id != options.client_id {
        return Err(OAuthError::new("invalid_grant", "authorization code was issued to another client"));
    }
    match (server.vendor.redirect, p.get("redirect_uri")) {
        (Redirect::Required, None) => {
            return Err(OAuthError::new("invalid_request", "redirect_uri is required").legacy("BAD_REDIRECT_URI"));
        }
        (_, Some(r)) if r != c.redirect_uri => {
            return Err(
                OAuthError::new("invalid_grant", "redirect_uri differs from the one the code was issued for").legacy("BAD_REDIRECT_URI")
            );
        }
        _ => {}
    }
    if let Some(challenge) = &c.challenge {
        let verifier = p.get("code_verifier").ok_or_else(|| OAuthError::new("invalid_grant", "code_verifier is required (PKCE)"))?;
        let derived = match challenge.method.as_str() {
            "S256" => base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())),
            _ => verifier.to_owned(),
        };
        if derived != challenge.value {
            return Err(OAuthError::new("invalid_grant", "code_verifier does not match the code_challenge"));
        }
    }
    Ok(c)
}
