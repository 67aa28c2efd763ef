//! The common event model: every backend's wire messages become [`EventPayload`]s, and a session
//! stamps them into [`AgentEvent`]s (sequence number, session id, time). Owns no I/O.

pub use crate::model::status::{EndReason, Status, StatusReason, ALL_STATUSES};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Token counts as reported by the CLI (Anthropic usage names).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Usage {
  pub input_tokens: u64,
  pub output_tokens: u64,
  pub cache_read_input_tokens: u64,
  pub cache_creation_input_tokens: u64,
}

impl Usage {
  /// `self - earlier`, field by field, never below zero.
  pub fn since(&self, earlier: &Usage) -> Usage {
    Usage {
      input_tokens: self.input_tokens.saturating_sub(earlier.input_tokens),
      output_tokens: self.output_tokens.saturating_sub(earlier.output_tokens),
      cache_read_input_tokens: self
        .cache_read_input_tokens
        .saturating_sub(earlier.cache_read_input_tokens),
      cache_creation_input_tokens: self
        .cache_creation_input_tokens
        .saturating_sub(earlier.cache_creation_input_tokens),
    }
  }

  /// Adds `other` to `self`, field by field.
  pub fn add(&mut self, other: &Usage) {
    self.input_tokens += other.input_tokens;
    self.output_tokens += other.output_tokens;
    self.cache_read_input_tokens += other.cache_read_input_tokens;
    self.cache_creation_input_tokens += other.cache_creation_input_tokens;
  }
}

/// What happened, without the envelope. Tagged by `kind` (kebab-case) when serialized.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(
  tag = "kind",
  rename_all = "kebab-case",
  rename_all_fields = "camelCase"
)]
pub enum EventPayload {
  /// The session changed status.
  Status {
    status: Status,
    previous: Option<Status>,
    reason: Option<StatusReason>,
    /// Why a terminal status was reached (`interrupted` / `killed` / `failed` / `completed`).
    end_reason: Option<EndReason>,
  },
  /// The CLI announced its session (Claude `system/init`, sent at the start of every turn).
  Init {
    backend_session_id: String,
    model: Option<String>,
    cwd: Option<String>,
    permission_mode: Option<String>,
    tools: Vec<String>,
    cli_version: Option<String>,
  },
  /// One assistant text block.
  AssistantText {
    text: String,
    message_id: Option<String>,
    parent_tool_use_id: Option<String>,
  },
  /// One assistant thinking block.
  Thinking {
    text: String,
    message_id: Option<String>,
  },
  /// The agent calls a tool.
  ToolUse {
    tool_use_id: String,
    name: String,
    input: Value,
    parent_tool_use_id: Option<String>,
  },
  /// A tool's result came back to the agent.
  ToolResult {
    tool_use_id: String,
    content: String,
    is_error: bool,
  },
  /// A user message echoed or synthesized by the CLI (e.g. `[Request interrupted by user]`).
  UserText { text: String },
  /// A turn started (Codex `turn.started` / `turn/started`).
  TurnStarted {
    /// The app-server's turn id (needed for `turn/interrupt`); none from `codex exec`.
    turn_id: Option<String>,
  },
  /// A turn ended (Claude `result`, Codex `turn.completed` / `turn.failed` / `turn/completed`).
  /// `costUsd` is this turn's share of `totalCostUsd`.
  TurnCompleted {
    /// 1-based turn number within the session.
    turn: u32,
    /// The CLI's `subtype`, e.g. `success`, `error_max_turns`.
    subtype: String,
    /// The CLI's `is_error`: trust this, not `subtype`.
    is_error: bool,
    /// Final text (success only).
    result: Option<String>,
    /// HTTP status of a failed model API call, if any.
    api_error_status: Option<u16>,
    errors: Vec<String>,
    stop_reason: Option<String>,
    terminal_reason: Option<String>,
    /// The CLI's `num_turns` (not a count of API calls).
    num_turns: u32,
    duration_ms: u64,
    /// This turn's cost in USD (difference of the CLI's running total).
    cost_usd: f64,
    /// The CLI's `total_cost_usd`: running total for the process, USD.
    total_cost_usd: f64,
    /// This turn's tokens.
    usage: Usage,
    /// The thread's cumulative tokens when the CLI reports totals (Codex); `usage` is then
    /// the difference from the previous turn's total.
    usage_total: Option<Usage>,
    /// Whether this turn's error ends the session (a failed model API call).
    fatal: bool,
  },
  /// The agent asks to use a tool (Claude `can_use_tool` control request).
  PermissionRequest {
    request_id: String,
    tool_name: String,
    input: Value,
    tool_use_id: Option<String>,
  },
  /// A permission request was answered, by the caller (`respondToPermission`) or by the
  /// manager's default policy when nobody answered in time.
  PermissionResolved {
    request_id: String,
    allow: bool,
    /// `user` or `policy`.
    by: String,
  },
  /// The CLI answered one of our control requests.
  ControlResponse {
    request_id: String,
    subtype: String,
    error: Option<String>,
  },
  /// A `system` message other than `init` (status, compact_boundary, api_retry, ...).
  System { subtype: String, data: Value },
  /// A partial-message stream event (`--include-partial-messages`).
  StreamEvent { event: Value },
  /// An error reported by the agent or detected by the manager.
  Error {
    message: String,
    /// Whether it ended the session.
    fatal: bool,
  },
  /// The session's reported cost reached its `maxBudgetUsd`; it is being stopped.
  BudgetExhausted {
    total_cost_usd: f64,
    max_budget_usd: f64,
  },
  /// `send(..., { userInitiated: false })` was refused: `maxAutoResponds` in a row.
  AutoRespondLimit { count: u32, max: u32 },
  /// A turn failed on a transient model API error: it is sent again at `next_attempt_at`
  /// (ms since the Unix epoch), after `delay_ms` (opt-in `recovery`).
  Recovering {
    attempt: u32,
    max_attempts: u32,
    next_attempt_at: u64,
    delay_ms: u64,
    error: String,
  },
  /// A notification could not be delivered after every attempt.
  DeliveryFailed {
    key: String,
    notification: String,
    attempts: u32,
    error: String,
  },
  /// A notification had no channel (no origin channel, workdir prefix or fallback).
  NotificationDropped { key: String, notification: String },
  /// One line the CLI wrote to stderr.
  Stderr { line: String },
  /// The process exited.
  Exit {
    exit_code: Option<i32>,
    signal: Option<i32>,
  },
  /// A message of a type this version does not know; kept verbatim, never an error.
  Other { message_type: String, raw: Value },
}

impl EventPayload {
  /// A Codex turn end: `status` is `completed`, `interrupted` or `failed` (fatal, with `error`).
  pub fn turn_end(status: &str, error: Option<String>, usage_total: Option<Usage>) -> Self {
    let failed = status == "failed";
    EventPayload::TurnCompleted {
      turn: 0,
      subtype: status.to_owned(),
      is_error: failed,
      result: None,
      api_error_status: None,
      errors: error.into_iter().collect(),
      stop_reason: None,
      terminal_reason: None,
      num_turns: 1,
      duration_ms: 0,
      cost_usd: 0.0,
      total_cost_usd: 0.0,
      usage: Usage::default(),
      usage_total,
      fatal: failed,
    }
  }

  /// The `kind` tag, e.g. `assistant-text`.
  pub fn kind(&self) -> &'static str {
    match self {
      EventPayload::Status { .. } => "status",
      EventPayload::Init { .. } => "init",
      EventPayload::AssistantText { .. } => "assistant-text",
      EventPayload::Thinking { .. } => "thinking",
      EventPayload::ToolUse { .. } => "tool-use",
      EventPayload::ToolResult { .. } => "tool-result",
      EventPayload::UserText { .. } => "user-text",
      EventPayload::TurnStarted { .. } => "turn-started",
      EventPayload::TurnCompleted { .. } => "turn-completed",
      EventPayload::PermissionRequest { .. } => "permission-request",
      EventPayload::PermissionResolved { .. } => "permission-resolved",
      EventPayload::ControlResponse { .. } => "control-response",
      EventPayload::System { .. } => "system",
      EventPayload::StreamEvent { .. } => "stream-event",
      EventPayload::Error { .. } => "error",
      EventPayload::BudgetExhausted { .. } => "budget-exhausted",
      EventPayload::AutoRespondLimit { .. } => "auto-respond-limit",
      EventPayload::Recovering { .. } => "recovering",
      EventPayload::DeliveryFailed { .. } => "delivery-failed",
      EventPayload::NotificationDropped { .. } => "notification-dropped",
      EventPayload::Stderr { .. } => "stderr",
      EventPayload::Exit { .. } => "exit",
      EventPayload::Other { .. } => "other",
    }
  }
}

/// An event as stored in a session's log and handed to listeners: shared, never deep-copied.
pub type Ev = std::sync::Arc<AgentEvent>;

/// An event as listeners and `events()` see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentEvent {
  /// Per-session sequence number, starting at 1, without gaps.
  pub seq: u64,
  /// The manager's session id (shared by all of the session's events).
  pub session_id: std::sync::Arc<str>,
  /// Milliseconds since the Unix epoch.
  pub at: u64,
  #[serde(flatten)]
  pub payload: EventPayload,
}

impl AgentEvent {
  /// The event as a JSON object: `{ seq, sessionId, at, kind, ...fields }`.
  pub fn to_json(&self) -> Value {
    serde_json::to_value(self).unwrap_or(Value::Null)
  }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
  std::time::SystemTime::now()
    .duration_since(std::time::UNIX_EPOCH)
    .map(|d| d.as_millis() as u64)
    .unwrap_or(0)
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn serializes_flat_with_kind_tag() {
    let ev = AgentEvent {
      seq: 3,
      session_id: "s".into(),
      at: 5,
      payload: EventPayload::Status {
        status: Status::WaitingForInput,
        previous: Some(Status::Running),
        reason: Some(StatusReason::TurnEnded),
        end_reason: None,
      },
    };
    let v = ev.to_json();
    assert_eq!(v["kind"], "status");
    assert_eq!(v["status"], "waiting-for-input");
    assert_eq!(v["previous"], "running");
    assert_eq!(v["reason"], "turn-ended");
    assert_eq!(v["sessionId"], "s");
    assert_eq!(v["seq"], 3);
  }

  #[test]
  fn kind_matches_serde_tag() {
    let p = EventPayload::ToolResult {
      tool_use_id: "t".into(),
      content: "c".into(),
      is_error: false,
    };
    let v = serde_json::to_value(&p).unwrap();
    assert_eq!(v["kind"], p.kind());
    assert_eq!(v["toolUseId"], "t");
  }
}
