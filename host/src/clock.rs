//! Wall-clock time in milliseconds since the UNIX epoch.

/// Milliseconds since the UNIX epoch (0 if the system clock is before it).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}
