//! Options of the manager and of one session, as the JavaScript caller gives them (camelCase).
//! Deserialization rejects unknown keys; `validate` rejects bad values. Both fail with
//! `E_INVALID_ARGUMENT` before anything is spawned.

use crate::model::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// The agent CLI behind a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Backend {
  /// One live `claude -p --input-format stream-json` process per session.
  Claude,
  /// One live `codex app-server` process per session (JSON-RPC).
  Codex,
  /// One `codex exec --json` process per turn.
  CodexExec,
}

impl Backend {
  pub fn as_str(self) -> &'static str {
    match self {
      Backend::Claude => "claude",
      Backend::Codex => "codex",
      Backend::CodexExec => "codex-exec",
    }
  }
}

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
  /// Longest stdout line accepted from a CLI, in bytes. Default 32 MiB.
  pub max_line_bytes: u32,
  /// How long `close` waits for the CLI to exit after stdin EOF before SIGKILL, ms. Default 30000.
  pub close_timeout_ms: u32,
  /// How long a JSON-RPC request to `codex app-server` may wait for its answer, ms
  /// (`E_TIMEOUT` after). Default 60000.
  pub request_timeout_ms: u32,
  /// How long a starting CLI may take to report its session / thread id, ms. Default 120000.
  pub startup_timeout_ms: u32,
  /// How long a graceful stop (`interrupt`, `shutdown`) waits before SIGKILL, ms. Default 5000.
  pub interrupt_grace_ms: u32,
  /// The answer to a permission request nobody answered within `permissionTimeoutMs`:
  /// `deny` (default) or `allow`.
  pub permission_policy: String,
  /// How long a permission request waits for `respondToPermission`, ms. Default 120000.
  pub permission_timeout_ms: u32,
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
      permission_policy: "deny".into(),
      permission_timeout_ms: 120_000,
      request_timeout_ms: 60_000,
      startup_timeout_ms: 120_000,
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
  /// has failed that attempt (retried like a rejection), ms. Default 30000.
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

/// `manager.spawn(options)`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SpawnOptions {
  /// `claude`, `codex` or `codex-exec`.
  pub backend: String,
  /// The first user message. Sent on stdin, never on the command line.
  pub prompt: String,
  /// Absolute path of an existing directory: the child's cwd.
  pub workdir: String,
  /// Unique among live sessions; usable as a ref.
  pub name: Option<String>,
  /// `--model`.
  pub model: Option<String>,
  /// `--permission-mode`.
  pub permission_mode: Option<String>,
  /// `--allowedTools`.
  #[serde(default)]
  pub allowed_tools: Vec<String>,
  /// `--disallowedTools`.
  #[serde(default)]
  pub disallowed_tools: Vec<String>,
  /// `--append-system-prompt`.
  pub append_system_prompt: Option<String>,
  /// `--max-turns`.
  pub max_turns: Option<u32>,
  /// `--add-dir`, each an absolute path.
  #[serde(default)]
  pub add_dirs: Vec<String>,
  /// Environment for this session's process, over the manager's.
  #[serde(default)]
  pub env: BTreeMap<String, String>,
  pub origin: Option<Origin>,
  /// Codex `--sandbox` / `thread/start.sandbox`.
  pub sandbox: Option<String>,
  /// Codex `approval_policy` / `thread/start.approvalPolicy`.
  pub approval_policy: Option<String>,
  /// Codex `-c key=value` overrides (values: string, number, boolean, or arrays of them).
  #[serde(default)]
  pub config: BTreeMap<String, serde_json::Value>,
  /// Continue this backend session / thread id instead of starting a new one.
  pub resume: Option<String>,
  /// With `resume`: continue a copy under a new id.
  #[serde(default)]
  pub fork: bool,
  /// Stop the session once its reported cost reaches this many USD (Claude: also passed as
  /// `--max-budget-usd`).
  pub max_budget_usd: Option<f64>,
}

/// Codex sandbox modes.
pub const SANDBOX_MODES: &[&str] = &["read-only", "workspace-write", "danger-full-access"];
/// Codex approval policies.
pub const APPROVAL_POLICIES: &[&str] = &["untrusted", "on-failure", "on-request", "never"];

/// Turns a serde error into `E_INVALID_ARGUMENT` naming what was being read.
pub fn from_json<T: for<'de> Deserialize<'de>>(what: &str, v: serde_json::Value) -> Result<T> {
  serde_json::from_value(v).map_err(|e| Error::InvalidArgument(format!("invalid {what}: {e}")))
}

fn bad(msg: String) -> Error {
  Error::InvalidArgument(msg)
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
    if !["deny", "allow"].contains(&self.permission_policy.as_str()) {
      return Err(bad(format!(
        "permissionPolicy must be `deny` or `allow`, got `{}`",
        self.permission_policy
      )));
    }
    if self.request_timeout_ms == 0 || self.startup_timeout_ms == 0 {
      return Err(bad(
        "requestTimeoutMs and startupTimeoutMs must be at least 1".into(),
      ));
    }
    if self.max_line_bytes < 1024 {
      return Err(bad("maxLineBytes must be at least 1024".into()));
    }
    Ok(())
  }
}

impl SpawnOptions {
  /// Checks every field; returns the backend.
  pub fn validate(&self) -> Result<Backend> {
    let backend = match self.backend.as_str() {
      "claude" => Backend::Claude,
      "codex" => Backend::Codex,
      "codex-exec" => Backend::CodexExec,
      other => {
        return Err(bad(format!(
          "unknown backend `{other}`: expected `claude`, `codex` or `codex-exec`"
        )))
      }
    };
    self.validate_backend_options(backend)?;
    if self.prompt.trim().is_empty() {
      return Err(bad(
        "prompt is empty: give the first message to send".into(),
      ));
    }
    check_dir("workdir", &self.workdir)?;
    for d in &self.add_dirs {
      check_dir("addDirs entry", d)?;
    }
    if let Some(name) = &self.name {
      if name.trim().is_empty() {
        return Err(bad(
          "name is empty: omit it or give a non-empty name".into(),
        ));
      }
    }
    if let Some(pm) = &self.permission_mode {
      if !crate::protocol::claude::PERMISSION_MODES.contains(&pm.as_str()) {
        return Err(bad(format!(
          "unknown permissionMode `{pm}`: expected one of {}",
          crate::protocol::claude::PERMISSION_MODES.join(", ")
        )));
      }
    }
    if self
      .max_budget_usd
      .is_some_and(|b| !(b > 0.0 && b.is_finite()))
    {
      return Err(bad("maxBudgetUsd must be a positive number of USD".into()));
    }
    if self.max_turns == Some(0) {
      return Err(bad("maxTurns must be at least 1".into()));
    }
    for t in self.allowed_tools.iter().chain(&self.disallowed_tools) {
      if t.trim().is_empty() || t.contains(',') {
        return Err(bad(format!(
          "tool name `{t}` is empty or contains a comma: give one tool per entry"
        )));
      }
    }
    Ok(backend)
  }
}

impl SpawnOptions {
  /// Options of one backend given to another are refused, not ignored.
  fn validate_backend_options(&self, backend: Backend) -> Result<()> {
    let claude_only = [
      ("permissionMode", self.permission_mode.is_some()),
      ("allowedTools", !self.allowed_tools.is_empty()),
      ("disallowedTools", !self.disallowed_tools.is_empty()),
      ("appendSystemPrompt", self.append_system_prompt.is_some()),
      ("maxTurns", self.max_turns.is_some()),
      ("addDirs", !self.add_dirs.is_empty()),
    ];
    let codex_only = [
      ("sandbox", self.sandbox.is_some()),
      ("approvalPolicy", self.approval_policy.is_some()),
      ("config", !self.config.is_empty()),
    ];
    let foreign: Vec<&str> = match backend {
      Backend::Claude => codex_only.iter(),
      Backend::Codex | Backend::CodexExec => claude_only.iter(),
    }
    .filter(|(_, set)| *set)
    .map(|(k, _)| *k)
    .collect();
    if !foreign.is_empty() {
      return Err(bad(format!(
        "option(s) {} do not apply to backend `{}`",
        foreign.join(", "),
        backend.as_str()
      )));
    }
    let one_of = |what: &str, v: &Option<String>, allowed: &[&str]| match v {
      Some(x) if !allowed.contains(&x.as_str()) => Err(bad(format!(
        "unknown {what} `{x}`: expected one of {}",
        allowed.join(", ")
      ))),
      _ => Ok(()),
    };
    one_of("sandbox", &self.sandbox, SANDBOX_MODES)?;
    one_of("approvalPolicy", &self.approval_policy, APPROVAL_POLICIES)?;
    if backend == Backend::CodexExec && self.approval_policy.as_deref() == Some("untrusted") {
      // `codex exec` only takes the policy as config, where 0.169 refuses `untrusted`.
      return Err(bad(
        "approvalPolicy `untrusted` is not supported by `codex exec` (Codex refuses it in config); \
         use `on-request`, or the `codex` backend"
          .into(),
      ));
    }
    for (k, v) in &self.config {
      toml_value(k, v)?;
    }
    if self.fork && self.resume.is_none() {
      return Err(bad(
        "fork needs resume: the id of the session to fork".into(),
      ));
    }
    if let Some(id) = &self.resume {
      // A name would silently start a new Codex thread (REAL-CLI-TESTING.md); Claude matches
      // non-UUIDs against titles. Only ids are accepted.
      if !crate::protocol::codex::items::is_thread_id(id) {
        return Err(bad(format!(
          "resume must be a session / thread id (a UUID), got `{id}`"
        )));
      }
    }
    Ok(())
  }

  /// The `config` overrides as `(key, TOML value)` pairs.
  pub fn config_toml(&self) -> Result<Vec<(String, String)>> {
    self
      .config
      .iter()
      .map(|(k, v)| Ok((k.clone(), toml_value(k, v)?)))
      .collect()
  }
}

/// A JSON value as a TOML value for `-c key=value`: strings, numbers, booleans and arrays of
/// them. Keys are dotted paths of `[A-Za-z0-9_-]`.
fn toml_value(key: &str, v: &serde_json::Value) -> Result<String> {
  use serde_json::Value;
  let key_ok = !key.is_empty()
    && key.split('.').all(|p| {
      !p.is_empty()
        && p
          .chars()
          .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    });
  if !key_ok {
    return Err(bad(format!(
      "config key `{key}` must be a dotted path of letters, digits, `_` and `-`"
    )));
  }
  fn scalar(v: &Value) -> Option<String> {
    match v {
      Value::String(s) => Some(serde_json::to_string(s).unwrap_or_default()),
      Value::Bool(b) => Some(b.to_string()),
      Value::Number(n) => Some(n.to_string()),
      _ => None,
    }
  }
  let out = match v {
    Value::Array(items) => items
      .iter()
      .map(scalar)
      .collect::<Option<Vec<_>>>()
      .map(|parts| format!("[{}]", parts.join(", "))),
    other => scalar(other),
  };
  out.ok_or_else(|| {
    bad(format!(
      "config `{key}`: use a string, number, boolean or an array of them (nested tables as dotted keys)"
    ))
  })
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

  fn spawn(v: serde_json::Value) -> Result<SpawnOptions> {
    from_json("spawn options", v)
  }

  #[test]
  fn unknown_keys_are_rejected_by_name() {
    let e = spawn(json!({"backend":"claude","prompt":"x","workdir":"/","bogus":1})).unwrap_err();
    assert_eq!(e.code(), "E_INVALID_ARGUMENT");
    assert!(e.to_string().contains("bogus"), "{e}");
    let e = from_json::<ManagerOptions>("manager options", json!({"maxSesions": 3})).unwrap_err();
    assert!(e.to_string().contains("maxSesions"), "{e}");
  }

  #[test]
  fn bad_values_are_rejected() {
    let ok = json!({"backend":"claude","prompt":"hi","workdir":"/tmp"});
    assert_eq!(
      spawn(ok.clone()).unwrap().validate().unwrap(),
      Backend::Claude
    );
    let cases = [
      ("prompt", json!("  "), "prompt is empty"),
      ("workdir", json!("relative/dir"), "absolute"),
      ("workdir", json!("/definitely/not/here"), "not usable"),
      ("backend", json!("gpt"), "unknown backend"),
      ("permissionMode", json!("yolo"), "unknown permissionMode"),
      ("maxTurns", json!(0), "maxTurns"),
    ];
    for (key, val, needle) in cases {
      let mut v = ok.clone();
      v[key] = val;
      let e = spawn(v).unwrap().validate().unwrap_err();
      assert_eq!(e.code(), "E_INVALID_ARGUMENT");
      assert!(e.to_string().contains(needle), "{key}: {e}");
    }
  }

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
}

/// `respondToPermission(ref, requestId, { behavior, message, updatedInput })`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Decision {
  behavior: String,
  message: Option<String>,
  updated_input: Option<serde_json::Value>,
}

/// Reads a permission decision; `E_INVALID_ARGUMENT` unless `behavior` is `allow` or `deny`.
pub fn permission_answer(v: serde_json::Value) -> Result<crate::protocol::PermissionAnswer> {
  let d: Decision = from_json("permission decision", v)?;
  let allow = match d.behavior.as_str() {
    "allow" => true,
    "deny" => false,
    other => {
      return Err(bad(format!(
        "behavior must be `allow` or `deny`, got `{other}`"
      )))
    }
  };
  if d.updated_input.as_ref().is_some_and(|u| !u.is_object()) {
    return Err(bad(
      "updatedInput must be an object (the tool's input)".into(),
    ));
  }
  Ok(crate::protocol::PermissionAnswer {
    allow,
    message: d.message,
    updated_input: d.updated_input,
  })
}

/// `resume(ref, prompt, { fork, onMissing, name })`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct ResumeOptions {
  /// Continue a copy of the conversation under a new backend id.
  pub fork: bool,
  /// When the CLI no longer has the conversation: `fail` (default, `E_RESUME_NOT_FOUND`) or
  /// `fresh` (a new conversation seeded with the stored summary, linked into the chain).
  pub on_missing: Option<String>,
  /// The new session's name (default: the resumed session's, unless a live one has it).
  pub name: Option<String>,
}

impl ResumeOptions {
  /// Whether a missing conversation starts fresh; `E_INVALID_ARGUMENT` for a bad value.
  pub fn fresh_on_missing(&self) -> Result<bool> {
    match self.on_missing.as_deref() {
      None | Some("fail") => Ok(false),
      Some("fresh") => Ok(true),
      Some(other) => Err(bad(format!(
        "onMissing must be `fail` or `fresh`, got `{other}`"
      ))),
    }
  }
}
