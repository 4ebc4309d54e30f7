//! One module per page.

pub mod accounts;
pub mod activity;
pub mod dead_letters;
pub mod integrations;
pub mod new_account;
pub mod overview;
pub mod plugins;
pub mod setup;
