//! What a plugin instance's store holds, and the contract's imports implemented
//! by handing each call to the job's capabilities.

use super::limits::Limiter;
use crate::capabilities::JobCaps;
use crate::contract::bindings::switchboard::plugin::{clock, crypto, http, incoming, log, phone, storage, telephony, types};
use types::{Call, CapabilityError, Contact, Number, User};
use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// Bytes of guest stderr kept (panic messages end up here).
const STDERR_CAPACITY: usize = 4096;

/// Per-instance state: WASI (no files, no network, no environment), the memory
/// limiter and the job's capabilities.
pub struct JobState {
    wasi: WasiCtx,
    table: ResourceTable,
    stderr: MemoryOutputPipe,
    /// Memory cap.
    pub limiter: Limiter,
    /// The job's capabilities.
    pub caps: JobCaps,
}

impl JobState {
    /// Fresh state for one job.
    pub fn new(caps: JobCaps, max_memory_bytes: usize) -> JobState {
        let stderr = MemoryOutputPipe::new(STDERR_CAPACITY);
        let wasi = WasiCtx::builder().stderr(stderr.clone()).build();
        JobState { wasi, table: ResourceTable::new(), stderr, limiter: Limiter::new(max_memory_bytes), caps }
    }

    /// What the guest wrote to stderr (a Rust panic message, typically).
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr.contents()).into_owned()
    }
}

impl WasiView for JobState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl types::Host for JobState {}
impl incoming::Host for JobState {}

impl http::Host for JobState {
    async fn send(&mut self, req: http::Request) -> Result<http::Response, CapabilityError> {
        self.caps.http_send(req).await
    }
}

impl storage::Host for JobState {
    async fn get(&mut self, key: String) -> Result<Option<Vec<u8>>, CapabilityError> {
        self.caps.storage_get(key).await
    }
    async fn set(&mut self, key: String, value: Vec<u8>, ttl: Option<u32>) -> Result<(), CapabilityError> {
        self.caps.storage_set(key, value, ttl).await
    }
    async fn delete(&mut self, key: String) -> Result<(), CapabilityError> {
        self.caps.storage_delete(key).await
    }
    async fn compare_and_swap(
        &mut self,
        key: String,
        expected: Option<Vec<u8>>,
        new: Option<Vec<u8>>,
        ttl: Option<u32>,
    ) -> Result<bool, CapabilityError> {
        self.caps.storage_cas(key, expected, new, ttl).await
    }
}

impl telephony::Host for JobState {
    async fn push_insight_card(&mut self, call_id: u64, items: Vec<telephony::CardItem>) -> Result<(), CapabilityError> {
        self.caps.telephony_push_card(call_id, items).await
    }
    async fn find_contacts_by_phone(&mut self, e164: String) -> Result<Vec<Contact>, CapabilityError> {
        self.caps.telephony_find_contacts("phone_number", e164).await
    }
    async fn find_contacts_by_email(&mut self, email: String) -> Result<Vec<Contact>, CapabilityError> {
        self.caps.telephony_find_contacts("email", email).await
    }
    async fn create_contact(&mut self, fields: telephony::ContactFields) -> Result<Contact, CapabilityError> {
        self.caps.telephony_save_contact(None, fields).await
    }
    async fn update_contact(&mut self, id: u64, fields: telephony::ContactFields) -> Result<Contact, CapabilityError> {
        self.caps.telephony_save_contact(Some(id), fields).await
    }
    async fn send_message(&mut self, message: telephony::OutgoingMessage) -> Result<telephony::SentMessage, CapabilityError> {
        self.caps.telephony_send_message(message).await
    }
    async fn get_call(&mut self, call_id: u64, timeline: bool) -> Result<Call, CapabilityError> {
        self.caps.telephony_get_call(call_id, timeline).await
    }
    async fn start_outbound_call(&mut self, user_id: u64, number_id: u64, to: String) -> Result<(), CapabilityError> {
        self.caps.telephony_start_call(user_id, number_id, to).await
    }
    async fn find_user_by_email(&mut self, email: String) -> Result<Option<User>, CapabilityError> {
        self.caps.telephony_find_user(email).await
    }
    async fn user_availability(&mut self, user_id: u64) -> Result<String, CapabilityError> {
        self.caps.telephony_availability(user_id).await
    }
    async fn get_number(&mut self, number_id: u64) -> Result<Number, CapabilityError> {
        self.caps.telephony_number(number_id).await
    }
    async fn number_users(&mut self, number_id: u64) -> Result<Vec<User>, CapabilityError> {
        self.caps.telephony_number_users(number_id).await
    }
    async fn list_numbers(&mut self) -> Result<Vec<Number>, CapabilityError> {
        self.caps.telephony_numbers().await
    }
}

impl phone::Host for JobState {
    async fn normalize(&mut self, raw: String, region: Option<String>) -> Result<phone::Normalized, phone::PhoneError> {
        crate::capabilities::phone::normalize(&raw, region.as_deref())
    }
    async fn variants(&mut self, e164: String) -> Result<Vec<String>, phone::PhoneError> {
        crate::capabilities::phone::variants(&e164)
    }
    async fn format(&mut self, e164: String, style: phone::Style) -> Result<String, phone::PhoneError> {
        crate::capabilities::phone::format(&e164, style)
    }
    async fn region_of(&mut self, e164: String) -> Option<String> {
        crate::capabilities::phone::region_of(&e164)
    }
}

impl log::Host for JobState {
    async fn write(&mut self, level: log::Level, message: String, fields: Vec<(String, String)>) {
        self.caps.log(level, message, fields);
    }
}

impl clock::Host for JobState {
    async fn now_ms(&mut self) -> i64 {
        self.caps.clock_now().await
    }
}

impl crypto::Host for JobState {
    async fn hmac_sha256(&mut self, secret_name: String, data: Vec<u8>) -> Result<Vec<u8>, CapabilityError> {
        self.caps.crypto_hmac_sha256(&secret_name, &data)
    }
    async fn verify_hmac_sha256(&mut self, secret_name: String, data: Vec<u8>, signature: Vec<u8>) -> Result<bool, CapabilityError> {
        self.caps.crypto_verify_hmac_sha256(&secret_name, &data, &signature)
    }
}
