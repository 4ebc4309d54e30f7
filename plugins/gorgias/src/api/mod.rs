//! The Gorgias REST API (shared/reference/gorgias-hubspot-api.md §1): the
//! requests this connector makes and the JSON it reads back. Every response is
//! treated as hostile: fields are optional, unknown shapes are errors, never panics.

use serde::Deserialize;
use serde_json::{Value, json};
use switchboard_sdk::http::{self, RequestBuilder, Response};
use switchboard_sdk::query::encode as enc;
use switchboard_sdk::{CapabilityError, PluginError, log};

/// The secret that holds `email:api_key` (HTTP Basic, attached by the host).
const CREDENTIAL: &str = "api";

/// A Gorgias account.
pub struct Api {
    /// `https://{account}.gorgias.com`.
    web: String,
}

/// A customer as the connector needs it.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(default)]
pub struct Customer {
    /// Gorgias's customer `id`: what a ticket's `customer` and a message's
    /// `sender` or `receiver` name.
    pub id: u64,
    /// Full name.
    pub name: Option<String>,
    /// First name.
    pub firstname: Option<String>,
    /// Last name.
    pub lastname: Option<String>,
    /// Primary e-mail.
    pub email: Option<String>,
    /// The agents' notes about the customer.
    pub note: Option<String>,
}

impl Customer {
    /// The name to show: name, else first + last name, else the e-mail.
    pub fn display_name(&self) -> Option<String> {
        let non_empty = |s: &Option<String>| s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
        non_empty(&self.name)
            .or_else(|| {
                let full = [non_empty(&self.firstname), non_empty(&self.lastname)].into_iter().flatten().collect::<Vec<_>>().join(" ");
                (!full.is_empty()).then_some(full)
            })
            .or_else(|| non_empty(&self.email))
    }
}

/// A role object (`{"name": "admin"}`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Role {
    /// Slug; only `admin` is confirmed (§1.6).
    pub name: Option<String>,
}

/// A user (agent).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct User {
    /// Gorgias's user `id`: who a note or message is written as.
    pub id: u64,
    /// Gorgias's user `email`: an Aircall user is matched to it, ignoring case
    /// and surrounding spaces.
    pub email: Option<String>,
    /// Active (deactivated users are skipped).
    pub active: Option<bool>,
    /// Gorgias's `role`; `admin` makes the user a fallback author.
    pub role: Option<Role>,
}

/// A ticket, as far as the connector reads it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Ticket {
    /// Gorgias's ticket `id`.
    pub id: u64,
    /// `open` / `closed`.
    pub status: Option<String>,
    /// Marked as spam.
    pub spam: Option<bool>,
    /// When it was closed.
    pub closed_datetime: Option<String>,
    /// Set when it is in the trash (deleted).
    pub trashed_datetime: Option<String>,
    /// Our handle.
    pub external_id: Option<String>,
}

/// An uploaded file, to reference in a message's `attachments` (§1.8).
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(default)]
pub struct File {
    /// Where Gorgias keeps it.
    pub url: String,
    /// Label.
    pub name: String,
    /// Bytes.
    pub size: u64,
    /// MIME type.
    pub content_type: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Meta {
    next_cursor: Option<String>,
}

#[derive(Deserialize)]
struct List<T> {
    data: Vec<T>,
    #[serde(default)]
    meta: Option<Meta>,
}

/// Send and map error statuses (429 → rate-limited with `Retry-after`, 401/403 →
/// unauthorised, 5xx → retryable, other 4xx → permanent).
fn send(req: RequestBuilder) -> Result<Response, PluginError> {
    req.send()?.error_for_status()
}

impl Api {
    /// The account at `web` (`https://{account}.gorgias.com`).
    pub fn new(web: &str) -> Api {
        Api { web: web.trim_end_matches('/').to_string() }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/api{path}", self.web)
    }

    fn get(&self, path: &str) -> RequestBuilder {
        http::get(&self.url(path)).credential(CREDENTIAL).header("accept", "application/json")
    }

    fn write(&self, method: fn(&str) -> RequestBuilder, path: &str, body: &Value) -> Result<RequestBuilder, PluginError> {
        method(&self.url(path)).credential(CREDENTIAL).header("accept", "application/json").json(body)
    }

    /// The customer's profile page (third-party pattern, §1.5).
    pub fn customer_link(&self, id: u64) -> String {
        format!("{}/app/customer/{id}", self.web)
    }

    /// The ticket's page (third-party pattern, §1.7).
    pub fn ticket_link(&self, id: u64) -> String {
        format!("{}/app/ticket/{id}", self.web)
    }

    /// Customers with this phone number: `POST /api/search {type: customers_by_phone}` (§1.5).
    /// [U] the result layout is unpublished: `{"data": [...]}` of customers, or of
    /// channel records that carry a `customer`, are both read.
    pub fn customers_by_phone(&self, e164: &str) -> Result<Vec<Customer>, PluginError> {
        let body = json!({ "type": "customers_by_phone", "query": e164, "size": 10 });
        // A search changes nothing: an answer lost by an earlier attempt is asked for again.
        let resp = self.write(http::post, "/search", &body)?.send_repeatable()?.error_for_status()?;
        let list: List<Value> = resp.json()?;
        Ok(list
            .data
            .into_iter()
            .filter_map(|item| {
                let c = item.get("customer").filter(|c| c.is_object()).cloned().unwrap_or(item);
                serde_json::from_value::<Customer>(c).ok()
            })
            .filter(|c| c.id != 0)
            .collect())
    }

    /// The customer with this primary e-mail, if any (`GET /api/customers?email=`).
    pub fn customer_by_email(&self, email: &str) -> Result<Option<Customer>, PluginError> {
        let list: List<Customer> = send(self.get(&format!("/customers?email={}&limit=1", enc(email))))?.json()?;
        Ok(list.data.into_iter().find(|c| c.id != 0))
    }

    /// `POST /api/customers`. A 409 (e-mail in use) comes back as `Ok(None)`.
    pub fn create_customer(&self, body: &Value) -> Result<Option<Customer>, PluginError> {
        let resp = match self.write(http::post, "/customers", body)?.send() {
            Ok(r) => r,
            // Sent by an earlier attempt whose answer was lost: the caller looks it up.
            Err(CapabilityError::Ambiguous(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        if resp.status() == 409 {
            return Ok(None);
        }
        let c: Customer = resp.error_for_status()?.json()?;
        if c.id == 0 {
            return Err(PluginError::retryable("Gorgias created a customer without an id"));
        }
        Ok(Some(c))
    }

    /// Every user (`GET /api/users`, following cursors; at most 20 pages of 100).
    pub fn users(&self) -> Result<Vec<User>, PluginError> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..20 {
            let path = match &cursor {
                Some(c) => format!("/users?limit=100&cursor={}", enc(c)),
                None => "/users?limit=100".to_string(),
            };
            let page: List<User> = send(self.get(&path))?.json()?;
            out.extend(page.data.into_iter().filter(|u| u.id != 0));
            cursor = page.meta.and_then(|m| m.next_cursor).filter(|c| !c.is_empty());
            if cursor.is_none() {
                break;
            }
        }
        Ok(out)
    }

    /// Tickets with this `external_id`, newest first (`GET /api/tickets?external_id=`).
    pub fn tickets_by_external_id(&self, external_id: &str) -> Result<Vec<Ticket>, PluginError> {
        let path = format!("/tickets?external_id={}&order_by=created_datetime:desc&limit=30", enc(external_id));
        let list: List<Ticket> = send(self.get(&path))?.json()?;
        Ok(list.data.into_iter().filter(|t| t.id != 0).collect())
    }

    /// `POST /api/tickets`; `body.external_id` must be set: after an ambiguous
    /// attempt the ticket is looked up by it before creating it again.
    pub fn create_ticket(&self, body: &Value) -> Result<Ticket, PluginError> {
        let external_id = body.get("external_id").and_then(Value::as_str).unwrap_or_default().to_string();
        let resp = match self.write(http::post, "/tickets", body)?.send() {
            Ok(r) => r,
            Err(CapabilityError::Ambiguous(m)) if !external_id.is_empty() => {
                log::warn(&format!("ticket create was ambiguous ({m}); checking {external_id}"));
                if let Some(t) = self.tickets_by_external_id(&external_id)?.into_iter().next() {
                    return Ok(t);
                }
                self.write(http::post, "/tickets", body)?.send()?
            }
            Err(e) => return Err(e.into()),
        };
        let t: Ticket = resp.error_for_status()?.json()?;
        if t.id == 0 {
            return Err(PluginError::retryable("Gorgias created a ticket without an id"));
        }
        Ok(t)
    }

    /// `PUT /api/tickets/{id}` (status, assignee…). Idempotent, so an ambiguous
    /// attempt is simply sent again.
    pub fn update_ticket(&self, id: u64, body: &Value) -> Result<(), PluginError> {
        let path = format!("/tickets/{id}");
        match self.write(http::put, &path, body)?.send() {
            Ok(r) => r.error_for_status().map(|_| ()),
            Err(CapabilityError::Ambiguous(_)) => send(self.write(http::put, &path, body)?).map(|_| ()),
            Err(e) => Err(e.into()),
        }
    }

    /// `POST /api/tickets/{id}/tags {names}`: adds tags (unknown names are created, [U] §1.9).
    pub fn add_tags(&self, id: u64, names: &[String]) -> Result<(), PluginError> {
        if names.is_empty() {
            return Ok(());
        }
        let path = format!("/tickets/{id}/tags");
        let body = json!({ "names": names });
        match self.write(http::post, &path, &body)?.send() {
            Ok(r) => r.error_for_status().map(|_| ()),
            Err(CapabilityError::Ambiguous(_)) => send(self.write(http::post, &path, &body)?).map(|_| ()),
            Err(e) => Err(e.into()),
        }
    }

    /// `POST /api/tickets/{id}/messages`; `body.external_id` identifies it, so an
    /// ambiguous attempt is checked against the ticket's messages first.
    pub fn add_message(&self, ticket: u64, body: &Value) -> Result<(), PluginError> {
        let path = format!("/tickets/{ticket}/messages");
        match self.write(http::post, &path, body)?.send() {
            Ok(r) => r.error_for_status().map(|_| ()),
            Err(CapabilityError::Ambiguous(m)) => {
                let external_id = body.get("external_id").and_then(Value::as_str).unwrap_or_default();
                log::warn(&format!("message create was ambiguous ({m}); checking ticket {ticket}"));
                let list: List<Value> = send(self.get(&format!("{path}?limit=100")))?.json()?;
                let there =
                    !external_id.is_empty() && list.data.iter().any(|m| m.get("external_id").and_then(Value::as_str) == Some(external_id));
                if there { Ok(()) } else { send(self.write(http::post, &path, body)?).map(|_| ()) }
            }
            Err(e) => Err(e.into()),
        }
    }

    /// `POST /api/upload?type=attachment` with one file (multipart, §1.8).
    pub fn upload(&self, file_name: &str, content_type: &str, data: &[u8], boundary: &str) -> Result<Option<File>, PluginError> {
        let form = switchboard_sdk::multipart::Form::new(boundary).file(file_name, file_name, content_type, data);
        let ct = form.content_type();
        let body = form.finish();
        let req = || {
            http::post(&self.url("/upload?type=attachment"))
                .credential(CREDENTIAL)
                .header("accept", "application/json")
                .header("content-type", &ct)
                .body(body.clone())
        };
        // An upload whose answer was lost is simply made again: an unused file is harmless.
        let resp = match req().send() {
            Ok(r) => r,
            Err(CapabilityError::Ambiguous(_)) => req().send()?,
            Err(e) => return Err(e.into()),
        };
        if resp.status() == 413 {
            return Ok(None);
        }
        let files: Vec<File> = resp.error_for_status()?.json()?;
        Ok(files.into_iter().find(|f| !f.url.is_empty()))
    }
}
