//! The settings form a plugin's `plugin.toml` implies, and reading it back.
//!
//! Each `[settings.NAME]` becomes a field named `setting.NAME`: a boolean a
//! checkbox, an integer a number input (with min / max), a string with
//! `allowed` values a select, another string a text input, a json setting a
//! textarea (JSON). Each secret the manifest declares that no OAuth connection
//! supplies becomes a password input `secret.NAME`, never filled in: left
//! empty, the stored value stays. What the form sends is only parsed here
//! (a number that is not a number, JSON that does not parse); the rules are the
//! manifest's, applied afterwards exactly as `switchboard check` applies them.

use crate::registry::manifest::{Manifest, SettingType};
use std::collections::BTreeMap;

/// Prefix of a setting's form field.
pub const SETTING: &str = "setting.";
/// Prefix of a secret's form field.
pub const SECRET: &str = "secret.";

/// One input of the form.
pub struct Field {
    /// The form field's name (`setting.matching_rule`), also its `id`.
    pub name: String,
    /// The setting or secret it sets.
    pub label: String,
    /// `checkbox`, `number`, `select`, `textarea`, `text` or `password`.
    pub kind: &'static str,
    /// The current value as the input shows it (never a secret's).
    pub value: String,
    /// A checkbox's state.
    pub checked: bool,
    /// A select's choices.
    pub options: Vec<String>,
    /// `min` / `max` of a number input (empty: none).
    pub min: String,
    /// See `min`.
    pub max: String,
    /// The manifest's description, and the default.
    pub help: String,
    /// Whether it must be given.
    pub required: bool,
    /// What is wrong with what was sent (beside the field).
    pub error: String,
}

/// A value as an input shows it.
fn shown(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Array(_) | toml::Value::Table(_) => serde_json::to_string(v).unwrap_or_default(),
        other => other.to_string(),
    }
}

/// The fields of `manifest`'s settings (except `skip`, the number picker's)
/// and static secrets, filled from `values` (what was stored, or sent).
pub fn fields(manifest: &Manifest, values: &BTreeMap<String, toml::Value>, secrets_set: &[String], skip: Option<&str>) -> Vec<Field> {
    let mut out = Vec::new();
    for (name, decl) in manifest.settings.iter().filter(|(n, _)| Some(n.as_str()) != skip) {
        let value = values.get(name).or(decl.default.as_ref());
        let default = decl.default.as_ref().map(|d| format!(" Default: {}.", shown(d))).unwrap_or_default();
        let mut field = Field {
            name: format!("{SETTING}{name}"),
            label: name.clone(),
            kind: "text",
            value: value.map(shown).unwrap_or_default(),
            checked: false,
            options: Vec::new(),
            min: decl.min.map(|m| m.to_string()).unwrap_or_default(),
            max: decl.max.map(|m| m.to_string()).unwrap_or_default(),
            help: format!("{}{default}", decl.description),
            required: decl.required,
            error: String::new(),
        };
        match decl.kind {
            SettingType::Boolean => {
                field.kind = "checkbox";
                field.checked = value.and_then(toml::Value::as_bool).unwrap_or(false);
            }
            SettingType::Integer if decl.allowed.is_empty() => field.kind = "number",
            SettingType::String | SettingType::Integer if !decl.allowed.is_empty() => {
                field.kind = "select";
                field.options = decl.allowed.iter().map(shown).collect();
            }
            SettingType::Json => field.kind = "textarea",
            _ => {}
        }
        out.push(field);
    }
    for (name, decl) in manifest.secrets.iter().filter(|(_, d)| d.provider.is_none()) {
        let kept = if secrets_set.contains(name) { " A value is stored; leave empty to keep it." } else { "" };
        out.push(Field {
            name: format!("{SECRET}{name}"),
            label: name.clone(),
            kind: "password",
            value: String::new(),
            checked: false,
            options: Vec::new(),
            min: String::new(),
            max: String::new(),
            help: format!("{}{kept}", decl.description),
            required: decl.required && !secrets_set.contains(name),
            error: String::new(),
        });
    }
    out
}

/// What the form sent, read: the settings (`skip` excluded), the secrets
/// given (empty ones keep the stored value), and per field what could not be
/// read.
#[derive(Debug, Default)]
pub struct Sent {
    /// Settings by name; an empty input is left out (the default applies).
    pub settings: BTreeMap<String, toml::Value>,
    /// Secrets by name, as typed.
    pub secrets: BTreeMap<String, String>,
    /// Form field → error.
    pub errors: BTreeMap<String, String>,
}

/// Reads the settings and secrets out of the form `pairs`.
pub fn read(manifest: &Manifest, pairs: &[(String, String)], skip: Option<&str>) -> Sent {
    let get = |field: &str| pairs.iter().find(|(k, _)| k == field).map(|(_, v)| v.as_str());
    let mut sent = Sent::default();
    for (name, decl) in manifest.settings.iter().filter(|(n, _)| Some(n.as_str()) != skip) {
        let field = format!("{SETTING}{name}");
        let raw = get(&field).map(str::trim);
        let value = match (decl.kind, raw) {
            // An unchecked checkbox sends nothing.
            (SettingType::Boolean, raw) => Ok(Some(toml::Value::Boolean(matches!(raw, Some("true" | "on" | "1"))))),
            (_, None | Some("")) => Ok(None),
            (SettingType::Integer, Some(text)) => {
                text.parse::<i64>().map(|i| Some(toml::Value::Integer(i))).map_err(|_| format!("{text:?} is not a whole number"))
            }
            (SettingType::String, Some(text)) => Ok(Some(toml::Value::String(text.to_string()))),
            (SettingType::Json, Some(text)) => match serde_json::from_str::<serde_json::Value>(text) {
                Err(e) => Err(format!("not JSON: {e}")),
                Ok(json) => {
                    serde_json::from_value::<toml::Value>(json).map(Some).map_err(|e| format!("not a value a setting can hold: {e}"))
                }
            },
        };
        match value {
            Ok(Some(v)) => {
                sent.settings.insert(name.clone(), v);
            }
            Ok(None) => {}
            Err(e) => {
                sent.errors.insert(field, format!("{name}: {e}"));
            }
        }
    }
    for name in manifest.secrets.iter().filter(|(_, d)| d.provider.is_none()).map(|(n, _)| n) {
        if let Some(v) = get(&format!("{SECRET}{name}")).filter(|v| !v.trim().is_empty()) {
            sent.secrets.insert(name.clone(), v.trim().to_string());
        }
    }
    sent
}

/// The form field an error of the manifest's checks is about. `message` reads
/// `console integration "x".settings.window: …` ([`crate::config::live::console_key`]);
/// `per_number` is the number picker's setting, shown as the `numbers` field.
pub fn field_of(message: &str, id: &str, per_number: Option<&str>) -> String {
    let prefix = format!("{}.", crate::config::live::console_key(id));
    let rest = message.strip_prefix(&prefix).unwrap_or(message);
    let path = rest.split(':').next().unwrap_or("");
    let mut parts = path.splitn(2, '.');
    let (head, tail) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    // `settings.tags[1]`, `settings.mailboxes."2001"`: the setting's own name.
    let name: String = tail.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-').collect();
    match head {
        "settings" if Some(name.as_str()) == per_number => "numbers".into(),
        "settings" => format!("{SETTING}{name}"),
        "secrets" => format!("{SECRET}{name}"),
        "base_url" | "default_region" | "numbers" | "account" | "plugin" | "id" => head.into(),
        _ => "form".into(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const MANIFEST: &str = r#"
name = "x"
version = "0.1.0"
contract = "0.2.0"
[secrets.api]
scheme = "bearer"
[secrets.oauth]
provider = "helpscout"
required = false
[settings.flag]
type = "boolean"
default = true
[settings.window]
type = "integer"
default = 48
min = 0
[settings.rule]
type = "string"
default = "a"
allowed = ["a", "b"]
[settings.map]
type = "json"
format = "id_map"
"#;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn each_type_gets_its_input_and_secrets_from_a_connection_get_none() {
        let m = Manifest::parse(MANIFEST).unwrap();
        let f = fields(&m, &BTreeMap::new(), &[], Some("map"));
        let kinds: Vec<(&str, &str)> = f.iter().map(|f| (f.name.as_str(), f.kind)).collect();
        assert_eq!(
            kinds,
            [("setting.flag", "checkbox"), ("setting.rule", "select"), ("setting.window", "number"), ("secret.api", "password")]
        );
        assert!(f[0].checked, "the default applies");
        assert_eq!((f[1].options.clone(), f[2].value.as_str(), f[2].min.as_str()), (vec!["a".to_string(), "b".to_string()], "48", "0"));
        assert!(f[3].value.is_empty() && f[3].required);
        let kept = fields(&m, &BTreeMap::new(), &["api".to_string()], None);
        assert!(!kept.iter().find(|f| f.name == "secret.api").unwrap().required, "a stored secret need not be typed again");
        assert_eq!(kept.iter().find(|f| f.name == "setting.map").unwrap().kind, "textarea");
    }

    #[test]
    fn what_is_sent_is_read_by_type_and_unreadable_values_name_their_field() {
        let m = Manifest::parse(MANIFEST).unwrap();
        let sent = read(&m, &pairs(&[("setting.window", " 12 "), ("setting.rule", "b"), ("secret.api", "tok"), ("setting.map", "")]), None);
        assert!(sent.errors.is_empty(), "{:?}", sent.errors);
        assert_eq!(sent.settings["window"], toml::Value::Integer(12));
        assert_eq!(sent.settings["flag"], toml::Value::Boolean(false), "an unchecked box is false");
        assert!(!sent.settings.contains_key("map"), "empty: the default applies");
        assert_eq!(sent.secrets["api"], "tok");
        let bad = read(&m, &pairs(&[("setting.window", "12h"), ("setting.map", "{oops")]), None);
        assert!(bad.errors["setting.window"].contains("\"12h\" is not a whole number"), "{:?}", bad.errors);
        assert!(bad.errors["setting.map"].starts_with("map: not JSON"), "{:?}", bad.errors);
    }

    #[test]
    fn check_errors_are_put_beside_their_field() {
        let at = |m: &str| field_of(m, "hs", Some("mailboxes"));
        assert_eq!(at("console integration \"hs\".settings.window: -1 is less than the minimum 0"), "setting.window");
        assert_eq!(at("console integration \"hs\".settings.tags[1]: \"c\" is not one of"), "setting.tags");
        assert_eq!(at("console integration \"hs\".settings.mailboxes: required by plugin"), "numbers");
        assert_eq!(at("console integration \"hs\".secrets.api: required"), "secret.api");
        assert_eq!(at("console integration \"hs\".base_url: not an absolute URL"), "base_url");
        assert_eq!(at("something else"), "form");
    }
}
