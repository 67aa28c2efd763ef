//! `codex exec --json` (PROTOCOLS.md B1–B3): one process per turn, JSONL events on stdout,
//! follow-ups with `codex exec resume <thread_id> <prompt>`, stdin always /dev/null.
//!
//! Owns the argument list and the event parser. `turn.completed.usage` is cumulative per
//! thread: it is reported as `usageTotal`, and the session derives the turn's own usage.

use super::codex_items::{item_events, usage, Stage};
use super::ParseError;
use crate::event::EventPayload;
use serde_json::Value;
use std::collections::HashSet;
use std::ffi::OsString;

/// Options shared by both Codex backends.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CodexArgs {
  pub model: Option<String>,
  /// `-s`: `read-only`, `workspace-write`, `danger-full-access`.
  pub sandbox: Option<String>,
  /// `-c approval_policy=...` (exec has no `-a`).
  pub approval_policy: Option<String>,
  /// `-c key=value` overrides, the value already TOML.
  pub config: Vec<(String, String)>,
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

/// `-c` overrides shared by both backends: the approval policy and the user's `config`.
pub fn config_flags(a: &CodexArgs) -> Vec<OsString> {
  let mut v = Vec::new();
  if let Some(p) = &a.approval_policy {
    v.push("-c".into());
    v.push(format!("approval_policy={}", toml_string(p)).into());
  }
  for (k, val) in &a.config {
    v.push("-c".into());
    v.push(format!("{k}={val}").into());
  }
  v
}

/// The argument list of one turn (without the program). Shared flags come before `resume` /
/// `fork`, as the Codex SDK does; the prompt comes last, after `--`.
pub fn args(a: &CodexArgs, how: &Continue, prompt: &str) -> Vec<OsString> {
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
  v.extend(config_flags(a));
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
  v.push("--".into());
  v.push(prompt.into());
  v
}

/// A TOML basic string (for `-c key="value"`).
pub fn toml_string(s: &str) -> String {
  serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// Stateful parser of one exec process's stdout.
#[derive(Debug, Default)]
pub struct ExecParser {
  started: HashSet<String>,
}

impl ExecParser {
  /// Parses one stdout line. Read through `serde_json::Value`, which keeps the last of the
  /// duplicate `id` keys that `web_search` lines carry (PROTOCOLS.md B2).
  pub fn parse_line(&mut self, line: &str) -> Result<Vec<EventPayload>, ParseError> {
    Ok(
      super::decode(line)?
        .map(|v| self.parse_message(v))
        .unwrap_or_default(),
    )
  }

  pub fn parse_message(&mut self, v: Value) -> Vec<EventPayload> {
    let ty = v
      .get("type")
      .and_then(Value::as_str)
      .unwrap_or("")
      .to_owned();
    let item = || v.get("item").unwrap_or(&Value::Null);
    match ty.as_str() {
      "thread.started" => vec![EventPayload::Init {
        backend_session_id: v
          .get("thread_id")
          .and_then(Value::as_str)
          .unwrap_or("")
          .to_owned(),
        model: None,
        cwd: None,
        permission_mode: None,
        tools: Vec::new(),
        cli_version: None,
      }],
      "turn.started" => vec![EventPayload::TurnStarted { turn_id: None }],
      "item.started" => item_events(Stage::Started, item(), &mut self.started),
      "item.updated" => item_events(Stage::Updated, item(), &mut self.started),
      "item.completed" => item_events(Stage::Completed, item(), &mut self.started),
      "turn.completed" => vec![EventPayload::turn_end(
        "completed",
        None,
        Some(usage(v.get("usage").unwrap_or(&Value::Null))),
      )],
      "turn.failed" => {
        let msg = v
          .get("error")
          .and_then(|e| e.get("message"))
          .and_then(Value::as_str)
          .unwrap_or("turn failed")
          .to_owned();
        vec![EventPayload::turn_end("failed", Some(msg), None)]
      }
      "error" => vec![EventPayload::Error {
        message: v
          .get("message")
          .and_then(Value::as_str)
          .unwrap_or("")
          .to_owned(),
        fatal: false,
      }],
      _ => vec![EventPayload::Other {
        message_type: ty,
        raw: v,
      }],
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  fn strs(v: Vec<OsString>) -> Vec<String> {
    v.into_iter().map(|s| s.into_string().unwrap()).collect()
  }

  #[test]
  fn shared_flags_come_before_resume_and_the_prompt_after_dashdash() {
    let a = CodexArgs {
      model: Some("m".into()),
      sandbox: Some("read-only".into()),
      approval_policy: Some("never".into()),
      config: vec![("analytics.enabled".into(), "false".into())],
    };
    let v = strs(args(&a, &Continue::Resume("T".into()), "-not a flag"));
    let resume = v.iter().position(|s| s == "resume").unwrap();
    assert!(v.iter().position(|s| s == "--sandbox").unwrap() < resume);
    assert!(v.contains(&"approval_policy=\"never\"".to_string()));
    assert_eq!(&v[resume..], &["resume", "T", "--", "-not a flag"]);
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
