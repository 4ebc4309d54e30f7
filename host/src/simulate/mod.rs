//! The call simulator: plays scenario files (`scenarios/*.toml`, format in
//! `scenarios/README.md`) into a host as Aircall webhooks.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use switchboard::simulate::{PlayOptions, Speed, World, bundled, play};
//! let world = World::bundled()?;
//! let scenario = bundled("inbound-answered", &world)?;
//! let options = PlayOptions::new("http://127.0.0.1:8080", "local-demo-token").speed(Speed::Max);
//! let report = play(&scenario, &world, &options).await?;
//! println!("{} webhooks posted", report.posted);
//! # Ok(()) }
//! ```
//!
//! Webhooks carry exactly the fields Aircall's webhooks carry ([`fields`]).
//! Given the Aircall emulator's URL ([`PlayOptions::aircall`]), the player
//! also keeps the emulator's copy of each call (`GET /v1/calls/:id`) in step:
//! before each webhook about a call it upserts the call's REST view, so a
//! plugin that fetches the call sees what Aircall's API would answer then
//! (e.g. the IVR options selected, which no webhook carries).

pub mod fields;
mod scenario;
mod timeline;
mod world;

use std::str::FromStr;
use std::time::Duration;

pub use scenario::{CallDef, Direction, MessageDef, Scenario, Step};
pub use timeline::{Timeline, Webhook, merge};
pub use world::{BUNDLED_WORLD, World};

/// Bundled scenarios: `(name, file text)`, generated from `scenarios/` by build.rs.
pub mod files {
    include!(concat!(env!("OUT_DIR"), "/scenarios.rs"));
}

/// Names of the bundled scenarios.
pub fn bundled_names() -> Vec<&'static str> {
    files::BUNDLED.iter().map(|(n, _)| *n).collect()
}

/// A bundled scenario by name, checked against `world`.
pub fn bundled(name: &str, world: &World) -> anyhow::Result<Scenario> {
    let (_, text) = files::BUNDLED
        .iter()
        .find(|(n, _)| *n == name)
        .ok_or_else(|| anyhow::anyhow!("no bundled scenario `{name}` (known: {})", bundled_names().join(", ")))?;
    Scenario::parse(name, text, world)
}

/// A bundled scenario by name, or a scenario file by path.
pub fn load(name_or_path: &str, world: &World) -> anyhow::Result<Scenario> {
    let path = std::path::Path::new(name_or_path);
    if name_or_path.ends_with(".toml") || path.components().count() > 1 {
        let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("{name_or_path}: {e}"))?;
        Scenario::parse(name_or_path, &text, world)
    } else {
        bundled(name_or_path, world)
    }
}

/// How fast scenario time runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Speed {
    /// This many times real time (1 = real time).
    Times(f64),
    /// No waiting between steps.
    Max,
}

impl FromStr for Speed {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s.eq_ignore_ascii_case("max") {
            return Ok(Speed::Max);
        }
        match s.trim_end_matches('x').parse::<f64>() {
            Ok(f) if f.is_finite() && f > 0.0 => Ok(Speed::Times(f)),
            _ => Err(format!("speed must be a positive number (times real time) or `max`, not `{s}`")),
        }
    }
}

/// Where and how to play.
#[derive(Debug, Clone)]
pub struct PlayOptions {
    /// The webhook URL (a bare `http://host:port` gets `/webhooks/aircall`).
    pub to: String,
    /// The webhook token put in every body.
    pub token: String,
    /// How fast scenario time runs: a multiple of real time, or no waiting.
    pub speed: Speed,
    /// Scenario start, UNIX seconds (default: now).
    pub start: Option<i64>,
    /// First id handed to calls and messages (default: from the clock, so runs do not collide).
    pub id_base: Option<u64>,
    /// Print one line per webhook on stderr.
    pub verbose: bool,
    /// The Aircall emulator's base URL: each call's REST view is upserted there
    /// (`POST /_sandbox/calls`) before each webhook about it.
    pub aircall: Option<String>,
    /// Where recording, voicemail and MMS links point: a server answering
    /// `/_sandbox/media/NAME?bytes=N&type=MIME` (any sandbox emulator). `None`
    /// = placeholder `.example` hosts nothing answers.
    pub media_base: Option<String>,
}

impl PlayOptions {
    /// Real-time play to `to` with `token`.
    pub fn new(to: &str, token: &str) -> Self {
        PlayOptions {
            to: to.to_string(),
            token: token.to_string(),
            speed: Speed::Times(1.0),
            start: None,
            id_base: None,
            verbose: false,
            aircall: None,
            media_base: None,
        }
    }

    /// Keeping the Aircall emulator at `url` in step with the calls played.
    pub fn aircall(mut self, url: &str) -> Self {
        self.aircall = Some(url.trim_end_matches('/').to_string());
        self
    }

    /// With recording, voicemail and MMS links on `url` (see [`PlayOptions::media_base`]).
    pub fn media_base(mut self, url: &str) -> Self {
        self.media_base = Some(url.trim_end_matches('/').to_string());
        self
    }

    /// With another speed.
    pub fn speed(mut self, speed: Speed) -> Self {
        self.speed = speed;
        self
    }

    fn url(&self) -> String {
        let to = self.to.trim_end_matches('/');
        match url::Url::parse(to) {
            Ok(u) if u.path() == "/" || u.path().is_empty() => format!("{to}/webhooks/aircall"),
            _ => to.to_string(),
        }
    }
}

/// A webhook the host did not accept (or a call the Aircall emulator did not take).
#[derive(Debug, Clone)]
pub struct Rejected {
    /// The event (of the webhook, or that the call upsert preceded).
    pub event: String,
    /// HTTP status (0 = no answer).
    pub status: u16,
    /// The answer or the transport error.
    pub body: String,
}

/// What a play did.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Webhooks accepted (2xx).
    pub posted: usize,
    /// Webhooks not accepted.
    pub rejected: Vec<Rejected>,
    /// Call upserts the Aircall emulator refused or did not answer.
    pub aircall_failed: Vec<Rejected>,
    /// Ids of the calls played, all copies.
    pub call_ids: Vec<u64>,
}

/// Plays every copy of `scenario` (at once) and waits for the last webhook.
pub async fn play(scenario: &Scenario, world: &World, options: &PlayOptions) -> anyhow::Result<Report> {
    // Err only means a provider is installed already.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let world = scenario.world(world);
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build()?;
    let url = options.url();
    let start = options.start.unwrap_or_else(|| crate::clock::now_ms() / 1000);
    // Ids from the clock (ms × 100) stay below 2^53, so JSON readers keep them exact.
    let base = options.id_base.unwrap_or_else(|| (crate::clock::now_ms().max(0) as u64) * 100);
    let per_copy = (scenario.call.len() + scenario.message.len() + 1) as u64;
    let mut tasks = Vec::new();
    for copy in 0..scenario.copies {
        let steps = scenario.step.clone();
        let (client, url, options) = (client.clone(), url.clone(), options.clone());
        let (world, scenario) = (world.clone(), scenario.clone());
        tasks.push(tokio::spawn(async move {
            let id_base = base + u64::from(copy) * per_copy;
            let mut timeline = Timeline::with_media(&scenario, &world, start, id_base, copy, options.media_base.as_deref())
                .map_err(|e| anyhow::anyhow!(e))?;
            let mut report = Report { call_ids: timeline.call_ids(), ..Report::default() };
            let began = tokio::time::Instant::now();
            for step in &steps {
                if let Speed::Times(f) = options.speed {
                    let due = began + Duration::from_secs_f64(step.at / f);
                    tokio::time::sleep_until(due).await;
                }
                let hook = timeline.apply(step).map_err(|e| anyhow::anyhow!(e))?;
                if let (Some(aircall), Some(call)) = (&options.aircall, &hook.call_rest)
                    && let Err((status, body)) = upsert_call(&client, aircall, call).await
                {
                    report.aircall_failed.push(Rejected { event: hook.event.clone(), status, body });
                }
                post(&client, &url, &options, &hook, step.at, &mut report).await;
            }
            anyhow::Ok(report)
        }));
    }
    let mut total = Report::default();
    for t in tasks {
        let r = t.await??;
        total.posted += r.posted;
        total.rejected.extend(r.rejected);
        total.aircall_failed.extend(r.aircall_failed);
        total.call_ids.extend(r.call_ids);
    }
    Ok(total)
}

/// `POST {aircall}/_sandbox/calls` with the call's REST view; `Err((status, body))`
/// when it was not taken (status 0 = no answer).
async fn upsert_call(client: &reqwest::Client, aircall: &str, call: &serde_json::Value) -> Result<(), (u16, String)> {
    let url = format!("{aircall}/_sandbox/calls");
    let mut last = (0u16, String::new());
    for attempt in 0..3u32 {
        match client.post(&url).json(call).send().await {
            Ok(r) if r.status().is_success() => return Ok(()),
            Ok(r) => {
                let status = r.status().as_u16();
                return Err((status, r.text().await.unwrap_or_default()));
            }
            Err(e) => {
                last = (0, format!("{url}: {e}"));
                tokio::time::sleep(Duration::from_millis(100 << attempt)).await;
            }
        }
    }
    Err(last)
}

async fn post(client: &reqwest::Client, url: &str, options: &PlayOptions, hook: &Webhook, at: f64, report: &mut Report) {
    let body = hook.envelope(&options.token);
    let mut last = (0u16, String::new());
    // A host that is (re)starting refuses connections for a moment.
    for attempt in 0..5u32 {
        match client.post(url).json(&body).send().await {
            Ok(r) => {
                let status = r.status().as_u16();
                let text = r.text().await.unwrap_or_default();
                last = (status, text);
                break;
            }
            Err(e) => {
                last = (0, e.to_string());
                tokio::time::sleep(Duration::from_millis(100 << attempt)).await;
            }
        }
    }
    let ok = (200..300).contains(&last.0);
    if options.verbose {
        let subject = hook.data["id"].to_string();
        eprintln!(
            "  +{at:>7.1}s  {:<32} {:<22} → {}",
            hook.event,
            subject,
            if last.0 == 0 { "no answer".to_string() } else { last.0.to_string() }
        );
    }
    if ok {
        report.posted += 1;
    } else {
        report.rejected.push(Rejected { event: hook.event.clone(), status: last.0, body: last.1 });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bundled_scenario_parses_and_builds_its_webhooks() {
        let world = World::bundled().unwrap_or_default();
        assert!(!files::BUNDLED.is_empty());
        for name in bundled_names() {
            let s = bundled(name, &world).unwrap_or_else(|e| panic!("{e}"));
            assert!(!s.step.is_empty(), "{name} has no steps");
            let w = s.world(&world);
            let mut t = Timeline::new(&s, &w, 1_700_000_000, 1, 0).unwrap_or_else(|e| panic!("{name}: {e}"));
            for step in &s.step {
                let hook = t.apply(step).unwrap_or_else(|e| panic!("{name}: {e}"));
                let parsed = crate::aircall::model::ParsedEvent::parse(&hook.event, &hook.data);
                assert!(matches!(parsed, Ok(Some(_))), "{name}: {} is not understood by the host: {:?}", hook.event, parsed.err());
            }
        }
    }

    const ANSWERED: &str = r#"
        [[call]]
        key = "c"
        direction = "inbound"
        number = "support-fr"
        from = "+33 6 12 34 56 {n}"
        [[step]]
        at = 0
        call = "c"
        event = "call.created"
        [[step]]
        at = 100
        call = "c"
        event = "call.hungup"
        [[step]]
        at = 10
        call = "c"
        event = "call.answered"
        user = "ada"
        [[step]]
        at = 130
        call = "c"
        event = "call.ended"
        [[step]]
        at = 7400
        call = "c"
        event = "call.tagged"
        tag = "VIP"
    "#;

    #[test]
    fn steps_change_the_call_as_aircall_does() {
        let world = World::bundled().unwrap_or_default();
        let s = Scenario::parse("t", ANSWERED, &world).unwrap_or_else(|e| panic!("{e}"));
        let mut t = Timeline::new(&s, &world, 1000, 41, 1).unwrap_or_else(|e| panic!("{e}"));
        let hooks: Vec<Webhook> = s.step.iter().map(|st| t.apply(st).unwrap_or_else(|e| panic!("{e}"))).collect();
        let events: Vec<&str> = hooks.iter().map(|h| h.event.as_str()).collect();
        assert_eq!(events, ["call.created", "call.answered", "call.hungup", "call.ended", "call.tagged"], "sorted by time");
        assert_eq!(hooks[0].data["raw_digits"], "+33 6 12 34 56 02", "copy 1 fills {{n}} with 02");
        assert_eq!(hooks[0].data["id"], 42);
        assert_eq!(hooks[1].data["status"], "answered");
        assert_eq!(hooks[1].data["answered_at"], 1010);
        assert_eq!(hooks[1].data["user"]["email"], "ada@example.com");
        assert_eq!(hooks[2].data["status"], "done");
        assert_eq!(hooks[2].data["duration"], 100);
        assert!(hooks[2].data["recording"].is_null(), "no recording before call.ended");
        assert!(hooks[3].data["recording"].is_string());
        assert_eq!(hooks[4].timestamp, 8400);
        assert_eq!(hooks[4].data["tags"][0]["name"], "VIP");
        assert_eq!(hooks[4].data["tags"][0]["tagged_by"]["id"], 1001);
    }

    #[test]
    fn mistakes_are_named() {
        let world = World::bundled().unwrap_or_default();
        let bad_user = ANSWERED.replace("user = \"ada\"", "user = \"nobody\"");
        let e = Scenario::parse("t", &bad_user, &world).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("step 3") && e.contains("no user `nobody`"), "{e}");
        let no_tag = ANSWERED.replace("tag = \"VIP\"", "");
        let e = Scenario::parse("t", &no_tag, &world).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("needs `tag`"), "{e}");
        assert!("0".parse::<Speed>().is_err());
        assert_eq!("max".parse::<Speed>(), Ok(Speed::Max));
        assert_eq!("30".parse::<Speed>(), Ok(Speed::Times(30.0)));
    }
}
