//! Codex thread items → [`EventPayload`]s, shared by `codex exec --json` (snake_case items such as
//! `command_execution`) and `codex app-server` (camelCase items such as `commandExecution`).
//! Both describe the same item model (PROTOCOLS.md B2, B4), so one mapper serves both.

use crate::event::{EventPayload, Usage};
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

/// Reads `snake` or its camelCase twin.
fn field<'a>(v: &'a Value, snake: &str, camel: &str) -> Option<&'a Value> {
  v.get(snake)
    .or_else(|| v.get(camel))
    .filter(|x| !x.is_null())
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

/// The item's type in snake_case (`commandExecution` → `command_execution`).
fn item_type(item: &Value) -> String {
  let ty = item.get("type").and_then(Value::as_str).unwrap_or("");
  let mut out = String::with_capacity(ty.len() + 4);
  for c in ty.chars() {
    if c.is_ascii_uppercase() {
      out.push('_');
      out.push(c.to_ascii_lowercase());
    } else {
      out.push(c);
    }
  }
  out
}

/// Maps one item message. `started` remembers which tool items already produced their
/// `tool-use`, so an item seen only as completed still yields both `tool-use` and `tool-result`.
pub fn item_events(stage: Stage, item: &Value, started: &mut HashSet<String>) -> Vec<EventPayload> {
  let id = text(item, "id").unwrap_or_default();
  let ty = item_type(item);
  let tool = |name: String, input: Value, started: &mut HashSet<String>| -> Option<EventPayload> {
    if started.insert(id.clone()) {
      Some(EventPayload::ToolUse {
        tool_use_id: id.clone(),
        name,
        input,
        parent_tool_use_id: None,
      })
    } else {
      None
    }
  };
  let mut out = Vec::new();
  match ty.as_str() {
    "agent_message" if stage == Stage::Completed => out.push(EventPayload::AssistantText {
      text: text(item, "text").unwrap_or_default(),
      message_id: Some(id),
      parent_tool_use_id: None,
    }),
    "reasoning" if stage == Stage::Completed => {
      let t = match text(item, "text") {
        Some(t) => t,
        None => [joined(item.get("summary")), joined(item.get("content"))]
          .into_iter()
          .filter(|s| !s.is_empty())
          .collect::<Vec<_>>()
          .join("\n"),
      };
      out.push(EventPayload::Thinking {
        text: t,
        message_id: Some(id),
      });
    }
    "command_execution" => {
      let mut input =
        serde_json::json!({ "command": item.get("command").cloned().unwrap_or(Value::Null) });
      if let Some(cwd) = item.get("cwd").filter(|c| !c.is_null()) {
        input["cwd"] = cwd.clone();
      }
      out.extend(tool(EXEC_COMMAND.into(), input, started));
      if stage == Stage::Completed {
        let exit = field(item, "exit_code", "exitCode").and_then(Value::as_i64);
        let status = text(item, "status").unwrap_or_default();
        out.push(EventPayload::ToolResult {
          tool_use_id: id.clone(),
          content: field(item, "aggregated_output", "aggregatedOutput")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned(),
          is_error: status != "completed" || exit.is_some_and(|c| c != 0),
        });
      }
    }
    "file_change" => {
      let input =
        serde_json::json!({ "changes": item.get("changes").cloned().unwrap_or(Value::Null) });
      out.extend(tool("file_change".into(), input, started));
      if stage == Stage::Completed {
        let status = text(item, "status").unwrap_or_default();
        out.push(EventPayload::ToolResult {
          tool_use_id: id.clone(),
          content: status.clone(),
          is_error: status != "completed",
        });
      }
    }
    // `item.started` of a web search carries no query yet (`query: ""`): report it complete.
    "web_search" if stage != Stage::Completed => {}
    "web_search" => {
      let input = serde_json::json!({
        "query": item.get("query").cloned().unwrap_or(Value::Null),
        "action": item.get("action").cloned().unwrap_or(Value::Null),
      });
      out.extend(tool("web_search".into(), input, started));
      if stage == Stage::Completed {
        out.push(EventPayload::ToolResult {
          tool_use_id: id.clone(),
          content: String::new(),
          is_error: false,
        });
      }
    }
    "mcp_tool_call" => {
      let name = format!(
        "mcp__{}__{}",
        text(item, "server").unwrap_or_default(),
        text(item, "tool").unwrap_or_default()
      );
      let input = item.get("arguments").cloned().unwrap_or(Value::Null);
      out.extend(tool(name, input, started));
      if stage == Stage::Completed {
        let error = item.get("error").and_then(|e| text(e, "message"));
        out.push(EventPayload::ToolResult {
          tool_use_id: id.clone(),
          content: error.clone().unwrap_or_else(|| {
            item
              .get("result")
              .map(|r| joined(r.get("content")))
              .unwrap_or_default()
          }),
          is_error: error.is_some(),
        });
      }
    }
    "error" if stage == Stage::Completed => out.push(EventPayload::Error {
      message: text(item, "message").unwrap_or_default(),
      fatal: false,
    }),
    // The user's own message echoed back, and streaming-only stages: nothing to report.
    "user_message" | "agent_message" | "reasoning" | "error" => {}
    _ => out.push(EventPayload::Other {
      message_type: format!("item:{ty}"),
      raw: item.clone(),
    }),
  }
  out
}

/// Codex token usage (`turn.completed.usage` or app-server `tokenUsage.total`) → [`Usage`].
pub fn usage(v: &Value) -> Usage {
  let n = |snake: &str, camel: &str| field(v, snake, camel).and_then(Value::as_u64).unwrap_or(0);
  Usage {
    input_tokens: n("input_tokens", "inputTokens"),
    output_tokens: n("output_tokens", "outputTokens"),
    cache_read_input_tokens: n("cached_input_tokens", "cachedInputTokens"),
    cache_creation_input_tokens: n("cache_write_input_tokens", "cacheWriteInputTokens"),
  }
}

/// A thread id that `resume` may be given: a UUID (a name would silently start a new thread,
/// PROTOCOLS.md B3 / REAL-CLI-TESTING.md).
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
    let a = item_events(Stage::Completed, &exec, &mut HashSet::new());
    let b = item_events(Stage::Completed, &app, &mut HashSet::new());
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
    assert_eq!(item_events(Stage::Started, &item, &mut seen).len(), 1);
    let done = item_events(Stage::Completed, &item, &mut seen);
    assert_eq!(done.len(), 1);
    assert!(matches!(
      &done[0],
      EventPayload::ToolResult { is_error: true, .. }
    ));
  }

  #[test]
  fn thread_ids_must_be_uuids() {
    assert!(is_thread_id("01a1ff95-4306-7203-b409-5eb57391c6b3"));
    assert!(!is_thread_id("my-thread"));
    assert!(!is_thread_id("01a1ff954306720 3b4095eb57391c6b3"));
  }
}
