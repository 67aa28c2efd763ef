//! Options of the manager and of one session, as the JavaScript caller gives them (camelCase).
//! Deserialization rejects unknown keys; `validate` rejects bad values. Both fail with
//! `E_INVALID_ARGUMENT` before anything is spawned.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// The agent CLI behind a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Backend {
  /// One live `claude -p --input-format stream-json` process per session.
  Claude,
}

impl Backend {
  pub fn as_str(self) -> &'static str {
    match self {
      Backend::Claude => "claude",
    }
  }
}

/// `new SessionManager(options)`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct ManagerOptions {
  /// Most live (non-terminal) sessions at once. Default 5.
  pub max_sessions: u32,
  /// The Claude Code binary: a path, or a name searched on `PATH`. Default `claude`.
  pub claude_path: Option<String>,
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
  /// How long a finished session stays in memory (`get`, `list`), ms. Default 3600000 (1 h).
  pub finished_ttl_ms: u64,
}

impl Default for ManagerOptions {
  fn default() -> Self {
    ManagerOptions {
      max_sessions: 5,
      claude_path: None,
      env: BTreeMap::new(),
      event_log_limit: 1000,
      output_lines: 200,
      stderr_lines: 50,
      max_line_bytes: 32 * 1024 * 1024,
      close_timeout_ms: 30_000,
      finished_ttl_ms: 3_600_000,
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
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SpawnOptions {
  /// `claude`.
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
}

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
      other => return Err(bad(format!("unknown backend `{other}`: expected `claude`"))),
    };
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

fn check_dir(what: &str, dir: &str) -> Result<()> {
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
