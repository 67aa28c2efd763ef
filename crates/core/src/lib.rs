#![warn(unreachable_pub)]
//! openclaw-sessions core: spawns and drives coding-agent CLIs (Claude Code, Codex), parses
//! their event streams, tracks each session's status and keeps its history. Pure Rust, no napi:
//! the binding crate converts and forwards.
//!
//! Layers, each a folder, each depending only on the ones above it:
//! - [`model`]: errors, events and statuses, options, session snapshots, notifications.
//! - [`protocol`]: the CLIs' wire formats (Claude stream-json, Codex exec JSONL and app-server
//!   JSON-RPC): argument lists, parsers, message builders. No I/O.
//! - [`process`]: spawning process groups, signals, the line reader, finding the binaries.
//! - [`store`]: the SQLite store: sessions, the notification ledger, the background writer.
//! - [`session`]: one session's state machine and the live session that drives its CLI.
//! - [`notify`]: when to notify (router), where (channels), and delivering exactly once.
//! - [`manager`]: the public facade: spawn, send, stop, resume, list, stats, metrics.

pub mod manager;
pub mod model;
pub mod notify;
pub(crate) mod process;
pub mod protocol;
pub mod session;
pub mod store;

pub use manager::{
  CanResumeOptions, CanResumeReason, ListFilter, Manager, RegisterOptions, Resumability, Scope,
  Stats,
};
pub use model::error::{Error, Result};
pub use model::event::{AgentEvent, EndReason, EventPayload, Status, StatusReason, Usage};
pub use model::info::SessionInfo;
pub use model::options::{Backend, ManagerOptions, Origin, SpawnOptions};
pub use model::turn::{TurnEnd, TurnResult};
