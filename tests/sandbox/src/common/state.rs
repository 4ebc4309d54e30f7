//! The in-memory state every emulator keeps: what its handlers change, what it
//! started from (for `POST /_sandbox/reset`), and the JSON views the control
//! routes serve.

use std::sync::{Mutex, MutexGuard};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::util::lock;

/// An emulator's state type: cloneable, serialisable, and seedable with records.
pub trait EmulatorState: Clone + Serialize + Send + Sync + 'static {
    /// Records a test or a person adds (`POST /_sandbox/seed`).
    type Seed: DeserializeOwned;
    /// Adds the records; records whose id exists replace the old one.
    fn add(&mut self, seed: Self::Seed);
}

/// The live state and the state it started with.
pub struct StateCell<S> {
    current: Mutex<S>,
    initial: S,
}

impl<S: EmulatorState> StateCell<S> {
    /// A cell that starts (and resets) to `initial`.
    pub fn new(initial: S) -> Self {
        Self { current: Mutex::new(initial.clone()), initial }
    }

    /// A copy of the current state.
    pub fn get(&self) -> S {
        lock(&self.current).clone()
    }

    /// The locked current state.
    pub fn lock(&self) -> MutexGuard<'_, S> {
        lock(&self.current)
    }

    /// Runs `f` on the current state.
    pub fn update<R>(&self, f: impl FnOnce(&mut S) -> R) -> R {
        f(&mut lock(&self.current))
    }

    /// Adds seed records.
    pub fn seed(&self, seed: S::Seed) {
        self.update(|s| s.add(seed));
    }
}

/// The type-erased view the control routes use.
pub trait StateControl: Send + Sync {
    /// The current state as JSON.
    fn snapshot(&self) -> Value;
    /// Back to the initial state.
    fn reset(&self);
    /// Adds seed records given as JSON; the error says what did not parse.
    fn seed_json(&self, body: Value) -> Result<(), String>;
}

impl<S: EmulatorState> StateControl for StateCell<S> {
    fn snapshot(&self) -> Value {
        serde_json::to_value(&*lock(&self.current)).unwrap_or(Value::Null)
    }

    fn reset(&self) {
        *lock(&self.current) = self.initial.clone();
    }

    fn seed_json(&self, body: Value) -> Result<(), String> {
        let seed: S::Seed = serde_json::from_value(body).map_err(|e| e.to_string())?;
        self.seed(seed);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde::Deserialize;

    #[derive(Clone, Serialize, Default)]
    struct Counter {
        items: Vec<u32>,
    }
    #[derive(Deserialize)]
    struct More {
        items: Vec<u32>,
    }
    impl EmulatorState for Counter {
        type Seed = More;
        fn add(&mut self, seed: More) {
            self.items.extend(seed.items);
        }
    }

    #[test]
    fn seed_snapshot_and_reset() {
        let cell = StateCell::new(Counter { items: vec![1] });
        cell.seed_json(serde_json::json!({ "items": [2, 3] })).unwrap();
        assert_eq!(cell.snapshot(), serde_json::json!({ "items": [1, 2, 3] }));
        assert!(cell.seed_json(serde_json::json!({ "nope": 1 })).unwrap_err().contains("items"));
        cell.reset();
        assert_eq!(cell.get().items, vec![1]);
    }
}
