//! Claude Code's stdout messages (docs/protocols.md A2/A3/A4) → [`EventPayload`]s.
//!
//! Each line is decoded into one typed wire struct that names only the fields the session
//! uses; everything else in the line is skipped without being built (an output line is mostly
//! fields nobody reads: uuids, per-model usage, tool result metadata). Messages kept whole
//! (`stream_event`'s event, a tool's input, an unknown message) are the only `Value`s built.

mod content;

use crate::model::event::{EventPayload, Usage};
use crate::protocol::wire::{other, whole};
use crate::protocol::{decode_typed, lenient, ParseError};
use content::Content;
use serde::Deserialize;
use serde_json::Value;
use std::borrow::Cow;

/// One stdout line, any message type: the union of the fields read from each.
#[derive(Deserialize)]
struct Wire<'a> {
  #[serde(rename = "type", borrow, default)]
  ty: Cow<'a, str>,
  #[serde(default)]
  subtype: Option<String>,
  // system/init
  #[serde(default)]
  session_id: Option<String>,
  #[serde(default)]
  model: Option<String>,
  #[serde(default)]
  cwd: Option<String>,
  #[serde(rename = "permissionMode", default)]
  permission_mode: Option<String>,
  #[serde(default)]
  tools: Option<Value>,
  #[serde(default)]
  claude_code_version: Option<String>,
  // assistant / user
  #[serde(default)]
  message: Option<Message>,
  #[serde(default)]
  parent_tool_use_id: Option<String>,
  /// A synthetic assistant message's error kind (e.g. `rate_limit`).
  #[serde(default, deserialize_with = "lenient")]
  error: Option<String>,
  // result
  #[serde(default, deserialize_with = "lenient")]
  is_error: Option<bool>,
  #[serde(default)]
  result: Option<String>,
  #[serde(default, deserialize_with = "lenient")]
  api_error_status: Option<u16>,
  #[serde(default)]
  errors: Option<Vec<Value>>,
  #[serde(default)]
  stop_reason: Option<String>,
  #[serde(default)]
  terminal_reason: Option<String>,
  #[serde(default, deserialize_with = "lenient")]
  num_turns: Option<u32>,
  #[serde(default, deserialize_with = "lenient")]
  duration_ms: Option<u64>,
  #[serde(default, deserialize_with = "lenient")]
  total_cost_usd: Option<f64>,
  #[serde(default)]
  usage: Option<WireUsage>,
  // stream_event
  #[serde(default)]
  event: Option<Value>,
  // control_request / control_response
  #[serde(default)]
  request_id: Option<String>,
  #[serde(default)]
  request: Option<Request>,
  #[serde(default)]
  response: Option<Response>,
}

#[derive(Deserialize)]
struct Message {
  #[serde(default)]
  id: Option<String>,
  #[serde(default)]
  content: Option<Content>,
}

/// A content block of an assistant or user message (or of a tool result's content).
#[derive(Deserialize)]
struct Block {
  #[serde(rename = "type", default)]
  ty: String,
  #[serde(default)]
  text: Option<String>,
  #[serde(default)]
  thinking: Option<String>,
  #[serde(default)]
  id: Option<String>,
  #[serde(default)]
  name: Option<String>,
  #[serde(default)]
  input: Option<Value>,
  #[serde(default)]
  tool_use_id: Option<String>,
  #[serde(default)]
  content: Option<Content>,
  #[serde(default, deserialize_with = "lenient")]
  is_error: Option<bool>,
}

#[derive(Deserialize)]
struct Request {
  #[serde(default)]
  subtype: Option<String>,
  #[serde(default)]
  tool_name: Option<String>,
  #[serde(default)]
  input: Option<Value>,
  #[serde(default)]
  tool_use_id: Option<String>,
}

#[derive(Deserialize)]
struct Response {
  #[serde(default)]
  request_id: Option<String>,
  #[serde(default)]
  subtype: Option<String>,
  #[serde(default, deserialize_with = "lenient")]
  error: Option<String>,
}

/// An Anthropic usage object (tokens).
#[derive(Deserialize, Default)]
struct WireUsage {
  #[serde(default, deserialize_with = "lenient")]
  input_tokens: Option<u64>,
  #[serde(default, deserialize_with = "lenient")]
  output_tokens: Option<u64>,
  #[serde(default, deserialize_with = "lenient")]
  cache_read_input_tokens: Option<u64>,
  #[serde(default, deserialize_with = "lenient")]
  cache_creation_input_tokens: Option<u64>,
}

impl From<WireUsage> for Usage {
  fn from(u: WireUsage) -> Usage {
    Usage {
      input_tokens: u.input_tokens.unwrap_or(0),
      output_tokens: u.output_tokens.unwrap_or(0),
      cache_read_input_tokens: u.cache_read_input_tokens.unwrap_or(0),
      cache_creation_input_tokens: u.cache_creation_input_tokens.unwrap_or(0),
    }
  }
}

/// Parses one stdout line into zero or more payloads. Unknown `type`s become
/// [`EventPayload::Other`]; only a line that is not JSON at all is an error.
pub fn parse_line(line: &str) -> Result<Vec<EventPayload>, ParseError> {
  let typed = |s: &str| serde_json::from_str::<Wire>(s).map(|w| map(w, s));
  Ok(decode_typed(line, typed, |v| vec![other(v)])?.unwrap_or_default())
}

/// Parses one already-decoded message (an SDK message given to `ingest`), the same way.
pub fn parse_message(v: Value) -> Vec<EventPayload> {
  parse_line(&v.to_string()).unwrap_or_default()
}

/// Block `i` of the line's `message.content`, kept whole (an unknown block type).
fn raw_block(line: &str, i: usize) -> Value {
  let mut v = whole(line);
  v.pointer_mut(&format!("/message/content/{i}"))
    .map(Value::take)
    .unwrap_or(Value::Null)
}

fn map(w: Wire, line: &str) -> Vec<EventPayload> {
  match w.ty.as_ref() {
    "system" if w.subtype.as_deref() == Some("init") => vec![init(w)],
    "system" => vec![EventPayload::System {
      subtype: w.subtype.unwrap_or_default(),
      data: whole(line),
    }],
    "assistant" => assistant(w, line),
    "user" => user(w, line),
    "result" => vec![result(w)],
    "stream_event" => vec![EventPayload::StreamEvent {
      event: w.event.unwrap_or(Value::Null),
    }],
    "control_request" => match w.request {
      Some(r) if r.subtype.as_deref() == Some("can_use_tool") => {
        vec![EventPayload::PermissionRequest {
          request_id: w.request_id.unwrap_or_default(),
          tool_name: r.tool_name.unwrap_or_default(),
          input: r.input.unwrap_or(Value::Null),
          tool_use_id: r.tool_use_id,
        }]
      }
      _ => vec![other(whole(line))],
    },
    "control_response" => {
      let r = w.response.unwrap_or(Response {
        request_id: None,
        subtype: None,
        error: None,
      });
      vec![EventPayload::ControlResponse {
        request_id: r.request_id.unwrap_or_default(),
        subtype: r.subtype.unwrap_or_default(),
        error: r.error,
      }]
    }
    _ => vec![other(whole(line))],
  }
}

fn init(w: Wire) -> EventPayload {
  let tools = match w.tools {
    Some(Value::Array(a)) => a
      .into_iter()
      .filter_map(|t| match t {
        Value::String(s) => Some(s),
        _ => None,
      })
      .collect(),
    _ => Vec::new(),
  };
  EventPayload::Init {
    backend_session_id: w.session_id.unwrap_or_default(),
    model: w.model,
    cwd: w.cwd,
    permission_mode: w.permission_mode,
    tools,
    cli_version: w.claude_code_version,
  }
}

fn assistant(w: Wire, line: &str) -> Vec<EventPayload> {
  let parent = w.parent_tool_use_id;
  let (message_id, blocks) = match w.message {
    Some(Message {
      id,
      content: Some(Content::Blocks(b)),
    }) => (id, b),
    _ => return Vec::new(),
  };
  let mut out = Vec::with_capacity(blocks.len());
  for (i, block) in blocks.into_iter().enumerate() {
    match block.ty.as_str() {
      "text" => {
        let text = block.text.unwrap_or_default();
        if let Some(kind) = &w.error {
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
        text: block.thinking.unwrap_or_default(),
        message_id: message_id.clone(),
      }),
      "redacted_thinking" => out.push(EventPayload::Thinking {
        text: String::new(),
        message_id: message_id.clone(),
      }),
      "tool_use" | "server_tool_use" => out.push(EventPayload::ToolUse {
        tool_use_id: block.id.unwrap_or_default(),
        name: block.name.unwrap_or_default(),
        input: block.input.unwrap_or(Value::Null),
        parent_tool_use_id: parent.clone(),
      }),
      _ => out.push(EventPayload::Other {
        message_type: "assistant".into(),
        raw: raw_block(line, i),
      }),
    }
  }
  out
}

fn user(w: Wire, line: &str) -> Vec<EventPayload> {
  match w.message.and_then(|m| m.content) {
    Some(Content::Text(text)) => vec![EventPayload::UserText { text }],
    Some(Content::Blocks(blocks)) => blocks
      .into_iter()
      .enumerate()
      .map(|(i, b)| match b.ty.as_str() {
        "tool_result" => EventPayload::ToolResult {
          tool_use_id: b.tool_use_id.unwrap_or_default(),
          content: b.content.map(Content::into_text).unwrap_or_default(),
          is_error: b.is_error.unwrap_or(false),
        },
        "text" => EventPayload::UserText {
          text: b.text.unwrap_or_default(),
        },
        _ => EventPayload::Other {
          message_type: "user".into(),
          raw: raw_block(line, i),
        },
      })
      .collect(),
    _ => vec![other(whole(line))],
  }
}

fn result(w: Wire) -> EventPayload {
  let errors = w
    .errors
    .unwrap_or_default()
    .into_iter()
    .map(|e| match e {
      Value::String(s) => s,
      e => e.to_string(),
    })
    .collect();
  let subtype = w.subtype.unwrap_or_default();
  let is_error = w.is_error.unwrap_or(false);
  let fatal = super::is_api_error(&subtype, is_error, w.api_error_status);
  EventPayload::TurnCompleted {
    turn: 0,
    subtype,
    is_error,
    result: w.result,
    api_error_status: w.api_error_status,
    errors,
    stop_reason: w.stop_reason,
    terminal_reason: w.terminal_reason,
    num_turns: w.num_turns.unwrap_or(0),
    duration_ms: w.duration_ms.unwrap_or(0),
    cost_usd: 0.0,
    total_cost_usd: w.total_cost_usd.unwrap_or(0.0),
    usage: w.usage.map(Usage::from).unwrap_or_default(),
    usage_total: None,
    fatal,
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn escaped_strings_unknown_blocks_and_odd_shapes_are_read_like_json_parse() {
    let line = r#"{"type":"assistant","message":{"id":"m1","content":[{"type":"text","text":"a\n\"b\" \u00e9"},{"type":"brand_new_block","x":[1,2]}]},"parent_tool_use_id":null}"#;
    let p = parse_line(line).unwrap();
    assert!(matches!(&p[0], EventPayload::AssistantText { text, .. } if text == "a\n\"b\" é"));
    assert!(
      matches!(&p[1], EventPayload::Other { message_type, raw } if message_type == "assistant" && raw["x"][1] == 2)
    );
    // A tool result whose content is an object is kept as its JSON text.
    let user = r#"{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"t","content":{"k":1},"is_error":true}]}}"#;
    assert!(
      matches!(&parse_line(user).unwrap()[0], EventPayload::ToolResult { content, is_error: true, .. } if content == r#"{"k":1}"#)
    );
  }

  #[test]
  fn duplicate_keys_keep_the_last_and_mistyped_fields_read_as_absent() {
    let dup =
      r#"{"type":"result","subtype":"success","num_turns":1,"num_turns":3,"total_cost_usd":0.5}"#;
    assert!(
      matches!(&parse_line(dup).unwrap()[0], EventPayload::TurnCompleted { num_turns: 3, total_cost_usd, .. } if *total_cost_usd == 0.5)
    );
    let odd = r#"{"type":"result","subtype":"success","num_turns":"three","is_error":"no","usage":{"input_tokens":"x","output_tokens":7}}"#;
    match &parse_line(odd).unwrap()[0] {
      EventPayload::TurnCompleted {
        num_turns,
        is_error,
        usage,
        ..
      } => {
        assert_eq!((*num_turns, *is_error), (0, false));
        assert_eq!((usage.input_tokens, usage.output_tokens), (0, 7));
      }
      other => panic!("{other:?}"),
    }
    // A shape the wire struct cannot take at all is kept whole, not lost.
    let weird = r#"{"type":"assistant","message":{"content":[{"type":"text","text":5}]}}"#;
    assert!(
      matches!(&parse_line(weird).unwrap()[0], EventPayload::Other { message_type, raw } if message_type == "assistant" && raw["message"]["content"][0]["text"] == 5)
    );
    assert!(parse_line("{\"type\":").is_err());
  }
}
