//! One session: its state machine (`state`: statuses, turns, the bounded history), the live
//! session that owns a running CLI (`live`), the task reading its stdout (`reader`), how a
//! backend's process is started and its turns begun (`launch`), timeouts and stops
//! (`lifecycle`), and the event listeners (`listeners`).

pub(crate) mod launch;
pub(crate) mod lifecycle;
pub(crate) mod listeners;
pub(crate) mod live;
pub(crate) mod reader;
pub(crate) mod resumable;
pub mod state;

pub use state::*;
