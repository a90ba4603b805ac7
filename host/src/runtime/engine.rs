//! The one wasmtime `Engine` of a `spingraph up` process: pooling allocator with a
//! per-instance memory cap, epoch interruption driven by a ticker thread, and an
//! on-disk cache of compiled components keyed by content hash.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use wasmtime::component::Component;
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// How often the epoch advances; a request's deadline is a number of these ticks.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Linear memory a pool slot keeps mapped between requests (see [`build`]).
const KEEP_RESIDENT_BYTES: usize = 4 << 20;
/// Memories unmapped together when a slot must give its pages back.
const DECOMMIT_BATCH: usize = 8;
/// Core instances one composed component may hold (a componentize-py one with authn: ~17).
const MAX_CORE_INSTANCES_PER_COMPONENT: u32 = 32;

/// Resource limits applied to every instance.
#[derive(Debug, Clone, Copy)]
pub struct EngineLimits {
    /// Largest linear memory any instance may grow.
    pub max_memory_bytes: usize,
    /// Instances that may be live at once (pool size).
    pub max_instances: u32,
}

pub fn build(limits: EngineLimits) -> Result<Engine> {
    let mut config = Config::new();
    config.epoch_interruption(true);
    config.wasm_component_model(true);

    let mut pool = PoolingAllocationConfig::default();
    // A composed Rust component (app + authn) holds about 6 core instances, 2 memories and 4
    // tables; a componentize-py one (components/reports: CPython as 14 dynamically linked
    // modules, plus authn) about 17 core instances but no more memories or tables (its modules
    // share one memory, 12 MiB at start). Memories and tables are pool slots, each a
    // reservation of address space made up front: their totals stay a budget per instance.
    // Core instances are only counted (wasmtime's pooling allocator reserves nothing for them),
    // so their total lets every instance be of the largest shape the per-component limit
    // admits: requests to a component with many core instances find the pool's count no
    // tighter than its instance slots (at `max_instances * 8`, eight concurrent reports
    // requests under `--max-concurrent-requests 8` failed: tests/tests/reports.rs).
    pool.total_component_instances(limits.max_instances);
    pool.total_core_instances(limits.max_instances * MAX_CORE_INSTANCES_PER_COMPONENT);
    pool.total_memories(limits.max_instances * 4);
    pool.total_tables(limits.max_instances * 8);
    pool.total_stacks(limits.max_instances);
    pool.max_memory_size(limits.max_memory_bytes);
    pool.max_memories_per_component(16);
    pool.max_core_instances_per_component(MAX_CORE_INSTANCES_PER_COMPONENT);
    pool.max_tables_per_component(32);
    pool.max_component_instance_size(1 << 20);
    pool.max_core_instance_size(1 << 20);
    pool.table_elements(100_000);
    // A slot going back to the pool keeps up to this much of its memory and tables resident and
    // resets it in place instead of unmapping it (every unmap is a TLB shootdown on every core,
    // and the next request faults the same pages back in). With PAGEMAP_SCAN (Linux >= 6.7)
    // only the pages the request dirtied are reset; elsewhere the low bytes are memset.
    pool.linear_memory_keep_resident(KEEP_RESIDENT_BYTES);
    pool.table_keep_resident(1 << 16);
    pool.pagemap_scan(Enabled::Auto);
    // Whatever must still be unmapped is unmapped in batches: fewer shootdowns.
    pool.decommit_batch_size(DECOMMIT_BATCH);
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    // The default 4 GiB reservation per memory (virtual address space only) lets Cranelift
    // drop the bounds check on every load and store: the guard pages trap instead. A smaller
    // reservation makes every memory access in the guest pay for an explicit check.
    Engine::new(&config)
        .map_err(anyhow::Error::from)
        .context("cannot configure the wasmtime engine")
}

/// Advances the engine's epoch every [`EPOCH_TICK`] until dropped.
pub struct EpochTicker {
    stop: Arc<AtomicBool>,
}

impl EpochTicker {
    pub fn start(engine: &Engine) -> EpochTicker {
        let stop = Arc::new(AtomicBool::new(false));
        let engine = engine.clone();
        let flag = stop.clone();
        std::thread::Builder::new()
            .name("epoch-ticker".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    engine.increment_epoch();
                }
            })
            .expect("spawning the epoch ticker thread");
        EpochTicker { stop }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Where compiled components are cached: `$SPINGRAPH_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/spingraph`, else `~/.cache/spingraph`.
pub fn default_cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SPINGRAPH_CACHE_DIR") {
        return PathBuf::from(dir);
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("spingraph")
}

/// SHA-256 of a component's bytes: its compile-cache key, and how `up --watch` tells a
/// rebuild that changed nothing.
pub type WasmDigest = [u8; 32];

pub fn wasm_digest(wasm: &[u8]) -> WasmDigest {
    Sha256::digest(wasm).into()
}

/// Compiles a component, or loads the cached machine code compiled from the same
/// bytes by a compatible engine. `digest` is [`wasm_digest`] of `wasm`.
pub fn load_component(
    engine: &Engine,
    wasm: &[u8],
    digest: &WasmDigest,
    cache_dir: &Path,
) -> Result<Component> {
    let mut engine_hash = std::collections::hash_map::DefaultHasher::new();
    engine
        .precompile_compatibility_hash()
        .hash(&mut engine_hash);
    let key = format!(
        "{}-{:016x}.cwasm",
        digest
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>(),
        engine_hash.finish()
    );
    let path = cache_dir.join(key);
    if path.is_file() {
        // SAFETY: the file was written by `precompile_component` of an engine with the
        // same compatibility hash (it is in the file name), in a directory we own.
        match unsafe { Component::deserialize_file(engine, &path) } {
            Ok(component) => return Ok(component),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "discarding unusable compile cache entry")
            }
        }
    }
    let compiled = engine
        .precompile_component(wasm)
        .map_err(anyhow::Error::from)
        .context("cannot compile the component")?;
    if let Err(e) = write_atomically(cache_dir, &path, &compiled) {
        tracing::warn!(dir = %cache_dir.display(), error = %e, "cannot write the compile cache");
    }
    // SAFETY: `compiled` was produced by `precompile_component` of this very engine.
    unsafe { Component::deserialize(engine, &compiled) }
        .map_err(anyhow::Error::from)
        .context("cannot load the compiled component")
}

fn write_atomically(dir: &Path, path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}
