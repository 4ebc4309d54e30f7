//! Writing one call or SMS into a contact's conversation: first a message from
//! the contact (in their open conversation, or a new one), then internal notes,
//! then the assignment the rules chose (seed: "Bei jedem Anruf wird zunächst
//! eine Nachricht … erstellt. Anschließend werden interne Notizen hinterlassen").

use crate::api::model::Conversation;
use crate::api::{ApiError, Client};
use crate::party::{Caller, ContactRef, Match};
use crate::rules::Assign;
use switchboard_sdk::{PluginError, log};

/// Which conversation an entry goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The contact's most recent open conversation, else a new one.
    OpenOrNew,
    /// Always a new conversation.
    New,
}

/// One entry to log.
pub struct Entry<'a> {
    /// The contact's message (plain text).
    pub headline: String,
    /// Internal notes (HTML), in order.
    pub notes: Vec<String>,
    /// Who gets the conversation.
    pub assign: Assign,
    /// Where it goes.
    pub target: Target,
    /// Author of notes and assignments.
    pub setup_admin: &'a str,
}

/// The contact's most recent open conversation (snoozed counts as open), else
/// the most recent closed one.
pub fn latest(conversations: &[Conversation]) -> Option<&Conversation> {
    let newest =
        |open: bool| conversations.iter().filter(|c| c.is_open() == open).max_by_key(|c| (c.updated_at, c.id.parse::<u64>().unwrap_or(0)));
    newest(true).or_else(|| newest(false))
}

/// Writes `entry` for `contact`; answers the conversation id. When Intercom says
/// the (cached) contact no longer exists, the caller is looked up again once.
pub fn write(client: &Client, caller: &Caller, contact: &ContactRef, create: bool, entry: &Entry) -> Result<String, PluginError> {
    match write_for(client, contact, entry) {
        Err(ApiError::NotFound(why)) => {
            log::with(log::Level::Info, "cached Intercom contact is gone; looking it up again", &[("contact", &contact.id), ("why", &why)]);
            match crate::party::resolve_again(client, caller, create)? {
                Match::One(fresh) => write_for(client, &fresh, entry).map_err(PluginError::from),
                _ => Err(PluginError::Permanent(format!(
                    "Intercom contact {} vanished and no other matches {}",
                    contact.id,
                    caller.display()
                ))),
            }
        }
        other => other.map_err(PluginError::from),
    }
}

fn write_for(client: &Client, contact: &ContactRef, entry: &Entry) -> Result<String, ApiError> {
    let open = match entry.target {
        Target::New => None,
        Target::OpenOrNew => client.conversations_of(&contact.id)?.into_iter().filter(Conversation::is_open).max_by_key(|c| c.updated_at),
    };
    // Each write below may meet an answer an earlier attempt lost: it then
    // looks whether the write landed before making it again (`once`).
    let (id, mut assignee, existed) = match open {
        Some(c) => {
            let after = once(
                || client.reply_as_contact(&c.id, &contact.id, &entry.headline).map(|a| a.admin_assignee_id),
                || Ok(landed(&client.conversation_detail(&c.id)?, &entry.headline).then(|| None)),
            )?;
            (c.id, after, true)
        }
        None => {
            let id = once(
                || client.start_conversation(&contact.id, &contact.role, &entry.headline),
                || {
                    for c in client.conversations_of(&contact.id)?.iter().take(5) {
                        if has_text(&client.conversation_detail(&c.id)?.source.body, &entry.headline) {
                            return Ok(Some(c.id.clone()));
                        }
                    }
                    Ok(None)
                },
            )?;
            (id, None, false)
        }
    };
    for html in &entry.notes {
        // A note on a conversation we just found or made: a 404 here is not about the contact.
        let after = once(
            || client.add_note(&id, entry.setup_admin, html).map(|a| a.admin_assignee_id),
            || {
                let d = client.conversation_detail(&id)?;
                Ok(landed(&d, html).then_some(d.admin_assignee_id))
            },
        )
        .map_err(not_the_contact)?;
        assignee = after;
    }
    if let Assign::To(admin) = &entry.assign
        && assignee.as_deref() != Some(admin.as_str())
    {
        once(
            || client.assign(&id, entry.setup_admin, admin).map(|_| ()),
            || Ok((client.conversation_detail(&id)?.admin_assignee_id.as_deref() == Some(admin.as_str())).then_some(())),
        )
        .map_err(not_the_contact)?;
    }
    log::with(
        log::Level::Info,
        "logged to Intercom",
        &[("conversation", &id), ("contact", &contact.id), ("existing", if existed { "yes" } else { "no" }), ("headline", &entry.headline)],
    );
    Ok(id)
}

/// Rounds of write → lost answer → look-up before giving up for this attempt.
const ROUNDS: usize = 3;

/// Performs `write`; when an earlier attempt's answer to it was lost, `found`
/// says whether it landed (and what it gave) before it is written again.
/// The look-ups are new effects, so a crash during them is met the same way.
fn once<T>(mut write: impl FnMut() -> Result<T, ApiError>, mut found: impl FnMut() -> Result<Option<T>, ApiError>) -> Result<T, ApiError> {
    for _ in 0..ROUNDS {
        match write() {
            Err(ApiError::Ambiguous(_)) => {
                if let Some(v) = found()? {
                    return Ok(v);
                }
            }
            other => return other,
        }
    }
    Err(ApiError::Fatal(PluginError::Retryable("an Intercom write stayed ambiguous after repeated look-ups; trying again later".into())))
}

/// Whether a part of the conversation carries `text` (a reply or note body).
fn landed(detail: &crate::api::model::ConversationDetail, text: &str) -> bool {
    detail.conversation_parts.conversation_parts.iter().any(|p| has_text(&p.body, text))
}

/// Whether `body` (HTML as Intercom keeps it) holds `text`, tags aside.
fn has_text(body: &str, text: &str) -> bool {
    let strip = |s: &str| {
        let mut out = String::with_capacity(s.len());
        let mut in_tag = false;
        for ch in s.chars() {
            match ch {
                '<' => in_tag = true,
                '>' => in_tag = false,
                c if !in_tag => out.push(c),
                _ => {}
            }
        }
        out.split_whitespace().collect::<Vec<_>>().join(" ")
    };
    let want = strip(text);
    !want.is_empty() && strip(body).contains(&want)
}

/// A 404 after the conversation exists names the admin or the conversation, not the contact.
fn not_the_contact(e: ApiError) -> ApiError {
    match e {
        ApiError::NotFound(m) => ApiError::Fatal(PluginError::Permanent(format!("Intercom: {m} (check setup_admin_id)"))),
        other => other,
    }
}

/// Adds notes to a conversation already logged (comments, statuses, Switch, assignments).
pub fn add_notes(client: &Client, conversation_id: &str, setup_admin: &str, notes: &[String]) -> Result<(), PluginError> {
    for html in notes {
        client.add_note(conversation_id, setup_admin, html)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv(id: &str, state: &str, updated_at: i64) -> Conversation {
        Conversation { id: id.into(), state: state.into(), updated_at, admin_assignee_id: None }
    }

    #[test]
    fn a_body_holds_a_text_whatever_html_wraps_it() {
        assert!(has_text("<p>Call from <b>Chloé</b></p>", "Call from Chloé"));
        assert!(has_text("<p>Answered by Ada</p><p>Talk time: 1 min</p>", "<b>Answered</b> by Ada"));
        assert!(!has_text("<p>Call from Chloé</p>", "Call from Bob"));
        assert!(!has_text("<p>anything</p>", "<br>"), "an empty text matches nothing");
    }

    #[test]
    fn the_last_open_conversation_wins_over_a_newer_closed_one() {
        let all = [conv("1", "open", 10), conv("2", "closed", 50), conv("3", "snoozed", 20)];
        assert_eq!(latest(&all).map(|c| c.id.as_str()), Some("3"));
        let closed = [conv("1", "closed", 10), conv("2", "closed", 50)];
        assert_eq!(latest(&closed).map(|c| c.id.as_str()), Some("2"));
        assert!(latest(&[]).is_none());
    }
}
