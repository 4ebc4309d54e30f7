//! Structured logging to the host (tagged with plugin, version, integration, event).

pub use crate::bindings::switchboard::plugin::log::Level;
use crate::bindings::switchboard::plugin::log::write;

/// Log at a level with fields.
pub fn with(level: Level, message: &str, fields: &[(&str, &str)]) {
    let fields: Vec<(String, String)> = fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    write(level, message, &fields);
}

/// Logs `message` at debug level, without fields (see [`with`]).
pub fn debug(message: &str) {
    write(Level::Debug, message, &[]);
}
/// Logs `message` at info level, without fields (see [`with`]).
pub fn info(message: &str) {
    write(Level::Info, message, &[]);
}
/// Logs `message` at warning level, without fields (see [`with`]).
pub fn warn(message: &str) {
    write(Level::Warn, message, &[]);
}
/// Logs `message` at error level, without fields (see [`with`]).
pub fn error(message: &str) {
    write(Level::Error, message, &[]);
}
