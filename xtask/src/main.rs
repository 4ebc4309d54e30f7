//! Project automation, runnable with only Rust installed: `cargo xtask <task>`.
//!
//! - `plugins [NAME...]`: add the wasm32-wasip2 target if missing, build every
//!   plugin (or the named ones) in release, and assemble `dist/plugins/<name>/{plugin.toml, plugin.wasm}`.
//! - `test [ARGS]`: `cargo fmt --all --check` (the style is `rustfmt.toml`),
//!   `plugins`, then `cargo test` on the native crates (the
//!   workspace's default members), then the plugin crates' own unit tests
//!   (`cargo test -p <plugin>…` on the host target: Intercom's rules, HubSpot's
//!   signatures…). With ARGS (`cargo xtask test -p switchboard --test cli`) only
//!   the native `cargo test ARGS` runs. A failed run ends with the first
//!   lines of each panic (see [`failures`]).
//! - `demo [ARGS]`: `plugins`, then the demo (`demo/`: sandbox + host + scenarios;
//!   `cargo xtask demo --quick` exits after the summary).
//! - `bench`: `plugins`, then every benchmark in release (dispatch, ingest,
//!   reload, connections, stall, the phone engine); results go in `BENCHMARKS.md`.
//! - `soak [KILLS]`: the host SIGKILLed KILLS times (default 1,000) under a
//!   stream of webhooks; prints acked / lost / duplicated / reordered.
//!   `soak --hosts 3 [KILLS]`: three hosts on one PostgreSQL, one of them
//!   SIGKILLed KILLS times (default 200; tests/e2e/scaleout.rs).
//! - `new-plugin NAME`: a new connector in `plugins/NAME`, copied from
//!   `plugins/example` and added to the workspace (see [`new_plugin`]).

mod failures;
mod new_plugin;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// Folders whose sub-folders with a `plugin.toml` and a `Cargo.toml` are plugins.
const PLUGIN_ROOTS: &[&str] = &["plugins", "tests/plugins"];

/// A plugin crate found in the tree.
struct PluginCrate {
    package: String,
    folder: PathBuf,
    name: String,
}

/// The first `key = "value"` line of a TOML file (enough for `name` in
/// `[package]` and in `plugin.toml`, which both put it first).
fn toml_string(path: &Path, key: &str) -> Result<String, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    text.lines()
        .filter_map(|l| l.split_once('='))
        .find(|(k, _)| k.trim() == key)
        .map(|(_, v)| v.trim().trim_matches('"').to_string())
        .ok_or_else(|| format!("{}: no `{key}`", path.display()))
}

fn discover(root: &Path) -> Result<Vec<PluginCrate>, String> {
    let mut found = Vec::new();
    for dir in PLUGIN_ROOTS {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        for entry in entries.flatten() {
            let folder = entry.path();
            if folder.join("plugin.toml").exists() && folder.join("Cargo.toml").exists() {
                found.push(PluginCrate {
                    package: toml_string(&folder.join("Cargo.toml"), "name")?,
                    name: toml_string(&folder.join("plugin.toml"), "name")?,
                    folder,
                });
            }
        }
    }
    found.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(found)
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."))
}

fn run(cmd: &mut Command) -> Result<(), String> {
    eprintln!("xtask: {cmd:?}");
    let status = cmd.status().map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("{cmd:?} failed with {status}")) }
}

fn ensure_target() -> Result<(), String> {
    let out = Command::new("rustup").args(["target", "list", "--installed"]).output();
    match out {
        Ok(o) if String::from_utf8_lossy(&o.stdout).lines().any(|l| l.trim() == "wasm32-wasip2") => Ok(()),
        Ok(_) => run(Command::new("rustup").args(["target", "add", "wasm32-wasip2"])),
        Err(_) => {
            eprintln!("xtask: rustup not found; assuming the wasm32-wasip2 target is installed");
            Ok(())
        }
    }
}

/// Builds the plugins named in `only` (all when empty).
fn plugins(only: &[String]) -> Result<(), String> {
    ensure_target()?;
    let root = root();
    let mut plugins = discover(&root)?;
    if !only.is_empty() {
        if let Some(unknown) = only.iter().find(|n| !plugins.iter().any(|p| &p.name == *n)) {
            return Err(format!("no plugin named `{unknown}` under {}", PLUGIN_ROOTS.join(" or ")));
        }
        plugins.retain(|p| only.contains(&p.name));
    }
    let mut cmd = Command::new(env!("CARGO"));
    cmd.current_dir(&root).args(["build", "--target", "wasm32-wasip2", "--profile", "plugin"]);
    for p in &plugins {
        cmd.args(["-p", &p.package]);
    }
    run(&mut cmd)?;
    for PluginCrate { package, folder, name } in &plugins {
        let wasm = root.join("target/wasm32-wasip2/plugin").join(format!("{}.wasm", package.replace('-', "_")));
        let dest = root.join("dist/plugins").join(name);
        std::fs::create_dir_all(&dest).map_err(|e| format!("{}: {e}", dest.display()))?;
        std::fs::copy(folder.join("plugin.toml"), dest.join("plugin.toml"))
            .map_err(|e| format!("{}/plugin.toml: {e}", folder.display()))?;
        // Copy then rename, so a watching host never sees half a component.
        let tmp = dest.join(".plugin.wasm.tmp");
        std::fs::copy(&wasm, &tmp).map_err(|e| format!("{}: {e}", wasm.display()))?;
        std::fs::rename(&tmp, dest.join("plugin.wasm")).map_err(|e| format!("{}: {e}", dest.display()))?;
        let size = std::fs::metadata(dest.join("plugin.wasm")).map(|m| m.len()).unwrap_or(0);
        eprintln!("xtask: dist/plugins/{name}/plugin.wasm ({} KiB)", size / 1024);
    }
    Ok(())
}

/// Fails, naming the fix, when a file is not formatted as `rustfmt.toml` says.
fn fmt_check() -> Result<(), String> {
    let mut cmd = Command::new(env!("CARGO"));
    cmd.current_dir(root()).args(["fmt", "--all", "--check"]);
    run(&mut cmd).map_err(|e| format!("{e}\nxtask: some files are not formatted; run `cargo fmt --all`"))
}

/// Every benchmark, in release, after the plugins they load.
fn bench() -> Result<(), String> {
    for args in [
        &["bench", "-p", "switchboard", "--bench", "dispatch"][..],
        &["bench", "-p", "switchboard", "--bench", "ingest"],
        &["bench", "-p", "switchboard", "--bench", "reload"],
        &["bench", "-p", "switchboard", "--bench", "connections"],
        &["bench", "-p", "switchboard", "--bench", "stall"],
        &["bench", "-p", "switchboard", "--bench", "console"],
        &["bench", "-p", "switchboard-phone"],
    ] {
        let mut cmd = Command::new(env!("CARGO"));
        cmd.current_dir(root()).args(args);
        run(&mut cmd)?;
    }
    Ok(())
}

/// `cargo test ARGS` on the native crates; without ARGS, then every plugin
/// crate's unit tests on the host target (they are not default members, so a
/// plain `cargo test` skips them).
fn test(args: &[String]) -> Result<(), String> {
    let root = root();
    let mut native = Command::new(env!("CARGO"));
    native.current_dir(&root).arg("test").args(args);
    failures::run(&mut native)?;
    if !args.is_empty() {
        return Ok(());
    }
    let mut cmd = Command::new(env!("CARGO"));
    cmd.current_dir(&root).arg("test");
    for p in discover(&root)? {
        cmd.args(["-p", &p.package]);
    }
    failures::run(&mut cmd)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("plugins") => plugins(&args[1..]),
        Some("test") if args.len() == 1 => fmt_check().and_then(|_| plugins(&[])).and_then(|_| test(&[])),
        Some("test") => plugins(&[]).and_then(|_| test(&args[1..])),
        Some("bench") => plugins(&[]).and_then(|_| bench()),
        Some("demo") => plugins(&[]).and_then(|_| {
            let mut cmd = Command::new(env!("CARGO"));
            cmd.current_dir(root()).args(["run", "-p", "switchboard-demo", "--bin", "demo", "--"]).args(&args[1..]);
            run(&mut cmd)
        }),
        Some("soak") => plugins(&[]).and_then(|_| {
            // The host is SIGKILLed KILLS times under a stream of webhooks; prints
            // acked / lost / duplicated / reordered (tests/e2e/soak.rs, or
            // tests/e2e/scaleout.rs for three hosts on one PostgreSQL).
            let (test, variable, default, rest) = match &args[1..] {
                [flag, hosts, rest @ ..] if flag == "--hosts" && hosts == "3" => ("scaleout::long", "SCALEOUT_KILLS", "200", rest),
                [flag, ..] if flag == "--hosts" => return Err("soak --hosts: only 3 hosts are supported".into()),
                rest => ("soak::long", "SOAK_KILLS", "1000", rest),
            };
            let kills = rest.first().cloned().unwrap_or_else(|| default.into());
            let mut cmd = Command::new(env!("CARGO"));
            cmd.current_dir(root()).env(variable, kills).args([
                "test",
                "-p",
                "switchboard",
                "--test",
                "e2e",
                test,
                "--",
                "--ignored",
                "--nocapture",
            ]);
            run(&mut cmd)
        }),
        Some("new-plugin") => match &args[1..] {
            [name] => new_plugin::new_plugin(&root(), name).map(|dest| {
                println!("created {}; build it with: cargo xtask plugins {name} (it lands in dist/plugins/{name})", dest.display());
            }),
            _ => Err("usage: cargo xtask new-plugin NAME".into()),
        },
        _ => {
            Err("usage: cargo xtask plugins [NAME...] | test [ARGS] | bench | soak [--hosts 3] [KILLS] | demo [ARGS] | new-plugin NAME"
                .into())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}
