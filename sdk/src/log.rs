//! Structured logging to the host (tagged with plugin, version, integration, event).

pub use crate::bindings::switchboard::plugin::log::Level;
use crate::bindings::switchboard::plugin::log::write;

/// Log at a level with fields.
pub fn with(level: Level, message: &str, fields: &[(&str, &str)]) {
    let fields: Vec<(String, String)> = fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    write(level, message, &fields);
}

/// Debug line.
pub fn debug(message: &str) {
    write(Level::Debug, message, &[]);
}
/// Info line.
pub fn info(message: &str) {
    write(Level::Info, message, &[]);
}
/// Warning line.
pub fn warn(message: &str) {
    write(Level::Warn, message, &[]);
}
/// Error line.
pub fn error(message: &str) {
    write(Level::Error, message, &[]);
}
