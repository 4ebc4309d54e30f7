//! The v0.1.0 imports implemented on the one [`JobState`]: each call is
//! converted to the newest contract's types by [`crate::contract::compat_v0_1`],
//! handed to the same capability a v0.2.0 plugin reaches, and its answer
//! converted back.

use super::JobState;
use crate::contract::compat_v0_1::{answer, argument, capability_error, new, old};

impl old::types::Host for JobState {}
impl old::incoming::Host for JobState {}

impl old::http::Host for JobState {
    async fn send(&mut self, req: old::http::Request) -> Result<old::http::Response, old::types::CapabilityError> {
        use new::http::Method as N;
        use old::http::Method as O;
        let method = match req.method {
            O::Get => N::Get,
            O::Post => N::Post,
            O::Put => N::Put,
            O::Patch => N::Patch,
            O::Delete => N::Delete,
            O::Head => N::Head,
        };
        let req = new::http::Request {
            method,
            url: req.url,
            headers: req.headers,
            body: req.body,
            credential: req.credential,
            timeout_ms: req.timeout_ms,
        };
        match self.caps.http_send(req).await {
            Ok(r) => Ok(old::http::Response { status: r.status, headers: r.headers, body: r.body }),
            Err(e) => Err(capability_error(e)),
        }
    }
}

impl old::storage::Host for JobState {
    async fn get(&mut self, key: String) -> Result<Option<Vec<u8>>, old::types::CapabilityError> {
        self.caps.storage_get(key).await.map_err(capability_error)
    }
    async fn set(&mut self, key: String, value: Vec<u8>, ttl: Option<u32>) -> Result<(), old::types::CapabilityError> {
        self.caps.storage_set(key, value, ttl).await.map_err(capability_error)
    }
    async fn delete(&mut self, key: String) -> Result<(), old::types::CapabilityError> {
        self.caps.storage_delete(key).await.map_err(capability_error)
    }
    async fn compare_and_swap(
        &mut self,
        key: String,
        expected: Option<Vec<u8>>,
        new: Option<Vec<u8>>,
        ttl: Option<u32>,
    ) -> Result<bool, old::types::CapabilityError> {
        self.caps.storage_cas(key, expected, new, ttl).await.map_err(capability_error)
    }
}

impl old::telephony::Host for JobState {
    async fn push_insight_card(&mut self, call_id: u64, items: Vec<old::telephony::CardItem>) -> Result<(), old::types::CapabilityError> {
        let items = argument(&items, "card items")?;
        self.caps.telephony_push_card(call_id, items).await.map_err(capability_error)
    }
    async fn find_contacts_by_phone(&mut self, e164: String) -> Result<Vec<old::types::Contact>, old::types::CapabilityError> {
        answer(self.caps.telephony_find_contacts("phone_number", e164).await, "contacts")
    }
    async fn find_contacts_by_email(&mut self, email: String) -> Result<Vec<old::types::Contact>, old::types::CapabilityError> {
        answer(self.caps.telephony_find_contacts("email", email).await, "contacts")
    }
    async fn create_contact(&mut self, fields: old::telephony::ContactFields) -> Result<old::types::Contact, old::types::CapabilityError> {
        let fields = argument(&fields, "contact fields")?;
        answer(self.caps.telephony_save_contact(None, fields).await, "contact")
    }
    async fn update_contact(
        &mut self,
        id: u64,
        fields: old::telephony::ContactFields,
    ) -> Result<old::types::Contact, old::types::CapabilityError> {
        let fields = argument(&fields, "contact fields")?;
        answer(self.caps.telephony_save_contact(Some(id), fields).await, "contact")
    }
    async fn send_message(
        &mut self,
        number_id: u64,
        to: String,
        body: String,
        media_urls: Vec<String>,
    ) -> Result<old::telephony::SentMessage, old::types::CapabilityError> {
        let message = new::telephony::OutgoingMessage { number_id, to, body, media_urls, sender_user_id: None };
        answer(self.caps.telephony_send_message(message).await, "sent message")
    }
    async fn start_outbound_call(&mut self, user_id: u64, number_id: u64, to: String) -> Result<(), old::types::CapabilityError> {
        self.caps.telephony_start_call(user_id, number_id, to).await.map_err(capability_error)
    }
    async fn find_user_by_email(&mut self, email: String) -> Result<Option<old::types::User>, old::types::CapabilityError> {
        answer(self.caps.telephony_find_user(email).await, "user")
    }
    async fn user_availability(&mut self, user_id: u64) -> Result<String, old::types::CapabilityError> {
        self.caps.telephony_availability(user_id).await.map_err(capability_error)
    }
    async fn get_number(&mut self, number_id: u64) -> Result<old::types::Number, old::types::CapabilityError> {
        answer(self.caps.telephony_number(number_id).await, "number")
    }
    async fn number_users(&mut self, number_id: u64) -> Result<Vec<old::types::User>, old::types::CapabilityError> {
        answer(self.caps.telephony_number_users(number_id).await, "users")
    }
    async fn list_numbers(&mut self) -> Result<Vec<old::types::Number>, old::types::CapabilityError> {
        answer(self.caps.telephony_numbers().await, "numbers")
    }
}

impl old::phone::Host for JobState {
    async fn normalize(&mut self, raw: String, region: Option<String>) -> Result<old::phone::Normalized, String> {
        match crate::capabilities::phone::normalize(&raw, region.as_deref()) {
            Ok(new::phone::Normalized::Number(n)) => Ok(old::phone::Normalized::Number(n)),
            Ok(new::phone::Normalized::Anonymous) => Ok(old::phone::Normalized::Anonymous),
            Err(e) => Err(e.text),
        }
    }
    async fn variants(&mut self, e164: String) -> Result<Vec<String>, String> {
        crate::capabilities::phone::variants(&e164).map_err(|e| e.text)
    }
    async fn format(&mut self, e164: String, style: old::phone::Style) -> Result<String, String> {
        let style = match style {
            old::phone::Style::E164 => new::phone::Style::E164,
            old::phone::Style::International => new::phone::Style::International,
            old::phone::Style::National => new::phone::Style::National,
            old::phone::Style::Rfc3966 => new::phone::Style::Rfc3966,
        };
        crate::capabilities::phone::format(&e164, style).map_err(|e| e.text)
    }
    async fn region_of(&mut self, e164: String) -> Option<String> {
        crate::capabilities::phone::region_of(&e164)
    }
}

impl old::log::Host for JobState {
    async fn write(&mut self, level: old::log::Level, message: String, fields: Vec<(String, String)>) {
        let level = match level {
            old::log::Level::Trace => new::log::Level::Trace,
            old::log::Level::Debug => new::log::Level::Debug,
            old::log::Level::Info => new::log::Level::Info,
            old::log::Level::Warn => new::log::Level::Warn,
            old::log::Level::Error => new::log::Level::Error,
        };
        self.caps.log(level, message, fields);
    }
}

impl old::clock::Host for JobState {
    async fn now_ms(&mut self) -> i64 {
        self.caps.clock_now().await
    }
}
