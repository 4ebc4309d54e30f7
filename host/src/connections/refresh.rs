//! Tokens that never lapse. A token is refreshed ahead of expiry — when what is
//! left falls under the margin: 10 % of its lifetime or 15 minutes, whichever
//! is larger, but never more than half the lifetime (so a 2-second token is
//! not refreshed on every use). One refresh at a time per connection: in this
//! host the callers queue on one lock and the first refreshes for all; across
//! hosts a lease written by compare-and-swap lets one host refresh while the
//! others wait and re-read. A refused refresh (`invalid_grant`…) needs an
//! admin at once; other failures back off (30 s, doubling) and after
//! `max_refresh_failures` in a row need an admin too. Meanwhile a still-valid
//! token keeps being used. A background sweep refreshes tokens nobody used
//! for a day, because vendors revoke idle ones.

use super::record::{self, Record, State};
use super::{ConnError, Connections, Spec, aad, token};
use std::time::Duration;

/// The shortest refresh margin floor (Nango's 15 minutes).
const MARGIN_FLOOR_MS: i64 = 15 * 60 * 1000;
/// How long a refresh lease holds a connection.
const LEASE_MS: i64 = 15_000;

/// How long a token kept in memory is used before the record is read again
/// (another process may have revoked, reconnected or re-sealed it).
const REREAD: Duration = Duration::from_secs(5);

/// A token opened from the store, kept in memory until it is due.
pub struct Cached {
    token: String,
    expires_at_ms: Option<i64>,
    lifetime_ms: Option<i64>,
    read_at: std::time::Instant,
}

/// Whether a token with this expiry and lifetime is due for refresh at `now`.
pub fn due(expires_at_ms: Option<i64>, lifetime_ms: Option<i64>, now_ms: i64) -> bool {
    let Some(expires) = expires_at_ms else { return false };
    let lifetime = lifetime_ms.unwrap_or(0).max(0);
    let margin = (lifetime / 10).max(MARGIN_FLOOR_MS).min(lifetime / 2);
    expires - now_ms <= margin
}

impl Connections {
    /// The access token of connection `id`, refreshed first when due.
    pub async fn access_token(&self, id: &str) -> Result<String, ConnError> {
        let slot = self.slot(id);
        let mut cached = slot.lock().await;
        let now = crate::clock::now_ms();
        if let Some(c) = cached.as_ref()
            && !due(c.expires_at_ms, c.lifetime_ms, now)
            && c.read_at.elapsed() < REREAD
        {
            return Ok(c.token.clone());
        }
        let spec = self.specs.load().get(id).cloned().ok_or_else(|| ConnError::Unusable(format!("no connection {id}")))?;
        let fresh = self.fresh_token(&spec, false).await?;
        let token = fresh.token.clone();
        *cached = Some(fresh);
        Ok(token)
    }

    /// Reads the record and refreshes it when due (or `force`d by the sweep).
    async fn fresh_token(&self, spec: &Spec, force: bool) -> Result<Cached, ConnError> {
        let store_err = |e: String| ConnError::Unavailable(e);
        for _ in 0..100 {
            let now = crate::clock::now_ms();
            let current = record::read(&self.store, &spec.id, &spec.provider, now).await.map_err(store_err)?;
            let r = &current.record;
            match r.state {
                State::NotConnected | State::NeedsReauth | State::Revoked => {
                    let message = format!("connection {} is {}: {}; {}", spec.id, r.state.name(), r.reason, r.fix);
                    return Err(ConnError::Unusable(message));
                }
                State::Connected | State::Refreshing => {}
            }
            let opened = self.open_access(r)?;
            let expired = r.expires_at_ms.is_some_and(|e| e <= now);
            let wanted = force || due(r.expires_at_ms, r.lifetime_ms, now);
            if !wanted {
                return Ok(opened);
            }
            if r.state == State::Refreshing && r.lease_until_ms > now {
                // Another host is refreshing: use the token while it lasts, else wait for it.
                if !expired {
                    return Ok(opened);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
            if r.retry_at_ms > now {
                return if expired {
                    Err(ConnError::Unavailable(format!(
                        "connection {}: token expired; refreshing again after a failure ({})",
                        spec.id, r.reason
                    )))
                } else {
                    Ok(opened)
                };
            }
            let provider = self.provider(spec).map_err(ConnError::Unusable)?;
            let can_refresh = provider.refresh && r.refresh.is_some();
            let client_credentials = provider.grant == crate::providers::Grant::ClientCredentials;
            if !can_refresh && !client_credentials {
                return if expired {
                    let mut next = r.clone();
                    next.set_state(State::NeedsReauth, "the token expired and the vendor gives no refresh token", self.fix(spec), now);
                    let _ = record::write(&self.store, current.raw.clone(), &next).await;
                    self.hold(spec, &format!("connection {} needs re-authorisation", spec.id)).await;
                    Err(ConnError::Unusable(format!("connection {}: the token expired and cannot be refreshed", spec.id)))
                } else {
                    Ok(opened)
                };
            }
            // Take the lease; losing the race means someone else changed the record: look again.
            let mut leased = r.clone();
            leased.state = State::Refreshing;
            leased.lease_until_ms = now + LEASE_MS;
            if !record::write(&self.store, current.raw.clone(), &leased).await.map_err(store_err)? {
                continue;
            }
            return self.refresh_leased(spec, leased, opened, expired).await;
        }
        Err(ConnError::Unavailable(format!("connection {}: could not settle a refresh", spec.id)))
    }

    /// Performs a refresh under the lease and records what came of it.
    async fn refresh_leased(&self, spec: &Spec, leased: Record, old: Cached, expired: bool) -> Result<Cached, ConnError> {
        let outcome = self.request_refresh(spec, &leased).await;
        let now = crate::clock::now_ms();
        let raw = serde_json::to_vec(&leased).ok();
        let mut next = leased.clone();
        next.lease_until_ms = 0;
        let result = match outcome {
            Ok(tokens) => {
                let provider = self.provider(spec).map_err(ConnError::Unusable)?;
                let keyring = self.keyring().map_err(ConnError::Unusable)?;
                let lifetime_s = tokens.expires_in.or(provider.default_lifetime_seconds);
                next.access = Some(keyring.seal(&aad(&spec.id, "access"), tokens.access.as_bytes()).map_err(ConnError::Unavailable)?);
                if let Some(r) = &tokens.refresh {
                    next.refresh = Some(keyring.seal(&aad(&spec.id, "refresh"), r.as_bytes()).map_err(ConnError::Unavailable)?);
                }
                next.lifetime_ms = lifetime_s.map(|s| s as i64 * 1000);
                next.expires_at_ms = lifetime_s.map(|s| now + s as i64 * 1000);
                next.refreshed_at_ms = now;
                next.failures = 0;
                next.retry_at_ms = 0;
                next.set_state(State::Connected, "connected", "", now);
                tracing::info!(connection = %spec.id, expires_in = ?lifetime_s, "token refreshed");
                Ok(Cached {
                    token: tokens.access,
                    expires_at_ms: next.expires_at_ms,
                    lifetime_ms: next.lifetime_ms,
                    read_at: std::time::Instant::now(),
                })
            }
            Err(token::TokenError::Refused { error, description }) => {
                let reason = if description.is_empty() { error.clone() } else { format!("{error}: {description}") };
                tracing::warn!(connection = %spec.id, %reason, "refresh refused; the connection needs re-authorisation");
                next.set_state(State::NeedsReauth, format!("the vendor refused the refresh ({reason})"), self.fix(spec), now);
                Err(ConnError::Unusable(format!(
                    "connection {} needs re-authorisation: the vendor refused the refresh ({reason})",
                    spec.id
                )))
            }
            Err(token::TokenError::Unavailable(m)) => {
                next.failures += 1;
                let backoff = self.policy.refresh_backoff_seconds.saturating_mul(1 << next.failures.min(16).saturating_sub(1));
                next.retry_at_ms = now + (backoff.min(86_400) as i64) * 1000;
                if next.failures >= self.policy.max_refresh_failures {
                    let reason = format!("{} refreshes failed in a row (last: {m})", next.failures);
                    next.set_state(State::NeedsReauth, reason.clone(), self.fix(spec), now);
                    Err(ConnError::Unusable(format!("connection {} needs re-authorisation: {reason}", spec.id)))
                } else {
                    tracing::warn!(connection = %spec.id, failures = next.failures, error = %m, retry_in_s = backoff, "refresh failed; backing off");
                    next.set_state(State::Connected, format!("refresh failed: {m}"), "", now);
                    if expired { Err(ConnError::Unavailable(format!("connection {}: refresh failed: {m}", spec.id))) } else { Ok(old) }
                }
            }
        };
        // The lease is ours, so the write sticks unless the record changed under
        // it (a reconnect meanwhile): then the newer record wins.
        match record::write(&self.store, raw, &next).await {
            Ok(true) => {}
            Ok(false) => tracing::info!(connection = %spec.id, "connection changed during the refresh; keeping the newer record"),
            Err(e) => tracing::warn!(connection = %spec.id, error = %e, "could not record the refresh"),
        }
        if next.state == State::NeedsReauth {
            self.hold(spec, &format!("connection {} needs re-authorisation: {}", spec.id, next.reason)).await;
        }
        result
    }

    async fn request_refresh(&self, spec: &Spec, r: &Record) -> Result<token::Tokens, token::TokenError> {
        let unusable = |m: String| token::TokenError::Refused { error: "configuration".into(), description: m };
        let (provider, app, _, token_url) = self.app(spec).map_err(unusable)?;
        match &r.refresh {
            Some(sealed) if provider.refresh => {
                let keyring = self.keyring().map_err(unusable)?;
                let refresh = keyring.open(&aad(&spec.id, "refresh"), sealed).map_err(unusable)?;
                let refresh = String::from_utf8(refresh).map_err(|_| unusable("refresh token is not text".into()))?;
                token::request(&self.http, provider, &token_url, &app.client_id, &app.client_secret, token::Grant::Refresh(&refresh)).await
            }
            _ => {
                token::request(&self.http, provider, &token_url, &app.client_id, &app.client_secret, token::Grant::ClientCredentials).await
            }
        }
    }

    fn open_access(&self, r: &Record) -> Result<Cached, ConnError> {
        let sealed = r.access.as_ref().ok_or_else(|| ConnError::Unusable(format!("connection {} holds no token", r.id)))?;
        let keyring = self.keyring().map_err(ConnError::Unusable)?;
        let plain = keyring.open(&aad(&r.id, "access"), sealed).map_err(|e| ConnError::Unusable(format!("connection {}: {e}", r.id)))?;
        let token = String::from_utf8(plain).map_err(|_| ConnError::Unusable(format!("connection {}: token is not text", r.id)))?;
        Ok(Cached { token, expires_at_ms: r.expires_at_ms, lifetime_ms: r.lifetime_ms, read_at: std::time::Instant::now() })
    }

    fn fix(&self, spec: &Spec) -> String {
        format!("connect it again: switchboard connect {}", record::short_id(&spec.id))
    }

    /// Refreshes every connection that is due or idle longer than
    /// `idle_refresh_hours`; run every minute by the host.
    pub async fn sweep(&self) {
        let now = crate::clock::now_ms();
        let idle_ms = self.policy.idle_refresh_hours as i64 * 3_600_000;
        for spec in self.specs.load_full().values() {
            let Ok(v) = record::read(&self.store, &spec.id, &spec.provider, now).await else { continue };
            let r = &v.record;
            if r.state != State::Connected {
                continue;
            }
            let idle = r.refresh.is_some() && now - r.refreshed_at_ms >= idle_ms;
            if !(idle || due(r.expires_at_ms, r.lifetime_ms, now)) {
                continue;
            }
            let slot = self.slot(&spec.id);
            let mut cached = slot.lock().await;
            match self.fresh_token(spec, idle).await {
                Ok(fresh) => *cached = Some(fresh),
                Err(e) => tracing::warn!(connection = %spec.id, error = %e, "sweep could not refresh"),
            }
        }
    }

    /// Runs [`Connections::sweep`] every `every`.
    pub fn spawn_sweeper(self: &std::sync::Arc<Self>, every: Duration) {
        let this = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                this.sweep().await;
            }
        });
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::due;

    #[test]
    fn the_margin_is_the_larger_of_a_tenth_and_15_minutes_capped_at_half() {
        let min = 60_000;
        // HubSpot, 30 minutes: refreshed in the last 15.
        assert!(!due(Some(16 * min), Some(30 * min), 0));
        assert!(due(Some(15 * min), Some(30 * min), 0));
        // Gorgias, 24 hours: in the last 2.4 hours.
        assert!(!due(Some(145 * min), Some(1440 * min), 0));
        assert!(due(Some(144 * min), Some(1440 * min), 0));
        // Two seconds: in the last second, not on every use.
        assert!(!due(Some(1500), Some(2000), 0));
        assert!(due(Some(1000), Some(2000), 0));
        // No expiry: never.
        assert!(!due(None, None, 0));
    }
}
