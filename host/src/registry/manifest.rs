//! `plugin.toml`: what a plugin is, what it may reach, what it needs configured.
//!
//! ```toml
//! name = "example"
//! version = "0.1.0"
//! contract = "0.1.0"
//! component = "plugin.wasm"
//!
//! [http]
//! allowed_hosts = ["api.example.com", "*.example.org"]
//! rate_limits = { "api.example.com" = { requests = 10, per_seconds = 1 } }
//!
//! [secrets.api]
//! scheme = "bearer"            # or "basic" (value "user:password") or "header:X-Api-Key"
//!
//! [settings.create_contacts]
//! type = "boolean"
//! default = true
//! ```

use serde::Deserialize;
use std::collections::BTreeMap;

/// Contract versions this host loads.
pub use crate::runtime::bindings::SUPPORTED_CONTRACTS;

/// A parsed, validated manifest.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Plugin name; integrations refer to it.
    pub name: String,
    /// The plugin's own version.
    pub version: String,
    /// The `switchboard:plugin` contract version it was built against.
    pub contract: String,
    /// The component file in the plugin's folder.
    #[serde(default = "default_component")]
    pub component: String,
    /// One line for `plugins list`.
    #[serde(default)]
    pub description: String,
    /// Outbound HTTP policy.
    #[serde(default)]
    pub http: HttpSection,
    /// Secrets an integration must provide, by name.
    #[serde(default)]
    pub secrets: BTreeMap<String, SecretDecl>,
    /// Settings with types and defaults.
    #[serde(default)]
    pub settings: BTreeMap<String, SettingDecl>,
}

fn default_component() -> String {
    "plugin.wasm".into()
}

/// `[http]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSection {
    /// Host names (exact, or `*.suffix`) the plugin may call.
    #[serde(default)]
    pub allowed_hosts: Vec<String>,
    /// Default budgets per host pattern.
    #[serde(default)]
    pub rate_limits: BTreeMap<String, RateLimitDecl>,
}

/// A budget: `requests` per `per_seconds`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitDecl {
    /// Requests per window.
    pub requests: u32,
    /// Window length in seconds.
    pub per_seconds: f64,
}

/// How the host attaches a secret to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthScheme {
    /// `Authorization: Bearer <secret>`.
    Bearer,
    /// `Authorization: Basic base64(<secret>)`, the secret being `user:password`.
    Basic,
    /// `<name>: <secret>`.
    Header(String),
}

impl<'de> Deserialize<'de> for AuthScheme {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        match s.as_str() {
            "bearer" => Ok(AuthScheme::Bearer),
            "basic" => Ok(AuthScheme::Basic),
            other => match other.strip_prefix("header:") {
                Some(name) if !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') => {
                    Ok(AuthScheme::Header(name.to_string()))
                }
                _ => Err(serde::de::Error::custom(format!(
                    "unknown auth scheme {other:?}: use \"bearer\", \"basic\" or \"header:Name\""
                ))),
            },
        }
    }
}

/// `[secrets.NAME]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretDecl {
    /// How it is attached.
    #[serde(default = "bearer")]
    pub scheme: AuthScheme,
    /// What it is.
    #[serde(default)]
    pub description: String,
    /// Whether an integration must provide it.
    #[serde(default = "yes")]
    pub required: bool,
}

fn bearer() -> AuthScheme {
    AuthScheme::Bearer
}
fn yes() -> bool {
    true
}

/// A setting's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SettingType {
    /// Text.
    String,
    /// Whole number.
    Integer,
    /// true / false.
    Boolean,
    /// Any TOML value (list, table), handed to the plugin as JSON.
    Json,
}

/// `[settings.NAME]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingDecl {
    /// Type.
    #[serde(rename = "type")]
    pub kind: SettingType,
    /// Default when the integration does not set it.
    #[serde(default)]
    pub default: Option<toml::Value>,
    /// What it does.
    #[serde(default)]
    pub description: String,
    /// Whether an integration must set it (when there is no default).
    #[serde(default)]
    pub required: bool,
}

/// Whether `value` fits `kind`.
pub fn type_matches(kind: SettingType, value: &toml::Value) -> bool {
    matches!(
        (kind, value),
        (SettingType::String, toml::Value::String(_))
            | (SettingType::Integer, toml::Value::Integer(_))
            | (SettingType::Boolean, toml::Value::Boolean(_))
            | (SettingType::Json, _)
    )
}

impl Manifest {
    /// Parse and validate manifest text.
    pub fn parse(text: &str) -> Result<Manifest, String> {
        let m: Manifest = toml::from_str(text).map_err(|e| format!("plugin.toml: {e}"))?;
        m.validate()?;
        Ok(m)
    }

    fn validate(&self) -> Result<(), String> {
        let id_ok = |s: &str| !s.is_empty() && s.len() <= 64 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !id_ok(&self.name) {
            return Err(format!("plugin.toml `name`: {:?} must be 1-64 letters, digits, '-' or '_'", self.name));
        }
        if self.version.trim().is_empty() {
            return Err("plugin.toml `version` is empty".into());
        }
        if !SUPPORTED_CONTRACTS.contains(&self.contract.as_str()) {
            return Err(format!(
                "plugin.toml `contract`: {:?} is not supported by this host (supported: {})",
                self.contract,
                SUPPORTED_CONTRACTS.join(", ")
            ));
        }
        if self.component.contains('/') || self.component.contains("..") || !self.component.ends_with(".wasm") {
            return Err(format!("plugin.toml `component`: {:?} must be a .wasm file name in the plugin folder", self.component));
        }
        for host in &self.http.allowed_hosts {
            if !valid_host_pattern(host) {
                return Err(format!("plugin.toml `http.allowed_hosts`: {host:?} is not a host name or *.suffix pattern"));
            }
        }
        for (host, limit) in &self.http.rate_limits {
            if limit.requests == 0 || !(limit.per_seconds > 0.0 && limit.per_seconds.is_finite()) {
                return Err(format!("plugin.toml `http.rate_limits.{host}`: requests and per_seconds must be positive"));
            }
        }
        for (name, decl) in &self.settings {
            if let Some(default) = &decl.default {
                if !type_matches(decl.kind, default) {
                    return Err(format!("plugin.toml `settings.{name}.default`: not a {:?}", decl.kind));
                }
            }
        }
        Ok(())
    }
}

fn valid_host_pattern(p: &str) -> bool {
    let host = p.strip_prefix("*.").unwrap_or(p);
    let (host, port) = match host.rsplit_once(':') {
        Some((h, port)) => (h, Some(port)),
        None => (host, None),
    };
    if port.is_some_and(|p| p.parse::<u16>().is_err()) {
        return false;
    }
    !host.is_empty() && host.split('.').all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
}

/// Whether `host` (lower-case, from a URL) matches an allowed pattern.
pub fn host_matches(pattern: &str, host: &str, port: Option<u16>) -> bool {
    let (pat_host, pat_port) = match pattern.rsplit_once(':') {
        Some((h, p)) => (h, p.parse::<u16>().ok()),
        None => (pattern, None),
    };
    if let Some(pp) = pat_port {
        if port != Some(pp) {
            return false;
        }
    }
    let pat_host = pat_host.to_ascii_lowercase();
    match pat_host.strip_prefix("*.") {
        Some(suffix) => host.len() > suffix.len() + 1 && host.ends_with(&format!(".{suffix}")),
        None => host == pat_host,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const OK: &str = r#"
name = "example"
version = "0.1.0"
contract = "0.1.0"
[http]
allowed_hosts = ["api.example.com", "*.gorgias.com"]
[secrets.api]
scheme = "header:X-Api-Key"
[settings.flag]
type = "boolean"
default = true
"#;

    #[test]
    fn parses_and_validates() {
        let m = Manifest::parse(OK).unwrap();
        assert_eq!(m.component, "plugin.wasm");
        assert_eq!(m.secrets["api"].scheme, AuthScheme::Header("X-Api-Key".into()));
    }

    #[test]
    fn unsupported_contract_names_supported_range() {
        let err = Manifest::parse(&OK.replace("contract = \"0.1.0\"", "contract = \"9.0.0\"")).unwrap_err();
        assert!(err.contains("9.0.0") && err.contains("0.1.0"), "{err}");
    }

    #[test]
    fn default_of_wrong_type_is_rejected() {
        let err = Manifest::parse(&OK.replace("default = true", "default = \"yes\"")).unwrap_err();
        assert!(err.contains("settings.flag.default"), "{err}");
    }

    #[test]
    fn host_patterns() {
        assert!(host_matches("*.gorgias.com", "acme.gorgias.com", None));
        assert!(!host_matches("*.gorgias.com", "gorgias.com", None));
        assert!(!host_matches("*.gorgias.com", "evilgorgias.com", None));
        assert!(host_matches("api.example.com", "api.example.com", Some(443)));
        assert!(!host_matches("api.example.com:8443", "api.example.com", Some(443)));
    }
}
