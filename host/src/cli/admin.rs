//! Commands that read the configuration: serve, check, plugins, dead letters,
//! integrations.

use super::{DeadLettersAction, IntegrationsAction};
use crate::app::{App, aircall_clients, runtime_for};
use crate::config::Config;
use crate::integrations::check::Finding;
use crate::registry::{Registry, ReloadOutcome};
use crate::store::Store;
use std::path::Path;
use std::sync::Arc;

fn load(path: &Path) -> anyhow::Result<Config> {
    Config::load(path).map_err(|e| anyhow::anyhow!("{e}"))
}

async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    Ok(crate::store::open(&config.store).await?)
}

/// `migrate`: bring the configured database's schema to this version and say so.
pub async fn migrate(path: &Path) -> anyhow::Result<i32> {
    let config = load(path)?;
    match &config.store.url {
        Some(url) => {
            let status = crate::store::postgres::migrate(url).await.map_err(|e| anyhow::anyhow!(e.0))?;
            if status.applied.is_empty() {
                println!("database {}: schema version {}, already current", status.target, status.schema_version);
            } else {
                let applied: Vec<String> = status.applied.iter().map(i32::to_string).collect();
                println!("database {}: schema version {} (applied {})", status.target, status.schema_version, applied.join(", "));
            }
        }
        None => {
            // The SQLite schema is created in place when the file is opened.
            open_store(&config).await?;
            println!("sqlite {}: schema current", config.store.path.display());
        }
    }
    Ok(0)
}

/// The store line of `check`: where the data lives and, for PostgreSQL, the
/// server and schema version. `Err` is the problem to report.
async fn check_store(config: &Config) -> Result<String, String> {
    match &config.store.url {
        Some(url) => {
            let status = crate::store::postgres::status(url).await.map_err(|e| e.0)?;
            let latest = crate::store::postgres::schema::latest_version();
            let server = status.server_version.split(" on ").next().unwrap_or(&status.server_version).to_string();
            if status.schema_version > latest {
                return Err(format!(
                    "database {}: schema version {} is newer than this switchboard knows ({latest})",
                    status.target, status.schema_version
                ));
            }
            let pending = if status.schema_version < latest {
                format!(" ({} migration(s) pending: `switchboard migrate` or start the host)", latest - status.schema_version)
            } else {
                String::new()
            };
            Ok(format!("store: {server} at {}, schema version {}{pending}", status.target, status.schema_version))
        }
        None => Ok(format!("store: sqlite {}", config.store.path.display())),
    }
}

/// `serve`
pub async fn serve(path: &Path) -> anyhow::Result<i32> {
    let config = load(path)?;
    let listen = config.server.listen;
    let console = config.console_enabled().map(|c| c.listen);
    let app = App::start(config).await?;
    let listener = tokio::net::TcpListener::bind(listen).await.map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
    tracing::info!(%listen, "switchboard listening: POST /webhooks/aircall, GET /healthz, GET /metrics");
    if let Some(at) = console {
        let listener = tokio::net::TcpListener::bind(at).await.map_err(|e| anyhow::anyhow!("cannot listen on {at} (console): {e}"))?;
        let bound = listener.local_addr()?;
        tracing::info!(console = %bound, "switchboard console listening on http://{bound}/");
        let state = app.state.clone();
        tokio::spawn(async move {
            if let Err(e) = crate::console::serve(state, listener, async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            {
                tracing::error!(error = %e, "console stopped");
            }
        });
    }
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
    let mut console_made = Vec::new();
    match check_store(&config).await {
        Ok(line) => {
            println!("{line}");
            match check_console_made(&config, &registry).await {
                Ok((findings, ok)) => {
                    console_made = findings;
                    if !ok {
                        code = 1;
                    }
                }
                Err(why) => {
                    eprintln!("console accounts and integrations: {why}");
                    code = 1;
                }
            }
        }
        Err(why) => {
            eprintln!("store: {why}");
            code = 1;
        }
    }
    if code == 0 {
        let made = |kind: &str| console_made.iter().filter(|f| f.kind == kind).count();
        println!(
            "ok: {} account(s) in the file and {} from the console, {} integration(s) in the file and {} from the console, {} plugin(s)",
            config.accounts.len(),
            made("account"),
            config.integrations.len(),
            made("integration"),
            registry.list().len()
        );
    }
    Ok(code)
}

/// The console's accounts and integrations in the store, checked as the
/// file's are ([`crate::integrations::check::stored`]); a problem of an
/// account or an enabled integration is an error, of a disabled integration
/// a note. A SQLite file that does not exist yet is not created. Returns the
/// findings and whether all that must pass do.
async fn check_console_made(config: &Config, registry: &Registry) -> Result<(Vec<Finding>, bool), String> {
    if config.store.url.is_none() && !config.store.path.exists() {
        return Ok((Vec::new(), true));
    }
    let store = open_store(config).await.map_err(|e| e.to_string())?;
    let findings = crate::integrations::check::stored(config, registry, &store).await?;
    let mut ok = true;
    for f in &findings {
        match (&f.problem, f.enabled) {
            (Some(why), true) => {
                eprintln!("{why}");
                ok = false;
            }
            (Some(why), false) => println!("console integration {:?} (disabled) is not set up yet: {why}", f.id),
            (None, _) => {}
        }
    }
    Ok((findings, ok))
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
            let store = open_store(&load(&config)?).await?;
            let letters = store.dead_letters(limit).await?;
            if letters.is_empty() {
                println!("no dead letters");
            }
            for d in letters {
                println!(
                    "job {:<8} event {:<8} {:<28} {:<20} attempts {:<3} {}",
                    d.job_id, d.event_id, d.event_name, d.integration, d.attempts, d.reason
                );
            }
            Ok(0)
        }
        DeadLettersAction::Replay { config, job, all, repeat_ambiguous } => {
            if job.is_none() && !all {
                eprintln!("name a job id or pass --all");
                return Ok(2);
            }
            let store = open_store(&load(&config)?).await?;
            let letters = store.dead_letters(u32::MAX).await?;
            for d in letters.iter().filter(|d| job.is_none_or(|j| j == d.job_id)) {
                let Some(seq) = crate::capabilities::journal::first_unanswered(&store.journal(d.job_id).await?) else { continue };
                if repeat_ambiguous {
                    // The operator checked the CRM: the write is performed again.
                    store.journal_truncate(d.job_id, seq).await?;
                    println!("job {}: its ambiguous write will be performed again", d.job_id);
                } else {
                    println!(
                        "job {}: a write of it may have happened (ambiguous); the replay stops there again. \
                         Check the CRM, then replay with --repeat-ambiguous to perform it again",
                        d.job_id
                    );
                }
            }
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
            let file = load(&config)?;
            let store = open_store(&file).await?;
            let config = crate::integrations::stored::effective(&file, &store).await.map_err(|e| anyhow::anyhow!(e))?;
            let paused = store.paused().await?;
            for i in &config.integrations {
                let state = match paused.iter().find(|(id, _)| *id == i.id) {
                    Some((_, why)) => format!("paused: {why}"),
                    None if i.enabled => "active".to_string(),
                    None => "disabled".to_string(),
                };
                let origin = match i.origin {
                    crate::config::Origin::File => "file",
                    crate::config::Origin::Console => "console",
                };
                println!("{:<24} plugin {:<12} account {:<10} {:<8} {}", i.id, i.plugin, i.account, origin, state);
            }
            Ok(0)
        }
        IntegrationsAction::Pause { config, id, reason } => set_paused(&config, &id, Some(&reason)).await,
        IntegrationsAction::Resume { config, id } => set_paused(&config, &id, None).await,
    }
}

async fn set_paused(path: &Path, id: &str, reason: Option<&str>) -> anyhow::Result<i32> {
    let file = load(path)?;
    let store = open_store(&file).await?;
    let config = crate::integrations::stored::effective(&file, &store).await.map_err(|e| anyhow::anyhow!(e))?;
    if !config.integrations.iter().any(|i| i.id == id) {
        eprintln!("no integration {id:?} in {} or made in the console", path.display());
        return Ok(1);
    }
    store.set_paused(id, reason).await?;
    println!("{id}: {}", if reason.is_some() { "paused" } else { "resumed" });
    Ok(0)
}

/// `console-link`: a one-time sign-in link to the console (10 minutes).
pub async fn console_link(path: &Path) -> anyhow::Result<i32> {
    let config = load(path)?;
    let Some(console) = config.console_enabled() else {
        eprintln!("the console is off: add a [console] section to {}", path.display());
        return Ok(1);
    };
    let mut at = console.listen;
    if at.ip().is_unspecified() {
        at.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    let store = open_store(&config).await?;
    let token = crate::console::auth::issue_link(&store, crate::clock::now_ms()).await.map_err(|e| anyhow::anyhow!(e))?;
    println!("http://{at}/sign-in?token={token}");
    eprintln!("single use, valid 10 minutes");
    Ok(0)
}

/// `console-password`: the argon2 hash of the password read from stdin.
pub fn console_password() -> anyhow::Result<i32> {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    let password = line.trim_end_matches(['\n', '\r']);
    if password.chars().count() < 8 {
        eprintln!("the password must have at least 8 characters");
        return Ok(1);
    }
    println!("{}", crate::console::auth::hash_password(password).map_err(|e| anyhow::anyhow!(e))?);
    Ok(0)
}
