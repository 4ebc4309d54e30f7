//! Wiring: open the store, build the sandbox, load plugins, recover queued jobs,
//! and serve.

use crate::aircall::accounts::Accounts;
use crate::capabilities::Shared;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::queue::{Dispatcher, JobRunner};
use crate::registry::{Registry, ReloadOutcome, WatchHandle};
use crate::runtime::{Runtime, RuntimeOptions};
use crate::server::AppState;
use crate::store::Store;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

/// A running host (without its listener).
pub struct App {
    /// Shared handler state.
    pub state: AppState,
    _watch: Option<WatchHandle>,
}

/// Build the runtime from the configuration's limits.
pub fn runtime_for(config: &Config) -> anyhow::Result<Runtime> {
    let cache_dir = config.plugins.cache_dir.clone().unwrap_or_else(|| config.plugins.dir.join(".cache"));
    Runtime::new(RuntimeOptions {
        timeout: Duration::from_millis(config.limits.job_timeout_ms),
        max_memory_bytes: (config.limits.memory_mib * 1024 * 1024) as usize,
        max_instances: (config.limits.concurrency as u32).saturating_mul(2).max(16),
        cache_dir: Some(cache_dir),
        keep_resident: crate::runtime::engine::KEEP_RESIDENT,
        threads: config.limits.plugin_threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get())),
    })
}

/// One Aircall client per account of `config`, live: the host updates them
/// when the console adds or deletes an account ([`Accounts::update`]).
pub fn aircall_clients(config: &Config) -> anyhow::Result<Arc<Accounts>> {
    Ok(Arc::new(Accounts::new(config, None)?))
}

impl App {
    /// Start everything but the listener.
    pub async fn start(config: Config) -> anyhow::Result<App> {
        let config = Arc::new(config);
        if !config.store.fsync {
            tracing::warn!("store.fsync = false: acknowledged events can be lost to a power cut (benchmarks only)");
        }
        let store: Arc<dyn Store> = crate::store::open(&config.store).await?;
        // Hosts sharing a PostgreSQL store label their series with their id.
        let metrics = Arc::new(Metrics::for_host(store.leases().map(|l| l.host_id().to_string())));
        let runtime = Arc::new(runtime_for(&config)?);
        let aircall = Arc::new(Accounts::new(&config, store.shared_budgets())?);
        let live = Arc::new(crate::config::LiveConfig::new(config.clone()));
        let registry = Arc::new(Registry::live(runtime.clone(), live.clone(), aircall.clone()));
        for (folder, outcome) in registry.load_all().await {
            if let ReloadOutcome::Rejected(why) = outcome {
                tracing::error!(folder = %folder.display(), %why, "plugin not loaded");
            }
        }
        for integration in &config.integrations {
            if registry.get(&integration.plugin).is_none() {
                tracing::warn!(integration = %integration.id, plugin = %integration.plugin, "plugin not loaded; events are held until it is");
            }
        }
        let watch = if config.plugins.watch { Some(registry.watch()?) } else { None };
        let secrets: Vec<_> = registry.list().iter().flat_map(|p| p.manifest.oauth_secrets()).collect();
        let connections = crate::connections::Connections::open(&config, &secrets, store.clone())
            .await
            .map_err(|e| anyhow::anyhow!("connections: {e}"))?;
        aircall.use_connections(&connections);
        connections.spawn_sweeper(Duration::from_secs(60));
        // The console's accounts and integrations join the file's before any job runs.
        let applier = crate::integrations::Applier {
            store: store.clone(),
            live: live.clone(),
            registry: registry.clone(),
            connections: connections.clone(),
        };
        applier.apply().await.map_err(|e| anyhow::anyhow!("console integrations: {e}"))?;
        let shared = Shared::new(config.network.clone(), config.limits.clone(), store.clone(), metrics.clone())?;
        let _ = shared.connections.set(connections.clone());
        let shared = Arc::new(shared);
        let runner = Arc::new(JobRunner {
            config: config.clone(),
            store: store.clone(),
            registry: registry.clone(),
            runtime: runtime.clone(),
            shared: shared.clone(),
        });
        let dispatcher = if let Some(leases) = store.leases() {
            // Several hosts may share this store: jobs are claimed from it.
            tracing::info!(host_id = leases.host_id(), lease_seconds = config.store.lease_seconds, "store shared: claiming jobs");
            Dispatcher::start_shared(runner, config.limits.concurrency, Duration::from_secs(config.store.lease_seconds))
        } else {
            let dispatcher = Dispatcher::start(runner, config.limits.concurrency);
            let paused: HashSet<String> = store.paused().await?.into_iter().map(|(i, _)| i).collect();
            dispatcher.set_paused(paused);
            let pending = store.pending_jobs().await?;
            if !pending.is_empty() {
                tracing::info!(jobs = pending.len(), "recovered queued jobs");
            }
            dispatcher.enqueue(pending);
            dispatcher
        };
        spawn_housekeeping(store.clone(), dispatcher.clone(), config.clone());

        let state = AppState {
            config,
            live,
            store,
            dispatcher,
            metrics,
            registry,
            runtime,
            shared,
            connections,
            filters: Arc::default(),
            call_parties: Arc::default(),
        };
        applier.spawn_follower();
        crate::reconcile::spawn(&state);
        Ok(App { state, _watch: watch })
    }

    /// The HTTP router.
    pub fn router(&self) -> axum::Router {
        crate::server::router(self.state.clone())
    }

    /// Serve on `listener` until `shutdown` resolves, with `[server]`'s
    /// connection cap and header / body read timeouts ([`crate::server::conn`]).
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let router = self.router();
        let server = &self.state.config.server;
        let listener = crate::server::conn::GuardedListener::new(
            listener,
            server.max_connections.get(),
            Duration::from_millis(server.header_read_timeout_ms.get()),
        );
        axum::serve(listener, router).with_graceful_shutdown(shutdown).await?;
        Ok(())
    }
}

/// Every second: pick up pauses, resumes and replays made by the CLI; every
/// hour: forget old redelivery hashes and finished jobs.
fn spawn_housekeeping(store: Arc<dyn Store>, dispatcher: Dispatcher, config: Arc<Config>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        let mut last_prune = std::time::Instant::now() - Duration::from_secs(3600);
        loop {
            tick.tick().await;
            // The store is the truth (a job's pause is written there before the
            // scheduler hears of it; `integrations resume` only writes there), so it
            // is applied every tick: comparing with the last set seen missed a resume
            // that came before housekeeping had seen the pause.
            if let Ok(paused) = store.paused().await {
                dispatcher.set_paused(paused.into_iter().map(|(i, _)| i).collect::<HashSet<String>>());
            }
            if let Ok(revived) = store.take_revived().await {
                dispatcher.enqueue(revived);
            }
            if last_prune.elapsed() >= Duration::from_secs(3600) {
                last_prune = std::time::Instant::now();
                let now = crate::clock::now_ms();
                let day = 86_400_000;
                let window = i64::from(config.store.dedupe_days) * day;
                let cutoffs = crate::store::PruneCutoffs {
                    dedupe_before_ms: now - window,
                    finished_before_ms: now - window,
                    logged_before_ms: now - i64::from(config.store.logged_days) * day,
                };
                match store.prune(cutoffs).await {
                    Ok(n) if n > 0 => tracing::info!(rows = n, "pruned old rows"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "prune failed"),
                }
            }
        }
    });
}
