//! A scenario file: the calls and messages it talks about and the timed steps
//! that change them (format: `scenarios/README.md`). Parsing checks every
//! reference, so a typo fails with the step's number instead of posting a
//! half-built webhook.

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::Value;

use super::world::{World, WorldPatch};

/// Inbound or outbound, as Aircall spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// The customer called / wrote.
    Inbound,
    /// The agent called / wrote.
    Outbound,
}

impl Direction {
    /// `inbound` / `outbound`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
        }
    }
}

/// A call the scenario plays.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallDef {
    /// How steps name it.
    pub key: String,
    /// Inbound or outbound.
    pub direction: Direction,
    /// The Aircall line (a world number key).
    pub number: String,
    /// The external party as Aircall shows it (`raw_digits`), or `anonymous`.
    pub from: String,
    /// A world contact attached to the call.
    #[serde(default)]
    pub contact: Option<String>,
    /// World teams (inbound calls).
    #[serde(default)]
    pub teams: Vec<String>,
    /// The agent on the call from the start (outbound calls).
    #[serde(default)]
    pub user: Option<String>,
}

/// An attachment of an MMS.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Media {
    /// File name.
    pub file_name: String,
    /// MIME type.
    pub file_type: String,
    /// Download URL; a placeholder is made up when absent.
    #[serde(default)]
    pub presigned_url: Option<String>,
}

/// A message (SMS, MMS, WhatsApp) the scenario plays.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageDef {
    /// How steps name it.
    pub key: String,
    /// Inbound or outbound.
    pub direction: Direction,
    /// The Aircall line (a world number key).
    pub number: String,
    /// The customer's number.
    pub external: String,
    /// The message text; `{n}` in it becomes the copy's number (`01`, `02`…).
    #[serde(default)]
    pub body: String,
    /// `whatsapp`, or absent for SMS/MMS.
    #[serde(default)]
    pub channel: Option<String>,
    /// MMS attachments.
    #[serde(default)]
    pub media: Vec<Media>,
    /// The agent who sent it (a world user key).
    #[serde(default)]
    pub user: Option<String>,
}

/// An IVR choice.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ivr {
    /// Digits pressed, or `fallback`.
    pub key: String,
    /// The option's title.
    #[serde(default)]
    pub title: String,
    /// The branch it leads to.
    #[serde(default)]
    pub branch: String,
}

/// One timed step.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Seconds from the start, in scenario time.
    pub at: f64,
    /// The call it is about.
    #[serde(default)]
    pub call: Option<String>,
    /// The message it is about.
    #[serde(default)]
    pub message: Option<String>,
    /// The Aircall event name.
    pub event: String,
    /// A world user (who answers, is rung, tags, comments, is assigned).
    #[serde(default)]
    pub user: Option<String>,
    /// A world team (transfer to a team).
    #[serde(default)]
    pub team: Option<String>,
    /// External number (external transfer).
    #[serde(default)]
    pub to: Option<String>,
    /// IVR choice.
    #[serde(default)]
    pub ivr: Option<Ivr>,
    /// Why an unanswered call was missed.
    #[serde(default)]
    pub missed_call_reason: Option<String>,
    /// Tag name (tagged / untagged).
    #[serde(default)]
    pub tag: Option<String>,
    /// Comment text.
    #[serde(default)]
    pub comment: Option<String>,
    /// Message delivery status.
    #[serde(default)]
    pub status: Option<String>,
    /// Conversation Intelligence content.
    #[serde(default)]
    pub content: Option<toml::Value>,
    /// AI voice agent name.
    #[serde(default)]
    pub agent: Option<String>,
    /// Why the AI voice agent escalated.
    #[serde(default)]
    pub escalation_reason: Option<String>,
    /// Answers the AI voice agent collected.
    #[serde(default)]
    pub extracted_data: Option<toml::Value>,
    /// Raw fields merged last into the posted object.
    #[serde(default)]
    pub data: Option<toml::Value>,
}

/// A parsed, checked scenario.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// One line on what happens.
    #[serde(default)]
    pub description: String,
    /// Copies played at once, each with its own ids.
    #[serde(default = "one")]
    pub copies: u32,
    /// Additions to the world.
    #[serde(default)]
    pub world: WorldPatch,
    /// The `[[call]]` tables, named by key in steps.
    #[serde(default)]
    pub call: Vec<CallDef>,
    /// The `[[message]]` tables, named by key in steps.
    #[serde(default)]
    pub message: Vec<MessageDef>,
    /// Steps, in time order once parsed.
    #[serde(default)]
    pub step: Vec<Step>,
}

fn one() -> u32 {
    1
}

/// Most copies a scenario may ask for.
pub const MAX_COPIES: u32 = 10_000;

impl Scenario {
    /// Parses and checks a scenario against a world (`name` is for messages).
    pub fn parse(name: &str, text: &str, world: &World) -> anyhow::Result<Scenario> {
        let mut s: Scenario = toml::from_str(text).map_err(|e| anyhow::anyhow!("scenario {name}: {e}"))?;
        s.check(world).map_err(|e| anyhow::anyhow!("scenario {name}: {e}"))?;
        // Stable: steps at the same time keep their order.
        s.step.sort_by(|a, b| a.at.total_cmp(&b.at));
        Ok(s)
    }

    /// The world this scenario plays in: `base` plus its own additions.
    pub fn world(&self, base: &World) -> World {
        base.with(&self.world)
    }

    fn check(&self, base: &World) -> Result<(), String> {
        if self.copies == 0 || self.copies > MAX_COPIES {
            return Err(format!("copies must be 1..={MAX_COPIES}, not {}", self.copies));
        }
        let world = self.world(base);
        let mut keys = BTreeSet::new();
        for c in &self.call {
            if !keys.insert(c.key.as_str()) {
                return Err(format!("two calls/messages are named `{}`", c.key));
            }
            world.number(&c.number).map_err(|e| format!("call `{}`: {e}", c.key))?;
            if let Some(k) = &c.contact {
                world.contact(k).map_err(|e| format!("call `{}`: {e}", c.key))?;
            }
            for t in &c.teams {
                world.team(t).map_err(|e| format!("call `{}`: {e}", c.key))?;
            }
            if let Some(u) = &c.user {
                world.user(u).map_err(|e| format!("call `{}`: {e}", c.key))?;
            }
        }
        for m in &self.message {
            if !keys.insert(m.key.as_str()) {
                return Err(format!("two calls/messages are named `{}`", m.key));
            }
            world.number(&m.number).map_err(|e| format!("message `{}`: {e}", m.key))?;
            if let Some(u) = &m.user {
                world.user(u).map_err(|e| format!("message `{}`: {e}", m.key))?;
            }
        }
        for (i, step) in self.step.iter().enumerate() {
            let n = i + 1;
            if !step.at.is_finite() || step.at < 0.0 {
                return Err(format!("step {n} ({}): `at` must be a number of seconds ≥ 0", step.event));
            }
            match (&step.call, &step.message) {
                (Some(c), None) => {
                    if !self.call.iter().any(|d| &d.key == c) {
                        return Err(format!("step {n} ({}): no call named `{c}`", step.event));
                    }
                    if step.event.starts_with("message.") {
                        return Err(format!("step {n}: `{}` is a message event but names a call", step.event));
                    }
                }
                (None, Some(m)) => {
                    if !self.message.iter().any(|d| &d.key == m) {
                        return Err(format!("step {n} ({}): no message named `{m}`", step.event));
                    }
                    if !step.event.starts_with("message.") {
                        return Err(format!("step {n}: `{}` is not a message event but names a message", step.event));
                    }
                }
                _ => {
                    return Err(format!("step {n} ({}): name exactly one of `call` or `message`", step.event));
                }
            }
            for u in step.user.iter() {
                world.user(u).map_err(|e| format!("step {n} ({}): {e}", step.event))?;
            }
            for t in step.team.iter() {
                world.team(t).map_err(|e| format!("step {n} ({}): {e}", step.event))?;
            }
            let needs = |what: bool, field: &str| {
                if what { Ok(()) } else { Err(format!("step {n} ({}): needs `{field}`", step.event)) }
            };
            match step.event.as_str() {
                "call.tagged" | "call.untagged" => needs(step.tag.is_some(), "tag")?,
                "call.commented" => needs(step.comment.is_some(), "comment")?,
                "call.answered" | "call.ringing_on_agent" | "call.agent_declined" | "call.assigned" => needs(step.user.is_some(), "user")?,
                "call.transferred" | "call.unsuccessful_transfer" => needs(step.user.is_some() || step.team.is_some(), "user or team")?,
                "call.external_transferred" => needs(step.to.is_some(), "to")?,
                "call.ivr_option_selected" => needs(step.ivr.is_some(), "ivr")?,
                "message.status_updated" => needs(step.status.is_some(), "status")?,
                _ => {}
            }
            if let Some(d) = &step.data
                && !d.is_table()
            {
                return Err(format!("step {n} ({}): `data` must be a table", step.event));
            }
        }
        Ok(())
    }

    /// The last step's time, in seconds.
    pub fn length_secs(&self) -> f64 {
        self.step.last().map(|s| s.at).unwrap_or(0.0)
    }
}

/// A TOML value as JSON.
pub fn json(value: &toml::Value) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}
