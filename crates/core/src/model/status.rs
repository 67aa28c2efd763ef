//! Statuses: where a session is (`Status`), why it got there (`StatusReason`), and why a
//! finished session ended (`EndReason`). The state machine that moves between them is
//! `session::state`.

use serde::{Deserialize, Serialize};

/// A session's status (docs/design.md "Statuses").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
  /// The process is up; no message from the CLI yet.
  Starting,
  /// A turn is in progress.
  Running,
  /// A turn ended; the agent waits for the user (see [`WaitingReason`]).
  WaitingForInput,
  /// A turn failed on a transient model API error and will be sent again after a backoff
  /// (opt-in `recovery`; `SessionInfo.recovery` has the attempt). Live, with no process.
  Recovering,
  /// The conversation ended normally (terminal).
  Completed,
  /// The agent or the manager hit an error (terminal).
  Failed,
  /// Graceful stop; resumable (terminal).
  Interrupted,
  /// Hard stop, SIGKILL to the process group (terminal).
  Killed,
}

impl Status {
  /// `completed`, `failed`, `interrupted` and `killed` are terminal.
  pub fn is_terminal(self) -> bool {
    matches!(
      self,
      Status::Completed | Status::Failed | Status::Interrupted | Status::Killed
    )
  }

  /// The wire name, e.g. `waiting-for-input`.
  pub fn as_str(self) -> &'static str {
    match self {
      Status::Starting => "starting",
      Status::Running => "running",
      Status::WaitingForInput => "waiting-for-input",
      Status::Recovering => "recovering",
      Status::Completed => "completed",
      Status::Failed => "failed",
      Status::Interrupted => "interrupted",
      Status::Killed => "killed",
    }
  }

  /// Parses a wire name.
  pub fn parse(s: &str) -> Option<Status> {
    ALL_STATUSES.iter().copied().find(|st| st.as_str() == s)
  }
}

/// Every status, in lifecycle order.
pub const ALL_STATUSES: [Status; 8] = [
  Status::Starting,
  Status::Running,
  Status::WaitingForInput,
  Status::Recovering,
  Status::Completed,
  Status::Failed,
  Status::Interrupted,
  Status::Killed,
];

/// Why a session waits for input, or why it ended. Serialized kebab-case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StatusReason {
  /// A turn ended (`result` from Claude).
  TurnEnded,
  /// The last assistant message asks the user something.
  Question,
  /// A tool approval is pending.
  Permission,
  /// The safety-net timer saw no output for a while.
  Idle,
  /// Ended by the user (`close`, `kill`).
  User,
  /// The CLI exited on its own.
  Exited,
  /// The model API returned an error that ended the session.
  ApiError,
  /// The manager is shutting down.
  Shutdown,
  /// A limit or timeout of the manager (`endReason` says which).
  Limit,
}

/// Why a session ended, beyond its status (docs/design.md `endReason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EndReason {
  /// Asked for by the caller (`close`, `kill`).
  User,
  /// The manager shut down.
  Shutdown,
  /// The CLI exited on its own.
  Exited,
  /// The model API failed.
  ApiError,
  /// The manager could not talk to the CLI (e.g. stdin closed under it).
  ProtocolError,
  /// No activity for `idleTimeoutMs` (graceful stop, resumable).
  IdleTimeout,
  /// No output within `startupTimeoutMs` of spawn (hard stop).
  StartupTimeout,
  /// The manager that ran the session died; a new one found it live in the store.
  ManagerRestart,
  /// The session's cost reached its `maxBudgetUsd`.
  BudgetExhausted,
  /// The process group's memory went over `memoryLimitMb` (hard stop).
  MemoryLimit,
  /// `close` waited `closeTimeoutMs` for the CLI to exit after stdin EOF; then SIGKILL.
  CloseTimeout,
  /// Stopped gracefully (`interrupted`, resumable) to make room for a new session at
  /// `maxSessions` (`onLimit: 'evict-idle'`).
  Evicted,
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn status_names_round_trip() {
    for s in ALL_STATUSES {
      assert_eq!(Status::parse(s.as_str()), Some(s));
      assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
    }
    assert!(Status::Killed.is_terminal());
    assert!(!Status::WaitingForInput.is_terminal());
    assert!(!Status::Recovering.is_terminal());
  }
}
