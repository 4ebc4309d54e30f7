//! The choices of the number picker's per-number select, read from the CRM as
//! the plugin's `[setup.per_number.options]` says (Help Scout:
//! `GET /v2/mailboxes`, the list at `_embedded.mailboxes`, `id` and `name`).
//! The request goes to the integration's base URL with its credential (a
//! static secret, or the token of its connection), under `[network]`'s address
//! policy, and is waited for [`OPTIONS_TIMEOUT`] at most; a failure is a line
//! on the page. With `next`, later pages are followed (same host, at most
//! [`MAX_PAGES`]).

use crate::config::IntegrationConfig;
use crate::connections::Connections;
use crate::outbound::headers::{AuthScheme, auth_header};
use crate::registry::manifest::{Manifest, OptionsSource};
use std::time::Duration;

/// How long the page waits for the CRM.
pub const OPTIONS_TIMEOUT: Duration = Duration::from_secs(5);

/// Pages of choices read at most.
pub const MAX_PAGES: usize = 20;

/// The URL of the page after `answer`, when `source` says where it is and it
/// stays on `current`'s scheme, host and port (an answer cannot send the
/// integration's credential elsewhere).
pub fn next_page(answer: &serde_json::Value, source: &OptionsSource, current: &url::Url) -> Option<url::Url> {
    let mut at = answer;
    for step in source.next.as_deref()?.split('.').filter(|s| !s.is_empty()) {
        at = at.get(step)?;
    }
    let next = current.join(at.as_str()?).ok()?;
    let same = next.scheme() == current.scheme()
        && next.host_str() == current.host_str()
        && next.port_or_known_default() == current.port_or_known_default();
    (same && next != *current).then_some(next)
}

/// One choice: its id and its name.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    /// The id kept in the setting.
    pub value: String,
    /// What the admin reads.
    pub label: String,
}

/// The items at `source.items` of `answer`, as choices. Items without an id
/// are skipped; one without a name shows its id.
pub fn choices(answer: &serde_json::Value, source: &OptionsSource) -> Result<Vec<Choice>, String> {
    let mut at = answer;
    for step in source.items.split('.').filter(|s| !s.is_empty()) {
        at = at.get(step).ok_or_else(|| format!("the answer has no {:?} (looking for {:?})", step, source.items))?;
    }
    let items = at.as_array().ok_or_else(|| format!("{:?} in the answer is not a list", source.items))?;
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    Ok(items
        .iter()
        .filter_map(|item| {
            let value = item.get(&source.value).and_then(text)?;
            let label = item.get(&source.label).and_then(text).unwrap_or_else(|| value.clone());
            Some(Choice { value, label })
        })
        .collect())
}

/// Asks the CRM for the choices of `integration` (its plugin's `manifest`).
pub async fn fetch(
    manifest: &Manifest,
    integration: &IntegrationConfig,
    connections: &Connections,
    network: &crate::config::NetworkConfig,
) -> Result<Vec<Choice>, String> {
    let per_number = manifest.setup.per_number.as_ref().ok_or("the plugin declares no per-number choices")?;
    let base =
        integration.base_url.clone().or_else(|| manifest.http.default_base_url.clone()).ok_or("set the integration's base URL first")?;
    let url = format!("{}{}", base.trim_end_matches('/'), per_number.options.path);
    let parsed = url::Url::parse(&url).map_err(|e| format!("{url}: {e}"))?;
    if parsed.scheme() != "https" && !network.allow_http {
        return Err(format!("{url}: plain http is not allowed ([network] allow_http)"));
    }
    let (name, decl) = manifest.options_secret().ok_or("the plugin declares no secret to ask its API with")?;
    let (scheme, secret) = match integration.secrets.get(name).filter(|v| !v.trim().is_empty()) {
        Some(v) => (decl.scheme.clone(), v.clone()),
        None if decl.provider.is_some() => {
            let token = connections
                .access_token(&format!("integration:{}", integration.id))
                .await
                .map_err(|e| format!("not connected yet: {e}"))?;
            (AuthScheme::Bearer, token)
        }
        None => return Err(format!("set the secret {name:?} first")),
    };
    let client = crate::outbound::client(crate::outbound::ssrf::CheckedResolver::from_config(network), Some(OPTIONS_TIMEOUT))
        .map_err(|e| e.to_string())?;
    let (header, value) = auth_header(&scheme, &secret);
    let path = &per_number.options.path;
    let mut page = parsed;
    let mut all = Vec::new();
    for _ in 0..MAX_PAGES {
        let answer = client
            .get(page.clone())
            .header(header.as_str(), value.as_str())
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|e| format!("GET {path}: {}", crate::outbound::error_chain(&e)))?;
        let status = answer.status();
        if !status.is_success() {
            return Err(format!("GET {path} answered {status}"));
        }
        let json: serde_json::Value = answer.json().await.map_err(|e| format!("GET {path}: not JSON: {e}"))?;
        all.extend(choices(&json, &per_number.options)?);
        match next_page(&json, &per_number.options, &page) {
            Some(next) => page = next,
            None => break,
        }
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn source(items: &str) -> OptionsSource {
        OptionsSource {
            path: "/v2/mailboxes".into(),
            items: items.into(),
            value: "id".into(),
            label: "name".into(),
            secret: None,
            next: Some("_links.next.href".into()),
        }
    }

    #[test]
    fn a_hal_page_gives_its_embedded_items() {
        let answer = serde_json::json!({
            "_embedded": { "mailboxes": [ { "id": 30411, "name": "Support" }, { "id": 30412 }, { "name": "no id" } ] },
            "page": { "size": 50, "totalElements": 3 }
        });
        let got = choices(&answer, &source("_embedded.mailboxes")).unwrap();
        assert_eq!(
            got,
            [Choice { value: "30411".into(), label: "Support".into() }, Choice { value: "30412".into(), label: "30412".into() }]
        );
        assert!(choices(&answer, &source("_embedded.boxes")).unwrap_err().contains("\"boxes\""));
        assert!(choices(&serde_json::json!([{ "id": "a", "name": "A" }]), &source("")).unwrap()[0].value == "a");
    }

    #[test]
    fn the_next_page_is_followed_on_the_same_host_only() {
        let current = url::Url::parse("http://127.0.0.1:4011/v2/mailboxes").unwrap();
        let page = |href: &str| serde_json::json!({ "_links": { "next": { "href": href } } });
        let next = next_page(&page("http://127.0.0.1:4011/v2/mailboxes?page=2"), &source(""), &current).unwrap();
        assert_eq!(next.as_str(), "http://127.0.0.1:4011/v2/mailboxes?page=2");
        assert_eq!(next_page(&page("/v2/mailboxes?page=3"), &source(""), &current).unwrap().query(), Some("page=3"));
        assert!(next_page(&page("http://evil.example/v2/mailboxes?page=2"), &source(""), &current).is_none());
        assert!(next_page(&page("http://127.0.0.1:9/v2/mailboxes?page=2"), &source(""), &current).is_none());
        assert!(next_page(&page(current.as_str()), &source(""), &current).is_none(), "the same page again ends it");
        assert!(next_page(&serde_json::json!({ "_links": {} }), &source(""), &current).is_none());
    }
}
