//! Which fields of each Aircall object a webhook carries and which only a REST
//! answer carries: the one table the simulator builds both views from, and
//! checks payloads against.
//!
//! Source: `shared/reference/aircall-api.md` §4 (objects; "REST only" /
//! "webhooks only" notes) and §3 (which object each event carries):
//! - §4.1 Call: `sid` is REST only and `call_uuid` (same value) webhooks only;
//!   `participants` in webhooks is `conference_participants` in REST;
//!   `ivr_options_selected` only from `GET /v1/calls/:id?fetch_call_timeline=true`;
//!   `ai_voice_agents` only from REST with `fetch_aiva_conv`.
//! - §4.4 Tag: `tagged_by` (may be `{}`) and `tagged_at` only inside call webhooks.
//! - §4.5 User: `numbers` on V1 REST answers only.
//! - §4.6 Number: `e164_digits` webhooks only.
//! - §4.9 Message: `external_number` on webhooks (not on send answers),
//!   `media_url` on send answers (webhooks list files in `media_details`).
//!
//! "Required" marks what every webhook of that object carries in the
//! reference's samples and observed payloads (§2.2, §4.1, §4.9); everything
//! else may be absent (§1.6: fields are often absent rather than null).

use serde_json::{Map, Value};

/// An Aircall object kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// §4.1.
    Call,
    /// §4.2, a conference participant.
    Participant,
    /// §4.2, an IVR option (REST only, inside calls).
    IvrOption,
    /// §4.3.
    Comment,
    /// §4.4.
    Tag,
    /// §4.5 (abridged inside calls, comments and tags).
    User,
    /// §4.6.
    Number,
    /// §4.7.
    Team,
    /// §4.8.
    Contact,
    /// §4.8, a contact's phone number or e-mail entry.
    ContactDetail,
    /// §4.9.
    Message,
    /// §4.9, an entry of `media_details`.
    MediaDetail,
    /// §4.11, data of `ai_voice_agent.*` events.
    AiVoiceAgent,
    /// §4.10, data of Conversation Intelligence events.
    Intelligence,
}

/// Where a field appears.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// In webhooks and REST answers.
    Both,
    /// Only in webhook payloads.
    Webhook,
    /// Only in REST answers.
    Rest,
}

/// What a field holds when it is an object or a list of objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nested {
    /// A plain value.
    No,
    /// One object of that kind (or null).
    One(Kind),
    /// A list of objects of that kind.
    Many(Kind),
}

/// One row of the table.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    /// The name in webhooks (or in REST for REST-only fields).
    pub name: &'static str,
    /// Where it appears.
    pub seen: Seen,
    /// Every webhook of the object carries it.
    pub required: bool,
    /// Object or list of objects.
    pub nested: Nested,
    /// A webhook-only field whose value REST answers carry under this name.
    pub rest_name: Option<&'static str>,
    /// An empty object `{}` is a documented value (then nothing inside is required).
    pub may_be_empty: bool,
}

const fn f(name: &'static str, seen: Seen) -> Field {
    Field { name, seen, required: false, nested: Nested::No, rest_name: None, may_be_empty: false }
}

const fn both(name: &'static str) -> Field {
    f(name, Seen::Both)
}

impl Field {
    const fn req(mut self) -> Field {
        self.required = true;
        self
    }
    const fn one(mut self, kind: Kind) -> Field {
        self.nested = Nested::One(kind);
        self
    }
    const fn many(mut self, kind: Kind) -> Field {
        self.nested = Nested::Many(kind);
        self
    }
    const fn in_rest_as(mut self, name: &'static str) -> Field {
        self.rest_name = Some(name);
        self
    }
    const fn empty_ok(mut self) -> Field {
        self.may_be_empty = true;
        self
    }
}

use Kind as K;
use Seen::{Rest, Webhook};

/// §4.1.
const CALL: &[Field] = &[
    both("id").req(),
    f("sid", Rest),
    f("call_uuid", Webhook).req().in_rest_as("sid"),
    both("direct_link").req(),
    both("direction").req(),
    both("status").req(),
    both("missed_call_reason"),
    both("started_at").req(),
    both("answered_at"),
    both("ended_at"),
    both("duration").req(),
    both("raw_digits").req(),
    both("voicemail"),
    both("voicemail_short_url"),
    both("recording"),
    both("recording_short_url"),
    both("asset"),
    both("archived").req(),
    both("cost"),
    both("hangup_cause"),
    both("number").req().one(K::Number),
    both("user").one(K::User),
    both("contact").one(K::Contact),
    both("assigned_to").one(K::User),
    both("teams").many(K::Team),
    both("transferred_by").one(K::User).empty_ok(),
    both("transferred_to").one(K::User).empty_ok(),
    both("external_transferred_to"),
    both("external_caller_number"),
    both("comments").req().many(K::Comment),
    both("tags").req().many(K::Tag),
    f("participants", Webhook).req().many(K::Participant).in_rest_as("conference_participants"),
    f("conference_participants", Rest).many(K::Participant),
    f("ivr_options_selected", Rest).many(K::IvrOption),
    f("ai_voice_agents", Rest),
];

/// §4.2.
const PARTICIPANT: &[Field] = &[both("type").req(), both("id"), both("name"), both("phone_number")];

/// §4.2.
const IVR_OPTION: &[Field] = &[
    both("id").req(),
    both("title"),
    both("key").req(),
    both("branch"),
    both("created_at"),
    both("transition_started_at"),
    both("transition_ended_at"),
];

/// §4.3 (`posted_by` is null for comments posted through the API).
const COMMENT: &[Field] = &[both("id").req(), both("content").req(), both("posted_at").req(), both("posted_by").one(K::User)];

/// §4.4.
const TAG: &[Field] = &[
    both("id").req(),
    both("direct_link"),
    both("name").req(),
    both("color"),
    both("description"),
    f("tagged_by", Webhook).one(K::User).empty_ok(),
    f("tagged_at", Webhook).req(),
];

/// §4.5 (`substatus` also arrives on `user.closed*` webhooks, §3.2).
const USER: &[Field] = &[
    both("id").req(),
    both("direct_link"),
    both("name").req(),
    both("email"),
    both("created_at"),
    both("available"),
    both("availability_status"),
    both("substatus"),
    both("time_zone"),
    both("language"),
    both("wrap_up_time"),
    f("numbers", Rest).many(K::Number),
];

/// §4.6.
const NUMBER: &[Field] = &[
    both("id").req(),
    both("direct_link"),
    both("name").req(),
    both("digits").req(),
    f("e164_digits", Webhook).req(),
    both("created_at"),
    both("country"),
    both("time_zone"),
    both("open"),
    both("availability_status"),
    both("is_ivr"),
    both("live_recording_activated"),
    both("priority"),
    both("users").many(K::User),
    both("messages"),
];

/// §4.7.
const TEAM: &[Field] = &[both("id").req(), both("direct_link"), both("name").req(), both("created_at"), both("users").many(K::User)];

/// §4.8.
const CONTACT: &[Field] = &[
    both("id").req(),
    both("direct_link"),
    both("first_name"),
    both("last_name"),
    both("company_name"),
    both("description"),
    both("information"),
    both("is_shared"),
    both("phone_numbers").req().many(K::ContactDetail),
    both("emails").req().many(K::ContactDetail),
    both("created_at"),
    both("updated_at"),
];

/// §4.8.
const CONTACT_DETAIL: &[Field] = &[both("id"), both("label"), both("value").req()];

/// §4.9 (`user` on messages is plausible but unconfirmed there).
const MESSAGE: &[Field] = &[
    both("id").req(),
    both("direct_link").req(),
    both("direction").req(),
    f("external_number", Webhook).req(),
    both("body").req(),
    both("status").req(),
    both("raw_digits").req(),
    both("media_details").req().many(K::MediaDetail),
    f("media_url", Rest),
    both("created_at").req(),
    both("updated_at").req(),
    both("sent_at"),
    both("channel").req(),
    both("template_content"),
    both("type"),
    both("metadata"),
    both("parent_id"),
    both("whatsapp_message_category"),
    both("whatsapp_message_type"),
    both("recipient_country"),
    both("number").req().one(K::Number),
    both("contact").one(K::Contact),
    both("user").one(K::User),
];

/// §4.9.
const MEDIA_DETAIL: &[Field] = &[both("file_name").req(), both("file_type").req(), both("presigned_url").req()];

/// §4.11.
const AI_VOICE_AGENT: &[Field] = &[
    both("id").req(),
    both("call_id").req(),
    both("call_uuid").req(),
    both("ai_voice_agent_id").req(),
    both("ai_voice_agent_name"),
    both("ai_voice_agent_session_id"),
    both("number_id"),
    both("external_caller_number"),
    both("aircall_number"),
    both("created_at"),
    both("started_at"),
    both("ended_at"),
    both("call_end_reason"),
    both("escalation_reason"),
    both("extracted_data"),
];

/// §4.10.
const INTELLIGENCE: &[Field] = &[
    both("id").req(),
    both("call_id").req(),
    both("call_uuid"),
    both("number_id"),
    both("participants").many(K::Participant),
    both("type").req(),
    both("content").req(),
    both("call_created_at"),
    both("created_at"),
    both("created_by"),
    both("updated_at"),
    both("updated_by"),
    both("ai_generated"),
    both("adherence_score"),
    both("playbook"),
    both("playbook_result_topics"),
];

impl Kind {
    /// The fields of this object.
    pub fn fields(self) -> &'static [Field] {
        match self {
            K::Call => CALL,
            K::Participant => PARTICIPANT,
            K::IvrOption => IVR_OPTION,
            K::Comment => COMMENT,
            K::Tag => TAG,
            K::User => USER,
            K::Number => NUMBER,
            K::Team => TEAM,
            K::Contact => CONTACT,
            K::ContactDetail => CONTACT_DETAIL,
            K::Message => MESSAGE,
            K::MediaDetail => MEDIA_DETAIL,
            K::AiVoiceAgent => AI_VOICE_AGENT,
            K::Intelligence => INTELLIGENCE,
        }
    }

    /// The object a webhook's `data` holds, from the envelope's `resource` (§3).
    pub fn of_resource(resource: &str) -> Option<Kind> {
        Some(match resource {
            "call" => K::Call,
            "user" => K::User,
            "number" => K::Number,
            "contact" => K::Contact,
            "message" => K::Message,
            "ai_voice_agent" => K::AiVoiceAgent,
            "transcription" | "summary" | "topics" | "sentiment" | "action_item" | "playbook_result" | "custom_summary"
            | "call_evaluation" => K::Intelligence,
            _ => return None,
        })
    }

    fn field(self, name: &str) -> Option<&'static Field> {
        self.fields().iter().find(|f| f.name == name)
    }
}

/// The webhook view of `value`: REST-only fields removed, at every depth.
pub fn webhook_view(kind: Kind, value: &Value) -> Value {
    view(kind, value, Seen::Webhook)
}

/// The REST view of `value` (what `GET` answers): webhook-only fields removed
/// or renamed to their REST name (`call_uuid` → `sid`, `participants` →
/// `conference_participants`), at every depth.
pub fn rest_view(kind: Kind, value: &Value) -> Value {
    view(kind, value, Seen::Rest)
}

fn view(kind: Kind, value: &Value, side: Seen) -> Value {
    let Value::Object(map) = value else {
        return value.clone();
    };
    let mut out = Map::new();
    for (name, v) in map {
        let Some(field) = kind.field(name) else {
            // Not in the table: kept as it is (the checks report it).
            out.insert(name.clone(), v.clone());
            continue;
        };
        let v = match field.nested {
            Nested::No => v.clone(),
            Nested::One(k) => view(k, v, side),
            Nested::Many(k) => match v {
                Value::Array(items) => Value::Array(items.iter().map(|i| view(k, i, side)).collect()),
                other => other.clone(),
            },
        };
        match (field.seen, side) {
            (Seen::Both, _) => {
                out.insert(name.clone(), v);
            }
            (Seen::Webhook, Seen::Webhook) | (Seen::Rest, Seen::Rest) => {
                // A renamed field's REST name wins over a stale copy.
                out.entry(name.clone()).or_insert(v);
            }
            (Seen::Webhook, _) => {
                if let Some(rest) = field.rest_name {
                    out.insert(rest.to_string(), v);
                }
            }
            (Seen::Rest, _) => {}
        }
    }
    Value::Object(out)
}

/// What is wrong with `value` as a webhook's `data` of this kind: REST-only
/// fields, missing required fields, fields the table does not know, at every
/// depth. Each problem names its path (`data.number.sid`).
pub fn check_webhook(kind: Kind, value: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    check(kind, value, Seen::Webhook, "data", &mut problems);
    problems
}

/// What is wrong with `value` as a REST answer's object of this kind:
/// webhook-only fields and fields the table does not know, at every depth.
pub fn check_rest(kind: Kind, value: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    check(kind, value, Seen::Rest, "object", &mut problems);
    problems
}

fn check(kind: Kind, value: &Value, side: Seen, path: &str, problems: &mut Vec<String>) {
    let Value::Object(map) = value else {
        problems.push(format!("{path}: a {kind:?} must be an object, not {value}"));
        return;
    };
    for (name, v) in map {
        let at = format!("{path}.{name}");
        let Some(field) = kind.field(name) else {
            problems.push(format!("{at}: not a field of Aircall's {kind:?} (aircall-api.md §4)"));
            continue;
        };
        match (field.seen, side) {
            (Seen::Rest, Seen::Webhook) => problems.push(format!("{at}: REST-only field in a webhook")),
            (Seen::Webhook, Seen::Rest) => problems.push(format!("{at}: webhook-only field in a REST answer")),
            _ => {}
        }
        match field.nested {
            Nested::No => {}
            Nested::One(k) => {
                let empty = v.as_object().is_some_and(Map::is_empty);
                if v.is_null() || (empty && field.may_be_empty) {
                    continue;
                }
                check(k, v, side, &at, problems);
            }
            Nested::Many(k) => match v {
                Value::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        check(k, item, side, &format!("{at}[{i}]"), problems);
                    }
                }
                Value::Null => {}
                other => problems.push(format!("{at}: must be a list, not {other}")),
            },
        }
    }
    if side == Seen::Webhook {
        for field in kind.fields().iter().filter(|f| f.required && f.seen != Seen::Rest) {
            if !map.contains_key(field.name) {
                problems.push(format!("{path}.{}: required in every {kind:?} webhook, missing", field.name));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn call() -> Value {
        json!({
            "id": 1, "call_uuid": "CA1", "direct_link": "https://api.aircall.io/v1/calls/1", "direction": "inbound",
            "status": "done", "started_at": 10, "duration": 5, "raw_digits": "+33 6 12 34 56 78", "archived": false,
            "number": { "id": 2, "name": "Support", "digits": "+33 1 23 45 67 89", "e164_digits": "+33123456789" },
            "comments": [], "tags": [{ "id": 3, "name": "VIP", "tagged_by": {}, "tagged_at": 12 }],
            "participants": [{ "type": "external", "phone_number": "+33 6 12 34 56 78" }],
            "ivr_options_selected": [{ "id": "i", "key": "2" }],
        })
    }

    #[test]
    fn the_webhook_view_drops_rest_only_fields_and_passes_the_check() {
        let raw = call();
        let problems = check_webhook(Kind::Call, &raw);
        assert_eq!(problems, ["data.ivr_options_selected: REST-only field in a webhook"]);
        let hook = webhook_view(Kind::Call, &raw);
        assert!(hook.get("ivr_options_selected").is_none());
        assert!(check_webhook(Kind::Call, &hook).is_empty(), "{:?}", check_webhook(Kind::Call, &hook));
    }

    #[test]
    fn the_rest_view_renames_and_drops_webhook_only_fields() {
        let rest = rest_view(Kind::Call, &call());
        assert_eq!(rest["sid"], "CA1");
        assert!(rest.get("call_uuid").is_none() && rest.get("participants").is_none());
        assert_eq!(rest["conference_participants"][0]["type"], "external");
        assert_eq!(rest["ivr_options_selected"][0]["key"], "2");
        assert!(rest["number"].get("e164_digits").is_none());
        assert!(rest["tags"][0].get("tagged_at").is_none() && rest["tags"][0].get("tagged_by").is_none());
        assert!(check_rest(Kind::Call, &rest).is_empty(), "{:?}", check_rest(Kind::Call, &rest));
        assert_eq!(check_rest(Kind::Call, &call()).len(), 5, "{:?}", check_rest(Kind::Call, &call()));
    }

    #[test]
    fn missing_and_unknown_fields_are_named_with_their_path() {
        let mut raw = webhook_view(Kind::Call, &call());
        raw["number"].as_object_mut().map(|n| n.remove("e164_digits"));
        raw["country_code_a2"] = json!("FR");
        let problems = check_webhook(Kind::Call, &raw);
        assert!(problems.contains(&"data.number.e164_digits: required in every Number webhook, missing".to_string()), "{problems:?}");
        assert!(problems.iter().any(|p| p.starts_with("data.country_code_a2: not a field")), "{problems:?}");
    }
}
