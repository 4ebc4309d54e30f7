//! What every handler needs for one event: the context, the settings and the
//! Intercom client.

use crate::api::Client;
use crate::directory;
use crate::settings::Settings;
use switchboard_sdk::{Context, Number, PluginError};

/// One event being handled.
pub struct Job<'a> {
    /// The host's context.
    pub ctx: &'a Context,
    /// Typed settings.
    pub settings: Settings,
    /// The Intercom API client on the settings' `api_base`: the integration's
    /// base URL when it has one, else the region's API host.
    pub client: Client,
}

impl<'a> Job<'a> {
    /// Reads the settings; a bad setting stops the job for good (the reason says which).
    pub fn new(ctx: &'a Context) -> Result<Job<'a>, PluginError> {
        let settings = Settings::from_context(ctx).map_err(PluginError::Permanent)?;
        let client = Client::new(&settings.api_base);
        Ok(Job { ctx, settings, client })
    }

    /// Region hint for phone numbers: the Aircall line's country, else the integration's default.
    pub fn region<'n>(&'n self, number: Option<&'n Number>) -> Option<&'n str> {
        self.ctx.region_for(number)
    }

    /// The set-up admin (cached).
    pub fn setup_admin(&self) -> Result<String, PluginError> {
        directory::setup_admin(&self.settings, &self.client)
    }

    /// The Intercom admin with the same e-mail as an Aircall teammate, if any.
    pub fn admin_for(&self, email: Option<&str>) -> Result<Option<String>, PluginError> {
        Ok(directory::admin_by_email(&self.client, email)?.map(|a| a.id))
    }
}
