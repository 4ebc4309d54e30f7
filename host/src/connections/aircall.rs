//! Installing the Aircall app: with the new token, ask who we are
//! (`GET /v1/integrations/me`), then make sure exactly one webhook points at
//! this host (`POST /v1/webhooks`; a re-install reuses or replaces, never adds
//! one: Aircall allows 100 per account) and keep its token to authenticate the
//! account's events. Aircall's `integration.deleted` event revokes the account.

use super::{Connections, Spec, record};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// What an install produced.
pub struct Installed {
    /// The webhook's id.
    pub webhook_id: String,
    /// The token Aircall puts in its events.
    pub webhook_token: String,
    /// `company_id`, `integration_id` from `integrations/me`.
    pub account: BTreeMap<String, String>,
}

impl Connections {
    /// The install steps after the token exchange; nothing is stored by them.
    pub(super) async fn aircall_install(&self, spec: &Spec, token: &str) -> Result<Installed, String> {
        let account_id = record::short_id(&spec.id);
        let configured = self.aircall_account(account_id)?;
        let base = configured.base;
        let public = self.public_url.clone().ok_or("set [server] public_url: Aircall's webhook must point at this host")?;
        let hook_url = format!("{public}/webhooks/aircall");
        let get = |path: String| self.http.get(format!("{base}{path}")).bearer_auth(token).send();
        let me = read(get("/v1/integrations/me".into()).await, "GET /v1/integrations/me").await?;
        let integration = me.get("integration").unwrap_or(&me);
        let mut account = BTreeMap::new();
        for key in ["company_id", "id", "name"] {
            if let Some(v) = integration.get(key).filter(|v| v.is_string() || v.is_number()) {
                account.insert(
                    if key == "id" { "integration_id".to_string() } else { key.to_string() },
                    v.to_string().trim_matches('"').to_string(),
                );
            }
        }
        // Only the configured company, and a re-install must be the same Aircall
        // company: another company's admin installing the app must not take over
        // this account's integrations.
        if let Some(wanted) = configured.company {
            match account.get("company_id") {
                Some(is) if *is == wanted.to_string() => {}
                Some(is) => {
                    return Err(format!("account {account_id} accepts installs from Aircall company {wanted} only; company {is} tried"));
                }
                None => {
                    return Err(format!(
                        "account {account_id} accepts installs from Aircall company {wanted} only; Aircall named no company"
                    ));
                }
            }
        }
        let now = crate::clock::now_ms();
        let previous = record::read(&self.store, &spec.id, &spec.provider, now).await?.record;
        if let (Some(was), Some(is)) = (previous.account.get("company_id"), account.get("company_id"))
            && was != is
        {
            return Err(format!(
                "account {account_id} was installed by Aircall company {was}; company {is} cannot replace it (revoke it first: switchboard connections revoke {account_id})"
            ));
        }
        // Ours are the webhooks pointing at this host's URL.
        let mut ours = Vec::new();
        let mut page = 1;
        loop {
            let list = read(get(format!("/v1/webhooks?per_page=50&page={page}")).await, "GET /v1/webhooks").await?;
            for w in list.get("webhooks").and_then(Value::as_array).into_iter().flatten() {
                if w.get("url").and_then(Value::as_str) == Some(hook_url.as_str()) {
                    ours.push(w.clone());
                }
            }
            let next = list.pointer("/meta/next_page_link").is_some_and(|v| v.is_string());
            if !next || page >= 10 {
                break;
            }
            page += 1;
        }
        let kept = match ours.first() {
            Some(w) if w.get("token").and_then(Value::as_str).is_some_and(|t| !t.is_empty()) => w.clone(),
            _ => {
                let body = json!({ "url": hook_url, "custom_name": "switchboard" });
                let created =
                    read(self.http.post(format!("{base}/v1/webhooks")).bearer_auth(token).json(&body).send().await, "POST /v1/webhooks")
                        .await?;
                created.get("webhook").cloned().ok_or("POST /v1/webhooks: answer has no webhook")?
            }
        };
        let webhook_id = field(&kept, "webhook_id")?;
        for extra in ours.iter().filter(|w| field(w, "webhook_id").ok().as_deref() != Some(webhook_id.as_str())) {
            if let Ok(id) = field(extra, "webhook_id") {
                let resp = self.http.delete(format!("{base}/v1/webhooks/{id}")).bearer_auth(token).send().await;
                if let Err(e) = resp.map_err(|e| e.to_string()).and_then(|r| r.error_for_status().map_err(|e| e.to_string())) {
                    tracing::warn!(webhook = %id, error = %e, "could not delete a duplicate webhook");
                }
            }
        }
        let webhook_token = field(&kept, "token")?;
        tracing::info!(account = %account_id, webhook = %webhook_id, "Aircall app installed; webhook ready");
        Ok(Installed { webhook_id, webhook_token, account })
    }

    /// The webhook the install created for `account` (id and token), when the
    /// account was installed by OAuth and is not revoked.
    pub async fn aircall_webhook(&self, account: &str) -> Option<(String, String)> {
        let id = format!("account:{account}");
        let spec = self.specs.load().get(&id).filter(|s| s.provider == "aircall").cloned()?;
        let keyring = self.keyring().ok()?;
        let v = record::read(&self.store, &spec.id, &spec.provider, crate::clock::now_ms()).await.ok()?;
        if matches!(v.record.state, super::State::Revoked | super::State::NotConnected) {
            return None;
        }
        let token = keyring.open(&super::aad(&spec.id, "webhook"), v.record.webhook_token.as_ref()?).ok()?;
        Some((v.record.webhook_id.clone()?, String::from_utf8(token).ok()?))
    }

    /// Creates the webhook of an installed `account` again (Aircall lost it or
    /// an admin deleted it) and keeps its new token; returns the new id.
    pub async fn aircall_recreate_webhook(&self, account: &str) -> Result<String, String> {
        let id = format!("account:{account}");
        let spec = self.spec(&id)?.clone();
        let token = self.access_token(&id).await.map_err(|e| e.to_string())?;
        let base = self.aircall_account(account)?.base;
        let public = self.public_url.clone().ok_or("set [server] public_url: Aircall's webhook must point at this host")?;
        let body = json!({ "url": format!("{public}/webhooks/aircall"), "custom_name": "switchboard" });
        let created =
            read(self.http.post(format!("{base}/v1/webhooks")).bearer_auth(&token).json(&body).send().await, "POST /v1/webhooks").await?;
        let hook = created.get("webhook").ok_or("POST /v1/webhooks: answer has no webhook")?;
        let (webhook_id, webhook_token) = (field(hook, "webhook_id")?, field(hook, "token")?);
        let sealed = self.keyring()?.seal(&super::aad(&spec.id, "webhook"), webhook_token.as_bytes())?;
        record::update(&self.store, &spec.id, &spec.provider, crate::clock::now_ms(), |r| {
            r.webhook_id = Some(webhook_id.clone());
            r.webhook_token = Some(sealed.clone());
            Some(())
        })
        .await?;
        *self.webhook_tokens.lock().unwrap_or_else(|p| p.into_inner()) = (i64::MIN, Vec::new());
        tracing::warn!(%account, webhook = %webhook_id, "Aircall webhook was missing: created it again");
        Ok(webhook_id)
    }

    /// Gives an installed `account` a new webhook token. Aircall has no way to
    /// change a webhook's token, so a new webhook (same URL) is created, its
    /// token sealed and stored, and only then is the old webhook deleted: no
    /// event finds the account without a webhook, and from the moment the new
    /// token is stored the old one is refused. Returns the new webhook's id.
    pub async fn aircall_rotate_webhook(&self, account: &str) -> Result<String, String> {
        let id = format!("account:{account}");
        let spec = self.spec(&id)?.clone();
        if spec.provider != "aircall" {
            return Err(format!("{id} is not an Aircall account"));
        }
        let now = crate::clock::now_ms();
        let current = record::read(&self.store, &spec.id, &spec.provider, now).await?.record;
        if matches!(current.state, super::State::Revoked | super::State::NotConnected) {
            return Err(format!("account {account} is {}: connect it first (its webhook comes with the install)", current.state.name()));
        }
        let old = current.webhook_id.clone();
        let token = self.access_token(&id).await.map_err(|e| e.to_string())?;
        let base = self.aircall_account(account)?.base;
        let public = self.public_url.clone().ok_or("set [server] public_url: Aircall's webhook must point at this host")?;
        let body = json!({ "url": format!("{public}/webhooks/aircall"), "custom_name": "switchboard" });
        let created =
            read(self.http.post(format!("{base}/v1/webhooks")).bearer_auth(&token).json(&body).send().await, "POST /v1/webhooks").await?;
        let hook = created.get("webhook").ok_or("POST /v1/webhooks: answer has no webhook")?;
        let (webhook_id, webhook_token) = (field(hook, "webhook_id")?, field(hook, "token")?);
        let sealed = self.keyring()?.seal(&super::aad(&spec.id, "webhook"), webhook_token.as_bytes())?;
        record::update(&self.store, &spec.id, &spec.provider, crate::clock::now_ms(), |r| {
            r.webhook_id = Some(webhook_id.clone());
            r.webhook_token = Some(sealed.clone());
            Some(())
        })
        .await?;
        *self.webhook_tokens.lock().unwrap_or_else(|p| p.into_inner()) = (i64::MIN, Vec::new());
        if let Some(old) = old.filter(|o| *o != webhook_id) {
            let resp = self.http.delete(format!("{base}/v1/webhooks/{old}")).bearer_auth(&token).send().await;
            match resp.map_err(|e| e.without_url().to_string()) {
                Ok(r) if r.status().is_success() || r.status().as_u16() == 404 => {}
                Ok(r) => {
                    return Err(format!(
                        "the new webhook {webhook_id} is in use, but deleting the old one ({old}) failed: HTTP {}; delete it in Aircall's Dashboard",
                        r.status().as_u16()
                    ));
                }
                Err(e) => {
                    return Err(format!(
                        "the new webhook {webhook_id} is in use, but deleting the old one ({old}) failed: {e}; delete it in Aircall's Dashboard"
                    ));
                }
            }
        }
        tracing::info!(%account, webhook = %webhook_id, "Aircall webhook token rotated: a new webhook replaces the old one");
        Ok(webhook_id)
    }

    /// The URL Aircall's webhook must point at, when `[server] public_url` is set.
    pub fn webhook_url(&self) -> Option<String> {
        self.public_url.as_ref().map(|p| format!("{p}/webhooks/aircall"))
    }

    /// Aircall's `integration.deleted` for `account`: the app was uninstalled.
    pub async fn aircall_uninstalled(&self, account: &str) -> Result<(), String> {
        let id = format!("account:{account}");
        if !self.specs.load().contains_key(&id) {
            return Err(format!("account {account} is not connected by OAuth"));
        }
        self.revoke(&id, "the Aircall app was uninstalled (integration.deleted)").await?;
        *self.webhook_tokens.lock().unwrap_or_else(|p| p.into_inner()) = (i64::MIN, Vec::new());
        tracing::warn!(%account, "Aircall app uninstalled: the account is revoked and its integrations hold their events");
        Ok(())
    }
}

/// A 2xx answer's JSON, or an error naming the call.
async fn read(resp: reqwest::Result<reqwest::Response>, what: &str) -> Result<Value, String> {
    let resp = resp.map_err(|e| format!("{what}: {}", e.without_url()))?;
    let status = resp.status();
    let text = resp.text().await.map_err(|e| format!("{what}: {}", e.without_url()))?;
    if !status.is_success() {
        return Err(format!("{what}: HTTP {} {}", status.as_u16(), text.chars().take(200).collect::<String>()));
    }
    serde_json::from_str(&text).map_err(|e| format!("{what}: answer is not JSON: {e}"))
}

/// A string (or number) field of a webhook object.
fn field(v: &Value, key: &str) -> Result<String, String> {
    match v.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        _ => Err(format!("webhook answer: {key} missing")),
    }
}
