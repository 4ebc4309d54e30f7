//! Connecting a console integration's CRM: its API root (`base_url`, empty for
//! the plugin's default) and the values the OAuth provider's URLs need first
//! (`connection.subdomain` for Gorgias, `connection.region` for Intercom, see
//! `host/src/providers.toml`), saved by `POST /integrations/{id}/connection`
//! — before the rest, since the number picker's choices are read from that
//! API; then `POST /integrations/{id}/connect`
//! starts the connect flow `switchboard connect` starts — a single-use ticket,
//! the browser sent to `{public_url}/connect/{ticket}` on the main listener,
//! which forwards it to the vendor — or, for a client-credentials provider
//! (Help Scout internal apps), connects at once.

use super::{Connection, Errors, acting_on, as_config, back_to, show};
use crate::connections::record::State as ConnState;
use crate::console::{Admin, ConsoleState, mask, save_and_apply};
use crate::integrations::StoredIntegration;
use crate::providers::{Grant, Providers};
use crate::registry::manifest::Manifest;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

/// Prefix of a template value's form field.
pub const FIELD: &str = "connection.";

/// The provider a console integration connects with, when its plugin ties a
/// secret to one and the integration gives no static value for it.
fn provider_of(stored: &StoredIntegration, manifest: &Manifest) -> Option<String> {
    let (name, decl) = manifest.secrets.iter().find(|(_, d)| d.provider.is_some())?;
    if stored.secrets.contains_key(name) {
        return None;
    }
    stored.connection.get("provider").cloned().or_else(|| decl.provider.clone())
}

/// The connection part of the set-up page, when the integration has one.
pub async fn view(state: &ConsoleState, stored: &StoredIntegration, manifest: Option<&Manifest>) -> Option<Connection> {
    let provider_name = provider_of(stored, manifest?)?;
    let providers = Providers::builtin();
    let provider = providers.get(&provider_name)?;
    let id = format!("integration:{}", stored.id);
    let records = state.app.connections.list().await.unwrap_or_default();
    let (word, reason) = match records.iter().find(|r| r.id == id) {
        Some(r) => {
            let word = match r.state {
                ConnState::Connected => "connected",
                ConnState::Refreshing => "refreshing",
                ConnState::NeedsReauth => "needs re-auth",
                ConnState::Revoked => "revoked",
                ConnState::NotConnected => "not connected",
            };
            (word, mask(&r.reason, &state.app.live.load()))
        }
        None => ("not connected", String::new()),
    };
    let params = provider
        .template_params()
        .into_iter()
        .map(|p| {
            let value = stored.connection.get(&p).cloned().unwrap_or_default();
            let choices =
                if p == "region" { std::iter::once(String::new()).chain(provider.regions.keys().cloned()).collect() } else { Vec::new() };
            (p, value, choices)
        })
        .collect();
    Some(Connection { provider: provider_name, state: word.into(), reason, params, browser: provider.grant != Grant::ClientCredentials })
}

/// A template value as the form sent it: a region among the provider's, or
/// a DNS label (it becomes part of a host name).
fn check_param(name: &str, value: &str, regions: &[String]) -> Result<(), String> {
    if name == "region" {
        return if value.is_empty() || regions.iter().any(|r| r == value) {
            Ok(())
        } else {
            Err(format!("region: {value:?} is not one of {}", regions.join(", ")))
        };
    }
    let label = !value.is_empty() && value.len() <= 63 && value.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if label && !value.starts_with('-') && !value.ends_with('-') {
        Ok(())
    } else {
        Err(format!("{name}: {value:?} must be lower-case letters, digits and '-' (as in {name}.example.com)"))
    }
}

/// `POST /integrations/{id}/connection`: the API root and the provider's template values.
pub async fn save(
    admin: Admin,
    State(state): State<ConsoleState>,
    Path(id): Path<String>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> Response {
    let current = match acting_on(&admin, &state, &id, &pairs).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let manifest = state.app.registry.get(&current.plugin).map(|p| p.manifest.clone());
    let provider = manifest.as_ref().and_then(|m| provider_of(&current, m)).and_then(|p| Providers::builtin().get(&p).cloned());
    let mut errors = Errors::new();
    let mut values = current.connection.clone();
    if let Some(provider) = &provider {
        let regions: Vec<String> = provider.regions.keys().cloned().collect();
        for name in provider.template_params() {
            let field = format!("{FIELD}{name}");
            let value = pairs.iter().find(|(k, _)| *k == field).map(|(_, v)| v.trim().to_ascii_lowercase()).unwrap_or_default();
            match check_param(&name, &value, &regions) {
                Err(e) => {
                    errors.insert(field, e);
                }
                Ok(()) if value.is_empty() => {
                    values.remove(&name);
                }
                Ok(()) => {
                    values.insert(name, value);
                }
            }
        }
    }
    let base_url = pairs.iter().find(|(k, _)| k == "base_url").map(|(_, v)| v.trim().to_string()).filter(|v| !v.is_empty());
    // The file's check of a base URL (absolute, with a host), as `switchboard check` applies it.
    let probe = StoredIntegration { base_url: base_url.clone(), secrets: Default::default(), ..current.clone() };
    if let Ok(c) = probe.to_config(None) {
        let (_, excluded) = crate::config::live::merge(&state.app.live.base(), vec![c]);
        if let Some(e) = excluded.into_iter().find(|e| e.reason.contains(".base_url:")) {
            errors.insert("base_url".into(), e.reason);
        }
    }
    if !errors.is_empty() {
        let draft = StoredIntegration { connection: values, base_url, ..current };
        return show(&state, admin, &draft, errors, String::new(), StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let saved = save_and_apply(&state, "saving", |doc| match doc.integrations.iter_mut().find(|s| s.id == id) {
        Some(s) => {
            s.connection = values.clone();
            s.base_url = base_url.clone();
            s.updated_at_ms = crate::clock::now_ms();
            Ok(())
        }
        None => Err(format!("{id} was deleted meanwhile")),
    })
    .await;
    if let Err(r) = saved {
        return r;
    }
    let next = if provider.is_some() { "press Connect" } else { "now pick the numbers" };
    back_to(&id, &format!("Connection settings saved: {next}"))
}

/// `POST /integrations/{id}/connect`: to the vendor (through the main
/// listener's `/connect/{ticket}`), or connected at once.
pub async fn start(
    admin: Admin,
    State(state): State<ConsoleState>,
    Path(id): Path<String>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> Response {
    let current = match acting_on(&admin, &state, &id, &pairs).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if let Err(e) = as_config(&state, &current) {
        return back_to(&id, &e);
    }
    let connection = format!("integration:{id}");
    let connections = &state.app.connections;
    if let Err(e) = connections.keys() {
        return back_to(&id, &format!("Cannot connect: {e}"));
    }
    let spec = match connections.spec(&connection) {
        Ok(s) => s,
        Err(e) => return back_to(&id, &format!("Cannot connect: {e}")),
    };
    let client_credentials = Providers::builtin().get(&spec.provider).is_some_and(|p| p.grant == Grant::ClientCredentials);
    if client_credentials {
        return match connections.connect_client_credentials(&connection).await {
            Ok(_) => back_to(&id, "Connected"),
            Err(e) => back_to(&id, &format!("Cannot connect: {}", mask(&e, &state.app.live.load()))),
        };
    }
    match connections.start_link(&connection).await {
        Ok(link) => {
            tracing::info!(integration = %id, "console: connect started");
            Redirect::to(&link).into_response()
        }
        Err(e) => back_to(&id, &format!("Cannot connect: {}", mask(&e, &state.app.live.load()))),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::check_param;

    #[test]
    fn template_values_cannot_steer_the_host() {
        let regions = ["au".to_string(), "eu".to_string()];
        assert!(check_param("subdomain", "acme-shop", &[]).is_ok());
        for bad in ["", "acme.evil.com", "-x", "a/b", "ACME"] {
            assert!(check_param("subdomain", bad, &[]).unwrap_err().starts_with("subdomain:"), "{bad}");
        }
        assert!(check_param("region", "eu", &regions).is_ok() && check_param("region", "", &regions).is_ok());
        assert!(check_param("region", "us", &regions).unwrap_err().contains("au, eu"));
    }
}
