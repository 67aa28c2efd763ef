//! How a session ends: the process exit (or the end of a session with no process) turned
//! into the final status, with the failure context; the stop requests that decide it.

use super::{EndReason, SessionState};
use crate::model::event::{Ev, EventPayload, Status, StatusReason};
use crate::model::options::Backend;

/// A stop the caller asked for; decides the terminal status when the process exits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopRequest {
  /// stdin closed: the CLI exiting by itself means `completed`, whatever its exit code (the
  /// code reflects the last turn, e.g. 1 after an interrupted or `error_max_turns` turn).
  Close,
  /// Graceful stop (protocol interrupt, EOF, SIGINT, SIGKILL after a grace period):
  /// `interrupted`, whatever the exit code.
  Interrupt(EndReason),
  /// SIGKILL sent: `killed`.
  Kill(EndReason),
}

impl StopRequest {
  /// Which stop wins when several are asked for: a kill over a graceful stop over a close.
  pub(super) fn rank(self) -> u8 {
    match self {
      StopRequest::Close => 0,
      StopRequest::Interrupt(_) => 1,
      StopRequest::Kill(_) => 2,
    }
  }

  /// The status and status reason a session that stopped this way ends in.
  pub(super) fn outcome(self) -> Option<(Status, StatusReason, EndReason)> {
    let reason = |end| match end {
      EndReason::Shutdown => StatusReason::Shutdown,
      EndReason::User => StatusReason::User,
      _ => StatusReason::Limit,
    };
    match self {
      StopRequest::Kill(end) => Some((Status::Killed, reason(end), end)),
      StopRequest::Interrupt(end) => Some((Status::Interrupted, reason(end), end)),
      StopRequest::Close => None,
    }
  }
}

impl SessionState {
  /// Ends a session that has no process (a `codex exec` session between turns), as the
  /// pending stop request says: `close` → `completed`, `kill` → `killed`.
  pub fn ended_without_process(&mut self) -> Vec<Ev> {
    let (status, reason, end) = self.stop.and_then(StopRequest::outcome).unwrap_or((
      Status::Completed,
      StatusReason::User,
      EndReason::User,
    ));
    self.info.pid = None;
    self.info.end_reason = Some(end);
    if let Some(r) = self.info.recovery.as_mut() {
      // Stopped while recovering: the scheduled attempt will not run.
      r.next_attempt_at = None;
    }
    self.set_status(status, Some(reason)).into_iter().collect()
  }

  /// A protocol-level problem (unparsable line, oversized line): recorded, not fatal.
  pub fn protocol_error(&mut self, message: String) -> Ev {
    self.record(EventPayload::Error {
      message,
      fatal: false,
    })
  }

  /// The process exited (`code` or `signal`). Returns the exit and final status events.
  pub fn exited(&mut self, code: Option<i32>, signal: Option<i32>) -> Vec<Ev> {
    self.info.exit_code = code;
    self.info.exit_signal = signal;
    self.info.pid = None;
    self.info.pending_permissions.clear();
    let mut out = vec![self.record(EventPayload::Exit {
      exit_code: code,
      signal,
    })];
    if self.info.status.is_terminal() {
      return out;
    }
    // `codex exec` runs one process per turn: after a good turn the session waits for input
    // with no process (docs/protocols.md B2 "Ending").
    if self.info.backend == Backend::CodexExec
      && std::mem::take(&mut self.turn_interrupt)
      && self.stop.is_none()
      && self.pending_wait.is_none()
      && !self.api_failed
    {
      // SIGINT ends an exec turn with exit 1 and no terminal event (docs/protocols.md B2): the
      // turn was interrupted, the thread goes on.
      let (evs, _) = self.apply(EventPayload::turn_end("interrupted", None, None));
      out.extend(evs);
      if let Some(reason) = self.pending_wait.take() {
        out.extend(self.set_status(Status::WaitingForInput, Some(reason)));
      }
      return out;
    }
    let waiting = self.pending_wait.take();
    if let Some(reason) = waiting {
      if self.stop.is_none() && !self.api_failed && code == Some(0) {
        out.extend(self.set_status(Status::WaitingForInput, Some(reason)));
        return out;
      }
    }
    let (status, reason, end) = self.final_status(code, signal);
    if end == EndReason::ApiError {
      // Opt-in recovery: a transient model API error is retried (`state::recovery`).
      if let Some(evs) = self.recover_or_fail() {
        out.extend(evs);
        return out;
      }
    }
    if status == Status::Failed {
      out.push(self.exit_failure(code, signal));
    }
    self.info.end_reason = Some(end);
    out.extend(self.set_status(status, Some(reason)));
    out
  }

  /// The status a process exit ends the session in: what the stop request asked for, else
  /// `failed` after a failed model call, else by the exit code. After `close`, a CLI that
  /// exits by itself (not by a signal) completed, whatever its code.
  fn final_status(
    &self,
    code: Option<i32>,
    signal: Option<i32>,
  ) -> (Status, StatusReason, EndReason) {
    match self.stop {
      Some(stop @ (StopRequest::Kill(_) | StopRequest::Interrupt(_))) => stop
        .outcome()
        .unwrap_or((Status::Killed, StatusReason::User, EndReason::User)),
      _ if self.api_failed => (Status::Failed, StatusReason::ApiError, EndReason::ApiError),
      Some(StopRequest::Close) if signal.is_none() => {
        (Status::Completed, StatusReason::User, EndReason::User)
      }
      None if code == Some(0) => (Status::Completed, StatusReason::Exited, EndReason::Exited),
      _ => (Status::Failed, StatusReason::Exited, EndReason::Exited),
    }
  }

  /// The fatal error of a failed exit (how it exited, with the last error or stderr line),
  /// also kept as `last_error`.
  fn exit_failure(&mut self, code: Option<i32>, signal: Option<i32>) -> Ev {
    let how = match (code, signal) {
      (Some(c), _) => format!("exit code {c}"),
      (None, Some(s)) => format!("signal {s}"),
      _ => "an unknown status".into(),
    };
    let context = self
      .info
      .last_error
      .clone()
      .or_else(|| self.stderr.last(1).pop())
      .map(|m| format!(": {m}"))
      .unwrap_or_default();
    let message = if self.info.external {
      // Its process is the caller's: what we know is what was ingested.
      format!("the external session failed{context}")
    } else {
      format!("{} exited with {how}{context}", self.info.backend.as_str())
    };
    self.info.last_error = Some(message.clone());
    self.record(EventPayload::Error {
      message,
      fatal: true,
    })
  }
}
