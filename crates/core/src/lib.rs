//! openclaw-sessions core: spawns and drives coding-agent CLIs (Claude Code, Codex), parses
//! their event streams, tracks each session's status and keeps its history. Pure Rust, no napi:
//! the binding crate converts and forwards.

pub mod binaries;
pub mod delivery;
pub mod driver;
pub mod error;
pub mod event;
pub mod ingest;
pub mod launch;
pub mod lifecycle;
pub mod listeners;
pub mod manager;
pub mod metrics;
pub mod notifications;
pub mod notify;
pub mod options;
pub mod output;
pub mod process;
pub mod protocol;
pub mod resume;
pub mod router;
pub mod session;
pub mod snapshot;
pub mod stats;
pub mod store;
mod store_writer;

pub use error::{Error, Result};
pub use event::{AgentEvent, EventPayload, Status, StatusReason, Usage};
pub use manager::{ListFilter, Manager, Stats};
pub use options::{Backend, ManagerOptions, Origin, SpawnOptions};
pub use session::{EndReason, SessionInfo};
