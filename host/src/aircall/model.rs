//! The webhook envelope and the objects in `data`. Every field Aircall may
//! leave out is optional and unknown fields are ignored, but a field that is
//! there must have a documented shape, and the fields the host and the plugins
//! key on (ids, `direction`, a call's `status`) must be there: a wrong shape is
//! a [`DataError`] naming the field (`data.direction: unknown variant …`),
//! never a default.

use super::lenient;
use serde::Deserialize;
use serde_json::Value;

/// What every Aircall webhook body looks like.
#[derive(Debug, Clone, Deserialize)]
pub struct Envelope {
    /// Object family (`call`, `message`, …); informational, `event` decides.
    #[serde(default)]
    pub resource: Option<String>,
    /// The event name, e.g. `call.created`.
    pub event: String,
    /// UNIX seconds when the payload was built.
    #[serde(default, deserialize_with = "lenient::opt_ts")]
    pub timestamp: Option<i64>,
    /// The webhook's token; names the account.
    #[serde(default)]
    pub token: Option<String>,
    /// The resource as it was at `timestamp` (a call, contact, message…);
    /// `event` says which shape.
    #[serde(default)]
    pub data: Value,
}

/// Which way a call or message went. Aircall has only these two (reference
/// §4.1, §4.9; internal agent-to-agent calls are not exposed), so any other
/// value is an error rather than a guess.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
#[allow(missing_docs)]
pub enum Direction {
    Inbound,
    Outbound,
}

/// A call's state (reference §4.1: `initial | answered | done`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
#[allow(missing_docs)]
pub enum CallStatus {
    Initial,
    Answered,
    Done,
}

/// An Aircall user (abridged in calls).
#[derive(Debug, Clone, Deserialize, Default)]
#[allow(missing_docs)]
pub struct User {
    #[serde(deserialize_with = "lenient::id")]
    pub id: u64,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub available: Option<bool>,
    #[serde(default)]
    pub availability_status: Option<String>,
    #[serde(default)]
    pub time_zone: Option<String>,
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default)]
    pub substatus: Option<String>,
}

/// An Aircall team.
#[derive(Debug, Clone, Deserialize)]
#[allow(missing_docs)]
pub struct Team {
    #[serde(deserialize_with = "lenient::id")]
    pub id: u64,
    #[serde(default)]
    pub name: Option<String>,
}

/// An Aircall line.
#[derive(Debug, Clone, Deserialize, Default)]
#[allow(missing_docs)]
pub struct Number {
    #[serde(deserialize_with = "lenient::id")]
    pub id: u64,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub digits: Option<String>,
    #[serde(default)]
    pub e164_digits: Option<String>,
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub time_zone: Option<String>,
    #[serde(default)]
    pub availability_status: Option<String>,
    #[serde(default)]
    pub is_ivr: Option<bool>,
}

/// `{id, label, value}` on contacts.
#[derive(Debug, Clone, Deserialize)]
#[allow(missing_docs)]
pub struct LabeledValue {
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub value: Option<String>,
}

/// An Aircall contact.
#[derive(Debug, Clone, Deserialize, Default)]
#[allow(missing_docs)]
pub struct Contact {
    #[serde(deserialize_with = "lenient::id")]
    pub id: u64,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub company_name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub information: Option<String>,
    #[serde(default, deserialize_with = "lenient::list")]
    pub phone_numbers: Vec<LabeledValue>,
    #[serde(default, deserialize_with = "lenient::list")]
    pub emails: Vec<LabeledValue>,
}

/// A note on a call.
#[derive(Debug, Clone, Deserialize)]
#[allow(missing_docs)]
pub struct Comment {
    #[serde(deserialize_with = "lenient::id")]
    pub id: u64,
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_ts")]
    pub posted_at: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_object")]
    pub posted_by: Option<User>,
}

/// A tag on a call.
#[derive(Debug, Clone, Deserialize)]
#[allow(missing_docs)]
pub struct Tag {
    #[serde(deserialize_with = "lenient::id")]
    pub id: u64,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub color: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_ts")]
    pub tagged_at: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_object")]
    pub tagged_by: Option<User>,
}

/// An IVR option the caller chose.
#[derive(Debug, Clone, Deserialize)]
#[allow(missing_docs)]
pub struct IvrOption {
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub id: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub key: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub branch: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_ts")]
    pub created_at: Option<i64>,
}

/// A conference participant.
#[derive(Debug, Clone, Deserialize)]
#[allow(missing_docs)]
pub struct Participant {
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub phone_number: Option<String>,
}

/// A call (reference §4.1), from a webhook or `GET /v1/calls`: `id`,
/// `direction` and `status` must be there, the rest may be absent.
#[derive(Debug, Clone, Deserialize)]
#[allow(missing_docs)]
pub struct Call {
    #[serde(deserialize_with = "lenient::id")]
    pub id: u64,
    #[serde(default, alias = "sid")]
    pub call_uuid: Option<String>,
    #[serde(default)]
    pub direct_link: Option<String>,
    pub direction: Direction,
    pub status: CallStatus,
    #[serde(default)]
    pub missed_call_reason: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_ts")]
    pub started_at: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_ts")]
    pub answered_at: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_ts")]
    pub ended_at: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_ts")]
    pub duration: Option<i64>,
    #[serde(default)]
    pub raw_digits: Option<String>,
    #[serde(default)]
    pub voicemail: Option<String>,
    #[serde(default)]
    pub recording: Option<String>,
    #[serde(default)]
    pub asset: Option<String>,
    #[serde(default)]
    pub archived: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_object")]
    pub number: Option<Number>,
    #[serde(default, deserialize_with = "lenient::opt_object")]
    pub user: Option<User>,
    #[serde(default, deserialize_with = "lenient::opt_object")]
    pub contact: Option<Contact>,
    #[serde(default, deserialize_with = "lenient::opt_object")]
    pub assigned_to: Option<User>,
    #[serde(default, deserialize_with = "lenient::list")]
    pub teams: Vec<Team>,
    #[serde(default, deserialize_with = "lenient::opt_object", alias = "transfered_by")]
    pub transferred_by: Option<User>,
    #[serde(default, deserialize_with = "lenient::opt_object", alias = "transfered_to")]
    pub transferred_to: Option<User>,
    #[serde(default)]
    pub external_transferred_to: Option<String>,
    #[serde(default, deserialize_with = "lenient::list")]
    pub comments: Vec<Comment>,
    #[serde(default, deserialize_with = "lenient::list")]
    pub tags: Vec<Tag>,
    #[serde(default, deserialize_with = "lenient::list", alias = "conference_participants")]
    pub participants: Vec<Participant>,
    #[serde(default, deserialize_with = "lenient::list")]
    pub ivr_options_selected: Vec<IvrOption>,
}

/// An MMS attachment.
#[derive(Debug, Clone, Deserialize)]
#[allow(missing_docs)]
pub struct MediaDetail {
    #[serde(default)]
    pub file_name: Option<String>,
    #[serde(default)]
    pub file_type: Option<String>,
    #[serde(default, alias = "url")]
    pub presigned_url: Option<String>,
}

/// An SMS / MMS / WhatsApp message.
#[derive(Debug, Clone, Deserialize)]
#[allow(missing_docs)]
pub struct Message {
    /// Required and non-empty: plugins key their records on it.
    #[serde(deserialize_with = "lenient::string_id")]
    pub id: String,
    #[serde(default)]
    pub direct_link: Option<String>,
    pub direction: Direction,
    #[serde(default)]
    pub external_number: Option<String>,
    #[serde(default)]
    pub raw_digits: Option<String>,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub channel: Option<String>,
    #[serde(default, deserialize_with = "lenient::list")]
    pub media_details: Vec<MediaDetail>,
    #[serde(default, deserialize_with = "lenient::list")]
    pub media_url: Vec<String>,
    #[serde(default, deserialize_with = "lenient::opt_ts")]
    pub created_at: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_ts")]
    pub sent_at: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_object")]
    pub number: Option<Number>,
    #[serde(default, deserialize_with = "lenient::opt_object")]
    pub contact: Option<Contact>,
    #[serde(default, deserialize_with = "lenient::opt_object")]
    pub user: Option<User>,
    #[serde(default, rename = "type")]
    pub message_type: Option<String>,
    #[serde(default)]
    pub template_content: Option<Value>,
    #[serde(default)]
    pub whatsapp_message_category: Option<String>,
    #[serde(default)]
    pub whatsapp_message_type: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub parent_id: Option<String>,
}

/// A group SMS.
#[derive(Debug, Clone, Deserialize)]
#[allow(missing_docs)]
pub struct GroupMessage {
    #[serde(default, deserialize_with = "lenient::opt_string", alias = "id")]
    pub group_message_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub group_conversation_id: Option<String>,
    pub direction: Direction,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default, deserialize_with = "lenient::list")]
    pub participants: Vec<String>,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default, deserialize_with = "lenient::list")]
    pub media_url: Vec<String>,
    #[serde(default, deserialize_with = "lenient::opt_ts")]
    pub created_at: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_object")]
    pub number: Option<Number>,
}

/// An AI Voice Agent session.
#[derive(Debug, Clone, Deserialize)]
#[allow(missing_docs)]
pub struct VoiceAgent {
    #[serde(default, deserialize_with = "lenient::opt_id")]
    pub call_id: Option<u64>,
    #[serde(default, deserialize_with = "lenient::opt_id")]
    pub id: Option<u64>,
    #[serde(default)]
    pub call_uuid: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub ai_voice_agent_id: Option<String>,
    #[serde(default)]
    pub ai_voice_agent_name: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub ai_voice_agent_session_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_id")]
    pub number_id: Option<u64>,
    #[serde(default)]
    pub external_caller_number: Option<String>,
    #[serde(default)]
    pub aircall_number: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_ts")]
    pub started_at: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_ts")]
    pub ended_at: Option<i64>,
    #[serde(default)]
    pub call_end_reason: Option<String>,
    #[serde(default)]
    pub escalation_reason: Option<String>,
    #[serde(default)]
    pub extracted_data: Option<Value>,
}

/// A conversation-intelligence object.
#[derive(Debug, Clone, Deserialize)]
#[allow(missing_docs)]
pub struct Intelligence {
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_id")]
    pub call_id: Option<u64>,
    #[serde(default)]
    pub call_uuid: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_id")]
    pub number_id: Option<u64>,
    #[serde(default, rename = "type")]
    pub call_type: Option<String>,
    #[serde(default)]
    pub content: Value,
    #[serde(default)]
    pub utterances: Option<Value>,
    #[serde(default)]
    pub ai_generated: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_ts")]
    pub created_at: Option<i64>,
    #[serde(default)]
    pub call: Option<Value>,
}

/// Kinds of call events, in the order of the contract's `call-event-kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum CallKind {
    Created,
    RingingOnAgent,
    AgentDeclined,
    Answered,
    Transferred,
    ExternalTransferred,
    UnsuccessfulTransfer,
    Hold,
    Unhold,
    IvrOptionSelected,
    Hungup,
    Ended,
    VoicemailLeft,
    CommAssetsGenerated,
    Assigned,
    Archived,
    Tagged,
    Untagged,
    Commented,
}

/// Kinds of message events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum MessageKind {
    Sent,
    Received,
    StatusUpdated,
}

/// Kinds of voice-agent events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum VoiceAgentKind {
    Started,
    Ended,
    Escalated,
    Summary,
}

/// Kinds of contact / number events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum ObjectKind {
    Created,
    Updated,
    Deleted,
    Opened,
    Closed,
}

/// Kinds of user events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum UserKind {
    Created,
    Deleted,
    Connected,
    Disconnected,
    Opened,
    Closed,
    WrapUpStarted,
    WrapUpEnded,
}

/// An event the host understands, with its parsed object.
#[derive(Debug, Clone)]
#[allow(missing_docs)]
pub enum ParsedEvent {
    Call(CallKind, Box<Call>),
    Message(MessageKind, Box<Message>),
    GroupMessage(MessageKind, Box<GroupMessage>),
    VoiceAgent(VoiceAgentKind, Box<VoiceAgent>),
    Intelligence(String, Box<Intelligence>),
    Contact(ObjectKind, Box<Contact>),
    User(UserKind, Box<User>),
    Number(ObjectKind, Box<Number>),
    IntegrationDeleted,
}

/// Why a known event's data could not be read.
#[derive(Debug, thiserror::Error)]
#[error("event {event}: {message}")]
pub struct DataError {
    /// The envelope's `event` whose `data` it is.
    pub event: String,
    /// What is wrong, starting with the field path: `data.id: missing`,
    /// `data.direction: unknown variant `sideways`, expected …`.
    pub message: String,
}

impl DataError {
    fn new(event: &str, message: String) -> DataError {
        DataError { event: event.to_string(), message }
    }
}

fn from<T: serde::de::DeserializeOwned>(event: &str, data: &Value) -> Result<Box<T>, DataError> {
    if !data.is_object() {
        return Err(DataError::new(event, format!("data: expected an object, got {data}")));
    }
    let de = serde_path_to_error::deserialize::<_, T>(data).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." { "data".to_string() } else { format!("data.{path}") };
        DataError::new(event, lenient::describe(&path, &e.into_inner().to_string()))
    })?;
    Ok(Box::new(de))
}

/// Checks `serde` cannot express: a message needs the customer's number, a
/// group message an id, a voice-agent session a call id (the ordering key and
/// the plugins' records use them).
fn checked(event: &str, parsed: ParsedEvent) -> Result<Option<ParsedEvent>, DataError> {
    let blank = |s: &Option<String>| s.as_deref().is_none_or(|s| s.trim().is_empty());
    match &parsed {
        ParsedEvent::Message(_, m) if blank(&m.external_number) && blank(&m.raw_digits) => {
            Err(DataError::new(event, "data.external_number: missing (neither `external_number` nor `raw_digits` is set)".into()))
        }
        ParsedEvent::GroupMessage(_, g) if blank(&g.group_message_id) => {
            Err(DataError::new(event, "data.group_message_id: missing (neither `group_message_id` nor `id` is set)".into()))
        }
        ParsedEvent::VoiceAgent(_, v) if v.call_id.or(v.id).is_none() => {
            Err(DataError::new(event, "data.call_id: missing (neither `call_id` nor `id` is set)".into()))
        }
        _ => Ok(Some(parsed)),
    }
}

const INTELLIGENCE_EVENTS: &[&str] = &[
    "transcription.created",
    "summary.created",
    "topics.created",
    "sentiment.created",
    "action_item.created",
    "playbook_result.created",
    "playbook_result.updated",
    "realtime_transcription.utterances_received",
    "custom_summary.result_created",
    "custom_summary.result_updated",
    "call_evaluation.created",
    "call_evaluation.updated",
];

impl ParsedEvent {
    /// Parse `data` for `event`. `Ok(None)`: an event the host does not know
    /// (stored and acknowledged, not dispatched).
    pub fn parse(event: &str, data: &Value) -> Result<Option<ParsedEvent>, DataError> {
        use CallKind as C;
        let call = |k| Ok(Some(ParsedEvent::Call(k, from(event, data)?)));
        let message = |k| checked(event, ParsedEvent::Message(k, from(event, data)?));
        let group = |k| checked(event, ParsedEvent::GroupMessage(k, from(event, data)?));
        let agent = |k| checked(event, ParsedEvent::VoiceAgent(k, from(event, data)?));
        let contact = |k| Ok(Some(ParsedEvent::Contact(k, from(event, data)?)));
        let number = |k| Ok(Some(ParsedEvent::Number(k, from(event, data)?)));
        let user = |k| Ok(Some(ParsedEvent::User(k, from(event, data)?)));
        match event {
            "call.created" => call(C::Created),
            "call.ringing_on_agent" => call(C::RingingOnAgent),
            "call.agent_declined" => call(C::AgentDeclined),
            "call.answered" => call(C::Answered),
            "call.transferred" => call(C::Transferred),
            "call.external_transferred" => call(C::ExternalTransferred),
            "call.unsuccessful_transfer" => call(C::UnsuccessfulTransfer),
            "call.hold" => call(C::Hold),
            "call.unhold" => call(C::Unhold),
            "call.ivr_option_selected" => call(C::IvrOptionSelected),
            "call.hungup" => call(C::Hungup),
            "call.ended" => call(C::Ended),
            "call.voicemail_left" => call(C::VoicemailLeft),
            "call.comm_assets_generated" => call(C::CommAssetsGenerated),
            "call.assigned" => call(C::Assigned),
            "call.archived" => call(C::Archived),
            "call.tagged" => call(C::Tagged),
            "call.untagged" => call(C::Untagged),
            "call.commented" => call(C::Commented),
            "message.sent" => message(MessageKind::Sent),
            "message.received" => message(MessageKind::Received),
            "message.status_updated" => message(MessageKind::StatusUpdated),
            "group_message.sent" => group(MessageKind::Sent),
            "group_message.received" => group(MessageKind::Received),
            "group_message.status_updated" => group(MessageKind::StatusUpdated),
            "ai_voice_agent.started" => agent(VoiceAgentKind::Started),
            "ai_voice_agent.ended" => agent(VoiceAgentKind::Ended),
            "ai_voice_agent.escalated" => agent(VoiceAgentKind::Escalated),
            "ai_voice_agent.summary" => agent(VoiceAgentKind::Summary),
            "contact.created" => contact(ObjectKind::Created),
            "contact.updated" => contact(ObjectKind::Updated),
            "contact.deleted" => contact(ObjectKind::Deleted),
            "number.created" => number(ObjectKind::Created),
            "number.deleted" => number(ObjectKind::Deleted),
            "number.opened" => number(ObjectKind::Opened),
            "number.closed" => number(ObjectKind::Closed),
            "integration.deleted" => Ok(Some(ParsedEvent::IntegrationDeleted)),
            e if INTELLIGENCE_EVENTS.contains(&e) => Ok(Some(ParsedEvent::Intelligence(e.to_string(), from(event, data)?))),
            e => match e.strip_suffix(".v2").unwrap_or(e) {
                "user.created" => user(UserKind::Created),
                "user.deleted" => user(UserKind::Deleted),
                "user.connected" => user(UserKind::Connected),
                "user.disconnected" => user(UserKind::Disconnected),
                "user.opened" => user(UserKind::Opened),
                "user.closed" => user(UserKind::Closed),
                "user.wut_start" => user(UserKind::WrapUpStarted),
                "user.wut_end" => user(UserKind::WrapUpEnded),
                _ => Ok(None),
            },
        }
    }

    /// The Aircall number the event happened on, for integration number filters.
    pub fn number(&self) -> Option<NumberKey<'_>> {
        let n = match self {
            ParsedEvent::Call(_, c) => c.number.as_ref(),
            ParsedEvent::Message(_, m) => m.number.as_ref(),
            ParsedEvent::GroupMessage(_, m) => m.number.as_ref(),
            ParsedEvent::Number(_, n) => Some(&**n),
            ParsedEvent::VoiceAgent(_, v) => {
                return v.number_id.map(|id| NumberKey { id: Some(id), digits: v.aircall_number.as_deref() });
            }
            ParsedEvent::Intelligence(_, i) => {
                return i.number_id.map(|id| NumberKey { id: Some(id), digits: None });
            }
            _ => None,
        }?;
        Some(NumberKey { id: Some(n.id), digits: n.e164_digits.as_deref().or(n.digits.as_deref()) })
    }

    /// Events with the same key run one at a time, in arrival order: the call id for
    /// call-related events; for messages the Aircall number and the external number.
    pub fn ordering_key(&self) -> String {
        match self {
            ParsedEvent::Call(_, c) => format!("call:{}", c.id),
            ParsedEvent::Message(_, m) => {
                let line = m.number.as_ref().map(|n| n.id.to_string()).unwrap_or_default();
                let ext = m.external_number.as_deref().or(m.raw_digits.as_deref()).unwrap_or("");
                let ext: String = ext.chars().filter(|c| c.is_ascii_digit()).collect();
                format!("msg:{line}:{ext}")
            }
            ParsedEvent::GroupMessage(_, m) => {
                format!("group:{}", m.group_conversation_id.as_deref().or(m.group_message_id.as_deref()).unwrap_or(""))
            }
            ParsedEvent::VoiceAgent(_, v) => format!("call:{}", v.call_id.or(v.id).unwrap_or(0)),
            ParsedEvent::Intelligence(_, i) => match i.call_id {
                Some(id) => format!("call:{id}"),
                None => format!("intel:{}", i.id.as_deref().unwrap_or("")),
            },
            ParsedEvent::Contact(_, c) => format!("contact:{}", c.id),
            ParsedEvent::User(_, u) => format!("user:{}", u.id),
            ParsedEvent::Number(_, n) => format!("number:{}", n.id),
            ParsedEvent::IntegrationDeleted => "integration".into(),
        }
    }
}

/// The Aircall number of an event, as id and digits.
#[derive(Debug, Clone, Copy)]
pub struct NumberKey<'a> {
    /// Aircall number id.
    pub id: Option<u64>,
    /// Its digits as sent.
    pub digits: Option<&'a str>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn call_with_absent_fields_string_ids_and_empty_objects_parses() {
        let data = json!({
            "id": "3141592653", "direction": "inbound", "status": "done",
            "started_at": 1732622896, "ended_at": "2024-11-26T12:09:40Z",
            "raw_digits": "+33 6 12 34 56 78",
            "tags": [{"id": 1, "name": "VIP", "tagged_by": {}, "tagged_at": 1732622999}],
            "comments": null,
            "number": {"id": 777, "digits": "+33 1 23 45 67 89", "country": "FR"},
            "transfered_to": {"id": 9, "name": "Bob"}
        });
        let Some(ParsedEvent::Call(CallKind::Ended, call)) = ParsedEvent::parse("call.ended", &data).unwrap() else {
            panic!("not a call.ended");
        };
        assert_eq!(call.id, 3141592653);
        assert_eq!(call.ended_at, Some(1732622980));
        assert!(call.tags[0].tagged_by.is_none());
        assert!(call.comments.is_empty());
        assert_eq!(call.transferred_to.as_ref().map(|u| u.id), Some(9));
        let parsed = ParsedEvent::Call(CallKind::Ended, call);
        assert_eq!(parsed.ordering_key(), "call:3141592653");
        assert_eq!(parsed.number().unwrap().id, Some(777));
    }

    #[test]
    fn unknown_event_is_none_and_bad_data_names_the_field() {
        assert!(ParsedEvent::parse("analytics.report_created", &json!({})).unwrap().is_none());
        let err = ParsedEvent::parse("call.created", &json!({"direction": "inbound"})).unwrap_err();
        assert!(err.to_string().contains("id"), "{err}");
    }

    #[test]
    fn message_ordering_key_pairs_line_and_external_number() {
        let data = json!({"id": 5, "direction": "inbound", "external_number": "+33 6 12 34 56 78", "number": {"id": 777}});
        let ev = ParsedEvent::parse("message.received", &data).unwrap().unwrap();
        assert_eq!(ev.ordering_key(), "msg:777:33612345678");
    }

    fn refusal(event: &str, data: Value) -> String {
        ParsedEvent::parse(event, &data).unwrap_err().to_string()
    }

    #[test]
    fn a_message_without_a_usable_id_is_refused_naming_data_id() {
        let base = json!({"direction": "inbound", "external_number": "+33612345678", "number": {"id": 777}});
        let m = refusal("message.received", base.clone());
        assert!(m.contains("data.id: missing"), "{m}");
        for bad in [json!(""), json!("  "), json!(null), json!({"id": 1}), json!(-3)] {
            let mut data = base.clone();
            data["id"] = bad.clone();
            let m = refusal("message.received", data);
            assert!(m.starts_with("event message.received: data.id: "), "{bad}: {m}");
        }
        let mut ok = base.clone();
        ok["id"] = json!(8123);
        let Some(ParsedEvent::Message(_, msg)) = ParsedEvent::parse("message.received", &ok).unwrap() else { panic!() };
        assert_eq!(msg.id, "8123");
    }

    #[test]
    fn a_call_id_missing_or_zero_is_refused_naming_data_id() {
        let m = refusal("call.created", json!({"direction": "inbound", "status": "initial"}));
        assert!(m.contains("data.id: missing"), "{m}");
        let m = refusal("call.created", json!({"id": 0, "direction": "inbound", "status": "initial"}));
        assert!(m.contains("data.id: expected an id, got 0"), "{m}");
        let m = refusal("call.created", json!({"id": "abc", "direction": "inbound", "status": "initial"}));
        assert!(m.contains("data.id: "), "{m}");
    }

    #[test]
    fn an_unknown_or_missing_direction_is_refused_naming_direction() {
        let m = refusal("call.created", json!({"id": 1, "direction": "internal", "status": "initial"}));
        assert!(m.contains("data.direction: unknown variant `internal`"), "{m}");
        let m = refusal("call.created", json!({"id": 1, "status": "initial"}));
        assert!(m.contains("data.direction: missing"), "{m}");
        let m = refusal("message.sent", json!({"id": "m1", "direction": "Outbound", "external_number": "+33612345678"}));
        assert!(m.contains("data.direction: "), "{m}");
        let m = refusal("group_message.sent", json!({"group_message_id": "g1", "direction": "sideways"}));
        assert!(m.contains("data.direction: "), "{m}");
        let ok = json!({"id": "m1", "direction": "outbound", "external_number": "+33612345678"});
        let Some(ParsedEvent::Message(_, msg)) = ParsedEvent::parse("message.sent", &ok).unwrap() else { panic!() };
        assert_eq!(msg.direction, Direction::Outbound);
    }

    #[test]
    fn an_unknown_call_status_is_refused_naming_status() {
        let m = refusal("call.created", json!({"id": 1, "direction": "inbound", "status": "ringing"}));
        assert!(m.contains("data.status: unknown variant `ringing`"), "{m}");
    }

    #[test]
    fn nested_objects_of_the_wrong_shape_are_errors_not_absent() {
        let call = |extra: Value| {
            let mut data = json!({"id": 1, "direction": "inbound", "status": "done"});
            for (k, v) in extra.as_object().unwrap() {
                data[k] = v.clone();
            }
            data
        };
        // `{}` is documented for `tagged_by`; a user without an id is not.
        assert!(ParsedEvent::parse("call.tagged", &call(json!({"tags": [{"id": 3, "tagged_by": {}}]}))).is_ok());
        let m = refusal("call.tagged", call(json!({"tags": [{"id": 3, "tagged_by": {"name": "Ada"}}]})));
        assert!(m.contains("data.tags[0].tagged_by") && m.contains("id: missing"), "{m}");
        let m = refusal("call.answered", call(json!({"user": 4242})));
        assert!(m.contains("data.user: expected an object"), "{m}");
        let m = refusal("call.ended", call(json!({"ended_at": "soon"})));
        assert!(m.contains("data.ended_at: "), "{m}");
    }

    #[test]
    fn messages_group_messages_and_sessions_need_their_keys() {
        let m = refusal("message.received", json!({"id": "m1", "direction": "inbound"}));
        assert!(m.contains("data.external_number: missing"), "{m}");
        let m = refusal("group_message.received", json!({"direction": "inbound", "participants": []}));
        assert!(m.contains("data.group_message_id: missing"), "{m}");
        let m = refusal("ai_voice_agent.started", json!({"ai_voice_agent_id": "a1"}));
        assert!(m.contains("data.call_id: missing"), "{m}");
        assert!(ParsedEvent::parse("ai_voice_agent.started", &json!({"id": 42})).is_ok());
    }

    /// The strict reading must accept what the simulator sends for every bundled
    /// scenario (the connectors' e2e suites play them through the webhook).
    #[test]
    fn every_simulated_webhook_parses_strictly() {
        let base = crate::simulate::World::bundled().unwrap();
        let mut parsed_kinds = std::collections::BTreeSet::new();
        for name in crate::simulate::bundled_names() {
            let scenario = crate::simulate::bundled(name, &base).unwrap();
            let world = scenario.world(&base);
            let mut timeline = crate::simulate::Timeline::new(&scenario, &world, 1_700_000_000, 1_000, 0).unwrap();
            for step in &scenario.step {
                let hook = timeline.apply(step).unwrap();
                let parsed = ParsedEvent::parse(&hook.event, &hook.data);
                assert!(parsed.is_ok(), "{name}: {}: {}", hook.event, parsed.unwrap_err());
                parsed_kinds.insert(hook.event.split('.').next().unwrap_or_default().to_string());
            }
        }
        for family in ["call", "message", "ai_voice_agent"] {
            assert!(parsed_kinds.contains(family), "no {family} event simulated: {parsed_kinds:?}");
        }
    }

    #[test]
    fn v2_user_events_map_to_kinds() {
        let ev = ParsedEvent::parse("user.wut_start.v2", &json!({"id": 3})).unwrap().unwrap();
        assert!(matches!(ev, ParsedEvent::User(UserKind::WrapUpStarted, _)));
    }
}
