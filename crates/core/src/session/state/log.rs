//! The session's bounded memory: the event log (stamped events, oldest dropped first) and the
//! tails of assistant output and stderr.

use super::SessionState;
use crate::model::event::{now_ms, AgentEvent, Ev, EventPayload};
use crate::process::truncate;

impl SessionState {
  /// The last `n` lines of assistant text, oldest first.
  pub fn output(&self, n: usize) -> Vec<String> {
    self.output.last(n)
  }

  /// Logged events with `seq > since_seq`, optionally only of the given kinds.
  pub fn events(&self, since_seq: u64, kinds: &[String]) -> Vec<Ev> {
    self
      .events
      .iter()
      .filter(|e| e.seq > since_seq)
      .filter(|e| kinds.is_empty() || kinds.iter().any(|k| k == e.payload.kind()))
      .cloned()
      .collect()
  }

  /// Stamps, logs and returns one event.
  pub fn record(&mut self, payload: EventPayload) -> Ev {
    self.info.last_seq += 1;
    let now = self.read_at.unwrap_or_else(now_ms);
    self.info.updated_at = now;
    let ev = Ev::new(AgentEvent {
      seq: self.info.last_seq,
      session_id: std::sync::Arc::clone(&self.event_id),
      at: now,
      payload,
    });
    if self.events.len() >= self.limits.event_log {
      self.events.pop_front();
    }
    self.events.push_back(Ev::clone(&ev));
    ev
  }

  /// One line of stderr.
  pub fn stderr_line(&mut self, line: &str) -> Ev {
    let line = truncate(line, 8 * 1024);
    self.stderr.push(&line);
    self.record(EventPayload::Stderr { line })
  }
}
