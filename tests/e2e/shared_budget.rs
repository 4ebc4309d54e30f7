//! Two hosts on one PostgreSQL database spend one Gorgias budget together
//! (issue 17): the manifest's 40 requests per 20 s hold for both at once, not
//! for each, because the token bucket is a row of the `budgets` table.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support::{Host, TOKEN, on_postgres, pg_count, pg_database};
use std::time::{Duration, Instant};
use switchboard::simulate::{self, PlayOptions, Scenario, Speed, World};
use switchboard_sandbox::{GorgiasRate, Sandbox, SandboxOptions};

/// The emulator's Basic credentials, as `email:api_key`.
const SECRET: &str = "operator@sandbox.test:sandbox-gorgias-key";
/// Gorgias's limit for an API key, as `plugins/gorgias/plugin.toml` declares
/// it and as the emulator enforces it (a leaky bucket of 40 draining in 20 s).
const LIMIT: f64 = 40.0;
const WINDOW_SECS: f64 = 20.0;
/// How long the hosts are watched once Gorgias saw the first request.
const WATCH: Duration = Duration::from_secs(22);

/// The Gorgias rig's configuration (see `support::rig`), on PostgreSQL at `url`.
fn config(sandbox: &Sandbox, url: &str) -> String {
    let a = sandbox.aircall().credentials().clone();
    let config = format!(
        r#"
[server]
listen = "127.0.0.1:{{PORT}}"
public_url = "http://127.0.0.1:{{PORT}}"
[store]
path = "switchboard.db"
[plugins]
dir = "plugins"
watch = false
[limits]
concurrency = 16
job_timeout_ms = 10000
retry_base_ms = 100
retry_cap_seconds = 2
[network]
allow_private = true
allow_http = true
[reconcile]
enabled = false

[[accounts]]
id = "main"
webhook_token = "{TOKEN}"
api_id = "{}"
api_token = "{}"
api_base = "{}"

[[integrations]]
id = "gorgias"
account = "main"
plugin = "gorgias"
base_url = "{}"
secrets = {{ api = "{SECRET}" }}
"#,
        a.api_id,
        a.api_token,
        sandbox.aircall_url(),
        sandbox.gorgias_url()
    );
    on_postgres(&config, url)
}

/// `copies` answered calls, each from its own customer `+33 6 4<prefix> 00 00 NN`.
fn calls(world: &World, prefix: u8, copies: u32) -> Scenario {
    let toml = format!(
        r#"
copies = {copies}
[[call]]
key = "c"
direction = "inbound"
number = "support-fr"
from = "+33 6 4{prefix} 00 00 {{n}}"
[[step]]
at = 0
call = "c"
event = "call.created"
[[step]]
at = 3
call = "c"
event = "call.answered"
user = "ada"
[[step]]
at = 60
call = "c"
event = "call.hungup"
[[step]]
at = 90
call = "c"
event = "call.ended"
"#
    );
    Scenario::parse("inline", &toml, world).unwrap_or_else(|e| panic!("{e}"))
}

/// Requests to `127.0.0.1` the host counted on `/metrics`, answered (any
/// status code) and held back by its budget (`throttled`).
async fn outbound(host: &Host) -> (u64, u64) {
    let text = reqwest::get(format!("{}/metrics", host.url)).await.unwrap().text().await.unwrap();
    let (mut answered, mut throttled) = (0, 0);
    for line in text.lines().filter(|l| l.starts_with("switchboard_outbound_requests_total{") && l.contains("host=\"127.0.0.1\"")) {
        let n = line.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0) as u64;
        if line.contains("status=\"throttled\"") {
            throttled += n;
        } else if line.split("status=\"").nth(1).is_some_and(|s| s.starts_with(|c: char| c.is_ascii_digit())) {
            answered += n;
        }
    }
    (answered, throttled)
}

/// The fullest Gorgias's bucket would have got with every request the hosts
/// sent (refused ones included): each arrival adds one, the bucket drains
/// `LIMIT` per `WINDOW_SECS` (what the emulator and Gorgias enforce; a request
/// arriving with it above `LIMIT - 1` is refused).
fn peak_level(arrivals_ms: &[i64]) -> f64 {
    let drain_per_ms = LIMIT / (WINDOW_SECS * 1000.0);
    let (mut level, mut peak) = (0.0_f64, 0.0_f64);
    let mut last = arrivals_ms.first().copied().unwrap_or(0);
    for &t in arrivals_ms {
        level = (level - (t - last) as f64 * drain_per_ms).max(0.0) + 1.0;
        peak = peak.max(level);
        last = t;
    }
    peak
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hosts_on_one_database_stay_under_gorgias_limit_together() {
    switchboard_sandbox::install_crypto_provider();
    let db = pg_database().await;
    let sandbox = Sandbox::start(SandboxOptions { gorgias_rate: GorgiasRate { limit: 40, window_secs: 20 }, ..Default::default() })
        .await
        .expect("sandbox starts");
    let config = config(&sandbox, &db.url);
    let (a, b) = tokio::join!(Host::start(&config, &["gorgias"]), Host::start(&config, &["gorgias"]));

    // 2 × 20 callers at once, half through each host: far more Gorgias
    // requests (several per call) than 40 + 2 a second allow in the time watched.
    let world = World::bundled().expect("bundled world");
    let world = &world;
    let play = |host: &Host, prefix: u8, id_base: u64| {
        let mut options = PlayOptions::new(&host.url, TOKEN).speed(Speed::Max).aircall(sandbox.aircall_url());
        options.id_base = Some(id_base);
        let scenario = calls(world, prefix, 20);
        async move { simulate::play(&scenario, world, &options).await.expect("scenario plays") }
    };
    let (ra, rb) = tokio::join!(play(&a, 1, 1_000_000), play(&b, 2, 2_000_000));
    assert!(ra.rejected.is_empty() && rb.rejected.is_empty(), "webhooks refused: {:?} {:?}", ra.rejected, rb.rejected);

    let api = || -> Vec<switchboard_sandbox::RequestRecord> {
        sandbox.gorgias().requests().into_iter().filter(|r| r.path.starts_with("/api/")).collect()
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while api().is_empty() {
        assert!(Instant::now() < deadline, "no Gorgias request within 20 s\nhost a:\n{}\nhost b:\n{}", a.log(), b.log());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(WATCH).await;

    let requests = api();
    let mut arrivals: Vec<i64> = requests.iter().map(|r| r.timestamp_ms).collect();
    arrivals.sort_unstable();
    let span_s = (arrivals[arrivals.len() - 1] - arrivals[0]) as f64 / 1000.0;
    let limited = requests.iter().filter(|r| r.status == 429).count();
    let peak = peak_level(&arrivals);
    let ((a_sent, a_throttled), (b_sent, b_throttled)) = (outbound(&a).await, outbound(&b).await);
    let queued = pg_count(&db.url, "SELECT COUNT(*) FROM jobs WHERE state = 'queued'").await;
    println!(
        "Gorgias saw {} requests over {span_s:.1} s (the limit allows {:.0}), {limited} answered 429, what they sent would fill its bucket to {peak:.1} of {LIMIT}; \
         host a sent {a_sent} (held back {a_throttled}×), host b {b_sent} (held back {b_throttled}×); {queued} jobs still queued",
        requests.len(),
        LIMIT + span_s * LIMIT / WINDOW_SECS
    );
    let logs = || format!("host a:\n{}\nhost b:\n{}", a.log(), b.log());
    // The hosts' bucket and Gorgias's run in step at the limit, so a request
    // that reaches Gorgias a few milliseconds sooner after its token than the
    // previous one can find its bucket a hair over full: one such 429 is
    // timing, not budget (and its Retry-After then holds both hosts). Two hosts
    // with a budget each go over by several requests (6 × 429 and a bucket of
    // 45.8 when this test ran with the sharing switched off).
    assert!(limited <= 1, "Gorgias refused {limited} requests: the hosts together went over its limit\n{}", logs());
    assert!(peak <= LIMIT + 1.0, "the hosts sent enough to fill Gorgias's bucket to {peak:.1} of {LIMIT}");
    assert!(requests.len() as f64 <= LIMIT + span_s * LIMIT / WINDOW_SECS + 1.0, "{} requests in {span_s:.1} s", requests.len());
    // The budget was the bottleneck, and both hosts spent it.
    assert!(queued > 0, "every job finished: the scenario did not exceed the budget");
    assert!(requests.len() >= 60, "the budget is used, not starved: {} requests", requests.len());
    assert!(a_sent > 0 && b_sent > 0, "both hosts sent requests: a {a_sent}, b {b_sent}");
    assert_eq!(
        pg_count(&db.url, "SELECT COUNT(*) FROM budgets WHERE scope = 'integration:gorgias'").await,
        1,
        "one bucket for the integration's Gorgias host, in the database"
    );
    drop((a, b));
}
