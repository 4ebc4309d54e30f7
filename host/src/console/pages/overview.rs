//! `GET /`: every account and integration with its state, the queue, dead
//! letters, events of the last hour and the loaded plugins.

use crate::connections::record::{Record, State as ConnState};
use crate::console::{Admin, ConsoleState, failure, render, when};
use crate::store::IntegrationCounts;
use askama::Template;
use axum::extract::State;
use axum::response::Response;

/// A state badge: a word, a colour class and, when not green, why and the fix.
pub struct Badge {
    /// `running`, `paused`, `needs re-auth`…
    pub word: String,
    /// `ok`, `warn`, `bad`.
    pub class: &'static str,
    /// Why, in words (empty when green).
    pub reason: String,
    /// Since when (empty when unknown).
    pub since: String,
    /// What fixes it.
    pub fix: String,
}

impl Badge {
    fn ok(word: &str) -> Badge {
        Badge { word: word.into(), class: "ok", reason: String::new(), since: String::new(), fix: String::new() }
    }
}

/// The window over which the "failing" and "rate-limited" states are judged.
pub const RECENT_MS: i64 = 10 * 60 * 1000;
/// "failing": at least this many failed attempts in the window...
pub const FAILING_MIN_FAILURES: usize = 3;
/// ...and at least this share (in %) of the window's attempts failed.
pub const FAILING_MIN_PERCENT: usize = 50;

/// "rate-limited until T" or "failing", from the integration's attempts of
/// the last [`RECENT_MS`] in this process (`None`: neither).
pub fn health_badge(metrics: &crate::metrics::Metrics, integration: &str, now: i64) -> Option<Badge> {
    use crate::metrics::AttemptKind;
    let recent = metrics.attempts_since(integration, now - RECENT_MS);
    let limited: Vec<_> = recent.iter().filter(|a| a.kind == AttemptKind::RateLimited).collect();
    if let Some(until) = limited.iter().filter_map(|a| a.until_ms).max().filter(|u| *u > now)
        && let (Some(first), Some(last)) = (limited.first(), limited.last())
    {
        return Some(Badge {
            word: format!("rate-limited until {} UTC", when(until)),
            class: "warn",
            reason: format!("the CRM asked to slow down {} time(s) in the last {} min: {}", limited.len(), RECENT_MS / 60_000, last.error),
            since: when(first.at_ms),
            fix: "nothing to do: the jobs wait as the CRM asked and go on by themselves (the integration is not paused); if it keeps happening, lower the integration's request rate".into(),
        });
    }
    let failed: Vec<_> = recent.iter().filter(|a| a.kind == AttemptKind::Failed).collect();
    let judged = recent.iter().filter(|a| a.kind != AttemptKind::RateLimited).count();
    if failed.len() >= FAILING_MIN_FAILURES
        && failed.len() * 100 >= judged * FAILING_MIN_PERCENT
        && let (Some(first), Some(last)) = (failed.first(), failed.last())
    {
        return Some(Badge {
            word: "failing".into(),
            class: "bad",
            reason: format!(
                "{} of {} attempts failed in the last {} min ({} %); last error: {}",
                failed.len(),
                judged,
                RECENT_MS / 60_000,
                failed.len() * 100 / judged.max(1),
                last.error
            ),
            since: when(first.at_ms),
            fix: "open the Activity page for a failed call: each attempt's journal has the CRM's answer. Retries go on with back-off; permanent errors land in Dead letters, to replay once the cause is fixed; a lane stuck on one job can be skipped there".into(),
        });
    }
    None
}

/// An account row.
pub struct AccountRow {
    id: String,
    how: &'static str,
    badge: Badge,
}

/// An integration row.
pub struct IntegrationRow {
    /// The integration's id, as the configuration file or the console named it.
    pub id: String,
    /// Plugin name and version (or why it is not loaded).
    pub plugin: String,
    /// The id of the Aircall account whose events it logs.
    pub account: String,
    /// The first state that applies: disabled, a connection that does not
    /// work, paused, plugin not loaded, rate-limited or failing, else running.
    pub badge: Badge,
    /// Jobs waiting (held while paused).
    pub queued: u64,
    /// Its jobs in the dead letters.
    pub dead: u64,
    /// How long the oldest queued job's event has waited (`3 min`), if any.
    pub oldest: String,
}

/// `45 s`, `12 min`, `3 h`, `2 d`.
pub fn age(ms: i64) -> String {
    let s = (ms / 1000).max(0);
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min", s / 60),
        3600..86_400 => format!("{} h", s / 3600),
        _ => format!("{} d", s / 86_400),
    }
}

/// A loaded plugin.
pub struct PluginRow {
    name: String,
    version: String,
    contract: String,
    hash: String,
}

#[derive(Template)]
#[template(path = "console/overview.html")]
struct OverviewPage {
    nav: &'static str,
    csrf: String,
    accounts: Vec<AccountRow>,
    integrations: Vec<IntegrationRow>,
    plugins: Vec<PluginRow>,
    queued: u64,
    dead: u64,
    last_hour: u64,
}

fn connection_badge(record: &Record) -> Option<Badge> {
    let word = match record.state {
        ConnState::Connected | ConnState::Refreshing => return None,
        ConnState::NeedsReauth => "needs re-auth",
        ConnState::Revoked => "revoked",
        ConnState::NotConnected => "not connected",
    };
    Some(Badge {
        word: word.into(),
        class: "bad",
        reason: record.reason.clone(),
        since: if record.since_ms > 0 { when(record.since_ms) } else { String::new() },
        fix: format!("Reconnect on the Accounts page, or {}", record.fix),
    })
}

/// Every integration of the configuration with its state and counts (also
/// used by the integrations page).
pub async fn integration_rows(state: &ConsoleState) -> Result<Vec<IntegrationRow>, Response> {
    let counts = state.app.store.integration_counts().await.map_err(|e| failure("counting jobs", e))?;
    integration_rows_with(state, &counts).await
}

/// [`integration_rows`] with the store's per-integration counts already read.
async fn integration_rows_with(state: &ConsoleState, counts: &[IntegrationCounts]) -> Result<Vec<IntegrationRow>, Response> {
    let app = &state.app;
    let paused = app.store.paused().await.map_err(|e| failure("reading paused integrations", e))?;
    let records = app.connections.list().await.unwrap_or_default();
    let mut rows = Vec::new();
    let now = crate::clock::now_ms();
    let current = app.live.load();
    for i in &current.integrations {
        let conn = records.iter().find(|r| r.id == format!("integration:{}", i.id)).and_then(connection_badge);
        let loaded = app.registry.get(&i.plugin);
        let badge = if !i.enabled {
            Badge {
                word: "disabled".into(),
                class: "warn",
                reason: match i.origin {
                    crate::config::Origin::File => "enabled = false in the configuration".into(),
                    crate::config::Origin::Console => "made in the console and not enabled yet".into(),
                },
                since: String::new(),
                fix: match i.origin {
                    crate::config::Origin::File => "set enabled = true and restart".into(),
                    crate::config::Origin::Console => format!("finish its set-up at /integrations/{}/setup, then Enable", i.id),
                },
            }
        } else if let Some(b) = conn {
            b
        } else if let Some((_, why)) = paused.iter().find(|(id, _)| *id == i.id) {
            Badge {
                word: "paused".into(),
                class: "warn",
                reason: why.clone(),
                since: String::new(),
                fix: if why.starts_with("unauthorized") && records.iter().any(|r| r.id == format!("integration:{}", i.id)) {
                    "the CRM refused the connection's token: Reconnect it on the Accounts page; held events are then delivered in order"
                        .into()
                } else {
                    "Resume on the Integrations page once the cause is fixed; held events are then delivered in order".into()
                },
            }
        } else if loaded.is_none() {
            Badge {
                word: "plugin not loaded".into(),
                class: "bad",
                reason: format!("no valid plugin {:?} in the plugin directory", i.plugin),
                since: String::new(),
                fix: "install the plugin (see the host's log for why a candidate was rejected); events are held".into(),
            }
        } else if let Some(b) = health_badge(&app.metrics, &i.id, now) {
            Badge { reason: crate::console::mask(&b.reason, &app.live.load()), ..b }
        } else {
            Badge::ok("running")
        };
        let c = counts.iter().find(|c| c.integration == i.id);
        rows.push(IntegrationRow {
            id: i.id.clone(),
            plugin: match &loaded {
                Some(p) => format!("{} {}", p.manifest.name, p.manifest.version),
                None => format!("{} (not loaded)", i.plugin),
            },
            account: i.account.clone(),
            badge,
            queued: c.map_or(0, |c| c.queued),
            dead: c.map_or(0, |c| c.dead),
            oldest: c.and_then(|c| c.oldest_queued_at_ms).map(|t| age(now - t)).unwrap_or_default(),
        });
    }
    Ok(rows)
}

/// `GET /`
pub async fn page(admin: Admin, State(state): State<ConsoleState>) -> Response {
    let app = &state.app;
    // Queued and dead jobs only (what the page shows): the per-integration
    // counts touch those rows alone, where counting every state would read
    // every job the store keeps.
    let counts = match app.store.integration_counts().await {
        Ok(c) => c,
        Err(e) => return failure("counting jobs", e),
    };
    let (queued, dead) = counts.iter().fold((0, 0), |(q, d), c| (q + c.queued, d + c.dead));
    let integrations = match integration_rows_with(&state, &counts).await {
        Ok(rows) => rows,
        Err(r) => return r,
    };
    let records = app.connections.list().await.unwrap_or_default();
    let accounts = app
        .live
        .load()
        .accounts
        .iter()
        .map(|a| {
            let record = records.iter().find(|r| r.id == format!("account:{}", a.id));
            AccountRow {
                id: a.id.clone(),
                how: if a.oauth { "installed (OAuth)" } else { "webhook token" },
                badge: record.and_then(connection_badge).unwrap_or_else(|| Badge::ok("receiving")),
            }
        })
        .collect();
    let plugins = app
        .registry
        .list()
        .iter()
        .map(|p| PluginRow {
            name: p.manifest.name.clone(),
            version: p.manifest.version.clone(),
            contract: p.manifest.contract.clone(),
            hash: p.component.hash.chars().take(12).collect(),
        })
        .collect();
    let last_hour = match app.store.events_since(crate::clock::now_ms() - 3_600_000).await {
        Ok(n) => n,
        Err(e) => return failure("counting events", e),
    };
    render(OverviewPage { nav: "overview", csrf: admin.csrf, accounts, integrations, plugins, queued, dead, last_hour })
}

#[cfg(test)]
mod tests {
    #[test]
    fn ages_are_short_words() {
        assert_eq!(super::age(-5), "0 s");
        assert_eq!(super::age(59_999), "59 s");
        assert_eq!(super::age(60_000), "1 min");
        assert_eq!(super::age(3 * 3_600_000 + 1), "3 h");
        assert_eq!(super::age(2 * 86_400_000), "2 d");
    }
}
