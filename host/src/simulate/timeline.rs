//! One copy of a scenario as it unfolds: the current Call and Message objects,
//! changed step by step the way Aircall changes them, and the webhook each
//! step produces (`shared/reference/aircall-api.md` §2.2, §3, §4).
//!
//! The state holds every field of an object, webhook-only and REST-only alike
//! (a call's `ivr_options_selected` too); what is posted is its webhook view
//! and what the Aircall emulator is told is its REST view, both cut by the
//! table in [`super::fields`].

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::fields::{self, Kind};
use super::scenario::{CallDef, Direction, MessageDef, Scenario, Step, json};
use super::world::World;

/// A webhook ready to post (the token is added by the player).
#[derive(Debug, Clone)]
pub struct Webhook {
    /// `call`, `message`, `ai_voice_agent`, ...
    pub resource: String,
    /// The envelope's `event` (`call.created`), as the step names it.
    pub event: String,
    /// UNIX seconds, scenario time.
    pub timestamp: i64,
    /// The object, as webhooks carry it.
    pub data: Value,
    /// For a step about a call: the call as `GET /v1/calls/:id` would answer
    /// right after this step (REST field names, IVR options selected so far).
    pub call_rest: Option<Value>,
}

impl Webhook {
    /// The envelope Aircall posts.
    pub fn envelope(&self, token: &str) -> Value {
        json!({ "resource": self.resource, "event": self.event, "timestamp": self.timestamp, "token": token, "data": self.data })
    }
}

/// The state of one copy of a scenario.
pub struct Timeline<'a> {
    world: &'a World,
    start: i64,
    calls: HashMap<String, Value>,
    messages: HashMap<String, Value>,
    next_id: u64,
    media: Media,
}

/// Where recording, voicemail and MMS links point.
#[derive(Debug, Clone, Default)]
struct Media {
    /// A server answering `GET /_sandbox/media/NAME?bytes=N&type=MIME` (every
    /// sandbox emulator does); `None` = placeholder hosts nothing answers.
    base: Option<String>,
}

impl Media {
    /// A link to a file of `bytes` bytes: on the media server when there is
    /// one, else on `placeholder_host` (a reserved `.example` name).
    fn link(&self, placeholder_host: &str, path: &str, mime: &str, bytes: u64) -> String {
        match &self.base {
            Some(base) => {
                let name = path.replace('/', "-");
                let mime: String = url::form_urlencoded::byte_serialize(mime.as_bytes()).collect();
                format!("{}/_sandbox/media/{name}?bytes={bytes}&type={mime}&X-Amz-Signature=sim", base.trim_end_matches('/'))
            }
            None => format!("https://{placeholder_host}/{path}?X-Amz-Signature=sim"),
        }
    }
}

/// Size of a simulated MP3 (16 kbit/s, at least 1 KiB).
fn audio_bytes(seconds: i64) -> u64 {
    (seconds.max(0) as u64 * 2_000).max(1024)
}

/// `{n}` in scenario strings is the copy number, two digits at least.
fn fill(text: &str, copy: u32) -> String {
    text.replace("{n}", &format!("{:02}", copy + 1))
}

/// `+33 6 12-34` → `+33612 34` without separators (what `external_number` carries).
fn compact(raw: &str) -> String {
    raw.chars().filter(|c| c.is_ascii_digit() || *c == '+').collect()
}

fn rfc3339(ts: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ts)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

/// Deep-merges `patch` into `target` (objects merge, everything else replaces).
pub fn merge(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                merge(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
        (t, p) => *t = p.clone(),
    }
}

fn tag_id(name: &str) -> u64 {
    // Stable per name, like a tag that exists in the account.
    8000 + name.bytes().fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b))) % 1000
}

impl<'a> Timeline<'a> {
    /// A fresh copy: calls and messages get ids from `id_base`.
    pub fn new(scenario: &Scenario, world: &'a World, start: i64, id_base: u64, copy: u32) -> Result<Self, String> {
        Self::with_media(scenario, world, start, id_base, copy, None)
    }

    /// [`Timeline::new`] with recording, voicemail and MMS links on `media_base`
    /// (a server answering `/_sandbox/media/NAME?bytes=N&type=MIME`, such as any
    /// sandbox emulator) instead of placeholder hosts.
    pub fn with_media(
        scenario: &Scenario,
        world: &'a World,
        start: i64,
        id_base: u64,
        copy: u32,
        media_base: Option<&str>,
    ) -> Result<Self, String> {
        let media = Media { base: media_base.map(str::to_string) };
        let mut t = Timeline { world, start, calls: HashMap::new(), messages: HashMap::new(), next_id: id_base, media };
        for def in &scenario.call {
            let id = t.id();
            let call = t.call_object(def, id, copy)?;
            t.calls.insert(def.key.clone(), call);
        }
        for def in &scenario.message {
            let id = t.id();
            let msg = t.message_object(def, id, copy)?;
            t.messages.insert(def.key.clone(), msg);
        }
        Ok(t)
    }

    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// Ids of the calls (for reports).
    pub fn call_ids(&self) -> Vec<u64> {
        let mut ids: Vec<u64> = self.calls.values().filter_map(|c| c["id"].as_u64()).collect();
        ids.sort_unstable();
        ids
    }

    fn call_object(&self, def: &CallDef, id: u64, copy: u32) -> Result<Value, String> {
        let number = self.world.number(&def.number)?.clone();
        let from = fill(&def.from, copy);
        let mut call = json!({
            "id": id,
            "call_uuid": format!("CA{id:032x}"),
            "direct_link": format!("https://api.aircall.io/v1/calls/{id}"),
            "direction": def.direction.as_str(),
            "status": "initial",
            "missed_call_reason": null,
            "started_at": self.start,
            "answered_at": null,
            "ended_at": null,
            "duration": 0,
            "cost": "0.0",
            "hangup_cause": null,
            "raw_digits": from,
            "voicemail": null,
            "recording": null,
            "asset": null,
            "archived": false,
            "number": number,
            "comments": [],
            "tags": [],
            "teams": [],
            "ivr_options_selected": [],
            "participants": [{ "type": "external", "phone_number": from }],
        });
        if let Some(c) = &def.contact {
            call["contact"] = self.world.contact(c)?.clone();
        }
        for t in &def.teams {
            let mut team = self.world.team(t)?.clone();
            // `users` in the world file only says who a transfer to the team reaches.
            if let Some(m) = team.as_object_mut() {
                m.remove("users");
            }
            push(&mut call["teams"], team);
        }
        if let Some(u) = &def.user {
            call["user"] = self.world.user(u)?.clone();
        }
        Ok(call)
    }

    fn message_object(&self, def: &MessageDef, id: u64, copy: u32) -> Result<Value, String> {
        let number = self.world.number(&def.number)?.clone();
        let external = fill(&def.external, copy);
        let media: Vec<Value> = def
            .media
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let url = m.presigned_url.clone().unwrap_or_else(|| {
                    self.media.link("aircall-media.example", &format!("{id}/{i}/{}", m.file_name), &m.file_type, 32 * 1024)
                });
                json!({ "file_name": m.file_name, "file_type": m.file_type, "presigned_url": url })
            })
            .collect();
        let number_id = number["id"].as_u64().unwrap_or(0);
        let mut msg = json!({
            "id": id.to_string(),
            "direct_link": format!("https://api.aircall.io/v1/numbers/{number_id}/messages/{id}"),
            "direction": def.direction.as_str(),
            "external_number": compact(&external),
            "raw_digits": external,
            "body": fill(&def.body, copy),
            "status": if def.direction == Direction::Inbound { "received" } else { "sent" },
            "channel": def.channel,
            // Webhooks list files here; `media_url` belongs to send answers (fields.rs).
            "media_details": media,
            "number": number,
        });
        if let Some(u) = &def.user {
            msg["user"] = self.world.user(u)?.clone();
        }
        Ok(msg)
    }

    /// Applies a step and returns the webhook it produces.
    pub fn apply(&mut self, step: &Step) -> Result<Webhook, String> {
        let t = self.start + step.at.round() as i64;
        let user = match &step.user {
            Some(u) => Some(self.world.user(u)?.clone()),
            None => None,
        };
        let patch = step.data.as_ref().map(json);
        let (resource, mut data, call_key) = if let Some(key) = &step.message {
            let msg = self.messages.get_mut(key).ok_or_else(|| format!("no message `{key}`"))?;
            apply_message(msg, step, t);
            if let Some(p) = &patch {
                // Kept for later events of the same message.
                merge(msg, p);
            }
            ("message".to_string(), msg.clone(), None)
        } else if let Some(key) = &step.call {
            let team = match &step.team {
                Some(k) => Some(self.team_first_user(k)?),
                None => None,
            };
            let media = self.media.clone();
            let call = self.calls.get_mut(key).ok_or_else(|| format!("no call `{key}`"))?;
            let family = step.event.split('.').next().unwrap_or_default();
            match family {
                "call" => {
                    apply_call(call, step, t, user, team, &media);
                    if let Some(p) = &patch {
                        // Kept for later events of the same call.
                        merge(call, p);
                    }
                    ("call".to_string(), call.clone(), Some(key.clone()))
                }
                "ai_voice_agent" => ("ai_voice_agent".to_string(), voice_agent(call, step, t), Some(key.clone())),
                _ => (family.to_string(), intelligence(call, step, t), Some(key.clone())),
            }
        } else {
            return Err(format!("step `{}` names no call or message", step.event));
        };
        if let Some(p) = patch.as_ref().filter(|_| resource != "call" && resource != "message") {
            merge(&mut data, p);
        }
        if let Some(kind) = Kind::of_resource(&resource) {
            data = fields::webhook_view(kind, &data);
        }
        let call_rest = call_key.and_then(|k| self.calls.get(&k)).map(|c| fields::rest_view(Kind::Call, c));
        Ok(Webhook { resource, event: step.event.clone(), timestamp: t, data, call_rest })
    }

    /// The first user of a world team (`users = [ids]`), else the team itself.
    fn team_first_user(&self, key: &str) -> Result<Value, String> {
        let team = self.world.team(key)?;
        let first = team["users"].as_array().and_then(|ids| ids.first()).and_then(Value::as_u64);
        Ok(first.and_then(|id| self.world.users.values().find(|u| u["id"].as_u64() == Some(id)).cloned()).unwrap_or_else(|| team.clone()))
    }
}

fn push(list: &mut Value, item: Value) {
    if let Value::Array(a) = list {
        a.push(item);
    } else {
        *list = Value::Array(vec![item]);
    }
}

fn obj(v: &mut Value) -> &mut Map<String, Value> {
    if !v.is_object() {
        *v = Value::Object(Map::new());
    }
    match v {
        Value::Object(m) => m,
        _ => unreachable!("just made an object"),
    }
}

fn hang_up(call: &mut Value, step: &Step, t: i64) {
    if call["status"] == "done" {
        return;
    }
    let started = call["started_at"].as_i64().unwrap_or(t);
    call["status"] = json!("done");
    call["ended_at"] = json!(t);
    call["duration"] = json!((t - started).max(0));
    if call["answered_at"].is_null() {
        let reason =
            step.missed_call_reason.clone().or_else(|| (call["direction"] == "inbound").then(|| "agents_did_not_answer".to_string()));
        call["missed_call_reason"] = json!(reason);
    }
}

fn apply_call(call: &mut Value, step: &Step, t: i64, user: Option<Value>, team_user: Option<Value>, media: &Media) {
    let id = call["id"].as_u64().unwrap_or(0);
    let current_user = call.get("user").cloned().filter(|u| !u.is_null());
    match step.event.as_str() {
        "call.created" => {
            call["status"] = json!("initial");
            call["started_at"] = json!(t);
        }
        "call.ringing_on_agent" | "call.agent_declined" => {
            if let Some(u) = user {
                call["user"] = u;
            }
        }
        "call.answered" => {
            call["status"] = json!("answered");
            if call["answered_at"].is_null() {
                call["answered_at"] = json!(t);
            }
            if let Some(u) = user {
                push(&mut call["participants"], json!({ "type": "user", "id": u["id"].to_string(), "name": u["name"] }));
                call["user"] = u;
            }
        }
        "call.transferred" | "call.unsuccessful_transfer" => {
            call["transferred_by"] = current_user.unwrap_or(json!({}));
            call["transferred_to"] = user.or(team_user).unwrap_or(json!({}));
        }
        "call.external_transferred" => {
            call["external_transferred_to"] = json!(step.to);
            call["external_caller_number"] = call["raw_digits"].clone();
        }
        "call.ivr_option_selected" => {
            if let Some(ivr) = &step.ivr {
                let n = call["ivr_options_selected"].as_array().map(Vec::len).unwrap_or(0);
                push(
                    &mut call["ivr_options_selected"],
                    json!({ "id": format!("{id}-ivr-{n}"), "key": ivr.key, "title": ivr.title, "branch": ivr.branch,
                            "created_at": rfc3339(t), "transition_started_at": rfc3339(t), "transition_ended_at": rfc3339(t) }),
                );
            }
        }
        "call.hungup" => hang_up(call, step, t),
        "call.ended" | "call.comm_assets_generated" => {
            hang_up(call, step, t);
            let recorded = call["number"]["live_recording_activated"].as_bool().unwrap_or(false);
            if !call["answered_at"].is_null() && recorded && call["recording"].is_null() {
                let talk = call["ended_at"].as_i64().unwrap_or(t) - call["answered_at"].as_i64().unwrap_or(t);
                call["recording"] =
                    json!(media.link("aircall-recordings.example", &format!("calls/{id}/recording.mp3"), "audio/mpeg", audio_bytes(talk)));
                call["recording_short_url"] = json!(format!("https://short-urls.aircall.io/v1/rec-{id}"));
                call["asset"] = json!(format!("https://assets.aircall.io/calls/{id}/recording"));
            }
        }
        "call.voicemail_left" => {
            // Left after the greeting, before the hang-up: a voicemail of up to a minute.
            let length = (call["ended_at"].as_i64().unwrap_or(t) - call["started_at"].as_i64().unwrap_or(t)).clamp(5, 60);
            call["voicemail"] =
                json!(media.link("aircall-recordings.example", &format!("calls/{id}/voicemail.mp3"), "audio/mpeg", audio_bytes(length)));
            call["voicemail_short_url"] = json!(format!("https://short-urls.aircall.io/v1/vm-{id}"));
            call["asset"] = json!(format!("https://assets.aircall.io/calls/{id}/voicemail"));
        }
        "call.assigned" => {
            if let Some(u) = user {
                call["assigned_to"] = u;
            }
        }
        "call.archived" => call["archived"] = json!(true),
        "call.tagged" => {
            if let Some(name) = &step.tag {
                let by = user.or(current_user).unwrap_or(json!({}));
                let tags = obj_list(&mut call["tags"]);
                tags.retain(|x| x["name"] != name.as_str());
                tags.push(json!({ "id": tag_id(name), "direct_link": format!("https://api.aircall.io/v1/tags/{}", tag_id(name)),
                                  "name": name, "color": "#00B388", "description": "", "tagged_by": by, "tagged_at": t }));
            }
        }
        "call.untagged" => {
            if let Some(name) = &step.tag {
                obj_list(&mut call["tags"]).retain(|x| x["name"] != name.as_str());
            }
        }
        "call.commented" => {
            if let Some(text) = &step.comment {
                let n = call["comments"].as_array().map(Vec::len).unwrap_or(0) as u64;
                let by = user.or(current_user).unwrap_or(Value::Null);
                push(&mut call["comments"], json!({ "id": id * 10 + n, "content": text, "posted_at": t, "posted_by": by }));
            }
        }
        _ => {}
    }
}

fn obj_list(v: &mut Value) -> &mut Vec<Value> {
    if !v.is_array() {
        *v = Value::Array(Vec::new());
    }
    match v {
        Value::Array(a) => a,
        _ => unreachable!("just made an array"),
    }
}

fn apply_message(msg: &mut Value, step: &Step, t: i64) {
    let m = obj(msg);
    match step.event.as_str() {
        "message.sent" | "message.received" => {
            m.insert("created_at".into(), json!(rfc3339(t)));
            m.insert("sent_at".into(), json!(rfc3339(t)));
        }
        "message.status_updated" => {
            m.insert("status".into(), json!(step.status));
        }
        _ => {}
    }
    m.insert("updated_at".into(), json!(rfc3339(t)));
}

fn intelligence(call: &Value, step: &Step, t: i64) -> Value {
    json!({
        "id": call["id"].as_u64().unwrap_or(0) * 100 + (t as u64 % 100),
        "call_id": call["id"], "call_uuid": call["call_uuid"], "number_id": call["number"]["id"],
        "participants": call["participants"], "type": if call["voicemail"].is_null() { "call" } else { "voicemail" },
        "content": step.content.as_ref().map(json).unwrap_or(json!("")),
        "call_created_at": call["started_at"], "created_at": t, "updated_at": t, "ai_generated": true,
    })
}

fn voice_agent(call: &Value, step: &Step, t: i64) -> Value {
    let mut v = json!({
        "id": call["id"], "call_id": call["id"], "call_uuid": call["call_uuid"],
        "ai_voice_agent_id": 1, "ai_voice_agent_name": step.agent.clone().unwrap_or_else(|| "Aircall AI Agent".into()),
        "ai_voice_agent_session_id": format!("aiva-{}", call["id"]), "number_id": call["number"]["id"],
        "external_caller_number": call["raw_digits"], "aircall_number": call["number"]["digits"],
        "created_at": call["started_at"], "started_at": call["started_at"],
    });
    match step.event.as_str() {
        "ai_voice_agent.escalated" => {
            v["escalation_reason"] = json!(step.escalation_reason.clone().unwrap_or_else(|| "caller asked for a human".into()))
        }
        "ai_voice_agent.ended" => {
            v["ended_at"] = json!(t);
            v["call_end_reason"] = json!(if step.escalation_reason.is_some() { "escalated" } else { "answered" });
        }
        "ai_voice_agent.summary" => v["extracted_data"] = step.extracted_data.as_ref().map(json).unwrap_or(json!({})),
        _ => {}
    }
    v
}
