//! What the benchmarks share: percentiles, the built plugin, a config builder.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::Duration;

/// Percentile of sorted samples.
pub fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Median of values.
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

pub fn us(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

/// `dist/plugins/<name>` (built by `cargo xtask plugins`).
pub fn plugin_dir(name: &str) -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../dist/plugins").join(name);
    assert!(p.join("plugin.wasm").exists(), "{} missing: run `cargo xtask plugins`", p.display());
    p
}

/// A configuration with the example integration pointed at `crm`.
pub fn config_text(dir: &std::path::Path, crm: &str, fsync: bool) -> String {
    format!(
        r#"
[server]
listen = "127.0.0.1:0"
[store]
path = "{db}"
fsync = {fsync}
[plugins]
dir = "{plugins}"
watch = false
[limits]
concurrency = 64
[network]
allow_private = true
allow_http = true
[[accounts]]
id = "main"
webhook_token = "bench-token-123"
api_base = "http://127.0.0.1:9"
[[integrations]]
id = "notes"
account = "main"
plugin = "example"
base_url = "{crm}"
secrets = {{ api = "secret" }}
"#,
        db = dir.join("bench.db").display(),
        plugins = dir.join("plugins").display(),
    )
}

/// Machine description for the report.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string()))
        .unwrap_or_else(|| "unknown CPU".into());
    format!("{cpu}, {} cores", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0))
}
