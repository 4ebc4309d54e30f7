//! The effective configuration: the file's, plus the Aircall accounts and the
//! integrations made in the console (kept in the store), swappable while the
//! host runs.
//!
//! The file stays authoritative for what it declares: a console account or
//! integration whose id the file also uses is left out (and reported), never
//! merged. Every part of the host that asks "which accounts / integrations are
//! there" reads [`LiveConfig::load`]; the rest of the file (server, store,
//! limits…) does not change without a restart.

use super::{AccountConfig, Config, ConfigError, IntegrationConfig, Origin, validate};
use arc_swap::ArcSwap;
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The file's configuration and the current effective one.
pub struct LiveConfig {
    file: Arc<Config>,
    current: ArcSwap<Config>,
    /// Version of the store's integration document the current one was built
    /// from (0: none applied yet).
    stored_version: AtomicU64,
    /// One swap at a time (a console save and the follower of other hosts' saves).
    swapping: tokio::sync::Mutex<()>,
}

impl LiveConfig {
    /// The file's configuration, effective as it is until [`LiveConfig::swap`].
    pub fn new(file: Arc<Config>) -> LiveConfig {
        LiveConfig { current: ArcSwap::new(file.clone()), file, stored_version: AtomicU64::new(0), swapping: tokio::sync::Mutex::new(()) }
    }

    /// The configuration file as loaded at start (its accounts and integrations only).
    pub fn file(&self) -> &Arc<Config> {
        &self.file
    }

    /// What a console integration is checked against: the effective
    /// configuration without the console's integrations (the file's, and the
    /// accounts of both). See [`merge`].
    pub fn base(&self) -> Config {
        base_of(&self.load())
    }

    /// The effective configuration now: the file's integrations, then the console's.
    pub fn load(&self) -> Arc<Config> {
        self.current.load_full()
    }

    /// Makes `config` the effective configuration, built from version
    /// `stored_version` of the store's integrations.
    pub fn swap(&self, config: Arc<Config>, stored_version: u64) {
        self.current.store(config);
        self.stored_version.store(stored_version, Ordering::SeqCst);
    }

    /// The version of the store's integrations in effect.
    pub fn stored_version(&self) -> u64 {
        self.stored_version.load(Ordering::SeqCst)
    }

    /// Held while a new effective configuration is built and swapped in.
    pub async fn lock(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.swapping.lock().await
    }
}

/// A console integration that is not part of the effective configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Excluded {
    /// The id the console stored it under (it may be the invalid part).
    pub id: String,
    /// Why, naming the key (`console integration "x".account: …`).
    pub reason: String,
}

/// How errors name a console integration's keys.
pub fn console_key(id: &str) -> String {
    format!("console integration {id:?}")
}

/// How errors name a console account's keys.
pub fn console_account_key(id: &str) -> String {
    format!("console account {id:?}")
}

/// `config` without the console's integrations: the base [`merge`] adds them to.
pub fn base_of(config: &Config) -> Config {
    let mut base = config.clone();
    base.integrations.retain(|i| i.origin == Origin::File);
    base
}

/// A [`ConfigError`] as an exclusion's reason (`key: message`).
fn reason(e: ConfigError) -> String {
    match e {
        ConfigError::Invalid { key, message } => format!("{key}: {message}"),
        other => other.to_string(),
    }
}

/// The file's configuration with the console's accounts appended (marked
/// [`Origin::Console`]). Each passes the checks the file's accounts pass
/// ([`validate::account_fields`]); one that fails, whose id is taken (by the
/// file, or by an earlier one) or whose webhook token another account has, is
/// left out and returned with the reason.
pub fn merge_accounts(file: &Config, stored: Vec<AccountConfig>) -> (Config, Vec<Excluded>) {
    let mut config = file.clone();
    let aircall_app = file.oauth.contains_key("aircall");
    let mut ids: HashSet<String> = file.accounts.iter().map(|a| a.id.clone()).collect();
    let mut tokens: HashSet<String> = file.accounts.iter().map(|a| a.webhook_token.clone()).filter(|t| !t.is_empty()).collect();
    let mut excluded = Vec::new();
    for mut account in stored {
        let key = console_account_key(&account.id);
        let problem = if file.accounts.iter().any(|a| a.id == account.id) {
            Some(format!("{key}.id: the configuration file declares an account with this id; the file's is used"))
        } else if ids.contains(&account.id) {
            Some(format!("{key}.id: another console account has this id"))
        } else if let Err(e) = validate::account_fields(&key, &account, aircall_app) {
            Some(reason(e))
        } else if tokens.contains(&account.webhook_token) {
            Some(format!("{key}.webhook_token: another account has this webhook token"))
        } else {
            None
        };
        if let Some(reason) = problem {
            excluded.push(Excluded { id: account.id, reason });
            continue;
        }
        account.origin = Origin::Console;
        ids.insert(account.id.clone());
        if !account.webhook_token.is_empty() {
            tokens.insert(account.webhook_token.clone());
        }
        config.accounts.push(account);
    }
    (config, excluded)
}

/// `base` (the file's configuration, with the console's accounts:
/// [`merge_accounts`], [`base_of`]) with the console's integrations appended
/// (marked [`Origin::Console`]). Each passes the checks the file's
/// integrations pass ([`validate::integration_fields`]) against `base`'s
/// accounts; one that fails, or whose id is taken (by the file, or by an
/// earlier one), is left out and returned with the reason.
pub fn merge(base: &Config, stored: Vec<IntegrationConfig>) -> (Config, Vec<Excluded>) {
    let mut config = base.clone();
    let accounts: HashSet<&str> = base.accounts.iter().map(|a| a.id.as_str()).collect();
    let in_file: HashSet<&str> = base.integrations.iter().map(|i| i.id.as_str()).collect();
    let mut ids: HashSet<String> = HashSet::new();
    let mut excluded = Vec::new();
    for mut integration in stored {
        let key = console_key(&integration.id);
        let taken = if in_file.contains(integration.id.as_str()) {
            Some("the configuration file declares an integration with this id; the file's is used")
        } else if ids.contains(&integration.id) {
            Some("another console integration has this id")
        } else {
            None
        };
        if let Some(why) = taken {
            excluded.push(Excluded { reason: format!("{key}.id: {why}"), id: integration.id });
            continue;
        }
        if let Err(e) = validate::integration_fields(&key, &integration, &accounts) {
            excluded.push(Excluded { id: integration.id, reason: reason(e) });
            continue;
        }
        integration.origin = Origin::Console;
        ids.insert(integration.id.clone());
        config.integrations.push(integration);
    }
    (config, excluded)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::path::Path;

    fn file() -> Config {
        let text = r#"
[[accounts]]
id = "main"
webhook_token = "tok-123456"
[[integrations]]
id = "notes"
account = "main"
plugin = "example"
"#;
        Config::from_toml(text, Path::new("t.toml"), Path::new("/"), &|_| None).unwrap()
    }

    fn stored(id: &str, extra: &str) -> IntegrationConfig {
        toml::from_str(&format!("id = \"{id}\"\naccount = \"main\"\nplugin = \"helpscout\"\n{extra}")).unwrap()
    }

    #[test]
    fn console_integrations_follow_the_files_and_are_marked() {
        let (c, excluded) = merge(&file(), vec![stored("hs", "numbers = [2001]")]);
        assert!(excluded.is_empty(), "{excluded:?}");
        let ids: Vec<(&str, Origin)> = c.integrations.iter().map(|i| (i.id.as_str(), i.origin)).collect();
        assert_eq!(ids, [("notes", Origin::File), ("hs", Origin::Console)]);
    }

    #[test]
    fn the_file_wins_an_id_and_broken_ones_are_left_out_with_the_key() {
        let (c, excluded) = merge(
            &file(),
            vec![
                stored("notes", ""),
                {
                    let mut i = stored("hs", "");
                    i.account = "nope".into();
                    i
                },
                stored("ok", "default_region = \"FRA\""),
                stored("fine", ""),
                stored("fine", ""),
            ],
        );
        assert_eq!(c.integrations.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(), ["notes", "fine"]);
        let reasons: Vec<&str> = excluded.iter().map(|e| e.reason.as_str()).collect();
        assert!(reasons[0].starts_with("console integration \"notes\".id: the configuration file declares"), "{reasons:?}");
        assert!(reasons[1].starts_with("console integration \"hs\".account: no account with id \"nope\""), "{reasons:?}");
        assert!(reasons[2].starts_with("console integration \"ok\".default_region"), "{reasons:?}");
        assert!(reasons[3].starts_with("console integration \"fine\".id: another console integration"), "{reasons:?}");
    }

    fn account(id: &str, extra: &str) -> AccountConfig {
        toml::from_str(&format!("id = \"{id}\"\n{extra}")).unwrap()
    }

    #[test]
    fn console_accounts_pass_the_files_checks_and_their_integrations_merge_on_them() {
        let (with_accounts, excluded) = merge_accounts(
            &file(),
            vec![
                account("main", "webhook_token = \"tok-abcdef\""),
                account("two", "webhook_token = \"tok-abcdef\"\napi_id = \"i\"\napi_token = \"t\""),
                account("two", "webhook_token = \"tok-ghijkl\""),
                account("short", "webhook_token = \"abc\""),
                account("same-token", "webhook_token = \"tok-123456\""),
                account("app", "oauth = true"),
                account("bad base", "webhook_token = \"tok-zzzzzz\""),
                account("script", "webhook_token = \"tok-yyyyyy\"\napi_base = \"javascript:alert(1)\""),
            ],
        );
        let ids: Vec<(&str, Origin)> = with_accounts.accounts.iter().map(|a| (a.id.as_str(), a.origin)).collect();
        assert_eq!(ids, [("main", Origin::File), ("two", Origin::Console)]);
        let reasons: Vec<&str> = excluded.iter().map(|e| e.reason.as_str()).collect();
        assert!(reasons[0].starts_with("console account \"main\".id: the configuration file declares"), "{reasons:?}");
        assert!(reasons[1].starts_with("console account \"two\".id: another console account"), "{reasons:?}");
        assert!(reasons[2].starts_with("console account \"short\".webhook_token: must be at least"), "{reasons:?}");
        assert!(reasons[3].starts_with("console account \"same-token\".webhook_token: another account has"), "{reasons:?}");
        assert!(reasons[4].starts_with("console account \"app\".oauth: needs the host's Aircall app"), "{reasons:?}");
        assert!(reasons[5].starts_with("console account \"bad base\".id: use 1-64"), "{reasons:?}");
        assert!(reasons[6].starts_with("console account \"script\".api_base: not an http(s) URL with a host"), "{reasons:?}");
        // A console integration may use a console account; checked against the base.
        let mut on_two = stored("hs", "");
        on_two.account = "two".into();
        let (merged, excluded) = merge(&with_accounts, vec![on_two.clone()]);
        assert!(excluded.is_empty(), "{excluded:?}");
        assert_eq!(base_of(&merged).integrations.len(), 1, "the base drops the console's integrations");
        let (_, excluded) = merge(&file(), vec![on_two]);
        assert!(excluded[0].reason.starts_with("console integration \"hs\".account: no account with id \"two\""), "{excluded:?}");
    }

    #[tokio::test]
    async fn a_swap_is_seen_by_the_next_load_and_the_file_stays() {
        let live = LiveConfig::new(Arc::new(file()));
        let before = live.load();
        let (merged, _) = merge(live.file(), vec![stored("hs", "")]);
        live.swap(Arc::new(merged), 3);
        assert_eq!(before.integrations.len(), 1, "a loaded snapshot does not change under its reader");
        assert_eq!(live.load().integrations.len(), 2);
        assert_eq!((live.file().integrations.len(), live.stored_version()), (1, 3));
    }
}
