//! Customers: search by phone (v3), create, get (reference §2.5).

use super::{ApiResult, Client, encode};
use serde::{Deserialize, Serialize};
use switchboard_sdk::datetime;

/// Longest `query` the v3 search accepts (§2.5).
pub const MAX_QUERY: usize = 500;

/// A phone or e-mail entry.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Entry {
    /// `work`, `home`, `mobile`, …
    #[serde(rename = "type", skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// The number or address.
    pub value: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct Entries {
    phones: Vec<Entry>,
    emails: Vec<Entry>,
}

/// A customer as the API returns it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Customer {
    /// Id (0 = missing: such a record is ignored).
    pub id: u64,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// The UI's Notes field.
    pub background: Option<String>,
    /// Company.
    pub organization: Option<String>,
    /// Job title.
    pub job_title: Option<String>,
    /// ISO 8601.
    pub created_at: Option<String>,
    /// ISO 8601.
    pub updated_at: Option<String>,
    #[serde(rename = "_embedded")]
    embedded: Entries,
}

impl Customer {
    /// "First Last", or `None` when both are blank.
    pub fn name(&self) -> Option<String> {
        let parts: Vec<&str> = [self.first_name.as_deref(), self.last_name.as_deref()]
            .into_iter()
            .flatten()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        (!parts.is_empty()).then(|| parts.join(" "))
    }

    /// The first e-mail address.
    pub fn email(&self) -> Option<&str> {
        self.embedded.emails.iter().map(|e| e.value.trim()).find(|v| !v.is_empty())
    }

    /// All e-mail entries.
    pub fn emails(&self) -> &[Entry] {
        &self.embedded.emails
    }

    /// All phone entries.
    pub fn phones(&self) -> &[Entry] {
        &self.embedded.phones
    }

    /// Creation time, UNIX seconds (0 when unreadable).
    pub fn created(&self) -> i64 {
        self.created_at.as_deref().and_then(datetime::parse_rfc3339).unwrap_or(0)
    }

    /// Last update, UNIX seconds (falls back to creation).
    pub fn updated(&self) -> i64 {
        self.updated_at.as_deref().and_then(datetime::parse_rfc3339).unwrap_or_else(|| self.created())
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CustomerList {
    customers: Vec<Customer>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Page {
    #[serde(rename = "_embedded")]
    embedded: CustomerList,
}

/// `phone:"a" OR phone:"b" …` with as many of `variants` as fit in
/// [`MAX_QUERY`] characters (they come most likely first).
pub fn phone_query(variants: &[String]) -> String {
    let mut q = String::new();
    for v in variants {
        let clean: String = v.chars().filter(|c| *c != '"' && *c != '\\').collect();
        let term = format!("phone:\"{clean}\"");
        let sep = if q.is_empty() { "" } else { " OR " };
        if q.len() + sep.len() + term.len() > MAX_QUERY {
            break;
        }
        q.push_str(sep);
        q.push_str(&term);
    }
    q
}

/// New customer fields (`POST /v2/customers`).
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewCustomer {
    /// 1–40 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// 1–40 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// Notes, ≤ 200.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub background: Option<String>,
    /// ≤ 60.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    /// Help Scout's `phones`: the party's number (as `work`), then the Aircall
    /// contact's numbers in E.164, each once.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub phones: Vec<Entry>,
    /// Help Scout's `emails`: the Aircall contact's addresses.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub emails: Vec<Entry>,
}

/// Cut to at most `max` characters (Help Scout rejects longer values with 400).
pub fn clip(s: &str, max: usize) -> String {
    s.trim().chars().take(max).collect()
}

impl Client {
    /// Customers whose phone is any of the query's values (newest first).
    pub fn search_customers_by_phone(&self, variants: &[String]) -> ApiResult<Vec<Customer>> {
        let q = phone_query(variants);
        if q.is_empty() {
            return Ok(Vec::new());
        }
        let page: Page = self.get_json(&format!("/v3/customers/search?query={}", encode(&q)))?;
        Ok(page.embedded.customers.into_iter().filter(|c| c.id > 0).collect())
    }

    /// Create a customer; its id.
    pub fn create_customer(&self, c: &NewCustomer) -> ApiResult<u64> {
        self.create("/v2/customers", c)
    }

    /// One customer.
    pub fn customer(&self, id: u64) -> ApiResult<Customer> {
        self.get_json(&format!("/v2/customers/{id}"))
    }

    /// Delete a customer (`DELETE /v2/customers/{id}`, 204; reference §2).
    pub fn delete_customer(&self, id: u64) -> ApiResult<()> {
        self.write(switchboard_sdk::http::delete(&self.url(&format!("/v2/customers/{id}"))))
    }
}

/// The customer's page in the Help Scout web app (community-derived pattern, §2.5 [U]).
pub fn profile_url(id: u64) -> String {
    format!("https://secure.helpscout.net/customer/{id}/0/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_stays_under_the_limit() {
        let v: Vec<String> = (0..100).map(|i| format!("+33 6 12 34 56 {i:02}")).collect();
        let q = phone_query(&v);
        assert!(q.len() <= MAX_QUERY);
        assert!(q.starts_with("phone:\"+33 6 12 34 56 00\" OR phone:"));
        assert_eq!(phone_query(&["a\"b".into()]), "phone:\"ab\"");
    }

    #[test]
    fn hostile_customer_json_parses() {
        let c: Customer = serde_json::from_str(r#"{"id":5,"firstName":null,"_embedded":{"emails":[{"value":" a@b.c "}]},"extra":[1]}"#)
            .unwrap_or_default();
        assert_eq!(c.id, 5);
        assert_eq!(c.email(), Some("a@b.c"));
        assert_eq!(c.name(), None);
    }
}
