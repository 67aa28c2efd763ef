//! The session's fields as the layers above read and set them, one by one (the state changes
//! that move a session are in `apply`, `control`, `end` and `recovery`).

use super::{SessionInfo, SessionState, StopRequest, SummaryTurn};
use crate::model::event::{Status, Usage};
use crate::model::options::Backend;

impl SessionState {
  /// A snapshot for callers.
  pub fn info(&self) -> SessionInfo {
    let mut info = self.info.clone();
    info.stderr_tail = self.stderr.lines();
    info
  }

  /// Whether the CLI has said anything yet (the startup watchdog waits for it).
  pub fn cli_spoke(&self) -> bool {
    self.cli_spoke
  }

  /// How many `init` events were applied.
  pub fn inits(&self) -> u32 {
    self.inits
  }

  /// The thread's cumulative tokens at the last turn end (Codex).
  pub fn thread_usage(&self) -> Usage {
    self.thread_usage
  }

  /// The running (or last) turn's id, for backends that have one.
  pub fn turn_id(&self) -> Option<&str> {
    self.turn_id.as_deref()
  }

  /// The id of the turn just started (Codex `turn/start`'s answer, which can come before the
  /// `turn/started` notification).
  pub fn set_turn_id(&mut self, id: String) {
    self.turn_id = Some(id);
  }

  /// Starts the thread's token totals from an earlier session (resume of a Codex thread), so
  /// that the first turn's usage is a delta, not the whole thread.
  pub fn set_thread_usage(&mut self, total: Usage) {
    self.thread_usage = total;
  }

  /// Sets the backend session id once the CLI told it (Codex `thread/start`).
  pub fn set_backend_session_id(&mut self, id: &str) {
    if self.info.backend_session_id != id {
      self.info.backend_session_id = id.to_owned();
      self.backend_id_changed = true;
    }
  }

  /// Whether the backend session id changed since the last call (then: store it).
  pub fn take_backend_id_changed(&mut self) -> bool {
    std::mem::take(&mut self.backend_id_changed)
  }

  /// Marks the session as owned by the caller (fed through `ingest`).
  pub fn set_external(&mut self) {
    self.info.external = true;
  }

  /// Whether the caller owns the agent process.
  pub fn is_external(&self) -> bool {
    self.info.external
  }

  /// The session's backend.
  pub fn backend(&self) -> Backend {
    self.info.backend
  }

  /// Whether a permission request waits for an answer.
  /// Whether the permission request `request_id` still waits for its answer.
  pub fn is_permission_pending(&self, request_id: &str) -> bool {
    self
      .info
      .pending_permissions
      .iter()
      .any(|p| p.request_id == request_id)
  }

  pub fn has_pending_permissions(&self) -> bool {
    !self.info.pending_permissions.is_empty()
  }

  /// `(status, created_at, updated_at)`, without cloning the snapshot.
  pub fn info_header(&self) -> (Status, u64, u64) {
    (self.info.status, self.info.created_at, self.info.updated_at)
  }

  /// When the running (or last) turn started, ms since the Unix epoch.
  pub fn turn_started_at(&self) -> u64 {
    self.turn_started_at
  }

  /// When the session reached its terminal status, ms since the Unix epoch.
  pub fn ended_at(&self) -> Option<u64> {
    self.info.ended_at
  }

  pub fn status(&self) -> Status {
    self.info.status
  }

  pub fn id(&self) -> &str {
    &self.info.id
  }

  pub fn name(&self) -> Option<&str> {
    self.info.name.as_deref()
  }

  /// Who launched the session (`None`: the operator's).
  pub fn owner(&self) -> Option<&str> {
    self.info.owner_id()
  }

  pub fn backend_session_id(&self) -> &str {
    &self.info.backend_session_id
  }

  pub fn stop_request(&self) -> Option<StopRequest> {
    self.stop
  }

  /// Prices the tokens of each turn with `prices` (Codex, which reports no USD).
  pub fn set_prices(&mut self, prices: std::sync::Arc<crate::model::pricing::PriceTable>) {
    self.prices = Some(prices);
  }

  /// The estimated USD of a turn's tokens, for a backend that reports only tokens; `None`
  /// without prices. An unknown model is priced 0 and marks the session `unpriced`.
  pub(crate) fn estimate_cost(&mut self, usage: &Usage) -> Option<f64> {
    let table = self.prices.as_ref()?;
    match self.info.model.as_deref().and_then(|m| table.get(m)) {
      Some(p) => Some(p.cost(usage)),
      None => {
        self.info.unpriced = true;
        Some(0.0)
      }
    }
  }

  /// Replaces the caller's metadata (checked by the caller).
  pub fn set_metadata(&mut self, m: serde_json::Map<String, serde_json::Value>) {
    self.info.metadata = m;
  }

  /// Records what holds the session's processes.
  pub fn set_containment(&mut self, c: crate::model::info::Containment) {
    self.info.containment = Some(c);
  }

  pub fn set_pid(&mut self, pid: u32) {
    self.exec_turn = (false, false);
    self.info.pid = Some(pid);
    self.pid_start = crate::process::start_time(pid);
  }

  /// Counts one automatic message; `Err(count)` when `max` were sent in a row already.
  pub fn count_auto_respond(&mut self, max: u32) -> Result<(), u32> {
    if self.auto_responds >= max {
      return Err(self.auto_responds);
    }
    self.auto_responds += 1;
    Ok(())
  }

  /// A user spoke: automatic messages may start counting again.
  pub fn reset_auto_responds(&mut self) {
    self.auto_responds = 0;
  }

  /// The session stops once its reported cost reaches `usd`.
  pub fn set_max_budget(&mut self, usd: Option<f64>) {
    self.max_budget_usd = usd;
  }

  /// The running process's start time, to tell it from a later process with the same pid.
  pub fn pid_start(&self) -> Option<u64> {
    self.pid_start
  }

  /// Whether a process of this session runs (set at spawn, cleared once it is reaped).
  pub fn has_pid(&self) -> bool {
    self.info.pid.is_some()
  }

  /// The last turns (prompt and reply, bounded).
  pub fn summary(&self) -> Vec<SummaryTurn> {
    self.summary.iter().cloned().collect()
  }

  /// Restores the summary of a session read back from the store.
  pub fn set_summary(&mut self, turns: Vec<SummaryTurn>) {
    self.summary = turns.into_iter().collect();
  }
}
