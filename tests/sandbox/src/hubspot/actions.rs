//! Custom workflow actions: the callback-completion endpoints, and the client
//! side that calls an action's URL as HubSpot does (gorgias-hubspot-api.md §2.4, §2.5).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::model::{ActionCall, CallbackCompletion};
use super::{HsErr, HubSpot, body, signature};
use crate::common::util::now_millis;

type Result<T> = std::result::Result<T, HsErr>;

fn complete_one(hs: &HubSpot, id: &str, map: &Map<String, Value>) -> Result<()> {
    let outputs =
        map.get("outputFields").and_then(Value::as_object).ok_or_else(|| HsErr::validation("outputFields is required", Value::Null))?;
    // §2.4: completion states are SUCCESS or FAIL_CONTINUE. [U] `typedOutputs` (listed as required by the
    // spec) is not required here, as official examples omit it.
    match outputs.get("hs_execution_state").and_then(Value::as_str) {
        None | Some("SUCCESS" | "FAIL_CONTINUE") => {}
        Some(other) => {
            return Err(HsErr::validation(
                format!("Invalid hs_execution_state {other}"),
                json!({ "in": "outputFields.hs_execution_state" }),
            ));
        }
    }
    hs.update(|s| {
        // [U] §2.4: completing an unknown or already completed callback is assumed to be a 404 / 400.
        let Some(pos) = s.pending_callbacks.iter().position(|c| c == id) else {
            if s.completed_callbacks.iter().any(|c| c.callback_id == id) {
                return Err(HsErr::validation(format!("Callback {id} is already completed"), Value::Null));
            }
            return Err(HsErr::not_found("Callback"));
        };
        s.pending_callbacks.remove(pos);
        s.completed_callbacks.push(CallbackCompletion {
            callback_id: id.to_owned(),
            output_fields: Value::Object(outputs.clone()),
            request: Value::Object(map.clone()),
            completed_at: now_millis(),
        });
        Ok(())
    })
}

/// `POST /automation/v4/actions/callbacks/{callbackId}/complete` → 204.
pub async fn complete(State(hs): State<HubSpot>, Path(id): Path<String>, bytes: Bytes) -> Result<StatusCode> {
    let map = body(&bytes)?;
    complete_one(&hs, &id, &map)?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /automation/v4/actions/callbacks/complete {inputs: [...]}` → 204.
pub async fn complete_batch(State(hs): State<HubSpot>, bytes: Bytes) -> Result<StatusCode> {
    let map = body(&bytes)?;
    let inputs = map.get("inputs").and_then(Value::as_array).ok_or_else(|| HsErr::validation("inputs is required", Value::Null))?;
    for i in inputs {
        let m = i.as_object().cloned().unwrap_or_default();
        let id =
            m.get("callbackId").and_then(Value::as_str).ok_or_else(|| HsErr::validation("callbackId is required", i.clone()))?.to_owned();
        complete_one(&hs, &id, &m)?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// One execution of a workflow action, as HubSpot sends it.
#[derive(Debug, Clone)]
pub struct Execution {
    /// `CONTACT`, `DEAL`, …
    pub object_type: String,
    /// The enrolled record's id.
    pub object_id: u64,
    /// `object.properties` (the definition's `objectRequestOptions`).
    pub object_properties: Value,
    /// `inputFields`.
    pub input_fields: Value,
    /// `context.workflowId`.
    pub workflow_id: u64,
}

/// What a workflow action answered.
#[derive(Debug, Clone)]
pub struct ActionOutcome {
    /// The callback id sent in the request.
    pub callback_id: String,
    /// HTTP status.
    pub status: u16,
    /// Response body (JSON, or a string).
    pub body: Value,
}

impl HubSpot {
    /// Calls a custom workflow action at `url` the way HubSpot does: POSTs the
    /// execution request (`callbackId`, `origin`, `context`, `object`,
    /// `inputFields`) signed with the app's client secret: `X-HubSpot-Signature-v3`
    /// with `X-HubSpot-Request-Timestamp`, and the v2 `X-HubSpot-Signature`.
    ///
    /// The callback id is registered as pending, so the plugin can complete it
    /// later with `/automation/v4/actions/callbacks/{id}/complete`.
    pub async fn call_workflow_action(
        &self,
        url: &str,
        object_type: &str,
        object_id: u64,
        object_properties: Value,
        input_fields: Value,
    ) -> anyhow::Result<ActionOutcome> {
        self.execute_workflow_action(
            url,
            Execution { object_type: object_type.to_owned(), object_id, object_properties, input_fields, workflow_id: 444 },
        )
        .await
    }

    /// Asks a custom action's `optionsUrl` for the options of one input field,
    /// signed like an execution. [U] gorgias-hubspot-api.md §2.4/§3.11: the body
    /// (`origin`, `inputFieldName`, `inputFields` as `{type, value}`,
    /// `fetchOptions`) is the reference's unconfirmed sketch.
    pub async fn fetch_action_options(&self, url: &str, input_field_name: &str, input_fields: Value) -> anyhow::Result<(u16, Value)> {
        let portal = self.state().portal_id;
        let typed: Map<String, Value> = input_fields
            .as_object()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), json!({ "type": "STATIC_VALUE", "value": v }))).collect())
            .unwrap_or_default();
        let request = json!({
            "origin": { "portalId": portal, "actionDefinitionId": 55, "actionDefinitionVersion": 1 },
            "inputFieldName": input_field_name,
            "inputFields": typed,
            "fetchOptions": { "q": null, "after": null },
        });
        send_signed(url, &self.credentials().client_secret, &request).await
    }

    /// Calls a custom workflow action at `url` with a chosen object and
    /// workflow (see [`HubSpot::call_workflow_action`]).
    pub async fn execute_workflow_action(&self, url: &str, execution: Execution) -> anyhow::Result<ActionOutcome> {
        let Execution { object_type, object_id, object_properties, input_fields, workflow_id } = execution;
        let (callback_id, portal) = self.update(|s| {
            let n = s.alloc();
            (format!("ap-{}-{n}-1-0", s.portal_id), s.portal_id)
        });
        let request = json!({
            "callbackId": callback_id,
            "origin": { "portalId": portal, "actionDefinitionId": 55, "actionDefinitionVersion": 1, "extensionDefinitionId": 55, "extensionDefinitionVersionId": 1 },
            "context": { "source": "WORKFLOWS", "workflowId": workflow_id },
            "object": { "objectId": object_id, "objectType": object_type, "properties": object_properties },
            "inputFields": input_fields,
        });
        self.update(|s| s.pending_callbacks.push(callback_id.clone()));
        let (status, body) = match send_signed(url, &self.credentials().client_secret, &request).await {
            Ok(r) => r,
            Err(e) => {
                self.update(|s| {
                    s.action_calls.push(ActionCall {
                        url: url.to_owned(),
                        request: request.clone(),
                        status: 0,
                        response: json!(e.to_string()),
                    })
                });
                return Err(e);
            }
        };
        let state = body.pointer("/outputFields/hs_execution_state").and_then(Value::as_str).map(str::to_owned);
        self.update(|s| {
            // Only a BLOCK answer leaves the callback waiting for completion.
            if state.as_deref() != Some("BLOCK") {
                s.pending_callbacks.retain(|c| *c != callback_id);
            }
            s.action_calls.push(ActionCall { url: url.to_owned(), request, status, response: body.clone() });
        });
        Ok(ActionOutcome { callback_id, status, body })
    }
}

/// POSTs `request` as JSON to `url` with HubSpot's v3 and v2 signatures.
pub async fn send_signed(url: &str, client_secret: &str, request: &Value) -> anyhow::Result<(u16, Value)> {
    let body = serde_json::to_string(request)?;
    let ts = now_millis();
    let http = crate::http_client()?;
    let resp = http
        .post(url)
        .header("content-type", "application/json")
        .header("x-hubspot-signature-v3", signature::v3(client_secret, "POST", url, &body, ts))
        .header("x-hubspot-request-timestamp", ts.to_string())
        .header("x-hubspot-signature", signature::v2(client_secret, "POST", url, &body))
        .header("x-hubspot-signature-version", "v2")
        .header("user-agent", "HubSpot Connect 2.0 (switchboard sandbox)")
        .body(body)
        .send()
        .await?;
    let status = resp.status().as_u16();
    let text = resp.text().await?;
    Ok((status, serde_json::from_str(&text).unwrap_or(Value::String(text))))
}
