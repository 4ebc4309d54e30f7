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
//! default_base_url = "https://api.example.com"   # used when the integration sets no base_url
//! # base_url_required = true                      # instead, when there is no public default
//!
//! [secrets.api]
//! scheme = "bearer"            # or "basic" (value "user:password") or "header:X-Api-Key"
//! # format = "email_colon_token"
//! # provider = "hubspot"       # or an OAuth connection the host keeps (providers.toml)
//!
//! [settings.create_contacts]
//! type = "boolean"
//! default = true
//!
//! [settings.matching_rule]
//! type = "string"
//! default = "most_recent"
//! allowed = ["most_recent", "oldest"]
//!
//! [settings.mailboxes]
//! type = "json"
//! required = true              # must be set, and not empty ("" / [] / {})
//! format = "id_map"
//!
//! [settings.window_hours]
//! type = "integer"
//! default = 48
//! min = 0
//! max = 8760
//! ```
//!
//! `base_url` is not a setting a manifest may declare: the integration's
//! top-level `base_url` (or `http.default_base_url`) reaches the plugin as the
//! setting `base_url`. An integration's settings and secrets are checked against
//! these declarations by [`Manifest::check_integration`] when the plugin is
//! loaded (`switchboard check`, start, hot reload).

use crate::config::{IntegrationConfig, NumberRef};
use serde::Deserialize;
use std::collections::BTreeMap;

/// Contract versions this host loads.
pub use crate::contract::bindings::SUPPORTED_CONTRACTS;
pub use crate::outbound::headers::AuthScheme;
pub use crate::outbound::host_matches;

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
    /// How the console's set-up page asks for what the settings need.
    #[serde(default)]
    pub setup: SetupSection,
}

/// `[setup]`: hints for the console's set-up page; they change nothing the
/// host enforces (the settings' declarations do).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetupSection {
    /// One choice per picked Aircall number, listed from the CRM.
    #[serde(default)]
    pub per_number: Option<PerNumber>,
}

/// `[setup.per_number]`: the number picker asks one value per picked number
/// (Help Scout: the mailbox its calls go to) and keeps the answers as the
/// `id_map` json setting `setting` (`{ "NUMBER_ID" = VALUE_ID }`).
///
/// ```toml
/// [setup.per_number]
/// setting = "mailboxes"
/// label = "Mailbox"
/// options = { path = "/v2/mailboxes", items = "_embedded.mailboxes", value = "id", label = "name", next = "_links.next.href" }
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerNumber {
    /// The `json` setting with `format = "id_map"` the choices are kept in.
    pub setting: String,
    /// What one choice is, for the page ("Mailbox").
    #[serde(default)]
    pub label: String,
    /// Where the choices come from.
    pub options: OptionsSource,
}

/// A list of choices the host reads from the CRM's API: `GET {base_url}{path}`
/// with the integration's credential, the list at `items` (a dotted path in
/// the JSON answer), each choice's id at `value` and its name at `label`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptionsSource {
    /// Path under the integration's base URL, starting with `/`.
    pub path: String,
    /// Dotted path to the array of items (`_embedded.mailboxes`); empty: the answer is the array.
    #[serde(default)]
    pub items: String,
    /// Field of an item holding its id.
    pub value: String,
    /// Field of an item holding its name.
    pub label: String,
    /// The secret whose credential is attached; default: the only one the plugin declares.
    #[serde(default)]
    pub secret: Option<String>,
    /// Dotted path to the next page's URL in an answer (HAL: `_links.next.href`);
    /// followed on the same host, up to 20 pages. None: one page.
    #[serde(default)]
    pub next: Option<String>,
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
    /// The vendor's public API root, used when an integration sets no `base_url`.
    #[serde(default)]
    pub default_base_url: Option<String>,
    /// Integrations must set `base_url` (the vendor has no single public API root,
    /// e.g. one domain per customer account).
    #[serde(default)]
    pub base_url_required: bool,
}

/// A budget: `requests` per `per_seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitDecl {
    /// Requests per window.
    pub requests: u32,
    /// Window length in seconds.
    pub per_seconds: f64,
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
    /// The shape the value must have (a string format).
    #[serde(default)]
    pub format: Option<Format>,
    /// The OAuth provider (`providers.toml`) that can supply it: an integration
    /// that gives no static value gets the token of its connection
    /// (`switchboard connect ID`).
    #[serde(default)]
    pub provider: Option<String>,
    /// Scopes to ask the provider for, instead of its defaults.
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
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
    /// `type = "string"`: a TOML string.
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
    /// The declaration's `type` key (`string`, `integer`, `boolean`, `json`).
    #[serde(rename = "type")]
    pub kind: SettingType,
    /// Default when the integration does not set it.
    #[serde(default)]
    pub default: Option<toml::Value>,
    /// What it does.
    #[serde(default)]
    pub description: String,
    /// Whether an integration must set it, to a non-empty value. A required
    /// setting has no default.
    #[serde(default)]
    pub required: bool,
    /// The values it may take (strings or integers). For a `json` list, the
    /// values each element may take.
    #[serde(default)]
    pub allowed: Vec<toml::Value>,
    /// The shape the value must have.
    #[serde(default)]
    pub format: Option<Format>,
    /// Smallest accepted integer.
    #[serde(default)]
    pub min: Option<i64>,
    /// Largest accepted integer.
    #[serde(default)]
    pub max: Option<i64>,
}

/// Named value shapes for `format`. The string formats apply to `string`
/// settings and to secrets; the list and map formats to `json` settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// An absolute `http://` or `https://` URL with a host.
    Url,
    /// An e-mail address (`name@domain.tld`).
    Email,
    /// `email:token`, e.g. Gorgias's `email:api_key` Basic credentials.
    EmailColonToken,
    /// A phone number in E.164 (`+` and 8 to 15 digits).
    E164,
    /// Digits only.
    Digits,
    /// A domain name (`example.com`; a leading `@` is tolerated).
    Domain,
    /// A lower-case identifier: a letter, then letters, digits or `_`.
    Identifier,
    /// A list of strings.
    StringList,
    /// A list of positive ids, written as integers or digit strings.
    IdList,
    /// A table whose values are positive ids (integers or digit strings) and
    /// whose keys are ids or phone numbers (anything with digits).
    IdMap,
    /// Like `id_list`, naming Aircall numbers: each must be one of the
    /// integration's `numbers` when that filter lists only ids.
    NumberIds,
}

impl Format {
    fn for_strings(self) -> bool {
        matches!(
            self,
            Format::Url | Format::Email | Format::EmailColonToken | Format::E164 | Format::Digits | Format::Domain | Format::Identifier
        )
    }

    /// What a value of this shape looks like, for error messages.
    pub fn describe(self) -> &'static str {
        match self {
            Format::Url => "an absolute http(s) URL, e.g. \"https://api.example.com\"",
            Format::Email => "an e-mail address",
            Format::EmailColonToken => "\"email:token\" (an e-mail address, a colon, then the key)",
            Format::E164 => "an E.164 phone number, e.g. \"+33123456789\"",
            Format::Digits => "digits only",
            Format::Domain => "a domain name, e.g. \"example.com\"",
            Format::Identifier => "a lower-case identifier (a letter, then letters, digits or '_')",
            Format::StringList => "a list of strings, e.g. [\"a\", \"b\"]",
            Format::IdList | Format::NumberIds => "a list of positive ids, e.g. [2001, 2002]",
            Format::IdMap => "a table of positive ids, e.g. { \"2001\" = 30411 }",
        }
    }

    /// Whether a string fits this (string) format.
    fn fits_str(self, s: &str) -> bool {
        match self {
            Format::Url => {
                url::Url::parse(s).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty()))
            }
            Format::Email => is_email(s),
            Format::EmailColonToken => s.split_once(':').is_some_and(|(email, token)| is_email(email) && !token.trim().is_empty()),
            Format::E164 => s
                .strip_prefix('+')
                .is_some_and(|d| (8..=15).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()) && !d.starts_with('0')),
            Format::Digits => !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()),
            Format::Domain => is_domain(s.strip_prefix('@').unwrap_or(s)),
            Format::Identifier => {
                let mut chars = s.chars();
                chars.next().is_some_and(|c| c.is_ascii_lowercase())
                    && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            }
            _ => false,
        }
    }
}

fn is_domain(s: &str) -> bool {
    s.contains('.') && s.split('.').all(|l| !l.is_empty() && l.len() <= 63 && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
}

fn is_email(s: &str) -> bool {
    match s.rsplit_once('@') {
        Some((local, domain)) => !local.is_empty() && !local.contains(char::is_whitespace) && is_domain(domain),
        None => false,
    }
}

/// A positive id written as an integer or a string of digits.
fn positive_id(v: &toml::Value) -> Option<u64> {
    match v {
        toml::Value::Integer(i) => u64::try_from(*i).ok().filter(|i| *i > 0),
        toml::Value::String(s) => s.trim().parse::<u64>().ok().filter(|i| *i > 0),
        _ => None,
    }
}

/// A value as the configuration would spell it, for error messages.
fn shown(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}

fn is_empty_value(v: &toml::Value) -> bool {
    match v {
        toml::Value::String(s) => s.trim().is_empty(),
        toml::Value::Array(a) => a.is_empty(),
        toml::Value::Table(t) => t.is_empty(),
        _ => false,
    }
}

/// An integration's configuration after checking it against a manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedIntegration {
    /// Every setting with a value: the configuration's over the manifest's
    /// defaults, plus `base_url` when there is one.
    pub settings: Vec<(String, toml::Value)>,
    /// The API root the plugin talks to: the integration's `base_url`, else the
    /// manifest's `http.default_base_url`.
    pub base_url: Option<String>,
    /// The budget per API host: the manifest's `http.rate_limits`, replaced host
    /// by host by the integration's `rate_limits`.
    pub rate_limits: BTreeMap<String, RateLimitDecl>,
}

/// The setting name under which the base URL reaches the plugin.
pub const BASE_URL_SETTING: &str = "base_url";

impl SettingDecl {
    /// Check one value against this declaration. `key` names it in errors
    /// (`integrations[0].settings.matching_rule`); `numbers` is the integration's
    /// number filter (for `number_ids`).
    pub fn check(&self, key: &str, value: &toml::Value, numbers: &[NumberRef]) -> Result<(), String> {
        if !type_matches(self.kind, value) {
            return Err(format!("{key}: {} is not a {}", shown(value), self.kind.name()));
        }
        if self.required && is_empty_value(value) {
            return Err(format!("{key}: is required and must not be empty{}", self.hint()));
        }
        // An empty string is "unset" for an optional string setting.
        if matches!(value, toml::Value::String(s) if s.is_empty()) {
            return Ok(());
        }
        if let toml::Value::Integer(i) = value {
            if let Some(min) = self.min.filter(|m| i < m) {
                return Err(format!("{key}: {i} is less than the minimum {min}"));
            }
            if let Some(max) = self.max.filter(|m| i > m) {
                return Err(format!("{key}: {i} is more than the maximum {max}"));
            }
        }
        if !self.allowed.is_empty() {
            let allowed_list = || self.allowed.iter().map(shown).collect::<Vec<_>>().join(", ");
            match value {
                toml::Value::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        if !self.allowed.contains(item) {
                            return Err(format!("{key}[{i}]: {} is not one of {}", shown(item), allowed_list()));
                        }
                    }
                }
                other if !self.allowed.contains(other) => {
                    return Err(format!("{key}: {} is not one of {}", shown(other), allowed_list()));
                }
                _ => {}
            }
        }
        if let Some(format) = self.format {
            check_format(key, format, value, numbers)?;
        }
        Ok(())
    }

    fn hint(&self) -> String {
        if self.description.is_empty() { String::new() } else { format!(" ({})", self.description) }
    }
}

fn check_format(key: &str, format: Format, value: &toml::Value, numbers: &[NumberRef]) -> Result<(), String> {
    let wrong = |what: String| Err(format!("{key}: {what} must be {}", format.describe()));
    match (format, value) {
        (f, toml::Value::String(s)) if f.for_strings() => {
            if !f.fits_str(s.trim()) {
                return wrong(shown(value));
            }
        }
        (Format::StringList, toml::Value::Array(items)) => {
            if let Some((i, item)) = items.iter().enumerate().find(|(_, v)| !v.is_str()) {
                return Err(format!("{key}[{i}]: {} is not a string; {key} must be {}", shown(item), format.describe()));
            }
        }
        (Format::IdList | Format::NumberIds, toml::Value::Array(items)) => {
            let mut ids = Vec::new();
            for (i, item) in items.iter().enumerate() {
                match positive_id(item) {
                    Some(id) => ids.push(id),
                    None => {
                        return Err(format!("{key}[{i}]: {} is not a positive id; {key} must be {}", shown(item), format.describe()));
                    }
                }
            }
            if format == Format::NumberIds && !numbers.is_empty() {
                // Static check only when the filter is all ids; digits are matched
                // at run time, when the plugin lists the account's numbers.
                let filter: Option<Vec<u64>> = numbers.iter().map(|n| if let NumberRef::Id(id) = n { Some(*id) } else { None }).collect();
                if let Some(filter) = filter
                    && let Some(id) = ids.iter().find(|id| !filter.contains(id))
                {
                    return Err(format!(
                        "{key}: Aircall number {id} is not one of the integration's numbers ({}); add it to `numbers` or remove it here",
                        filter.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
                    ));
                }
            }
        }
        (Format::IdMap, toml::Value::Table(map)) => {
            for (k, v) in map {
                if !k.chars().any(|c| c.is_ascii_digit()) {
                    return Err(format!(
                        "{key}.{k:?}: the key must be an Aircall number id or phone number; {key} must be {}",
                        format.describe()
                    ));
                }
                if positive_id(v).is_none() {
                    return Err(format!("{key}.{k:?}: {} is not a positive id; {key} must be {}", shown(v), format.describe()));
                }
            }
        }
        _ => return wrong(shown(value)),
    }
    Ok(())
}

impl SettingType {
    /// The type's name as `plugin.toml` spells it.
    pub fn name(self) -> &'static str {
        match self {
            SettingType::String => "string",
            SettingType::Integer => "integer",
            SettingType::Boolean => "boolean",
            SettingType::Json => "json",
        }
    }
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
    /// The secrets an OAuth connection can supply.
    pub fn oauth_secrets(&self) -> Vec<crate::connections::OAuthSecret> {
        self.secrets
            .iter()
            .filter_map(|(name, decl)| {
                Some(crate::connections::OAuthSecret {
                    plugin: self.name.clone(),
                    secret: name.clone(),
                    provider: decl.provider.clone()?,
                    scopes: decl.scopes.clone(),
                })
            })
            .collect()
    }

    /// Parse and validate manifest text.
    pub fn parse(text: &str) -> Result<Manifest, String> {
        let mut m: Manifest = toml::from_str(text).map_err(|e| format!("plugin.toml: {e}"))?;
        m.upgrade_legacy();
        m.validate()?;
        Ok(m)
    }

    /// Manifests of contract 0.1.0 plugins declared their API root as a
    /// `settings.base_url` with a default. They keep loading: that default
    /// becomes `http.default_base_url` (without one, the integration must set
    /// `base_url`), and the host passes the URL under that setting as before.
    fn upgrade_legacy(&mut self) {
        if self.contract != "0.1.0" {
            return;
        }
        if let Some(decl) = self.settings.remove(BASE_URL_SETTING)
            && self.http.default_base_url.is_none()
        {
            match decl.default.as_ref().and_then(|v| v.as_str()) {
                Some(url) => self.http.default_base_url = Some(url.to_string()),
                None => self.http.base_url_required = true,
            }
        }
    }

    fn validate(&self) -> Result<(), String> {
        let id_ok = |s: &str| !s.is_empty() && s.len() <= 64 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !id_ok(&self.name) {
            return Err(format!("plugin.toml `name`: {:?} must be 1-64 letters, digits, '-' or '_'", self.name));
        }
        let providers = crate::providers::Providers::builtin();
        for (name, decl) in &self.secrets {
            if let Some(p) = &decl.provider
                && providers.get(p).is_none()
            {
                return Err(format!("plugin.toml secrets.{name}.provider: no provider {p:?} (known: {})", providers.names().join(", ")));
            }
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
        if let Some(base) = &self.http.default_base_url {
            if !Format::Url.fits_str(base) {
                return Err(format!("plugin.toml `http.default_base_url`: {base:?} must be {}", Format::Url.describe()));
            }
            if self.http.base_url_required {
                return Err("plugin.toml `http`: `default_base_url` and `base_url_required = true` contradict each other".into());
            }
        }
        if self.settings.contains_key(BASE_URL_SETTING) {
            return Err(format!(
                "plugin.toml `settings.{BASE_URL_SETTING}`: reserved; the host passes the integration's `base_url` under this name. Declare the vendor's public API root as `http.default_base_url` (or `http.base_url_required = true`)"
            ));
        }
        for (name, decl) in &self.secrets {
            if let Some(format) = decl.format.filter(|f| !f.for_strings()) {
                return Err(format!("plugin.toml `secrets.{name}.format`: {format:?} is not a string format"));
            }
        }
        self.validate_setup()?;
        for (name, decl) in &self.settings {
            let key = format!("plugin.toml settings.{name}");
            if let Some(format) = decl.format {
                let fits = match decl.kind {
                    SettingType::String => format.for_strings(),
                    SettingType::Json => !format.for_strings(),
                    SettingType::Integer | SettingType::Boolean => false,
                };
                if !fits {
                    return Err(format!("{key}.format: {format:?} does not apply to a {} setting", decl.kind.name()));
                }
            }
            if (decl.min.is_some() || decl.max.is_some()) && decl.kind != SettingType::Integer {
                return Err(format!("{key}: min / max apply to integer settings only"));
            }
            if let Some(bad) = decl.allowed.iter().find(|v| !matches!(v, toml::Value::String(_) | toml::Value::Integer(_))) {
                return Err(format!("{key}.allowed: {bad} is not a string or an integer"));
            }
            if decl.kind != SettingType::Json
                && let Some(bad) = decl.allowed.iter().find(|v| !type_matches(decl.kind, v))
            {
                return Err(format!("{key}.allowed: {} is not a {}", shown(bad), decl.kind.name()));
            }
            if decl.required && decl.default.is_some() {
                return Err(format!("{key}: a required setting has no default (drop one of them)"));
            }
            if let Some(default) = &decl.default {
                if !type_matches(decl.kind, default) {
                    return Err(format!("{key}.default: not a {}", decl.kind.name()));
                }
                // The default must pass its own declaration.
                decl.check(&format!("{key}.default"), default, &[])?;
            }
        }
        Ok(())
    }

    /// `[setup]` names what the manifest declares.
    fn validate_setup(&self) -> Result<(), String> {
        let Some(p) = &self.setup.per_number else { return Ok(()) };
        let key = "plugin.toml setup.per_number";
        match self.settings.get(&p.setting) {
            Some(d) if d.kind == SettingType::Json && d.format == Some(Format::IdMap) => {}
            Some(_) => return Err(format!("{key}.setting: settings.{} must be a json setting with format = \"id_map\"", p.setting)),
            None => return Err(format!("{key}.setting: no setting {:?} is declared", p.setting)),
        }
        let o = &p.options;
        if !o.path.starts_with('/') || o.path.contains("://") || o.path.contains("..") {
            return Err(format!("{key}.options.path: {:?} must be a path under the base URL, starting with '/'", o.path));
        }
        if o.value.trim().is_empty() || o.label.trim().is_empty() {
            return Err(format!("{key}.options: value and label must name fields of an item"));
        }
        match &o.secret {
            Some(s) if !self.secrets.contains_key(s) => Err(format!("{key}.options.secret: no secret {s:?} is declared")),
            None if self.secrets.len() > 1 => {
                Err(format!("{key}.options.secret: the plugin declares several secrets; name the one to send"))
            }
            _ => Ok(()),
        }
    }

    /// The secret the `[setup.per_number]` options are read with.
    pub fn options_secret(&self) -> Option<(&String, &SecretDecl)> {
        let p = self.setup.per_number.as_ref()?;
        match &p.options.secret {
            Some(name) => self.secrets.get_key_value(name),
            None => self.secrets.iter().next(),
        }
    }

    /// Check an integration's settings, secrets and base URL against this
    /// manifest: unknown names, types, required-ness, allowed values, formats and
    /// ranges. `key` names the integration in errors (`integrations[0]`), so a
    /// message reads `integrations[0].settings.matching_rule: "newest" is not one
    /// of "most_recent", "oldest"`. Secret values never appear in messages.
    pub fn check_integration(&self, key: &str, integration: &IntegrationConfig) -> Result<CheckedIntegration, String> {
        let known = |names: Vec<&String>| names.iter().map(|n| format!("{n:?}")).collect::<Vec<_>>().join(", ");
        if integration.settings.contains_key(BASE_URL_SETTING) {
            return Err(format!(
                "{key}.settings.{BASE_URL_SETTING}: set only {key}.base_url; the host passes it to the plugin as this setting"
            ));
        }
        for name in integration.settings.keys() {
            if !self.settings.contains_key(name) {
                return Err(format!(
                    "{key}.settings.{name}: plugin {} has no such setting (known: {})",
                    self.name,
                    known(self.settings.keys().collect())
                ));
            }
        }
        let mut settings = Vec::new();
        for (name, decl) in &self.settings {
            let setting_key = format!("{key}.settings.{name}");
            let value = match integration.settings.get(name).or(decl.default.as_ref()) {
                Some(v) => v,
                None if decl.required => {
                    return Err(format!("{setting_key}: required by plugin {} and not set{}", self.name, decl.hint()));
                }
                None => continue,
            };
            decl.check(&setting_key, value, &integration.numbers)?;
            settings.push((name.clone(), value.clone()));
        }
        for name in integration.secrets.keys() {
            if !self.secrets.contains_key(name) {
                return Err(format!(
                    "{key}.secrets.{name}: plugin {} declares no such secret (known: {})",
                    self.name,
                    known(self.secrets.keys().collect())
                ));
            }
        }
        for (name, decl) in &self.secrets {
            let secret_key = format!("{key}.secrets.{name}");
            let Some(value) = integration.secrets.get(name) else {
                if decl.required && decl.provider.is_none() {
                    let what = if decl.description.is_empty() { String::new() } else { format!(" ({})", decl.description) };
                    return Err(format!("{secret_key}: required by plugin {} and not set{what}", self.name));
                }
                continue;
            };
            if value.trim().is_empty() {
                if decl.required {
                    return Err(format!("{secret_key}: is empty (is the environment variable it comes from set to \"\"?)"));
                }
                continue;
            }
            if let Some(format) = decl.format {
                if !format.fits_str(value.trim()) {
                    return Err(format!("{secret_key}: the value given is not {} (value not shown)", format.describe()));
                }
            } else if decl.scheme == AuthScheme::Basic && !value.contains(':') {
                return Err(format!(
                    "{secret_key}: a Basic credential must be \"user:password\"; the value given has no ':' (value not shown)"
                ));
            }
        }
        let base_url = match (&integration.base_url, &self.http.default_base_url) {
            (Some(u), _) => Some(u.trim_end_matches('/').to_string()),
            (None, Some(d)) => Some(d.trim_end_matches('/').to_string()),
            (None, None) if self.http.base_url_required => {
                return Err(format!(
                    "{key}.base_url: plugin {} needs the account's own API root here (it has no public default)",
                    self.name
                ));
            }
            (None, None) => None,
        };
        if let Some(u) = &base_url {
            if !Format::Url.fits_str(u) {
                return Err(format!("{key}.base_url: {u:?} must be {}", Format::Url.describe()));
            }
            settings.push((BASE_URL_SETTING.to_string(), toml::Value::String(u.clone())));
        }
        let mut rate_limits = self.http.rate_limits.clone();
        for (host, limit) in &integration.rate_limits {
            let limit_key = format!("{key}.rate_limits.{host}");
            if !rate_limits.contains_key(host) {
                return Err(format!(
                    "{limit_key}: plugin {} declares no rate limit for {host:?} (it declares: {})",
                    self.name,
                    if rate_limits.is_empty() { "none".to_string() } else { known(rate_limits.keys().collect()) }
                ));
            }
            if limit.requests == 0 || !(limit.per_seconds.is_finite() && limit.per_seconds > 0.0) {
                return Err(format!("{limit_key}: requests must be at least 1 and per_seconds more than 0"));
            }
            rate_limits.insert(host.clone(), RateLimitDecl { requests: limit.requests, per_seconds: limit.per_seconds });
        }
        Ok(CheckedIntegration { settings, base_url, rate_limits })
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

    fn integration(extra: &str) -> IntegrationConfig {
        let text = format!("id = \"hs\"\naccount = \"main\"\nplugin = \"x\"\n{extra}");
        toml::from_str(&text).unwrap()
    }

    const SCHEMA: &str = r#"
name = "x"
version = "0.1.0"
contract = "0.1.0"
[http]
allowed_hosts = ["api.x.com"]
default_base_url = "https://api.x.com"
[secrets.api]
scheme = "basic"
format = "email_colon_token"
[settings.matching_rule]
type = "string"
default = "most_recent"
allowed = ["most_recent", "oldest"]
[settings.mailboxes]
type = "json"
required = true
format = "id_map"
[settings.window]
type = "integer"
default = 48
min = 0
max = 8760
[settings.tags]
type = "json"
default = ["a"]
allowed = ["a", "b"]
format = "string_list"
[settings.sms_numbers]
type = "json"
default = []
format = "number_ids"
[settings.app_url]
type = "string"
default = ""
format = "url"
"#;

    fn check(extra: &str) -> Result<CheckedIntegration, String> {
        let base = "secrets = { api = \"ops@acme.test:key\" }\n";
        let m = Manifest::parse(SCHEMA).unwrap();
        let extra = if extra.contains("secrets") { extra.to_string() } else { format!("{base}{extra}") };
        m.check_integration("integrations[0]", &integration(&extra))
    }

    #[test]
    fn an_integration_states_its_own_api_budget_for_a_host_the_plugin_limits() {
        let text = SCHEMA.replace(
            "allowed_hosts = [\"api.x.com\"]",
            "allowed_hosts = [\"api.x.com\"]\nrate_limits = { \"api.x.com\" = { requests = 100, per_seconds = 10 } }",
        );
        let m = Manifest::parse(&text).unwrap();
        let base = "secrets = { api = \"ops@acme.test:key\" }\nsettings = { mailboxes = { \"2001\" = 1 } }\n";
        let with = |extra: &str| m.check_integration("integrations[0]", &integration(&format!("{base}{extra}")));
        // The plugin's (lowest-tier) budget unless the integration says otherwise.
        let plain = with("").unwrap();
        assert_eq!((plain.rate_limits["api.x.com"].requests, plain.rate_limits["api.x.com"].per_seconds), (100, 10.0));
        let higher = with("rate_limits = { \"api.x.com\" = { requests = 190, per_seconds = 10 } }").unwrap();
        assert_eq!(higher.rate_limits["api.x.com"].requests, 190);
        let other = with("rate_limits = { \"api.y.com\" = { requests = 5, per_seconds = 1 } }").unwrap_err();
        assert!(other.contains("integrations[0].rate_limits.api.y.com") && other.contains("\"api.x.com\""), "{other}");
        let zero = with("rate_limits = { \"api.x.com\" = { requests = 0, per_seconds = 10 } }").unwrap_err();
        assert!(zero.contains("at least 1"), "{zero}");
        let typo = toml::from_str::<IntegrationConfig>(
            "id = \"a\"\naccount = \"m\"\nplugin = \"x\"\nrate_limits = { \"h\" = { request = 1, per_seconds = 1 } }",
        );
        assert!(typo.is_err(), "unknown keys in a budget are refused");
    }

    #[test]
    fn a_valid_integration_gets_defaults_and_the_default_base_url() {
        let c = check("settings = { mailboxes = { \"2001\" = 30411, \"+33 1 23 45 67 89\" = \"30412\" } }").unwrap();
        assert_eq!(c.base_url.as_deref(), Some("https://api.x.com"));
        let get = |n: &str| c.settings.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        assert_eq!(get("base_url"), Some(toml::Value::String("https://api.x.com".into())));
        assert_eq!(get("matching_rule"), Some(toml::Value::String("most_recent".into())));
        let own = check("base_url = \"http://127.0.0.1:4011/\"\nsettings = { mailboxes = { \"2001\" = 1 } }").unwrap();
        assert_eq!(own.base_url.as_deref(), Some("http://127.0.0.1:4011"));
    }

    #[test]
    fn a_value_outside_allowed_names_key_and_allowed_values() {
        let err = check("settings = { mailboxes = { \"2001\" = 1 }, matching_rule = \"newest\" }").unwrap_err();
        assert_eq!(err, "integrations[0].settings.matching_rule: \"newest\" is not one of \"most_recent\", \"oldest\"");
        let err = check("settings = { mailboxes = { \"2001\" = 1 }, tags = [\"a\", \"c\"] }").unwrap_err();
        assert!(err.starts_with("integrations[0].settings.tags[1]: \"c\" is not one of \"a\", \"b\""), "{err}");
    }

    #[test]
    fn required_settings_must_be_set_and_not_empty() {
        let err = check("").unwrap_err();
        assert!(err.starts_with("integrations[0].settings.mailboxes: required"), "{err}");
        let err = check("settings = { mailboxes = {} }").unwrap_err();
        assert!(err.contains("integrations[0].settings.mailboxes") && err.contains("must not be empty"), "{err}");
    }

    #[test]
    fn shapes_and_ranges_are_enforced() {
        let mb = "mailboxes = { \"2001\" = 1 }";
        let err = check(&format!("settings = {{ {mb}, window = -1 }}")).unwrap_err();
        assert!(err.contains("settings.window: -1 is less than the minimum 0"), "{err}");
        let err = check(&format!("settings = {{ {mb}, app_url = \"intercom\" }}")).unwrap_err();
        assert!(err.contains("settings.app_url") && err.contains("URL"), "{err}");
        let err = check("settings = { mailboxes = { \"2001\" = \"support\" } }").unwrap_err();
        assert!(err.contains("settings.mailboxes.\"2001\"") && err.contains("positive id"), "{err}");
        let err = check(&format!("settings = {{ {mb}, window = \"48\" }}")).unwrap_err();
        assert!(err.contains("settings.window: \"48\" is not a integer") || err.contains("is not a"), "{err}");
        // An empty optional string is "unset".
        assert!(check(&format!("settings = {{ {mb}, app_url = \"\" }}")).is_ok());
    }

    #[test]
    fn secret_shape_is_checked_without_echoing_the_value() {
        let err = check("secrets = { api = \"only-the-key-1234\" }\nsettings = { mailboxes = { \"2001\" = 1 } }").unwrap_err();
        assert!(err.starts_with("integrations[0].secrets.api") && err.contains("email:token"), "{err}");
        assert!(!err.contains("only-the-key-1234"), "the secret leaked: {err}");
        let err = check("settings = { mailboxes = { \"2001\" = 1 } }\nsecrets = { }").unwrap_err();
        assert!(err.contains("integrations[0].secrets.api: required"), "{err}");
    }

    #[test]
    fn number_ids_must_be_among_the_integration_numbers_when_static() {
        let mb = "mailboxes = { \"2001\" = 1 }";
        let err = check(&format!("numbers = [2001]\nsettings = {{ {mb}, sms_numbers = [2001, 2002] }}")).unwrap_err();
        assert!(err.contains("settings.sms_numbers") && err.contains("2002") && err.contains("numbers"), "{err}");
        assert!(check(&format!("numbers = [2001, 2002]\nsettings = {{ {mb}, sms_numbers = [2001, \"2002\"] }}")).is_ok());
        // Digits in the filter can only be matched at run time.
        assert!(check(&format!("numbers = [\"+33 1 23 45 67 89\"]\nsettings = {{ {mb}, sms_numbers = [2002] }}")).is_ok());
        assert!(check(&format!("settings = {{ {mb}, sms_numbers = [2002] }}")).is_ok());
    }

    #[test]
    fn base_url_only_at_the_top_level_and_required_when_declared() {
        let err = check("settings = { mailboxes = { \"2001\" = 1 }, base_url = \"https://x\" }").unwrap_err();
        assert!(err.contains("integrations[0].settings.base_url") && err.contains("integrations[0].base_url"), "{err}");
        let required = SCHEMA.replace("default_base_url = \"https://api.x.com\"", "base_url_required = true");
        let m = Manifest::parse(&required).unwrap();
        let err = m
            .check_integration(
                "integrations[3]",
                &integration("secrets = { api = \"a@b.co:k\" }\nsettings = { mailboxes = { \"1\" = 1 } }"),
            )
            .unwrap_err();
        assert!(err.starts_with("integrations[3].base_url"), "{err}");
    }

    #[test]
    fn manifest_mistakes_are_refused() {
        let v2 = SCHEMA.replace("contract = \"0.1.0\"", "contract = \"0.2.0\"");
        let err = Manifest::parse(&format!("{v2}[settings.base_url]\ntype = \"string\"\n")).unwrap_err();
        assert!(err.contains("settings.base_url") && err.contains("default_base_url"), "{err}");
        let err = Manifest::parse(&SCHEMA.replace("default = \"most_recent\"", "default = \"newest\"")).unwrap_err();
        assert!(err.contains("settings.matching_rule") && err.contains("newest"), "{err}");
        let err = Manifest::parse(&SCHEMA.replace("format = \"id_map\"", "format = \"url\"")).unwrap_err();
        assert!(err.contains("settings.mailboxes") && err.contains("format"), "{err}");
        let err = Manifest::parse(&SCHEMA.replace("required = true\nformat = \"id_map\"", "required = true\ndefault = {}")).unwrap_err();
        assert!(err.contains("required"), "{err}");
    }

    #[test]
    fn setup_per_number_must_name_an_id_map_setting_and_a_path() {
        let with = |setup: &str| Manifest::parse(&format!("{SCHEMA}[setup.per_number]\n{setup}\n"));
        let good = "setting = \"mailboxes\"\noptions = { path = \"/v2/mailboxes\", items = \"_embedded.mailboxes\", value = \"id\", label = \"name\" }";
        let m = with(good).unwrap();
        assert_eq!(m.setup.per_number.as_ref().unwrap().options.items, "_embedded.mailboxes");
        assert_eq!(m.options_secret().unwrap().0, "api");
        let e = with(&good.replace("\"mailboxes\"", "\"window\"")).unwrap_err();
        assert!(e.contains("setup.per_number.setting") && e.contains("id_map"), "{e}");
        let e = with(&good.replace("\"mailboxes\"", "\"nope\"")).unwrap_err();
        assert!(e.contains("setup.per_number.setting") && e.contains("nope"), "{e}");
        let e = with(&good.replace("/v2/mailboxes", "https://evil.example/x")).unwrap_err();
        assert!(e.contains("setup.per_number.options.path"), "{e}");
        let e = with(&good.replace("label = \"name\" }", "label = \"name\", secret = \"other\" }")).unwrap_err();
        assert!(e.contains("options.secret"), "{e}");
        assert!(with("setting = \"mailboxes\"\nlabel = 3").is_err(), "unknown shapes are refused");
    }

    #[test]
    fn basic_secret_without_a_format_needs_a_colon() {
        let m = Manifest::parse(&OK.replace("scheme = \"header:X-Api-Key\"", "scheme = \"basic\"")).unwrap();
        let err = m.check_integration("integrations[0]", &integration("secrets = { api = \"nocolon\" }")).unwrap_err();
        assert!(err.contains("integrations[0].secrets.api") && err.contains("user:password") && !err.contains("nocolon"), "{err}");
    }

    #[test]
    fn host_patterns() {
        assert!(host_matches("*.gorgias.com", "acme.gorgias.com", None));
        assert!(!host_matches("*.gorgias.com", "gorgias.com", None));
        assert!(!host_matches("*.gorgias.com", "evilgorgias.com", None));
        assert!(host_matches("api.example.com", "api.example.com", Some(443)));
        assert!(!host_matches("api.example.com:8443", "api.example.com", Some(443)));
    }

    #[test]
    fn a_contract_0_1_0_manifest_with_a_base_url_setting_still_loads() {
        let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/contract-v0.1.0/example-v0-1/plugin.toml");
        let text = std::fs::read_to_string(&fixture).unwrap_or_else(|e| panic!("{}: {e}", fixture.display()));
        let m = Manifest::parse(&text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(m.http.default_base_url.as_deref(), Some("https://api.example.com"));
        assert!(!m.settings.contains_key(BASE_URL_SETTING));
        let newer = text.replace("contract = \"0.1.0\"", "contract = \"0.2.0\"");
        assert!(Manifest::parse(&newer).unwrap_err().contains("reserved"));
    }
}
