//! The reference connector, and the template for new ones.
//!
//! Every call or message event becomes a note `POST {base_url}/notes` with the
//! event's id as `external_id`, so the notes service can be checked before a
//! write that may already have happened (an *ambiguous* effect after a crash).
//! On `call.created` it can push an insight card with the caller's number in
//! E.164, from the host's phone engine.

mod notes;

use switchboard_sdk::phone::{self, Normalized};
use switchboard_sdk::telephony::{CardItem, CardShortText, CardTitle};
use switchboard_sdk::{CallEvent, CallEventKind, Context, Event, MessageEvent, Plugin, PluginError, Request, Response, export_plugin, log, telephony};

/// The example connector.
pub struct Example;

/// The caller's number in E.164, `anonymous`, or the raw text when it is not a number.
fn caller(raw: &str, region: Option<&str>) -> String {
    match phone::normalize(raw, region) {
        Ok(Normalized::Number(e164)) => e164,
        Ok(Normalized::Anonymous) => "anonymous".into(),
        Err(_) => raw.to_string(),
    }
}

impl Plugin for Example {
    fn handle_event(ctx: &Context, event: Event) -> Result<(), PluginError> {
        let base = ctx.base_url().or(ctx.setting_str("base_url")).unwrap_or("https://api.example.com").trim_end_matches('/').to_string();
        let note = match &event {
            Event::Call(CallEvent { kind, call }) => {
                let region = call.number.as_ref().and_then(|n| n.country.clone()).or(ctx.default_region().map(str::to_string));
                let number = caller(&call.raw_digits, region.as_deref());
                if *kind == CallEventKind::Created && ctx.setting_bool("insight_cards").unwrap_or(false) {
                    let items = vec![
                        CardItem::Title(CardTitle { text: "Caller".into(), link: None }),
                        CardItem::ShortText(CardShortText { label: "Number".into(), text: number.clone(), link: None }),
                    ];
                    telephony::push_insight_card(call.id, &items)?;
                }
                notes::Note {
                    external_id: ctx.event_id().to_string(),
                    event: ctx.event_name().to_string(),
                    subject: format!("call:{}", call.id),
                    number,
                    attempt: ctx.attempt(),
                }
            }
            Event::Message(MessageEvent { message: msg, .. }) => {
                let region = msg.number.as_ref().and_then(|n| n.country.clone()).or(ctx.default_region().map(str::to_string));
                notes::Note {
                    external_id: ctx.event_id().to_string(),
                    event: ctx.event_name().to_string(),
                    subject: format!("message:{}", msg.id),
                    number: caller(&msg.external_number, region.as_deref()),
                    attempt: ctx.attempt(),
                }
            }
            _ => {
                log::debug(&format!("ignoring {}", ctx.event_name()));
                return Ok(());
            }
        };
        notes::create_once(&base, &note)?;
        log::with(switchboard_sdk::log::Level::Info, "note logged", &[("subject", &note.subject), ("number", &note.number)]);
        Ok(())
    }

    fn handle_request(ctx: &Context, req: Request) -> Response {
        let json = |status: u16, v: serde_json::Value| Response {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: v.to_string().into_bytes(),
        };
        match (req.method.as_str(), req.path.as_str()) {
            ("GET", "/normalize") => {
                let mut raw = None;
                let mut region = ctx.default_region().map(str::to_string);
                for pair in req.query.split('&') {
                    let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                    let v = switchboard_sdk::query::decode(v);
                    match k {
                        "raw" => raw = Some(v),
                        "region" => region = Some(v),
                        _ => {}
                    }
                }
                let Some(raw) = raw else { return json(400, serde_json::json!({ "error": "missing raw" })) };
                match phone::normalize(&raw, region.as_deref()) {
                    Ok(Normalized::Number(e164)) => {
                        let variants = phone::variants(&e164).unwrap_or_default();
                        json(200, serde_json::json!({ "e164": e164, "variants": variants }))
                    }
                    Ok(Normalized::Anonymous) => json(200, serde_json::json!({ "anonymous": true })),
                    Err(e) => json(422, serde_json::json!({ "error": e.text, "reason": format!("{:?}", e.kind) })),
                }
            }
            ("GET", "/echo") => json(200, serde_json::json!({ "path": req.path, "query": req.query, "integration": ctx.integration_id() })),
            _ => json(404, serde_json::json!({ "error": "not found" })),
        }
    }
}

export_plugin!(Example);
