//! What waiting for a turn returns (`send(..., { wait: true })`, `spawn({ wait: true })`,
//! `waitForTurn`): how the turn ended, its text, cost and tokens, and the session's snapshot.

use crate::model::event::Usage;
use crate::model::info::SessionInfo;
use serde::Serialize;

/// How a waited-for turn ended (or why the wait stopped before it did).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TurnEnd {
  /// The turn ended well; the session waits for input.
  Completed,
  /// The turn ended with an error the session survives (e.g. `error_max_turns`); it waits.
  Error,
  /// The turn was cancelled (`interruptTurn`, `turnTimeoutMs`); the session waits.
  Interrupted,
  /// The turn is not over: a permission request waits for `respondToPermission`.
  Permission,
  /// The session reached a terminal status (its `status`, `endReason`, `lastError` say why).
  Ended,
}

impl TurnEnd {
  pub fn as_str(self) -> &'static str {
    match self {
      TurnEnd::Completed => "completed",
      TurnEnd::Error => "error",
      TurnEnd::Interrupted => "interrupted",
      TurnEnd::Permission => "permission",
      TurnEnd::Ended => "ended",
    }
  }
}

/// The last turn that ended in a session, as the state machine recorded it.
#[derive(Debug, Clone, PartialEq)]
pub struct EndedTurn {
  /// 1-based turn number.
  pub turn: u32,
  pub outcome: TurnEnd,
  /// The turn's assistant text (its messages joined by newlines).
  pub text: String,
  /// USD.
  pub cost_usd: f64,
  pub usage: Usage,
  /// The turn's error (`error` outcome).
  pub error: Option<String>,
  pub duration_ms: u64,
}

/// What a wait for a turn resolves with.
#[derive(Debug, Clone, PartialEq)]
pub struct TurnResult {
  pub session: SessionInfo,
  pub outcome: TurnEnd,
  /// The turn's number; for `permission` and `ended` before the turn ended, the number it
  /// will have. 0 when no turn has run.
  pub turn: u32,
  /// The turn's assistant text so far (all of it once it ended).
  pub text: String,
  /// USD; 0 until the turn ended.
  pub cost_usd: f64,
  /// Tokens of this turn; zero until the turn ended.
  pub usage: Usage,
  /// The turn's error (`error`), or the session's `lastError` (`ended`).
  pub error: Option<String>,
  /// ms from the turn's start to its end (or to now).
  pub duration_ms: u64,
}
