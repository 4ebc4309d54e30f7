//! The job's context with typed access to settings.

use crate::bindings::switchboard::plugin::types::{EventContext, SettingValue};
use serde::de::DeserializeOwned;

/// What the host says about the current job.
pub struct Context {
    inner: EventContext,
}

impl Context {
    /// Wrap the raw context.
    pub fn new(inner: EventContext) -> Context {
        Context { inner }
    }

    /// The raw context.
    pub fn raw(&self) -> &EventContext {
        &self.inner
    }

    /// Integration id.
    pub fn integration_id(&self) -> &str {
        &self.inner.integration_id
    }

    /// Event id (stable across retries), or a request id.
    pub fn event_id(&self) -> &str {
        &self.inner.event_id
    }

    /// Aircall event name, e.g. `call.ended` (`request` for requests).
    pub fn event_name(&self) -> &str {
        &self.inner.event_name
    }

    /// 1 on the first run, then 2, 3…
    pub fn attempt(&self) -> u32 {
        self.inner.attempt
    }

    /// Region hint for phone numbers.
    pub fn default_region(&self) -> Option<&str> {
        self.inner.default_region.as_deref()
    }

    fn setting(&self, name: &str) -> Option<&SettingValue> {
        self.inner.settings.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// A text setting.
    pub fn setting_str(&self, name: &str) -> Option<&str> {
        match self.setting(name)? {
            SettingValue::Text(s) => Some(s),
            _ => None,
        }
    }

    /// A boolean setting.
    pub fn setting_bool(&self, name: &str) -> Option<bool> {
        match self.setting(name)? {
            SettingValue::Boolean(b) => Some(*b),
            _ => None,
        }
    }

    /// An integer setting.
    pub fn setting_i64(&self, name: &str) -> Option<i64> {
        match self.setting(name)? {
            SettingValue::Integer(i) => Some(*i),
            _ => None,
        }
    }

    /// A structured setting, deserialised.
    pub fn setting_json<T: DeserializeOwned>(&self, name: &str) -> Option<T> {
        match self.setting(name)? {
            SettingValue::Json(j) => serde_json::from_str(j).ok(),
            SettingValue::Text(s) => serde_json::from_value(serde_json::Value::String(s.clone())).ok(),
            SettingValue::Integer(i) => serde_json::from_value((*i).into()).ok(),
            SettingValue::Boolean(b) => serde_json::from_value((*b).into()).ok(),
        }
    }

    /// The webhook's `data` object as received, deserialised.
    pub fn raw_data<T: DeserializeOwned>(&self) -> Option<T> {
        serde_json::from_str(&self.inner.raw_data).ok()
    }
}
