//! How a payload from the CLI's stdout moves the session: turn starts and ends, cost and
//! tokens, output, permission requests, and the status changes they cause.

use super::{
  EndReason, PendingPermission, SessionState, StopRequest, SummaryTurn, TurnOutcome, SUMMARY_CHARS,
  SUMMARY_TURNS,
};
use crate::model::event::{now_ms, Ev, EventPayload, Status, StatusReason};
use crate::model::options::Backend;
use crate::model::turn::{EndedTurn, TurnEnd};
use crate::process::truncate;

impl SessionState {
  /// [`SessionState::apply`] for a payload read from the CLI's output at `at` (ms since the
  /// epoch): its events are stamped with that time (the pump reads the clock once per batch of
  /// lines read together).
  pub fn apply_read(&mut self, payload: EventPayload, at: u64) -> (Vec<Ev>, TurnOutcome) {
    self.read_at = Some(at);
    let r = self.apply(payload);
    self.read_at = None;
    r
  }

  /// A payload parsed from the CLI's stdout. Returns the events to publish (the payload's own
  /// event, plus status changes it causes) and what it meant for the turn.
  pub fn apply(&mut self, mut payload: EventPayload) -> (Vec<Ev>, TurnOutcome) {
    let mut out = Vec::with_capacity(2);
    self.cli_spoke = true;
    if self.info.status.is_terminal() {
      out.push(self.record(payload));
      return (out, TurnOutcome::None);
    }
    if self.info.status == Status::Starting {
      out.extend(self.set_status(Status::Running, None));
    }
    let mut outcome = TurnOutcome::None;
    let mut permission = false;
    match &mut payload {
      EventPayload::Init {
        backend_session_id,
        model,
        ..
      } => self.init(backend_session_id, model),
      EventPayload::AssistantText { text, .. } => self.assistant_text(text),
      EventPayload::Error {
        message,
        fatal: true,
      } => self.info.last_error = Some(message.clone()),
      EventPayload::PermissionRequest {
        request_id,
        tool_name,
        input,
        ..
      } => {
        self.info.pending_permissions.push(PendingPermission {
          request_id: request_id.clone(),
          tool_name: tool_name.clone(),
          input: input.clone(),
          since: now_ms(),
        });
        permission = true;
      }
      EventPayload::TurnStarted { turn_id } => {
        self.turn_id = turn_id.clone();
        self.turn_text.clear();
        self.turn_done = false;
        self.exec_turn.0 = true;
      }
      completed @ EventPayload::TurnCompleted { .. } => outcome = self.turn_completed(completed),
      _ => {}
    }
    out.push(self.record(payload));
    if outcome == TurnOutcome::Waiting && self.budget_exhausted(&mut out) {
      outcome = TurnOutcome::BudgetExhausted;
    }
    if permission && self.stop.is_none() {
      out.extend(self.set_status(Status::WaitingForInput, Some(StatusReason::Permission)));
    }
    if outcome == TurnOutcome::Waiting && self.stop.is_none() {
      self.wait_after_turn(&mut out);
    }
    (out, outcome)
  }

  /// `init`: the backend session id (a change is noted for the store) and the model.
  fn init(&mut self, backend_session_id: &str, model: &Option<String>) {
    self.inits += 1;
    if !backend_session_id.is_empty() && backend_session_id != self.info.backend_session_id {
      self.backend_id_changed = true;
    }
    if !backend_session_id.is_empty() {
      self.info.backend_session_id = backend_session_id.to_owned();
    }
    if self.info.model.is_none() {
      self.info.model = model.clone();
    }
  }

  /// Assistant text: output lines, the turn's text, the last text.
  fn assistant_text(&mut self, text: &str) {
    for line in text.lines() {
      self.output.push(line);
    }
    if std::mem::take(&mut self.turn_done) {
      self.turn_text.clear();
    }
    if !self.turn_text.is_empty() {
      self.turn_text.push('\n');
    }
    self.turn_text.push_str(text);
    self.info.last_assistant_text = Some(text.to_owned());
  }

  /// A turn's end: fills in the payload's turn number, cost and token deltas, adds them to
  /// the session's totals, records its error and its summary entry, and drops the permission
  /// requests the CLI no longer waits for.
  fn turn_completed(&mut self, payload: &mut EventPayload) -> TurnOutcome {
    let EventPayload::TurnCompleted {
      turn,
      subtype,
      is_error,
      result,
      api_error_status,
      errors,
      num_turns,
      cost_usd,
      total_cost_usd,
      usage,
      usage_total,
      fatal,
      ..
    } = payload
    else {
      return TurnOutcome::None;
    };
    if let Some(total) = usage_total {
      *usage = total.since(&self.thread_usage);
      self.thread_usage = *total;
    }
    self.info.turns += 1;
    *turn = self.info.turns;
    *cost_usd = (*total_cost_usd - self.process_cost).max(0.0);
    self.process_cost = *total_cost_usd;
    // Codex reports tokens only: its cost is estimated from them (`model::pricing`), and the
    // event's running total is the session's.
    let estimate = usage_total.and_then(|_| self.estimate_cost(usage));
    if let Some(est) = estimate {
      *cost_usd = est;
    }
    self.info.total_cost_usd += *cost_usd;
    if estimate.is_some() {
      *total_cost_usd = self.info.total_cost_usd;
    }
    self.info.num_turns += *num_turns;
    self.info.usage.add(usage);
    // The turn was cut short by us: `interruptTurn`, or a graceful stop (`interrupt()`, an
    // eviction, a budget stop) whose protocol interrupt ends it with an error result (Claude:
    // `error_during_execution`, `terminal_reason: aborted_streaming`). Not a turn error.
    let ours = self.turn_interrupt || matches!(self.stop, Some(StopRequest::Interrupt(_)));
    let interrupted = ours || subtype == "interrupted";
    if *is_error && !ours {
      self.turn_error(subtype, result, *api_error_status, errors);
    }
    self.turn_interrupt = false;
    self.turn_done = true;
    self.last_turn = Some(EndedTurn {
      turn: *turn,
      outcome: match (interrupted, *is_error) {
        (true, _) => TurnEnd::Interrupted,
        (false, true) => TurnEnd::Error,
        (false, false) => TurnEnd::Completed,
      },
      text: self.turn_text.clone(),
      cost_usd: *cost_usd,
      usage: *usage,
      error: (*is_error && !interrupted)
        .then(|| self.info.last_error.clone())
        .flatten(),
      duration_ms: now_ms().saturating_sub(self.turn_started_at),
    });
    self.push_summary();
    // Requests the CLI no longer waits for once its turn is over.
    self.info.pending_permissions.clear();
    if *fatal {
      self.api_failed = true;
      self.api_status = *api_error_status;
      TurnOutcome::ApiFailed
    } else {
      TurnOutcome::Waiting
    }
  }

  /// The error a failed turn leaves as `last_error`: its errors, else its result, else the
  /// error seen before, else its subtype; prefixed with the model API's status when known.
  fn turn_error(
    &mut self,
    subtype: &str,
    result: &Option<String>,
    api_error_status: Option<u16>,
    errors: &[String],
  ) {
    let msg = if !errors.is_empty() {
      errors.join("; ")
    } else {
      result
        .clone()
        .or_else(|| self.info.last_error.clone())
        .unwrap_or_else(|| format!("turn ended with error `{subtype}`"))
    };
    self.info.last_error = Some(match api_error_status {
      Some(code) => format!("model API error {code}: {msg}"),
      None => msg,
    });
  }

  /// Adds the ended turn's prompt and reply to the bounded summary.
  fn push_summary(&mut self) {
    self.summary.push_back(SummaryTurn {
      prompt: truncate(&self.turn_prompt, SUMMARY_CHARS),
      reply: truncate(&self.turn_text, SUMMARY_CHARS),
    });
    while self.summary.len() > SUMMARY_TURNS {
      self.summary.pop_front();
    }
  }

  /// After a turn ended well: when the cost reached the budget, records `budget-exhausted`
  /// into `out` and asks for a stop. True if it did.
  fn budget_exhausted(&mut self, out: &mut Vec<Ev>) -> bool {
    let max = match self.max_budget_usd {
      Some(max) if self.info.total_cost_usd >= max && self.stop.is_none() => max,
      _ => return false,
    };
    out.push(self.record(EventPayload::BudgetExhausted {
      total_cost_usd: self.info.total_cost_usd,
      max_budget_usd: max,
    }));
    self.request_stop(StopRequest::Interrupt(EndReason::BudgetExhausted));
    true
  }

  /// After a turn ended well: the session waits for input, asked a question or not.
  fn wait_after_turn(&mut self, out: &mut Vec<Ev>) {
    let reason = if self.turn_text.trim_end().ends_with('?') {
      StatusReason::Question
    } else {
      StatusReason::TurnEnded
    };
    if self.info.backend == Backend::CodexExec {
      // The turn is over when its process is: the next turn's process must not overlap.
      self.pending_wait = Some(reason);
    } else {
      out.extend(self.set_status(Status::WaitingForInput, Some(reason)));
    }
  }
}
