//! Aircall pagination: `page` (1-based), `per_page` (default 20, max 50),
//! `order`, `from`/`to`, and the `meta` object (aircall-api.md §1.4).

use serde_json::{Value, json};

use crate::common::util::{query_pairs, url_encode};

/// Page parameters read from the query.
#[derive(Debug, Clone)]
pub struct Paging {
    page: usize,
    per_page: usize,
    desc: bool,
    from: Option<i64>,
    to: Option<i64>,
    /// Other query parameters, kept for the page links.
    extra: Vec<(String, String)>,
}

impl Paging {
    /// Reads the parameters; unparsable numbers fall back to defaults.
    pub fn from_query(query: Option<&str>) -> Self {
        let mut p = Self { page: 1, per_page: 20, desc: false, from: None, to: None, extra: Vec::new() };
        for (k, v) in query_pairs(query) {
            match k.as_str() {
                "page" => p.page = v.parse().unwrap_or(1).max(1),
                // [U] aircall-api.md §1.4: a per_page above 50 is clamped to 50 rather than rejected.
                "per_page" => p.per_page = v.parse().unwrap_or(20).clamp(1, 50),
                "order" => p.desc = v == "desc",
                "from" => p.from = v.parse().ok(),
                "to" => p.to = v.parse().ok(),
                _ => p.extra.push((k, v)),
            }
        }
        p
    }

    /// Filters by creation time, orders by creation (id as tie-break), cuts the
    /// page and wraps it as `{key: [...], meta: {...}}`.
    pub fn render(&self, key: &str, mut items: Vec<(i64, u64, Value)>, base: &str, path: &str) -> Value {
        items.retain(|(t, _, _)| self.from.is_none_or(|f| *t >= f) && self.to.is_none_or(|to| *t <= to));
        items.sort_by_key(|(t, id, _)| (*t, *id));
        if self.desc {
            items.reverse();
        }
        let total = items.len();
        let start = (self.page - 1).saturating_mul(self.per_page);
        let page: Vec<Value> = items.into_iter().skip(start).take(self.per_page).map(|(_, _, v)| v).collect();
        let last_page = total.div_ceil(self.per_page).max(1);
        let link = |n: usize| {
            let mut q: Vec<String> = self.extra.iter().map(|(k, v)| format!("{}={}", url_encode(k), url_encode(v))).collect();
            if self.desc {
                q.push("order=desc".into());
            }
            // The window stays the same from page to page.
            if let Some(f) = self.from {
                q.push(format!("from={f}"));
            }
            if let Some(t) = self.to {
                q.push(format!("to={t}"));
            }
            q.push(format!("page={n}"));
            q.push(format!("per_page={}", self.per_page));
            format!("{base}{path}?{}", q.join("&"))
        };
        let count = page.len();
        let mut out = json!({
            "meta": {
                "count": count,
                "total": total,
                "current_page": self.page,
                "per_page": self.per_page,
                "next_page_link": if self.page < last_page { Some(link(self.page + 1)) } else { None },
                "previous_page_link": if self.page > 1 { Some(link(self.page - 1)) } else { None },
            }
        });
        out[key] = Value::Array(page);
        out
    }
}
