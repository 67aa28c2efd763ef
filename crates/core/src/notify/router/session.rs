//! What the router keeps per session: its labels and channel, the turn and timer generations,
//! the output lines for foreground catch-up, and the failure context of terminal
//! notifications.

use super::{CATCH_UP_LINES, STDERR_LINES};
use crate::model::event::{Status, StatusReason};
use serde_json::Value;
use std::collections::{BTreeMap, VecDeque};
use tokio::time::Instant;

#[derive(Default)]
pub(super) struct Session {
  pub(super) name: Option<String>,
  pub(super) workdir: String,
  pub(super) origin_channel: Option<String>,
  pub(super) status: Option<Status>,
  /// Turns ended so far.
  pub(super) turn: u32,
  pub(super) waiting_gen: u64,
  pub(super) waiting_reason: Option<StatusReason>,
  pub(super) safety_gen: u64,
  pub(super) safety_armed: bool,
  pub(super) last_activity: Option<Instant>,
  pub(super) long_running_sent: bool,
  /// The `recovering` notification went out (once per session, not per attempt).
  pub(super) recovering_sent: bool,
  pub(super) started: u64,
  /// The running (or last ended) turn's text, for a question's notification.
  pub(super) turn_text: String,
  /// The turn `turn_text` belongs to has ended: the next turn's first text replaces it (turns
  /// may run back to back with no `waiting-for-input` fired between them).
  pub(super) turn_done: bool,
  pub(super) lines: VecDeque<(u64, String)>,
  pub(super) line_no: u64,
  pub(super) foreground: BTreeMap<String, u64>,
  pub(super) fg_gen: u64,
  pub(super) fg_armed: bool,
  pub(super) cost: f64,
  pub(super) stderr: VecDeque<String>,
  pub(super) exit_code: Option<i32>,
  pub(super) signal: Option<i32>,
  pub(super) last_error: Option<String>,
  pub(super) permission: Option<(String, String, Value)>,
}

impl Session {
  pub(super) fn label(&self, id: &str) -> String {
    self
      .name
      .clone()
      .unwrap_or_else(|| id.chars().take(8).collect())
  }

  pub(super) fn last_lines(&self, n: usize) -> Vec<String> {
    let skip = self.lines.len().saturating_sub(n);
    self
      .lines
      .iter()
      .skip(skip)
      .map(|(_, l)| l.clone())
      .collect()
  }

  /// The output lines after line number `from`.
  pub(super) fn lines_after(&self, from: u64) -> Vec<String> {
    self
      .lines
      .iter()
      .filter(|(n, _)| *n > from)
      .map(|(_, l)| l.clone())
      .collect()
  }

  /// Assistant text: added to the turn's text (a new turn's first text starts it over) and,
  /// line by line, to the catch-up lines.
  pub(super) fn push_text(&mut self, text: &str) {
    if std::mem::take(&mut self.turn_done) {
      self.turn_text.clear();
    }
    if !self.turn_text.is_empty() {
      self.turn_text.push('\n');
    }
    self.turn_text.push_str(text);
    for line in text.lines() {
      self.line_no += 1;
      self.lines.push_back((self.line_no, line.to_owned()));
      if self.lines.len() > CATCH_UP_LINES {
        self.lines.pop_front();
      }
    }
  }

  pub(super) fn push_stderr(&mut self, line: &str) {
    self.stderr.push_back(line.to_owned());
    if self.stderr.len() > STDERR_LINES {
      self.stderr.pop_front();
    }
  }
}
