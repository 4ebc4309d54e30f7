//! Call events, in the seed's order: the contact search when the call starts
//! (`call.created`), the first phone thread when it is answered, the wrap-up
//! after `call.ended` (Aircall sends it 30–60 s after hang-up, once the
//! recording is ready), and tags / comments / voicemails that come later.

use crate::api::conversations::{NewThread, ThreadKind};
use crate::api::{ApiError, Client};
use crate::call_text;
use crate::card;
use crate::conversation::{self, Entry, Place};
use crate::directory;
use crate::party::{self, Party, Resolved};
use crate::records::CallRecord;
use crate::rules::{self, Purpose, Search};
use crate::settings::Settings;
use switchboard_sdk::html::link;
use switchboard_sdk::json_patch::PatchOp;
use switchboard_sdk::{Call, CallEventKind, PluginError, log, storage};

/// Everything a call event handler needs.
pub struct CallJob<'a> {
    /// The Help Scout API client.
    pub client: &'a Client,
    pub settings: &'a Settings,
    /// The call snapshot.
    pub call: &'a Call,
    /// The customer's party.
    pub party: Party,
    /// The mailbox of the call's number.
    pub mailbox: u64,
    /// Event time (UNIX seconds; scenario time in simulations).
    pub now: i64,
}

/// Key of the customer used for calls without a number.
const ANONYMOUS_KEY: &str = "anonymous-customer";

impl CallJob<'_> {
    /// Handle one call event.
    pub fn handle(&self, kind: CallEventKind) -> Result<(), PluginError> {
        match kind {
            CallEventKind::Created => self.created(),
            CallEventKind::Answered => self.answered(),
            CallEventKind::Ended => self.ended(),
            CallEventKind::Tagged | CallEventKind::Untagged => self.retagged(),
            CallEventKind::Commented => self.commented(),
            CallEventKind::VoicemailLeft | CallEventKind::CommAssetsGenerated => self.assets(),
            _ => Ok(()),
        }
    }

    fn place(&self, customer: u64) -> Place {
        Place { mailbox: self.mailbox, customer, subject: call_text::subject(self.call, &self.party), purpose: Purpose::Call }
    }

    /// Seed: "Zu Beginn jedes … Anrufs sucht die Integration nach passenden
    /// Help Scout-Kunden" — search, apply the contact scenarios, show the card.
    fn created(&self) -> Result<(), PluginError> {
        let mut state = CallRecord::load(self.call.id)?;
        if state.customer.is_some() || state.skipped {
            return Ok(());
        }
        let Some(e164) = self.party.e164.clone() else {
            return Ok(());
        };
        match party::search(self.client, self.settings, &e164)? {
            Search::Found(customer) => {
                // A retry after a failure here replays the search from the
                // journal and comes back to this point; the state is saved last.
                if self.settings.create_aircall_contacts {
                    party::sync_to_aircall(&self.party, &customer)?;
                }
                if self.settings.insight_cards {
                    card::push(self.call.id, &customer)?;
                }
                state.customer = Some(customer.id);
                state.save(self.call.id)?;
            }
            Search::LogNothing => {
                log::with(
                    log::Level::Info,
                    "several Help Scout customers match; the matching rule says to log nothing",
                    &[("call", &self.call.id.to_string())],
                );
                state.skipped = true;
                state.save(self.call.id)?;
            }
            Search::None => {
                let contact = party::aircall_contact(&self.party)?;
                let fields = party::new_customer(&self.party, contact.as_ref(), self.now, "call");
                state.customer = Some(party::create_customer(self.client, self.settings, &self.party, &fields)?);
                state.save(self.call.id)?;
            }
        }
        Ok(())
    }

    /// The call's customer: known from `call.created`, else found or created now.
    fn customer(&self, state: &mut CallRecord) -> Result<Option<u64>, PluginError> {
        if let Some(c) = state.customer {
            return Ok(Some(c));
        }
        if self.party.e164.is_none() {
            return self.anonymous().map(Some);
        }
        match party::find_or_create(self.client, self.settings, &self.party, self.now, "call")? {
            Resolved::Customer(id, _) => {
                state.customer = Some(id);
                Ok(Some(id))
            }
            Resolved::LogNothing => {
                state.skipped = true;
                Ok(None)
            }
        }
    }

    /// One shared "Unknown Contact (Aircall)" customer for calls without a number.
    /// Withheld calls on different Aircall lines run in different host lanes, so
    /// two jobs may create it at once: the first to record its id wins, the
    /// other deletes its duplicate.
    fn anonymous(&self) -> Result<u64, PluginError> {
        if let Some(id) = storage::get::<u64>(ANONYMOUS_KEY)? {
            return Ok(id);
        }
        let fields = party::new_customer(&self.party, None, self.now, "call");
        let id = self.client.create_customer(&fields)?;
        if storage::claim(ANONYMOUS_KEY, &id, None)? {
            return Ok(id);
        }
        let Some(winner) = storage::get::<u64>(ANONYMOUS_KEY)? else {
            // The other job's record vanished in between; ours is as good.
            storage::set(ANONYMOUS_KEY, &id, None)?;
            return Ok(id);
        };
        match self.client.delete_customer(id) {
            Ok(()) | Err(ApiError::NotFound) => {}
            Err(e) => log::with(
                log::Level::Warn,
                "could not remove a duplicate unknown-contact customer",
                &[("customer", &id.to_string()), ("error", &format!("{e:?}"))],
            ),
        }
        Ok(winner)
    }

    /// Seed: "Ein erstes Protokoll wird als Telefon-Thread hinzugefügt, wenn der
    /// Anruf entgegengenommen wird" — with the basic information and the
    /// operational tags (call in progress, number, direction, team).
    fn answered(&self) -> Result<(), PluginError> {
        let mut state = CallRecord::load(self.call.id)?;
        if state.skipped || state.first_thread {
            return Ok(());
        }
        let Some(customer) = self.customer(&mut state)? else {
            return state.save(self.call.id);
        };
        let agent = directory::resolve(self.client, self.settings, self.call.user.as_ref())?;
        let entry = Entry {
            thread: NewThread {
                kind: ThreadKind::Phone,
                text: call_text::answered(self.call, &self.party),
                customer,
                user: agent.author,
                attachments: Vec::new(),
            },
            marker: call_text::marker(self.call.id, "answered"),
            tags: rules::tags_at_answer(self.call),
            assign: rules::assignee(self.settings.assign, agent.matched),
        };
        let conversation = match state.conversation {
            // The voice agent opened it already.
            Some(known) => {
                let written = conversation::append(self.client, known, &self.place(customer), &entry)?;
                conversation::update_tags(self.client, written, None, &entry.tags, &[])?;
                if let Some(user) = entry.assign {
                    self.client.patch_conversation(written, &PatchOp::replace("/assignTo", user))?;
                }
                written
            }
            None => conversation::log(self.client, self.settings, self.now, &self.place(customer), &entry)?,
        };
        state.conversation = Some(conversation);
        state.mailbox = Some(self.mailbox);
        state.first_thread = true;
        state.save(self.call.id)
    }

    /// Seed: "30 bis 60 Sekunden nach Ende des Anrufs wird ein weiterer Thread
    /// mit Abschlussdetails, Agentenkommentaren und Links zu Aufnahmen oder
    /// Voicemails hinzugefügt"; the agent's tags appear now; "call in
    /// progress" goes. A call nobody answered is logged here, in one thread.
    fn ended(&self) -> Result<(), PluginError> {
        let mut state = CallRecord::load(self.call.id)?;
        if state.skipped || state.wrap_up {
            return Ok(());
        }
        if rules::answer_not_logged(self.call.answered_at, state.first_thread) {
            // `call.answered` never came (lost, or the call was reconciled or
            // backfilled from Aircall's API): its thread first, then the wrap-up,
            // so an answered call is not logged as missed.
            self.answered()?;
            state = CallRecord::load(self.call.id)?;
        }
        let Some(customer) = self.customer(&mut state)? else {
            return state.save(self.call.id);
        };
        let agent = directory::resolve(self.client, self.settings, self.call.user.as_ref())?;
        let assign = rules::assignee(self.settings.assign, agent.matched);
        let end_tags = rules::tags_at_end(self.call, state.voice_agent);
        match state.conversation {
            Some(conversation) => {
                let entry = Entry {
                    thread: NewThread {
                        kind: ThreadKind::Note,
                        text: call_text::wrap_up(self.call, &self.party),
                        customer,
                        user: agent.author,
                        attachments: Vec::new(),
                    },
                    marker: call_text::marker(self.call.id, "wrap-up"),
                    tags: end_tags.clone(),
                    assign,
                };
                let written = conversation::append(self.client, conversation, &self.place(customer), &entry)?;
                conversation::update_tags(self.client, written, None, &end_tags, &[rules::IN_PROGRESS.to_string()])?;
                state.conversation = Some(written);
            }
            None => {
                let entry = Entry {
                    thread: NewThread {
                        kind: ThreadKind::Phone,
                        text: call_text::unanswered(self.call, &self.party),
                        customer,
                        user: agent.author,
                        attachments: Vec::new(),
                    },
                    marker: call_text::marker(self.call.id, "missed"),
                    tags: end_tags,
                    assign,
                };
                state.conversation = Some(conversation::log(self.client, self.settings, self.now, &self.place(customer), &entry)?);
                state.first_thread = true;
            }
        }
        state.mailbox = Some(self.mailbox);
        state.wrap_up = true;
        state.user_tags = rules::user_tags(self.call);
        state.voicemail_logged = self.call.voicemail.is_some();
        state.recording_logged = self.call.recording.is_some();
        state.save(self.call.id)
    }

    /// Seed: "Nach dem Anruf hinzugefügte Tags erscheinen einige Sekunden
    /// später" — during the call nothing happens (the wrap-up brings them).
    fn retagged(&self) -> Result<(), PluginError> {
        let mut state = CallRecord::load(self.call.id)?;
        let Some(conversation) = state.conversation.filter(|_| state.wrap_up && !state.skipped) else {
            return Ok(());
        };
        let now = rules::user_tags(self.call);
        let (add, remove) = rules::tag_diff(&state.user_tags, &now);
        if add.is_empty() && remove.is_empty() {
            return Ok(());
        }
        conversation::update_tags(self.client, conversation, None, &add, &remove)?;
        state.user_tags = now;
        state.save(self.call.id)
    }

    /// A note for something that arrived after the wrap-up.
    fn late_note(&self, state: &CallRecord, stage: &str, body: String, extra_tags: Vec<String>) -> Result<(), PluginError> {
        let (Some(conversation), Some(customer)) = (state.conversation, state.customer) else {
            return Ok(());
        };
        let agent = directory::resolve(self.client, self.settings, self.call.user.as_ref())?;
        let entry = Entry {
            thread: NewThread {
                kind: ThreadKind::Note,
                text: call_text::late(self.call.id, stage, &body),
                customer,
                user: agent.author,
                attachments: Vec::new(),
            },
            marker: call_text::marker(self.call.id, stage),
            tags: extra_tags.clone(),
            assign: None,
        };
        let written = conversation::append(self.client, conversation, &self.place(customer), &entry)?;
        if !extra_tags.is_empty() {
            conversation::update_tags(self.client, written, None, &extra_tags, &[])?;
        }
        Ok(())
    }

    /// Comments posted after the wrap-up become notes (earlier ones are in it).
    fn commented(&self) -> Result<(), PluginError> {
        let state = CallRecord::load(self.call.id)?;
        if !state.wrap_up || state.skipped {
            return Ok(());
        }
        let Some(c) = self.call.comments.iter().max_by_key(|c| (c.posted_at, c.id)) else {
            return Ok(());
        };
        let who = c.posted_by.as_ref().map(|u| format!("{}: ", switchboard_sdk::html::escape(&u.name))).unwrap_or_default();
        let body = format!("<b>Comment on the call</b><br>{who}{}", switchboard_sdk::html::paragraphs(&c.content));
        self.late_note(&state, &format!("comment {}", c.id), body, Vec::new())
    }

    /// A voicemail or recording that arrived after the wrap-up.
    fn assets(&self) -> Result<(), PluginError> {
        let mut state = CallRecord::load(self.call.id)?;
        if !state.wrap_up || state.skipped {
            return Ok(());
        }
        if let (false, Some(v)) = (state.voicemail_logged, self.call.voicemail.as_deref().filter(|v| !v.trim().is_empty())) {
            self.late_note(&state, "voicemail", format!("<b>Voicemail</b>: {}", link(v, "listen")), vec![rules::VOICEMAIL.to_string()])?;
            state.voicemail_logged = true;
            state.save(self.call.id)?;
        }
        if let (false, Some(r)) = (state.recording_logged, self.call.recording.as_deref().filter(|r| !r.trim().is_empty())) {
            self.late_note(&state, "recording", format!("<b>Recording</b>: {}", link(r, "listen")), Vec::new())?;
            state.recording_logged = true;
            state.save(self.call.id)?;
        }
        Ok(())
    }
}
