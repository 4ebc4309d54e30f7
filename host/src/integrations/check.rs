//! The checks a console integration must pass to be enabled: the same as a
//! file integration passes at start and in `switchboard check` — the
//! configuration's ([`crate::config::live::merge`]: id, account, region, base
//! URL), the plugin's ([`crate::registry::policy::integration_at`]: settings,
//! secrets, base URL, budgets against `plugin.toml`) and the connection's
//! (a known provider). Errors name the key: `console integration "x".settings.…`.

use crate::config::live::{console_key, merge};
use crate::config::{Config, IntegrationConfig};
use crate::registry::Registry;

/// Whether `candidate` (a console integration) may run beside `file`'s, with
/// the plugins `registry` serves.
pub fn check(file: &Config, registry: &Registry, candidate: &IntegrationConfig) -> Result<(), String> {
    let (merged, excluded) = merge(file, vec![candidate.clone()]);
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

/// What `switchboard check` finds of one console integration.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// Its id.
    pub id: String,
    /// Whether it is enabled (a problem of an enabled one fails the check; a
    /// disabled one is only "not set up yet").
    pub enabled: bool,
    /// What is wrong, naming the key; `None`: it passes.
    pub problem: Option<String>,
}

/// Checks every console integration in `store` as [`check`] does, secrets
/// opened with the master key of `file`'s `[connections]` (when there is one).
pub async fn stored(file: &Config, registry: &Registry, store: &std::sync::Arc<dyn crate::store::Store>) -> Result<Vec<Finding>, String> {
    let doc = super::stored::read(store).await?;
    let keys = crate::connections::seal::Keyring::load(file.connections.key_file.as_deref()).ok();
    let (opened, unopened) = doc.open_all(keys.as_ref());
    let mut findings: Vec<Finding> = unopened
        .into_iter()
        .map(|e| Finding { enabled: doc.get(&e.id).is_some_and(|s| s.enabled), id: e.id, problem: Some(e.reason) })
        .collect();
    // Ids taken by the file or twice among them.
    let (_, excluded) = merge(file, opened.clone());
    for c in opened {
        let problem = match excluded.iter().find(|e| e.id == c.id) {
            Some(e) => Some(e.reason.clone()),
            None => check(file, registry, &c).err(),
        };
        findings.push(Finding { id: c.id.clone(), enabled: c.enabled, problem });
    }
    Ok(findings)
}
