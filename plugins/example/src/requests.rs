//! Requests sent to the integration's URL: `GET /normalize?raw=…&region=…`
//! (the host's phone engine, for trying numbers out) and `GET /echo`.

use switchboard_sdk::phone::{self, Normalized};
use switchboard_sdk::{Context, Request, Response, query};

fn json(status: u16, v: serde_json::Value) -> Response {
    Response { status, headers: vec![("content-type".into(), "application/json".into())], body: v.to_string().into_bytes() }
}

/// Answer one request.
pub fn handle(ctx: &Context, req: &Request) -> Response {
    match (req.method.as_str(), req.path.as_str()) {
        ("GET", "/normalize") => normalize(ctx, req),
        ("GET", "/echo") => json(200, serde_json::json!({ "path": req.path, "query": req.query, "integration": ctx.integration_id() })),
        _ => json(404, serde_json::json!({ "error": "not found" })),
    }
}

fn normalize(ctx: &Context, req: &Request) -> Response {
    let mut raw = None;
    let mut region = ctx.default_region().map(str::to_string);
    for pair in req.query.split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v = query::decode(v);
        match k {
            "raw" => raw = Some(v),
            "region" => region = Some(v),
            _ => {}
        }
    }
    let Some(raw) = raw else {
        return json(400, serde_json::json!({ "error": "missing raw" }));
    };
    match phone::normalize(&raw, region.as_deref()) {
        Ok(Normalized::Number(e164)) => {
            let variants = phone::variants(&e164).unwrap_or_default();
            json(200, serde_json::json!({ "e164": e164, "variants": variants }))
        }
        Ok(Normalized::Anonymous) => json(200, serde_json::json!({ "anonymous": true })),
        Err(e) => json(422, serde_json::json!({ "error": e.text, "reason": format!("{:?}", e.kind) })),
    }
}
