//! The token endpoint: exchanging a code, refreshing, client credentials, as
//! each provider wants it (body or Basic client authentication, form or JSON
//! body). Answers are hostile input: an access token must be a non-empty
//! string of sane length, `expires_in` a number; anything else is an error
//! naming the field. Written here rather than with the `oauth2` crate because
//! Aircall's token endpoint takes JSON, which that crate does not send.

use crate::providers::{ClientAuth, Provider, TokenBody};
use base64::Engine;
use serde_json::Value;
use std::time::Duration;

/// Longest token accepted (HubSpot's reach 300 characters).
const MAX_TOKEN_LEN: usize = 4096;

/// What a grant asks for.
pub enum Grant<'a> {
    /// Exchange an authorization code.
    Code {
        /// The code from the callback.
        code: &'a str,
        /// The redirect URI used at authorize.
        redirect_uri: &'a str,
        /// PKCE verifier, when a challenge was sent.
        verifier: Option<&'a str>,
    },
    /// Use a refresh token.
    Refresh(&'a str),
    /// The app's own credentials.
    ClientCredentials,
}

/// Tokens the vendor gave.
#[derive(Debug)]
pub struct Tokens {
    /// The access token in clear, sealed before it is stored.
    pub access: String,
    /// Refresh token, when given.
    pub refresh: Option<String>,
    /// Lifetime in seconds, when given.
    pub expires_in: Option<u64>,
}

/// Why the token endpoint did not give tokens.
#[derive(Debug)]
pub enum TokenError {
    /// The vendor refused the grant (`invalid_grant`, `invalid_client`, …):
    /// trying again will not help; an admin must connect again.
    Refused {
        /// RFC 6749 `error`.
        error: String,
        /// The vendor's words.
        description: String,
    },
    /// Network trouble, a 5xx, a 429 or an unreadable answer: try later.
    Unavailable(String),
}

impl std::fmt::Display for TokenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenError::Refused { error, description } if description.is_empty() => write!(f, "the vendor refused: {error}"),
            TokenError::Refused { error, description } => write!(f, "the vendor refused: {error}: {description}"),
            TokenError::Unavailable(m) => write!(f, "token endpoint unavailable: {m}"),
        }
    }
}

/// Asks `token_url` for tokens.
pub async fn request(
    http: &reqwest::Client,
    provider: &Provider,
    token_url: &str,
    client_id: &str,
    client_secret: &str,
    grant: Grant<'_>,
) -> Result<Tokens, TokenError> {
    let mut fields: Vec<(&str, String)> = match grant {
        Grant::Code { code, redirect_uri, verifier } => {
            let mut f = vec![("grant_type", "authorization_code".to_string()), ("code", code.to_string())];
            if provider.redirect_param {
                f.push(("redirect_uri", redirect_uri.to_string()));
            }
            if let Some(v) = verifier {
                f.push(("code_verifier", v.to_string()));
            }
            f
        }
        Grant::Refresh(token) => vec![("grant_type", "refresh_token".to_string()), ("refresh_token", token.to_string())],
        Grant::ClientCredentials => vec![("grant_type", "client_credentials".to_string())],
    };
    let mut req = http.post(token_url).timeout(Duration::from_secs(20)).header("accept", "application/json");
    match provider.client_auth {
        ClientAuth::Body => {
            fields.push(("client_id", client_id.to_string()));
            fields.push(("client_secret", client_secret.to_string()));
        }
        ClientAuth::Basic => {
            let basic = base64::engine::general_purpose::STANDARD.encode(format!("{client_id}:{client_secret}"));
            req = req.header("authorization", format!("Basic {basic}"));
        }
    }
    req = match provider.token_body {
        TokenBody::Form => req
            .header("content-type", "application/x-www-form-urlencoded")
            .body(url::form_urlencoded::Serializer::new(String::new()).extend_pairs(fields.iter().map(|(k, v)| (*k, v.as_str()))).finish()),
        TokenBody::Json => {
            req.json(&fields.iter().map(|(k, v)| (k.to_string(), Value::String(v.clone()))).collect::<serde_json::Map<_, _>>())
        }
    };
    let resp = req.send().await.map_err(|e| TokenError::Unavailable(e.without_url().to_string()))?;
    let status = resp.status().as_u16();
    let text = resp.text().await.map_err(|e| TokenError::Unavailable(e.without_url().to_string()))?;
    let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    if !(200..300).contains(&status) {
        return Err(refusal(status, &body));
    }
    parse_tokens(&body).map_err(TokenError::Unavailable)
}

/// A non-2xx answer: a 400/401 with an RFC 6749 error is a refusal; the rest
/// (5xx, 429, no error code) is unavailability.
fn refusal(status: u16, body: &Value) -> TokenError {
    let text = |k: &str| body.get(k).and_then(Value::as_str).map(|s| s.chars().take(300).collect::<String>());
    match (status, text("error")) {
        (400 | 401 | 403, Some(error)) => {
            TokenError::Refused { error, description: text("error_description").or_else(|| text("message")).unwrap_or_default() }
        }
        (400 | 401 | 403, None) => TokenError::Refused {
            error: format!("http_{status}"),
            description: text("message").unwrap_or_else(|| "no error code in the answer".into()),
        },
        _ => TokenError::Unavailable(format!("HTTP {status}")),
    }
}

/// Reads a token answer; errors name the field at fault, never a token.
pub fn parse_tokens(body: &Value) -> Result<Tokens, String> {
    let token = |key: &str| -> Result<Option<String>, String> {
        match body.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if !s.is_empty() && s.len() <= MAX_TOKEN_LEN && !s.chars().any(char::is_control) => Ok(Some(s.clone())),
            Some(Value::String(_)) => Err(format!("token answer: {key} is empty, too long or has control characters")),
            Some(_) => Err(format!("token answer: {key} is not a string")),
        }
    };
    let access = token("access_token")?.ok_or("token answer: access_token missing")?;
    let refresh = token("refresh_token")?;
    let expires_in = match body.get("expires_in") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => Some(n.as_u64().ok_or("token answer: expires_in is not a whole number of seconds")?),
        Some(Value::String(s)) => Some(s.parse::<u64>().map_err(|_| "token answer: expires_in is not a number")?),
        Some(_) => return Err("token answer: expires_in is not a number".into()),
    };
    Ok(Tokens { access, refresh, expires_in })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn token_answers_are_checked_field_by_field() {
        let t = parse_tokens(&json!({"access_token": "a", "refresh_token": "r", "expires_in": 1800})).unwrap();
        assert_eq!((t.access.as_str(), t.refresh.as_deref(), t.expires_in), ("a", Some("r"), Some(1800)));
        assert_eq!(parse_tokens(&json!({"access_token": "a", "expires_in": "60"})).unwrap().expires_in, Some(60));
        for (bad, says) in [
            (json!({}), "access_token missing"),
            (json!({"access_token": ""}), "access_token is empty"),
            (json!({"access_token": 5}), "access_token is not a string"),
            (json!({"access_token": "a", "expires_in": -1}), "expires_in"),
            (json!({"access_token": "a\nb"}), "control"),
        ] {
            let err = parse_tokens(&bad).unwrap_err();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }

    #[test]
    fn refusals_and_outages_are_told_apart() {
        assert!(matches!(
            refusal(400, &json!({"error": "invalid_grant", "error_description": "refresh token revoked"})),
            TokenError::Refused { error, description } if error == "invalid_grant" && description == "refresh token revoked"
        ));
        assert!(matches!(refusal(503, &json!({"error": "x"})), TokenError::Unavailable(_)));
        assert!(matches!(refusal(429, &Value::Null), TokenError::Unavailable(_)));
        assert!(matches!(refusal(401, &json!({"message": "bad client"})), TokenError::Refused { .. }));
    }
}
