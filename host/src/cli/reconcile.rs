//! `accounts check` (the Aircall webhook of each account) and `backfill`
//! (log an integration's past calls), the command-line side of
//! [`crate::reconcile`].

use crate::aircall::ParsedEvent;
use crate::aircall::client::AircallClient;
use crate::config::Config;
use crate::connections::Connections;
use crate::metrics::Metrics;
use crate::reconcile::backfill::{self, Status};
use crate::reconcile::{Background, health};
use crate::server::webhook::NumberFilter;
use crate::store::Store;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

struct Opened {
    config: Arc<Config>,
    store: Arc<dyn Store>,
    connections: Arc<Connections>,
}

async fn open(path: &Path) -> anyhow::Result<Opened> {
    let file = Config::load(path).map_err(|e| anyhow::anyhow!("{e}"))?;
    let store = crate::store::open(&file.store).await?;
    // The console's integrations too (`backfill ID` of one made in the console).
    let config = crate::integrations::stored::effective(&file, &store).await.map_err(|e| anyhow::anyhow!(e))?;
    let secrets = super::connections::oauth_secrets(&config);
    let connections = Connections::open(&config, &secrets, store.clone()).await.map_err(|e| anyhow::anyhow!("connections: {e}"))?;
    Ok(Opened { config: Arc::new(config), store, connections })
}

impl Opened {
    fn background(&self, account: &str, purpose: &'static str) -> anyhow::Result<Background> {
        let account = self.config.accounts.iter().find(|a| a.id == account).ok_or_else(|| anyhow::anyhow!("no account {account:?}"))?;
        let client = Arc::new(AircallClient::new(account)?);
        client.use_connections(&self.connections);
        if let Some(budgets) = self.store.shared_budgets() {
            // On a shared store this command spends the account's budget with the hosts.
            client.share_budgets(budgets);
        }
        Ok(Background {
            client,
            purpose,
            config: self.config.clone(),
            metrics: Arc::new(Metrics::new()),
            connections: self.connections.clone(),
        })
    }
}

/// `accounts check`: each account's webhook as Aircall has it. With `repair`,
/// re-activate or re-create it as the running host would. Exit 1 when one
/// needs attention.
pub async fn accounts_check(path: &Path, repair: bool) -> anyhow::Result<i32> {
    let opened = open(path).await?;
    let mut code = 0;
    for account in &opened.config.accounts {
        let report = health::check(&opened.background(&account.id, "check")?, repair).await;
        let hook = match (&report.webhook_id, &report.url) {
            (Some(id), Some(url)) => format!(" webhook {id} → {url}"),
            (Some(id), None) => format!(" webhook {id}"),
            _ => String::new(),
        };
        println!("{}: {}{hook} — {}", report.account, report.state, report.detail);
        if !matches!(report.state, "ok" | "reactivated" | "recreated") {
            code = 1;
        }
    }
    Ok(code)
}

fn rfc3339(ts: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ts)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| ts.to_string())
}

/// `7d`, `12h`, `30m` as seconds; anything else is an error saying what is accepted.
pub fn parse_since(text: &str) -> anyhow::Result<i64> {
    let bad = || anyhow::anyhow!("--since {text:?}: write a duration such as 7d, 12h or 30m");
    let (n, unit) = text.trim().split_at(text.trim().len().saturating_sub(1));
    let n: i64 = n.parse().map_err(|_| bad())?;
    let secs = match unit {
        "d" => n * 86_400,
        "h" => n * 3_600,
        "m" => n * 60,
        _ => return Err(bad()),
    };
    if secs <= 0 { Err(bad()) } else { Ok(secs) }
}

/// `backfill INTEGRATION --since 7d`: ask the running host to log the past
/// calls, then show its progress until it is done (unless `no_wait`).
/// `dry_run` lists what would be logged and changes nothing.
pub async fn backfill(path: &Path, integration: &str, since: &str, dry_run: bool, no_wait: bool) -> anyhow::Result<i32> {
    let opened = open(path).await?;
    let config = &opened.config;
    let Some(i) = config.integrations.iter().find(|i| i.id == integration) else {
        let known: Vec<&str> = config.integrations.iter().map(|i| i.id.as_str()).collect();
        anyhow::bail!("no integration {integration:?} (configured: {})", known.join(", "));
    };
    if !i.enabled {
        anyhow::bail!("integration {integration} is disabled (enabled = false): nothing would log the calls");
    }
    let seconds = parse_since(since)?;
    let limit = i64::from(config.store.logged_days) * 86_400;
    if seconds > limit {
        anyhow::bail!(
            "--since {since} reaches further back than [store] logged_days ({} days): the host could not promise to log each call once; raise logged_days first",
            config.store.logged_days
        );
    }
    let until = crate::clock::now_ms() / 1000;
    let from = until - seconds;
    if dry_run {
        return dry(&opened, i, from, until).await;
    }
    let progress = backfill::request(&opened.store, integration, from, until).await.map_err(|e| anyhow::anyhow!(e))?;
    println!("backfill of {integration} since {} asked for; a running host starts it within a second", rfc3339(from));
    if no_wait {
        return Ok(0);
    }
    let mut last = progress.line();
    let asked = std::time::Instant::now();
    let mut nudged = false;
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let Some(p) = backfill::read(&opened.store, integration).await.map_err(|e| anyhow::anyhow!(e))? else {
            anyhow::bail!("the backfill record of {integration} disappeared");
        };
        let line = p.line();
        if line != last {
            println!("{line}");
            last = line;
        }
        match p.status {
            Status::Done => return Ok(0),
            Status::Failed => return Ok(1),
            Status::Requested if !nudged && asked.elapsed() > Duration::from_secs(10) => {
                eprintln!("no running host has started it yet: it starts when `switchboard serve` runs with this configuration");
                nudged = true;
            }
            _ => {}
        }
    }
}

/// The dry run: list the range and count what a backfill would do.
async fn dry(opened: &Opened, integration: &crate::config::IntegrationConfig, from: i64, until: i64) -> anyhow::Result<i32> {
    let background = opened.background(&integration.account, "backfill")?;
    let filter = NumberFilter::new(&integration.numbers);
    let (mut listed, mut not_ended, mut other_numbers, mut already, mut would, mut unreadable) = (0, 0, 0, 0, 0, 0);
    let mut slice_from = from;
    while slice_from <= until {
        let slice_to = (slice_from + 86_400 - 1).min(until);
        let mut page = 1;
        loop {
            let list = background.request("list_calls", |c| async move { c.list_calls(slice_from, slice_to, page).await }).await?;
            for raw in &list.calls {
                listed += 1;
                let Ok(Some(parsed)) = ParsedEvent::parse("call.ended", raw) else {
                    unreadable += 1;
                    continue;
                };
                let ParsedEvent::Call(_, call) = &parsed else { continue };
                if call.ended_at.is_none() {
                    not_ended += 1;
                } else if !filter.matches(parsed.number()) {
                    other_numbers += 1;
                } else if opened.store.logged(vec![(integration.id.clone(), format!("call.ended:{}", call.id))]).await? == [true] {
                    already += 1;
                } else {
                    would += 1;
                }
            }
            if list.calls.is_empty() || list.meta.next_page_link.is_none() {
                break;
            }
            page += 1;
        }
        slice_from = slice_to + 1;
    }
    println!(
        "dry run, {} since {}: {listed} calls listed; {would} would be logged, {already} already logged, {other_numbers} on other numbers, {not_ended} not ended, {unreadable} unreadable",
        integration.id,
        rfc3339(from)
    );
    Ok(0)
}
