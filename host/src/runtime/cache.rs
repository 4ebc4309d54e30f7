//! The on-disk cache of compiled components, keyed by the component's SHA-256,
//! the wasmtime version and the engine's compatibility hash, so a restart or a
//! reload of an unchanged plugin skips Cranelift.

use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};
use std::path::Path;
use wasmtime::Engine;
use wasmtime::component::Component;

/// Hex SHA-256 of the component bytes.
pub fn hash(wasm: &[u8]) -> String {
    hex::encode(Sha256::digest(wasm))
}

fn engine_key(engine: &Engine) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut h);
    format!("{}-{:016x}", env!("CARGO_PKG_VERSION"), h.finish())
}

/// The compiled component, from the cache when present, else compiled (and cached).
pub fn load_or_compile(engine: &Engine, dir: Option<&Path>, hash: &str, wasm: &[u8]) -> wasmtime::Result<Component> {
    let Some(dir) = dir else {
        return Component::new(engine, wasm);
    };
    let path = dir.join(format!("{hash}-wasmtime{}-{}.cwasm", wasmtime_version(), engine_key(engine)));
    if path.exists() {
        // SAFETY: the file was written by `Component::serialize` of this same engine
        // configuration (the key covers the component hash, the wasmtime version and
        // the engine's compatibility hash) into the host's own cache directory.
        #[allow(unsafe_code)]
        match unsafe { Component::deserialize_file(engine, &path) } {
            Ok(c) => return Ok(c),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "ignoring unreadable compile cache entry")
            }
        }
    }
    let component = Component::new(engine, wasm)?;
    if let Err(e) = write_atomically(dir, &path, &component.serialize()?) {
        tracing::warn!(path = %path.display(), error = %e, "could not write compile cache");
    }
    Ok(component)
}

fn write_atomically(dir: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

fn wasmtime_version() -> &'static str {
    // Major version of the wasmtime this host links; bump with the dependency.
    "48"
}
