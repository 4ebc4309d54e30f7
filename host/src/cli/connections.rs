//! `connect`, `connections …` and `keys …`: connecting accounts and CRMs
//! without the console, seeing every connection's state, revoking one, and
//! managing the master key.

use crate::config::Config;
use crate::connections::{Connections, record, seal};
use crate::registry::manifest::Manifest;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// The OAuth secrets of the plugins in the plugin directory (manifests read, not compiled).
pub(super) fn oauth_secrets(config: &Config) -> Vec<crate::connections::OAuthSecret> {
    let Ok(entries) = std::fs::read_dir(&config.plugins.dir) else { return Vec::new() };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| std::fs::read_to_string(e.path().join("plugin.toml")).ok())
        .filter_map(|text| Manifest::parse(&text).ok())
        .flat_map(|m| m.oauth_secrets())
        .collect()
}

async fn open(path: &Path) -> anyhow::Result<(Config, Arc<Connections>)> {
    let file = Config::load(path).map_err(|e| anyhow::anyhow!("{e}"))?;
    let store = crate::store::open(&file.store).await?;
    // The console's integrations too: `connect ID` works for them as well.
    let config = crate::integrations::stored::effective(&file, &store).await.map_err(|e| anyhow::anyhow!(e))?;
    let connections = Connections::open(&config, &oauth_secrets(&config), store).await.map_err(|e| anyhow::anyhow!("connections: {e}"))?;
    Ok((config, connections))
}

/// `connect ID`: prints the link to open, then waits for the callback (which
/// the running host takes) to complete the connection. Client-credentials
/// providers connect at once.
pub async fn connect(path: &Path, id: &str, wait: Duration) -> anyhow::Result<i32> {
    let (_, connections) = open(path).await?;
    let spec = connections.spec(id).map_err(|e| anyhow::anyhow!(e))?.clone();
    let provider = crate::providers::Providers::builtin();
    if provider.get(&spec.provider).is_some_and(|p| p.grant == crate::providers::Grant::ClientCredentials) {
        let r = connections.connect_client_credentials(&spec.id).await.map_err(|e| anyhow::anyhow!(e))?;
        println!("{}: {}", r.id, r.state.name());
        return Ok(0);
    }
    let started = crate::clock::now_ms();
    let link = connections.start_link(&spec.id).await.map_err(|e| anyhow::anyhow!(e))?;
    println!("Open this link in a browser signed in to {} as an admin (valid 10 minutes, once):", spec.provider);
    println!("{link}");
    std::io::stdout().flush()?;
    let deadline = std::time::Instant::now() + wait;
    loop {
        let record = connections.list().await.map_err(|e| anyhow::anyhow!(e))?.into_iter().find(|r| r.id == spec.id);
        if let Some(r) = record.filter(|r| r.refreshed_at_ms >= started && r.state == record::State::Connected) {
            println!("{}: connected", r.id);
            return Ok(0);
        }
        if std::time::Instant::now() > deadline {
            eprintln!("{}: not connected within {} s; run the command again for a new link", spec.id, wait.as_secs());
            return Ok(1);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// `connections list`
pub async fn list(path: &Path) -> anyhow::Result<i32> {
    let (_, connections) = open(path).await?;
    let records = connections.list().await.map_err(|e| anyhow::anyhow!(e))?;
    if records.is_empty() {
        println!("no connections: no account has oauth = true and no plugin secret names a provider");
    }
    let now = crate::clock::now_ms();
    let ago = |ms: i64| if ms <= 0 { "never".to_string() } else { format!("{} s ago", (now - ms) / 1000) };
    for r in records {
        let expiry = match r.expires_at_ms {
            Some(at) => format!("expires in {} s", (at - now) / 1000),
            None if r.access.is_some() => "does not expire".to_string(),
            None => "-".to_string(),
        };
        println!("{}\t{}\t{}\t{}\tlast refresh {}\t{}", r.id, r.provider, r.state.name(), expiry, ago(r.refreshed_at_ms), r.reason);
        if !r.fix.is_empty() && r.state != record::State::Connected {
            println!("\tfix: {}", r.fix);
        }
    }
    Ok(0)
}

/// `connections revoke ID`
pub async fn revoke(path: &Path, id: &str) -> anyhow::Result<i32> {
    let (_, connections) = open(path).await?;
    let r = connections.revoke(id, "revoked by an operator").await.map_err(|e| anyhow::anyhow!(e))?;
    println!(
        "{}: {} ({} held its events)",
        r.id,
        r.state.name(),
        connections.spec(&r.id).map(|s| s.integrations.join(", ")).unwrap_or_default()
    );
    Ok(0)
}

/// `keys generate --file PATH`
pub fn generate(file: &Path) -> anyhow::Result<i32> {
    if file.exists() {
        anyhow::bail!("{} exists; use `switchboard keys rotate` to add a key", file.display());
    }
    let kid = seal::append_key(file).map_err(|e| anyhow::anyhow!(e))?;
    println!("{}: key {kid} (keep this file secret and backed up; without it the stored tokens cannot be read)", file.display());
    Ok(0)
}

/// `keys rotate`: a new current key in the key file, then every stored value
/// re-sealed under it. Running hosts pick the new key up from the file.
pub async fn rotate(path: &Path) -> anyhow::Result<i32> {
    let config = Config::load(path).map_err(|e| anyhow::anyhow!("{e}"))?;
    let Some(file) = &config.connections.key_file else {
        anyhow::bail!(
            "rotation needs [connections] key_file (a key from {} cannot be replaced under a running host)",
            seal::MASTER_KEY_ENV
        );
    };
    let kid = seal::append_key(file).map_err(|e| anyhow::anyhow!(e))?;
    let (_, connections) = open(path).await?;
    let n = connections.reseal_all().await.map_err(|e| anyhow::anyhow!(e))?;
    println!("key {kid} is current; {n} connection(s) re-sealed under it. Older keys stay in {} until no host needs them.", file.display());
    Ok(0)
}
