//! Reading HubSpot's request bodies: input field values arrive as plain
//! values, or (in option requests) as `{ "type": "STATIC_VALUE", "value": … }`.
//! Everything is checked; nothing is assumed about the shape.

use serde_json::Value;

/// The text of an input value: strings as they are, numbers and booleans
/// printed, `{value}` objects unwrapped; `None` for null, empty or other shapes.
pub fn text(v: Option<&Value>) -> Option<String> {
    let s = match v? {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Object(o) => return text(o.get("value")),
        _ => return None,
    };
    (!s.is_empty()).then_some(s)
}

/// An id input (`2001` or `"2001"`).
pub fn id(v: Option<&Value>) -> Option<u64> {
    text(v)?.parse().ok()
}

/// `body.inputFields[name]`.
pub fn field<'a>(body: &'a Value, name: &str) -> Option<&'a Value> {
    body.get("inputFields")?.get(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn shapes() {
        assert_eq!(text(Some(&json!(" hi "))), Some("hi".into()));
        assert_eq!(text(Some(&json!({ "type": "STATIC_VALUE", "value": 2001 }))), Some("2001".into()));
        assert_eq!(id(Some(&json!("2001"))), Some(2001));
        assert_eq!(id(Some(&json!("20x1"))), None);
        assert_eq!(text(Some(&json!([1]))), None);
        assert_eq!(text(Some(&json!(""))), None);
    }
}
