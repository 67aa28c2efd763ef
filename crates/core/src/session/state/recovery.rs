//! Automatic recovery in the state machine: a process that exited after a turn failed on a
//! transient model API error leaves the session `recovering` instead of `failed` (while
//! attempts are left); the manager (`manager::recovery`) later starts the attempt.

use super::SessionState;
use crate::model::event::{now_ms, EndReason, Ev, EventPayload, Status, StatusReason};
use crate::model::info::{RecoveryInfo, SessionInfo};
use crate::model::options::RecoveryOptions;

impl SessionState {
  /// Turns recovery on for this session (`None`, or `maxAttempts: 0`: off).
  pub fn set_recovery(&mut self, r: Option<RecoveryOptions>) {
    self.recovery = r.filter(RecoveryOptions::enabled);
  }

  /// Carries a recovery in progress over (a session persisted while recovering).
  pub fn set_recovery_info(&mut self, info: Option<RecoveryInfo>) {
    self.info.recovery = info;
  }

  /// Called where the session would end `failed` after a failed model call: when the error
  /// is transient and attempts are left, the session goes `recovering` (with a `recovering`
  /// event) and `Some` holds the events; else the failure's context gets every earlier
  /// attempt's error, and `None` lets it fail.
  pub(super) fn recover_or_fail(&mut self) -> Option<Vec<Ev>> {
    let error = self.info.last_error.clone().unwrap_or_default();
    let r = self.recovery.clone()?;
    let made = self.info.recovery.as_ref().map_or(0, |i| i.attempt);
    if self.stop.is_some() || made >= r.max_attempts || !r.is_transient(self.api_status, &error) {
      self.fail_with_attempts(&error);
      return None;
    }
    let attempt = made + 1;
    let delay_ms = r.delay_ms(attempt);
    let next_attempt_at = now_ms() + delay_ms;
    let info = self.info.recovery.get_or_insert(RecoveryInfo {
      attempt: 0,
      max_attempts: r.max_attempts,
      next_attempt_at: None,
      errors: Vec::new(),
    });
    info.attempt = attempt;
    info.next_attempt_at = Some(next_attempt_at);
    info.errors.push(error.clone());
    let mut out: Vec<Ev> = self
      .set_status(Status::Recovering, Some(StatusReason::ApiError))
      .into_iter()
      .collect();
    out.push(self.record(EventPayload::Recovering {
      attempt,
      max_attempts: r.max_attempts,
      next_attempt_at,
      delay_ms,
      error,
    }));
    Some(out)
  }

  /// The last attempt failed too (or on an error that is not transient): `last_error` names
  /// every attempt's error.
  fn fail_with_attempts(&mut self, error: &str) {
    let Some(info) = self.info.recovery.as_mut() else {
      return;
    };
    info.next_attempt_at = None;
    if info.errors.is_empty() {
      return;
    }
    info.errors.push(error.to_owned());
    let all: Vec<String> = info
      .errors
      .iter()
      .enumerate()
      .map(|(i, e)| format!("({}) {e}", i + 1))
      .collect();
    self.info.last_error = Some(format!(
      "{error} [after {} recovery attempts; every error: {}]",
      info.attempt,
      all.join("; ")
    ));
  }

  /// The manager starts the scheduled attempt: `recovering` → `running`, the failed turn
  /// started again. The failed attempt becomes a link of the resume chain: returned as a
  /// `failed` snapshot under `link_id` (no name; dated 1 ms per attempt before the session,
  /// so lookups by backend id or name find the session itself), which the session now
  /// resumes from. Returns the prompt to send again and the link, or `None` when the session
  /// is no longer recovering (stopped meanwhile).
  pub fn begin_recovery_attempt(
    &mut self,
    link_id: String,
  ) -> Option<(String, SessionInfo, Vec<Ev>)> {
    if self.info.status != Status::Recovering || self.stop.is_some() {
      return None;
    }
    let mut link = self.info();
    let now = now_ms();
    let attempt = self.info.recovery.as_ref().map_or(1, |i| i.attempt);
    link.id = link_id.clone();
    link.name = None;
    link.status = Status::Failed;
    link.status_reason = Some(StatusReason::ApiError);
    link.end_reason = Some(EndReason::ApiError);
    link.created_at = self.info.created_at.saturating_sub(u64::from(attempt));
    link.updated_at = now;
    link.ended_at = Some(now);
    link.pid = None;
    link.pending_permissions.clear();
    if let Some(r) = link.recovery.as_mut() {
      r.next_attempt_at = None;
    }
    self.info.resumed_from_id = Some(link_id);
    if let Some(info) = self.info.recovery.as_mut() {
      info.next_attempt_at = None;
    }
    self.api_failed = false;
    self.api_status = None;
    // A new process reports its cost from zero.
    self.process_cost = 0.0;
    self.turn_text.clear();
    self.turn_interrupt = false;
    self.exec_turn = (false, false);
    self.turn_started_at = now_ms();
    self.last_turn = None;
    self.info.exit_code = None;
    self.info.exit_signal = None;
    let evs = self.set_status(Status::Running, None).into_iter().collect();
    Some((self.turn_prompt.clone(), link, evs))
  }

  /// The attempt could not start (e.g. the CLI no longer exists): the session fails with it.
  pub fn recovery_attempt_failed(&mut self, message: String) -> Vec<Ev> {
    self.info.last_error = Some(message.clone());
    let mut out = vec![self.record(EventPayload::Error {
      message,
      fatal: true,
    })];
    self.info.end_reason = Some(EndReason::ApiError);
    out.extend(self.set_status(Status::Failed, Some(StatusReason::ApiError)));
    out
  }
}
