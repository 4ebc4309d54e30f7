//! The job's context with typed access to settings.

use crate::bindings::switchboard::plugin::types::{EventContext, Number, RequestContext, SettingValue};
use serde::de::DeserializeOwned;

/// What the host says about the current job: an event's or a request's.
pub struct Context {
    integration_id: String,
    id: String,
    event_name: String,
    event_timestamp: i64,
    attempt: u32,
    settings: Vec<(String, SettingValue)>,
    default_region: Option<String>,
    base_url: Option<String>,
    raw_data: String,
}

impl Context {
    /// The context of an event job.
    pub fn new(ctx: EventContext) -> Context {
        Context {
            integration_id: ctx.integration_id,
            id: ctx.event_id,
            event_name: ctx.event_name,
            event_timestamp: ctx.event_timestamp,
            attempt: ctx.attempt,
            settings: ctx.settings,
            default_region: ctx.default_region,
            base_url: ctx.base_url,
            raw_data: ctx.raw_data,
        }
    }

    /// The context of a request sent to the integration's URL: its event name
    /// is `request`, its attempt 1, and it has no raw data.
    pub fn for_request(ctx: RequestContext) -> Context {
        Context {
            integration_id: ctx.integration_id,
            id: ctx.request_id,
            event_name: "request".into(),
            event_timestamp: crate::clock::now_ms() / 1000,
            attempt: 1,
            settings: ctx.settings,
            default_region: ctx.default_region,
            base_url: ctx.base_url,
            raw_data: String::new(),
        }
    }

    /// The integration's id, as the host's configuration or console names it;
    /// [`crate::storage`] is already kept apart per integration.
    pub fn integration_id(&self) -> &str {
        &self.integration_id
    }

    /// Event id (stable across retries), or a request id.
    pub fn event_id(&self) -> &str {
        &self.id
    }

    /// Aircall event name, e.g. `call.ended` (`request` for requests).
    pub fn event_name(&self) -> &str {
        &self.event_name
    }

    /// UNIX seconds when Aircall built the event's payload (for a request:
    /// when it arrived).
    pub fn event_timestamp(&self) -> i64 {
        self.event_timestamp
    }

    /// 1 on the first run, then 2, 3…
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// Region hint for phone numbers.
    pub fn default_region(&self) -> Option<&str> {
        self.default_region.as_deref()
    }

    /// The region to read a party's phone number in: the Aircall line's
    /// country when the line is known and has one, else the integration's
    /// default region, else none (then only `+`-prefixed numbers parse).
    ///
    /// ```no_run
    /// # use switchboard_sdk::{Call, Context, phone};
    /// # fn f(ctx: &Context, call: &Call) {
    /// let e164 = phone::normalize(&call.raw_digits, ctx.region_for(call.number.as_ref()));
    /// # }
    /// ```
    pub fn region_for<'a>(&'a self, line: Option<&'a Number>) -> Option<&'a str> {
        self.region_for_country(line.and_then(|n| n.country.as_deref()))
    }

    /// [`Context::region_for`] when the plugin kept only the line's country
    /// (e.g. in its own record of the account's numbers).
    pub fn region_for_country<'a>(&'a self, line_country: Option<&'a str>) -> Option<&'a str> {
        region_for(line_country, self.default_region())
    }

    /// The vendor API's base URL for this integration (the configuration's
    /// `base_url`, else the manifest's default), without a trailing `/`.
    pub fn base_url(&self) -> Option<&str> {
        self.base_url.as_deref().map(|u| u.trim_end_matches('/'))
    }

    fn setting(&self, name: &str) -> Option<&SettingValue> {
        self.settings.iter().find(|(k, _)| k == name).map(|(_, v)| v)
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
        serde_json::from_value(Self::json(self.setting(name)?)).ok()
    }

    fn json(v: &SettingValue) -> serde_json::Value {
        match v {
            SettingValue::Json(j) => serde_json::from_str(j).unwrap_or(serde_json::Value::Null),
            SettingValue::Text(s) => serde_json::Value::String(s.clone()),
            SettingValue::Integer(i) => (*i).into(),
            SettingValue::Boolean(b) => (*b).into(),
        }
    }

    /// Every setting, deserialised into the plugin's own serde type. The host
    /// has already applied the manifest's defaults and checked types and
    /// allowed values, so a failure here names a mismatch between the type and
    /// `plugin.toml`. The `base_url` the host also passes as a setting is left
    /// out (it is [`Context::base_url`]), so the type can deny unknown fields;
    /// see [`crate::settings`].
    pub fn settings<T: DeserializeOwned>(&self) -> Result<T, String> {
        let map: serde_json::Map<String, serde_json::Value> =
            self.settings.iter().filter(|(k, _)| k != "base_url").map(|(k, v)| (k.clone(), Self::json(v))).collect();
        serde_json::from_value(serde_json::Value::Object(map)).map_err(|e| format!("settings do not match the plugin's type: {e}"))
    }

    /// The webhook's `data` object as received, deserialised.
    pub fn raw_data<T: DeserializeOwned>(&self) -> Option<T> {
        serde_json::from_str(&self.raw_data).ok()
    }
}

/// The line's country (ignoring an empty one), else the default region.
fn region_for<'a>(line_country: Option<&'a str>, default_region: Option<&'a str>) -> Option<&'a str> {
    line_country.filter(|c| !c.trim().is_empty()).or(default_region)
}

#[cfg(test)]
mod tests {
    use super::region_for;

    #[test]
    fn the_lines_country_wins_over_the_default_region() {
        assert_eq!(region_for(Some("GB"), Some("DE")), Some("GB"));
    }

    #[test]
    fn without_a_line_country_the_default_region_applies() {
        assert_eq!(region_for(None, Some("DE")), Some("DE"));
        assert_eq!(region_for(Some(""), Some("DE")), Some("DE"));
        assert_eq!(region_for(None, None), None);
    }
}
