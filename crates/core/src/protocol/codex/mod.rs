//! Codex CLI wire formats: `codex exec --json` (one process per turn, JSONL events) and
//! `codex app-server` (one process per session, JSON-RPC 2.0 over stdio without the `jsonrpc`
//! field). Both describe a turn as a sequence of *items*, decoded once in `items`.

pub mod app_server;
pub mod exec;
pub mod items;
