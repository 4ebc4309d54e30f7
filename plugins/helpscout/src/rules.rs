//! The seed's decisions (seed `001`, Aircall ↔ Help Scout v3), as plain
//! functions worded like the seed: which customer, which conversation, who
//! threads are written as and who the conversation goes to, which tags, which
//! AI notes. No I/O here: the event modules read Help Scout and call these.

use crate::api::conversations::Conversation;
use crate::api::customers::Customer;
use crate::settings::{MatchingRule, Settings};
use switchboard_sdk::tag_set::TagSet;
use switchboard_sdk::{Call, Direction, User};

// --- Contacts ("Kontakt-Suche bei jedem Anruf", "Szenarien zur Kontaktübereinstimmung")

/// Name of customers created for unknown callers (seed: "Unbekannter Kontakt (Aircall)").
pub const UNKNOWN_NAME: &str = "Unknown Contact (Aircall)";

/// The outcome of the customer search.
#[derive(Debug, Clone)]
pub enum Search {
    /// One customer (after the matching rule).
    Found(Box<Customer>),
    /// Nobody.
    None,
    /// Several, and the rule says to log nothing.
    LogNothing,
}

/// "Wenn mehrere Kunden mit derselben Nummer gefunden werden" — apply the
/// matching rule: the most recently updated, the oldest (created first), or
/// log nothing.
pub fn pick(mut found: Vec<Customer>, rule: MatchingRule) -> Search {
    match (found.len(), rule) {
        (0, _) => Search::None,
        (1, _) => found.pop().map_or(Search::None, |c| Search::Found(Box::new(c))),
        (_, MatchingRule::LogNothing) => Search::LogNothing,
        (_, MatchingRule::MostRecent) => {
            found.into_iter().max_by_key(|c| (c.updated(), c.id)).map_or(Search::None, |c| Search::Found(Box::new(c)))
        }
        (_, MatchingRule::Oldest) => {
            found.into_iter().min_by_key(|c| (c.created(), c.id)).map_or(Search::None, |c| Search::Found(Box::new(c)))
        }
    }
}

// --- Conversations ("Wie Anrufe protokolliert werden", "Protokollierungslogik")

/// What is being logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A call (phone conversation).
    Call,
    /// An SMS / WhatsApp message.
    Message,
}

/// Open conversations: active or pending.
fn is_open(c: &Conversation) -> bool {
    matches!(c.status.as_str(), "active" | "pending")
}

/// Whether to look for an existing conversation at all: calls only when
/// "search existing conversations" is on and "always log in a new
/// conversation" is off; messages always ("nie in eine neue Konversation gezwungen").
pub fn searches_conversations(settings: &Settings, purpose: Purpose) -> bool {
    match purpose {
        Purpose::Call => settings.search_existing && !settings.always_new,
        Purpose::Message => true,
    }
}

/// Choose among the customer's conversations (list order does not matter).
///
/// Calls: open ones (active, pending) and, when configured, ones closed within
/// the window (48 h by default); never spam; the most recent. Messages: the
/// most recent open conversation, else — when configured — the most recent
/// closed one (it is reopened).
pub fn choose_conversation<'a>(list: &'a [Conversation], settings: &Settings, purpose: Purpose, now: i64) -> Option<&'a Conversation> {
    let candidates = list.iter().filter(|c| c.status != "spam");
    match purpose {
        Purpose::Call => candidates
            .filter(|c| {
                is_open(c)
                    || (settings.include_closed
                        && c.status == "closed"
                        && c.closed().unwrap_or_else(|| c.updated()) >= now - settings.closed_window_secs)
            })
            .max_by_key(|c| (c.updated(), c.id)),
        Purpose::Message => {
            let open = list.iter().filter(|c| is_open(c)).max_by_key(|c| (c.updated(), c.id));
            open.or_else(|| {
                settings
                    .reopen_for_messages
                    .then(|| candidates.filter(|c| c.status == "closed").max_by_key(|c| (c.updated(), c.id)))
                    .flatten()
            })
        }
    }
}

/// The type of a new conversation: `phone` for calls; [U] Help Scout has no
/// SMS conversation type, `chat` is the closest.
pub fn new_conversation_type(purpose: Purpose) -> &'static str {
    match purpose {
        Purpose::Call => "phone",
        Purpose::Message => "chat",
    }
}

/// A closed conversation that takes a thread is reopened.
pub fn reopens(c: &Conversation) -> bool {
    c.status == "closed"
}

// --- Attribution and assignment ("Gesprächs- und Thread-Zuweisung")

/// The Aircall user's e-mail to look the Help Scout user up by (absent on
/// unanswered calls; a value without `@` is no e-mail).
pub fn agent_email(user: Option<&User>) -> Option<&str> {
    user.and_then(|u| u.email.as_deref()).map(str::trim).filter(|e| e.contains('@'))
}

/// Who the conversation is assigned to: the Help Scout user with the agent's
/// e-mail when assignment is on (`assign_conversations` for calls,
/// `update_assignee_for_messages` for messages); otherwise nobody (unassigned,
/// or left as it is).
pub fn assignee(enabled: bool, matched: Option<u64>) -> Option<u64> {
    if enabled { matched } else { None }
}

// --- Tags ("Tagging")

/// The call was missed by an agent or a queue.
pub const MISSED: &str = "missed call";
/// The customer asked to be called back.
pub const CALLBACK: &str = "callback";
/// The customer left a voicemail.
pub const VOICEMAIL: &str = "voicemail";
/// The call is running.
pub const IN_PROGRESS: &str = "call in progress";
/// Inbound call or message.
pub const INBOUND: &str = "inbound";
/// Outbound call or message.
pub const OUTBOUND: &str = "outbound";
/// Calls an AI voice agent handled.
pub const VOICE_AGENT: &str = "Voice Virtual Agent";

/// `inbound` / `outbound`.
pub fn direction_tag(d: Direction) -> &'static str {
    match d {
        Direction::Inbound => INBOUND,
        Direction::Outbound => OUTBOUND,
    }
}

/// The tags that describe a call whatever its state: number name, direction, teams.
fn describing(call: &Call) -> Vec<String> {
    let mut t = Vec::new();
    if let Some(n) = call.number.as_ref().map(|n| n.name.trim()).filter(|n| !n.is_empty()) {
        t.push(n.to_string());
    }
    t.push(direction_tag(call.direction).to_string());
    t.extend(call.teams.iter().map(|team| team.name.trim().to_string()).filter(|n| !n.is_empty()));
    t
}

/// Whether the customer asked for a callback. [U] Aircall's webhook has no
/// callback field: an IVR choice whose title or branch says "callback" (or
/// "call back", "rappel") counts.
pub fn callback_requested(call: &Call) -> bool {
    call.ivr_options.iter().any(|o| {
        [o.title.as_deref(), o.branch.as_deref(), o.key.as_deref()].into_iter().flatten().any(|s| {
            let s = s.to_lowercase();
            s.contains("callback") || s.contains("call back") || s.contains("call-back") || s.contains("rappel")
        })
    })
}

/// Whether an inbound call was missed (nobody answered).
pub fn missed(call: &Call) -> bool {
    call.direction == Direction::Inbound && (call.answered_at.is_none() || call.missed_call_reason.is_some())
}

/// Tags of the first thread (the call is running): "call in progress" and the describing ones.
pub fn tags_at_answer(call: &Call) -> Vec<String> {
    let mut t = vec![IN_PROGRESS.to_string()];
    t.extend(describing(call));
    t
}

/// The agent's Aircall tags on the call.
pub fn user_tags(call: &Call) -> Vec<String> {
    TagSet::from_names(call.tags.iter().map(|t| t.name.as_str())).names().to_vec()
}

/// Tags once the call is over: the describing ones, missed / voicemail /
/// callback when they apply, and the agent's tags ("Während des Anrufs
/// hinzugefügte Tags erscheinen am Ende des Anrufs"). A call the voice agent
/// answered is not a missed call.
pub fn tags_at_end(call: &Call, handled_by_voice_agent: bool) -> Vec<String> {
    let mut t = describing(call);
    if missed(call) {
        t.push(MISSED.into());
    }
    if call.voicemail.as_deref().is_some_and(|v| !v.trim().is_empty()) {
        t.push(VOICEMAIL.into());
    }
    if callback_requested(call) {
        t.push(CALLBACK.into());
    }
    t.extend(user_tags(call));
    if handled_by_voice_agent {
        t.retain(|tag| tag != MISSED);
    }
    t
}

/// "Nach dem Anruf hinzugefügte Tags erscheinen einige Sekunden später":
/// what changes between the tags synced so far and the call's tags now
/// (added, removed; case-insensitive).
pub fn tag_diff(synced: &[String], now: &[String]) -> (Vec<String>, Vec<String>) {
    let (old, new) = (TagSet::from_names(synced), TagSet::from_names(now));
    let add = new.names().iter().filter(|n| !old.contains(n)).cloned().collect();
    let remove = old.names().iter().filter(|n| !new.contains(n)).cloned().collect();
    (add, remove)
}

// --- Conversation intelligence ("KI-Einblicke", "Transkriptionen")

/// The note title for an AI result kind, when the settings want it: the
/// transcription with `transcriptions`, summary / topics / sentiment / action
/// items with `ai_insights`; other kinds are not logged.
pub fn ai_note_title(settings: &Settings, kind: &str) -> Option<&'static str> {
    let insight = |t| settings.ai_insights.then_some(t);
    match kind {
        "transcription.created" => settings.transcriptions.then_some("Call transcription"),
        "summary.created" | "custom_summary.result_created" => insight("AI summary"),
        "topics.created" => insight("AI topics"),
        "sentiment.created" => insight("AI sentiment"),
        "action_item.created" => insight("AI action items"),
        _ => None,
    }
}

/// Whether `call.ended` finds an answered call whose answer was never logged
/// (its `call.answered` was lost, or the call came from reconciliation or
/// backfill): then the "answered" thread is written first, so the call is not
/// shown as missed.
pub fn answer_not_logged(answered_at: Option<i64>, first_thread_written: bool) -> bool {
    answered_at.is_some() && !first_thread_written
}

#[cfg(test)]
mod tests {

    #[test]
    fn an_answered_call_whose_answer_was_not_logged_gets_its_answered_thread_at_the_end() {
        assert!(answer_not_logged(Some(1_700_000_005), false));
        assert!(!answer_not_logged(Some(1_700_000_005), true), "already written at call.answered");
        assert!(!answer_not_logged(None, false), "nobody answered: the missed-call thread");
    }

    use super::*;

    fn customer(id: u64, created: &str, updated: &str) -> Customer {
        serde_json::from_value(serde_json::json!({ "id": id, "createdAt": created, "updatedAt": updated })).unwrap_or_default()
    }

    fn conv(id: u64, status: &str, updated: &str, closed: Option<&str>) -> Conversation {
        serde_json::from_value(serde_json::json!({ "id": id, "status": status, "userUpdatedAt": updated, "closedAt": closed }))
            .unwrap_or_default()
    }

    fn call(direction: Direction) -> Call {
        Call {
            id: 1,
            uuid: None,
            direct_link: None,
            direction,
            status: switchboard_sdk::CallStatus::Done,
            missed_call_reason: None,
            started_at: Some(0),
            answered_at: None,
            ended_at: Some(60),
            duration: Some(60),
            raw_digits: "+33612345678".into(),
            voicemail: None,
            recording: None,
            asset: None,
            archived: false,
            number: None,
            user: None,
            contact: None,
            assigned_to: None,
            teams: Vec::new(),
            transferred_by: None,
            transferred_to: None,
            external_transferred_to: None,
            comments: Vec::new(),
            tags: Vec::new(),
            participants: Vec::new(),
            ivr_options: Vec::new(),
        }
    }

    fn user(email: &str) -> User {
        User {
            id: 1,
            name: "Ada".into(),
            email: Some(email.into()),
            available: None,
            availability_status: None,
            time_zone: None,
            language: None,
            substatus: None,
        }
    }

    #[test]
    fn several_customers_follow_the_matching_rule() {
        let list = || {
            vec![customer(1, "2024-01-01T00:00:00Z", "2024-06-01T00:00:00Z"), customer(2, "2024-02-01T00:00:00Z", "2024-03-01T00:00:00Z")]
        };
        assert!(matches!(pick(list(), MatchingRule::MostRecent), Search::Found(c) if c.id == 1));
        assert!(matches!(pick(list(), MatchingRule::Oldest), Search::Found(c) if c.id == 1));
        let list2 =
            vec![customer(1, "2024-03-01T00:00:00Z", "2024-03-01T00:00:00Z"), customer(2, "2024-02-01T00:00:00Z", "2024-09-01T00:00:00Z")];
        assert!(matches!(pick(list2.clone(), MatchingRule::MostRecent), Search::Found(c) if c.id == 2));
        assert!(matches!(pick(list2.clone(), MatchingRule::Oldest), Search::Found(c) if c.id == 2));
        assert!(matches!(pick(list2, MatchingRule::LogNothing), Search::LogNothing));
        assert!(matches!(pick(vec![], MatchingRule::LogNothing), Search::None));
        assert!(
            matches!(pick(vec![customer(7, "", "")], MatchingRule::LogNothing), Search::Found(c) if c.id == 7),
            "one match is one match"
        );
    }

    #[test]
    fn calls_go_into_the_most_recent_open_conversation_skipping_spam() {
        let now = 1_800_000_000;
        let list = vec![
            conv(1, "active", "2027-01-01T00:00:00Z", None),
            conv(2, "pending", "2027-01-10T00:00:00Z", None),
            conv(3, "spam", "2027-01-12T00:00:00Z", None),
            conv(4, "closed", "2027-01-14T00:00:00Z", Some("2027-01-14T00:00:00Z")),
        ];
        assert_eq!(choose_conversation(&list, &Settings::defaults(), Purpose::Call, now).map(|c| c.id), Some(2));
    }

    #[test]
    fn a_conversation_closed_within_the_window_is_taken_when_configured() {
        let now = 1_800_000_000; // 2027-01-15T08:00:00Z
        let recent = switchboard_sdk::datetime::iso8601(now - 3600);
        let old = switchboard_sdk::datetime::iso8601(now - 72 * 3600);
        let list = vec![conv(1, "closed", &recent, Some(&recent)), conv(2, "closed", &old, Some(&old))];
        let mut s = Settings::defaults();
        assert!(choose_conversation(&list, &s, Purpose::Call, now).is_none());
        s.include_closed = true;
        assert_eq!(choose_conversation(&list, &s, Purpose::Call, now).map(|c| c.id), Some(1));
        assert!(reopens(&list[0]));
        s.closed_window_secs = 1800;
        assert!(choose_conversation(&list, &s, Purpose::Call, now).is_none());
    }

    #[test]
    fn messages_reopen_the_most_recent_closed_conversation_only_when_configured() {
        let now = 1_800_000_000;
        let old = switchboard_sdk::datetime::iso8601(now - 30 * 86_400);
        let list = vec![conv(1, "closed", &old, Some(&old)), conv(2, "spam", &old, None)];
        let mut s = Settings::defaults();
        assert!(choose_conversation(&list, &s, Purpose::Message, now).is_none());
        s.reopen_for_messages = true;
        assert_eq!(choose_conversation(&list, &s, Purpose::Message, now).map(|c| c.id), Some(1), "no window for messages");
        let open = vec![conv(1, "closed", &old, Some(&old)), conv(3, "active", &old, None)];
        assert_eq!(choose_conversation(&open, &s, Purpose::Message, now).map(|c| c.id), Some(3), "an open one first");
    }

    #[test]
    fn always_new_conversation_skips_the_search_for_calls_but_never_for_messages() {
        let mut s = Settings::defaults();
        assert!(searches_conversations(&s, Purpose::Call));
        s.always_new = true;
        assert!(!searches_conversations(&s, Purpose::Call));
        assert!(searches_conversations(&s, Purpose::Message));
        s.always_new = false;
        s.search_existing = false;
        assert!(!searches_conversations(&s, Purpose::Call));
        assert_eq!((new_conversation_type(Purpose::Call), new_conversation_type(Purpose::Message)), ("phone", "chat"));
    }

    #[test]
    fn conversations_are_assigned_to_the_matching_user_only_when_enabled() {
        assert_eq!(assignee(true, Some(5)), Some(5));
        assert_eq!(assignee(false, Some(5)), None);
        assert_eq!(assignee(true, None), None, "no Help Scout user with the e-mail: unassigned");
        assert_eq!(agent_email(Some(&user(" ada@example.com "))), Some("ada@example.com"));
        assert_eq!(agent_email(Some(&user("ada"))), None);
        assert_eq!(agent_email(None), None, "an unanswered call has no agent");
    }

    #[test]
    fn the_call_in_progress_tag_is_there_while_the_call_runs_and_goes_at_the_end() {
        let mut c = call(Direction::Inbound);
        c.answered_at = Some(10);
        c.number = Some(switchboard_sdk::Number {
            id: 2001,
            name: "Support FR".into(),
            digits: "+33 1 00 00 00 00".into(),
            e164: None,
            country: None,
            time_zone: None,
            availability_status: None,
            is_ivr: None,
        });
        c.teams = vec![switchboard_sdk::Team { id: 1, name: "Tier 1".into() }];
        c.tags = vec![switchboard_sdk::Tag { id: 1, name: "vip".into(), color: None, tagged_at: None, tagged_by: None }];
        assert_eq!(tags_at_answer(&c), vec!["call in progress", "Support FR", "inbound", "Tier 1"]);
        assert_eq!(tags_at_end(&c, false), vec!["Support FR", "inbound", "Tier 1", "vip"]);
    }

    #[test]
    fn missed_voicemail_and_callback_are_tagged_at_the_end() {
        let mut c = call(Direction::Inbound);
        c.voicemail = Some("https://example.com/v.mp3".into());
        c.ivr_options = vec![switchboard_sdk::IvrOption {
            id: None,
            title: Some("Call back later".into()),
            key: Some("2".into()),
            branch: None,
            created_at: None,
        }];
        assert!(missed(&c) && callback_requested(&c));
        assert_eq!(tags_at_end(&c, false), vec!["inbound", MISSED, VOICEMAIL, CALLBACK]);
        assert_eq!(tags_at_end(&c, true), vec!["inbound", VOICEMAIL, CALLBACK], "the voice agent answered it: not missed");
        let outbound = call(Direction::Outbound);
        assert!(!missed(&outbound));
        assert_eq!(tags_at_end(&outbound, false), vec![OUTBOUND]);
    }

    #[test]
    fn tags_added_or_removed_after_the_call_are_a_diff() {
        let (a, r) = tag_diff(&["vip".into(), "sales".into()], &["VIP".into(), "refund".into()]);
        assert_eq!(a, vec!["refund".to_string()]);
        assert_eq!(r, vec!["sales".to_string()]);
    }

    #[test]
    fn ai_notes_follow_the_insights_and_transcription_settings() {
        let mut s = Settings::defaults();
        assert_eq!(ai_note_title(&s, "summary.created"), Some("AI summary"));
        assert_eq!(ai_note_title(&s, "transcription.created"), None, "transcriptions are off by default");
        s.transcriptions = true;
        s.ai_insights = false;
        assert_eq!(ai_note_title(&s, "transcription.created"), Some("Call transcription"));
        assert_eq!(ai_note_title(&s, "topics.created"), None);
        assert_eq!(ai_note_title(&s, "something.else"), None);
    }
}
