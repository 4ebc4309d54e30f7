//! The account's Aircall webhook, checked (`GET /v1/webhooks`) on every
//! reconciliation pass and by `switchboard accounts check`:
//!
//! - ours is found by its token: the configured `webhook_token`, or the token of
//!   the webhook the OAuth install created;
//! - deactivated (Aircall does that after failed deliveries, reference §2.4) →
//!   re-activated with `PUT /v1/webhooks/:id`, logged and counted;
//! - missing → created again when the account was installed by OAuth (the host
//!   owns that webhook and its token); reported otherwise, since a new webhook
//!   would carry a token the configuration does not know;
//! - pointing elsewhere than `[server] public_url` → reported (the admin may be
//!   moving the host; the host does not redirect Aircall by itself).

use super::Background;
use crate::aircall::client::Webhook;
use serde::Serialize;

/// Every state [`check`] reports (the metric's label values).
pub const STATES: &[&str] = &["ok", "reactivated", "recreated", "deactivated", "missing", "stale_url", "unknown"];

/// What a check found and did.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The configured id of the account whose webhook was checked.
    pub account: String,
    /// One of [`STATES`].
    pub state: &'static str,
    /// The webhook's id, when found.
    pub webhook_id: Option<String>,
    /// Where it points, when found.
    pub url: Option<String>,
    /// What it means and what to do, in words.
    pub detail: String,
}

/// Check the account's webhook and repair what the host may repair (with
/// `repair`; without, only say what a repair would do).
pub async fn check(background: &Background, repair: bool) -> Report {
    let report = inspect(background, repair).await;
    let account = background.account();
    background.metrics.webhook_state(account, report.state, STATES);
    background.metrics.webhook_checked(
        account,
        crate::metrics::WebhookCheck {
            state: report.state.to_string(),
            detail: report.detail.clone(),
            webhook_id: report.webhook_id.clone(),
            url: report.url.clone(),
            at_ms: crate::clock::now_ms(),
        },
    );
    // Said once per change, not on every pass.
    static LAST: std::sync::Mutex<Vec<(String, &'static str)>> = std::sync::Mutex::new(Vec::new());
    let changed = {
        let mut last = LAST.lock().unwrap_or_else(|p| p.into_inner());
        match last.iter_mut().find(|(a, _)| a == account) {
            Some((_, s)) if *s == report.state => false,
            Some((_, s)) => {
                *s = report.state;
                true
            }
            None => {
                last.push((account.to_string(), report.state));
                true
            }
        }
    };
    match report.state {
        _ if !changed && !matches!(report.state, "reactivated" | "recreated") => {
            tracing::debug!(%account, state = report.state, "webhook unchanged")
        }
        "ok" => tracing::info!(%account, "webhook ok"),
        "reactivated" | "recreated" => tracing::warn!(%account, state = report.state, detail = %report.detail, "webhook repaired"),
        _ => tracing::warn!(%account, state = report.state, detail = %report.detail, "webhook needs attention"),
    }
    report
}

async fn inspect(background: &Background, repair: bool) -> Report {
    let account = background.account().to_string();
    let report = |state: &'static str, hook: Option<&Webhook>, detail: String| Report {
        account: account.clone(),
        state,
        webhook_id: hook.map(|h| h.webhook_id.clone()),
        url: hook.map(|h| h.url.clone()),
        detail,
    };
    let configured = background.config.accounts.iter().find(|a| a.id == account).map(|a| a.webhook_token.clone()).unwrap_or_default();
    let installed = background.connections.aircall_webhook(&account).await;
    let hooks = match background.request("list_webhooks", |c| async move { c.webhooks().await }).await {
        Ok(h) => h,
        Err(e) => return report("unknown", None, format!("GET /v1/webhooks: {e}")),
    };
    let ours = hooks.iter().find(|h| {
        (!configured.is_empty() && h.token == configured)
            || installed.as_ref().is_some_and(|(id, token)| h.webhook_id == *id || h.token == *token)
    });
    let expected_url = background.connections.webhook_url();
    let Some(hook) = ours else {
        if installed.is_some() && !repair {
            return report("missing", None, "the webhook the install created is gone; the host creates it again on its next check".into());
        }
        if installed.is_some() {
            return match background.connections.aircall_recreate_webhook(&account).await {
                Ok(id) => Report { webhook_id: Some(id), ..report("recreated", None, "the webhook was gone; created it again".into()) },
                Err(e) => report("missing", None, format!("the webhook is gone and could not be created again: {e}")),
            };
        }
        return report(
            "missing",
            None,
            format!(
                "no webhook of account {account} carries its webhook_token: create one in Aircall (Integrations → Webhook) pointing at {}, and put its token in the configuration",
                expected_url.as_deref().unwrap_or("this host's /webhooks/aircall")
            ),
        );
    };
    if !hook.active && !repair {
        return report(
            "deactivated",
            Some(hook),
            "Aircall deactivated the webhook after failed deliveries; the host re-activates it on its next check".into(),
        );
    }
    if !hook.active {
        let h = hook.clone();
        return match background
            .request("reactivate_webhook", |c| {
                let h = h.clone();
                async move { c.reactivate_webhook(&h).await }
            })
            .await
        {
            Ok(()) => {
                report("reactivated", Some(hook), "Aircall had deactivated the webhook after failed deliveries; re-activated it".into())
            }
            Err(e) => report("deactivated", Some(hook), format!("Aircall deactivated the webhook and re-activating failed: {e}")),
        };
    }
    if let Some(expected) = &expected_url
        && hook.url.trim_end_matches('/') != expected
    {
        return report(
            "stale_url",
            Some(hook),
            format!("the webhook points at {} but this host is {expected}: change it in Aircall (or [server] public_url)", hook.url),
        );
    }
    report("ok", Some(hook), "active".into())
}
