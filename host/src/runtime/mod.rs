//! The sandbox: compiles plugin components once (cached on disk), links them
//! once (`InstancePre`), and runs each job in a fresh instance from the pooling
//! allocator with a deadline and a memory cap. A trap, a timeout or a memory
//! bomb fails that job with a typed reason and touches nothing else.

mod cache;
mod compat_host;
pub use cache::hash as cache_hash;
pub mod engine;
mod limits;
pub mod pool;
mod state;

pub use state::JobState;

use crate::capabilities::JobCaps;
use crate::contract::{bindings, compat_v0_1};
use bindings::{EventContext, PluginError, RequestContext};
use std::path::PathBuf;
use std::time::Duration;
use wasmtime::component::{Component, Linker};
use wasmtime::{Engine, Store};

/// Why a job did not succeed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum JobFailure {
    /// The plugin returned an error.
    #[error("plugin error: {0:?}")]
    Plugin(PluginError),
    /// The guest trapped (panic, unreachable, bad memory access…).
    #[error("plugin trapped: {0}")]
    Trap(String),
    /// The guest ran past its deadline.
    #[error("plugin exceeded its {0:?} deadline")]
    Timeout(Duration),
    /// The guest wanted more memory than its cap.
    #[error("plugin exceeded its memory cap of {0} bytes")]
    OutOfMemory(usize),
    /// The host could not run the job (instantiation, store…); retried.
    #[error("host error: {0}")]
    Internal(String),
}

fn instantiate_failed(e: wasmtime::Error) -> JobFailure {
    JobFailure::Internal(format!("instantiate: {e:#}"))
}

/// What every plugin instance is limited to and where compiled components go;
/// the host builds it from `[limits]` and `[plugins]` ([`crate::app::runtime_for`]).
#[derive(Debug, Clone)]
pub struct RuntimeOptions {
    /// Deadline per plugin call.
    pub timeout: Duration,
    /// Memory cap per instance.
    pub max_memory_bytes: usize,
    /// Instances alive at once.
    pub max_instances: u32,
    /// Where compiled components are cached.
    pub cache_dir: Option<PathBuf>,
    /// Bytes of each pooled memory / table slot kept mapped between jobs.
    pub keep_resident: usize,
    /// Threads plugin code runs on ([`pool::PluginPool`]).
    pub threads: usize,
}

/// A plugin component compiled and linked, ready to instantiate.
pub struct LinkedComponent {
    pre: Linked,
    /// SHA-256 of the component bytes.
    pub hash: String,
    /// The contract version the component imports (`"0.1.0"`, `"0.2.0"`).
    pub contract: &'static str,
}

/// The pre-linked component, by the contract version it was built against.
/// This is the only place that knows versions apart: the imports of every
/// version are served by the one [`JobState`].
enum Linked {
    V0_1(bindings::v0_1::ConnectorPre<JobState>),
    V0_2(bindings::v0_2::ConnectorPre<JobState>),
}

/// The contract version a component was built against, read from the
/// `switchboard:plugin/…@X.Y.Z` interfaces it imports. Exactly one supported
/// version must appear.
pub fn imported_contract(engine: &Engine, component: &Component) -> anyhow::Result<&'static str> {
    let prefix = format!("{}/", bindings::PACKAGE);
    let mut found: Vec<String> = Vec::new();
    for (name, _) in component.component_type().imports(engine) {
        if let Some(rest) = name.strip_prefix(&prefix) {
            let version = rest.split_once('@').map(|(_, v)| v.to_string()).unwrap_or_default();
            if !found.contains(&version) {
                found.push(version);
            }
        }
    }
    match found.as_slice() {
        [one] => bindings::SUPPORTED_CONTRACTS.iter().copied().find(|v| v == one).ok_or_else(|| {
            anyhow::anyhow!(
                "the component imports {}@{one}, which this host does not serve (it serves {})",
                bindings::PACKAGE,
                bindings::SUPPORTED_CONTRACTS.join(", ")
            )
        }),
        [] => Err(anyhow::anyhow!("the component imports no {} interface; is it a switchboard plugin?", bindings::PACKAGE)),
        many => Err(anyhow::anyhow!("the component imports several contract versions at once ({})", many.join(", "))),
    }
}

/// The engine, the linker and the settings shared by all plugins.
pub struct Runtime {
    engine: Engine,
    linker: Linker<JobState>,
    options: RuntimeOptions,
    pool: pool::PluginPool,
    _ticker: engine::EpochTicker,
}

impl Runtime {
    /// Build the engine and the linker (WASI p2 and the contract's imports).
    pub fn new(options: RuntimeOptions) -> anyhow::Result<Runtime> {
        // The phone engine's metadata is loaded here, not on the first job's
        // deadline (a plugin that formats a number would otherwise pay for it).
        switchboard_phone::warm_up([]);
        let engine_options = engine::EngineOptions {
            max_memory_bytes: options.max_memory_bytes,
            max_instances: options.max_instances,
            pooling: true,
            keep_resident: options.keep_resident,
        };
        let engine = match engine::build(&engine_options) {
            Ok(e) => e,
            Err(e) => {
                tracing::warn!(error = %e, "pooling allocator unavailable; using on-demand instances");
                engine::build(&engine::EngineOptions { pooling: false, ..engine_options })?
            }
        };
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        bindings::v0_1::Connector::add_to_linker::<JobState, wasmtime::component::HasSelf<JobState>>(&mut linker, |s| s)?;
        bindings::v0_2::Connector::add_to_linker::<JobState, wasmtime::component::HasSelf<JobState>>(&mut linker, |s| s)?;
        let ticker = engine::EpochTicker::start(engine.clone());
        let pool = pool::PluginPool::new(options.threads)?;
        Ok(Runtime { engine, linker, options, pool, _ticker: ticker })
    }

    /// Runs a job (plugin calls and their host calls) on the plugin threads.
    pub fn spawn<F>(&self, job: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: std::future::Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.pool.spawn(job)
    }

    /// The limits (deadline, memory cap, instances, threads) and cache folder
    /// it was built with.
    pub fn options(&self) -> &RuntimeOptions {
        &self.options
    }

    /// Compile (or load from the disk cache) and link a component against the
    /// contract version it imports.
    pub fn link(&self, wasm: &[u8]) -> anyhow::Result<LinkedComponent> {
        let hash = cache::hash(wasm);
        let component: Component = cache::load_or_compile(&self.engine, self.options.cache_dir.as_deref(), &hash, wasm)?;
        let contract = imported_contract(&self.engine, &component)?;
        let instance_pre = self.linker.instantiate_pre(&component)?;
        let pre = match contract {
            "0.1.0" => Linked::V0_1(bindings::v0_1::ConnectorPre::new(instance_pre)?),
            _ => Linked::V0_2(bindings::v0_2::ConnectorPre::new(instance_pre)?),
        };
        Ok(LinkedComponent { pre, hash, contract })
    }

    fn new_store(&self, caps: JobCaps) -> Store<JobState> {
        let mut store = Store::new(&self.engine, JobState::new(caps, self.options.max_memory_bytes));
        store.limiter(|s| &mut s.limiter);
        // Every tick the guest yields to the pool's scheduler (a loop shares its
        // thread with other jobs); past the deadline it is interrupted.
        let deadline = std::time::Instant::now() + self.options.timeout;
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(move |_| {
            if std::time::Instant::now() >= deadline {
                Err(wasmtime::Trap::Interrupt.into())
            } else {
                Ok(wasmtime::UpdateDeadline::Yield(1))
            }
        });
        store
    }

    /// Instantiates the component; for a v0.1.0 plugin only the instance is
    /// kept (what the benchmarks measure).
    async fn instantiate(&self, store: &mut Store<JobState>, component: &LinkedComponent) -> Result<(), JobFailure> {
        let r = match &component.pre {
            Linked::V0_1(pre) => pre.instantiate_async(store).await.map(|_| ()),
            Linked::V0_2(pre) => pre.instantiate_async(store).await.map(|_| ()),
        };
        r.map_err(|e| JobFailure::Internal(format!("instantiate: {e:#}")))
    }

    /// A host call that never returns is cut off a little after the guest deadline.
    fn hard_limit(&self) -> Duration {
        self.options.timeout + Duration::from_secs(2)
    }

    /// Instantiate `component` in a fresh store and drop it: what every job pays
    /// before the plugin runs (benchmarks measure it through this).
    pub async fn instantiate_only(&self, component: &LinkedComponent, caps: JobCaps) -> Result<(), JobFailure> {
        let mut store = self.new_store(caps);
        self.instantiate(&mut store, component).await
    }

    /// Run `handle-event` in a fresh instance.
    pub async fn handle_event(
        &self,
        component: &LinkedComponent,
        caps: JobCaps,
        ctx: &EventContext,
        event: &bindings::switchboard::plugin::types::Event,
    ) -> Result<(), JobFailure> {
        let mut store = self.new_store(caps);
        let call = async {
            match &component.pre {
                Linked::V0_2(pre) => {
                    let instance = pre.instantiate_async(&mut store).await.map_err(instantiate_failed)?;
                    Ok(instance.call_handle_event(&mut store, ctx, event).await)
                }
                Linked::V0_1(pre) => {
                    let (ctx, event) = (compat_v0_1::event_context(ctx), compat_v0_1::event(event).map_err(JobFailure::Internal)?);
                    let instance = pre.instantiate_async(&mut store).await.map_err(instantiate_failed)?;
                    Ok(instance.call_handle_event(&mut store, &ctx, &event).await.map(|r| r.map_err(compat_v0_1::plugin_error)))
                }
            }
        };
        match tokio::time::timeout(self.hard_limit(), call).await {
            Ok(Ok(Ok(Ok(())))) => Ok(()),
            Ok(Ok(Ok(Err(e)))) => Err(JobFailure::Plugin(e)),
            Ok(Ok(Err(e))) => Err(self.classify(&mut store, e)),
            Ok(Err(failure)) => Err(failure),
            Err(_) => Err(JobFailure::Timeout(self.options.timeout)),
        }
    }

    /// Run `handle-request` in a fresh instance.
    pub async fn handle_request(
        &self,
        component: &LinkedComponent,
        caps: JobCaps,
        ctx: &RequestContext,
        req: &bindings::switchboard::plugin::incoming::Request,
    ) -> Result<bindings::switchboard::plugin::incoming::Response, JobFailure> {
        let mut store = self.new_store(caps);
        let call = async {
            match &component.pre {
                Linked::V0_2(pre) => {
                    let instance = pre.instantiate_async(&mut store).await.map_err(instantiate_failed)?;
                    Ok(instance.call_handle_request(&mut store, ctx, req).await)
                }
                Linked::V0_1(pre) => {
                    let (ctx, req) = (compat_v0_1::request_context(ctx), compat_v0_1::request(req));
                    let instance = pre.instantiate_async(&mut store).await.map_err(instantiate_failed)?;
                    Ok(instance.call_handle_request(&mut store, &ctx, &req).await.map(compat_v0_1::response))
                }
            }
        };
        match tokio::time::timeout(self.hard_limit(), call).await {
            Ok(Ok(Ok(resp))) => Ok(resp),
            Ok(Ok(Err(e))) => Err(self.classify(&mut store, e)),
            Ok(Err(failure)) => Err(failure),
            Err(_) => Err(JobFailure::Timeout(self.options.timeout)),
        }
    }

    fn classify(&self, store: &mut Store<JobState>, e: wasmtime::Error) -> JobFailure {
        if store.data().limiter.memory_exceeded {
            return JobFailure::OutOfMemory(self.options.max_memory_bytes);
        }
        if let Some(trap) = e.downcast_ref::<wasmtime::Trap>() {
            if *trap == wasmtime::Trap::Interrupt {
                return JobFailure::Timeout(self.options.timeout);
            }
            let stderr = store.data().stderr_text();
            let detail = if stderr.is_empty() { String::new() } else { format!(" ({})", stderr.trim()) };
            return JobFailure::Trap(format!("{trap}{detail}"));
        }
        JobFailure::Trap(format!("{e:#}"))
    }
}
