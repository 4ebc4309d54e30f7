//! The integration's settings (`plugin.toml` declares them with their defaults).

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

/// Typed settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `https://{account}.gorgias.com`, without a trailing slash.
    pub base_url: String,
    /// Push insight cards on `call.created`.
    pub insight_cards: bool,
    /// Tag groups to apply.
    pub tags: TagChoice,
    /// Reopen window for SMS conversations, seconds.
    pub reopen_window_secs: i64,
    /// Domain of generated e-mails.
    pub placeholder_email_domain: String,
    /// Words that mark a callback request (lower case).
    pub callback_markers: Vec<String>,
    /// Dashboard link pattern with `{id}`.
    pub dashboard_call_url: String,
    /// Largest file uploaded; bigger ones are linked.
    pub upload_max_bytes: u64,
}

impl Settings {
    /// Read and check the settings; a missing or malformed account URL is permanent.
    pub fn read(ctx: &Context) -> Result<Settings, PluginError> {
        let base_url = ctx.setting_str("base_url").unwrap_or("").trim().trim_end_matches('/').to_string();
        if !(base_url.starts_with("https://") || base_url.starts_with("http://")) {
            return Err(PluginError::permanent(format!(
                "setting base_url {base_url:?} must be the account's domain, e.g. https://acme.gorgias.com"
            )));
        }
        let base_url = base_url.strip_suffix("/api").unwrap_or(&base_url).to_string();
        let names: Vec<String> = ctx.setting_json("tags").unwrap_or_else(|| {
            ["aircall", "direction", "agent_tags", "number", "team", "voicemail", "callback", "missed", "sms"].map(String::from).to_vec()
        });
        let on = |n: &str| names.iter().any(|x| x.eq_ignore_ascii_case(n));
        let tags = TagChoice {
            aircall: on("aircall"),
            direction: on("direction"),
            agent_tags: on("agent_tags"),
            number: on("number"),
            team: on("team"),
            voicemail: on("voicemail"),
            callback: on("callback"),
            missed: on("missed"),
            sms: on("sms"),
        };
        let hours = ctx.setting_i64("reopen_window_hours").unwrap_or(72).clamp(0, 24 * 365);
        let domain = ctx.setting_str("placeholder_email_domain").unwrap_or("aircall.io").trim().trim_start_matches('@').to_string();
        let markers: Vec<String> = ctx
            .setting_json::<Vec<String>>("callback_markers")
            .unwrap_or_else(|| vec!["callback".into(), "call back".into(), "rappel".into(), "rückruf".into()])
            .into_iter()
            .map(|m| m.trim().to_lowercase())
            .filter(|m| !m.is_empty())
            .collect();
        Ok(Settings {
            base_url,
            insight_cards: ctx.setting_bool("insight_cards").unwrap_or(true),
            tags,
            reopen_window_secs: hours * 3600,
            placeholder_email_domain: if domain.is_empty() { "aircall.io".into() } else { domain },
            callback_markers: markers,
            dashboard_call_url: ctx.setting_str("dashboard_call_url").unwrap_or("https://dashboard.aircall.io/calls/{id}").to_string(),
            upload_max_bytes: ctx.setting_i64("upload_max_bytes").unwrap_or(524_288_000).max(0) as u64,
        })
    }

    /// The link to a call in the Aircall dashboard.
    pub fn call_link(&self, call_id: u64) -> String {
        self.dashboard_call_url.replace("{id}", &call_id.to_string())
    }
}
