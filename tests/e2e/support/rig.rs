//! The connector test rig: every sandbox emulator, the real host with one
//! plugin wired to them, and the simulator to play scenarios into it.

use std::time::{Duration, Instant};

use switchboard::simulate::{self, PlayOptions, Report, Scenario, Speed, World};
use switchboard_sandbox::{Sandbox, SandboxOptions};

use super::{Host, TOKEN};

/// The sandbox and a host running one plugin as integration `<plugin>`.
pub struct Rig {
    /// The emulators.
    pub sandbox: Sandbox,
    /// The host.
    pub host: Host,
    world: World,
}

impl Rig {
    /// Default emulators; `integration` is the rest of the `[[integrations]]` table.
    pub async fn start(plugin: &str, integration: &str) -> Rig {
        Rig::start_with(SandboxOptions::default(), plugin, integration).await
    }

    /// Emulators started with `options`.
    pub async fn start_with(options: SandboxOptions, plugin: &str, integration: &str) -> Rig {
        Rig::start_full(options, plugin, integration, "").await
    }

    /// [`Rig::start_with`] plus `extra` configuration tables (`{helpscout}`…
    /// filled with the emulators' URLs) after the integration.
    pub async fn start_full(options: SandboxOptions, plugin: &str, integration: &str, extra: &str) -> Rig {
        switchboard_sandbox::install_crypto_provider();
        let sandbox = Sandbox::start(options).await.expect("sandbox starts");
        let a = sandbox.aircall().credentials().clone();
        let mut config = String::from(
            r#"
[server]
listen = "127.0.0.1:{PORT}"
public_url = "http://127.0.0.1:{PORT}"
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
"#,
        );
        if !extra.contains("[reconcile]") {
            // Reconciliation lists calls and spends Aircall budget on its own
            // schedule; tests that count requests or cards must not see it.
            config += "[reconcile]\nenabled = false\n";
        }
        config += &format!(
            "\n[[accounts]]\nid = \"main\"\nwebhook_token = \"{TOKEN}\"\napi_id = \"{}\"\napi_token = \"{}\"\napi_base = \"{}\"\n",
            a.api_id,
            a.api_token,
            sandbox.aircall_url()
        );
        config += &format!("\n[[integrations]]\nid = \"{plugin}\"\naccount = \"main\"\nplugin = \"{plugin}\"\n");
        config += &sandbox.fill_urls(integration);
        config += "\n";
        config += &sandbox.fill_urls(extra);
        let host = Host::start(&config, &[plugin]).await;
        let world = World::bundled().expect("bundled world");
        Rig { sandbox, host, world }
    }

    /// Full speed into the host; the Aircall emulator keeps each call's REST view
    /// (`GET /v1/calls/:id`) in step with the webhooks.
    fn options(&self) -> PlayOptions {
        PlayOptions::new(&self.host.url, TOKEN).speed(Speed::Max).aircall(self.sandbox.aircall_url())
    }

    async fn run(&self, scenario: &Scenario) -> Report {
        let report = simulate::play(scenario, &self.world, &self.options()).await.expect("scenario plays");
        assert!(report.rejected.is_empty(), "webhooks refused: {:?}\nhost log:\n{}", report.rejected, self.host.log());
        assert!(report.aircall_failed.is_empty(), "the Aircall emulator refused calls: {:?}", report.aircall_failed);
        report
    }

    /// Plays an inline scenario (`scenarios/README.md`) at full speed.
    pub async fn play(&self, scenario_toml: &str) -> Report {
        let scenario = Scenario::parse("inline", scenario_toml, &self.world).unwrap_or_else(|e| panic!("{e}"));
        self.run(&scenario).await
    }

    /// Plays a bundled scenario (`scenarios/NAME.toml`) at full speed.
    pub async fn play_bundled(&self, name: &str) -> Report {
        let scenario = simulate::bundled(name, &self.world).unwrap_or_else(|e| panic!("{e}"));
        self.run(&scenario).await
    }

    /// Waits until the host's queue is empty (twice in a row, 50 ms apart).
    pub async fn settle(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut empty_once = false;
        loop {
            let depth = self.host.healthz().await["queue_depth"].as_u64().unwrap_or(u64::MAX);
            if depth == 0 && empty_once {
                return;
            }
            empty_once = depth == 0;
            assert!(Instant::now() < deadline, "queue not empty after 30 s (depth {depth}); host log:\n{}", self.host.log());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Polls `probe` every 20 ms until it gives a value; panics after 20 s with the host log.
    pub async fn wait_for<T>(&self, what: &str, probe: impl Fn(&Sandbox) -> Option<T>) -> T {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(v) = probe(&self.sandbox) {
                return v;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}; host log:\n{}", self.host.log());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
