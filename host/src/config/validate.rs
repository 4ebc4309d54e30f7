//! Checks that need more than the schema: uniqueness, references, ranges.

use super::{AccountConfig, Config, ConfigError, IntegrationConfig};
use std::collections::HashSet;

/// Shortest accepted `accounts[].webhook_token` (README, Configuration).
pub const MIN_WEBHOOK_TOKEN_LEN: usize = 8;

fn invalid(key: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { key: key.into(), message: message.into() }
}

fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Validate a parsed configuration.
pub fn validate(config: &Config) -> Result<(), ConfigError> {
    let limits = &config.limits;
    if limits.concurrency == 0 {
        return Err(invalid("limits.concurrency", "must be at least 1"));
    }
    if limits.job_timeout_ms < 10 {
        return Err(invalid("limits.job_timeout_ms", "must be at least 10"));
    }
    if !(1..=20).contains(&limits.timeout_attempts) {
        return Err(invalid("limits.timeout_attempts", "must be between 1 and 20"));
    }
    if !(1..=4096).contains(&limits.memory_mib) {
        return Err(invalid("limits.memory_mib", "must be between 1 and 4096"));
    }
    if config.server.max_body_bytes == 0 {
        return Err(invalid("server.max_body_bytes", "must be positive"));
    }
    if config.store.dedupe_days == 0 {
        return Err(invalid("store.dedupe_days", "must be at least 1"));
    }
    if config.store.logged_days < config.store.dedupe_days {
        return Err(invalid("store.logged_days", "must be at least store.dedupe_days"));
    }
    let r = &config.reconcile;
    if !(r.budget_share > 0.0 && r.budget_share <= 0.5) {
        return Err(invalid(
            "reconcile.budget_share",
            "must be more than 0 and at most 0.5 (the rest is kept for insight cards and contact sync)",
        ));
    }
    if r.every_seconds == 0 || r.window_minutes == 0 || r.max_lookback_hours == 0 {
        return Err(invalid("reconcile", "every_seconds, window_minutes and max_lookback_hours must be at least 1"));
    }
    if r.max_lookback_hours * 60 < r.window_minutes {
        return Err(invalid("reconcile.max_lookback_hours", "must cover reconcile.window_minutes"));
    }
    validate_console(config)?;
    if let Some(url) = &config.store.url {
        if config.store.path_given {
            return Err(invalid("store.url", "set either store.url (PostgreSQL) or store.path (SQLite), not both"));
        }
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(invalid("store.url", "must start with postgres:// or postgresql://"));
        }
        if let Err(e) = crate::store::postgres::parse_url(url) {
            return Err(invalid("store.url", e.0.trim_start_matches("store.url: ").to_string()));
        }
    }
    if !(2..=1000).contains(&config.store.pool_size) {
        return Err(invalid("store.pool_size", "must be between 2 and 1000"));
    }
    if !(3..=600).contains(&config.store.lease_seconds) {
        return Err(invalid("store.lease_seconds", "must be between 3 and 600"));
    }
    if let Some(id) = &config.store.host_id
        && (id.is_empty() || id.len() > 64 || !id.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)))
    {
        return Err(invalid("store.host_id", "must be 1 to 64 letters, digits, '-', '_' or '.'"));
    }

    let providers = crate::providers::Providers::builtin();
    for (name, app) in &config.oauth {
        let key = format!("oauth.{name}");
        if providers.get(name).is_none() {
            return Err(invalid(key, format!("no OAuth provider named {name:?} (known: {})", providers.names().join(", "))));
        }
        if app.client_id.trim().is_empty() {
            return Err(invalid(format!("{key}.client_id"), "is empty"));
        }
        if app.client_secret.trim().is_empty() {
            return Err(invalid(format!("{key}.client_secret"), "is empty (is the environment variable it comes from set?)"));
        }
        for (field, url) in [("authorize_url", &app.authorize_url), ("token_url", &app.token_url)] {
            if let Some(u) = url {
                let templated = u.replace(['{', '}'], "");
                if url::Url::parse(&templated).is_err() {
                    return Err(invalid(format!("{key}.{field}"), format!("not a URL: {u:?}")));
                }
            }
        }
    }
    if config.connections.max_refresh_failures == 0 {
        return Err(invalid("connections.max_refresh_failures", "must be at least 1"));
    }
    let mut accounts = HashSet::new();
    let mut tokens = HashSet::new();
    for (i, account) in config.accounts.iter().enumerate() {
        let key = format!("accounts[{i}]");
        account_fields(&key, account, config.oauth.contains_key("aircall"))?;
        if !accounts.insert(account.id.as_str()) {
            return Err(invalid(format!("{key}.id"), format!("duplicate account id {:?}", account.id)));
        }
        if !account.webhook_token.is_empty() && !tokens.insert(account.webhook_token.as_str()) {
            return Err(invalid(format!("{key}.webhook_token"), "two accounts share one webhook token"));
        }
    }

    let mut integrations = HashSet::new();
    for (i, integration) in config.integrations.iter().enumerate() {
        let key = format!("integrations[{i}]");
        integration_fields(&key, integration, &accounts)?;
        if !integrations.insert(integration.id.as_str()) {
            return Err(invalid(format!("{key}.id"), format!("duplicate integration id {:?}", integration.id)));
        }
    }
    Ok(())
}

/// The checks of one account on its own: its id, its webhook token, its
/// credentials (an OAuth account needs the host's Aircall app, `aircall_app`,
/// and no static key), `api_base` and its budget. `key` names it in errors
/// (`accounts[0]`, `console account "x"`). Ids and webhook tokens shared with
/// other accounts are the callers' to check: the file's and the console's
/// ([`super::live::merge_accounts`]) accounts pass the same.
pub fn account_fields(key: &str, account: &AccountConfig, aircall_app: bool) -> Result<(), ConfigError> {
    if !valid_id(&account.id) {
        return Err(invalid(format!("{key}.id"), "use 1-64 letters, digits, '-' or '_'"));
    }
    if account.oauth && account.webhook_token.is_empty() {
        // The install creates the webhook and keeps its token.
    } else if account.webhook_token.len() < MIN_WEBHOOK_TOKEN_LEN {
        return Err(invalid(format!("{key}.webhook_token"), format!("must be at least {MIN_WEBHOOK_TOKEN_LEN} characters")));
    }
    if account.oauth && (account.api_id.is_some() || account.api_token.is_some()) {
        return Err(invalid(format!("{key}.oauth"), "an OAuth account takes its API token from the connection: remove api_id / api_token"));
    }
    if account.oauth && !aircall_app {
        return Err(invalid(format!("{key}.oauth"), "needs the host's Aircall app: add [oauth.aircall] with client_id and client_secret"));
    }
    match url::Url::parse(&account.api_base) {
        Err(_) => return Err(invalid(format!("{key}.api_base"), format!("not a URL: {:?}", account.api_base))),
        Ok(u) if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() => {
            return Err(invalid(format!("{key}.api_base"), format!("not an http(s) URL with a host: {:?}", account.api_base)));
        }
        Ok(_) => {}
    }
    if account.api_requests_per_minute == 0 {
        return Err(invalid(format!("{key}.api_requests_per_minute"), "must be at least 1"));
    }
    Ok(())
}

/// The checks of one integration that need no plugin: its id, its account
/// (one of `accounts`), the plugin named, `default_region`, `base_url` and the
/// reserved setting `base_url`. `key` names it in errors (`integrations[0]`).
/// The file's integrations and the console's ([`super::live`]) pass the same.
pub fn integration_fields(key: &str, integration: &IntegrationConfig, accounts: &HashSet<&str>) -> Result<(), ConfigError> {
    if !valid_id(&integration.id) {
        return Err(invalid(format!("{key}.id"), "use 1-64 letters, digits, '-' or '_'"));
    }
    if !accounts.contains(integration.account.as_str()) {
        let mut known: Vec<&&str> = accounts.iter().collect();
        known.sort();
        return Err(invalid(format!("{key}.account"), format!("no account with id {:?} (defined: {known:?})", integration.account)));
    }
    if integration.plugin.is_empty() {
        return Err(invalid(format!("{key}.plugin"), "must name a plugin"));
    }
    if let Some(region) = &integration.default_region
        && (region.len() != 2 || !region.chars().all(|c| c.is_ascii_alphabetic()))
    {
        return Err(invalid(format!("{key}.default_region"), "must be an ISO 3166 alpha-2 code like \"FR\""));
    }
    if integration.settings.contains_key("base_url") {
        return Err(invalid(
            format!("{key}.settings.base_url"),
            format!("set only {key}.base_url; the host passes it to the plugin as the setting `base_url`"),
        ));
    }
    if let Some(base) = &integration.base_url {
        match url::Url::parse(base) {
            Ok(u) if u.host_str().is_some() => {}
            _ => return Err(invalid(format!("{key}.base_url"), format!("not an absolute URL: {base:?}"))),
        }
    }
    Ok(())
}

/// `[console]`: its own port, a readable password hash, a session length.
fn validate_console(config: &Config) -> Result<(), ConfigError> {
    let Some(console) = &config.console else { return Ok(()) };
    if console.enabled && console.listen == config.server.listen && console.listen.port() != 0 {
        return Err(invalid("console.listen", "must differ from server.listen (the console has its own listener)"));
    }
    if let Some(hash) = &console.admin_password_hash
        && let Err(e) = argon2::PasswordHash::new(hash)
    {
        // The hash is not a secret, but it is not quoted either: the reason suffices.
        return Err(invalid(
            "console.admin_password_hash",
            format!("is not an argon2 PHC string ({e}); `switchboard console-password` prints one"),
        ));
    }
    if !(1..=24 * 30).contains(&console.session_hours) {
        return Err(invalid("console.session_hours", "must be between 1 and 720"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use crate::config::Config;
    use std::path::Path;

    fn load(text: &str) -> Result<Config, String> {
        Config::from_toml(text, Path::new("test.toml"), Path::new("/base"), &|v| (v == "TOKEN").then(|| "tok-123456".to_string()))
            .map_err(|e| e.to_string())
    }

    const OK: &str = r#"
[[accounts]]
id = "main"
webhook_token = "${TOKEN}"
[[integrations]]
id = "ex"
account = "main"
plugin = "example"
numbers = [777, "+33 1 23 45 67 89"]
"#;

    #[test]
    fn minimal_config_loads_with_defaults_and_resolved_paths() {
        let c = load(OK).unwrap();
        assert_eq!(c.accounts[0].webhook_token, "tok-123456");
        assert_eq!(c.limits.job_timeout_ms, 10_000);
        assert_eq!(c.store.path, Path::new("/base/switchboard.db"));
        assert!(c.integrations[0].enabled);
    }

    #[test]
    fn unknown_account_is_named() {
        let err = load(&OK.replace("account = \"main\"", "account = \"nope\"")).unwrap_err();
        assert!(err.contains("integrations[0].account") && err.contains("nope"), "{err}");
    }

    /// The config fuzz target's seeds and kept findings (`fuzz/corpus/config`)
    /// on the stable toolchain: each loads or is refused with an error, never
    /// a panic; the shipped configuration loads.
    #[test]
    fn the_fuzz_corpus_of_configs_loads_or_is_refused_without_a_panic() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/config");
        let env = |name: &str| Some(format!("secret-value-of-{name}"));
        let mut loaded = Vec::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
            if Config::from_toml(&text, Path::new("switchboard.toml"), Path::new("/fuzz"), &env).is_ok() {
                loaded.push(path.file_name().unwrap().to_string_lossy().into_owned());
            }
        }
        assert!(loaded.iter().any(|n| n == "shipped.toml"), "the shipped configuration did not load; loaded: {loaded:?}");
    }

    #[test]
    fn timeout_attempts_default_to_three_and_zero_is_refused_by_name() {
        assert_eq!(load(OK).unwrap().limits.timeout_attempts, 3);
        let err = load(&format!("{OK}\n[limits]\ntimeout_attempts = 0\n")).unwrap_err();
        assert!(err.contains("limits.timeout_attempts") && err.contains("between 1 and 20"), "{err}");
    }

    #[test]
    fn unknown_key_is_named() {
        let err = load(&format!("{OK}\n[limits]\nconcurency = 3\n")).unwrap_err();
        assert!(err.contains("concurency"), "{err}");
    }

    #[test]
    fn short_token_rejected() {
        let err = load(&OK.replace("${TOKEN}", "short")).unwrap_err();
        assert!(err.contains("accounts[0].webhook_token"), "{err}");
    }

    #[test]
    fn settings_base_url_is_refused_naming_both_keys() {
        let text = format!("{OK}base_url = \"https://api.example.com\"\nsettings = {{ base_url = \"https://api.example.com\" }}\n");
        let err = load(&text).unwrap_err();
        assert!(err.contains("integrations[0].settings.base_url") && err.contains("integrations[0].base_url"), "{err}");
        let only_setting = format!("{OK}settings = {{ base_url = \"https://api.example.com\" }}\n");
        assert!(load(&only_setting).unwrap_err().contains("integrations[0].base_url"));
    }

    #[test]
    fn store_url_selects_postgres_and_excludes_path() {
        let c = load(&format!("{OK}\n[store]\nurl = \"postgres://sb@db.internal:5432/switchboard\"\npool_size = 12\n")).unwrap();
        assert_eq!((c.store.url.as_deref(), c.store.pool_size), (Some("postgres://sb@db.internal:5432/switchboard"), 12));
        let both = load(&format!("{OK}\n[store]\nurl = \"postgres://sb@db/switchboard\"\npath = \"sb.db\"\n")).unwrap_err();
        assert!(both.contains("store.url") && both.contains("store.path") && both.contains("not both"), "{both}");
        let mysql = load(&format!("{OK}\n[store]\nurl = \"mysql://sb@db/switchboard\"\n")).unwrap_err();
        assert!(mysql.contains("store.url") && mysql.contains("postgres://"), "{mysql}");
        let no_db = load(&format!("{OK}\n[store]\nurl = \"postgres://sb@db\"\n")).unwrap_err();
        assert!(no_db.contains("store.url") && no_db.contains("database"), "{no_db}");
        let tiny = load(&format!("{OK}\n[store]\nurl = \"postgres://sb@db/x\"\npool_size = 1\n")).unwrap_err();
        assert!(tiny.contains("store.pool_size"), "{tiny}");
        let c = load(OK).unwrap();
        assert!(c.store.url.is_none() && !c.store.path_given);
    }

    #[test]
    fn compile_cache_defaults_next_to_the_store() {
        let c = load(OK).unwrap();
        assert_eq!(c.plugins.cache_dir.clone().unwrap(), Path::new("/base/plugin-cache").to_path_buf());
        let c = load(&format!("{OK}\n[store]\npath = \"data/sb.db\"\n")).unwrap();
        assert_eq!(c.plugins.cache_dir.clone().unwrap(), Path::new("/base/data/plugin-cache").to_path_buf());
        let c = load(&format!("{OK}\n[plugins]\ncache_dir = \"cc\"\n")).unwrap();
        assert_eq!(c.plugins.cache_dir.clone().unwrap(), Path::new("/base/cc").to_path_buf());
    }

    #[test]
    fn zero_concurrency_rejected() {
        let err = load(&format!("{OK}\n[limits]\nconcurrency = 0\n")).unwrap_err();
        assert!(err.contains("limits.concurrency"), "{err}");
    }

    #[test]
    fn console_needs_its_own_port_and_an_argon2_hash() {
        let base = "[[accounts]]\nid = \"main\"\nwebhook_token = \"${TOKEN}\"\n";
        let with = |console: &str| load(&format!("{console}\n{base}"));
        let c = with("").unwrap();
        assert!(c.console_enabled().is_none(), "no [console] section: no console");
        let c = with("[console]").unwrap();
        assert_eq!(c.console_enabled().unwrap().listen.to_string(), "127.0.0.1:8081");
        assert!(with("[console]\nenabled = false").unwrap().console_enabled().is_none());
        let e = with("[server]\nlisten = \"127.0.0.1:9000\"\n[console]\nlisten = \"127.0.0.1:9000\"").unwrap_err();
        assert!(e.contains("console.listen"), "{e}");
        let e = with("[console]\nadmin_password_hash = \"hunter2\"").unwrap_err();
        assert!(e.contains("console.admin_password_hash") && !e.contains("hunter2"), "{e}");
        let hash = "$argon2id$v=19$m=19456,t=2,p=1$TF5OU7jWvA3xGq50gvKddg$pqFVV84mDIIoozx3NP603ilVZdAW7RLS1+yzfvEuCiI";
        assert!(with(&format!("[console]\nadmin_password_hash = \"{hash}\"")).is_ok());
        assert!(with("[console]\nsession_hours = 0").unwrap_err().contains("console.session_hours"));
    }
}
