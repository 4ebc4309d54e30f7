//! `GET /plugins`: the plugins serving (version, contract, component hash,
//! when each was swapped in, the integrations using it) and the candidates the
//! registry rejected, with the reason and what fixes it. Deploys are file-based
//! (the plugin directory): this page only shows.

use crate::console::{Admin, ConsoleState, mask, render, when};
use askama::Template;
use axum::extract::State;
use axum::response::Response;

struct LoadedRow {
    name: String,
    version: String,
    contract: String,
    hash: String,
    short: String,
    folder: String,
    loaded: String,
    integrations: String,
}

struct RejectedRow {
    plugin: String,
    folder: String,
    reason: String,
    since: String,
    serving: String,
    fix: String,
}

#[derive(Template)]
#[template(path = "console/plugins.html")]
struct PluginsPage {
    nav: &'static str,
    csrf: String,
    dir: String,
    watching: bool,
    loaded: Vec<LoadedRow>,
    rejected: Vec<RejectedRow>,
}

/// `GET /plugins`
pub async fn page(admin: Admin, State(state): State<ConsoleState>) -> Response {
    let app = &state.app;
    let registry = &app.registry;
    let loaded = registry
        .list()
        .iter()
        .map(|p| {
            let mut integrations: Vec<String> = p.integrations.load().keys().cloned().collect();
            integrations.sort_unstable();
            LoadedRow {
                name: p.manifest.name.clone(),
                version: p.manifest.version.clone(),
                contract: p.manifest.contract.clone(),
                hash: p.component.hash.clone(),
                short: p.component.hash.chars().take(16).collect(),
                folder: p.folder.display().to_string(),
                loaded: when(p.loaded_at_ms),
                integrations: if integrations.is_empty() { "none".into() } else { integrations.join(", ") },
            }
        })
        .collect();
    let watching = app.config.plugins.watch;
    let current = app.live.load();
    let rejected = registry
        .rejections()
        .into_iter()
        .map(|r| {
            let folder = r.folder.display().to_string();
            let serving = match registry.get(&r.plugin) {
                Some(p) => format!("version {} keeps serving", p.manifest.version),
                None => {
                    let users: Vec<&str> = current.integrations.iter().filter(|i| i.plugin == r.plugin).map(|i| i.id.as_str()).collect();
                    if users.is_empty() {
                        "no version serving".into()
                    } else {
                        format!("no version serving: {} hold their events", users.join(", "))
                    }
                }
            };
            let fix = if watching {
                format!("correct the files in {folder}; the host tries again as soon as they change")
            } else {
                format!("correct the files in {folder} and restart the host (plugins.watch is off)")
            };
            RejectedRow { plugin: r.plugin, folder, reason: mask(&r.reason, &app.live.load()), since: when(r.at_ms), serving, fix }
        })
        .collect();
    render(PluginsPage { nav: "plugins", csrf: admin.csrf, dir: registry.dir().display().to_string(), watching, loaded, rejected })
}
