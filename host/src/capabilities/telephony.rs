//! `telephony`: the Aircall side, journaled like every other effect.

use super::JobCaps;
use super::journal::{self, Done, Effect};
use crate::aircall::client::{AircallClient, AircallError, CardLine, InsightCard};
use crate::contract::bindings::CapabilityError;
use crate::contract::bindings::switchboard::plugin::telephony::{CardItem, ContactFields, OutgoingMessage, SentMessage};
use crate::contract::bindings::switchboard::plugin::types::{Call, Contact, Direction, Number, User};
use crate::contract::convert;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::future::Future;
use std::sync::Arc;

/// Aircall's failures in the contract's terms: a missing API key is a
/// refusal (`denied`), 401/403 `unauthorized`, 404 `not-found`, 400/422
/// `invalid`, 429 `rate-limited`, the rest `unavailable`.
impl From<AircallError> for CapabilityError {
    fn from(e: AircallError) -> CapabilityError {
        let message = e.to_string();
        match e {
            AircallError::NoCredentials(_) => CapabilityError::Denied(message),
            AircallError::Unauthorized { .. } => CapabilityError::Unauthorized(message),
            AircallError::NotFound { .. } => CapabilityError::NotFound(message),
            AircallError::Rejected { .. } => CapabilityError::Invalid(message),
            AircallError::RateLimited(ms) => CapabilityError::RateLimited(ms),
            AircallError::Unavailable(m) => CapabilityError::Unavailable(m),
        }
    }
}

/// A card line as Aircall takes it.
fn card_line(item: &CardItem) -> CardLine {
    match item {
        CardItem::Title(t) => CardLine::Title { text: t.text.clone(), link: t.link.clone() },
        CardItem::ShortText(s) => CardLine::ShortText { label: s.label.clone(), text: s.text.clone(), link: s.link.clone() },
    }
}

/// Whether an outcome is final (recorded and replayed on retries).
fn is_final<T>(r: &Result<T, CapabilityError>) -> bool {
    matches!(r, Ok(_) | Err(CapabilityError::NotFound(_)) | Err(CapabilityError::Invalid(_)))
}

impl JobCaps {
    async fn telephony<T, F, Fut>(&mut self, op: &str, fp: Vec<u8>, write: bool, f: F) -> Result<T, CapabilityError>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce(Arc<AircallClient>) -> Fut,
        Fut: Future<Output = Result<T, CapabilityError>>,
    {
        let client = self.integration.aircall.clone();
        let wait = self.deadline.saturating_duration_since(std::time::Instant::now()).saturating_sub(std::time::Duration::from_secs(1));
        let perform = async move {
            let result = crate::aircall::client::MAX_BUDGET_WAIT.scope(wait, f(client)).await;
            match result {
                r if is_final(&r) => Done::Final(r),
                // Sent, answer lost (or a 5xx after the write may have landed).
                Err(e @ CapabilityError::Unavailable(_)) => Done::Lost(Err(e)),
                r => Done::NotDone(r),
            }
        };
        match self.journal.effect(&fp, write, perform).await {
            Effect::Final(r) | Effect::NotFinal(r) => r,
            Effect::Ambiguous => {
                Err(CapabilityError::Ambiguous(format!("{op} was sent by an earlier attempt and its answer was not recorded")))
            }
            Effect::IntentFailed(e) => Err(CapabilityError::Unavailable(e)),
        }
    }

    /// `telephony.push-insight-card`
    pub async fn telephony_push_card(&mut self, call_id: u64, items: Vec<CardItem>) -> Result<(), CapabilityError> {
        if items.is_empty() {
            return Err(CapabilityError::Invalid("an insight card needs at least one item".into()));
        }
        let card = InsightCard { contents: items.iter().map(card_line).collect() };
        // Safe to repeat: the same card pushed twice shows the same thing, so no
        // intent is recorded and a push whose answer was lost (or a crash during
        // it) is pushed again, never reported ambiguous (which would stop the job).
        let pushed = self
            .telephony("tel.card", journal::fingerprint("tel.card", &(call_id, &items)), false, |c| async move {
                Ok(c.push_insight_card(call_id, &card).await?)
            })
            .await;
        match pushed {
            // A card only matters while the phone rings: when Aircall's budget has
            // no room now, it is dropped (counted and logged) and the job goes on,
            // rather than waiting or rescheduling the whole job for a stale card.
            Err(CapabilityError::RateLimited(ms)) => {
                self.shared.metrics.card_dropped(&self.integration.id);
                tracing::warn!(integration = %self.integration.id, call = call_id, retry_after_ms = ms, "insight card dropped: Aircall's budget is spent");
                Ok(())
            }
            other => other,
        }
    }

    /// `telephony.find-contacts-by-*`
    pub async fn telephony_find_contacts(&mut self, field: &'static str, value: String) -> Result<Vec<Contact>, CapabilityError> {
        self.telephony("tel.find_contacts", journal::fingerprint("tel.find_contacts", &(field, &value)), false, |c| async move {
            Ok(c.search_contacts(field, &value).await?.iter().map(convert::contact).collect())
        })
        .await
    }

    /// `telephony.create-contact` / `update-contact`
    pub async fn telephony_save_contact(&mut self, id: Option<u64>, fields: ContactFields) -> Result<Contact, CapabilityError> {
        if id.is_none() && fields.phone_numbers.is_empty() {
            return Err(CapabilityError::Invalid("Aircall contacts need at least one phone number".into()));
        }
        let labeled = |v: &[crate::contract::bindings::switchboard::plugin::types::LabeledValue]| {
            v.iter().map(|l| json!({ "label": l.label.clone().unwrap_or_else(|| "Work".into()), "value": l.value })).collect::<Vec<_>>()
        };
        let mut body = json!({
            "first_name": fields.first_name, "last_name": fields.last_name,
            "company_name": fields.company_name, "information": fields.information,
        });
        if id.is_none() || !fields.phone_numbers.is_empty() {
            body["phone_numbers"] = json!(labeled(&fields.phone_numbers));
        }
        if id.is_none() || !fields.emails.is_empty() {
            body["emails"] = json!(labeled(&fields.emails));
        }
        if let Some(o) = body.as_object_mut() {
            o.retain(|_, v| !v.is_null());
        }
        self.telephony("tel.save_contact", journal::fingerprint("tel.save_contact", &(id, &fields)), true, |c| async move {
            Ok(convert::contact(&c.save_contact(id, body).await?))
        })
        .await
    }

    /// `telephony.send-message`
    pub async fn telephony_send_message(&mut self, message: OutgoingMessage) -> Result<SentMessage, CapabilityError> {
        if message.body.chars().count() > 1600 {
            return Err(CapabilityError::Invalid("an SMS body is at most 1600 characters".into()));
        }
        let fp = journal::fingerprint("tel.send_message", &message);
        self.telephony("tel.send_message", fp, true, |c| async move {
            let OutgoingMessage { number_id, to, body, media_urls, sender_user_id } = message;
            let v = c.send_message(number_id, &to, &body, &media_urls, sender_user_id).await?;
            let id = match v.get("id") {
                Some(Value::String(s)) if !s.is_empty() => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                _ => {
                    return Err(CapabilityError::Unavailable(format!("aircall accepted the message but its answer has no `id`: {v}")));
                }
            };
            Ok(SentMessage { id, status: v.get("status").and_then(Value::as_str).map(str::to_string), direction: Direction::Outbound })
        })
        .await
    }

    /// `telephony.get-call`: the call as the REST API has it (journaled, so a
    /// retried job decides on the same answer).
    pub async fn telephony_get_call(&mut self, call_id: u64, timeline: bool) -> Result<Call, CapabilityError> {
        self.telephony("tel.get_call", journal::fingerprint("tel.get_call", &(call_id, timeline)), false, |c| async move {
            Ok(convert::call(&c.get_call(call_id, timeline).await?))
        })
        .await
    }

    /// `telephony.start-outbound-call`
    pub async fn telephony_start_call(&mut self, user_id: u64, number_id: u64, to: String) -> Result<(), CapabilityError> {
        self.telephony("tel.start_call", journal::fingerprint("tel.start_call", &(user_id, number_id, &to)), true, |c| async move {
            Ok(c.start_call(user_id, number_id, &to).await?)
        })
        .await
    }

    /// `telephony.find-user-by-email`
    pub async fn telephony_find_user(&mut self, email: String) -> Result<Option<User>, CapabilityError> {
        self.telephony("tel.find_user", journal::fingerprint("tel.find_user", &email), false, |c| async move {
            let wanted = email.trim().to_lowercase();
            Ok(c.users()
                .await?
                .iter()
                .find(|u| u.email.as_deref().map(|e| e.trim().to_lowercase()) == Some(wanted.clone()))
                .map(convert::user))
        })
        .await
    }

    /// `telephony.user-availability`
    pub async fn telephony_availability(&mut self, user_id: u64) -> Result<String, CapabilityError> {
        self.telephony("tel.availability", journal::fingerprint("tel.availability", &user_id), false, |c| async move {
            Ok(c.availability(user_id).await?)
        })
        .await
    }

    /// `telephony.get-number`
    pub async fn telephony_number(&mut self, number_id: u64) -> Result<Number, CapabilityError> {
        self.telephony("tel.number", journal::fingerprint("tel.number", &number_id), false, |c| async move {
            Ok(convert::number(&c.number(number_id).await?.0))
        })
        .await
    }

    /// `telephony.number-users`
    pub async fn telephony_number_users(&mut self, number_id: u64) -> Result<Vec<User>, CapabilityError> {
        self.telephony("tel.number_users", journal::fingerprint("tel.number_users", &number_id), false, |c| async move {
            Ok(c.number(number_id).await?.1.iter().map(convert::user).collect())
        })
        .await
    }

    /// `telephony.list-numbers`
    pub async fn telephony_numbers(&mut self) -> Result<Vec<Number>, CapabilityError> {
        self.telephony("tel.numbers", journal::fingerprint("tel.numbers", &()), false, |c| async move {
            Ok(c.numbers().await?.iter().map(convert::number).collect())
        })
        .await
    }
}
