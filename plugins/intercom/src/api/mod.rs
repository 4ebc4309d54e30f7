//! Intercom's REST API (2.16): the requests this connector makes and the JSON it
//! reads. Facts from `shared/reference/intercom-helpscout-api.md` §1 and the
//! OpenAPI description; every request body here fits its schema there.

mod client;
pub mod model;

pub use client::{ApiError, Client, VERSION};
use model::{AdminList, Contact, ContactList, Conversation, ConversationDetail, ConversationList, Me, PhoneSwitch, Tag, UserMessage};
use serde_json::{Value, json};

/// Intercom's limit on filters and values we put in one search (§1.6).
const MAX_SEARCH_VALUES: usize = 15;

impl Client {
    /// `GET /me`: the token's owner and the workspace (§1.5).
    pub fn me(&self) -> Result<Me, ApiError> {
        self.get("/me")
    }

    /// `GET /admins` (§1.5).
    pub fn admins(&self) -> Result<AdminList, ApiError> {
        self.get("/admins")
    }

    /// `POST /contacts/search`: contacts whose `phone` is one of `stored_forms`
    /// (the formats the phone engine says a person may have typed, §1.6).
    pub fn contacts_by_phone(&self, stored_forms: &[String]) -> Result<Vec<Contact>, ApiError> {
        let values: Vec<&String> = stored_forms.iter().take(MAX_SEARCH_VALUES * 2).collect();
        let query = if values.len() <= MAX_SEARCH_VALUES {
            json!({ "field": "phone", "operator": "IN", "value": values })
        } else {
            // Two IN filters under one OR: still within the two levels Intercom allows.
            let (a, b) = values.split_at(MAX_SEARCH_VALUES);
            json!({ "operator": "OR", "value": [
                { "field": "phone", "operator": "IN", "value": a },
                { "field": "phone", "operator": "IN", "value": b },
            ]})
        };
        let list: ContactList = self.post_repeatable("/contacts/search", &json!({ "query": query, "pagination": { "per_page": 10 } }))?;
        Ok(list.data)
    }

    /// `POST /contacts/search` on `email` (the anonymous contact, §1.6).
    pub fn contacts_by_email(&self, email: &str) -> Result<Vec<Contact>, ApiError> {
        let body = json!({ "query": { "field": "email", "operator": "=", "value": email }, "pagination": { "per_page": 10 } });
        let list: ContactList = self.post_repeatable("/contacts/search", &body)?;
        Ok(list.data)
    }

    /// `POST /contacts` (§1.6).
    pub fn create_contact(&self, body: &Value) -> Result<Contact, ApiError> {
        self.post("/contacts", body)
    }

    /// `DELETE /contacts/{id}` (a duplicate we created and lost a race with).
    pub fn delete_contact(&self, id: &str) -> Result<Value, ApiError> {
        self.delete_without_body(&format!("/contacts/{}", path_segment(id)))
    }

    /// `POST /conversations/search`: the contact's conversations (§1.7).
    pub fn conversations_of(&self, contact_id: &str) -> Result<Vec<Conversation>, ApiError> {
        let body = json!({
            "query": { "field": "contact_ids", "operator": "=", "value": contact_id },
            "pagination": { "per_page": 50 },
        });
        let list: ConversationList = self.post_repeatable("/conversations/search", &body)?;
        Ok(list.conversations)
    }

    /// `GET /conversations/{id}` with its parts: what a look-up after a lost answer reads.
    pub fn conversation_detail(&self, conversation_id: &str) -> Result<ConversationDetail, ApiError> {
        self.get(&format!("/conversations/{}", path_segment(conversation_id)))
    }

    /// `POST /conversations`: a conversation started by the contact with `body`
    /// (plain text); answers the new conversation's id (§1.7).
    pub fn start_conversation(&self, contact_id: &str, role: &str, body: &str) -> Result<String, ApiError> {
        let kind = if role == "user" { "user" } else { "lead" };
        let msg: UserMessage = self.post("/conversations", &json!({ "from": { "type": kind, "id": contact_id }, "body": body }))?;
        if msg.conversation_id.is_empty() {
            return Err(ApiError::Fatal(switchboard_sdk::PluginError::Retryable(
                "Intercom: POST /conversations answered without a conversation_id".into(),
            )));
        }
        Ok(msg.conversation_id)
    }

    /// `POST /conversations/{id}/reply` as the contact (a comment, §1.7).
    pub fn reply_as_contact(&self, conversation_id: &str, contact_id: &str, body: &str) -> Result<Conversation, ApiError> {
        let req = json!({ "message_type": "comment", "type": "user", "intercom_user_id": contact_id, "body": body });
        self.post(&format!("/conversations/{}/reply", path_segment(conversation_id)), &req)
    }

    /// `POST /conversations/{id}/reply`: an internal note by `admin_id` (HTML allowed, §1.7).
    pub fn add_note(&self, conversation_id: &str, admin_id: &str, html: &str) -> Result<Conversation, ApiError> {
        let req = json!({ "message_type": "note", "type": "admin", "admin_id": admin_id, "body": html });
        self.post(&format!("/conversations/{}/reply", path_segment(conversation_id)), &req)
    }

    /// `POST /conversations/{id}/parts`: assign to `assignee_id` (`"0"` = unassigned), by `admin_id` (§1.7).
    pub fn assign(&self, conversation_id: &str, admin_id: &str, assignee_id: &str) -> Result<Conversation, ApiError> {
        let req = json!({ "message_type": "assignment", "type": "admin", "admin_id": admin_id, "assignee_id": assignee_id });
        self.post(&format!("/conversations/{}/parts", path_segment(conversation_id)), &req)
    }

    /// `POST /tags {name}`: the tag with that name, created when missing (§1.9).
    pub fn tag_named(&self, name: &str) -> Result<Tag, ApiError> {
        self.post_repeatable("/tags", &json!({ "name": name }))
    }

    /// `POST /conversations/{id}/tags {id, admin_id}` (§1.9).
    pub fn tag_conversation(&self, conversation_id: &str, tag_id: &str, admin_id: &str) -> Result<Tag, ApiError> {
        self.post_repeatable(
            &format!("/conversations/{}/tags", path_segment(conversation_id)),
            &json!({ "id": tag_id, "admin_id": admin_id }),
        )
    }

    /// `DELETE /conversations/{id}/tags/{tag_id}` with `{admin_id}` (§1.9).
    pub fn untag_conversation(&self, conversation_id: &str, tag_id: &str, admin_id: &str) -> Result<Tag, ApiError> {
        let path = format!("/conversations/{}/tags/{}", path_segment(conversation_id), path_segment(tag_id));
        self.delete(&path, &json!({ "admin_id": admin_id }))
    }

    /// `POST /phone_call_redirects {phone}`: Switch texts the caller a Messenger link (§1.10).
    pub fn phone_switch(&self, e164: &str) -> Result<PhoneSwitch, ApiError> {
        self.post("/phone_call_redirects", &json!({ "phone": e164 }))
    }
}

/// Ids go into paths; keep only what an Intercom id can hold so a hostile id
/// cannot change the path.
pub fn path_segment(id: &str) -> String {
    id.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-').collect()
}

#[cfg(test)]
mod tests {
    use super::path_segment;

    #[test]
    fn ids_cannot_escape_their_path_segment() {
        assert_eq!(path_segment("../admins?x=1"), "adminsx1");
        assert_eq!(path_segment("6650f0c2e4b0a1b2c3d4e5f6"), "6650f0c2e4b0a1b2c3d4e5f6");
    }
}
