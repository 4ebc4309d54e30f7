//! `${VAR}` interpolation. `$${` writes a literal `${`.

use super::ConfigError;

/// Replace every `${NAME}` in `text` with `env(NAME)`. An unset variable is an
/// error naming the line it was used on; `$${` escapes a literal `${`.
pub fn interpolate(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<String, ConfigError> {
    let mut out = String::with_capacity(text.len());
    for (line_no, line) in text.split_inclusive('\n').enumerate() {
        let mut rest = line;
        while let Some(pos) = rest.find('$') {
            out.push_str(&rest[..pos]);
            let after = &rest[pos + 1..];
            if let Some(stripped) = after.strip_prefix("${") {
                out.push_str("${");
                rest = stripped;
            } else if let Some(body) = after.strip_prefix('{') {
                let Some(end) = body.find('}') else {
                    return Err(ConfigError::Invalid {
                        key: format!("line {}", line_no + 1),
                        message: "unterminated `${`".into(),
                    });
                };
                let name = &body[..end];
                let valid = !name.is_empty()
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                if !valid {
                    return Err(ConfigError::Invalid {
                        key: format!("line {}", line_no + 1),
                        message: format!("`${{{name}}}` is not a valid variable name"),
                    });
                }
                let value = env(name).ok_or_else(|| ConfigError::MissingVar {
                    key: format!("line {}", line_no + 1),
                    var: name.to_string(),
                })?;
                // Keep the TOML valid whatever the secret contains.
                out.push_str(&escape_for_toml_string(&value));
                rest = &body[end + 1..];
            } else {
                out.push('$');
                rest = after;
            }
        }
        out.push_str(rest);
    }
    Ok(out)
}

/// Secrets land inside TOML strings; escape what would end or break them.
fn escape_for_toml_string(value: &str) -> String {
    let mut s = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            '\r' => s.push_str("\\r"),
            '\t' => s.push_str("\\t"),
            c => s.push(c),
        }
    }
    s
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

    #[test]
    fn replaces_known_variables_and_escapes_quotes() {
        let out = interpolate("a = \"${TOKEN}\"\nb = \"x${EMPTY}y\"\n", &env).unwrap();
        assert_eq!(out, "a = \"s3cr\\\"et\"\nb = \"xy\"\n");
        let parsed: toml::Value = toml::from_str(&out).unwrap();
        assert_eq!(parsed["a"].as_str(), Some("s3cr\"et"));
    }

    #[test]
    fn unset_variable_names_variable_and_line() {
        let err = interpolate("a = 1\nb = \"${NOPE}\"\n", &env).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("NOPE") && msg.contains("line 2"), "{msg}");
    }

    #[test]
    fn escape_and_plain_dollar_are_kept() {
        assert_eq!(interpolate("p = \"$${HOME} costs $5\"", &env).unwrap(), "p = \"${HOME} costs $5\"");
    }

    #[test]
    fn unterminated_is_an_error() {
        assert!(interpolate("a = \"${TOKEN\"", &env).is_err());
    }
}
