//! `codex exec --json` (docs/protocols.md B1–B3): one process per turn, JSONL events on stdout,
//! follow-ups with `codex exec resume <thread_id> -`. The prompt is always `-`: Codex reads it
//! from stdin until EOF (the caller writes it and closes the pipe), so no message is limited by
//! the argument list or read as a flag.
//!
//! Owns the argument list and the event parser. `turn.completed.usage` is cumulative per
//! thread: it is reported as `usageTotal`, and the session derives the turn's own usage.

use crate::model::error::Result;
use crate::model::event::EventPayload;
use crate::model::options::toml_value;
use crate::protocol::codex::items::{item_events, Item, Stage, WireUsage};
use crate::protocol::wire::{other, whole};
use crate::protocol::{decode_typed, lenient, ParseError};
use serde::Deserialize;
use serde_json::Value;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};
use std::ffi::OsString;

/// Options shared by both Codex backends.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CodexArgs {
  pub model: Option<String>,
  /// `-s`: `read-only`, `workspace-write`, `danger-full-access`.
  pub sandbox: Option<String>,
  /// `approval_policy` (exec has no `-a`: it goes in the session's profile).
  pub approval_policy: Option<String>,
  /// The user's `config` overrides: dotted keys and JSON values (checked by
  /// `SpawnOptions::validate`). Never on argv: the session's profile file (exec) or
  /// `thread/start.config` (app-server).
  pub config: BTreeMap<String, Value>,
}

/// How the turn's process continues the thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Continue {
  /// A new thread.
  New,
  /// `exec resume <thread_id>`.
  Resume(String),
  /// `exec fork <thread_id>`.
  Fork(String),
}

/// The session's Codex profile, `$CODEX_HOME/<name>.config.toml`, which `--profile <name>`
/// layers over the user's `config.toml`: the approval policy and the user's `config`, as TOML
/// dotted keys (a `config` key `approval_policy` wins over `approvalPolicy`, as the last `-c`
/// did). `None` when there is nothing to put in it.
pub fn profile_toml(a: &CodexArgs) -> Result<Option<String>> {
  let mut out = String::new();
  if let Some(p) = a
    .approval_policy
    .as_ref()
    .filter(|_| !a.config.contains_key("approval_policy"))
  {
    out.push_str(&format!("approval_policy = {}\n", toml_string(p)));
  }
  for (k, v) in &a.config {
    out.push_str(&format!("{k} = {}\n", toml_value(k, v)?));
  }
  Ok((!out.is_empty()).then_some(out))
}

/// The argument list of one turn (without the program). Shared flags come before `resume` /
/// `fork`, as the Codex SDK does; the prompt comes last: `-`, read from stdin. `profile` names
/// the session's profile (see [`profile_toml`]): no config value is on argv.
pub fn args(a: &CodexArgs, how: &Continue, profile: Option<&str>) -> Vec<OsString> {
  let mut v: Vec<OsString> = vec![
    "exec".into(),
    "--json".into(),
    "--skip-git-repo-check".into(),
  ];
  if let Some(m) = &a.model {
    v.push("--model".into());
    v.push(m.into());
  }
  if let Some(s) = &a.sandbox {
    v.push("--sandbox".into());
    v.push(s.into());
  }
  if let Some(p) = profile {
    v.push("--profile".into());
    v.push(p.into());
  }
  match how {
    Continue::New => {}
    Continue::Resume(id) => {
      v.push("resume".into());
      v.push(id.into());
    }
    Continue::Fork(id) => {
      v.push("fork".into());
      v.push(id.into());
    }
  }
  v.push("-".into());
  v
}

/// A TOML basic string.
pub fn toml_string(s: &str) -> String {
  serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// One `codex exec --json` line, any event type: the fields read from each.
#[derive(Deserialize)]
struct Wire<'a> {
  #[serde(rename = "type", borrow, default)]
  ty: Cow<'a, str>,
  #[serde(default, deserialize_with = "lenient")]
  thread_id: Option<String>,
  #[serde(default)]
  item: Option<Box<Item>>,
  #[serde(default)]
  usage: Option<WireUsage>,
  /// `turn.failed`: `{message}`.
  #[serde(default)]
  error: Option<Value>,
  /// `error`.
  #[serde(default, deserialize_with = "lenient")]
  message: Option<String>,
}

/// Stateful parser of one exec process's stdout.
#[derive(Debug, Default)]
pub struct ExecParser {
  started: HashSet<String>,
}

impl ExecParser {
  /// Parses one stdout line, through a typed wire struct (see [`crate::protocol::decode_typed`]; the
  /// duplicate `id` keys of `web_search` items keep the last, docs/protocols.md B2).
  pub fn parse_line(&mut self, line: &str) -> Result<Vec<EventPayload>, ParseError> {
    let started = &mut self.started;
    let typed = |s: &str| serde_json::from_str::<Wire>(s).map(|w| map(w, s, started));
    Ok(decode_typed(line, typed, |v| vec![other(v)])?.unwrap_or_default())
  }
}

fn map(w: Wire, line: &str, started: &mut HashSet<String>) -> Vec<EventPayload> {
  let item = |stage, item: Option<Box<Item>>, started: &mut HashSet<String>| match item {
    Some(i) => item_events(stage, i, started, || {
      whole(line)
        .get_mut("item")
        .map(Value::take)
        .unwrap_or(Value::Null)
    }),
    None => vec![other(whole(line))],
  };
  match w.ty.as_ref() {
    "thread.started" => vec![EventPayload::Init {
      backend_session_id: w.thread_id.unwrap_or_default(),
      model: None,
      cwd: None,
      permission_mode: None,
      tools: Vec::new(),
      cli_version: None,
    }],
    "turn.started" => vec![EventPayload::TurnStarted { turn_id: None }],
    "item.started" => item(Stage::Started, w.item, started),
    "item.updated" => item(Stage::Updated, w.item, started),
    "item.completed" => item(Stage::Completed, w.item, started),
    "turn.completed" => vec![EventPayload::turn_end(
      "completed",
      None,
      Some(w.usage.unwrap_or_default().into()),
    )],
    "turn.failed" => {
      let msg = w
        .error
        .as_ref()
        .and_then(|e| e.get("message"))
        .and_then(Value::as_str)
        .unwrap_or("turn failed")
        .to_owned();
      vec![EventPayload::turn_end("failed", Some(msg), None)]
    }
    "error" => vec![EventPayload::Error {
      message: w.message.unwrap_or_default(),
      fatal: false,
    }],
    _ => vec![other(whole(line))],
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  fn strs(v: Vec<OsString>) -> Vec<String> {
    v.into_iter().map(|s| s.into_string().unwrap()).collect()
  }

  #[test]
  fn shared_flags_come_before_resume_and_the_prompt_is_read_from_stdin() {
    let a = CodexArgs {
      model: Some("m".into()),
      sandbox: Some("read-only".into()),
      approval_policy: Some("never".into()),
      config: [("analytics.enabled".to_string(), Value::Bool(false))].into(),
    };
    let v = strs(args(&a, &Continue::Resume("T".into()), Some("ocs-1")));
    let resume = v.iter().position(|s| s == "resume").unwrap();
    assert!(v.iter().position(|s| s == "--sandbox").unwrap() < resume);
    assert!(v.iter().position(|s| s == "--profile").unwrap() < resume);
    assert!(!v
      .iter()
      .any(|s| s.contains("never") || s.contains("analytics")));
    assert_eq!(&v[resume..], &["resume", "T", "-"]);
  }

  #[test]
  fn the_profile_holds_the_policy_and_the_config_as_toml() {
    let mut a = CodexArgs {
      approval_policy: Some("never".into()),
      config: [
        ("a.b".to_string(), serde_json::json!("x\"y")),
        ("n".to_string(), serde_json::json!([1, true])),
      ]
      .into(),
      ..Default::default()
    };
    assert_eq!(
      profile_toml(&a).unwrap().unwrap(),
      "approval_policy = \"never\"\na.b = \"x\\\"y\"\nn = [1, true]\n"
    );
    a.config
      .insert("approval_policy".into(), "on-request".into());
    let p = profile_toml(&a).unwrap().unwrap();
    assert_eq!(p.matches("approval_policy").count(), 1, "{p}");
    assert_eq!(profile_toml(&CodexArgs::default()).unwrap(), None);
  }

  #[test]
  fn web_search_duplicate_id_is_accepted() {
    let mut p = ExecParser::default();
    let line = r#"{"type":"item.completed","item":{"id":"item_0","type":"web_search","id":"ws_1","query":"q","action":{"type":"search"}}}"#;
    let out = p.parse_line(line).unwrap();
    assert!(
      matches!(&out[0], EventPayload::ToolUse { name, tool_use_id, .. } if name == "web_search" && tool_use_id == "ws_1")
    );
  }

  #[test]
  fn turn_end_carries_cumulative_usage_and_failures_are_fatal() {
    let mut p = ExecParser::default();
    let ok = p
      .parse_line(r#"{"type":"turn.completed","usage":{"input_tokens":10,"cached_input_tokens":2,"output_tokens":3}}"#)
      .unwrap();
    match &ok[0] {
      EventPayload::TurnCompleted {
        usage_total,
        fatal,
        is_error,
        ..
      } => {
        assert_eq!(usage_total.unwrap().input_tokens, 10);
        assert_eq!(usage_total.unwrap().cache_read_input_tokens, 2);
        assert!(!fatal && !is_error);
      }
      other => panic!("{other:?}"),
    }
    let failed = p
      .parse_line(r#"{"type":"turn.failed","error":{"message":"boom"}}"#)
      .unwrap();
    assert!(
      matches!(&failed[0], EventPayload::TurnCompleted { fatal: true, errors, .. } if errors == &vec!["boom".to_string()])
    );
  }
}
