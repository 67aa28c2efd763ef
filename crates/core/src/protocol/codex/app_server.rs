//! `codex app-server` (docs/protocols.md B4): JSON-RPC 2.0 without the `jsonrpc` field, one message
//! per line, one live process per session. Owns the message builders and a stateful parser that
//! splits the server's output into responses, server requests (approvals) and events.
//!
//! Token usage: `thread/tokenUsage/updated` carries the thread's running total; the parser keeps
//! the last one and reports it on `turn/completed` as `usageTotal`.

use crate::model::event::{EventPayload, Usage};
use crate::protocol::codex::exec::CodexArgs;
use crate::protocol::codex::items::{usage, value_item_events, Stage};
use crate::protocol::{Inbound, ParseError, RpcError};
use serde_json::{json, Map, Value};
use std::collections::HashSet;
use std::ffi::OsString;

/// `codex app-server`, nothing more: the model, sandbox, approval policy and the user's
/// `config` go in `thread/start` / `thread/resume` / `thread/fork` (never on argv; 0.169 refuses
/// `approval_policy = "untrusted"` in config, but accepts it as `approvalPolicy`).
pub fn args() -> Vec<OsString> {
  vec!["app-server".into()]
}

fn line(v: Value) -> String {
  let mut s = v.to_string();
  s.push('\n');
  s
}

/// A request line (newline included).
pub fn request(id: u64, method: &str, params: Value) -> String {
  line(json!({ "id": id, "method": method, "params": params }))
}

/// A notification line, e.g. `initialized`.
pub fn notification(method: &str) -> String {
  line(json!({ "method": method }))
}

/// A successful response to a server request.
pub fn response(id: &Value, result: Value) -> String {
  line(json!({ "id": id, "result": result }))
}

/// An error response to a server request this client does not handle.
pub fn error_response(id: &Value, code: i64, message: &str) -> String {
  line(json!({ "id": id, "error": { "code": code, "message": message } }))
}

/// `initialize` params.
pub fn initialize_params(version: &str) -> Value {
  json!({
    "clientInfo": { "name": "openclaw-sessions", "title": "OpenClaw Sessions", "version": version },
    "capabilities": null,
  })
}

/// `thread/start` params: the session's overrides (see [`thread_params`]).
pub fn thread_start_params(cwd: &str, a: &CodexArgs) -> Value {
  Value::Object(thread_params(cwd, a))
}

/// `thread/resume` (or, with `fork`, `thread/fork`) params: the thread and the session's
/// overrides, which apply to the resumed thread.
pub fn thread_continue_params(thread_id: &str, cwd: &str, a: &CodexArgs) -> Value {
  let mut p = thread_params(cwd, a);
  p.insert("threadId".into(), thread_id.into());
  Value::Object(p)
}

/// `cwd`, `model`, `approvalPolicy`, `sandbox` and `config` (the user's dotted keys and JSON
/// values, as Codex takes `-c` overrides), each only when set.
fn thread_params(cwd: &str, a: &CodexArgs) -> Map<String, Value> {
  let mut p = Map::new();
  p.insert("cwd".into(), cwd.into());
  if let Some(m) = &a.model {
    p.insert("model".into(), m.as_str().into());
  }
  if let Some(ap) = &a.approval_policy {
    p.insert("approvalPolicy".into(), ap.as_str().into());
  }
  if let Some(s) = &a.sandbox {
    p.insert("sandbox".into(), s.as_str().into());
  }
  if !a.config.is_empty() {
    let config: Map<String, Value> = a.config.clone().into_iter().collect();
    p.insert("config".into(), Value::Object(config));
  }
  p
}

/// `turn/start` params: one text input.
pub fn turn_start_params(thread_id: &str, text: &str) -> Value {
  json!({
    "threadId": thread_id,
    "input": [{ "type": "text", "text": text, "text_elements": [] }],
  })
}

/// `turn/interrupt` params.
pub fn turn_interrupt_params(thread_id: &str, turn_id: &str) -> Value {
  json!({ "threadId": thread_id, "turnId": turn_id })
}

/// The response to an approval request: `accept` or `decline`.
pub fn approval_response(id: &Value, a: &crate::protocol::PermissionAnswer) -> String {
  response(
    id,
    json!({ "decision": if a.allow { "accept" } else { "decline" } }),
  )
}

/// The approval methods the server may ask (answered with `{decision}`).
pub fn is_approval(method: &str) -> bool {
  method.ends_with("/requestApproval")
}

/// The thread id in a `thread/start`, `thread/resume` or `thread/fork` result.
pub fn thread_id(result: &Value) -> Option<String> {
  result
    .get("thread")
    .and_then(|t| t.get("id"))
    .and_then(Value::as_str)
    .map(str::to_owned)
}

/// The turn id in a `turn/start` result.
pub fn turn_id(result: &Value) -> Option<String> {
  result
    .get("turn")
    .and_then(|t| t.get("id"))
    .and_then(Value::as_str)
    .map(str::to_owned)
}

/// Stateful parser of one app-server process's stdout.
#[derive(Debug, Default)]
pub struct AppServerParser {
  started: HashSet<String>,
  total: Option<Usage>,
}

impl AppServerParser {
  pub fn parse_line(&mut self, line: &str) -> Result<Vec<Inbound>, ParseError> {
    Ok(
      crate::protocol::decode(line)?
        .map(|v| self.parse_message(v))
        .unwrap_or_default(),
    )
  }

  pub fn parse_message(&mut self, mut v: Value) -> Vec<Inbound> {
    let method = v.get("method").and_then(Value::as_str).map(str::to_owned);
    let id = v.get("id").cloned().filter(|i| !i.is_null());
    match (method, id) {
      (None, Some(id)) => {
        let result = match v.get_mut("error") {
          Some(err) => Err(RpcError {
            code: err.get("code").and_then(Value::as_i64).unwrap_or(0),
            message: err
              .get("message")
              .and_then(Value::as_str)
              .unwrap_or("")
              .to_owned(),
          }),
          None => Ok(v.get_mut("result").map(Value::take).unwrap_or(Value::Null)),
        };
        vec![Inbound::Response {
          id: id.as_u64().unwrap_or(u64::MAX),
          result,
        }]
      }
      (Some(method), Some(id)) => {
        let params = v.get_mut("params").map(Value::take).unwrap_or(Value::Null);
        vec![Inbound::Request { id, method, params }]
      }
      (Some(method), None) => {
        let params = v.get_mut("params").map(Value::take).unwrap_or(Value::Null);
        self
          .notification(&method, params)
          .into_iter()
          .map(Inbound::Event)
          .collect()
      }
      (None, None) => vec![Inbound::Event(EventPayload::Other {
        message_type: String::new(),
        raw: v,
      })],
    }
  }

  fn notification(&mut self, method: &str, params: Value) -> Vec<EventPayload> {
    let item = || params.get("item").unwrap_or(&Value::Null);
    let turn = params.get("turn").unwrap_or(&Value::Null);
    match method {
      "thread/started" => vec![EventPayload::Init {
        backend_session_id: thread_id(&params).unwrap_or_default(),
        model: None,
        cwd: None,
        permission_mode: None,
        tools: Vec::new(),
        cli_version: None,
      }],
      "turn/started" => vec![EventPayload::TurnStarted {
        turn_id: turn.get("id").and_then(Value::as_str).map(str::to_owned),
      }],
      "item/started" => value_item_events(Stage::Started, item(), &mut self.started),
      "item/completed" => value_item_events(Stage::Completed, item(), &mut self.started),
      "item/agentMessage/delta"
      | "item/reasoning/summaryTextDelta"
      | "item/reasoning/textDelta" => {
        vec![EventPayload::StreamEvent { event: params }]
      }
      "thread/tokenUsage/updated" => {
        if let Some(total) = params.get("tokenUsage").and_then(|t| t.get("total")) {
          self.total = Some(usage(total));
        }
        Vec::new()
      }
      "turn/completed" => vec![self.turn_completed(turn)],
      "error" => vec![EventPayload::Error {
        message: text_at(params.get("error"), "message"),
        fatal: false,
      }],
      _ => vec![EventPayload::System {
        subtype: method.to_owned(),
        data: params,
      }],
    }
  }
}

impl AppServerParser {
  /// `turn/completed`: the turn's status and error, with the thread's token totals so far.
  fn turn_completed(&self, turn: &Value) -> EventPayload {
    let status = turn
      .get("status")
      .and_then(Value::as_str)
      .unwrap_or("completed");
    let error = turn
      .get("error")
      .and_then(|e| e.get("message"))
      .and_then(Value::as_str)
      .map(str::to_owned);
    let mut ev = EventPayload::turn_end(status, error, self.total);
    if let EventPayload::TurnCompleted { duration_ms, .. } = &mut ev {
      *duration_ms = turn.get("durationMs").and_then(Value::as_u64).unwrap_or(0);
    }
    ev
  }
}

/// The string at `key` of `v`, or empty.
fn text_at(v: Option<&Value>, key: &str) -> String {
  v.and_then(|v| v.get(key))
    .and_then(Value::as_str)
    .unwrap_or("")
    .to_owned()
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn config_goes_in_the_thread_params_never_on_argv() {
    let a = CodexArgs {
      model: Some("m".into()),
      config: [("model_providers.p.base_url".to_string(), json!("http://x"))].into(),
      ..Default::default()
    };
    assert_eq!(args(), vec![OsString::from("app-server")]);
    let start = thread_start_params("/w", &a);
    assert_eq!(start["config"]["model_providers.p.base_url"], "http://x");
    assert_eq!(start["model"], "m");
    let resume = thread_continue_params("T", "/w", &a);
    assert_eq!(resume["threadId"], "T");
    assert_eq!(resume["config"], start["config"]);
    assert!(thread_start_params("/w", &CodexArgs::default())
      .get("config")
      .is_none());
  }

  #[test]
  fn responses_requests_and_notifications_are_told_apart() {
    let mut p = AppServerParser::default();
    let r = p
      .parse_line(r#"{"id":1,"result":{"thread":{"id":"T"}}}"#)
      .unwrap();
    assert!(
      matches!(&r[0], Inbound::Response { id: 1, result: Ok(v) } if thread_id(v).as_deref() == Some("T"))
    );
    let e = p
      .parse_line(
        r#"{"error":{"code":-32600,"message":"no rollout found for thread id X"},"id":2}"#,
      )
      .unwrap();
    assert!(
      matches!(&e[0], Inbound::Response { id: 2, result: Err(err) } if err.message.contains("no rollout"))
    );
    let q = p
      .parse_line(
        r#"{"method":"item/commandExecution/requestApproval","id":0,"params":{"command":"ls"}}"#,
      )
      .unwrap();
    assert!(matches!(&q[0], Inbound::Request { method, .. } if is_approval(method)));
    p.parse_line(r#"{"method":"thread/tokenUsage/updated","params":{"tokenUsage":{"total":{"inputTokens":7,"outputTokens":2}}}}"#)
      .unwrap();
    let done = p
      .parse_line(r#"{"method":"turn/completed","params":{"turn":{"id":"u","status":"interrupted","error":null,"durationMs":5}}}"#)
      .unwrap();
    match &done[0] {
      Inbound::Event(EventPayload::TurnCompleted {
        subtype,
        fatal,
        usage_total,
        duration_ms,
        ..
      }) => {
        assert_eq!(subtype, "interrupted");
        assert!(!fatal);
        assert_eq!(usage_total.unwrap().input_tokens, 7);
        assert_eq!(*duration_ms, 5);
      }
      other => panic!("{other:?}"),
    }
  }

  #[test]
  fn builders_write_one_line_without_jsonrpc_field() {
    let s = request(3, "turn/start", turn_start_params("T", "hi"));
    assert!(s.ends_with('\n') && !s.contains("jsonrpc"));
    let v: Value = serde_json::from_str(&s).unwrap();
    assert_eq!(v["params"]["input"][0]["text"], "hi");
    assert_eq!(
      notification("initialized").trim(),
      r#"{"method":"initialized"}"#
    );
  }
}
