//! An integration's policy ([`IntegrationCtx`]): its configuration checked
//! against the plugin's manifest ([`Manifest::check_integration`]) and turned
//! into what the capabilities enforce (allowed hosts, credentials, budgets).

use crate::aircall::client::AircallClient;
use crate::capabilities::{Credential, IntegrationCtx, IntegrationParts};
use crate::config::IntegrationConfig;
use crate::contract::SettingValue;
use crate::outbound::headers::AuthScheme;
use crate::outbound::ratelimit::Budget;
use crate::registry::manifest::Manifest;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// Check an integration's configuration against a manifest and build its policy.
/// Errors name the key at fault (`integration "id".settings.…`).
pub fn integration(config: &IntegrationConfig, manifest: &Manifest, aircall: Arc<AircallClient>) -> Result<IntegrationCtx, String> {
    integration_at(&format!("integration {:?}", config.id), config, manifest, aircall)
}

/// [`integration`] with the integration's key for errors, e.g. `integrations[0]`.
pub fn integration_at(
    key: &str,
    config: &IntegrationConfig,
    manifest: &Manifest,
    aircall: Arc<AircallClient>,
) -> Result<IntegrationCtx, String> {
    // Types, required-ness, allowed values, formats; the base URL joins the settings.
    let checked = manifest.check_integration(key, config)?;
    let settings = checked.settings.iter().map(|(name, value)| (name.clone(), setting_value(value))).collect();
    let credentials: HashMap<String, Credential> = manifest
        .secrets
        .iter()
        .filter_map(|(name, decl)| match config.secrets.get(name).filter(|v| !v.trim().is_empty()) {
            Some(value) => Some((name.clone(), Credential::new(value.clone(), decl.scheme.clone()))),
            // Not given: the token of the integration's connection, when the plugin names a provider.
            // OAuth access tokens are bearer tokens, whatever scheme a static value uses.
            None => decl
                .provider
                .as_ref()
                .map(|_| (name.clone(), Credential::connection(format!("integration:{}", config.id), AuthScheme::Bearer))),
        })
        .collect();
    if let Some(u) = &checked.base_url {
        let url = url::Url::parse(u).map_err(|e| format!("{key}.base_url: {e}"))?;
        if url.host_str().is_none() {
            return Err(format!("{key}.base_url has no host"));
        }
    }
    Ok(IntegrationCtx::new(IntegrationParts {
        id: config.id.clone(),
        plugin: manifest.name.clone(),
        version: manifest.version.clone(),
        account: config.account.clone(),
        settings,
        default_region: config.default_region.clone(),
        base_url: checked.base_url.clone(),
        allowed_hosts: manifest.http.allowed_hosts.clone(),
        credentials,
        budgets: checked
            .rate_limits
            .iter()
            .map(|(h, l)| (h.clone(), Budget { requests: l.requests, per: Duration::from_secs_f64(l.per_seconds) }))
            .collect(),
        aircall,
    }))
}

/// A setting's TOML value as the contract carries it (tables and arrays as JSON text).
fn setting_value(v: &toml::Value) -> SettingValue {
    match v {
        toml::Value::String(s) => SettingValue::Text(s.clone()),
        toml::Value::Integer(i) => SettingValue::Integer(*i),
        toml::Value::Boolean(b) => SettingValue::Boolean(*b),
        other => SettingValue::Json(serde_json::to_string(other).unwrap_or_else(|_| "null".into())),
    }
}
