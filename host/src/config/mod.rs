//! The configuration file: one TOML document, `${VAR}` interpolation for secrets,
//! validated at start with errors that name the key.
//!
//! ```toml
//! [server]
//! listen = "127.0.0.1:8080"
//!
//! [[accounts]]
//! id = "main"
//! webhook_token = "${AIRCALL_WEBHOOK_TOKEN}"
//! api_id = "${AIRCALL_API_ID}"
//! api_token = "${AIRCALL_API_TOKEN}"
//!
//! [[integrations]]
//! id = "support-intercom"
//! account = "main"
//! plugin = "intercom"
//! numbers = [777]
//! secrets = { token = "${INTERCOM_TOKEN}" }
//! ```

mod interpolate;
pub mod live;
mod model;
mod validate;

pub use interpolate::{Redactor, interpolate};
pub use live::LiveConfig;
pub use model::*;

use serde::Deserialize;

use std::path::{Path, PathBuf};

/// A configuration problem, naming the key (or file) at fault.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The configuration file's path, as given to [`Config::load`].
        path: PathBuf,
        /// The reading error (not found, permission denied…).
        source: std::io::Error,
    },
    /// A `${VAR}` names an unset environment variable.
    #[error("{key}: environment variable ${{{var}}} is not set")]
    MissingVar {
        /// Where it was used (the key and its line).
        key: String,
        /// The variable's name, without `${}`.
        var: String,
    },
    /// The TOML does not parse or does not fit the schema.
    #[error("config {path}: {message}")]
    Parse {
        /// The configuration file's path, named in the message.
        path: PathBuf,
        /// The parser's message with the offending line of the file as written
        /// (`${VAR}` shown, never its value).
        message: String,
    },
    /// A value is out of range or inconsistent.
    #[error("config key `{key}`: {message}")]
    Invalid {
        /// The dotted key, e.g. `integrations[0].account`.
        key: String,
        /// What is wrong.
        message: String,
    },
}

impl Config {
    /// Read, interpolate, parse and validate a configuration file. Relative paths
    /// inside it are resolved against the file's folder.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
        let base = path.parent().unwrap_or(Path::new("."));
        Self::from_toml(&text, path, base, &|var| std::env::var(var).ok())
    }

    /// Parse configuration text. `env` resolves `${VAR}`; `base` resolves relative paths.
    ///
    /// The text is parsed as written, then `${VAR}`s are replaced in string
    /// values, then the schema is applied: every error quotes the file's text,
    /// and any value that came from the environment is shown as its `${VAR}`.
    pub fn from_toml(text: &str, path: &Path, base: &Path, env: &dyn Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let parse_error = |e: toml::de::Error, redactor: &Redactor| ConfigError::Parse {
            path: path.to_path_buf(),
            message: render_toml_error(text, e.span(), &redactor.redact(e.message())),
        };
        let mut redactor = Redactor::default();
        let mut document = toml::de::DeTable::parse(text).map_err(|e| parse_error(e, &redactor))?;
        interpolate::interpolate_document(document.get_mut(), text, env, &mut redactor)?;
        let mut config = Config::deserialize(toml::de::Deserializer::from(document)).map_err(|e| parse_error(e, &redactor))?;
        config.resolve_paths(base);
        validate::validate(&config).map_err(|e| redactor.redact_error(e))?;
        config.redactor = redactor;
        Ok(config)
    }

    /// `text` with every value this configuration took from the environment
    /// shown as its `${VAR}`: for messages that may quote a configured value.
    pub fn redact(&self, text: &str) -> String {
        self.redactor.redact(text)
    }

    fn resolve_paths(&mut self, base: &Path) {
        let fix = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        fix(&mut self.store.path);
        fix(&mut self.plugins.dir);
        if let Some(key_file) = self.connections.key_file.as_mut() {
            fix(key_file);
        }
        match self.plugins.cache_dir.as_mut() {
            Some(dir) => fix(dir),
            // Next to the store, not inside the plugin directory (which is
            // watched, may be read-only, and is what operators copy around).
            None => self.plugins.cache_dir = Some(default_cache_dir(&self.store.path)),
        }
    }
}

/// The compile cache when `plugins.cache_dir` is not set: `plugin-cache/` in
/// the store file's folder.
pub fn default_cache_dir(store_path: &Path) -> PathBuf {
    store_path.parent().unwrap_or(Path::new(".")).join("plugin-cache")
}

/// A TOML error as `toml` shows it (line, column, the line with a caret, the
/// message), but quoting `text` (the file as written) and the given message.
fn render_toml_error(text: &str, span: Option<std::ops::Range<usize>>, message: &str) -> String {
    let Some(span) = span else {
        return message.to_string();
    };
    let start = span.start.min(text.len());
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_no = interpolate::line_of(text, start);
    let content = text[line_start..].split('\n').next().unwrap_or("").trim_end_matches('\r');
    let column = text[line_start..start].chars().count();
    let width = text[start..span.end.clamp(start, text.len())].split('\n').next().map_or(1, |s| s.chars().count().max(1));
    let gutter = " ".repeat(line_no.to_string().len());
    format!(
        "TOML parse error at line {line_no}, column {}\n{gutter} |\n{line_no} | {content}\n{gutter} | {}{}\n{message}",
        column + 1,
        " ".repeat(column),
        "^".repeat(width),
    )
}
