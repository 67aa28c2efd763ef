//! The router's longer notifications: `waiting-for-input` by its reason, foreground output
//! batches, and the terminal notifications with their failure context.

use super::{preview, preview_lines, Session, Task, LAST_LINES};
use crate::model::event::{now_ms, Status, StatusReason};
use crate::notify::failure_hint;
use serde_json::{json, Value};

impl Task {
  /// The debounced `waiting-for-input`: a permission request, a question, or the turn's end
  /// with its last line. The turn's text starts over.
  pub(super) fn waiting_for_input(&mut self, id: &str) {
    let Some(s) = self.sessions.get_mut(id) else {
      return;
    };
    let reason = s.waiting_reason.unwrap_or(StatusReason::TurnEnded);
    let (label, turn) = (s.label(id), s.turn);
    let last = s.last_lines(1).pop().unwrap_or_default();
    let (key, text, data) = match (reason, s.permission.clone()) {
      (StatusReason::Permission, Some((req, tool, input))) => (
        format!("{id}:waiting-for-input:{turn}:permission:{req}"),
        format!(
          "🔐 Session {label} wants to use {tool}: {}",
          preview(&input.to_string())
        ),
        json!({ "reason": "permission", "turn": turn, "permission": { "requestId": req, "toolName": tool, "input": input } }),
      ),
      (StatusReason::Question, _) => (
        format!("{id}:waiting-for-input:{turn}"),
        format!("❓ Session {label} asks: {}", s.turn_text.trim()),
        json!({ "reason": "question", "turn": turn, "question": s.turn_text.trim() }),
      ),
      _ => (
        format!("{id}:waiting-for-input:{turn}"),
        format!(
          "⏸️ Session {label} is waiting for input. Last: {}",
          preview(&last)
        ),
        json!({ "reason": "turn-ended", "turn": turn, "lastLine": last }),
      ),
    };
    s.turn_text.clear();
    self.notify(id, "waiting-for-input", key, text, data);
  }

  /// Sends each foreground channel the lines it has not seen, as one `output` notification.
  pub(super) fn flush_foreground(&mut self, id: &str) {
    let Some(s) = self.sessions.get_mut(id) else {
      return;
    };
    let label = s.label(id);
    let mut out = Vec::new();
    for (channel, offset) in s.foreground.iter_mut() {
      let lines: Vec<String> = s
        .lines
        .iter()
        .filter(|(n, _)| *n > *offset)
        .map(|(_, l)| l.clone())
        .collect();
      if lines.is_empty() {
        continue;
      }
      let (from, to) = (*offset + 1, s.line_no);
      *offset = s.line_no;
      out.push((channel.clone(), from, to, lines));
    }
    for (channel, from, to, lines) in out {
      self.notify_to(
        id,
        &channel,
        "output",
        format!("{id}:output:{from}-{to}:{channel}"),
        format!("💬 {label}:\n{}", lines.join("\n")),
        json!({ "lines": lines, "fromLine": from, "toLine": to }),
      );
    }
  }

  pub(super) fn terminal(&mut self, id: &str, status: Status, end_reason: Option<String>) {
    self.flush_foreground(id);
    let Some(s) = self.sessions.get_mut(id) else {
      return;
    };
    s.waiting_gen += 1;
    s.safety_gen += 1;
    s.fg_gen += 1;
    let label = s.label(id);
    let duration_ms = now_ms().saturating_sub(s.started);
    let last = s.last_lines(LAST_LINES);
    let mut data = json!({
      "status": status.as_str(),
      "endReason": end_reason,
      "costUsd": s.cost,
      "turns": s.turn,
      "durationMs": duration_ms,
      "lastLines": last,
    });
    let text = match status {
      Status::Completed => format!(
        "✅ Session {label} completed: {} turns, ${:.4}, {} s{}",
        s.turn,
        s.cost,
        duration_ms / 1000,
        preview_lines(&last)
      ),
      Status::Failed => failed_text(s, &label, &last, &mut data),
      Status::Interrupted => format!(
        "⏹️ Session {label} was interrupted ({}); it can be resumed",
        end_reason.as_deref().unwrap_or("user")
      ),
      _ => format!(
        "🛑 Session {label} was killed ({})",
        end_reason.as_deref().unwrap_or("user")
      ),
    };
    self.notify(
      id,
      status.as_str(),
      format!("{id}:{}", status.as_str()),
      text,
      data,
    );
    self.sessions.remove(id);
  }
}

/// The `failed` notification's text; its failure context (error, exit, stderr tail, hint)
/// goes into `data`.
fn failed_text(s: &Session, label: &str, last: &[String], data: &mut Value) -> String {
  let error = s
    .last_error
    .clone()
    .unwrap_or_else(|| "the session failed".into());
  let stderr: Vec<String> = s.stderr.iter().cloned().collect();
  let hint = failure_hint(&error, &stderr, s.exit_code);
  data["error"] = json!(error);
  data["exitCode"] = json!(s.exit_code);
  data["signal"] = json!(s.signal);
  data["stderrTail"] = json!(stderr);
  data["hint"] = json!(hint);
  let how = match (s.exit_code, s.signal) {
    (Some(c), _) => format!("exit code {c}"),
    (None, Some(sig)) => format!("signal {sig}"),
    _ => "no exit status".into(),
  };
  format!(
    "❌ Session {label} failed ({how}): {error}. Cost so far ${:.4}.{}\nHint: {hint}",
    s.cost,
    preview_lines(last)
  )
}
