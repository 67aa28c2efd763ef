//! Wire formats, one module per agent CLI. Each builds its command line, parses the CLI's output
//! stream into [`crate::event::EventPayload`]s and writes its stdin messages. No I/O here.

pub mod claude;
mod claude_messages;
pub mod codex_app_server;
pub mod codex_exec;
pub mod codex_items;

use crate::event::EventPayload;
use serde::{de::DeserializeOwned, Deserialize, Deserializer};
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

/// Reads one line through a typed wire message, the fast path every parser takes: `typed`
/// decodes the line into its wire struct (borrowing strings from the line) and maps it. The
/// line is trimmed first; a blank line gives `Ok(None)`.
///
/// When `typed` fails on a line that is JSON (a duplicate key such as the two `id`s of
/// web_search items, PROTOCOLS.md B2, or a field of an unexpected type), the line is read into
/// a `Value` (the last duplicate wins, as `JSON.parse` does), written out again and given to
/// `typed` once more; if that fails too, `other` gets the `Value`, so no JSON line is lost.
/// Only a line that is not JSON at all is an error.
pub fn decode_typed<R>(
  line: &str,
  mut typed: impl FnMut(&str) -> Result<R, serde_json::Error>,
  other: impl FnOnce(Value) -> R,
) -> Result<Option<R>, ParseError> {
  let trimmed = line.trim();
  if trimmed.is_empty() {
    return Ok(None);
  }
  if let Ok(r) = typed(trimmed) {
    return Ok(Some(r));
  }
  let v = decode(trimmed)?.unwrap_or(Value::Null);
  Ok(Some(match typed(&v.to_string()) {
    Ok(r) => r,
    Err(_) => other(v),
  }))
}

/// A field read leniently (`#[serde(default, deserialize_with = "lenient")]`): a value of
/// another type (a string where a number was expected) reads as absent instead of failing the
/// whole line.
pub fn lenient<'de, D: Deserializer<'de>, T: DeserializeOwned>(
  d: D,
) -> Result<Option<T>, D::Error> {
  Ok(T::deserialize(Value::deserialize(d)?).ok())
}

/// A value read leniently: one of another type reads as `None` (for hand-written visitors;
/// derived structs use [`lenient`]).
pub struct Lenient<T>(pub Option<T>);

impl<'de, T: DeserializeOwned> Deserialize<'de> for Lenient<T> {
  fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
    lenient(d).map(Lenient)
  }
}

/// An object key, borrowed from the line unless it has escapes.
pub struct Key<'a>(pub std::borrow::Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
  fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
    struct V;
    impl<'de> serde::de::Visitor<'de> for V {
      type Value = Key<'de>;
      fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an object key")
      }
      fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Key<'de>, E> {
        Ok(Key(s.into()))
      }
      fn visit_str<E>(self, s: &str) -> Result<Key<'de>, E> {
        Ok(Key(s.to_owned().into()))
      }
    }
    d.deserialize_str(V)
  }
}

/// The `type` of a message that is read as a `Value` (the rare path).
pub fn type_of(v: &Value) -> String {
  v.get("type")
    .and_then(Value::as_str)
    .unwrap_or("")
    .to_owned()
}

/// The answer to a permission / approval request.
#[derive(Debug, Clone, PartialEq)]
pub struct PermissionAnswer {
  pub allow: bool,
  /// Why, for a deny (Claude shows it to the model).
  pub message: Option<String>,
  /// Claude: the tool input to run with instead of the requested one.
  pub updated_input: Option<Value>,
}

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
  CodexExec(codex_exec::ExecParser),
  CodexAppServer(codex_app_server::AppServerParser),
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
