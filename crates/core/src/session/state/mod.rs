//! One session's state machine and bookkeeping: status, turns, cost, tokens, output ring, bounded
//! event log, error context. Pure: it takes payloads (from the parser or the lifecycle) and
//! returns the events to publish. It must not do I/O or know about processes.

pub use crate::model::event::EndReason;
use crate::model::event::{now_ms, Ev, EventPayload, Status, StatusReason, Usage};
pub use crate::model::info::{PendingPermission, SessionInfo, SummaryTurn};
use crate::model::options::{Backend, Origin};
use crate::process::Tail;
pub use end::StopRequest;
use std::collections::VecDeque;

/// Bounds of one session's memory.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
  pub event_log: usize,
  pub output_lines: usize,
  pub stderr_lines: usize,
}

/// Turns kept in the summary, and the most characters of each prompt / reply.
const SUMMARY_TURNS: usize = 6;
const SUMMARY_CHARS: usize = 1000;

/// The state of one session.
#[derive(Debug)]
pub struct SessionState {
  info: SessionInfo,
  limits: Limits,
  events: VecDeque<Ev>,
  output: Tail,
  stderr: Tail,
  /// The CLI's running `total_cost_usd` at the previous `result` of this process.
  process_cost: f64,
  /// The running (or last ended) turn's assistant text.
  turn_text: String,
  /// The turn `turn_text` belongs to has ended: the next turn's first text replaces it. A CLI
  /// may run turns back to back with no `begin_turn` between them (queued messages, a replay),
  /// and the text must not pile up across them.
  turn_done: bool,
  stop: Option<StopRequest>,
  api_failed: bool,
  /// The thread's cumulative tokens at the last turn end (backends that report totals).
  thread_usage: Usage,
  /// The running turn's id, where the backend has one (Codex app-server).
  turn_id: Option<String>,
  /// `init` events seen (one per Claude turn, one per Codex process or thread start).
  inits: u32,
  /// codex-exec: the turn ended well; the session waits once its process has exited.
  pending_wait: Option<StatusReason>,
  /// `interruptTurn` was asked for the running turn.
  turn_interrupt: bool,
  /// codex-exec: the running process reported `turn.started` (before it, Codex ignores
  /// SIGINT), and whether the interrupt's SIGINT was sent (see `sigint_due`).
  exec_turn: (bool, bool),
  /// When the running (or last) turn started.
  turn_started_at: u64,
  /// The running turn's user prompt.
  turn_prompt: String,
  /// The last turns, bounded, for a fresh start when the CLI lost the conversation.
  summary: VecDeque<SummaryTurn>,
  /// The running process's start time (`/proc/<pid>/stat` field 22), to recognise it later.
  pid_start: Option<u64>,
  /// Automatic messages sent in a row (`send(..., { userInitiated: false })`).
  auto_responds: u32,
  /// Stop once the reported cost reaches this (USD).
  max_budget_usd: Option<f64>,
  /// The backend session id changed since the last `take_backend_id_changed`.
  backend_id_changed: bool,
  /// `info.id`, shared by every event of the session.
  event_id: std::sync::Arc<str>,
  /// The last turn that ended (cleared when the next one starts), for turn waiters.
  last_turn: Option<crate::model::turn::EndedTurn>,
  /// The CLI said something (a payload was applied) since spawn.
  cli_spoke: bool,
  /// Prices for the estimated cost of backends that report only tokens (Codex).
  prices: Option<std::sync::Arc<crate::model::pricing::PriceTable>>,
  /// Automatic recovery after transient model API errors (`recovery`; on when set).
  recovery: Option<crate::model::options::RecoveryOptions>,
  /// The model API's HTTP status of the last failed turn, when the CLI reported it.
  api_status: Option<u16>,
  /// When the payloads being applied were read (ms since the epoch), set by `apply_read`: a
  /// batch of lines read together is stamped with one clock reading, not one per event.
  read_at: Option<u64>,
}

/// What a turn-completed payload meant for the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TurnOutcome {
  /// Not a turn end.
  None,
  /// The turn ended; the session waits for input.
  Waiting,
  /// The model API failed: the session is failing; the caller should end the process.
  ApiFailed,
  /// The budget is used up: the session is being stopped (`interrupted`); the caller should
  /// end the process.
  BudgetExhausted,
}

/// Fields a new session starts from.
pub struct NewSession {
  pub id: String,
  pub name: Option<String>,
  pub backend: Backend,
  pub backend_session_id: String,
  pub workdir: String,
  pub model: Option<String>,
  pub first_prompt: String,
  pub origin: Option<Origin>,
  pub resumed_from_id: Option<String>,
  pub forked_from_id: Option<String>,
}

impl SessionState {
  /// A new session, `starting`. (Over 60 lines only because it spells out every field.)
  pub fn new(n: NewSession, limits: Limits) -> Self {
    let now = now_ms();
    let event_id = std::sync::Arc::from(n.id.as_str());
    SessionState {
      event_id,
      info: SessionInfo {
        id: n.id,
        name: n.name,
        backend: n.backend,
        backend_session_id: n.backend_session_id,
        status: Status::Starting,
        status_reason: None,
        end_reason: None,
        workdir: n.workdir,
        model: n.model,
        first_prompt: n.first_prompt.clone(),
        pid: None,
        created_at: now,
        updated_at: now,
        ended_at: None,
        turns: 0,
        num_turns: 0,
        total_cost_usd: 0.0,
        usage: Usage::default(),
        last_assistant_text: None,
        last_error: None,
        exit_code: None,
        exit_signal: None,
        stderr_tail: Vec::new(),
        // The manager puts the owner into the origin (`SpawnOptions::origin_with_owner`).
        owner: n.origin.as_ref().and_then(|o| o.owner.clone()),
        origin: n.origin,
        last_seq: 0,
        forced_stop: false,
        pending_permissions: Vec::new(),
        resumed_from_id: n.resumed_from_id,
        forked_from_id: n.forked_from_id,
        evicted: false,
        external: false,
        containment: None,
        metadata: Default::default(),
        unpriced: false,
        recovery: None,
      },
      limits,
      events: VecDeque::new(),
      output: Tail::new(limits.output_lines, 1024 * 1024),
      stderr: Tail::new(limits.stderr_lines, 64 * 1024),
      process_cost: 0.0,
      turn_text: String::new(),
      turn_done: false,
      stop: None,
      api_failed: false,
      thread_usage: Usage::default(),
      turn_id: None,
      inits: 0,
      pending_wait: None,
      turn_interrupt: false,
      exec_turn: (false, false),
      turn_started_at: now,
      turn_prompt: n.first_prompt,
      summary: VecDeque::new(),
      pid_start: None,
      auto_responds: 0,
      max_budget_usd: None,
      backend_id_changed: false,
      last_turn: None,
      cli_spoke: false,
      prices: None,
      recovery: None,
      api_status: None,
      read_at: None,
    }
  }

  /// Moves to `status`; returns the status event, or nothing if unchanged or already terminal.
  pub fn set_status(&mut self, status: Status, reason: Option<StatusReason>) -> Option<Ev> {
    let previous = self.info.status;
    if previous.is_terminal() || (previous == status && self.info.status_reason == reason) {
      return None;
    }
    self.info.status = status;
    self.info.status_reason = reason;
    if status.is_terminal() {
      self.info.ended_at = Some(now_ms());
    }
    let end_reason = if status.is_terminal() {
      self.info.end_reason
    } else {
      None
    };
    Some(self.record(EventPayload::Status {
      status,
      previous: Some(previous),
      reason,
      end_reason,
    }))
  }

  /// The first event of a session: `starting`.
  pub fn started(&mut self) -> Ev {
    self.record(EventPayload::Status {
      status: Status::Starting,
      previous: None,
      reason: None,
      end_reason: None,
    })
  }
}

mod apply;
mod control;
mod end;
mod fields;
mod log;
mod recovery;
mod wait;

#[cfg(test)]
mod tests;
