//! `GET /activity`: what happened to a call. Search by call id, by the
//! customer's number in any format (normalised by the phone engine, as the
//! queue does for its lanes; a national number no integration's region reads
//! is matched by its digits against the end of every lane when nothing else
//! is found), or by time; each call shows the events received
//! (with their origin: webhook, reconciled, backfill), each integration's job
//! with its attempts and state, and the journal of a job that has not finished
//! (a finished job's journal is dropped). Secrets are masked.

use crate::console::{Admin, ConsoleState, failure, mask, render, when};
use crate::store::{EventSearch, JobState, JobSummary, StoredEvent};
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use switchboard_phone::Normalized;

/// Events shown at most.
const LIMIT: u32 = 200;

struct JournalRow {
    seq: u32,
    answered: bool,
    preview: String,
}

struct JobRow {
    id: i64,
    integration: String,
    state: &'static str,
    class: &'static str,
    attempts: u32,
    detail: String,
    journal: Vec<JournalRow>,
    journal_note: String,
}

struct EventRow {
    id: i64,
    name: String,
    origin: &'static str,
    received: String,
    summary: String,
    body: String,
    jobs: Vec<JobRow>,
}

struct CallGroup {
    title: String,
    events: Vec<EventRow>,
}

#[derive(Template)]
#[template(path = "console/activity.html")]
struct ActivityPage {
    nav: &'static str,
    csrf: String,
    q: String,
    from: String,
    until: String,
    searched_for: String,
    error: Option<String>,
    groups: Vec<CallGroup>,
}

/// `2026-11-29T12:00` or `2026-11-29 12:00[:00]` (UTC) → ms since the epoch.
pub fn parse_time(text: &str) -> Option<i64> {
    let text = text.trim().replace('T', " ");
    let long = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    let short = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
    let day = time::macros::format_description!("[year]-[month]-[day]");
    let t = time::PrimitiveDateTime::parse(&text, &long)
        .or_else(|_| time::PrimitiveDateTime::parse(&text, &short))
        .or_else(|_| time::Date::parse(&text, &day).map(|d| d.midnight()))
        .ok()?;
    i64::try_from(t.assume_utc().unix_timestamp_nanos() / 1_000_000).ok()
}

/// What a search text can mean.
#[derive(Debug, Default, PartialEq)]
pub struct Meaning {
    /// A call id (the text is digits only).
    pub call_id: Option<u64>,
    /// Lanes of the number, normalised with each region the integrations use.
    pub lanes: BTreeSet<String>,
    /// A number in national format without a country: its significant digits
    /// (trunk `0`s dropped, at least 6), matched against the end of the lanes,
    /// whatever the country of the line that took the call.
    pub national_digits: Option<String>,
}

/// Read a search text: call id, phone number in any format, or both.
pub fn interpret(q: &str, regions: &[Option<String>]) -> Meaning {
    let q = q.trim();
    let call_id = if !q.is_empty() && q.len() <= 19 && q.chars().all(|c| c.is_ascii_digit()) { q.parse().ok() } else { None };
    let mut lanes = BTreeSet::new();
    for region in regions {
        if let Ok(Normalized::Number(e164)) = switchboard_phone::normalize(q, region.as_deref()) {
            lanes.insert(format!("party:{e164}"));
        }
    }
    let phone_like = q.chars().all(|c| c.is_ascii_digit() || " -./()".contains(c));
    let digits: String = q.chars().filter(char::is_ascii_digit).collect();
    let significant = digits.trim_start_matches('0');
    let national_digits = (phone_like && significant.len() >= 6).then(|| significant.to_string());
    Meaning { call_id, lanes, national_digits }
}

/// The call (or message) an event is about, for grouping.
fn subject(event: &StoredEvent, body: &serde_json::Value) -> String {
    let data = &body["data"];
    if let Some(call) = data["call_id"].as_u64() {
        return format!("Call {call}");
    }
    match (event.event_name.split('.').next(), data["id"].as_u64()) {
        (Some("call"), Some(id)) => format!("Call {id}"),
        (Some("message"), Some(id)) => format!("Message {id}"),
        _ => format!("Event {}", event.id),
    }
}

fn summary(body: &serde_json::Value) -> String {
    let data = &body["data"];
    let mut parts = Vec::new();
    for key in ["direction", "status"] {
        if let Some(v) = data[key].as_str() {
            parts.push(v.to_string());
        }
    }
    if let Some(v) = data["raw_digits"].as_str().or_else(|| data["external_number"].as_str()) {
        parts.push(format!("customer {v}"));
    }
    if let Some(v) = data["number"]["name"].as_str() {
        parts.push(format!("line {v}"));
    }
    parts.join(" · ")
}

/// The readable parts of a recorded outcome (strings in its encoding), masked.
fn preview(result: &[u8], config: &crate::config::Config) -> String {
    let text = String::from_utf8_lossy(result);
    let readable: String = text.chars().map(|c| if c.is_control() && c != '\n' { ' ' } else { c }).collect();
    let squeezed = readable.split_whitespace().collect::<Vec<_>>().join(" ");
    let masked = mask(&squeezed, config);
    if masked.chars().count() > 600 { format!("{}…", masked.chars().take(600).collect::<String>()) } else { masked }
}

async fn job_row(state: &ConsoleState, job: &JobSummary) -> JobRow {
    let (word, class) = match job.state {
        JobState::Done => ("done", "ok"),
        JobState::Dead => ("dead letter", "bad"),
        JobState::Queued if job.attempts > 0 => ("retrying", "warn"),
        JobState::Queued => ("queued", "warn"),
    };
    let detail = match job.state {
        JobState::Done => job.finished_at_ms.map(|t| format!("finished {}", when(t))).unwrap_or_default(),
        JobState::Dead => format!("{} ({})", job.last_error.as_deref().unwrap_or(""), job.finished_at_ms.map(when).unwrap_or_default()),
        JobState::Queued => match &job.last_error {
            Some(e) => format!("last error: {e}; next attempt {}", when(job.next_run_at_ms)),
            None => String::new(),
        },
    };
    let (journal, journal_note) = if job.state == JobState::Done {
        (Vec::new(), "journal dropped when the job finished".to_string())
    } else {
        match state.app.store.journal(job.id).await {
            Ok(entries) => {
                let rows: Vec<JournalRow> = entries
                    .iter()
                    .map(|e| JournalRow { seq: e.seq, answered: e.done, preview: preview(&e.result, &state.app.live.load()) })
                    .collect();
                let note = if rows.is_empty() { "no effect recorded".to_string() } else { String::new() };
                (rows, note)
            }
            Err(e) => (Vec::new(), format!("journal unreadable: {e}")),
        }
    };
    JobRow {
        id: job.id,
        integration: job.integration.clone(),
        state: word,
        class,
        attempts: job.attempts,
        detail: mask(&detail, &state.app.live.load()),
        journal,
        journal_note,
    }
}

/// `GET /activity?q=…&from=…&until=…`
pub async fn page(admin: Admin, State(state): State<ConsoleState>, Query(params): Query<HashMap<String, String>>) -> Response {
    let get = |k: &str| params.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
    let (q, from, until) = (get("q"), get("from"), get("until"));
    let mut error = None;
    let mut bound = |text: &str, what: &str| {
        if text.is_empty() {
            return None;
        }
        let t = parse_time(text);
        if t.is_none() {
            error = Some(format!("{what}: {text:?} is not a time (2026-11-29 14:05, UTC)"));
        }
        t
    };
    let (from_ms, until_ms) = (bound(&from, "from"), bound(&until, "until"));
    let mut regions: Vec<Option<String>> = state.app.live.load().integrations.iter().map(|i| i.default_region.clone()).collect();
    regions.push(None);
    regions.sort();
    regions.dedup();
    let Meaning { call_id, lanes, national_digits } = interpret(&q, &regions);
    let mut searched = Vec::new();
    let mut searches = Vec::new();
    if !q.is_empty() {
        if let Some(id) = call_id {
            searched.push(format!("call {id}"));
            searches.push(EventSearch { call_id: Some(id), from_ms, until_ms, limit: LIMIT, ..Default::default() });
        }
        for lane in &lanes {
            searched.push(lane.trim_start_matches("party:").to_string());
            searches.push(EventSearch { ordering_key: Some(lane.clone()), from_ms, until_ms, limit: LIMIT, ..Default::default() });
        }
        if searches.is_empty() && national_digits.is_none() && error.is_none() {
            error = Some(format!("{q:?} is neither a call id nor a phone number the phone engine can read"));
        }
    } else {
        searched.push("the latest events".into());
        searches.push(EventSearch { from_ms, until_ms, limit: 50, ..Default::default() });
    }
    let mut events: BTreeMap<i64, StoredEvent> = BTreeMap::new();
    for search in searches {
        match state.app.store.find_events(search).await {
            Ok(found) => events.extend(found.into_iter().map(|e| (e.id, e))),
            Err(e) => return failure("searching events", e),
        }
    }
    // A number in national format whose country no integration's region
    // gives: the lanes ending in its digits, whatever the country. Only when
    // the exact searches found nothing, as it reads every lane of the store.
    if let Some(digits) = national_digits.filter(|_| events.is_empty() && !q.is_empty()) {
        searched.push(format!("numbers ending in {digits}"));
        let search = EventSearch { party_digits_suffix: Some(digits), from_ms, until_ms, limit: LIMIT, ..Default::default() };
        match state.app.store.find_events(search).await {
            Ok(found) => events.extend(found.into_iter().map(|e| (e.id, e))),
            Err(e) => return failure("searching events", e),
        }
    }
    let jobs = match state.app.store.jobs_of_events(events.keys().copied().collect()).await {
        Ok(j) => j,
        Err(e) => return failure("reading jobs", e),
    };
    // Groups in the order of their newest event; events oldest first inside.
    let mut groups: Vec<CallGroup> = Vec::new();
    for event in events.values().rev() {
        let body: serde_json::Value = serde_json::from_str(&event.body).unwrap_or(serde_json::Value::Null);
        let title = subject(event, &body);
        let mut job_rows = Vec::new();
        for job in jobs.iter().filter(|j| j.event_id == event.id) {
            job_rows.push(job_row(&state, job).await);
        }
        let pretty = serde_json::to_string_pretty(&body).unwrap_or_else(|_| event.body.clone());
        let row = EventRow {
            id: event.id,
            name: event.event_name.clone(),
            origin: event.origin.as_str(),
            received: when(event.received_at_ms),
            summary: mask(&summary(&body), &state.app.live.load()),
            body: mask(&pretty, &state.app.live.load()),
            jobs: job_rows,
        };
        match groups.iter_mut().find(|g| g.title == title) {
            Some(g) => g.events.insert(0, row),
            None => groups.push(CallGroup { title, events: vec![row] }),
        }
    }
    render(ActivityPage { nav: "activity", csrf: admin.csrf, q, from, until, searched_for: searched.join(", "), error, groups })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_in_any_format_gives_its_lane_and_digits_may_be_a_call_id() {
        let regions = vec![Some("FR".to_string()), None];
        let m = interpret("07 62 04 35 75", &regions);
        assert_eq!(m.call_id, None);
        assert_eq!(m.lanes.into_iter().collect::<Vec<_>>(), vec!["party:+33762043575".to_string()]);
        assert_eq!(m.national_digits.as_deref(), Some("762043575"), "trunk 0 dropped");
        let m = interpret("+33 7 62 04 35 75", &[None]);
        assert_eq!((m.call_id, m.lanes.len(), m.national_digits), (None, 1, None), "an international number is exact");
        let m = interpret("0762043575", &regions);
        assert_eq!(m.call_id, Some(762_043_575), "digits may be a call id too");
        assert!(m.lanes.contains("party:+33762043575"));
        let m = interpret("1234", &[None]);
        assert_eq!((m.call_id, m.lanes.len(), m.national_digits), (Some(1234), 0, None), "too short for a number");
        assert_eq!(interpret("call me", &[None]), Meaning::default());
    }

    #[test]
    fn times_are_read_as_utc() {
        assert_eq!(parse_time("1970-01-01T00:01"), Some(60_000));
        assert_eq!(parse_time("1970-01-01 00:00:02"), Some(2_000));
        assert_eq!(parse_time("1970-01-02"), Some(86_400_000));
        assert_eq!(parse_time("yesterday"), None);
    }
}
