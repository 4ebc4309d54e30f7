//! The integration's settings (declared with defaults in `plugin.toml`), typed.

use switchboard_sdk::Context;

/// Intercom data region (intercom-helpscout-api.md §1.1, §1.11).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Region {
    /// `api.intercom.io`, `app.intercom.com`.
    Us,
    /// `api.eu.intercom.io`, `app.eu.intercom.com`.
    Eu,
    /// `api.au.intercom.io`, `app.au.intercom.com`.
    Au,
}

impl Region {
    /// Parses `US` / `EU` / `AU` (any case); anything else is `None`.
    pub fn parse(s: &str) -> Option<Region> {
        match s.trim().to_ascii_uppercase().as_str() {
            "US" | "" => Some(Region::Us),
            "EU" => Some(Region::Eu),
            "AU" => Some(Region::Au),
            _ => None,
        }
    }

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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsTarget {
    /// The contact's last open conversation, else a new one.
    LastOpenConversation,
    /// Always a new conversation.
    NewConversation,
}

/// Everything the connector reads from its configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// REST API root, without a trailing slash.
    pub api_base: String,
    /// Web app root for links, without a trailing slash.
    pub app_base: String,
    /// Copy matching Intercom contacts into Aircall.
    pub contact_sync: bool,
    /// Create leads for unknown and anonymous callers.
    pub create_contacts: bool,
    /// Push insight cards on calls.
    pub insight_cards: bool,
    /// Where SMS go.
    pub sms_target: SmsTarget,
    /// The set-up admin, when configured (else `GET /me`).
    pub setup_admin_id: Option<String>,
    /// The IVR option that triggers Switch, when configured.
    pub switch_ivr_option: Option<String>,
}

impl Settings {
    /// Reads the settings; a value that makes no sense is a configuration error (permanent).
    pub fn from_context(ctx: &Context) -> Result<Settings, String> {
        let text = |name: &str| {
            ctx.setting_str(name)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let region_text = text("region").unwrap_or_else(|| "US".into());
        let region = Region::parse(&region_text)
            .ok_or_else(|| format!("setting region: {region_text:?} is not US, EU or AU"))?;
        let api_base = text("base_url")
            .unwrap_or_else(|| region.api_base().to_string())
            .trim_end_matches('/')
            .to_string();
        if !(api_base.starts_with("https://") || api_base.starts_with("http://")) {
            return Err(format!(
                "setting base_url: {api_base:?} is not an http(s) URL"
            ));
        }
        let app_base = text("app_url")
            .unwrap_or_else(|| region.app_base().to_string())
            .trim_end_matches('/')
            .to_string();
        let sms_target = match text("sms_target").as_deref() {
            None | Some("last_open_conversation") => SmsTarget::LastOpenConversation,
            Some("new_conversation") => SmsTarget::NewConversation,
            Some(other) => {
                return Err(format!(
                    "setting sms_target: {other:?} is not last_open_conversation or new_conversation"
                ));
            }
        };
        let setup_admin_id = text("setup_admin_id");
        if let Some(id) = &setup_admin_id
            && !id.chars().all(|c| c.is_ascii_digit())
        {
            return Err(format!(
                "setting setup_admin_id: {id:?} is not an Intercom admin id (digits)"
            ));
        }
        Ok(Settings {
            api_base,
            app_base,
            contact_sync: ctx.setting_bool("contact_sync").unwrap_or(true),
            create_contacts: ctx.setting_bool("create_contacts").unwrap_or(true),
            insight_cards: ctx.setting_bool("insight_cards").unwrap_or(true),
            sms_target,
            setup_admin_id,
            switch_ivr_option: text("switch_ivr_option"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_map_to_their_hosts() {
        assert_eq!(
            Region::parse("eu").map(Region::api_base),
            Some("https://api.eu.intercom.io")
        );
        assert_eq!(
            Region::parse("AU").map(Region::app_base),
            Some("https://app.au.intercom.com")
        );
        assert_eq!(Region::parse(""), Some(Region::Us));
        assert_eq!(Region::parse("mars"), None);
    }
}
