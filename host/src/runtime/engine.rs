//! The one wasmtime [`Engine`] every plugin shares, and the epoch ticker that
//! gives each job its deadline.

use std::sync::Arc;
use std::time::Duration;
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// How often the engine's epoch advances; deadlines are whole ticks.
pub const EPOCH_TICK: Duration = Duration::from_millis(5);

/// Engine settings taken from the configuration.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Linear memory cap per instance.
    pub max_memory_bytes: usize,
    /// Instances alive at once (the pool's size).
    pub max_instances: u32,
    /// Use the pooling allocator (falls back to on-demand when the address space is short).
    pub pooling: bool,
    /// Bytes of each memory and table slot kept mapped between jobs (see [`KEEP_RESIDENT`]).
    pub keep_resident: usize,
}

/// What each pooled memory and table slot keeps mapped between jobs. With
/// Linux's `PAGEMAP_SCAN` (kernel ≥ 6.7, used when present) only the pages a
/// job dirtied are reset, by `memset`, so the next job neither pays an
/// `madvise` nor page faults on them; without it the whole kept range would be
/// memset on every reuse, which measured slower (BENCHMARKS.md).
pub const KEEP_RESIDENT: usize = 1 << 20;

/// Build the shared engine: Cranelift, async host calls, epoch interruption,
/// the pooling allocator with copy-on-write memory images.
pub fn build(options: &EngineOptions) -> wasmtime::Result<Engine> {
    let mut config = Config::new();
    config.epoch_interruption(true);
    config.wasm_component_model(true);
    config.cranelift_opt_level(wasmtime::OptLevel::Speed);
    config.memory_init_cow(true);
    // The stack a guest may use; deep recursion traps instead of crashing the host.
    config.max_wasm_stack(1 << 20);
    if options.pooling {
        let mut pool = PoolingAllocationConfig::default();
        let n = options.max_instances.max(1);
        pool.total_component_instances(n);
        pool.total_core_instances(n * 8);
        pool.total_memories(n * 2);
        pool.total_tables(n * 4);
        pool.max_memories_per_component(4);
        pool.max_tables_per_component(8);
        pool.max_core_instances_per_component(16);
        pool.max_memory_size(options.max_memory_bytes);
        pool.max_component_instance_size(1 << 20);
        pool.max_core_instance_size(1 << 20);
        pool.table_elements(100_000);
        pool.linear_memory_keep_resident(options.keep_resident);
        pool.table_keep_resident(options.keep_resident);
        pool.pagemap_scan(Enabled::Auto);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        // Slots only need to hold the cap plus a guard, not the default 4 GiB.
        config.memory_reservation((options.max_memory_bytes as u64).next_power_of_two().max(1 << 24));
        config.memory_guard_size(1 << 16);
        config.memory_reservation_for_growth(0);
        config.signals_based_traps(true);
    }
    Engine::new(&config)
}

/// Advances the engine's epoch every [`EPOCH_TICK`] until dropped.
pub struct EpochTicker {
    stop: Arc<std::sync::atomic::AtomicBool>,
}

impl EpochTicker {
    /// Start ticking `engine`.
    pub fn start(engine: Engine) -> EpochTicker {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let _ = std::thread::Builder::new().name("epoch-ticker".into()).spawn(move || {
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                std::thread::sleep(EPOCH_TICK);
                engine.increment_epoch();
            }
        });
        EpochTicker { stop }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Ticks in a deadline of `timeout` (at least one).
pub fn deadline_ticks(timeout: Duration) -> u64 {
    (timeout.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64 + 1
}
