//! The integration's settings as a serde type; the defaults live only in `plugin.toml`.

use serde::{Deserialize, Deserializer};
use switchboard_sdk::Context;

/// Everything the connector reads from its configuration: one field per
/// setting of `plugin.toml` (whose defaults the host applies), named as there
/// or by `rename`, plus the API root.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// The app's client secret (signature key). Empty = every signed request is refused.
    #[serde(default)]
    pub client_secret: String,
    /// HubSpot app id (shown with the action definition).
    pub app_id: i64,
    /// HubSpot API base, without a trailing slash: the integration's
    /// `base_url`, else the manifest's `default_base_url`.
    #[serde(skip)]
    pub base_url: String,
    /// The seed's private-beta switch.
    pub sms_enabled: bool,
    /// Aircall number ids that can send SMS and belong to this integration
    /// (written as integers or strings in the configuration).
    #[serde(deserialize_with = "number_ids")]
    pub sms_numbers: Vec<u64>,
    /// Messages a day per user and number.
    pub daily_limit: u64,
    /// Messages a month per user and number.
    pub monthly_limit: u64,
    /// Lifetime of the dropdown caches.
    pub options_cache_seconds: u32,
    /// Oldest v3 signature timestamp accepted, in milliseconds (the setting is in seconds).
    #[serde(rename = "signature_max_age_seconds", deserialize_with = "seconds_as_ms")]
    pub signature_max_age_ms: i64,
    /// Replies that opt the sender out, folded (see [`crate::rules::fold`]).
    #[serde(deserialize_with = "folded_keywords")]
    pub opt_out_keywords: Vec<String>,
    /// Contact property marking an opt-out.
    pub opt_out_property: String,
    /// Its value when opted out.
    pub opt_out_value: String,
    /// How long replies are attached to the record a workflow SMS came from,
    /// in seconds (the setting is in days, at most a year).
    #[serde(rename = "reply_window_days", deserialize_with = "days_as_seconds")]
    pub reply_window_seconds: u32,
}

fn number_ids<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u64>, D::Error> {
    let values = Vec::<serde_json::Value>::deserialize(d)?;
    Ok(values.iter().filter_map(|v| v.as_u64().or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))).collect())
}

fn seconds_as_ms<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    Ok(i64::deserialize(d)?.clamp(0, 86_400) * 1000)
}

fn days_as_seconds<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    Ok(u32::try_from(i64::deserialize(d)?.clamp(0, 365) * 86_400).unwrap_or(u32::MAX))
}

fn folded_keywords<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(Vec::<String>::deserialize(d)?.iter().map(|k| crate::rules::fold(k)).filter(|k| !k.is_empty()).collect())
}

impl Settings {
    /// Read the settings (the host has already overlaid the manifest defaults);
    /// a mismatch with `plugin.toml` is a configuration error.
    pub fn from_context(ctx: &Context) -> Result<Settings, String> {
        let mut settings = ctx.settings::<Settings>()?;
        settings.base_url = ctx.base_url().ok_or("no base_url: plugin.toml's http.default_base_url is the HubSpot API root")?.to_string();
        Ok(settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_sdk::settings::{Fill, from_manifest};

    const MANIFEST: &str = include_str!("../plugin.toml");

    #[test]
    fn plugin_toml_defaults_fit_the_type() {
        let s = from_manifest::<Settings>(MANIFEST, Fill::Defaults).unwrap();
        assert!(s.sms_enabled && s.sms_numbers.is_empty() && s.client_secret.is_empty());
        assert_eq!((s.daily_limit, s.monthly_limit, s.options_cache_seconds), (5000, 10_000, 600));
        assert_eq!((s.signature_max_age_ms, s.reply_window_seconds), (300_000, 30 * 86_400));
        assert!(s.opt_out_keywords.iter().any(|k| k == "OPTOUT"), "{:?}", s.opt_out_keywords);
        assert_eq!((s.opt_out_property.as_str(), s.opt_out_value.as_str()), ("sms_opt_out", "true"));
    }

    #[test]
    fn every_setting_of_plugin_toml_has_a_field() {
        from_manifest::<Settings>(MANIFEST, Fill::Every).unwrap();
    }

    #[test]
    fn number_ids_may_be_strings() {
        let ids: Vec<u64> = number_ids(serde_json::json!([1, " 2 ", "x"])).unwrap();
        assert_eq!(ids, [1, 2]);
    }
}
