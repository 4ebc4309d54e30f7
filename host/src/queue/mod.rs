//! Dispatch: jobs run one at a time per lane (integration + external party, see
//! [`lane`]), in arrival order; lanes run in parallel up to the configured concurrency. A
//! failing job blocks only its own lane; a paused integration holds its lanes.

pub mod backoff;
mod claim;
pub mod lane;
mod run;
mod scheduler;

pub use run::{JobRunner, Outcome};
pub use scheduler::{Dispatcher, Skip};
