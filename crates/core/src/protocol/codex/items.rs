//! Codex thread items → [`EventPayload`]s, shared by `codex exec --json` (snake_case items such as
//! `command_execution`) and `codex app-server` (camelCase items such as `commandExecution`).
//! Both describe the same item model (docs/protocols.md B2, B4), so one mapper serves both.

use crate::model::event::{EventPayload, Usage};
use crate::protocol::{lenient, Key, Lenient};
use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashSet;

/// The tool name reported for command executions: the model's own function name.
pub const EXEC_COMMAND: &str = "exec_command";

/// Which lifecycle message carried the item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
  Started,
  Updated,
  Completed,
}

/// One thread item, either wire format: the fields read from any item type (camelCase names
/// are the app-server's). Other fields are skipped without being built. A repeated key keeps
/// its last value, as `JSON.parse` does: exec's `web_search` items carry two `id`s, the item's
/// and the search's (docs/protocols.md B2), and the search's comes last.
#[derive(Debug, Default)]
pub struct Item {
  id: String,
  ty: String,
  text: Option<String>,
  summary: Option<Value>,
  content: Option<Value>,
  command: Option<Value>,
  cwd: Option<Value>,
  aggregated_output: Option<String>,
  exit_code: Option<i64>,
  status: Option<String>,
  changes: Option<Value>,
  query: Option<Value>,
  action: Option<Value>,
  server: Option<String>,
  tool: Option<String>,
  arguments: Option<Value>,
  error: Option<Value>,
  result: Option<Value>,
  message: Option<String>,
}

/// Boxed from the start: an item is some 500 bytes, and a wire struct holding it inline would
/// be copied whole at every step of the decoding.
impl<'de> Deserialize<'de> for Box<Item> {
  fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Box<Item>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
      type Value = Box<Item>;
      fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a thread item object")
      }
      fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Box<Item>, A::Error> {
        let mut it = Box::<Item>::default();
        while let Some(key) = m.next_key::<Key>()? {
          // Values of an unexpected type read as absent (`Lenient`), not as a failed line.
          match key.0.as_ref() {
            "id" => it.id = m.next_value::<Lenient<String>>()?.0.unwrap_or_default(),
            "type" => it.ty = m.next_value::<Lenient<String>>()?.0.unwrap_or_default(),
            "text" => it.text = m.next_value::<Lenient<String>>()?.0,
            "summary" => it.summary = m.next_value()?,
            "content" => it.content = m.next_value()?,
            "command" => it.command = m.next_value()?,
            "cwd" => it.cwd = m.next_value()?,
            "aggregated_output" | "aggregatedOutput" => {
              it.aggregated_output = m.next_value::<Lenient<String>>()?.0
            }
            "exit_code" | "exitCode" => it.exit_code = m.next_value::<Lenient<i64>>()?.0,
            "status" => it.status = m.next_value::<Lenient<String>>()?.0,
            "changes" => it.changes = m.next_value()?,
            "query" => it.query = m.next_value()?,
            "action" => it.action = m.next_value()?,
            "server" => it.server = m.next_value::<Lenient<String>>()?.0,
            "tool" => it.tool = m.next_value::<Lenient<String>>()?.0,
            "arguments" => it.arguments = m.next_value()?,
            "error" => it.error = m.next_value()?,
            "result" => it.result = m.next_value()?,
            "message" => it.message = m.next_value::<Lenient<String>>()?.0,
            _ => {
              m.next_value::<IgnoredAny>()?;
            }
          }
        }
        Ok(it)
      }
    }
    d.deserialize_map(V)
  }
}

fn text(v: &Value, key: &str) -> Option<String> {
  v.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// Joins the text of a string, an array of strings, or an array of `{text}` objects.
fn joined(v: Option<&Value>) -> String {
  match v {
    Some(Value::String(s)) => s.clone(),
    Some(Value::Array(parts)) => parts
      .iter()
      .filter_map(|p| p.as_str().map(str::to_owned).or_else(|| text(p, "text")))
      .collect::<Vec<_>>()
      .join("\n"),
    _ => String::new(),
  }
}

/// An item type in snake_case (`commandExecution` → `command_execution`); exec's types are
/// already, and are borrowed.
fn snake_case(ty: &str) -> std::borrow::Cow<'_, str> {
  if !ty.bytes().any(|b| b.is_ascii_uppercase()) {
    return ty.into();
  }
  let mut out = String::with_capacity(ty.len() + 4);
  for c in ty.chars() {
    if c.is_ascii_uppercase() {
      out.push('_');
      out.push(c.to_ascii_lowercase());
    } else {
      out.push(c);
    }
  }
  out.into()
}

/// Maps one item given as a `Value` (the app-server's notifications).
pub fn value_item_events(
  stage: Stage,
  item: &Value,
  started: &mut HashSet<String>,
) -> Vec<EventPayload> {
  match Box::<Item>::deserialize(item) {
    Ok(i) => item_events(stage, i, started, || item.clone()),
    Err(_) => vec![EventPayload::Other {
      message_type: format!("item:{}", snake_case(&crate::protocol::type_of(item))),
      raw: item.clone(),
    }],
  }
}

/// Maps one item message. `started` remembers which tool items already produced their
/// `tool-use`, so an item seen only as completed still yields both `tool-use` and
/// `tool-result`. `raw` gives the item whole, for an item type this mapper does not know.
pub fn item_events(
  stage: Stage,
  mut item: Box<Item>,
  started: &mut HashSet<String>,
  raw: impl FnOnce() -> Value,
) -> Vec<EventPayload> {
  let item_ty = std::mem::take(&mut item.ty);
  let ty = snake_case(&item_ty);
  let completed = stage == Stage::Completed;
  match ty.as_ref() {
    "agent_message" if completed => vec![agent_message(item)],
    "reasoning" if completed => vec![reasoning(item)],
    "command_execution" => command_execution(completed, item, started),
    "file_change" => file_change(completed, item, started),
    // `item.started` of a web search carries no query yet (`query: ""`): report it complete.
    "web_search" if !completed => Vec::new(),
    "web_search" => web_search(item, started),
    "mcp_tool_call" => mcp_tool_call(completed, item, started),
    "error" if completed => vec![EventPayload::Error {
      message: item.message.unwrap_or_default(),
      fatal: false,
    }],
    // The user's own message echoed back, and streaming-only stages: nothing to report.
    "user_message" | "agent_message" | "reasoning" | "error" => Vec::new(),
    _ => vec![EventPayload::Other {
      message_type: format!("item:{ty}"),
      raw: raw(),
    }],
  }
}

/// A tool item's events: its `tool-use` unless `started` shows it was already reported (then
/// its `input` is never built), then its `tool-result` (content, is-error) when there is one.
/// A result ends the item: its id leaves `started`, which so holds only the tool items still
/// running (an app-server thread lives for many turns).
fn tool_events(
  started: &mut HashSet<String>,
  id: String,
  name: String,
  input: impl FnOnce() -> Value,
  result: Option<(String, bool)>,
) -> Vec<EventPayload> {
  let mut out = Vec::new();
  let reported = if result.is_some() {
    started.remove(&id)
  } else {
    started.contains(&id) || !started.insert(id.clone())
  };
  if !reported {
    out.push(EventPayload::ToolUse {
      tool_use_id: id.clone(),
      name,
      input: input(),
      parent_tool_use_id: None,
    });
  }
  if let Some((content, is_error)) = result {
    out.push(EventPayload::ToolResult {
      tool_use_id: id,
      content,
      is_error,
    });
  }
  out
}

fn agent_message(item: Box<Item>) -> EventPayload {
  EventPayload::AssistantText {
    text: item.text.unwrap_or_default(),
    message_id: Some(item.id),
    parent_tool_use_id: None,
  }
}

/// The reasoning's text, else its summary and content joined.
fn reasoning(item: Box<Item>) -> EventPayload {
  let text = match item.text {
    Some(t) => t,
    None => [joined(item.summary.as_ref()), joined(item.content.as_ref())]
      .into_iter()
      .filter(|s| !s.is_empty())
      .collect::<Vec<_>>()
      .join("\n"),
  };
  EventPayload::Thinking {
    text,
    message_id: Some(item.id),
  }
}

/// A shell command, reported as the model's [`EXEC_COMMAND`] tool; it failed when its status
/// is not `completed` or it exited non-zero.
fn command_execution(
  completed: bool,
  item: Box<Item>,
  started: &mut HashSet<String>,
) -> Vec<EventPayload> {
  let Item {
    id,
    command,
    cwd,
    status,
    exit_code,
    aggregated_output,
    ..
  } = *item;
  let input = || {
    let mut input = serde_json::json!({ "command": command.unwrap_or(Value::Null) });
    if let Some(cwd) = cwd {
      input["cwd"] = cwd;
    }
    input
  };
  let result = completed.then(|| {
    let failed = status.as_deref() != Some("completed") || exit_code.is_some_and(|c| c != 0);
    (aggregated_output.unwrap_or_default(), failed)
  });
  tool_events(started, id, EXEC_COMMAND.into(), input, result)
}

/// A patch; its result is its status.
fn file_change(
  completed: bool,
  item: Box<Item>,
  started: &mut HashSet<String>,
) -> Vec<EventPayload> {
  let Item {
    id,
    changes,
    status,
    ..
  } = *item;
  let input = || serde_json::json!({ "changes": changes.unwrap_or(Value::Null) });
  let result = completed.then(|| {
    let status = status.unwrap_or_default();
    let failed = status != "completed";
    (status, failed)
  });
  tool_events(started, id, "file_change".into(), input, result)
}

/// A completed web search (its result is not reported, only that it ran).
fn web_search(item: Box<Item>, started: &mut HashSet<String>) -> Vec<EventPayload> {
  let Item {
    id, query, action, ..
  } = *item;
  let input = || {
    serde_json::json!({
      "query": query.unwrap_or(Value::Null),
      "action": action.unwrap_or(Value::Null),
    })
  };
  let result = Some((String::new(), false));
  tool_events(started, id, "web_search".into(), input, result)
}

/// An MCP tool call, named `mcp__<server>__<tool>` as Claude Code names them; its result is
/// the error's message, else the result's text content.
fn mcp_tool_call(
  completed: bool,
  item: Box<Item>,
  started: &mut HashSet<String>,
) -> Vec<EventPayload> {
  let name = format!(
    "mcp__{}__{}",
    item.server.unwrap_or_default(),
    item.tool.unwrap_or_default()
  );
  let result = completed.then(|| {
    let error = item.error.as_ref().and_then(|e| text(e, "message"));
    let failed = error.is_some();
    let content = error.unwrap_or_else(|| {
      item
        .result
        .as_ref()
        .map(|r| joined(r.get("content")))
        .unwrap_or_default()
    });
    (content, failed)
  });
  let arguments = item.arguments;
  tool_events(
    started,
    item.id,
    name,
    || arguments.unwrap_or(Value::Null),
    result,
  )
}

/// Codex token usage (`turn.completed.usage` or the app-server's `tokenUsage.total`), either
/// wire format.
#[derive(Debug, Default, Deserialize)]
pub struct WireUsage {
  #[serde(alias = "inputTokens", default, deserialize_with = "lenient")]
  input_tokens: Option<u64>,
  #[serde(alias = "outputTokens", default, deserialize_with = "lenient")]
  output_tokens: Option<u64>,
  #[serde(alias = "cachedInputTokens", default, deserialize_with = "lenient")]
  cached_input_tokens: Option<u64>,
  #[serde(alias = "cacheWriteInputTokens", default, deserialize_with = "lenient")]
  cache_write_input_tokens: Option<u64>,
}

impl From<WireUsage> for Usage {
  fn from(u: WireUsage) -> Usage {
    Usage {
      input_tokens: u.input_tokens.unwrap_or(0),
      output_tokens: u.output_tokens.unwrap_or(0),
      cache_read_input_tokens: u.cached_input_tokens.unwrap_or(0),
      cache_creation_input_tokens: u.cache_write_input_tokens.unwrap_or(0),
    }
  }
}

/// Codex token usage given as a `Value` → [`Usage`] (zeros for what is missing).
pub fn usage(v: &Value) -> Usage {
  WireUsage::deserialize(v).unwrap_or_default().into()
}

/// A thread id that `resume` may be given: a UUID (a name would silently start a new thread,
/// docs/protocols.md B3 / docs/real-cli-testing.md).
pub fn is_thread_id(s: &str) -> bool {
  uuid::Uuid::parse_str(s).is_ok() && s.len() == 36
}

#[cfg(test)]
mod tests {
  use super::*;
  use serde_json::json;

  #[test]
  fn command_items_from_both_wire_formats_map_alike() {
    let exec = json!({"id":"item_1","type":"command_execution","command":"ls","aggregated_output":"a\n","exit_code":0,"status":"completed"});
    let app = json!({"id":"item_1","type":"commandExecution","command":"ls","aggregatedOutput":"a\n","exitCode":0,"status":"completed"});
    let a = value_item_events(Stage::Completed, &exec, &mut HashSet::new());
    let b = value_item_events(Stage::Completed, &app, &mut HashSet::new());
    assert_eq!(a, b);
    assert!(matches!(&a[0], EventPayload::ToolUse { name, .. } if name == EXEC_COMMAND));
    assert!(
      matches!(&a[1], EventPayload::ToolResult { content, is_error: false, .. } if content == "a\n")
    );
  }

  #[test]
  fn started_then_completed_gives_one_tool_use() {
    let mut seen = HashSet::new();
    let item = json!({"id":"i","type":"command_execution","command":"false","aggregated_output":"","exit_code":1,"status":"failed"});
    assert_eq!(value_item_events(Stage::Started, &item, &mut seen).len(), 1);
    let done = value_item_events(Stage::Completed, &item, &mut seen);
    assert_eq!(done.len(), 1);
    assert!(matches!(
      &done[0],
      EventPayload::ToolResult { is_error: true, .. }
    ));
  }

  #[test]
  fn a_finished_tool_item_is_forgotten() {
    let mut seen = HashSet::new();
    let run = json!({"id":"c1","type":"command_execution","command":"ls","status":"in_progress"});
    let done = json!({"id":"c1","type":"command_execution","command":"ls","aggregated_output":"","exit_code":0,"status":"completed"});
    assert_eq!(value_item_events(Stage::Started, &run, &mut seen).len(), 1);
    assert_eq!(value_item_events(Stage::Updated, &run, &mut seen).len(), 0);
    assert!(seen.contains("c1"), "running: remembered");
    assert_eq!(
      value_item_events(Stage::Completed, &done, &mut seen).len(),
      1
    );
    assert!(seen.is_empty(), "completed: forgotten");
    // An item seen only as completed still gives its tool-use, and leaves nothing behind.
    let only = json!({"id":"c2","type":"command_execution","command":"ls","aggregated_output":"","exit_code":0,"status":"completed"});
    assert_eq!(
      value_item_events(Stage::Completed, &only, &mut seen).len(),
      2
    );
    assert!(seen.is_empty());
  }

  #[test]
  fn thread_ids_must_be_uuids() {
    assert!(is_thread_id("01a1ff95-4306-7203-b409-5eb57391c6b3"));
    assert!(!is_thread_id("my-thread"));
    assert!(!is_thread_id("01a1ff954306720 3b4095eb57391c6b3"));
  }
}
