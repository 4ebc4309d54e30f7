//! Users (agents): by e-mail, and an administrator to fall back on (reference §2.6).

use super::{ApiResult, Client, encode};
use serde::Deserialize;

/// A Help Scout user.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct User {
    /// Help Scout's user `id`; a user listed with `0` is skipped.
    pub id: u64,
    /// Help Scout's user `email`: an Aircall user is matched to it, ignoring
    /// case and surrounding spaces.
    pub email: String,
    /// `owner`, `admin`, `user`.
    pub role: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct UserList {
    users: Vec<User>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Page {
    #[serde(rename = "_embedded")]
    embedded: UserList,
}

impl Client {
    /// The user with this e-mail (case-insensitive), if any.
    pub fn user_by_email(&self, email: &str) -> ApiResult<Option<User>> {
        let page: Page = self.get_json(&format!("/v2/users?email={}", encode(email.trim())))?;
        Ok(page.embedded.users.into_iter().find(|u| u.id > 0 && u.email.trim().eq_ignore_ascii_case(email.trim())))
    }

    /// The first owner or administrator of the account (first page of users).
    pub fn first_admin(&self) -> ApiResult<Option<User>> {
        let page: Page = self.get_json("/v2/users")?;
        let users: Vec<User> = page.embedded.users.into_iter().filter(|u| u.id > 0).collect();
        let rank = |u: &User| match u.role.as_str() {
            "owner" => 0,
            "admin" => 1,
            _ => 2,
        };
        Ok(users.into_iter().filter(|u| rank(u) < 2).min_by_key(|u| (rank(u), u.id)))
    }
}
