//! The integration's settings (`plugin.toml` declares them with their defaults).

use serde::{Deserialize, Deserializer};
use switchboard_sdk::{Context, PluginError};

/// Which tag groups to apply (the `tags` setting).
#[derive(Debug, Clone, Copy, Default)]
pub struct TagChoice {
    /// "Aircall".
    pub aircall: bool,
    /// "Inbound call" / "Outbound call".
    pub direction: bool,
    /// The agent's Aircall tags.
    pub agent_tags: bool,
    /// The Aircall number's name.
    pub number: bool,
    /// The team's name.
    pub team: bool,
    /// "Voicemail".
    pub voicemail: bool,
    /// "Callback request" / "Called back".
    pub callback: bool,
    /// "Missed call".
    pub missed: bool,
    /// "Aircall SMS".
    pub sms: bool,
}

/// The settings: one field per setting of `plugin.toml` (whose defaults the
/// host applies), plus the account URL.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// `https://{account}.gorgias.com`, without a trailing slash or `/api`: the
    /// integration's `base_url`, set by [`Settings::read`].
    #[serde(skip)]
    pub base_url: String,
    /// Push insight cards on `call.created`.
    pub insight_cards: bool,
    /// Tag groups to apply (the setting lists their names).
    #[serde(deserialize_with = "tag_choice")]
    pub tags: TagChoice,
    /// Reopen window for SMS conversations, seconds (the setting is in hours).
    #[serde(rename = "reopen_window_hours", deserialize_with = "hours_as_seconds")]
    pub reopen_window_secs: i64,
    /// Domain of generated e-mails.
    #[serde(deserialize_with = "domain")]
    pub placeholder_email_domain: String,
    /// Words that mark a callback request (lower case).
    #[serde(deserialize_with = "markers")]
    pub callback_markers: Vec<String>,
    /// Dashboard link pattern with `{id}`.
    pub dashboard_call_url: String,
    /// Largest file uploaded; bigger ones are linked.
    pub upload_max_bytes: u64,
}

/// The tag groups named in the list (any case).
fn tag_choice<'de, D: Deserializer<'de>>(d: D) -> Result<TagChoice, D::Error> {
    let names = Vec::<String>::deserialize(d)?;
    let on = |n: &str| names.iter().any(|x| x.trim().eq_ignore_ascii_case(n));
    Ok(TagChoice {
        aircall: on("aircall"),
        direction: on("direction"),
        agent_tags: on("agent_tags"),
        number: on("number"),
        team: on("team"),
        voicemail: on("voicemail"),
        callback: on("callback"),
        missed: on("missed"),
        sms: on("sms"),
    })
}

/// Hours → seconds, at most a year.
fn hours_as_seconds<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    Ok(i64::deserialize(d)?.clamp(0, 24 * 365) * 3600)
}

/// A domain as written after the `@`.
fn domain<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(String::deserialize(d)?.trim().trim_start_matches('@').to_string())
}

/// The markers lower-cased, blanks dropped.
fn markers<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(Vec::<String>::deserialize(d)?.into_iter().map(|m| m.trim().to_lowercase()).filter(|m| !m.is_empty()).collect())
}

impl Settings {
    /// Read the settings; the account URL (the integration's `base_url`,
    /// which the host requires) must be an http(s) URL.
    pub fn read(ctx: &Context) -> Result<Settings, PluginError> {
        let mut settings = ctx.settings::<Settings>().map_err(PluginError::permanent)?;
        settings.base_url = account_root(ctx.base_url().unwrap_or_default()).map_err(PluginError::permanent)?;
        Ok(settings)
    }

    /// The link to a call in the Aircall dashboard.
    pub fn call_link(&self, call_id: u64) -> String {
        self.dashboard_call_url.replace("{id}", &call_id.to_string())
    }
}

/// The account's root from the configured `base_url`: `…/api` (as Gorgias
/// shows the REST root) is cut, since the plugin adds `/api/…` itself.
fn account_root(base_url: &str) -> Result<String, String> {
    let base = base_url.trim().trim_end_matches('/');
    if !(base.starts_with("https://") || base.starts_with("http://")) {
        return Err(format!("base_url {base:?} must be the account's domain, e.g. https://acme.gorgias.com"));
    }
    Ok(base.strip_suffix("/api").unwrap_or(base).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_sdk::settings::{Fill, from_manifest};

    const MANIFEST: &str = include_str!("../plugin.toml");

    #[test]
    fn plugin_toml_defaults_fit_the_type() {
        let s = from_manifest::<Settings>(MANIFEST, Fill::Defaults).unwrap();
        assert!(s.insight_cards && s.tags.aircall && s.tags.sms && s.tags.missed);
        assert_eq!(s.reopen_window_secs, 72 * 3600);
        assert_eq!(s.placeholder_email_domain, "aircall.io");
        assert_eq!(s.callback_markers, ["callback", "call back", "rappel", "rückruf"]);
        assert_eq!(s.call_link(7), "https://dashboard.aircall.io/calls/7");
        assert_eq!(s.upload_max_bytes, 524_288_000);
    }

    #[test]
    fn every_setting_of_plugin_toml_has_a_field() {
        from_manifest::<Settings>(MANIFEST, Fill::Every).unwrap();
    }

    #[test]
    fn the_account_root_drops_api_and_slashes() {
        assert_eq!(account_root("https://acme.gorgias.com/api/").unwrap(), "https://acme.gorgias.com");
        assert!(account_root("").unwrap_err().contains("base_url"));
    }
}
