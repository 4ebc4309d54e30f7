//! What an agent would now see in each CRM, read from the emulators' state.
//! Each emulator's state is read as JSON, so a field an emulator does not
//! have shows as empty instead of breaking the demo.

mod aircall;
mod gorgias;
mod helpscout;
mod hubspot;
mod intercom;
mod notes;

use serde_json::Value;
use switchboard_sandbox::Sandbox;

/// The text of a JSON field, or "" (numbers are written out).
pub(crate) fn text<'a>(v: &'a Value, key: &str) -> std::borrow::Cow<'a, str> {
    match &v[key] {
        Value::String(s) => s.as_str().into(),
        Value::Null => "".into(),
        other => other.to_string().into(),
    }
}

/// A list field (empty when absent).
pub(crate) fn list<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v[key].as_array().map(Vec::as_slice).unwrap_or(&[])
}

/// First line of a text, at most `max` characters.
pub(crate) fn short(s: &str, max: usize) -> String {
    let line = s.lines().find(|l| !l.trim().is_empty()).unwrap_or("").trim();
    if line.chars().count() > max { format!("{}…", line.chars().take(max).collect::<String>()) } else { line.to_string() }
}

fn state<T: serde::Serialize>(t: T) -> Value {
    serde_json::to_value(t).unwrap_or(Value::Null)
}

fn heading(out: &mut String, name: &str, url: &str) {
    out.push_str(&format!("\n━━ {name}  ({url}/_sandbox/state) ━━\n"));
}

/// The summary for the CRMs whose plugins ran.
pub fn render(sandbox: &Sandbox, plugins: &[&str]) -> String {
    let mut out = String::new();
    heading(&mut out, "Aircall", sandbox.aircall_url());
    aircall::render(&mut out, &state(sandbox.aircall().state()));
    for plugin in plugins {
        match *plugin {
            "example" => {
                heading(&mut out, "Notes API (reference plugin)", sandbox.notes_url());
                notes::render(&mut out, &state(sandbox.notes().state()));
            }
            "intercom" => {
                heading(&mut out, "Intercom", sandbox.intercom_url());
                intercom::render(&mut out, &state(sandbox.intercom().state()));
            }
            "helpscout" => {
                heading(&mut out, "Help Scout", sandbox.helpscout_url());
                helpscout::render(&mut out, &state(sandbox.helpscout().state()));
            }
            "gorgias" => {
                heading(&mut out, "Gorgias", sandbox.gorgias_url());
                gorgias::render(&mut out, &state(sandbox.gorgias().state()));
            }
            "hubspot" => {
                heading(&mut out, "HubSpot", sandbox.hubspot_url());
                hubspot::render(&mut out, &state(sandbox.hubspot().state()));
            }
            _ => {}
        }
    }
    out
}
