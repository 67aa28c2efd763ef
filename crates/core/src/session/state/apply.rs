//! How a payload from the CLI's stdout moves the session: turn starts and ends, cost and
//! tokens, output, permission requests, and the status changes they cause.

use super::{
  EndReason, PendingPermission, SessionState, StopRequest, SummaryTurn, TurnOutcome, SUMMARY_CHARS,
  SUMMARY_TURNS,
};
use crate::model::event::{now_ms, Ev, EventPayload, Status, StatusReason};
use crate::model::options::Backend;
use crate::process::truncate;

impl SessionState {
  /// A payload parsed from the CLI's stdout. Returns the events to publish (the payload's own
  /// event, plus status changes it causes) and what it meant for the turn.
  pub fn apply(&mut self, mut payload: EventPayload) -> (Vec<Ev>, TurnOutcome) {
    let mut out = Vec::with_capacity(2);
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
      } => {
        self.inits += 1;
        if !backend_session_id.is_empty() && *backend_session_id != self.info.backend_session_id {
          self.backend_id_changed = true;
        }
        if !backend_session_id.is_empty() {
          self.info.backend_session_id = backend_session_id.clone();
        }
        if self.info.model.is_none() {
          self.info.model = model.clone();
        }
      }
      EventPayload::AssistantText { text, .. } => {
        for line in text.lines() {
          self.output.push(line);
        }
        if !self.turn_text.is_empty() {
          self.turn_text.push('\n');
        }
        self.turn_text.push_str(text);
        self.info.last_assistant_text = Some(text.clone());
      }
      EventPayload::Error {
        message,
        fatal: true,
      } => {
        self.info.last_error = Some(message.clone());
      }
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
      }
      EventPayload::TurnCompleted {
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
      } => {
        if let Some(total) = usage_total {
          *usage = total.since(&self.thread_usage);
          self.thread_usage = *total;
        }
        self.info.turns += 1;
        *turn = self.info.turns;
        *cost_usd = (*total_cost_usd - self.process_cost).max(0.0);
        self.process_cost = *total_cost_usd;
        self.info.total_cost_usd += *cost_usd;
        self.info.num_turns += *num_turns;
        self.info.usage.add(usage);
        if *is_error && !self.turn_interrupt {
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
        self.turn_interrupt = false;
        self.summary.push_back(SummaryTurn {
          prompt: truncate(&self.turn_prompt, SUMMARY_CHARS),
          reply: truncate(&self.turn_text, SUMMARY_CHARS),
        });
        while self.summary.len() > SUMMARY_TURNS {
          self.summary.pop_front();
        }
        // Requests the CLI no longer waits for once its turn is over.
        self.info.pending_permissions.clear();
        outcome = if *fatal {
          self.api_failed = true;
          TurnOutcome::ApiFailed
        } else {
          TurnOutcome::Waiting
        };
      }
      _ => {}
    }
    out.push(self.record(payload));
    if let (TurnOutcome::Waiting, Some(max)) = (outcome, self.max_budget_usd) {
      if self.info.total_cost_usd >= max && self.stop.is_none() {
        out.push(self.record(EventPayload::BudgetExhausted {
          total_cost_usd: self.info.total_cost_usd,
          max_budget_usd: max,
        }));
        self.request_stop(StopRequest::Interrupt(EndReason::BudgetExhausted));
        outcome = TurnOutcome::BudgetExhausted;
      }
    }
    if permission && self.stop.is_none() {
      out.extend(self.set_status(Status::WaitingForInput, Some(StatusReason::Permission)));
    }
    if outcome == TurnOutcome::Waiting && self.stop.is_none() {
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
    (out, outcome)
  }
}
