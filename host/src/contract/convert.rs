//! From the host's parsed Aircall objects to the contract's records.
//!
//! The fields the contract requires and the plugins key on (ids, `direction`,
//! a call's `status`) are already checked by [`crate::aircall::model`]; here
//! they map one to one, so nothing is guessed.

use super::bindings::switchboard::plugin::types as wit;
use crate::aircall::model::{self as m, CallKind, MessageKind, ObjectKind, ParsedEvent, UserKind, VoiceAgentKind};

fn direction(d: m::Direction) -> wit::Direction {
    match d {
        m::Direction::Inbound => wit::Direction::Inbound,
        m::Direction::Outbound => wit::Direction::Outbound,
    }
}

/// An Aircall user record.
pub fn user(u: &m::User) -> wit::User {
    wit::User {
        id: u.id,
        name: u.name.clone().unwrap_or_default(),
        email: u.email.clone(),
        available: u.available,
        availability_status: u.availability_status.clone(),
        time_zone: u.time_zone.clone(),
        language: u.language.clone(),
        substatus: u.substatus.clone(),
    }
}

/// An Aircall number record.
pub fn number(n: &m::Number) -> wit::Number {
    wit::Number {
        id: n.id,
        name: n.name.clone().unwrap_or_default(),
        digits: n.digits.clone().or_else(|| n.e164_digits.clone()).unwrap_or_default(),
        e164: n.e164_digits.clone(),
        country: n.country.clone(),
        time_zone: n.time_zone.clone(),
        availability_status: n.availability_status.clone(),
        is_ivr: n.is_ivr,
    }
}

fn labeled(v: &[m::LabeledValue]) -> Vec<wit::LabeledValue> {
    v.iter().filter_map(|l| Some(wit::LabeledValue { label: l.label.clone(), value: l.value.clone()? })).collect()
}

/// An Aircall contact record.
pub fn contact(c: &m::Contact) -> wit::Contact {
    wit::Contact {
        id: c.id,
        first_name: c.first_name.clone(),
        last_name: c.last_name.clone(),
        company_name: c.company_name.clone(),
        description: c.description.clone(),
        information: c.information.clone(),
        phone_numbers: labeled(&c.phone_numbers),
        emails: labeled(&c.emails),
    }
}

/// An Aircall call record.
pub fn call(c: &m::Call) -> wit::Call {
    wit::Call {
        id: c.id,
        uuid: c.call_uuid.clone(),
        direct_link: c.direct_link.clone(),
        direction: direction(c.direction),
        status: match c.status {
            m::CallStatus::Initial => wit::CallStatus::Initial,
            m::CallStatus::Answered => wit::CallStatus::Answered,
            m::CallStatus::Done => wit::CallStatus::Done,
        },
        missed_call_reason: c.missed_call_reason.clone(),
        started_at: c.started_at,
        answered_at: c.answered_at,
        ended_at: c.ended_at,
        duration: c.duration.and_then(|d| u32::try_from(d).ok()),
        raw_digits: c.raw_digits.clone().unwrap_or_else(|| "anonymous".into()),
        voicemail: c.voicemail.clone(),
        recording: c.recording.clone(),
        asset: c.asset.clone(),
        archived: c.archived.unwrap_or(false),
        number: c.number.as_ref().map(number),
        user: c.user.as_ref().map(user),
        contact: c.contact.as_ref().map(contact),
        assigned_to: c.assigned_to.as_ref().map(user),
        teams: c.teams.iter().map(|t| wit::Team { id: t.id, name: t.name.clone().unwrap_or_default() }).collect(),
        transferred_by: c.transferred_by.as_ref().map(user),
        transferred_to: c.transferred_to.as_ref().map(user),
        external_transferred_to: c.external_transferred_to.clone(),
        comments: c
            .comments
            .iter()
            .map(|k| wit::Comment {
                id: k.id,
                content: k.content.clone().unwrap_or_default(),
                posted_at: k.posted_at,
                posted_by: k.posted_by.as_ref().map(user),
            })
            .collect(),
        tags: c
            .tags
            .iter()
            .map(|t| wit::Tag {
                id: t.id,
                name: t.name.clone().unwrap_or_default(),
                color: t.color.clone(),
                tagged_at: t.tagged_at,
                tagged_by: t.tagged_by.as_ref().map(user),
            })
            .collect(),
        participants: c
            .participants
            .iter()
            .map(|p| wit::Participant {
                kind: p.kind.clone().unwrap_or_else(|| "external".into()),
                id: p.id.clone(),
                name: p.name.clone(),
                phone_number: p.phone_number.clone(),
            })
            .collect(),
        ivr_options: c
            .ivr_options_selected
            .iter()
            .map(|o| wit::IvrOption {
                id: o.id.clone(),
                title: o.title.clone(),
                key: o.key.clone(),
                branch: o.branch.clone(),
                created_at: o.created_at,
            })
            .collect(),
    }
}

fn message(msg: &m::Message) -> wit::Message {
    let whatsapp = msg.channel.as_deref() == Some("whatsapp");
    let mut media: Vec<wit::Media> = msg
        .media_details
        .iter()
        .filter_map(|d| Some(wit::Media { file_name: d.file_name.clone(), file_type: d.file_type.clone(), url: d.presigned_url.clone()? }))
        .collect();
    // A file listed in both `media_details` and `media_url` is one file.
    for u in &msg.media_url {
        if !media.iter().any(|m| &m.url == u) {
            media.push(wit::Media { file_name: None, file_type: None, url: u.clone() });
        }
    }
    wit::Message {
        id: msg.id.clone(),
        direct_link: msg.direct_link.clone(),
        direction: direction(msg.direction),
        // One of them is set: `ParsedEvent::parse` refuses the message otherwise.
        external_number: msg.external_number.clone().or_else(|| msg.raw_digits.clone()).unwrap_or_default(),
        body: msg.body.clone().unwrap_or_default(),
        status: msg.status.clone(),
        channel: if whatsapp { wit::Channel::Whatsapp } else { wit::Channel::Sms },
        media,
        created_at: msg.created_at,
        sent_at: msg.sent_at,
        number: msg.number.as_ref().map(number),
        contact: msg.contact.as_ref().map(contact),
        user: msg.user.as_ref().map(user),
        whatsapp: whatsapp.then(|| wit::WhatsappDetails {
            message_type: msg.message_type.clone(),
            template_content: msg.template_content.as_ref().map(|v| match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            }),
            category: msg.whatsapp_message_category.clone(),
            pricing_type: msg.whatsapp_message_type.clone(),
            parent_id: msg.parent_id.clone(),
        }),
    }
}

fn message_kind(k: MessageKind) -> wit::MessageEventKind {
    match k {
        MessageKind::Sent => wit::MessageEventKind::Sent,
        MessageKind::Received => wit::MessageEventKind::Received,
        MessageKind::StatusUpdated => wit::MessageEventKind::StatusUpdated,
    }
}

fn call_kind(k: CallKind) -> wit::CallEventKind {
    use wit::CallEventKind as W;
    match k {
        CallKind::Created => W::Created,
        CallKind::RingingOnAgent => W::RingingOnAgent,
        CallKind::AgentDeclined => W::AgentDeclined,
        CallKind::Answered => W::Answered,
        CallKind::Transferred => W::Transferred,
        CallKind::ExternalTransferred => W::ExternalTransferred,
        CallKind::UnsuccessfulTransfer => W::UnsuccessfulTransfer,
        CallKind::Hold => W::Hold,
        CallKind::Unhold => W::Unhold,
        CallKind::IvrOptionSelected => W::IvrOptionSelected,
        CallKind::Hungup => W::Hungup,
        CallKind::Ended => W::Ended,
        CallKind::VoicemailLeft => W::VoicemailLeft,
        CallKind::CommAssetsGenerated => W::CommAssetsGenerated,
        CallKind::Assigned => W::Assigned,
        CallKind::Archived => W::Archived,
        CallKind::Tagged => W::Tagged,
        CallKind::Untagged => W::Untagged,
        CallKind::Commented => W::Commented,
    }
}

/// The contract's `event` for a parsed event.
pub fn event(ev: &ParsedEvent) -> wit::Event {
    match ev {
        ParsedEvent::Call(k, c) => wit::Event::Call(wit::CallEvent { kind: call_kind(*k), call: call(c) }),
        ParsedEvent::Message(k, msg) => wit::Event::Message(wit::MessageEvent { kind: message_kind(*k), message: message(msg) }),
        ParsedEvent::GroupMessage(k, g) => wit::Event::GroupMessage(wit::GroupMessageEvent {
            kind: message_kind(*k),
            message: wit::GroupMessage {
                // Present and non-empty: `ParsedEvent::parse` refuses it otherwise.
                id: g.group_message_id.clone().unwrap_or_default(),
                conversation_id: g.group_conversation_id.clone(),
                direction: direction(g.direction),
                status: g.status.clone(),
                participants: g.participants.clone(),
                body: g.body.clone().unwrap_or_default(),
                media_urls: g.media_url.clone(),
                created_at: g.created_at,
                number: g.number.as_ref().map(number),
            },
        }),
        ParsedEvent::VoiceAgent(k, v) => wit::Event::VoiceAgent(wit::VoiceAgentEvent {
            kind: match k {
                VoiceAgentKind::Started => wit::VoiceAgentEventKind::Started,
                VoiceAgentKind::Ended => wit::VoiceAgentEventKind::Ended,
                VoiceAgentKind::Escalated => wit::VoiceAgentEventKind::Escalated,
                VoiceAgentKind::Summary => wit::VoiceAgentEventKind::Summary,
            },
            session: wit::VoiceAgentSession {
                // One of them is set: `ParsedEvent::parse` refuses the session otherwise.
                call_id: v.call_id.or(v.id).unwrap_or_default(),
                call_uuid: v.call_uuid.clone(),
                agent_id: v.ai_voice_agent_id.clone(),
                agent_name: v.ai_voice_agent_name.clone(),
                session_id: v.ai_voice_agent_session_id.clone(),
                number_id: v.number_id,
                external_caller_number: v.external_caller_number.clone(),
                aircall_number: v.aircall_number.clone(),
                started_at: v.started_at,
                ended_at: v.ended_at,
                end_reason: v.call_end_reason.clone(),
                escalation_reason: v.escalation_reason.clone(),
                extracted_data_json: v.extracted_data.as_ref().map(|d| d.to_string()),
            },
        }),
        ParsedEvent::Intelligence(kind, i) => wit::Event::Intelligence(wit::Intelligence {
            kind: kind.clone(),
            id: i.id.clone(),
            call_id: i.call_id.or_else(|| i.call.as_ref().and_then(|c| c.get("id")).and_then(|v| v.as_u64())),
            call_uuid: i.call_uuid.clone(),
            number_id: i.number_id,
            call_type: i.call_type.clone(),
            content_json: if i.content.is_null() {
                i.utterances.as_ref().map(|u| u.to_string()).unwrap_or_else(|| "null".into())
            } else {
                i.content.to_string()
            },
            ai_generated: i.ai_generated,
            created_at: i.created_at,
        }),
        ParsedEvent::Contact(k, c) => wit::Event::Contact(wit::ContactEvent {
            kind: match k {
                ObjectKind::Created => wit::ContactEventKind::Created,
                ObjectKind::Deleted => wit::ContactEventKind::Deleted,
                _ => wit::ContactEventKind::Updated,
            },
            contact: contact(c),
        }),
        ParsedEvent::User(k, u) => wit::Event::User(wit::UserEvent {
            kind: match k {
                UserKind::Created => wit::UserEventKind::Created,
                UserKind::Deleted => wit::UserEventKind::Deleted,
                UserKind::Connected => wit::UserEventKind::Connected,
                UserKind::Disconnected => wit::UserEventKind::Disconnected,
                UserKind::Opened => wit::UserEventKind::Opened,
                UserKind::Closed => wit::UserEventKind::Closed,
                UserKind::WrapUpStarted => wit::UserEventKind::WrapUpStarted,
                UserKind::WrapUpEnded => wit::UserEventKind::WrapUpEnded,
            },
            user: user(u),
        }),
        ParsedEvent::Number(k, n) => wit::Event::Number(wit::NumberEvent {
            kind: match k {
                ObjectKind::Created => wit::NumberEventKind::Created,
                ObjectKind::Deleted => wit::NumberEventKind::Deleted,
                ObjectKind::Opened => wit::NumberEventKind::Opened,
                _ => wit::NumberEventKind::Closed,
            },
            number: number(n),
        }),
        ParsedEvent::IntegrationDeleted => wit::Event::IntegrationDeleted,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn converted(event: &str, data: serde_json::Value) -> wit::Event {
        event_of(&ParsedEvent::parse(event, &data).unwrap().unwrap())
    }

    fn event_of(ev: &ParsedEvent) -> wit::Event {
        super::event(ev)
    }

    #[test]
    fn direction_status_and_message_id_map_one_to_one() {
        let wit::Event::Message(wit::MessageEvent { message: m, .. }) =
            converted("message.sent", json!({"id": 91, "direction": "outbound", "external_number": "+33612345678"}))
        else {
            panic!("not a message");
        };
        assert_eq!((m.id.as_str(), m.direction), ("91", wit::Direction::Outbound));
        let wit::Event::Call(wit::CallEvent { call: c, .. }) =
            converted("call.ended", json!({"id": 7, "direction": "outbound", "status": "done"}))
        else {
            panic!("not a call");
        };
        assert_eq!((c.direction, c.status), (wit::Direction::Outbound, wit::CallStatus::Done));
    }
}
