//! What callers and the store see of a session: its snapshot (`SessionInfo`), pending
//! permission requests and the bounded conversation summary. Plain data; the state machine
//! that fills it is `session`.

use crate::model::event::{EndReason, Status, StatusReason, Usage};
use crate::model::options::{Backend, Origin};
use serde::Serialize;

/// A permission / approval request waiting for an answer.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PendingPermission {
  /// The id to answer with (`respondToPermission`): Claude's `request_id`, or the Codex
  /// JSON-RPC request id.
  pub request_id: String,
  /// Claude's tool name, or the Codex approval method.
  pub tool_name: String,
  pub input: serde_json::Value,
  /// ms since the Unix epoch.
  pub since: u64,
}

/// A snapshot of one session for callers (`get`, `list`). Stored as JSON without its empty
/// optional fields (a quarter less to read and decode when listing); a missing one reads as
/// its default (`None`, `false`, `{}`).
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SessionInfo {
  pub id: String,
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub name: Option<String>,
  pub backend: Backend,
  /// Claude's `session_id`, known at spawn (`--session-id`).
  pub backend_session_id: String,
  pub status: Status,
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub status_reason: Option<StatusReason>,
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub end_reason: Option<EndReason>,
  pub workdir: String,
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub model: Option<String>,
  pub first_prompt: String,
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub pid: Option<u32>,
  /// ms since the Unix epoch.
  pub created_at: u64,
  pub updated_at: u64,
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub ended_at: Option<u64>,
  /// Turns ended (`result` messages).
  pub turns: u32,
  /// Sum of the CLI's `num_turns` over all turns.
  pub num_turns: u32,
  /// USD.
  pub total_cost_usd: f64,
  pub usage: Usage,
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub last_assistant_text: Option<String>,
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub last_error: Option<String>,
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub exit_code: Option<i32>,
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub exit_signal: Option<i32>,
  pub stderr_tail: Vec<String>,
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub origin: Option<Origin>,
  /// Who launched the session (`spawn({ owner })` or `origin.owner`); `None`: the operator's.
  /// A `forOwner(owner)` handle sees only its owner's sessions.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub owner: Option<String>,
  /// Highest event sequence number so far.
  pub last_seq: u64,
  /// A graceful stop (`interrupt`) needed SIGKILL because the grace period expired.
  pub forced_stop: bool,
  /// Permission requests waiting for an answer, oldest first.
  pub pending_permissions: Vec<PendingPermission>,
  /// The session this one resumed (same conversation, `resume`).
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub resumed_from_id: Option<String>,
  /// The session this one forked (a copy of its conversation, `resume` with `fork`).
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub forked_from_id: Option<String>,
  /// Evicted from the store by retention: only ids and links are kept (a tombstone).
  #[serde(default, skip_serializing_if = "std::ops::Not::not")]
  pub evicted: bool,
  /// The caller owns the agent process (a session fed by `ingest`, e.g. from the Agent SDK).
  #[serde(default, skip_serializing_if = "std::ops::Not::not")]
  pub external: bool,
  /// What holds the session's processes (set at its first process; `None` for external
  /// sessions and before a process started).
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub containment: Option<Containment>,
  /// The caller's own small JSON object (`spawn({ metadata })`, `setMetadata`); empty by
  /// default. Stored with the session, carried over by `resume`, filterable in `list`.
  #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
  pub metadata: serde_json::Map<String, serde_json::Value>,
  /// Codex reported tokens for a model with no price (neither in `prices` nor the defaults):
  /// `total_cost_usd` leaves those tokens out (`model::pricing`).
  #[serde(default, skip_serializing_if = "std::ops::Not::not")]
  pub unpriced: bool,
  /// Automatic recovery after transient model API errors (opt-in `recovery`): set once a
  /// turn failed on one.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub recovery: Option<RecoveryInfo>,
}

/// Where a session's automatic recovery is (`SessionInfo.recovery`).
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RecoveryInfo {
  /// Attempts started or scheduled so far (1 after the first failure).
  pub attempt: u32,
  /// The session's `recovery.maxAttempts`.
  pub max_attempts: u32,
  /// ms since the Unix epoch: when the next attempt starts, while `recovering`.
  pub next_attempt_at: Option<u64>,
  /// Every failed attempt's error, oldest first (the first failure first).
  pub errors: Vec<String>,
}

impl SessionInfo {
  /// The session's owner: `owner`, else `origin.owner` (a session stored before `owner` was).
  pub fn owner_id(&self) -> Option<&str> {
    (self.owner.as_deref()).or_else(|| self.origin.as_ref().and_then(|o| o.owner.as_deref()))
  }
}

/// The mechanism that makes every process a session starts die with it
/// (`process::containment`).
#[derive(Debug, Clone, Copy, Serialize, serde::Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Containment {
  /// A cgroup v2 per session, emptied with `cgroup.kill`.
  Cgroup,
  /// The manager is the child subreaper; descendants are found by their inherited
  /// `OPENCLAW_SESSION_ID` and killed.
  Subreaper,
  /// Only the CLI's process group (no `/proc`, e.g. macOS).
  ProcessGroup,
}

impl Containment {
  pub fn as_str(self) -> &'static str {
    match self {
      Containment::Cgroup => "cgroup",
      Containment::Subreaper => "subreaper",
      Containment::ProcessGroup => "process-group",
    }
  }
}

/// One turn of the local conversation summary kept for recovery (`onMissing: 'fresh'`).
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SummaryTurn {
  pub prompt: String,
  pub reply: String,
}
