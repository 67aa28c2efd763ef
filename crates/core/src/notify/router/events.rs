//! A session's events as the router sees them: status changes arm or cancel the timers and
//! end the session, output feeds foreground channels, and a few events notify at once.

use super::{preview, Task, Timer};
use crate::model::event::{EndReason, Ev, EventPayload, Status, StatusReason};
use serde_json::{json, Value};
use tokio::time::Instant;

impl Task {
  pub(super) fn event(&mut self, ev: Ev) {
    let id: &str = &ev.session_id;
    let Some(s) = self.sessions.get_mut(id) else {
      return;
    };
    s.last_activity = Some(Instant::now());
    match &ev.payload {
      EventPayload::Status {
        status,
        reason,
        end_reason,
        ..
      } => self.status(id, *status, *reason, *end_reason),
      EventPayload::AssistantText { text, .. } => self.assistant_text(id, text),
      EventPayload::ToolUse {
        tool_use_id,
        name,
        input,
        ..
      } => self.tool_use(id, tool_use_id, name, input),
      EventPayload::TurnCompleted { cost_usd, .. } => {
        s.turn += 1;
        s.cost += *cost_usd;
        s.turn_done = true;
      }
      EventPayload::Stderr { line } => s.push_stderr(line),
      EventPayload::Exit { exit_code, signal } => {
        s.exit_code = *exit_code;
        s.signal = *signal;
      }
      EventPayload::Error {
        message,
        fatal: true,
      } => s.last_error = Some(message.clone()),
      EventPayload::PermissionRequest {
        request_id,
        tool_name,
        input,
        ..
      } => s.permission = Some((request_id.clone(), tool_name.clone(), input.clone())),
      EventPayload::BudgetExhausted {
        total_cost_usd,
        max_budget_usd,
      } => self.budget_exhausted(id, *total_cost_usd, *max_budget_usd),
      EventPayload::AutoRespondLimit { count, max } => self.auto_respond_limit(id, *count, *max),
      EventPayload::Recovering {
        attempt,
        max_attempts,
        next_attempt_at,
        error,
        ..
      } => self.recovering(id, *attempt, *max_attempts, *next_attempt_at, error),
      _ => {}
    }
  }

  fn status(
    &mut self,
    id: &str,
    status: Status,
    reason: Option<StatusReason>,
    end_reason: Option<EndReason>,
  ) {
    let Some(s) = self.sessions.get_mut(id) else {
      return;
    };
    s.status = Some(status);
    match status {
      Status::Running => self.running(id),
      Status::WaitingForInput => self.waiting(id, reason),
      Status::Recovering => {
        // No turn runs until the attempt: nothing to wait for or to guard.
        s.waiting_gen += 1;
        s.safety_armed = false;
        s.safety_gen += 1;
      }
      Status::Starting => {}
      _ => {
        let end = end_reason
          .and_then(|e| serde_json::to_value(e).ok())
          .and_then(|v| v.as_str().map(str::to_owned));
        self.terminal(id, status, end)
      }
    }
  }

  /// A turn runs: a pending `waiting-for-input` is cancelled and the safety net armed.
  fn running(&mut self, id: &str) {
    let Some(s) = self.sessions.get_mut(id) else {
      return;
    };
    s.waiting_gen += 1;
    s.waiting_reason = None;
    if self.opts.safety_net_ms > 0 && !s.safety_armed {
      s.safety_armed = true;
      s.safety_gen += 1;
      let gen = s.safety_gen;
      self.timer(id, Timer::SafetyNet, gen, Self::ms(self.opts.safety_net_ms));
    }
  }

  /// The session waits: the safety net is disarmed and `waiting-for-input` debounced.
  fn waiting(&mut self, id: &str, reason: Option<StatusReason>) {
    let Some(s) = self.sessions.get_mut(id) else {
      return;
    };
    s.waiting_gen += 1;
    s.waiting_reason = reason;
    s.safety_armed = false;
    s.safety_gen += 1;
    let gen = s.waiting_gen;
    self.timer(
      id,
      Timer::Waiting,
      gen,
      Self::ms(self.opts.waiting_debounce_ms),
    );
  }

  /// Output: kept for catch-up, and sent to foreground channels after a debounce.
  fn assistant_text(&mut self, id: &str, text: &str) {
    let Some(s) = self.sessions.get_mut(id) else {
      return;
    };
    s.push_text(text);
    if !s.foreground.is_empty() && !s.fg_armed {
      s.fg_armed = true;
      s.fg_gen += 1;
      let gen = s.fg_gen;
      self.timer(
        id,
        Timer::Foreground,
        gen,
        Self::ms(self.opts.foreground_debounce_ms),
      );
    }
  }

  /// A tool use, told to each foreground channel.
  fn tool_use(&mut self, id: &str, tool_use_id: &str, name: &str, input: &Value) {
    let Some(s) = self.sessions.get(id) else {
      return;
    };
    let label = s.label(id);
    for channel in s.foreground.keys().cloned().collect::<Vec<_>>() {
      self.notify_to(
        id,
        &channel,
        "tool-use",
        format!("{id}:tool-use:{tool_use_id}:{channel}"),
        format!("🔧 {label}: {name} {}", preview(&input.to_string())),
        json!({ "toolUseId": tool_use_id, "name": name, "input": input.clone() }),
      );
    }
  }

  fn budget_exhausted(&mut self, id: &str, total_cost_usd: f64, max_budget_usd: f64) {
    let Some(s) = self.sessions.get(id) else {
      return;
    };
    let label = s.label(id);
    self.notify(
      id,
      "budget-exhausted",
      format!("{id}:budget-exhausted"),
      format!("💸 Session {label} used its budget: ${total_cost_usd:.4} of ${max_budget_usd:.4}; it is being stopped"),
      json!({ "totalCostUsd": total_cost_usd, "maxBudgetUsd": max_budget_usd }),
    );
  }

  /// The first `recovering` event of a session: one notification, whatever the attempts.
  fn recovering(&mut self, id: &str, attempt: u32, max: u32, next_at: u64, error: &str) {
    let Some(s) = self.sessions.get_mut(id) else {
      return;
    };
    if std::mem::replace(&mut s.recovering_sent, true) {
      return;
    }
    let label = s.label(id);
    self.notify(
      id,
      "recovering",
      format!("{id}:recovering"),
      format!(
        "🔁 Session {label} hit a transient model API error; retrying the turn automatically \
         (up to {max} attempts): {}",
        preview(error)
      ),
      json!({ "attempt": attempt, "maxAttempts": max, "nextAttemptAt": next_at, "error": error }),
    );
  }

  fn auto_respond_limit(&mut self, id: &str, count: u32, max: u32) {
    let Some(s) = self.sessions.get(id) else {
      return;
    };
    let (label, turn) = (s.label(id), s.turn);
    self.notify(
      id,
      "auto-respond-limit",
      format!("{id}:auto-respond-limit:{turn}"),
      format!("✋ Session {label} reached {max} automatic replies; a person has to answer next"),
      json!({ "count": count, "max": max }),
    );
  }
}
