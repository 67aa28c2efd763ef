//! `spawn(options)`: one session's options and their checks.

use super::{bad, check_dir, ApprovalPolicy, Backend, Origin, PermissionMode, Sandbox};
use crate::model::error::Result;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `manager.spawn(options)`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SpawnOptions {
  /// `claude`, `codex` or `codex-exec`.
  pub backend: Backend,
  /// The first user message. Sent on stdin, never on the command line.
  pub prompt: String,
  /// Absolute path of an existing directory: the child's cwd.
  pub workdir: String,
  /// Unique among the owner's live sessions; usable as a ref.
  pub name: Option<String>,
  /// `--model`.
  pub model: Option<String>,
  /// `--permission-mode`.
  pub permission_mode: Option<PermissionMode>,
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
  /// Who launched the session (e.g. a chat user id): the handle of `forOwner(owner)` sees
  /// only sessions of its owner. Same as `origin.owner`; when both are given they must agree.
  pub owner: Option<String>,
  /// Codex `--sandbox` / `thread/start.sandbox`.
  pub sandbox: Option<Sandbox>,
  /// Codex `approval_policy` / `thread/start.approvalPolicy`.
  pub approval_policy: Option<ApprovalPolicy>,
  /// Codex config overrides, as `-c key=value` would give them (dotted keys; values: string,
  /// number, boolean, or arrays of them), but never on argv: `thread/start.config` (app-server)
  /// or the session's 0600 profile file (exec).
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
  /// The caller's own JSON object, at most 4 KiB serialized (`model::metadata`).
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub metadata: Option<serde_json::Map<String, serde_json::Value>>,
  /// Automatic retry of a turn that failed on a transient model API error; over the
  /// manager's `recovery`. `{ maxAttempts: 0 }` turns it off for this session.
  pub recovery: Option<super::RecoveryOptions>,
}

impl SpawnOptions {
  /// Checks every field; returns the backend.
  pub fn validate(&self) -> Result<Backend> {
    let backend = self.backend;
    self.validate_backend_options(backend)?;
    super::check_message("prompt", &self.prompt)?;
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
    check_owner(self.owner.as_deref(), self.origin.as_ref())?;
    if self
      .max_budget_usd
      .is_some_and(|b| !(b > 0.0 && b.is_finite()))
    {
      return Err(bad("maxBudgetUsd must be a positive number of USD".into()));
    }
    if self.max_turns == Some(0) {
      return Err(bad("maxTurns must be at least 1".into()));
    }
    super::check_env("env", &self.env)?;
    if let Some(m) = &self.metadata {
      crate::model::metadata::check(m)?;
    }
    if let Some(r) = &self.recovery {
      r.validate("recovery")?;
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
  /// The session's owner: `owner`, else `origin.owner`.
  pub fn owner(&self) -> Option<&str> {
    owner_of(self.owner.as_deref(), self.origin.as_ref())
  }

  /// `origin` with the owner in it (the session's `origin.owner` and `owner` agree).
  pub fn origin_with_owner(&self) -> Option<Origin> {
    with_owner(self.owner.as_deref(), self.origin.as_ref())
  }
}

/// The owner given as `owner` or as `origin.owner` (`spawn`, `register`).
pub(crate) fn owner_of<'a>(owner: Option<&'a str>, origin: Option<&'a Origin>) -> Option<&'a str> {
  owner.or_else(|| origin.and_then(|o| o.owner.as_deref()))
}

/// `origin` carrying the owner (an origin is made for an owner given alone).
pub(crate) fn with_owner(owner: Option<&str>, origin: Option<&Origin>) -> Option<Origin> {
  match (owner_of(owner, origin), origin) {
    (None, o) => o.cloned(),
    (Some(who), o) => Some(Origin {
      owner: Some(who.to_owned()),
      ..o.cloned().unwrap_or_default()
    }),
  }
}

/// `E_INVALID_ARGUMENT` for a blank owner, or `owner` and `origin.owner` that differ.
pub(crate) fn check_owner(owner: Option<&str>, origin: Option<&Origin>) -> Result<()> {
  let inner = origin.and_then(|o| o.owner.as_deref());
  for o in [owner, inner].into_iter().flatten() {
    if o.trim().is_empty() {
      return Err(bad("owner is empty: omit it or give the owner's id".into()));
    }
  }
  match (owner, inner) {
    (Some(a), Some(b)) if a != b => Err(bad(format!(
      "owner `{a}` and origin.owner `{b}` differ: give one, or the same in both"
    ))),
    _ => Ok(()),
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
    if backend == Backend::CodexExec && self.approval_policy == Some(ApprovalPolicy::Untrusted) {
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
    check_config_keys(self.config.keys())?;
    if self.fork && self.resume.is_none() {
      return Err(bad(
        "fork needs resume: the id of the session to fork".into(),
      ));
    }
    if let Some(id) = &self.resume {
      // A name would silently start a new Codex thread (docs/real-cli-testing.md); Claude matches
      // non-UUIDs against titles. Only ids are accepted.
      if !is_uuid(id) {
        return Err(bad(format!(
          "resume must be a session / thread id (a UUID), got `{id}`"
        )));
      }
    }
    Ok(())
  }
}

/// No `config` key may be a table another key sets a value in (`a` and `a.b`): one TOML file
/// holds them all.
fn check_config_keys<'a>(keys: impl Iterator<Item = &'a String>) -> Result<()> {
  let keys: Vec<&String> = keys.collect();
  for k in &keys {
    if let Some(inner) = keys.iter().find(|o| {
      o.strip_prefix(k.as_str())
        .is_some_and(|r| r.starts_with('.'))
    }) {
      return Err(bad(format!(
        "config keys `{k}` and `{inner}` overlap: `{k}` cannot be both a value and a table"
      )));
    }
  }
  Ok(())
}

/// A JSON value as a TOML value (`key = value` in the session's Codex profile): strings,
/// numbers, booleans and arrays of them. Keys are dotted paths of `[A-Za-z0-9_-]`.
pub(crate) fn toml_value(key: &str, v: &serde_json::Value) -> Result<String> {
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

/// A session / thread id as both CLIs print it: a hyphenated UUID. `resume` takes only ids:
/// a name would silently start a new Codex thread, and Claude matches non-UUIDs against titles.
pub fn is_uuid(s: &str) -> bool {
  s.len() == 36 && uuid::Uuid::parse_str(s).is_ok()
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::model::options::from_json;
  use serde_json::json;

  fn spawn(v: serde_json::Value) -> Result<SpawnOptions> {
    from_json("spawn options", v)
  }

  #[test]
  fn unknown_keys_and_names_are_rejected_by_name() {
    let e = spawn(json!({"backend":"claude","prompt":"x","workdir":"/","bogus":1})).unwrap_err();
    assert_eq!(e.code(), "E_INVALID_ARGUMENT");
    assert!(e.to_string().contains("bogus"), "{e}");
    let base = json!({"backend":"claude","prompt":"hi","workdir":"/tmp"});
    let cases = [
      (
        "backend",
        json!("gpt"),
        "`backend`: unknown variant `gpt`, expected one of `claude`, `codex`, `codex-exec`",
      ),
      (
        "permissionMode",
        json!("yolo"),
        "`permissionMode`: unknown variant `yolo`",
      ),
      (
        "sandbox",
        json!("none"),
        "`sandbox`: unknown variant `none`, expected one of `read-only`",
      ),
      (
        "approvalPolicy",
        json!("always"),
        "`approvalPolicy`: unknown variant `always`",
      ),
      (
        "maxTurns",
        json!(-1),
        "`maxTurns`: invalid value: integer `-1`, expected an integer from 0",
      ),
    ];
    for (key, val, needle) in cases {
      let mut v = base.clone();
      v[key] = val;
      let e = spawn(v).unwrap_err();
      assert_eq!(e.code(), "E_INVALID_ARGUMENT");
      assert!(e.to_string().contains(needle), "{key}: {e}");
    }
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
      ("maxTurns", json!(0), "maxTurns"),
      ("resume", json!("my-session"), "a UUID"),
    ];
    let overlap =
      json!({"backend":"codex","prompt":"hi","workdir":"/tmp","config":{"a":1,"a.b":2}});
    let e = spawn(overlap).unwrap().validate().unwrap_err();
    assert!(e.to_string().contains("`a` and `a.b` overlap"), "{e}");
    for (key, val, needle) in cases {
      let mut v = ok.clone();
      v[key] = val;
      let e = spawn(v).unwrap().validate().unwrap_err();
      assert_eq!(e.code(), "E_INVALID_ARGUMENT");
      assert!(e.to_string().contains(needle), "{key}: {e}");
    }
  }

  #[test]
  fn ids_must_be_uuids() {
    assert!(is_uuid("01a1ff95-4306-7203-b409-5eb57391c6b3"));
    assert!(!is_uuid("my-thread"));
    assert!(!is_uuid("01a1ff9543067203b4095eb57391c6b3"));
  }
}
