//! The OAuth providers as data (used by [`crate::connections`], and by the
//! configuration and manifest checks to know the names): `providers.toml` (embedded) says how each
//! vendor is connected — URLs, client authentication, body format, scopes,
//! refresh, lifetimes. Correcting a vendor fact is an edit there, not here.

use serde::Deserialize;
use std::collections::BTreeMap;

/// How the client authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuth {
    /// `client_id` and `client_secret` in the request body.
    Body,
    /// HTTP Basic `client_id:client_secret`.
    Basic,
}

/// How the token request's body is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenBody {
    /// `application/x-www-form-urlencoded` (RFC 6749).
    Form,
    /// JSON (Aircall's example app).
    Json,
}

/// How a connection is first authorised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Grant {
    /// An admin consents in the browser; the callback brings a code.
    #[default]
    AuthorizationCode,
    /// The app's own credentials buy a token (Help Scout internal apps).
    ClientCredentials,
}

/// Replacement URLs for one region.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionUrls {
    /// Authorize URL in that region.
    pub authorize_url: String,
    /// Token URL in that region.
    pub token_url: String,
}

/// One vendor's OAuth facts.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provider {
    /// Authorize URL template (empty for client-credentials providers).
    pub authorize_url: String,
    /// Token URL template.
    pub token_url: String,
    /// Scopes asked for (space-separated in the request).
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Client authentication at the token endpoint.
    pub client_auth: ClientAuth,
    /// Token request body encoding.
    pub token_body: TokenBody,
    /// Whether refresh tokens exist.
    pub refresh: bool,
    /// Lifetime when the answer has no `expires_in`; absent = no expiry.
    #[serde(default)]
    pub default_lifetime_seconds: Option<u64>,
    /// Whether authorize takes `redirect_uri`.
    #[serde(default = "yes")]
    pub redirect_param: bool,
    /// Whether to send a PKCE S256 challenge.
    #[serde(default)]
    pub pkce: bool,
    /// How a connection is first authorised.
    #[serde(default)]
    pub grant: Grant,
    /// The `[oauth.NAME]` app this provider uses, when not its own name.
    #[serde(default)]
    pub app: Option<String>,
    /// Per-region URLs, chosen by `connection = { region = "…" }`.
    #[serde(default)]
    pub regions: BTreeMap<String, RegionUrls>,
}

fn yes() -> bool {
    true
}

/// The provider table.
#[derive(Debug, Clone)]
pub struct Providers(BTreeMap<String, Provider>);

/// The embedded table.
const BUILTIN: &str = include_str!("providers.toml");

impl Providers {
    /// The table shipped with the host.
    pub fn builtin() -> Providers {
        // The embedded file is checked by a test; a broken build would fail there.
        Providers(toml::from_str(BUILTIN).unwrap_or_else(|e| panic!("providers.toml: {e}")))
    }

    /// One provider.
    pub fn get(&self, name: &str) -> Option<&Provider> {
        self.0.get(name)
    }

    /// Every provider's name.
    pub fn names(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }
}

impl Provider {
    /// The values an integration's `connection` gives this provider before it
    /// can connect: each `{name}` of its URL templates (Gorgias: `subdomain`),
    /// and `region` when it has regions (Intercom: `eu`, `au`; none = the default).
    pub fn template_params(&self) -> Vec<String> {
        let mut names = Vec::new();
        for template in [&self.authorize_url, &self.token_url] {
            let mut rest = template.as_str();
            while let Some(open) = rest.find('{') {
                let Some(close) = rest[open..].find('}') else { break };
                let name = rest[open + 1..open + close].to_string();
                if !names.contains(&name) {
                    names.push(name);
                }
                rest = &rest[open + close..];
            }
        }
        if !self.regions.is_empty() {
            names.push("region".into());
        }
        names
    }

    /// The `[oauth.NAME]` app to use for provider `name`.
    pub fn app_name<'a>(&'a self, name: &'a str) -> &'a str {
        self.app.as_deref().unwrap_or(name)
    }

    /// Authorize and token URLs for a connection with these parameters:
    /// overrides first, then the region's URLs, then the templates, each
    /// `{name}` filled from `params`. A missing parameter is an error naming it.
    pub fn urls(
        &self,
        params: &BTreeMap<String, String>,
        authorize_override: Option<&str>,
        token_override: Option<&str>,
    ) -> Result<(String, String), String> {
        let (mut authorize, mut token) = (self.authorize_url.clone(), self.token_url.clone());
        if let Some(region) = params.get("region") {
            let urls = self.regions.get(region).ok_or_else(|| {
                format!("region {region:?} is not one of this provider's ({})", self.regions.keys().cloned().collect::<Vec<_>>().join(", "))
            })?;
            authorize.clone_from(&urls.authorize_url);
            token.clone_from(&urls.token_url);
        }
        if let Some(a) = authorize_override {
            authorize = a.to_string();
        }
        if let Some(t) = token_override {
            token = t.to_string();
        }
        Ok((fill(&authorize, params)?, fill(&token, params)?))
    }
}

/// Fill `{name}` placeholders; values must be URL-safe labels (a subdomain),
/// so a parameter cannot steer the request to another host.
fn fill(template: &str, params: &BTreeMap<String, String>) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}').ok_or_else(|| format!("unclosed '{{' in {template:?}"))? + start;
        let name = &rest[start + 1..end];
        let value =
            params.get(name).ok_or_else(|| format!("needs connection parameter {name:?}: add connection = {{ {name} = \"...\" }}"))?;
        if value.is_empty() || !value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(format!("connection parameter {name:?} must be letters, digits, '-' or '_' (got {value:?})"));
        }
        out.push_str(value);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod template_params_tests {
    #![allow(clippy::unwrap_used)]

    #[test]
    fn gorgias_asks_a_subdomain_intercom_a_region_help_scout_nothing() {
        let p = super::Providers::builtin();
        assert_eq!(p.get("gorgias").unwrap().template_params(), ["subdomain"]);
        assert_eq!(p.get("intercom").unwrap().template_params(), ["region"]);
        assert!(p.get("helpscout").unwrap().template_params().is_empty());
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn the_table_names_the_five_vendors_with_their_facts() {
        let p = Providers::builtin();
        for name in ["aircall", "intercom", "helpscout", "gorgias", "hubspot"] {
            assert!(p.get(name).is_some(), "{name}");
        }
        assert_eq!(p.get("gorgias").unwrap().client_auth, ClientAuth::Basic);
        assert_eq!(p.get("aircall").unwrap().token_body, TokenBody::Json);
        assert_eq!(p.get("hubspot").unwrap().default_lifetime_seconds, Some(1800));
        assert!(!p.get("intercom").unwrap().refresh);
        assert_eq!(p.get("helpscout-internal").unwrap().grant, Grant::ClientCredentials);
        assert_eq!(p.get("helpscout-internal").unwrap().app_name("helpscout-internal"), "helpscout");
    }

    #[test]
    fn templates_are_filled_from_the_connection_and_regions_replace_urls() {
        let p = Providers::builtin();
        let (a, t) = p.get("gorgias").unwrap().urls(&params(&[("subdomain", "acme")]), None, None).unwrap();
        assert_eq!(a, "https://acme.gorgias.com/oauth/authorize");
        assert_eq!(t, "https://acme.gorgias.com/oauth/token");
        let err = p.get("gorgias").unwrap().urls(&params(&[]), None, None).unwrap_err();
        assert!(err.contains("subdomain"), "{err}");
        let err = p.get("gorgias").unwrap().urls(&params(&[("subdomain", "evil.com/x")]), None, None).unwrap_err();
        assert!(err.contains("letters, digits"), "{err}");
        let (a, t) = p.get("intercom").unwrap().urls(&params(&[("region", "eu")]), None, None).unwrap();
        assert_eq!((a.as_str(), t.as_str()), ("https://app.eu.intercom.com/oauth", "https://api.eu.intercom.io/auth/eagle/token"));
        assert!(p.get("intercom").unwrap().urls(&params(&[("region", "mars")]), None, None).is_err());
        let (_, t) =
            p.get("gorgias").unwrap().urls(&params(&[("subdomain", "acme")]), None, Some("http://127.0.0.1:9/oauth/token")).unwrap();
        assert_eq!(t, "http://127.0.0.1:9/oauth/token");
    }
}
