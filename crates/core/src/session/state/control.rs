//! What callers do to a session between payloads: start a turn, interrupt it, answer a
//! permission request, ask for a stop.

use super::{PendingPermission, SessionState, StopRequest};
use crate::model::event::{now_ms, Ev, EventPayload, Status, StatusReason};

impl SessionState {
  /// A session resumed without a prompt: up and waiting for the first message.
  pub fn ready_without_turn(&mut self) -> Option<Ev> {
    // `Running` too: Codex's `thread/resume` reports the thread (an `init`), which moves a
    // starting session to running though no turn was sent.
    if !matches!(self.info.status, Status::Starting | Status::Running) {
      return None;
    }
    // Up: the startup watchdog is done with it (the CLI may stay silent until a message).
    self.cli_spoke = true;
    self.set_status(Status::WaitingForInput, Some(StatusReason::TurnEnded))
  }

  /// The first prompt reached the CLI (spawn): the first turn runs, whether or not the CLI
  /// has said anything yet, so `spawn` resolves `running` for every backend.
  pub fn first_turn_sent(&mut self) -> Option<Ev> {
    if self.info.status != Status::Starting {
      return None;
    }
    self.set_status(Status::Running, None)
  }

  /// A user message is about to be written: a waiting session runs again.
  /// Returns the status event, or `Err(status)` when the session is not waiting.
  pub fn begin_turn(&mut self, prompt: &str) -> Result<Option<Ev>, Status> {
    if self.info.status != Status::WaitingForInput {
      return Err(self.info.status);
    }
    self.turn_prompt = prompt.to_owned();
    self.turn_text.clear();
    self.turn_done = false;
    self.turn_interrupt = false;
    self.turn_started_at = now_ms();
    self.last_turn = None;
    Ok(self.set_status(Status::Running, None))
  }

  /// Notes that the running turn is being interrupted (`interruptTurn`): its error result is
  /// expected, not a failure, and a `codex exec` process that then exits without a terminal
  /// event ended its turn interrupted. False when no turn is running.
  pub fn request_turn_interrupt(&mut self) -> bool {
    if !matches!(self.info.status, Status::Starting | Status::Running) || self.stop.is_some() {
      return false;
    }
    self.turn_interrupt = true;
    true
  }

  /// codex-exec: whether the SIGINT that interrupts the running turn is to be sent now, once:
  /// an interrupt was asked, the process reported `turn.started` (Codex ignores a SIGINT
  /// that arrives before its turn runs), and it was not sent yet. Both the interrupt and the
  /// `turn.started` event ask; whichever comes second sends.
  pub fn sigint_due(&mut self) -> bool {
    let (started, sent) = self.exec_turn;
    if !self.turn_interrupt || !started || sent {
      return false;
    }
    self.exec_turn.1 = true;
    true
  }

  /// Takes the pending permission request `request_id` for answering, and records the answer:
  /// a session that waited only for it runs again. `None` if no such request is pending.
  pub fn resolve_permission(
    &mut self,
    request_id: &str,
    allow: bool,
    by: &str,
  ) -> Option<(PendingPermission, Vec<Ev>)> {
    let i = self
      .info
      .pending_permissions
      .iter()
      .position(|p| p.request_id == request_id)?;
    let pending = self.info.pending_permissions.remove(i);
    let mut out = vec![self.record(EventPayload::PermissionResolved {
      request_id: request_id.to_owned(),
      allow,
      by: by.to_owned(),
    })];
    if self.info.pending_permissions.is_empty()
      && self.info.status == Status::WaitingForInput
      && self.info.status_reason == Some(StatusReason::Permission)
    {
      out.extend(self.set_status(Status::Running, None));
    }
    Some((pending, out))
  }

  /// The graceful stop had to SIGKILL the process group.
  pub fn mark_forced_stop(&mut self) {
    self.info.forced_stop = true;
  }

  /// Records a stop request; the first one wins.
  pub fn request_stop(&mut self, stop: StopRequest) {
    if self.stop.is_none_or(|earlier| stop.rank() > earlier.rank()) {
      self.stop = Some(stop);
    }
  }
}
