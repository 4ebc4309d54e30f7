//! Links into Intercom's web app for agents (intercom-helpscout-api.md §1.11;
//! [U] the patterns are community-derived, not documented by Intercom).

use crate::api::path_segment;
use crate::directory;
use crate::job::Job;
use crate::party::ContactRef;

/// The workspace id for links: the contact's `workspace_id`, else `/me`.
fn workspace(job: &Job, contact: &ContactRef) -> Option<String> {
    contact.workspace_id.clone().filter(|w| !w.is_empty()).or_else(|| directory::app_id(&job.client).ok().flatten())
}

/// The contact's page.
pub fn contact(job: &Job, contact: &ContactRef) -> Option<String> {
    let ws = workspace(job, contact)?;
    Some(format!("{}/a/apps/{}/users/{}/all-conversations", job.settings.app_base, path_segment(&ws), path_segment(&contact.id)))
}

/// A conversation in the inbox.
pub fn conversation(job: &Job, contact: &ContactRef, conversation_id: &str) -> Option<String> {
    let ws = workspace(job, contact)?;
    Some(format!("{}/a/inbox/{}/inbox/conversation/{}", job.settings.app_base, path_segment(&ws), path_segment(conversation_id)))
}
