//! Claude Code headless protocol (docs/protocols.md part A): `claude -p --input-format stream-json
//! --output-format stream-json --verbose`, one JSON object per line both ways.
//!
//! Owns the argument list, the stdout parser and the stdin message builders. It must not spawn
//! processes or keep session state: a `result` is reported as it is, the session decides what
//! it means.

mod messages;

pub use messages::{parse_line, parse_message};
use serde_json::{json, Value};
use std::ffi::OsString;

/// What the Claude command line is built from. All optional except `session_id`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClaudeArgs {
  /// Passed as `--session-id` so the id is known before the CLI prints anything (a resume
  /// without fork keeps the resumed id and passes none: the CLI refuses both).
  pub session_id: String,
  /// `--resume <id>`.
  pub resume: Option<String>,
  /// With `resume`: `--fork-session` (the new id is `session_id`).
  pub fork: bool,
  pub model: Option<String>,
  pub permission_mode: Option<String>,
  pub allowed_tools: Vec<String>,
  pub disallowed_tools: Vec<String>,
  /// The text appended to the system prompt; it reaches the CLI through
  /// `append_system_prompt_file`, never the command line.
  pub append_system_prompt: Option<String>,
  /// `--append-system-prompt-file`: a private file holding `append_system_prompt`.
  pub append_system_prompt_file: Option<std::path::PathBuf>,
  pub max_turns: Option<u32>,
  pub add_dirs: Vec<String>,
  /// `--max-budget-usd` (the manager also enforces it).
  pub max_budget_usd: Option<f64>,
}

/// The argument list (without the program). Variadic flags use the `--flag=a,b` form so that
/// nothing after them is swallowed (docs/protocols.md A1). The prompt is never on the command line.
pub fn args(a: &ClaudeArgs) -> Vec<OsString> {
  let mut v: Vec<OsString> = [
    "-p",
    "--input-format",
    "stream-json",
    "--output-format",
    "stream-json",
    "--verbose",
  ]
  .iter()
  .map(OsString::from)
  .collect();
  // Permission prompts arrive as `can_use_tool` control requests the manager answers
  // (docs/protocols.md A4); without it, tools that are not allowed are silently denied.
  v.push("--permission-prompt-tool".into());
  v.push("stdio".into());
  if let Some(id) = &a.resume {
    v.push("--resume".into());
    v.push(id.into());
  }
  if a.resume.is_none() || a.fork {
    if a.fork {
      v.push("--fork-session".into());
    }
    v.push("--session-id".into());
    v.push(a.session_id.clone().into());
  }
  if let Some(m) = &a.model {
    v.push("--model".into());
    v.push(m.into());
  }
  if let Some(pm) = &a.permission_mode {
    v.push("--permission-mode".into());
    v.push(pm.into());
  }
  if !a.allowed_tools.is_empty() {
    v.push(format!("--allowedTools={}", a.allowed_tools.join(",")).into());
  }
  if !a.disallowed_tools.is_empty() {
    v.push(format!("--disallowedTools={}", a.disallowed_tools.join(",")).into());
  }
  if let Some(f) = &a.append_system_prompt_file {
    v.push("--append-system-prompt-file".into());
    v.push(f.into());
  }
  if let Some(n) = a.max_turns {
    v.push("--max-turns".into());
    v.push(n.to_string().into());
  }
  if let Some(usd) = a.max_budget_usd {
    v.push("--max-budget-usd".into());
    v.push(usd.to_string().into());
  }
  for d in &a.add_dirs {
    v.push(format!("--add-dir={d}").into());
  }
  v
}

/// A user message line for stdin (newline included).
pub fn user_message(text: &str) -> String {
  let mut s = json!({
      "type": "user",
      "message": {"role": "user", "content": text},
      "parent_tool_use_id": null,
  })
  .to_string();
  s.push('\n');
  s
}

/// An interrupt control request line for stdin (newline included).
pub fn interrupt_request(request_id: &str) -> String {
  let mut s = json!({
      "type": "control_request",
      "request_id": request_id,
      "request": {"subtype": "interrupt"},
  })
  .to_string();
  s.push('\n');
  s
}

/// The `control_response` to a `can_use_tool` request (newline included): `allow` runs the
/// tool with `updatedInput` (the requested `input` unless changed); `deny` carries a message.
pub fn permission_response(
  request_id: &str,
  input: &Value,
  a: &crate::protocol::PermissionAnswer,
) -> String {
  let response = if a.allow {
    json!({ "behavior": "allow", "updatedInput": a.updated_input.clone().unwrap_or_else(|| input.clone()) })
  } else {
    json!({ "behavior": "deny", "message": a.message.clone().unwrap_or_else(|| "Denied by the session's owner".into()) })
  };
  let mut s = json!({
    "type": "control_response",
    "response": { "subtype": "success", "request_id": request_id, "response": response },
  })
  .to_string();
  s.push('\n');
  s
}

/// Whether a turn result means the model API failed: `is_error` with an HTTP status, or the
/// `success` subtype flagged `is_error` (docs/protocols.md A3: check `is_error`, not `subtype`).
pub fn is_api_error(subtype: &str, is_error: bool, api_error_status: Option<u16>) -> bool {
  is_error && (api_error_status.is_some() || subtype == "success")
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::model::event::EventPayload;

  #[test]
  fn args_never_carry_the_prompt_and_use_equals_for_variadics() {
    let a = ClaudeArgs {
      session_id: "0b6f0c8e-1b7b-4c1e-9a8e-7a4a1f0e2d3c".into(),
      model: Some("m".into()),
      allowed_tools: vec!["Bash".into(), "Read".into()],
      add_dirs: vec!["/tmp/x".into()],
      max_turns: Some(3),
      ..Default::default()
    };
    let v: Vec<String> = args(&a)
      .into_iter()
      .map(|s| s.into_string().unwrap())
      .collect();
    assert_eq!(
      &v[..6],
      &[
        "-p",
        "--input-format",
        "stream-json",
        "--output-format",
        "stream-json",
        "--verbose"
      ]
    );
    assert!(v.contains(&"--allowedTools=Bash,Read".to_string()));
    assert!(v.contains(&"--add-dir=/tmp/x".to_string()));
    let i = v.iter().position(|s| s == "--session-id").unwrap();
    assert_eq!(v[i + 1], a.session_id);
  }

  #[test]
  fn user_message_is_one_json_line() {
    let s = user_message("hi \"there\"\nsecond line");
    assert!(s.ends_with('\n'));
    assert_eq!(s.matches('\n').count(), 1);
    let v: Value = serde_json::from_str(s.trim()).unwrap();
    assert_eq!(v["type"], "user");
    assert_eq!(v["message"]["content"], "hi \"there\"\nsecond line");
  }

  #[test]
  fn non_json_is_an_error_and_unknown_type_is_kept() {
    assert!(parse_line("not json").is_err());
    assert!(parse_line("   ").unwrap().is_empty());
    let p = parse_line(r#"{"type":"brand_new","x":1}"#).unwrap();
    assert!(
      matches!(&p[0], EventPayload::Other { message_type, .. } if message_type == "brand_new")
    );
  }

  #[test]
  fn api_error_detection() {
    assert!(is_api_error("success", true, Some(400)));
    assert!(is_api_error("success", true, None));
    assert!(!is_api_error("error_max_turns", true, None));
    assert!(!is_api_error("success", false, None));
  }
}
