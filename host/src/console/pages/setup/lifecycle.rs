//! Enabling, disabling and deleting a console integration
//! (`POST /integrations/{id}/enable|disable|delete`).
//!
//! - Enable checks it as `switchboard check` would; refused, the set-up page
//!   answers 422 with the reason beside its field.
//! - Disable stops new events from reaching it; jobs already queued still run.
//! - Delete is refused while it has queued jobs (waiting, retrying or held
//!   while paused): disable it, let them finish (resume it if it is paused),
//!   then delete. Its dead letters stay listed; replayed after the delete,
//!   one is dead-lettered again ("no longer configured"). Its connection's
//!   record stays in the store, unused.

use super::{Errors, acting_on, as_config, back_to, show};
use crate::console::{Admin, ConsoleState, failure, mask, save_and_apply};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

async fn set_enabled(state: &ConsoleState, id: &str, enabled: bool) -> Result<(), Response> {
    save_and_apply(state, "saving", |doc| match doc.integrations.iter_mut().find(|s| s.id == id) {
        Some(s) => {
            s.enabled = enabled;
            s.updated_at_ms = crate::clock::now_ms();
            Ok(())
        }
        None => Err(format!("{id} was deleted meanwhile")),
    })
    .await
}

/// `POST /integrations/{id}/enable`
pub async fn enable(
    admin: Admin,
    State(state): State<ConsoleState>,
    Path(id): Path<String>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> Response {
    let current = match acting_on(&admin, &state, &id, &pairs).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let checked = as_config(&state, &current).and_then(|mut c| {
        c.enabled = true;
        crate::integrations::check::check(&state.app.live.base(), &state.app.registry, &c)
    });
    if let Err(e) = checked {
        let per = state.app.registry.get(&current.plugin).and_then(|p| p.manifest.setup.per_number.clone()).map(|p| p.setting);
        let mut errors = Errors::new();
        errors.insert(super::form::field_of(&e, &id, per.as_deref()), mask(&e, &state.app.live.load()));
        return show(&state, admin, &current, errors, "Not enabled: finish the set-up first".into(), StatusCode::UNPROCESSABLE_ENTITY)
            .await;
    }
    if let Err(r) = set_enabled(&state, &id, true).await {
        return r;
    }
    tracing::info!(integration = %id, "console: enabled");
    back_to(&id, "Enabled: its numbers' events reach it from now on")
}

/// `POST /integrations/{id}/disable`
pub async fn disable(
    admin: Admin,
    State(state): State<ConsoleState>,
    Path(id): Path<String>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> Response {
    if let Err(r) = acting_on(&admin, &state, &id, &pairs).await {
        return r;
    }
    if let Err(r) = set_enabled(&state, &id, false).await {
        return r;
    }
    tracing::info!(integration = %id, "console: disabled");
    back_to(&id, "Disabled: new events no longer reach it; queued jobs still run")
}

/// `POST /integrations/{id}/delete`: refused (409) while jobs are queued.
pub async fn delete(
    admin: Admin,
    State(state): State<ConsoleState>,
    Path(id): Path<String>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> Response {
    let current = match acting_on(&admin, &state, &id, &pairs).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let counts = match state.app.store.integration_counts().await {
        Ok(c) => c,
        Err(e) => return failure("reading queued jobs", e),
    };
    let queued = counts.iter().find(|c| c.integration == id).map_or(0, |c| c.queued);
    if queued > 0 {
        let mut errors = Errors::new();
        errors.insert(
            "form".into(),
            format!("{queued} job(s) of {id} are queued: disable it, let them finish (resume it if it is paused), then delete"),
        );
        return show(&state, admin, &current, errors, String::new(), StatusCode::CONFLICT).await;
    }
    let removed = save_and_apply(&state, "deleting", |doc| {
        doc.integrations.retain(|s| s.id != id);
        Ok(())
    })
    .await;
    if let Err(r) = removed {
        return r;
    }
    if let Err(e) = state.app.store.set_paused(&id, None).await {
        tracing::warn!(integration = %id, error = %e, "pause record not cleared");
    }
    tracing::info!(integration = %id, "console: deleted");
    let notice: String = url::form_urlencoded::byte_serialize(format!("{id} deleted").as_bytes()).collect();
    Redirect::to(&format!("/integrations?notice={notice}")).into_response()
}
