//! The integration's settings: the names `plugin.toml` declares (its defaults
//! are applied by the host, not repeated here) and what the plugin derives
//! from them.

use serde::Deserialize;
use switchboard_sdk::Context;
use switchboard_sdk::settings::empty_as_none;

/// Intercom data region (intercom-helpscout-api.md §1.1, §1.11).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Region {
    /// `api.intercom.io`, `app.intercom.com`.
    Us,
    /// `api.eu.intercom.io`, `app.eu.intercom.com`.
    Eu,
    /// `api.au.intercom.io`, `app.au.intercom.com`.
    Au,
}

impl Region {
    /// The REST API root of the region.
    pub fn api_base(self) -> &'static str {
        match self {
            Region::Us => "https://api.intercom.io",
            Region::Eu => "https://api.eu.intercom.io",
            Region::Au => "https://api.au.intercom.io",
        }
    }

    /// The web app root of the region (links for agents).
    pub fn app_base(self) -> &'static str {
        match self {
            Region::Us => "https://app.intercom.com",
            Region::Eu => "https://app.eu.intercom.com",
            Region::Au => "https://app.au.intercom.com",
        }
    }
}

/// Where SMS are logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmsTarget {
    /// The contact's last open conversation, else a new one.
    LastOpenConversation,
    /// Always a new conversation.
    NewConversation,
}

/// The settings as `plugin.toml` declares them (one field per setting).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Intercom data region; picks the API and app hosts.
    pub region: Region,
    /// Copy matching Intercom contacts into Aircall.
    pub contact_sync: bool,
    /// Create leads for unknown and anonymous callers.
    pub create_contacts: bool,
    /// Push insight cards on calls.
    pub insight_cards: bool,
    /// Where SMS go.
    pub sms_target: SmsTarget,
    /// The set-up admin, when configured (else `GET /me`).
    #[serde(deserialize_with = "empty_as_none")]
    pub setup_admin_id: Option<String>,
    /// The IVR option that triggers Switch, when configured.
    #[serde(deserialize_with = "empty_as_none")]
    pub switch_ivr_option: Option<String>,
    /// Web app root for links, when it is not the region's.
    #[serde(deserialize_with = "empty_as_none")]
    app_url: Option<String>,
    /// REST API root, without a trailing slash: the integration's `base_url`
    /// (a proxy, the sandbox), else the region's host.
    #[serde(skip)]
    pub api_base: String,
    /// Web app root for links, without a trailing slash: `app_url`, else the region's.
    #[serde(skip)]
    pub app_base: String,
}

impl Settings {
    /// Reads the settings and derives the API and app roots.
    pub fn from_context(ctx: &Context) -> Result<Settings, String> {
        ctx.settings::<Settings>()?.derive(ctx.base_url())
    }

    /// Fills in what follows from the declared values and the integration's `base_url`.
    fn derive(mut self, base_url: Option<&str>) -> Result<Settings, String> {
        self.api_base = base_url.unwrap_or(self.region.api_base()).trim_end_matches('/').to_string();
        self.app_base = self.app_url.as_deref().unwrap_or(self.region.app_base()).trim_end_matches('/').to_string();
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_sdk::settings::{Fill, from_manifest};

    const MANIFEST: &str = include_str!("../plugin.toml");

    #[test]
    fn plugin_toml_defaults_fit_the_type() {
        let s: Settings = from_manifest::<Settings>(MANIFEST, Fill::Defaults).and_then(|s| s.derive(None)).unwrap();
        assert_eq!(s.region, Region::Us);
        assert!(s.contact_sync && s.create_contacts && s.insight_cards);
        assert_eq!(s.sms_target, SmsTarget::LastOpenConversation);
        assert_eq!((s.setup_admin_id, s.switch_ivr_option), (None, None));
        assert_eq!((s.api_base.as_str(), s.app_base.as_str()), ("https://api.intercom.io", "https://app.intercom.com"));
    }

    #[test]
    fn every_setting_of_plugin_toml_has_a_field() {
        from_manifest::<Settings>(MANIFEST, Fill::Every).unwrap();
    }

    #[test]
    fn regions_map_to_their_hosts_and_base_url_wins() {
        let eu: Settings = serde_json::from_str::<Settings>(
            r#"{"region":"EU","contact_sync":true,"create_contacts":true,"insight_cards":true,"sms_target":"new_conversation","setup_admin_id":"","switch_ivr_option":"","app_url":""}"#,
        )
        .unwrap();
        let derived = eu.clone().derive(None).unwrap();
        assert_eq!((derived.api_base.as_str(), derived.app_base.as_str()), ("https://api.eu.intercom.io", "https://app.eu.intercom.com"));
        assert_eq!(eu.derive(Some("http://127.0.0.1:9/")).unwrap().api_base, "http://127.0.0.1:9");
    }
}
