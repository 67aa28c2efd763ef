//! Whether a turn waiter may stop waiting, and with what (`TurnResult`).

use super::SessionState;
use crate::model::event::{now_ms, Status, StatusReason, Usage};
use crate::model::turn::{TurnEnd, TurnResult};

impl SessionState {
  /// The result of the running (or last) turn once a waiter may stop waiting: the turn ended
  /// and the session waits for input, a permission request needs an answer, or the session
  /// ended. `None` while the turn runs (also while a `codex-exec` turn's process exits:
  /// `waiting-for-input` with `statusReason: 'permission'` is not the end of a turn either,
  /// but it needs the caller).
  pub fn turn_result(&self) -> Option<TurnResult> {
    let outcome = match (self.info.status, self.info.status_reason) {
      // A recovering session's turn is sent again: its end is still to come.
      (Status::Starting | Status::Running | Status::Recovering, _) => return None,
      (Status::WaitingForInput, Some(StatusReason::Permission)) => TurnEnd::Permission,
      (Status::WaitingForInput, _) => self
        .last_turn
        .as_ref()
        .map_or(TurnEnd::Completed, |t| t.outcome),
      _ => TurnEnd::Ended,
    };
    let session = self.info();
    let ended = self
      .last_turn
      .as_ref()
      .filter(|_| outcome != TurnEnd::Permission);
    Some(match ended {
      Some(t) => TurnResult {
        outcome,
        turn: t.turn,
        text: t.text.clone(),
        cost_usd: t.cost_usd,
        usage: t.usage,
        error: match outcome {
          TurnEnd::Ended => session.last_error.clone(),
          _ => t.error.clone(),
        },
        duration_ms: t.duration_ms,
        session,
      },
      None => TurnResult {
        outcome,
        turn: if self.info.status == Status::WaitingForInput && outcome == TurnEnd::Completed {
          self.info.turns
        } else {
          self.info.turns + 1
        },
        text: self.turn_text.clone(),
        cost_usd: 0.0,
        usage: Usage::default(),
        error: (outcome == TurnEnd::Ended)
          .then(|| session.last_error.clone())
          .flatten(),
        duration_ms: now_ms().saturating_sub(self.turn_started_at),
        session,
      },
    })
  }
}
