//! Commands that read the configuration: serve, check, plugins, dead letters,
//! integrations.

use super::{DeadLettersAction, IntegrationsAction};
use crate::app::{App, aircall_clients, runtime_for};
use crate::config::Config;
use crate::registry::{Registry, ReloadOutcome};
use crate::store::{SqliteStore, Store};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

fn load(path: &Path) -> anyhow::Result<Config> {
    Config::load(path).map_err(|e| anyhow::anyhow!("{e}"))
}

fn open_store(config: &Config) -> anyhow::Result<SqliteStore> {
    Ok(SqliteStore::open(&config.store.path, Duration::ZERO)?)
}

/// `serve`
pub async fn serve(path: &Path) -> anyhow::Result<i32> {
    let config = load(path)?;
    let listen = config.server.listen;
    let app = App::start(config).await?;
    let listener = tokio::net::TcpListener::bind(listen).await.map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
    tracing::info!(%listen, "switchboard listening: POST /webhooks/aircall, GET /healthz, GET /metrics");
    app.serve(listener, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(0)
}

async fn load_plugins(config: &Config) -> anyhow::Result<(Arc<Registry>, Vec<(std::path::PathBuf, ReloadOutcome)>)> {
    let runtime = Arc::new(runtime_for(config)?);
    let registry = Arc::new(Registry::new(runtime, Arc::new(config.clone()), aircall_clients(config)?));
    let outcomes = registry.load_all().await;
    Ok((registry, outcomes))
}

/// `check`
pub async fn check(path: &Path) -> anyhow::Result<i32> {
    let config = load(path)?;
    let (registry, outcomes) = load_plugins(&config).await?;
    let mut code = 0;
    for (folder, outcome) in &outcomes {
        if let ReloadOutcome::Rejected(why) = outcome {
            eprintln!("plugin {} rejected: {why}", folder.display());
            code = 1;
        }
    }
    for (index, i) in config.integrations.iter().enumerate() {
        // A rejected plugin's reason is printed above; "not found" would mislead.
        if registry.get(&i.plugin).is_none() && !registry.was_rejected(&i.plugin) {
            let available: Vec<String> = registry.list().iter().map(|p| p.manifest.name.clone()).collect();
            eprintln!(
                "integrations[{index}].plugin: no plugin {:?} in {} (available: {})",
                i.plugin,
                config.plugins.dir.display(),
                if available.is_empty() { "none".to_string() } else { available.join(", ") }
            );
            code = 1;
        }
    }
    if code == 0 {
        println!("ok: {} account(s), {} integration(s), {} plugin(s)", config.accounts.len(), config.integrations.len(), registry.list().len());
    }
    Ok(code)
}

/// `plugins list`
pub async fn plugins_list(path: &Path) -> anyhow::Result<i32> {
    let config = load(path)?;
    let (registry, outcomes) = load_plugins(&config).await?;
    for p in registry.list() {
        let m = &p.manifest;
        println!("{:<16} {:<10} contract {:<6} {}  {}", m.name, m.version, m.contract, &p.component.hash[..12], m.description);
    }
    let mut code = 0;
    for (folder, outcome) in outcomes {
        if let ReloadOutcome::Rejected(why) = outcome {
            println!("REJECTED {}: {why}", folder.display());
            code = 1;
        }
    }
    Ok(code)
}

/// `dead-letters …`
pub async fn dead_letters(action: DeadLettersAction) -> anyhow::Result<i32> {
    match action {
        DeadLettersAction::List { config, limit } => {
            let store = open_store(&load(&config)?)?;
            let letters = store.dead_letters(limit).await?;
            if letters.is_empty() {
                println!("no dead letters");
            }
            for d in letters {
                println!("job {:<8} event {:<8} {:<28} {:<20} attempts {:<3} {}", d.job_id, d.event_id, d.event_name, d.integration, d.attempts, d.reason);
            }
            Ok(0)
        }
        DeadLettersAction::Replay { config, job, all } => {
            if job.is_none() && !all {
                eprintln!("name a job id or pass --all");
                return Ok(2);
            }
            let store = open_store(&load(&config)?)?;
            let revived = store.replay_dead(job).await?;
            println!("{} job(s) queued again", revived.len());
            Ok(if revived.is_empty() && job.is_some() { 1 } else { 0 })
        }
    }
}

/// `integrations …`
pub async fn integrations(action: IntegrationsAction) -> anyhow::Result<i32> {
    match action {
        IntegrationsAction::List { config } => {
            let config = load(&config)?;
            let store = open_store(&config)?;
            let paused = store.paused().await?;
            for i in &config.integrations {
                let state = match paused.iter().find(|(id, _)| *id == i.id) {
                    Some((_, why)) => format!("paused: {why}"),
                    None if i.enabled => "active".to_string(),
                    None => "disabled".to_string(),
                };
                println!("{:<24} plugin {:<12} account {:<10} {}", i.id, i.plugin, i.account, state);
            }
            Ok(0)
        }
        IntegrationsAction::Pause { config, id, reason } => set_paused(&config, &id, Some(&reason)).await,
        IntegrationsAction::Resume { config, id } => set_paused(&config, &id, None).await,
    }
}

async fn set_paused(path: &Path, id: &str, reason: Option<&str>) -> anyhow::Result<i32> {
    let config = load(path)?;
    if !config.integrations.iter().any(|i| i.id == id) {
        eprintln!("no integration {id:?} in {}", path.display());
        return Ok(1);
    }
    open_store(&config)?.set_paused(id, reason).await?;
    println!("{id}: {}", if reason.is_some() { "paused" } else { "resumed" });
    Ok(0)
}
