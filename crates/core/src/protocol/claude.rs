//! Claude Code headless protocol (PROTOCOLS.md part A): `claude -p --input-format stream-json
//! --output-format stream-json --verbose`, one JSON object per line both ways.
//!
//! Owns the argument list, the stdout parser and the stdin message builders. It must not spawn
//! processes or keep session state: a `result` is reported as it is, the session decides what
//! it means.

use super::ParseError;
use crate::event::{EventPayload, Usage};
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
  pub append_system_prompt: Option<String>,
  pub max_turns: Option<u32>,
  pub add_dirs: Vec<String>,
  /// `--max-budget-usd` (the manager also enforces it).
  pub max_budget_usd: Option<f64>,
}

/// The argument list (without the program). Variadic flags use the `--flag=a,b` form so that
/// nothing after them is swallowed (PROTOCOLS.md A1). The prompt is never on the command line.
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
  // (PROTOCOLS.md A4); without it, tools that are not allowed are silently denied.
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
  if let Some(s) = &a.append_system_prompt {
    v.push("--append-system-prompt".into());
    v.push(s.into());
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

/// The permission modes the CLI accepts for `--permission-mode` (2.1.197 and 2.1.330).
pub const PERMISSION_MODES: &[&str] = &[
  "default",
  "manual",
  "acceptEdits",
  "auto",
  "bypassPermissions",
  "dontAsk",
  "plan",
];

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
pub fn permission_response(request_id: &str, input: &Value, a: &super::PermissionAnswer) -> String {
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

fn str_field(v: &Value, key: &str) -> Option<String> {
  v.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn u64_field(v: &Value, key: &str) -> u64 {
  v.get(key).and_then(Value::as_u64).unwrap_or(0)
}

/// Anthropic usage object → [`Usage`].
pub fn usage(v: &Value) -> Usage {
  Usage {
    input_tokens: u64_field(v, "input_tokens"),
    output_tokens: u64_field(v, "output_tokens"),
    cache_read_input_tokens: u64_field(v, "cache_read_input_tokens"),
    cache_creation_input_tokens: u64_field(v, "cache_creation_input_tokens"),
  }
}

/// A tool result's `content`: a string, or content blocks whose text parts are joined.
fn content_text(v: Option<&Value>) -> String {
  match v {
    Some(Value::String(s)) => s.clone(),
    Some(Value::Array(blocks)) => blocks
      .iter()
      .filter_map(|b| b.get("text").and_then(Value::as_str))
      .collect::<Vec<_>>()
      .join("\n"),
    Some(Value::Null) | None => String::new(),
    Some(other) => other.to_string(),
  }
}

/// Parses one stdout line into zero or more payloads. Unknown `type`s become
/// [`EventPayload::Other`]; only a line that is not JSON at all is an error.
pub fn parse_line(line: &str) -> Result<Vec<EventPayload>, ParseError> {
  Ok(super::decode(line)?.map(parse_message).unwrap_or_default())
}

/// Parses one already-decoded message.
pub fn parse_message(mut v: Value) -> Vec<EventPayload> {
  let ty = v.get("type").and_then(Value::as_str).unwrap_or("");
  match ty {
    "system" => vec![parse_system(v)],
    "assistant" => parse_assistant(&mut v),
    "user" => parse_user(&v),
    "result" => vec![parse_result(&v)],
    "stream_event" => vec![EventPayload::StreamEvent {
      event: v.get_mut("event").map(Value::take).unwrap_or(Value::Null),
    }],
    "control_request" => vec![parse_control_request(v)],
    "control_response" => vec![parse_control_response(&v)],
    _ => vec![other(v)],
  }
}

fn other(v: Value) -> EventPayload {
  let message_type = v
    .get("type")
    .and_then(Value::as_str)
    .unwrap_or("")
    .to_owned();
  EventPayload::Other {
    message_type,
    raw: v,
  }
}

fn parse_system(v: Value) -> EventPayload {
  let subtype = str_field(&v, "subtype").unwrap_or_default();
  if subtype == "init" {
    let tools = v
      .get("tools")
      .and_then(Value::as_array)
      .map(|a| {
        a.iter()
          .filter_map(Value::as_str)
          .map(str::to_owned)
          .collect()
      })
      .unwrap_or_default();
    return EventPayload::Init {
      backend_session_id: str_field(&v, "session_id").unwrap_or_default(),
      model: str_field(&v, "model"),
      cwd: str_field(&v, "cwd"),
      permission_mode: str_field(&v, "permissionMode"),
      tools,
      cli_version: str_field(&v, "claude_code_version"),
    };
  }
  EventPayload::System { subtype, data: v }
}

fn parse_assistant(v: &mut Value) -> Vec<EventPayload> {
  let parent = str_field(v, "parent_tool_use_id");
  let synthetic_error = str_field(v, "error");
  let msg = v.get_mut("message").map(Value::take).unwrap_or(Value::Null);
  let message_id = str_field(&msg, "id");
  let mut out = Vec::new();
  let blocks = match msg {
    Value::Object(mut m) => match m.remove("content") {
      Some(Value::Array(blocks)) => blocks,
      _ => Vec::new(),
    },
    _ => Vec::new(),
  };
  for mut block in blocks {
    match block.get("type").and_then(Value::as_str).unwrap_or("") {
      "text" => {
        let text = match block.get_mut("text").map(Value::take) {
          Some(Value::String(t)) => t,
          _ => String::new(),
        };
        if let Some(kind) = &synthetic_error {
          out.push(EventPayload::Error {
            message: format!("{text} ({kind})"),
            fatal: false,
          });
        }
        out.push(EventPayload::AssistantText {
          text,
          message_id: message_id.clone(),
          parent_tool_use_id: parent.clone(),
        });
      }
      "thinking" => out.push(EventPayload::Thinking {
        text: str_field(&block, "thinking").unwrap_or_default(),
        message_id: message_id.clone(),
      }),
      "redacted_thinking" => out.push(EventPayload::Thinking {
        text: String::new(),
        message_id: message_id.clone(),
      }),
      "tool_use" | "server_tool_use" => out.push(EventPayload::ToolUse {
        tool_use_id: str_field(&block, "id").unwrap_or_default(),
        name: str_field(&block, "name").unwrap_or_default(),
        input: block
          .get_mut("input")
          .map(Value::take)
          .unwrap_or(Value::Null),
        parent_tool_use_id: parent.clone(),
      }),
      _ => out.push(EventPayload::Other {
        message_type: "assistant".into(),
        raw: block,
      }),
    }
  }
  out
}

fn parse_user(v: &Value) -> Vec<EventPayload> {
  let content = v.get("message").and_then(|m| m.get("content"));
  match content {
    Some(Value::String(s)) => vec![EventPayload::UserText { text: s.clone() }],
    Some(Value::Array(blocks)) => blocks
      .iter()
      .map(
        |b| match b.get("type").and_then(Value::as_str).unwrap_or("") {
          "tool_result" => EventPayload::ToolResult {
            tool_use_id: str_field(b, "tool_use_id").unwrap_or_default(),
            content: content_text(b.get("content")),
            is_error: b.get("is_error").and_then(Value::as_bool).unwrap_or(false),
          },
          "text" => EventPayload::UserText {
            text: str_field(b, "text").unwrap_or_default(),
          },
          _ => EventPayload::Other {
            message_type: "user".into(),
            raw: b.clone(),
          },
        },
      )
      .collect(),
    _ => vec![other(v.clone())],
  }
}

fn parse_result(v: &Value) -> EventPayload {
  let mut ev = parse_result_fields(v);
  if let EventPayload::TurnCompleted {
    subtype,
    is_error,
    api_error_status,
    fatal,
    ..
  } = &mut ev
  {
    *fatal = is_api_error(subtype, *is_error, *api_error_status);
  }
  ev
}

fn parse_result_fields(v: &Value) -> EventPayload {
  let errors = v
    .get("errors")
    .and_then(Value::as_array)
    .map(|a| {
      a.iter()
        .map(|e| {
          e.as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| e.to_string())
        })
        .collect()
    })
    .unwrap_or_default();
  EventPayload::TurnCompleted {
    turn: 0,
    subtype: str_field(v, "subtype").unwrap_or_default(),
    is_error: v.get("is_error").and_then(Value::as_bool).unwrap_or(false),
    result: str_field(v, "result"),
    api_error_status: v
      .get("api_error_status")
      .and_then(Value::as_u64)
      .and_then(|n| u16::try_from(n).ok()),
    errors,
    stop_reason: str_field(v, "stop_reason"),
    terminal_reason: str_field(v, "terminal_reason"),
    num_turns: u64_field(v, "num_turns") as u32,
    duration_ms: u64_field(v, "duration_ms"),
    cost_usd: 0.0,
    total_cost_usd: v
      .get("total_cost_usd")
      .and_then(Value::as_f64)
      .unwrap_or(0.0),
    usage: v.get("usage").map(usage).unwrap_or_default(),
    usage_total: None,
    fatal: false,
  }
}

fn parse_control_request(v: Value) -> EventPayload {
  let req = v.get("request").unwrap_or(&Value::Null);
  if req.get("subtype").and_then(Value::as_str) == Some("can_use_tool") {
    return EventPayload::PermissionRequest {
      request_id: str_field(&v, "request_id").unwrap_or_default(),
      tool_name: str_field(req, "tool_name").unwrap_or_default(),
      input: req.get("input").cloned().unwrap_or(Value::Null),
      tool_use_id: str_field(req, "tool_use_id"),
    };
  }
  other(v)
}

fn parse_control_response(v: &Value) -> EventPayload {
  let resp = v.get("response").unwrap_or(&Value::Null);
  EventPayload::ControlResponse {
    request_id: str_field(resp, "request_id").unwrap_or_default(),
    subtype: str_field(resp, "subtype").unwrap_or_default(),
    error: str_field(resp, "error"),
  }
}

/// Whether a turn result means the model API failed: `is_error` with an HTTP status, or the
/// `success` subtype flagged `is_error` (PROTOCOLS.md A3: check `is_error`, not `subtype`).
pub fn is_api_error(subtype: &str, is_error: bool, api_error_status: Option<u16>) -> bool {
  is_error && (api_error_status.is_some() || subtype == "success")
}

#[cfg(test)]
mod tests {
  use super::*;

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
