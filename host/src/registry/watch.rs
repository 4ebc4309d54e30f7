//! Watching the plugin directory: file events are debounced briefly, mapped to
//! the plugin folders they touch, and each touched folder is reloaded.

use super::Registry;
use notify::{RecursiveMode, Watcher};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// How long to wait for more events after the first one.
const DEBOUNCE: Duration = Duration::from_millis(15);

/// Keeps the watcher alive; dropping it stops watching.
pub struct WatchHandle {
    _watcher: notify::RecommendedWatcher,
}

impl Registry {
    /// Watch the plugin directory and reload what changes.
    pub fn watch(self: &Arc<Self>) -> anyhow::Result<WatchHandle> {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<PathBuf>();
        let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
            if let Ok(event) = res {
                if matches!(event.kind, notify::EventKind::Access(_)) {
                    return;
                }
                for path in event.paths {
                    let _ = tx.send(path);
                }
            }
        })?;
        std::fs::create_dir_all(&self.dir)?;
        watcher.watch(&self.dir, RecursiveMode::Recursive)?;
        let registry = self.clone();
        let dir = std::fs::canonicalize(&self.dir).unwrap_or_else(|_| self.dir.clone());
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut paths = vec![first];
                tokio::time::sleep(DEBOUNCE).await;
                while let Ok(p) = rx.try_recv() {
                    paths.push(p);
                }
                let folders: BTreeSet<PathBuf> = paths.iter().filter_map(|p| plugin_folder(&dir, p)).collect();
                for folder in folders {
                    let folder = registry.dir.join(folder.strip_prefix(&dir).unwrap_or(&folder));
                    registry.reload(&folder).await;
                }
            }
        });
        Ok(WatchHandle { _watcher: watcher })
    }
}

/// The plugin folder (a direct child of `dir`) a changed path belongs to.
fn plugin_folder(dir: &std::path::Path, path: &std::path::Path) -> Option<PathBuf> {
    let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let rel = path.strip_prefix(dir).ok()?;
    let first = rel.components().next()?;
    let name = first.as_os_str().to_string_lossy();
    if name.starts_with('.') {
        return None;
    }
    Some(dir.join(first))
}
