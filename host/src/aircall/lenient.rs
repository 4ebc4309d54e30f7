//! Deserialisers for the shapes Aircall documents (reference §1.6, §4): ids as
//! numbers or numeric strings, timestamps as UNIX seconds or RFC 3339 strings,
//! `null` or absent where a field may be missing, `{}` for an empty nested user.
//!
//! Lenience stops there. A value of any other shape is an error, never a quiet
//! default: the caller wraps these deserialisers in `serde_path_to_error`, so
//! the error names the field path (`data.tags[0].tagged_at: …`).

use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// An id that may arrive as a number or a numeric string. `0` is not an id
/// (Aircall's ids start at 1; a 0 is a default someone filled in).
pub fn id<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let v = Value::deserialize(d)?;
    match value_to_u64(&v) {
        Some(0) => Err(D::Error::custom("expected an id, got 0")),
        Some(n) => Ok(n),
        None => Err(D::Error::custom(format!("expected an id (integer or numeric string), got {v}"))),
    }
}

/// An optional id: absent or `null` is `None`; anything else must be an id.
pub fn opt_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match value_to_u64(&v) {
            Some(0) => Err(D::Error::custom("expected an id, got 0")),
            Some(n) => Ok(Some(n)),
            None => Err(D::Error::custom(format!("expected an id (integer or numeric string) or null, got {v}"))),
        },
    }
}

fn value_to_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64().or_else(|| n.as_f64().filter(|f| *f >= 0.0 && f.fract() == 0.0).map(|f| f as u64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A required string id that Aircall may send as an integer (message ids,
/// reference §1.6): a non-empty string or an integer. Plugins key their
/// storage on it, so an empty or missing id would make records collide.
pub fn string_id<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) if !s.trim().is_empty() => Ok(s),
        Value::Number(n) if n.is_u64() => Ok(n.to_string()),
        v => Err(D::Error::custom(format!("expected a non-empty id (string or integer), got {v}"))),
    }
}

/// A timestamp as UNIX seconds: integer, float, numeric string or RFC 3339;
/// absent or `null` is `None`. Anything else is an error.
pub fn opt_ts<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| n.as_f64().map(|f| f as i64))
            .map(Some)
            .ok_or_else(|| D::Error::custom(format!("expected a timestamp, got {n}"))),
        Some(Value::String(s)) => {
            let t = s.trim();
            t.parse::<i64>()
                .ok()
                .or_else(|| OffsetDateTime::parse(t, &Rfc3339).ok().map(|t| t.unix_timestamp()))
                .map(Some)
                .ok_or_else(|| D::Error::custom(format!("expected UNIX seconds or an RFC 3339 time, got {s:?}")))
        }
        Some(v) => Err(D::Error::custom(format!("expected a timestamp (UNIX seconds or RFC 3339), got {v}"))),
    }
}

/// A string that may arrive as a number (ids), or be absent / `null`.
/// Objects and arrays are errors.
pub fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(v) => Err(D::Error::custom(format!("expected a string or a number, got {v}"))),
    }
}

/// A list that may be absent or `null` (both mean empty, reference §1.6:
/// fields are frequently absent rather than null). Items are strict.
pub fn list<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// A nested object that may be absent, `null`, or `{}` when empty (Aircall
/// sends `tagged_by: {}`, reference §4.4): those are `None`. A non-empty object
/// must parse, and anything that is not an object is an error.
pub fn opt_object<'de, D: Deserializer<'de>, T: serde::de::DeserializeOwned>(d: D) -> Result<Option<T>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) if map.is_empty() => Ok(None),
        Some(v @ Value::Object(_)) => strict::<T>(v).map(Some).map_err(D::Error::custom),
        Some(v) => Err(D::Error::custom(format!("expected an object, got {v}"))),
    }
}

/// Parse `v` as `T`; the error names the path inside `v` (`users[0].id: …`).
pub fn strict<T: serde::de::DeserializeOwned>(v: Value) -> Result<T, String> {
    serde_path_to_error::deserialize::<_, T>(v).map_err(|e| describe(&e.path().to_string(), &e.into_inner().to_string()))
}

/// `path: message`, with a missing field's name appended to the path
/// (`serde` reports it at the enclosing object: `.` + "missing field `id`").
pub fn describe(path: &str, message: &str) -> String {
    let path = if path == "." { "" } else { path };
    match message.strip_prefix("missing field `").and_then(|m| m.split('`').next()) {
        Some(field) if path.is_empty() => format!("{field}: missing"),
        Some(field) => format!("{path}.{field}: missing"),
        None if path.is_empty() => message.to_string(),
        None => format!("{path}: {message}"),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Probe {
        #[serde(deserialize_with = "id")]
        id: u64,
        #[serde(default, deserialize_with = "opt_ts")]
        at: Option<i64>,
        #[serde(default, deserialize_with = "opt_id")]
        other: Option<u64>,
        #[serde(default, deserialize_with = "opt_string")]
        label: Option<String>,
    }

    fn probe(v: Value) -> Result<Probe, String> {
        strict(v)
    }

    #[test]
    fn documented_shapes_are_accepted() {
        let p = probe(json!({"id": "42", "at": "2024-11-26T12:09:40Z", "other": null, "label": 7})).unwrap();
        assert_eq!((p.id, p.at, p.other, p.label.as_deref()), (42, Some(1732622980), None, Some("7")));
        let p = probe(json!({"id": 42})).unwrap();
        assert_eq!((p.at, p.other, p.label), (None, None, None));
    }

    #[test]
    fn other_shapes_are_errors_naming_the_field() {
        assert_eq!(probe(json!({})).unwrap_err(), "id: missing");
        assert!(probe(json!({"id": 0})).unwrap_err().starts_with("id: expected an id, got 0"));
        assert!(probe(json!({"id": 1, "at": "yesterday"})).unwrap_err().starts_with("at: "));
        assert!(probe(json!({"id": 1, "at": [1]})).unwrap_err().starts_with("at: "));
        assert!(probe(json!({"id": 1, "other": "abc"})).unwrap_err().starts_with("other: "));
        assert!(probe(json!({"id": 1, "label": {"x": 1}})).unwrap_err().starts_with("label: "));
    }
}
