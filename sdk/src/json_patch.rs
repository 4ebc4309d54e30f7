//! JSON Patch (RFC 6902) operations, for APIs that update records with them
//! (Help Scout's `PATCH /v2/conversations/{id}` takes one operation per request).
//!
//! ```
//! use switchboard_sdk::json_patch::PatchOp;
//! let op = PatchOp::replace("/status", "closed");
//! assert_eq!(serde_json::to_value(&op).ok(), Some(serde_json::json!({"op": "replace", "path": "/status", "value": "closed"})));
//! ```

use serde::Serialize;
use serde_json::Value;

/// One JSON Patch operation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PatchOp {
    /// `add`, `remove`, `replace`, `move`, `copy` or `test`.
    pub op: &'static str,
    /// JSON Pointer of the target.
    pub path: String,
    /// The value (absent for `remove`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    /// Source pointer (`move` and `copy` in RFC 6902).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
}

impl PatchOp {
    fn new(op: &'static str, path: &str, value: Option<Value>) -> PatchOp {
        PatchOp { op, path: path.to_string(), value, from: None }
    }

    /// `replace` the value at `path`.
    pub fn replace(path: &str, value: impl Into<Value>) -> PatchOp {
        PatchOp::new("replace", path, Some(value.into()))
    }

    /// `add` a value at `path`.
    pub fn add(path: &str, value: impl Into<Value>) -> PatchOp {
        PatchOp::new("add", path, Some(value.into()))
    }

    /// `remove` the value at `path`.
    pub fn remove(path: &str) -> PatchOp {
        PatchOp::new("remove", path, None)
    }

    /// `move` in the form some vendors use: the destination in `path` and the
    /// new value in `value` (Help Scout's "move to mailbox" operation).
    pub fn move_to(path: &str, value: impl Into<Value>) -> PatchOp {
        PatchOp::new("move", path, Some(value.into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn operations_serialise_as_rfc6902() {
        assert_eq!(serde_json::to_value(PatchOp::remove("/assignTo")).ok(), Some(json!({"op": "remove", "path": "/assignTo"})));
        assert_eq!(
            serde_json::to_value(PatchOp::replace("/assignTo", 12)).ok(),
            Some(json!({"op": "replace", "path": "/assignTo", "value": 12}))
        );
        assert_eq!(
            serde_json::to_value(PatchOp::move_to("/mailboxId", 7)).ok(),
            Some(json!({"op": "move", "path": "/mailboxId", "value": 7}))
        );
    }
}
