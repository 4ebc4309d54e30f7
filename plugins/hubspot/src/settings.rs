//! The integration's settings, typed, with the defaults of `plugin.toml`.

use switchboard_sdk::Context;

/// Everything the connector reads from its configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The app's client secret (signature key). Empty = every signed request is refused.
    pub client_secret: String,
    /// HubSpot app id (shown with the action definition).
    pub app_id: i64,
    /// HubSpot API base, without a trailing slash.
    pub base_url: String,
    /// The seed's private-beta switch.
    pub sms_enabled: bool,
    /// Aircall number ids that can send SMS and belong to this integration.
    pub sms_numbers: Vec<u64>,
    /// Messages a day per user and number.
    pub daily_limit: u64,
    /// Messages a month per user and number.
    pub monthly_limit: u64,
    /// Lifetime of the dropdown caches.
    pub options_cache_seconds: u32,
    /// Oldest v3 signature timestamp accepted, in milliseconds.
    pub signature_max_age_ms: i64,
    /// Replies that opt the sender out, folded (see [`crate::optout::fold`]).
    pub opt_out_keywords: Vec<String>,
    /// Contact property marking an opt-out.
    pub opt_out_property: String,
    /// Its value when opted out.
    pub opt_out_value: String,
    /// How long replies are attached to the record a workflow SMS came from, in seconds.
    pub reply_window_seconds: u32,
}

/// The default keyword list of `plugin.toml`, used when the setting is unreadable.
const DEFAULT_KEYWORDS: &[&str] = &["STOP", "STOPALL", "UNSUBSCRIBE", "STOPP", "ARRET", "BAJA", "PARAR", "SAIR"];

fn positive(v: Option<i64>, default: u64) -> u64 {
    v.and_then(|n| u64::try_from(n).ok()).unwrap_or(default)
}

impl Settings {
    /// Read the settings (the host has already overlaid the manifest defaults).
    pub fn from_context(ctx: &Context) -> Settings {
        // Number ids may be written as integers or strings in the configuration.
        let sms_numbers = ctx
            .setting_json::<Vec<serde_json::Value>>("sms_numbers")
            .unwrap_or_default()
            .iter()
            .filter_map(|v| v.as_u64().or_else(|| v.as_str().and_then(|s| s.trim().parse().ok())))
            .collect();
        let keywords: Vec<String> = ctx
            .setting_json::<Vec<String>>("opt_out_keywords")
            .unwrap_or_else(|| DEFAULT_KEYWORDS.iter().map(|k| (*k).to_string()).collect());
        let days = positive(ctx.setting_i64("reply_window_days"), 30).min(365);
        Settings {
            client_secret: ctx.setting_str("client_secret").unwrap_or_default().to_string(),
            app_id: ctx.setting_i64("app_id").unwrap_or(0),
            base_url: ctx.setting_str("base_url").unwrap_or("https://api.hubapi.com").trim_end_matches('/').to_string(),
            sms_enabled: ctx.setting_bool("sms_enabled").unwrap_or(true),
            sms_numbers,
            daily_limit: positive(ctx.setting_i64("daily_limit"), 5000),
            monthly_limit: positive(ctx.setting_i64("monthly_limit"), 10_000),
            options_cache_seconds: positive(ctx.setting_i64("options_cache_seconds"), 600).clamp(1, 86_400) as u32,
            signature_max_age_ms: positive(ctx.setting_i64("signature_max_age_seconds"), 300).min(86_400) as i64 * 1000,
            opt_out_keywords: keywords.iter().map(|k| crate::optout::fold(k)).filter(|k| !k.is_empty()).collect(),
            opt_out_property: ctx.setting_str("opt_out_property").unwrap_or("sms_opt_out").to_string(),
            opt_out_value: ctx.setting_str("opt_out_value").unwrap_or("true").to_string(),
            reply_window_seconds: (days * 86_400) as u32,
        }
    }
}
