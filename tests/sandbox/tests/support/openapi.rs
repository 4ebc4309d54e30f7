//! A small OpenAPI 3 checker: finds the operation for a request, and validates
//! JSON against schemas (`$ref`, `allOf`, `oneOf`/`anyOf` (as "any"), `type`,
//! `nullable`, `enum`, `required`, `properties`, `items`, `minLength`,
//! `maxLength`, `maxItems`). `additionalProperties` is not enforced.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;

pub struct Spec {
    pub doc: Value,
}

pub struct Operation<'a> {
    pub template: String,
    pub op: &'a Value,
}

impl Spec {
    pub fn load(path: &str) -> Self {
        let text = std::fs::read_to_string(path).unwrap();
        let doc: Value = serde_norway::from_str(&text).unwrap();
        Self { doc }
    }

    pub fn resolve<'a>(&'a self, mut schema: &'a Value) -> &'a Value {
        while let Some(r) = schema.get("$ref").and_then(Value::as_str) {
            let mut node = &self.doc;
            for part in r.trim_start_matches("#/").split('/') {
                node = &node[part];
            }
            schema = node;
        }
        schema
    }

    /// The operation for `method path`, preferring templates with fewer parameters.
    pub fn operation(&self, method: &str, path: &str) -> Option<Operation<'_>> {
        let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
        let mut best: Option<(usize, Operation<'_>)> = None;
        for (template, item) in self.doc["paths"].as_object()? {
            let tsegs: Vec<&str> = template.trim_matches('/').split('/').collect();
            if tsegs.len() != segs.len() {
                continue;
            }
            let mut params = 0;
            let ok = tsegs.iter().zip(&segs).all(|(t, s)| {
                if t.starts_with('{') {
                    params += 1;
                    true
                } else {
                    t == s
                }
            });
            let Some(op) = item.get(method.to_lowercase()) else {
                continue;
            };
            if ok && best.as_ref().is_none_or(|(p, _)| params < *p) {
                best = Some((params, Operation { template: template.clone(), op }));
            }
        }
        best.map(|(_, o)| o)
    }

    pub fn validate(&self, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
        let sibling_nullable = schema.get("nullable").and_then(Value::as_bool).unwrap_or(false);
        let schema = self.resolve(schema);
        if value.is_null() {
            let nullable = sibling_nullable || schema.get("nullable").and_then(Value::as_bool).unwrap_or(false);
            let typed = schema.get("type").is_some() || schema.get("properties").is_some();
            if typed && !nullable {
                errors.push(format!("{at}: null but not nullable"));
            }
            return;
        }
        if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
            for s in all {
                self.validate(s, value, at, errors);
            }
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(branches) = schema.get(key).and_then(Value::as_array) {
                let mut best: Option<Vec<String>> = None;
                for b in branches {
                    let mut e = Vec::new();
                    self.validate(b, value, at, &mut e);
                    if best.as_ref().is_none_or(|x| e.len() < x.len()) {
                        best = Some(e);
                    }
                }
                if let Some(e) = best
                    && !e.is_empty()
                {
                    errors.push(format!("{at}: matches no {key} branch (closest: {})", e.join("; ")));
                }
            }
        }
        if let Some(t) = schema.get("type").and_then(Value::as_str) {
            let ok = match t {
                "string" => value.is_string(),
                "integer" => value.is_i64() || value.is_u64(),
                "number" => value.is_number(),
                "boolean" => value.is_boolean(),
                "object" => value.is_object(),
                "array" => value.is_array(),
                _ => true,
            };
            if !ok {
                errors.push(format!("{at}: expected {t}, got {value}"));
                return;
            }
        }
        if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
            && !allowed.contains(value)
        {
            errors.push(format!("{at}: {value} not in enum {allowed:?}"));
        }
        if let Some(s) = value.as_str() {
            let len = s.chars().count() as u64;
            if schema.get("minLength").and_then(Value::as_u64).is_some_and(|m| len < m) {
                errors.push(format!("{at}: shorter than minLength"));
            }
            if schema.get("maxLength").and_then(Value::as_u64).is_some_and(|m| len > m) {
                errors.push(format!("{at}: longer than maxLength"));
            }
        }
        if let Some(obj) = value.as_object() {
            if let Some(req) = schema.get("required").and_then(Value::as_array) {
                for r in req.iter().filter_map(Value::as_str) {
                    if !obj.contains_key(r) {
                        errors.push(format!("{at}: missing required `{r}`"));
                    }
                }
            }
            if let Some(props) = schema.get("properties").and_then(Value::as_object) {
                for (k, s) in props {
                    if let Some(v) = obj.get(k) {
                        self.validate(s, v, &format!("{at}.{k}"), errors);
                    }
                }
            }
        }
        if let Some(items) = value.as_array() {
            if schema.get("maxItems").and_then(Value::as_u64).is_some_and(|m| items.len() as u64 > m) {
                errors.push(format!("{at}: more than maxItems"));
            }
            if let Some(s) = schema.get("items") {
                for (i, v) in items.iter().enumerate() {
                    self.validate(s, v, &format!("{at}[{i}]"), errors);
                }
            }
        }
    }
}
