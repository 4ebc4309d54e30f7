//! Hot-reload swap time: from a new `plugin.toml` renamed into a watched plugin
//! folder to the new version serving (debounce, validation, link from the
//! compile cache, atomic swap included).
//!
//! `cargo bench -p switchboard --bench reload`
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};
use support::*;
use switchboard::config::Config;
use switchboard::registry::Registry;

const SWAPS: usize = 30;

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    println!("machine: {}", machine());
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("plugins/example");
        std::fs::create_dir_all(&folder).unwrap();
        for f in ["plugin.toml", "plugin.wasm"] {
            std::fs::copy(plugin_dir("example").join(f), folder.join(f)).unwrap();
        }
        let config =
            Config::from_toml(&config_text(dir.path(), "http://127.0.0.1:9", true), "bench.toml".as_ref(), dir.path(), &|_| None).unwrap();
        let runtime = Arc::new(switchboard::app::runtime_for(&config).unwrap());
        let registry = Arc::new(Registry::new(runtime, Arc::new(config.clone()), switchboard::app::aircall_clients(&config).unwrap()));
        let t = Instant::now();
        registry.load_all().await;
        println!("first load (compile + cache write): {}", ms(t.elapsed()));
        let _watch = registry.watch().unwrap();
        let manifest = std::fs::read_to_string(folder.join("plugin.toml")).unwrap();
        let mut samples = Vec::new();
        for i in 0..SWAPS {
            let version = format!("0.1.{}", i + 100);
            let text = manifest.replace("version = \"0.1.0\"", &format!("version = \"{version}\""));
            std::fs::write(folder.join(".plugin.toml.tmp"), text).unwrap();
            let t = Instant::now();
            std::fs::rename(folder.join(".plugin.toml.tmp"), folder.join("plugin.toml")).unwrap();
            loop {
                if registry.get("example").is_some_and(|p| p.manifest.version == version) {
                    break;
                }
                assert!(t.elapsed() < Duration::from_secs(10), "swap {i} never happened");
                tokio::time::sleep(Duration::from_micros(200)).await;
            }
            samples.push(t.elapsed());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        samples.sort();
        println!(
            "swap, file renamed → new version serving ({SWAPS} swaps): p50 {}  p99 {}  max {}  (debounce {} ms included)",
            ms(pct(&samples, 0.5)),
            ms(pct(&samples, 0.99)),
            ms(*samples.last().unwrap()),
            15
        );
    });
}
