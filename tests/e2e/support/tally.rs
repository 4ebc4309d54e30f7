//! What a kill soak found: every acknowledged event must be exactly one note
//! (matched by the note's `external_id`, the event id) and one call's notes must
//! follow the order of its events. Shared by `soak` (one host) and `scaleout`
//! (three hosts).

use serde_json::Value;
use std::collections::HashMap;

/// Lost, duplicated and reordered, counted from the notes' bodies.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Found {
    /// Acknowledged events without a note.
    pub lost: usize,
    /// Notes beyond the first of an event.
    pub duplicated: usize,
    /// Calls whose notes arrived out of the order of their events.
    pub reordered: usize,
}

/// Counts against `acked` (event id → (call, step)) over the notes in arrival order.
pub fn count<'a>(notes: impl IntoIterator<Item = &'a Value>, acked: &HashMap<String, (u64, usize)>) -> Found {
    let mut per_event: HashMap<&str, usize> = HashMap::new();
    let mut per_call: HashMap<u64, Vec<usize>> = HashMap::new();
    for body in notes {
        let Some(id) = body["external_id"].as_str() else { continue };
        *per_event.entry(id).or_default() += 1;
        if let Some((call, step)) = acked.get(id) {
            per_call.entry(*call).or_default().push(*step);
        }
    }
    Found {
        lost: acked.keys().filter(|id| !per_event.contains_key(id.as_str())).count(),
        duplicated: per_event.values().map(|n| n.saturating_sub(1)).sum(),
        reordered: per_call.values().filter(|steps| steps.windows(2).any(|w| w[0] > w[1])).count(),
    }
}
