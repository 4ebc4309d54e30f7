//! `cargo xtask new-plugin NAME`: a new connector from `plugins/example`.
//!
//! Copies the example's folder to `plugins/NAME`, names it in `plugin.toml`
//! (`name`, `description`) and `Cargo.toml` (`switchboard-plugin-NAME`), and
//! adds it to the workspace's `members`. The TOML files are edited with
//! `toml_edit`, so comments and layout stay as they were.

use std::path::{Path, PathBuf};
use toml_edit::{DocumentMut, Item, Value, value};

/// A plugin name the host accepts (`[a-z0-9_-]`, at most 64, starting with a letter).
fn check_name(name: &str) -> Result<(), String> {
    let ok = name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(format!("plugin name {name:?}: use lower-case letters, digits, `-` or `_`, starting with a letter (at most 64)"))
    }
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

fn parse(path: &Path) -> Result<DocumentMut, String> {
    read(path)?.parse::<DocumentMut>().map_err(|e| format!("{}: {e}", path.display()))
}

/// Copy a folder's files and sub-folders (no `target/`).
fn copy_tree(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::create_dir_all(to).map_err(|e| format!("{}: {e}", to.display()))?;
    let entries = std::fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: {e}", from.display()))?;
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        if src.is_dir() {
            if entry.file_name() != "target" {
                copy_tree(&src, &dst)?;
            }
        } else {
            std::fs::copy(&src, &dst).map_err(|e| format!("copying {} to {}: {e}", src.display(), dst.display()))?;
        }
    }
    Ok(())
}

/// Add `member` to `[workspace] members` after the last `plugins/…` entry,
/// laid out like its neighbours. Already there: nothing changes.
fn add_member(workspace: &mut DocumentMut, member: &str) -> Result<(), String> {
    let members = workspace
        .get_mut("workspace")
        .and_then(|w| w.get_mut("members"))
        .and_then(Item::as_array_mut)
        .ok_or("Cargo.toml: no [workspace] members array")?;
    if members.iter().any(|m| m.as_str() == Some(member)) {
        return Ok(());
    }
    let last_plugin =
        members.iter().enumerate().filter(|(_, m)| m.as_str().is_some_and(|s| s.starts_with("plugins/"))).map(|(i, _)| i).last();
    let at = last_plugin.map_or(members.len(), |i| i + 1);
    let mut entry = Value::from(member);
    if let Some(neighbour) = members.get(at.saturating_sub(1)) {
        *entry.decor_mut() = neighbour.decor().clone();
    }
    members.insert_formatted(at, entry);
    Ok(())
}

/// Create `plugins/NAME` under `root` (the workspace root) from `plugins/example`.
pub fn new_plugin(root: &Path, name: &str) -> Result<PathBuf, String> {
    check_name(name)?;
    let dest = root.join("plugins").join(name);
    if dest.exists() {
        return Err(format!("{} exists already", dest.display()));
    }
    copy_tree(&root.join("plugins/example"), &dest)?;

    let manifest_path = dest.join("plugin.toml");
    let mut manifest = parse(&manifest_path)?;
    manifest["name"] = value(name);
    manifest["description"] = value(format!("{name} connector"));
    write(&manifest_path, &manifest.to_string())?;

    let cargo_path = dest.join("Cargo.toml");
    let mut cargo = parse(&cargo_path)?;
    cargo["package"]["name"] = value(format!("switchboard-plugin-{name}"));
    cargo["package"]["description"] = value(format!("Aircall <-> {name} connector"));
    write(&cargo_path, &cargo.to_string())?;

    let workspace_path = root.join("Cargo.toml");
    let mut workspace = parse(&workspace_path)?;
    add_member(&mut workspace, &format!("plugins/{name}"))?;
    write(&workspace_path, &workspace.to_string())?;
    Ok(dest)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    /// A throw-away copy of the workspace's `Cargo.toml` and `plugins/example`.
    fn scratch(tag: &str) -> PathBuf {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let dir = std::env::temp_dir().join(format!("xtask-new-plugin-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        copy_tree(&repo.join("plugins/example"), &dir.join("plugins/example")).unwrap();
        std::fs::copy(repo.join("Cargo.toml"), dir.join("Cargo.toml")).unwrap();
        dir
    }

    #[test]
    fn a_new_plugin_is_the_example_renamed_and_a_workspace_member() {
        let root = scratch("ok");
        let dest = new_plugin(&root, "zendesk").unwrap();
        let manifest: toml::Table = read(&dest.join("plugin.toml")).unwrap().parse().unwrap();
        assert_eq!(manifest["name"].as_str(), Some("zendesk"));
        assert_eq!(manifest["contract"].as_str(), Some("0.2.0"), "the rest of the manifest is kept");
        let cargo: toml::Table = read(&dest.join("Cargo.toml")).unwrap().parse().unwrap();
        assert_eq!(cargo["package"]["name"].as_str(), Some("switchboard-plugin-zendesk"));
        for file in ["src/lib.rs", "src/rules.rs", "src/settings.rs", "src/api/mod.rs"] {
            assert!(dest.join(file).is_file(), "the connector layout (plugins/README.md): {file}");
        }

        let workspace_text = read(&root.join("Cargo.toml")).unwrap();
        let workspace: toml::Table = workspace_text.parse().unwrap();
        let members: Vec<&str> = workspace["workspace"]["members"].as_array().unwrap().iter().filter_map(|m| m.as_str()).collect();
        assert!(members.contains(&"plugins/zendesk") && members.contains(&"plugins/example"), "{members:?}");
        assert!(workspace_text.contains("    \"plugins/zendesk\",\n"), "laid out like its neighbours:\n{workspace_text}");
        assert!(workspace_text.contains("# `cargo test` / `cargo build` without `-p`"), "comments survive");
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn an_existing_folder_or_a_bad_name_is_refused() {
        let root = scratch("refused");
        assert!(new_plugin(&root, "example").unwrap_err().contains("exists already"));
        assert!(new_plugin(&root, "Bad Name").unwrap_err().contains("lower-case"));
        let _ = std::fs::remove_dir_all(&root);
    }
}
