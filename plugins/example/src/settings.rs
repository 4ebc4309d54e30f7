//! The integration's settings as a serde type: one field per setting of
//! `plugin.toml`, whose defaults the host applies (they are not repeated here).

use serde::Deserialize;
use switchboard_sdk::{Context, PluginError};

/// Everything the connector reads from its configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Push an insight card with the caller's number on `call.created`.
    pub insight_cards: bool,
    /// The notes API's root, without a trailing `/`: the integration's
    /// `base_url`, else the manifest's `http.default_base_url`.
    #[serde(skip)]
    pub base_url: String,
}

impl Settings {
    /// Read this job's settings; a mismatch with `plugin.toml` is a
    /// configuration error, not worth retrying.
    pub fn from_context(ctx: &Context) -> Result<Settings, PluginError> {
        let mut settings = ctx.settings::<Settings>().map_err(PluginError::permanent)?;
        settings.base_url = ctx
            .base_url()
            .ok_or_else(|| PluginError::permanent("no base_url: plugin.toml's http.default_base_url is the notes API root"))?
            .to_string();
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
        assert!(!s.insight_cards);
    }

    #[test]
    fn every_setting_of_plugin_toml_has_a_field() {
        from_manifest::<Settings>(MANIFEST, Fill::Every).unwrap();
    }
}
