//! The plugin directory: one folder per plugin (`plugin.toml` + component).
//! Plugins are validated (manifest, contract version, compile, link, each
//! integration's settings) before they are swapped in atomically; jobs in
//! flight finish on the version they started with; a broken candidate is
//! rejected with a log line and the previous version keeps serving.

pub mod manifest;
pub mod policy;
mod watch;

use crate::aircall::accounts::Accounts;
use crate::aircall::client::AircallClient;
use crate::capabilities::IntegrationCtx;
use crate::config::{Config, LiveConfig, Origin};
use crate::runtime::{LinkedComponent, Runtime};
use arc_swap::ArcSwap;
use manifest::Manifest;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

pub use watch::WatchHandle;

/// A plugin version, ready to run.
pub struct LoadedPlugin {
    /// Its `plugin.toml`, parsed and checked.
    pub manifest: Manifest,
    /// The compiled, linked component.
    pub component: LinkedComponent,
    /// Policy of each integration that uses it, rebuilt when the effective
    /// configuration changes ([`Registry::rebind`]).
    pub integrations: ArcSwap<HashMap<String, Arc<IntegrationCtx>>>,
    /// The folder it was loaded from (`plugin.toml` and the component).
    pub folder: PathBuf,
    /// When it was swapped in (ms since the epoch).
    pub loaded_at_ms: i64,
}

/// The policies of a plugin's integrations, by integration id.
type Bindings = HashMap<String, Arc<IntegrationCtx>>;

/// A candidate the registry refused, kept until its folder loads or goes.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejection {
    /// The plugin it claims to be (its manifest's `name`, else the folder's name).
    pub plugin: String,
    /// The folder the candidate was read from.
    pub folder: PathBuf,
    /// Why, as logged.
    pub reason: String,
    /// When it was rejected (ms since the epoch).
    pub at_ms: i64,
}

/// What a reload of one folder did.
#[derive(Debug, Clone, PartialEq)]
pub enum ReloadOutcome {
    /// A new version serves.
    Loaded {
        /// The manifest's `name`, by which integrations choose the plugin.
        name: String,
        /// The version its `plugin.toml` declares.
        version: String,
    },
    /// Same files as the serving version.
    Unchanged,
    /// The folder's plugin stopped receiving new jobs.
    Removed {
        /// The name it served under (its manifest's `name`).
        name: String,
    },
    /// Nothing there and nothing was loaded from there.
    Nothing,
    /// The candidate was rejected; any previous version keeps serving.
    Rejected(String),
}

/// The set of loaded plugins.
pub struct Registry {
    runtime: Arc<Runtime>,
    dir: PathBuf,
    live: Arc<LiveConfig>,
    aircall: Arc<Accounts>,
    plugins: ArcSwap<HashMap<String, Arc<LoadedPlugin>>>,
    by_folder: Mutex<HashMap<PathBuf, String>>,
    /// Folders whose last candidate was rejected, with the reason.
    rejected: Mutex<HashMap<PathBuf, Rejection>>,
    reload_lock: tokio::sync::Mutex<()>,
}

impl Registry {
    /// An empty registry over `config.plugins.dir`, for `config`'s integrations.
    pub fn new(runtime: Arc<Runtime>, config: Arc<Config>, aircall: Arc<Accounts>) -> Registry {
        Registry::live(runtime, Arc::new(LiveConfig::new(config)), aircall)
    }

    /// An empty registry whose plugins serve the integrations of `live`'s
    /// effective configuration ([`Registry::rebind`] after it changes).
    pub fn live(runtime: Arc<Runtime>, live: Arc<LiveConfig>, aircall: Arc<Accounts>) -> Registry {
        Registry {
            runtime,
            dir: live.file().plugins.dir.clone(),
            live,
            aircall,
            plugins: ArcSwap::from_pointee(HashMap::new()),
            by_folder: Mutex::new(HashMap::new()),
            rejected: Mutex::new(HashMap::new()),
            reload_lock: tokio::sync::Mutex::new(()),
        }
    }

    /// The effective configuration it serves.
    pub fn config(&self) -> Arc<Config> {
        self.live.load()
    }

    /// Rebuilds every loaded plugin's integrations from `config` (about to
    /// become the effective configuration): new ones get their policy, changed
    /// ones a new one, removed ones none. Jobs already running keep the policy
    /// they started with. `swap` then makes `config` the effective
    /// configuration, before a plugin reload may run (it binds from the
    /// effective configuration). Returns the console integrations that do not
    /// pass their plugin's checks, with the reason (they get no jobs run).
    pub async fn rebind(&self, config: &Config, swap: impl FnOnce()) -> Vec<(String, String)> {
        let _guard = self.reload_lock.lock().await;
        let mut unbound = Vec::new();
        for plugin in self.plugins.load().values() {
            match self.bind(config, &plugin.manifest) {
                Ok((map, skipped)) => {
                    plugin.integrations.store(Arc::new(map));
                    unbound.extend(skipped);
                }
                // Checked when the file was loaded; a file that changed is not re-read.
                Err(e) => tracing::error!(plugin = %plugin.manifest.name, error = %e, "integrations not rebound"),
            }
        }
        swap();
        unbound
    }

    /// The policies of `config`'s integrations of plugin `manifest`. A file
    /// integration that fails is an error (the candidate is rejected, as at
    /// start); a console integration that fails is left out and returned.
    fn bind(&self, config: &Config, manifest: &Manifest) -> Result<(Bindings, Vec<(String, String)>), String> {
        let mut integrations = HashMap::new();
        let mut skipped = Vec::new();
        for (index, integration) in config.integrations.iter().enumerate().filter(|(_, i)| i.plugin == manifest.name) {
            let key = match integration.origin {
                Origin::File => format!("integrations[{index}]"),
                Origin::Console => crate::config::live::console_key(&integration.id),
            };
            let bound = match self.aircall.get(&integration.account) {
                None => Err(format!("{key}.account: unknown account {:?}", integration.account)),
                Some(aircall) => policy::integration_at(&key, integration, manifest, aircall),
            };
            match (bound, integration.origin) {
                (Ok(ctx), _) => {
                    integrations.insert(integration.id.clone(), Arc::new(ctx));
                }
                (Err(e), Origin::File) => return Err(e),
                (Err(e), Origin::Console) => skipped.push((integration.id.clone(), e)),
            }
        }
        Ok((integrations, skipped))
    }

    /// The plugin directory, `[plugins] dir` of the configuration file.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The serving version of a plugin.
    pub fn get(&self, name: &str) -> Option<Arc<LoadedPlugin>> {
        self.plugins.load().get(name).cloned()
    }

    /// Whether the last candidate of plugin `name` was rejected (its reason was
    /// reported then), so "not found" would mislead.
    pub fn was_rejected(&self, name: &str) -> bool {
        self.rejected.lock().is_ok_and(|r| r.values().any(|n| n.plugin == name))
    }

    /// The candidates whose last version was rejected, by folder.
    pub fn rejections(&self) -> Vec<Rejection> {
        let mut v: Vec<Rejection> = self.rejected.lock().map(|r| r.values().cloned().collect()).unwrap_or_default();
        v.sort_by(|a, b| a.folder.cmp(&b.folder));
        v
    }

    /// The Aircall client of an account (the one its integrations use, with
    /// the account's request budget).
    pub fn aircall(&self, account: &str) -> Option<Arc<AircallClient>> {
        self.aircall.get(account)
    }

    /// The live Aircall accounts (updated before [`Registry::rebind`] when
    /// the console adds or deletes one).
    pub fn accounts(&self) -> &Arc<Accounts> {
        &self.aircall
    }

    /// Every serving plugin, by name.
    pub fn list(&self) -> Vec<Arc<LoadedPlugin>> {
        let mut v: Vec<_> = self.plugins.load().values().cloned().collect();
        v.sort_by(|a, b| a.manifest.name.cmp(&b.manifest.name));
        v
    }

    /// Load every folder of the directory; returns the outcome per folder.
    pub async fn load_all(&self) -> Vec<(PathBuf, ReloadOutcome)> {
        let mut out = Vec::new();
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) => {
                tracing::error!(dir = %self.dir.display(), error = %e, "cannot read the plugin directory");
                return out;
            }
        };
        let mut folders: Vec<PathBuf> = entries.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_dir()).collect();
        folders.sort();
        for folder in folders {
            if folder.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')) {
                continue;
            }
            let outcome = self.reload(&folder).await;
            out.push((folder, outcome));
        }
        out
    }

    /// (Re)load one folder and swap the result in.
    pub async fn reload(&self, folder: &Path) -> ReloadOutcome {
        let _guard = self.reload_lock.lock().await;
        let outcome = self.reload_locked(folder).await;
        if let Ok(mut rejected) = self.rejected.lock() {
            match &outcome {
                ReloadOutcome::Rejected(why) => {
                    let rejection = Rejection {
                        plugin: plugin_name_of(folder),
                        folder: folder.to_path_buf(),
                        reason: why.clone(),
                        at_ms: crate::clock::now_ms(),
                    };
                    rejected.insert(folder.to_path_buf(), rejection);
                }
                _ => {
                    rejected.remove(folder);
                }
            }
        }
        match &outcome {
            ReloadOutcome::Loaded { name, version } => {
                tracing::info!(plugin = %name, %version, folder = %folder.display(), "plugin loaded")
            }
            ReloadOutcome::Removed { name } => {
                tracing::info!(plugin = %name, folder = %folder.display(), "plugin removed; it receives no new jobs")
            }
            ReloadOutcome::Rejected(why) => {
                tracing::error!(folder = %folder.display(), reason = %why, "plugin candidate rejected; the previous version (if any) keeps serving")
            }
            _ => {}
        }
        outcome
    }

    async fn reload_locked(&self, folder: &Path) -> ReloadOutcome {
        let manifest_path = folder.join("plugin.toml");
        let previous_name = self.by_folder.lock().ok().and_then(|m| m.get(folder).cloned());
        if !manifest_path.exists() {
            return match previous_name {
                Some(name) => {
                    self.remove(folder, &name);
                    ReloadOutcome::Removed { name }
                }
                None => ReloadOutcome::Nothing,
            };
        }
        let manifest = match std::fs::read_to_string(&manifest_path) {
            Ok(text) => match Manifest::parse(&text) {
                Ok(m) => m,
                Err(e) => return ReloadOutcome::Rejected(e),
            },
            Err(e) => {
                return ReloadOutcome::Rejected(format!("cannot read {}: {e}", manifest_path.display()));
            }
        };
        let wasm_path = folder.join(&manifest.component);
        let wasm = match std::fs::read(&wasm_path) {
            Ok(w) => w,
            Err(e) => {
                return ReloadOutcome::Rejected(format!("cannot read {}: {e}", wasm_path.display()));
            }
        };
        if let Some(other) = self.plugins.load().get(&manifest.name) {
            if other.folder != folder {
                return ReloadOutcome::Rejected(format!(
                    "plugin name {:?} is already served from {}",
                    manifest.name,
                    other.folder.display()
                ));
            }
            if other.component.hash == crate::runtime::cache_hash(&wasm)
                && other.manifest.version == manifest.version
                && same_policy(&other.manifest, &manifest)
            {
                return ReloadOutcome::Unchanged;
            }
        }
        let runtime = self.runtime.clone();
        let linked = match tokio::task::spawn_blocking(move || runtime.link(&wasm)).await {
            Ok(Ok(l)) => l,
            Ok(Err(e)) => {
                return ReloadOutcome::Rejected(format!("{}: not a valid {} component: {e:#}", wasm_path.display(), manifest.contract));
            }
            Err(e) => return ReloadOutcome::Rejected(format!("compile task failed: {e}")),
        };
        if linked.contract != manifest.contract {
            return ReloadOutcome::Rejected(format!(
                "{}: plugin.toml says contract {:?} but the component imports switchboard:plugin@{}; rebuild it or correct `contract`",
                wasm_path.display(),
                manifest.contract,
                linked.contract
            ));
        }
        let integrations = match self.bind(&self.live.load(), &manifest) {
            Ok((map, skipped)) => {
                for (id, why) in skipped {
                    tracing::warn!(integration = %id, reason = %why, "console integration not set up for this plugin version; it runs no jobs");
                }
                map
            }
            Err(e) => return ReloadOutcome::Rejected(e),
        };
        let name = manifest.name.clone();
        let version = manifest.version.clone();
        let loaded = Arc::new(LoadedPlugin {
            manifest,
            component: linked,
            integrations: ArcSwap::from_pointee(integrations),
            folder: folder.to_path_buf(),
            loaded_at_ms: crate::clock::now_ms(),
        });
        if let Some(old) = previous_name.filter(|n| *n != name) {
            self.remove(folder, &old);
        }
        let mut map = (**self.plugins.load()).clone();
        map.insert(name.clone(), loaded);
        self.plugins.store(Arc::new(map));
        if let Ok(mut m) = self.by_folder.lock() {
            m.insert(folder.to_path_buf(), name.clone());
        }
        ReloadOutcome::Loaded { name, version }
    }

    fn remove(&self, folder: &Path, name: &str) {
        let mut map = (**self.plugins.load()).clone();
        if map.get(name).is_some_and(|p| p.folder == folder) {
            map.remove(name);
            self.plugins.store(Arc::new(map));
        }
        if let Ok(mut m) = self.by_folder.lock() {
            m.remove(folder);
        }
    }
}

/// The plugin name a folder claims: its manifest's `name` when that much can
/// be read, else the folder's name.
fn plugin_name_of(folder: &Path) -> String {
    std::fs::read_to_string(folder.join("plugin.toml"))
        .ok()
        .and_then(|text| text.parse::<toml::Table>().ok())
        .and_then(|t| t.get("name").and_then(|n| n.as_str()).map(str::to_string))
        .unwrap_or_else(|| folder.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default())
}

fn same_policy(a: &Manifest, b: &Manifest) -> bool {
    format!("{:?}{:?}{:?}", a.http, a.secrets, a.settings) == format!("{:?}{:?}{:?}", b.http, b.secrets, b.settings)
}
