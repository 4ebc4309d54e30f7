//! Per-instance resource limits: a memory cap that remembers it was hit, so a
//! memory bomb is reported as such rather than as a generic trap.

use wasmtime::ResourceLimiter;

/// Caps linear memory and table growth of one instance.
pub struct Limiter {
    max_memory_bytes: usize,
    max_table_elements: usize,
    /// Set when the guest asked for more memory than allowed.
    pub memory_exceeded: bool,
}

impl Limiter {
    /// A limiter with the given memory cap.
    pub fn new(max_memory_bytes: usize) -> Self {
        Limiter { max_memory_bytes, max_table_elements: 100_000, memory_exceeded: false }
    }
}

impl ResourceLimiter for Limiter {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired > self.max_memory_bytes {
            self.memory_exceeded = true;
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= self.max_table_elements)
    }
}
