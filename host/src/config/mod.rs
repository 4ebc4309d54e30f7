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
mod model;
mod validate;

pub use interpolate::interpolate;
pub use model::*;

use std::path::{Path, PathBuf};

/// A configuration problem, naming the key (or file) at fault.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A `${VAR}` names an unset environment variable.
    #[error("{key}: environment variable ${{{var}}} is not set")]
    MissingVar {
        /// Where it was used (line of the file).
        key: String,
        /// The variable.
        var: String,
    },
    /// The TOML does not parse or does not fit the schema.
    #[error("config {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message, which names the key.
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
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        Self::from_toml(&text, path, base, &|var| std::env::var(var).ok())
    }

    /// Parse configuration text. `env` resolves `${VAR}`; `base` resolves relative paths.
    pub fn from_toml(
        text: &str,
        path: &Path,
        base: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let text = interpolate(text, env)?;
        let mut config: Config = toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        config.resolve_paths(base);
        validate::validate(&config)?;
        Ok(config)
    }

    fn resolve_paths(&mut self, base: &Path) {
        let fix = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        fix(&mut self.store.path);
        fix(&mut self.plugins.dir);
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
