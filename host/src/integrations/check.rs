//! The checks a console integration must pass to be enabled: the same as a
//! file integration passes at start and in `switchboard check` — the
//! configuration's ([`crate::config::live::merge`]: id, account, region, base
//! URL), the plugin's ([`crate::registry::policy::integration_at`]: settings,
//! secrets, base URL, budgets against `plugin.toml`) and the connection's
//! (a known provider). Errors name the key: `console integration "x".settings.…`.
//! A console account passes the file's account checks
//! ([`crate::config::live::merge_accounts`]): `console account "x".api_base: …`.

use crate::config::live::{console_key, merge};
use crate::config::{Config, IntegrationConfig};
use crate::registry::Registry;

/// Whether `candidate` (a console integration) may run beside `base`'s (the
/// file's, with the console's accounts: [`crate::config::LiveConfig::base`]),
/// with the plugins `registry` serves.
pub fn check(base: &Config, registry: &Registry, candidate: &IntegrationConfig) -> Result<(), String> {
    let (merged, excluded) = merge(base, vec![candidate.clone()]);
    if let Some(e) = excluded.into_iter().next() {
        return Err(e.reason);
    }
    let key = console_key(&candidate.id);
    let Some(plugin) = registry.get(&candidate.plugin) else {
        let loaded: Vec<String> = registry.list().iter().map(|p| p.manifest.name.clone()).collect();
        return Err(format!("{key}.plugin: no plugin {:?} is loaded (loaded: {})", candidate.plugin, loaded.join(", ")));
    };
    let aircall =
        registry.aircall(&candidate.account).ok_or_else(|| format!("{key}.account: no Aircall client for {:?}", candidate.account))?;
    crate::registry::policy::integration_at(&key, candidate, &plugin.manifest, aircall)?;
    crate::connections::specs(&merged, &plugin.manifest.oauth_secrets()).map_err(|e| format!("{key}.connection: {e}"))?;
    Ok(())
}

/// What `switchboard check` finds of one console integration or account.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// Its id.
    pub id: String,
    /// `integration` or `account`.
    pub kind: &'static str,
    /// Whether it is enabled (a problem of an enabled one fails the check; a
    /// disabled one is only "not set up yet"). Accounts are always enabled.
    pub enabled: bool,
    /// What is wrong, naming the key; `None`: it passes.
    pub problem: Option<String>,
}

/// Checks every console account in `store` as the file's are checked, and
/// every console integration as [`check`] does, secrets opened with the
/// master key of `file`'s `[connections]` (when there is one). The
/// registry's Aircall accounts become the effective configuration's, so the
/// console's integrations find their accounts' clients.
pub async fn stored(file: &Config, registry: &Registry, store: &std::sync::Arc<dyn crate::store::Store>) -> Result<Vec<Finding>, String> {
    let doc = super::stored::read(store).await?;
    let keys = crate::connections::seal::Keyring::load(file.connections.key_file.as_deref()).ok();
    let merged = doc.merged(file, keys.as_ref());
    registry.accounts().update(&merged.config).map_err(|e| format!("Aircall clients: {e}"))?;
    let mut findings: Vec<Finding> = doc
        .accounts
        .iter()
        .map(|a| Finding {
            id: a.id.clone(),
            kind: "account",
            enabled: true,
            problem: merged.accounts_left_out.iter().find(|e| e.id == a.id).map(|e| e.reason.clone()),
        })
        .collect();
    let base = crate::config::live::base_of(&merged.config);
    for s in &doc.integrations {
        let problem = match merged.integrations_left_out.iter().find(|e| e.id == s.id) {
            Some(e) => Some(e.reason.clone()),
            None => match merged.config.integrations.iter().find(|c| c.id == s.id) {
                Some(c) => check(&base, registry, c).err(),
                None => Some(format!("{}: left out of the configuration", console_key(&s.id))),
            },
        };
        findings.push(Finding { id: s.id.clone(), kind: "integration", enabled: s.enabled, problem });
    }
    Ok(findings)
}
