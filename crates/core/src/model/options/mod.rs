//! Options of the manager and of one session, as the JavaScript caller gives them (camelCase).
//! Deserialization rejects unknown keys, unknown names of a closed set and numbers out of
//! their type's range; `validate` rejects the rest. All fail with `E_INVALID_ARGUMENT`, naming
//! the key, before anything is spawned.
//!
//! Numbers: counts and sizes are integers from 0 to 4294967295 unless a field says otherwise;
//! durations (`…Ms`) are integers from 0 to 9007199254740991 (`Number.MAX_SAFE_INTEGER`).

mod choices;
mod permission;
mod recovery;
mod resume;
mod spawn;

pub use choices::{
  ApprovalPolicy, Backend, OnLimit, OnMissing, PermissionBehavior, PermissionMode,
  PermissionPolicy, Sandbox,
};
pub use permission::{permission_answer, PermissionAnswer};
pub use recovery::{RecoveryOptions, RetryOn};
pub use resume::ResumeOptions;
pub(crate) use spawn::check_owner;
pub(crate) use spawn::toml_value;
pub use spawn::{is_uuid, SpawnOptions};

use crate::model::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// The least `maxLineBytes`: a CLI's startup lines are a few KB (Claude Code's `init` with its
/// default tools is ~3 KB; MCP servers and many tools make it longer) and must never be dropped.
pub const MIN_LINE_BYTES: u32 = 64 * 1024;

/// The largest integer a JavaScript number holds exactly: the upper bound of every `…Ms` option.
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// `new SessionManager(options)`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct ManagerOptions {
  /// Most live (non-terminal) sessions at once. Default 5.
  pub max_sessions: u32,
  /// The Claude Code binary: a path, or a name searched on `PATH`. Default: the native binary
  /// of `@anthropic-ai/claude-code` under `node_modules` (searched upwards from the current
  /// directory), else `claude` on `PATH`.
  pub claude_path: Option<String>,
  /// The Codex binary. Default: the native binary of `@openai/codex` under `node_modules`,
  /// else `codex` on `PATH`.
  pub codex_path: Option<String>,
  /// `CODEX_HOME` for Codex sessions (default: inherited, i.e. `~/.codex`).
  pub codex_home: Option<String>,
  /// Environment added to every child process (after the inherited one).
  pub env: BTreeMap<String, String>,
  /// Events kept per session for `events()`. Default 1000.
  pub event_log_limit: u32,
  /// Assistant text lines kept per session for `output()`. Default 200.
  pub output_lines: u32,
  /// stderr lines kept per session. Default 50.
  pub stderr_lines: u32,
  /// Longest stdout line accepted from a CLI, in bytes, at least 65536. Default 32 MiB.
  pub max_line_bytes: u32,
  /// Largest prompt / message (`spawn`, `send`, `resume`), in UTF-8 bytes; over it is
  /// `E_INVALID_ARGUMENT`. Default 1 MiB.
  pub max_prompt_bytes: u64,
  /// All sessions' partial stdout lines together may hold this many bytes; a line that would
  /// go over it is skipped (an `error` event) instead of buffered. Default 64 MiB.
  pub line_buffer_budget_bytes: u64,
  /// How long `close` waits for the CLI to exit after stdin EOF before SIGKILL, ms, at least 1.
  /// Default 30000.
  pub close_timeout_ms: u64,
  /// How long a JSON-RPC request to `codex app-server` may wait for its answer, ms
  /// (`E_TIMEOUT` after). Default 60000.
  pub request_timeout_ms: u64,
  /// How long a starting CLI may take to report its session / thread id, ms. Default 120000.
  pub startup_timeout_ms: u64,
  /// How long a graceful stop (`interrupt`, `shutdown`) waits before SIGKILL, ms. Default 5000.
  pub interrupt_grace_ms: u64,
  /// The answer to a permission request nobody answered within `permissionTimeoutMs`:
  /// `deny` (default) or `allow`.
  pub permission_policy: PermissionPolicy,
  /// How long a permission request waits for `respondToPermission`, ms. Default 120000.
  pub permission_timeout_ms: u64,
  /// No activity (events) for this long → graceful stop, `interrupted`, `endReason:
  /// idle-timeout` (resumable), ms. 0 switches it off. Default 1800000 (30 min).
  pub idle_timeout_ms: u64,
  /// A turn running this long is interrupted (the session goes on), ms. 0 (default): off.
  pub turn_timeout_ms: u64,
  /// The process group's resident memory over this many MiB → `killed`, `endReason:
  /// memory-limit` (sampled from /proc every 2 s). 0 (default): off.
  pub memory_limit_mb: u32,
  /// The session store (SQLite): a file path, or `:memory:` for none that outlives the
  /// manager. Default `$OPENCLAW_STATE_DIR/agent-sessions.db`, else
  /// `~/.openclaw/agent-sessions.db`.
  pub store_path: Option<String>,
  /// Most sessions kept in the store; the oldest finished ones go first (a linked ancestor
  /// stays as a tombstone). Default 1000.
  pub max_persisted_sessions: u32,
  /// Finished sessions older than this are removed by `gc()` and at startup, ms. 0 (default):
  /// no age limit.
  pub max_persisted_age_ms: u64,
  /// `send(..., { userInitiated: false })` messages allowed in a row before
  /// `E_AUTO_RESPOND_LIMIT`; a user-initiated message resets the count. Default 10.
  pub max_auto_responds: u32,
  /// Notification routing and timing.
  pub notifications: NotificationOptions,
  /// How long a finished session stays in memory (`get`, `list`), ms. Default 3600000 (1 h).
  pub finished_ttl_ms: u64,
  /// At `maxSessions` live sessions: `reject` (default, `E_LIMIT`) or `evict-idle` (the
  /// session waiting for input longest is interrupted, `endReason: evicted`, to make room).
  pub on_limit: OnLimit,
  /// A session that ended longer ago than this is not resumed (`canResume` reason `too-old`,
  /// `resume` fails with `E_RESUME_NOT_FOUND`), ms. 0 (default): no age limit.
  pub resume_max_age_ms: u64,
  /// USD per million tokens by model, over the dated defaults (`model::pricing`), for the
  /// estimated cost of Codex sessions.
  pub prices: BTreeMap<String, crate::model::pricing::Price>,
  /// Automatic retry of a turn that failed on a transient model API error, for every session
  /// (a spawn's own `recovery` wins). Default: off.
  pub recovery: Option<RecoveryOptions>,
}

impl ManagerOptions {
  /// `E_INVALID_ARGUMENT` for a prompt over `maxPromptBytes`.
  pub fn check_prompt(&self, what: &str, text: &str) -> Result<()> {
    if text.len() as u64 > self.max_prompt_bytes {
      return Err(bad(format!(
        "{what} is {} bytes, over maxPromptBytes ({})",
        text.len(),
        self.max_prompt_bytes
      )));
    }
    Ok(())
  }
}

impl Default for ManagerOptions {
  fn default() -> Self {
    ManagerOptions {
      max_sessions: 5,
      claude_path: None,
      codex_path: None,
      codex_home: None,
      env: BTreeMap::new(),
      event_log_limit: 1000,
      output_lines: 200,
      stderr_lines: 50,
      max_line_bytes: 32 * 1024 * 1024,
      max_prompt_bytes: 1024 * 1024,
      line_buffer_budget_bytes: 64 * 1024 * 1024,
      close_timeout_ms: 30_000,
      finished_ttl_ms: 3_600_000,
      store_path: None,
      max_persisted_sessions: 1000,
      max_persisted_age_ms: 0,
      max_auto_responds: 10,
      notifications: NotificationOptions::default(),
      interrupt_grace_ms: 5_000,
      idle_timeout_ms: 1_800_000,
      turn_timeout_ms: 0,
      memory_limit_mb: 0,
      permission_policy: PermissionPolicy::Deny,
      permission_timeout_ms: 120_000,
      request_timeout_ms: 60_000,
      startup_timeout_ms: 120_000,
      on_limit: OnLimit::Reject,
      resume_max_age_ms: 0,
      prices: BTreeMap::new(),
      recovery: None,
    }
  }
}

/// `notifications` of `new SessionManager(options)`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct NotificationOptions {
  /// Workdir prefix → channel; the longest matching prefix wins.
  pub channels: BTreeMap<String, String>,
  /// The channel when neither the origin nor a prefix gives one.
  pub fallback_channel: Option<String>,
  /// The `waiting-for-input` wake waits this long for the session to go on by itself, ms.
  /// Default 5000.
  pub waiting_debounce_ms: u64,
  /// A running turn silent this long counts as waiting (reason `idle`), ms. Default 15000.
  pub safety_net_ms: u64,
  /// A session live this long gets one `long-running` reminder, ms. Default 600000.
  pub long_running_ms: u64,
  /// Foreground output is batched this long, ms. Default 500.
  pub foreground_debounce_ms: u64,
  /// Delivery attempts before `delivery-failed`. Default 5.
  pub delivery_attempts: u32,
  /// The first retry's delay, doubled for each next one, ms. Default 500.
  pub delivery_backoff_ms: u64,
  /// How long one delivery attempt may take: a callback whose promise has not settled by then
  /// has failed that attempt (retried like a rejection), ms, at least 1. Default 30000.
  pub delivery_timeout_ms: u64,
}

impl Default for NotificationOptions {
  fn default() -> Self {
    NotificationOptions {
      channels: BTreeMap::new(),
      fallback_channel: None,
      waiting_debounce_ms: 5_000,
      safety_net_ms: 15_000,
      long_running_ms: 600_000,
      foreground_debounce_ms: 500,
      delivery_attempts: 5,
      delivery_backoff_ms: 500,
      delivery_timeout_ms: 30_000,
    }
  }
}

/// Where a session came from (used for notification routing).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Origin {
  pub channel: Option<String>,
  pub agent: Option<String>,
  pub owner: Option<String>,
}

/// Reads `v` as a `T`; a serde error becomes `E_INVALID_ARGUMENT` naming what was being read,
/// the key (as a path, e.g. `notifications.safetyNetMs`) and, for numbers, the allowed range.
pub fn from_json<T: for<'de> Deserialize<'de>>(what: &str, v: serde_json::Value) -> Result<T> {
  serde_path_to_error::deserialize(v).map_err(|e| {
    let path = e.path().to_string();
    let reason = readable(&e.into_inner().to_string());
    let at = if path == "." {
      String::new()
    } else {
      format!(" `{path}`")
    };
    Error::InvalidArgument(format!("invalid {what}{at}: {reason}"))
  })
}

/// serde's type names as the ranges a JavaScript caller can act on.
fn readable(reason: &str) -> String {
  reason
    .replace("expected u32", "expected an integer from 0 to 4294967295")
    .replace(
      "expected u64",
      "expected an integer from 0 to 9007199254740991",
    )
    .replace("expected f64", "expected a number")
}

fn bad(msg: String) -> Error {
  Error::InvalidArgument(msg)
}

/// A user message (`prompt`, `send`): not blank, no NUL character (`E_INVALID_ARGUMENT`).
/// Every backend reads it from stdin; no length limit but memory.
pub(crate) fn check_message(what: &str, text: &str) -> Result<()> {
  if text.trim().is_empty() {
    return Err(bad(format!("{what} is empty: give the message to send")));
  }
  if text.contains('\0') {
    return Err(bad(format!(
      "{what} contains a NUL character, which no CLI accepts in a message"
    )));
  }
  Ok(())
}

/// An environment the OS can hand to a child: no empty key, no `=` in a key, no NUL anywhere
/// (`E_INVALID_ARGUMENT` naming the key; `what` is `env` or `spawn env`).
pub(crate) fn check_env(what: &str, env: &BTreeMap<String, String>) -> Result<()> {
  for (k, v) in env {
    if k.is_empty() {
      return Err(bad(format!("{what} has an empty key")));
    }
    if k.contains('=') || k.contains('\0') {
      return Err(bad(format!(
        "{what} key `{}` contains `=` or a NUL character",
        k.escape_debug()
      )));
    }
    if v.contains('\0') {
      return Err(bad(format!(
        "{what} value of `{k}` contains a NUL character"
      )));
    }
  }
  Ok(())
}

impl ManagerOptions {
  pub fn validate(&self) -> Result<()> {
    if self.max_sessions == 0 {
      return Err(bad("maxSessions must be at least 1".into()));
    }
    if self.event_log_limit == 0 || self.output_lines == 0 {
      return Err(bad(
        "eventLogLimit and outputLines must be at least 1".into(),
      ));
    }
    if self.close_timeout_ms == 0 {
      return Err(bad(
        "closeTimeoutMs must be at least 1 (use kill() to stop at once)".into(),
      ));
    }
    if self.notifications.delivery_timeout_ms == 0 {
      return Err(bad(
        "notifications.deliveryTimeoutMs must be at least 1".into(),
      ));
    }
    self.check_ranges()?;
    if self.request_timeout_ms == 0 || self.startup_timeout_ms == 0 {
      return Err(bad(
        "requestTimeoutMs and startupTimeoutMs must be at least 1".into(),
      ));
    }
    if self.max_line_bytes < MIN_LINE_BYTES {
      return Err(bad(format!(
        "maxLineBytes must be at least {MIN_LINE_BYTES}: the CLIs' startup lines must fit"
      )));
    }
    check_env("env", &self.env)?;
    crate::model::pricing::check_prices(&self.prices)?;
    if let Some(r) = &self.recovery {
      r.validate("recovery")?;
    }
    if self.max_prompt_bytes == 0 || self.max_prompt_bytes > MAX_SAFE_INTEGER {
      return Err(bad("maxPromptBytes must be an integer from 1".into()));
    }
    if self.line_buffer_budget_bytes < self.max_line_bytes.min(1024 * 1024) as u64
      || self.line_buffer_budget_bytes > MAX_SAFE_INTEGER
    {
      return Err(bad(
        "lineBufferBudgetBytes must be at least 1 MiB (or maxLineBytes, if smaller)".into(),
      ));
    }
    Ok(())
  }
}

impl ManagerOptions {
  /// `…Ms` fields are u64 for serde; JavaScript holds them exactly only up to 2^53 - 1.
  fn check_ranges(&self) -> Result<()> {
    let n = &self.notifications;
    let ms = [
      ("closeTimeoutMs", self.close_timeout_ms),
      ("requestTimeoutMs", self.request_timeout_ms),
      ("startupTimeoutMs", self.startup_timeout_ms),
      ("interruptGraceMs", self.interrupt_grace_ms),
      ("permissionTimeoutMs", self.permission_timeout_ms),
      ("idleTimeoutMs", self.idle_timeout_ms),
      ("turnTimeoutMs", self.turn_timeout_ms),
      ("maxPersistedAgeMs", self.max_persisted_age_ms),
      ("finishedTtlMs", self.finished_ttl_ms),
      ("resumeMaxAgeMs", self.resume_max_age_ms),
      ("notifications.waitingDebounceMs", n.waiting_debounce_ms),
      ("notifications.safetyNetMs", n.safety_net_ms),
      ("notifications.longRunningMs", n.long_running_ms),
      (
        "notifications.foregroundDebounceMs",
        n.foreground_debounce_ms,
      ),
      ("notifications.deliveryBackoffMs", n.delivery_backoff_ms),
      ("notifications.deliveryTimeoutMs", n.delivery_timeout_ms),
    ];
    match ms.iter().find(|(_, v)| *v > MAX_SAFE_INTEGER) {
      Some((key, v)) => Err(bad(format!(
        "{key} is {v}: expected an integer from 0 to {MAX_SAFE_INTEGER} (ms)"
      ))),
      None => Ok(()),
    }
  }
}

pub(crate) fn check_dir(what: &str, dir: &str) -> Result<()> {
  let p = Path::new(dir);
  if dir.is_empty() || !p.is_absolute() {
    return Err(bad(format!("{what} must be an absolute path, got `{dir}`")));
  }
  match std::fs::metadata(p) {
    Ok(m) if m.is_dir() => Ok(()),
    Ok(_) => Err(bad(format!("{what} `{dir}` is not a directory"))),
    Err(e) => Err(bad(format!("{what} `{dir}` is not usable: {e}"))),
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use serde_json::json;

  #[test]
  fn manager_defaults_match_design() {
    let o: ManagerOptions = from_json("manager options", json!({})).unwrap();
    assert_eq!(o.max_sessions, 5);
    o.validate().unwrap();
    assert!(from_json::<ManagerOptions>("m", json!({"maxSessions": 0}))
      .unwrap()
      .validate()
      .is_err());
  }

  #[test]
  fn errors_name_the_key_and_the_range_or_the_allowed_names() {
    let e = from_json::<ManagerOptions>("manager options", json!({"maxSesions": 3})).unwrap_err();
    assert!(e.to_string().contains("maxSesions"), "{e}");
    let e = from_json::<ManagerOptions>("manager options", json!({"permissionPolicy": "ask"}))
      .unwrap_err();
    assert_eq!(e.code(), "E_INVALID_ARGUMENT");
    assert!(e.to_string().contains("`permissionPolicy`"), "{e}");
    assert!(e.to_string().contains("expected `deny` or `allow`"), "{e}");
    let e =
      from_json::<ManagerOptions>("m", json!({"notifications": {"safetyNetMs": -1}})).unwrap_err();
    assert!(e.to_string().contains("`notifications.safetyNetMs`"), "{e}");
    assert!(e.to_string().contains("from 0 to 9007199254740991"), "{e}");
    let e = from_json::<ManagerOptions>("m", json!({"maxSessions": 1.5})).unwrap_err();
    assert!(e.to_string().contains("from 0 to 4294967295"), "{e}");
    // 90 days in ms is above 2^32 and accepted.
    let o: ManagerOptions = from_json("m", json!({"maxPersistedAgeMs": 7_776_000_000u64})).unwrap();
    o.validate().unwrap();
    let e = from_json::<ManagerOptions>("m", json!({"idleTimeoutMs": 1u64 << 60}))
      .unwrap()
      .validate()
      .unwrap_err();
    assert!(e.to_string().contains("idleTimeoutMs"), "{e}");
    let e = from_json::<ManagerOptions>("m", json!({"closeTimeoutMs": 0}))
      .unwrap()
      .validate()
      .unwrap_err();
    assert!(e.to_string().contains("closeTimeoutMs"), "{e}");
  }
}
