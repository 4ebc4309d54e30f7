//! `${VAR}` interpolation. `$${` writes a literal `${`.
//!
//! Interpolation happens in the *parsed* document, in string values only: the
//! file is parsed as written first, so a syntax error, a duplicate key, an
//! unknown key or a wrong type is reported with the file's own text (the
//! `${VAR}`), never with the secret the environment put there. Every value
//! taken from the environment is remembered in a [`Redactor`] so that later
//! messages that would quote it show the `${VAR}` instead.

use super::ConfigError;
use std::borrow::Cow;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// Replace every `${NAME}` in one string value with `env(NAME)`; `$${` escapes
/// a literal `${`. `key` names the value in errors. Each substituted value is
/// recorded in `redactor`.
pub fn interpolate(value: &str, key: &str, env: &dyn Fn(&str) -> Option<String>, redactor: &mut Redactor) -> Result<String, ConfigError> {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        if let Some(stripped) = after.strip_prefix("${") {
            out.push_str("${");
            rest = stripped;
        } else if let Some(body) = after.strip_prefix('{') {
            let Some(end) = body.find('}') else {
                return Err(ConfigError::Invalid { key: key.to_string(), message: "unterminated `${`".into() });
            };
            let name = &body[..end];
            let valid = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                return Err(ConfigError::Invalid { key: key.to_string(), message: format!("`${{{name}}}` is not a valid variable name") });
            }
            let substituted = env(name).ok_or_else(|| ConfigError::MissingVar { key: key.to_string(), var: name.to_string() })?;
            redactor.remember(name, &substituted);
            out.push_str(&substituted);
            rest = &body[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// Interpolate every string value of a parsed document in place (keys are left
/// as written). `text` is the document, used to name lines in errors.
pub fn interpolate_document(
    root: &mut DeTable<'_>,
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
    redactor: &mut Redactor,
) -> Result<(), ConfigError> {
    for (k, v) in root.iter_mut() {
        walk(v, k.get_ref(), text, env, redactor)?;
    }
    Ok(())
}

fn walk(
    value: &mut Spanned<DeValue<'_>>,
    key: &str,
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
    redactor: &mut Redactor,
) -> Result<(), ConfigError> {
    let line = line_of(text, value.span().start);
    match value.get_mut() {
        DeValue::String(s) => {
            if s.contains('$') {
                let where_ = format!("{key} (line {line})");
                let new = interpolate(s, &where_, env, redactor)?;
                *s = Cow::Owned(new);
            }
        }
        DeValue::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                walk(item, &format!("{key}[{i}]"), text, env, redactor)?;
            }
        }
        DeValue::Table(table) => {
            for (k, v) in table.iter_mut() {
                walk(v, &format!("{key}.{}", k.get_ref()), text, env, redactor)?;
            }
        }
        DeValue::Integer(_) | DeValue::Float(_) | DeValue::Boolean(_) | DeValue::Datetime(_) => {}
    }
    Ok(())
}

/// 1-based line number of byte offset `at` in `text`.
pub(crate) fn line_of(text: &str, at: usize) -> usize {
    text.as_bytes()[..at.min(text.len())].iter().filter(|b| **b == b'\n').count() + 1
}

/// The values the environment supplied, so that no message quotes them: each
/// occurrence is shown as the `${VAR}` it came from.
#[derive(Clone, Default)]
pub struct Redactor {
    /// (value, variable name), longest value first once [`Redactor::redact`] runs.
    values: Vec<(String, String)>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.values.iter().map(|(_, n)| n.as_str()).collect();
        f.debug_struct("Redactor").field("variables", &names).finish()
    }
}

impl Redactor {
    fn remember(&mut self, name: &str, value: &str) {
        if value.is_empty() || self.values.iter().any(|(v, _)| v == value) {
            return;
        }
        self.values.push((value.to_string(), name.to_string()));
        // Longest first, so a value containing another is replaced whole.
        self.values.sort_by_key(|b| std::cmp::Reverse(b.0.len()));
    }

    /// `text` with every value taken from the environment replaced by its
    /// `${VAR}`, also in the escaped forms a `{:?}` or TOML quoting produces.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (value, name) in &self.values {
            let shown = format!("${{{name}}}");
            out = out.replace(value.as_str(), &shown);
            let escaped = value.escape_debug().to_string();
            if escaped != *value {
                out = out.replace(escaped.as_str(), &shown);
            }
        }
        out
    }

    /// Apply [`Redactor::redact`] to a configuration error's text.
    pub fn redact_error(&self, err: ConfigError) -> ConfigError {
        match err {
            ConfigError::Invalid { key, message } => ConfigError::Invalid { key: self.redact(&key), message: self.redact(&message) },
            ConfigError::Parse { path, message } => ConfigError::Parse { path, message: self.redact(&message) },
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "TOKEN" => Some("s3cr\"et".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    fn one(value: &str) -> Result<String, ConfigError> {
        interpolate(value, "k", &env, &mut Redactor::default())
    }

    #[test]
    fn replaces_known_variables_verbatim() {
        assert_eq!(one("${TOKEN}").unwrap(), "s3cr\"et");
        assert_eq!(one("x${EMPTY}y").unwrap(), "xy");
    }

    #[test]
    fn unset_variable_names_variable_and_key() {
        let msg = one("${NOPE}").unwrap_err().to_string();
        assert!(msg.contains("NOPE") && msg.starts_with("k:"), "{msg}");
    }

    #[test]
    fn escape_and_plain_dollar_are_kept() {
        assert_eq!(one("$${HOME} costs $5").unwrap(), "${HOME} costs $5");
    }

    #[test]
    fn unterminated_is_an_error() {
        assert!(one("${TOKEN").is_err());
    }

    #[test]
    fn document_values_are_interpolated_and_keys_named_with_lines() {
        let text = "a = \"${TOKEN}\"\n[t]\nlist = [\"x\", \"${NOPE}\"]\n";
        let mut doc = DeTable::parse(text).unwrap().into_inner();
        let mut r = Redactor::default();
        let err = interpolate_document(&mut doc, text, &env, &mut r).unwrap_err().to_string();
        assert!(err.contains("t.list[1] (line 3)") && err.contains("${NOPE}"), "{err}");
    }

    #[test]
    fn redactor_hides_plain_and_debug_escaped_values() {
        let mut r = Redactor::default();
        interpolate("${TOKEN}", "k", &env, &mut r).unwrap();
        let quoted = format!("invalid type: string {:?}", "s3cr\"et");
        let shown = r.redact(&quoted);
        assert!(!shown.contains("s3cr"), "{shown}");
        assert!(shown.contains("${TOKEN}"), "{shown}");
    }
}
