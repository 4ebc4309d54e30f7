//! `GET|POST /_sandbox/oauth`: the authorization server's options, tokens and
//! token-request log, and a way to change the options over HTTP.
//!
//! `POST` takes any subset of [`super::OAuthOptions`] as JSON (`null` puts an
//! optional field back to "unset") plus two actions, `"revoke_all": true` and
//! `"expire_tokens": true`, and answers like `GET`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Map, Value, json};

use super::{OAuthOptions, OAuthServer};

/// The control route, bound to `server`.
pub fn router(server: OAuthServer) -> Router {
    Router::new().route("/_sandbox/oauth", get(show).post(change)).with_state(server)
}

async fn show(State(server): State<OAuthServer>) -> Json<Value> {
    Json(snapshot(&server))
}

fn snapshot(server: &OAuthServer) -> Value {
    json!({
        "vendor": server.vendor(),
        "options": server.options(),
        "tokens": server.tokens(),
        "token_requests": server.token_requests(),
    })
}

async fn change(State(server): State<OAuthServer>, Json(mut body): Json<Map<String, Value>>) -> Response {
    let revoke = body.remove("revoke_all").and_then(|v| v.as_bool()).unwrap_or(false);
    let expire = body.remove("expire_tokens").and_then(|v| v.as_bool()).unwrap_or(false);
    match merged(&server.options(), body) {
        Ok(options) => server.set_options(options),
        Err(message) => return (StatusCode::BAD_REQUEST, Json(json!({ "error": message }))).into_response(),
    }
    if revoke {
        server.revoke_all();
    }
    if expire {
        server.expire_access_tokens();
    }
    Json(snapshot(&server)).into_response()
}

/// `current` with the posted fields laid over it.
fn merged(current: &OAuthOptions, patch: Map<String, Value>) -> Result<OAuthOptions, String> {
    let mut value = serde_json::to_value(current).map_err(|e| e.to_string())?;
    let Some(fields) = value.as_object_mut() else {
        return Err("options are not an object".into());
    };
    for (k, v) in patch {
        if !fields.contains_key(&k) {
            let known: Vec<&String> = fields.keys().collect();
            return Err(format!("unknown option `{k}` (known: {known:?}, revoke_all, expire_tokens)"));
        }
        fields.insert(k, v);
    }
    serde_json::from_value(value).map_err(|e| e.to_string())
}
