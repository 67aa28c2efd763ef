//! Wire formats, one module per agent CLI. Each builds its command line, parses the CLI's output
//! stream into [`crate::model::event::EventPayload`]s and writes its stdin messages. No I/O here.

pub mod claude;
pub mod codex;
pub mod jsonrpc;
mod wire;

pub use wire::{decode_typed, lenient, type_of, Key, Lenient};

use crate::model::event::EventPayload;
use serde_json::Value;

/// A parse failure of one output line. The session records it as a non-fatal `error` event
/// and goes on: one bad line never ends a session.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unparsable output line ({len} bytes): {reason}")]
pub struct ParseError {
  pub len: usize,
  pub reason: String,
}

/// Decodes one output line as JSON; `None` for a blank line. Every backend's wire format is
/// one JSON value per line. Through `serde_json::Value`, so duplicate keys keep the last value.
pub fn decode(line: &str) -> Result<Option<Value>, ParseError> {
  let trimmed = line.trim();
  if trimmed.is_empty() {
    return Ok(None);
  }
  serde_json::from_str(trimmed)
    .map(Some)
    .map_err(|e| ParseError {
      len: line.len(),
      reason: e.to_string(),
    })
}

pub use crate::model::options::PermissionAnswer;

/// A JSON-RPC error object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcError {
  pub code: i64,
  pub message: String,
}

/// What one output line of any backend means to the driver.
#[derive(Debug, Clone, PartialEq)]
pub enum Inbound {
  /// Something that happened in the session.
  Event(EventPayload),
  /// The answer to one of our JSON-RPC requests.
  Response {
    id: u64,
    result: Result<Value, RpcError>,
  },
  /// A JSON-RPC request from the CLI (e.g. an approval) that must be answered.
  Request {
    id: Value,
    method: String,
    params: Value,
  },
}

/// A stateful output parser for one process of one backend.
pub enum Parser {
  Claude,
  CodexExec(codex::exec::ExecParser),
  CodexAppServer(codex::app_server::AppServerParser),
}

impl Parser {
  /// Parses one output line.
  pub fn parse_line(&mut self, line: &str) -> Result<Vec<Inbound>, ParseError> {
    let events = |v: Vec<EventPayload>| v.into_iter().map(Inbound::Event).collect();
    match self {
      Parser::Claude => claude::parse_line(line).map(events),
      Parser::CodexExec(p) => p.parse_line(line).map(events),
      Parser::CodexAppServer(p) => p.parse_line(line),
    }
  }
}
