//! Intercom search queries (`{field, operator, value}` and nested `AND`/`OR`)
//! and cursor pagination (`pages`, `starting_after`).

use base64::Engine;
use serde_json::{Value, json};

use super::IntercomError;

/// Evaluates a query against a record, given a field accessor.
/// Returns `Err` for a malformed query.
pub fn matches(query: &Value, get: &dyn Fn(&str) -> Vec<Value>) -> Result<bool, IntercomError> {
    let bad = |m: &str| IntercomError::bad("query_invalid", m.to_owned());
    let op = query.get("operator").and_then(Value::as_str).ok_or_else(|| bad("operator is required"))?;
    if op == "AND" || op == "OR" {
        let items = query.get("value").and_then(Value::as_array).ok_or_else(|| bad("AND/OR need a value array"))?;
        if items.len() > 15 {
            return Err(bad("at most 15 filters per group"));
        }
        let mut results = Vec::with_capacity(items.len());
        for q in items {
            results.push(matches(q, get)?);
        }
        return Ok(if op == "AND" { results.iter().all(|r| *r) } else { results.iter().any(|r| *r) });
    }
    let field = query.get("field").and_then(Value::as_str).ok_or_else(|| bad("field is required"))?;
    let want = query.get("value").ok_or_else(|| bad("value is required"))?;
    let have = get(field);
    let s = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    let num = |v: &Value| v.as_f64().or_else(|| v.as_str().and_then(|x| x.parse().ok()));
    let any = |f: &dyn Fn(&Value) -> bool| have.iter().any(f);
    Ok(match op {
        "=" => any(&|h| eq(h, want)),
        "!=" => !any(&|h| eq(h, want)),
        "IN" => want.as_array().is_some_and(|w| w.iter().any(|x| any(&|h| eq(h, x)))),
        "NIN" => !want.as_array().is_some_and(|w| w.iter().any(|x| any(&|h| eq(h, x)))),
        "~" => any(&|h| s(h).to_lowercase().contains(&s(want).to_lowercase())),
        "!~" => !any(&|h| s(h).to_lowercase().contains(&s(want).to_lowercase())),
        "^" => any(&|h| s(h).starts_with(&s(want))),
        "$" => any(&|h| s(h).ends_with(&s(want))),
        ">" => any(&|h| num(h).zip(num(want)).is_some_and(|(a, b)| a > b)),
        "<" => any(&|h| num(h).zip(num(want)).is_some_and(|(a, b)| a < b)),
        ">=" => any(&|h| num(h).zip(num(want)).is_some_and(|(a, b)| a >= b)),
        "<=" => any(&|h| num(h).zip(num(want)).is_some_and(|(a, b)| a <= b)),
        other => return Err(bad(&format!("unsupported operator {other}"))),
    })
}

fn eq(have: &Value, want: &Value) -> bool {
    match (have, want) {
        (Value::String(a), Value::String(b)) => a.eq_ignore_ascii_case(b),
        (Value::Number(a), Value::String(b)) | (Value::String(b), Value::Number(a)) => a.to_string() == *b,
        (Value::Bool(a), Value::String(b)) | (Value::String(b), Value::Bool(a)) => a.to_string() == *b,
        (a, b) => a == b,
    }
}

/// A cursor page of items.
pub struct Page {
    /// The items of this page.
    pub items: Vec<Value>,
    /// The `pages` object.
    pub pages: Value,
    /// Total number of items.
    pub total: usize,
}

/// Cuts a page from `items` after the cursor `starting_after` (opaque base64 offset).
pub fn paginate(items: Vec<Value>, per_page: usize, starting_after: Option<&str>) -> Page {
    let start = starting_after
        .and_then(|c| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(c).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("offset:").and_then(|n| n.parse::<usize>().ok()))
        .unwrap_or(0);
    let total = items.len();
    let per_page = per_page.max(1);
    let page_items: Vec<Value> = items.into_iter().skip(start).take(per_page).collect();
    let end = start + page_items.len();
    let mut pages = json!({
        "type": "pages",
        "page": start / per_page + 1,
        "per_page": per_page,
        "total_pages": total.div_ceil(per_page).max(1),
    });
    if end < total {
        let cursor = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("offset:{end}"));
        pages["next"] = json!({ "per_page": per_page, "starting_after": cursor });
    }
    Page { items: page_items, pages, total }
}

/// Reads `pagination.{per_page, starting_after}` from a search body.
pub fn body_paging(body: &serde_json::Map<String, Value>, default: usize, max: usize) -> (usize, Option<String>) {
    let p = body.get("pagination");
    let per_page = p.and_then(|p| p.get("per_page")).and_then(Value::as_u64).map_or(default, |n| n as usize).clamp(1, max);
    let after = p.and_then(|p| p.get("starting_after")).and_then(Value::as_str).map(str::to_owned);
    (per_page, after)
}
