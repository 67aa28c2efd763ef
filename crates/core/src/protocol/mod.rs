//! Wire formats, one module per agent CLI. Each builds its command line, parses the CLI's output
//! stream into [`crate::event::EventPayload`]s and writes its stdin messages. No I/O here.

pub mod claude;

/// A parse failure of one output line. The session records it as a non-fatal `error` event
/// and goes on: one bad line never ends a session.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unparsable output line ({len} bytes): {reason}")]
pub struct ParseError {
  pub len: usize,
  pub reason: String,
}
