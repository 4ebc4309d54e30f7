//! Helpers for a plugin's settings type, read with
//! [`Context::settings`](crate::Context::settings).
//!
//! The host applies `plugin.toml`'s defaults and checks types, allowed values
//! and formats, so the plugin's type only names the settings: no default is
//! repeated in Rust. Mark the type `#[serde(deny_unknown_fields)]` and test it
//! against the manifest with [`from_manifest`] (feature `manifest`), so a
//! setting added to `plugin.toml` without a field fails a unit test.
//!
//! ```
//! #[derive(serde::Deserialize)]
//! #[serde(deny_unknown_fields)]
//! struct Settings {
//!     insight_cards: bool,
//!     /// `""` in `plugin.toml` means "not set".
//!     #[serde(default, deserialize_with = "switchboard_sdk::settings::empty_as_none")]
//!     admin_id: Option<String>,
//! }
//! let s: Settings = serde_json::from_str(r#"{"insight_cards": true, "admin_id": " "}"#).unwrap();
//! assert!(s.insight_cards && s.admin_id.is_none());
//! ```

use serde::{Deserialize, Deserializer};

/// A text setting whose empty (or blank) value means "not set", trimmed.
pub fn empty_as_none<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let text = Option::<String>::deserialize(d)?;
    Ok(text.map(|t| t.trim().to_string()).filter(|t| !t.is_empty()))
}

/// Which settings of the manifest [`from_manifest`] fills in.
#[cfg(feature = "manifest")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fill {
    /// Only the declared defaults: what the plugin receives when the
    /// configuration sets nothing.
    Defaults,
    /// Every declared setting: its default, else a value of its type (the
    /// first allowed value, `""`, `false`, `0`, `null`). With
    /// `deny_unknown_fields` this proves every name maps to a field.
    Every,
}

/// Deserialise `plugin.toml`'s settings into the plugin's type, the way
/// [`Context::settings`](crate::Context::settings) does at run time. For the
/// plugin's unit tests.
#[cfg(feature = "manifest")]
pub fn from_manifest<T: serde::de::DeserializeOwned>(plugin_toml: &str, fill: Fill) -> Result<T, String> {
    let manifest: toml::Table = plugin_toml.parse().map_err(|e| format!("plugin.toml does not parse: {e}"))?;
    let mut values = serde_json::Map::new();
    let declared = manifest.get("settings").and_then(|s| s.as_table()).cloned().unwrap_or_default();
    for (name, decl) in &declared {
        let default = decl.get("default").cloned();
        let value = match (default, fill) {
            (Some(v), _) => v,
            (None, Fill::Defaults) => continue,
            (None, Fill::Every) => match decl.get("type").and_then(|t| t.as_str()) {
                Some("boolean") => toml::Value::Boolean(false),
                Some("integer") => toml::Value::Integer(0),
                Some("string") => match decl.get("allowed").and_then(|a| a.as_array()).and_then(|a| a.first()) {
                    Some(first) => first.clone(),
                    None => toml::Value::String(String::new()),
                },
                _ => {
                    values.insert(name.clone(), serde_json::Value::Null);
                    continue;
                }
            },
        };
        let json = serde_json::to_value(&value).map_err(|e| format!("settings.{name}: {e}"))?;
        values.insert(name.clone(), json);
    }
    serde_json::from_value(serde_json::Value::Object(values)).map_err(|e| format!("plugin.toml's settings do not fit the type: {e}"))
}
