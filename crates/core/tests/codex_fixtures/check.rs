//! The cross-check of one parsed line against its raw JSON, written apart from the parsers:
//! each message type of the 0.169.0 transcripts says exactly which payloads it must give, field
//! by field. A message type or item type not listed here fails the check (a new one must be
//! looked at, not silently become `other`).

use super::*;

pub fn ensure(cond: bool, why: impl FnOnce() -> String) -> Result<(), String> {
  if cond {
    Ok(())
  } else {
    Err(why())
  }
}

fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
  v.get(key).and_then(Value::as_str)
}

fn u64_of(v: &Value, key: &str) -> Result<u64, String> {
  v.get(key)
    .and_then(Value::as_u64)
    .ok_or_else(|| format!("usage without `{key}`: {v}"))
}

/// `turn.completed.usage` of `codex exec` (snake_case, every field present).
pub fn exec_usage(v: &Value) -> Result<Usage, String> {
  Ok(Usage {
    input_tokens: u64_of(v, "input_tokens")?,
    output_tokens: u64_of(v, "output_tokens")?,
    cache_read_input_tokens: u64_of(v, "cached_input_tokens")?,
    cache_creation_input_tokens: u64_of(v, "cache_write_input_tokens")?,
  })
}

/// `thread/tokenUsage/updated.tokenUsage.total` of the app-server (camelCase).
pub fn app_usage(v: &Value) -> Result<Usage, String> {
  Ok(Usage {
    input_tokens: u64_of(v, "inputTokens")?,
    output_tokens: u64_of(v, "outputTokens")?,
    cache_read_input_tokens: u64_of(v, "cachedInputTokens")?,
    cache_creation_input_tokens: u64_of(v, "cacheWriteInputTokens")?,
  })
}

/// The payloads one thread item must give, in both wire spellings.
#[derive(Default)]
pub struct ItemCheck {
  tools_seen: HashSet<String>,
}

impl ItemCheck {
  pub fn check(&mut self, stage: &str, item: &Value, p: &[EventPayload]) -> Result<(), String> {
    let ty = str_of(item, "type").unwrap_or("");
    // serde_json keeps the last of duplicate keys: for `web_search` that is the provider id.
    let id = str_of(item, "id").unwrap_or("").to_owned();
    let done = stage == "completed";
    let none = |p: &[EventPayload]| ensure(p.is_empty(), || format!("{ty} {stage}: no payload"));
    match ty {
      "agent_message" | "agentMessage" if done => match p {
        [EventPayload::AssistantText {
          text,
          message_id,
          parent_tool_use_id: None,
        }] => {
          ensure(item["text"] == text.as_str(), || format!("text {text:?}"))?;
          ensure(message_id.as_deref() == Some(id.as_str()), || {
            format!("message id {message_id:?}")
          })
        }
        _ => Err("agent message must give one AssistantText".into()),
      },
      "reasoning" if done => match p {
        [EventPayload::Thinking { text, message_id }] => {
          match str_of(item, "text") {
            Some(t) => ensure(t == text, || format!("thinking {text:?}"))?,
            None => ensure(!text.is_empty(), || "empty thinking".into())?,
          }
          ensure(message_id.as_deref() == Some(id.as_str()), || {
            format!("thinking id {message_id:?}")
          })
        }
        _ => Err("reasoning must give one Thinking".into()),
      },
      "error" if done => match p {
        [EventPayload::Error {
          message,
          fatal: false,
        }] => ensure(item["message"] == message.as_str(), || {
          format!("error item {message:?}")
        }),
        _ => Err("error item must give one non-fatal Error".into()),
      },
      // Streaming stages of text items and the user's own message: nothing.
      "agent_message" | "agentMessage" | "reasoning" | "error" | "user_message" | "userMessage" => {
        none(p)
      }
      "command_execution" | "commandExecution" => {
        let rest = self.tool_use(&id, "exec_command", p, |input| {
          ensure(input["command"] == item["command"], || {
            format!("command {input}")
          })?;
          match item.get("cwd").filter(|c| !c.is_null()) {
            Some(cwd) => ensure(input["cwd"] == *cwd, || format!("cwd {input}")),
            None => ensure(input.get("cwd").is_none(), || format!("cwd {input}")),
          }
        })?;
        let output = item
          .get("aggregated_output")
          .or_else(|| item.get("aggregatedOutput"))
          .and_then(Value::as_str)
          .unwrap_or("");
        let exit = item
          .get("exit_code")
          .or_else(|| item.get("exitCode"))
          .and_then(Value::as_i64);
        let ok = item["status"] == "completed" && exit.unwrap_or(0) == 0;
        self.tool_result(done, &id, output, !ok, rest)
      }
      "file_change" | "fileChange" => {
        let rest = self.tool_use(&id, "file_change", p, |input| {
          ensure(input["changes"] == item["changes"], || {
            format!("changes {input}")
          })
        })?;
        let status = str_of(item, "status").unwrap_or("");
        self.tool_result(done, &id, status, status != "completed", rest)
      }
      // `item.started` carries no query yet: a web search is reported when it completes.
      "web_search" | "webSearch" if !done => {
        ensure(p.is_empty(), || format!("started web search gave {p:?}"))
      }
      "web_search" | "webSearch" => {
        let rest = self.tool_use(&id, "web_search", p, |input| {
          ensure(input["query"] == item["query"], || format!("query {input}"))?;
          ensure(input["action"] == item["action"], || {
            format!("action {input}")
          })
        })?;
        self.tool_result(done, &id, "", false, rest)
      }
      other => Err(format!(
        "item type `{other}` is not in the 0.169.0 transcripts: decide how to map it"
      )),
    }
  }

  /// The `ToolUse` an item gives the first time it is seen; returns the payloads after it.
  fn tool_use<'p>(
    &mut self,
    id: &str,
    want_name: &str,
    p: &'p [EventPayload],
    check_input: impl FnOnce(&Value) -> Result<(), String>,
  ) -> Result<&'p [EventPayload], String> {
    if !self.tools_seen.insert(id.to_owned()) {
      return Ok(p);
    }
    match p.first() {
      Some(EventPayload::ToolUse {
        tool_use_id,
        name,
        input,
        parent_tool_use_id: None,
      }) => {
        ensure(tool_use_id == id, || format!("tool use id {tool_use_id}"))?;
        ensure(name == want_name, || format!("tool name {name}"))?;
        check_input(input)?;
        Ok(&p[1..])
      }
      other => Err(format!("expected ToolUse first, got {other:?}")),
    }
  }

  fn tool_result(
    &self,
    done: bool,
    id: &str,
    want_content: &str,
    want_error: bool,
    rest: &[EventPayload],
  ) -> Result<(), String> {
    if !done {
      return ensure(rest.is_empty(), || format!("extra payloads {rest:?}"));
    }
    match rest {
      [EventPayload::ToolResult {
        tool_use_id,
        content,
        is_error,
      }] => {
        ensure(tool_use_id == id, || {
          format!("tool result id {tool_use_id}")
        })?;
        ensure(content == want_content, || format!("content {content:?}"))?;
        ensure(*is_error == want_error, || format!("is_error {is_error}"))
      }
      _ => Err(format!("expected one ToolResult, got {rest:?}")),
    }
  }
}

fn turn_end(
  p: &[EventPayload],
  want_subtype: &str,
  want_errors: &[String],
  want_total: Option<Usage>,
  want_duration: u64,
) -> Result<(), String> {
  match p {
    [EventPayload::TurnCompleted {
      turn: 0,
      subtype,
      is_error,
      fatal,
      errors,
      usage,
      usage_total,
      duration_ms,
      result: None,
      ..
    }] => {
      let failed = want_subtype == "failed";
      ensure(subtype == want_subtype, || format!("subtype {subtype}"))?;
      ensure(*is_error == failed && *fatal == failed, || {
        format!("is_error {is_error} fatal {fatal}")
      })?;
      ensure(errors == want_errors, || format!("errors {errors:?}"))?;
      ensure(*usage == Usage::default(), || {
        "per-turn usage is the session's to compute".into()
      })?;
      ensure(*usage_total == want_total, || {
        format!("usage_total {usage_total:?}, want {want_total:?}")
      })?;
      ensure(*duration_ms == want_duration, || {
        format!("duration {duration_ms}")
      })
    }
    _ => Err("expected exactly one TurnCompleted".into()),
  }
}

/// One `codex exec --json` stdout line.
#[derive(Default)]
pub struct ExecCheck {
  items: ItemCheck,
}

impl ExecCheck {
  pub fn check(&mut self, json: &Value, p: &[EventPayload]) -> Result<(), String> {
    match str_of(json, "type").unwrap_or("") {
      "thread.started" => match p {
        [EventPayload::Init {
          backend_session_id,
          model: None,
          cwd: None,
          permission_mode: None,
          tools,
          cli_version: None,
        }] => {
          ensure(json["thread_id"] == backend_session_id.as_str(), || {
            format!("thread id {backend_session_id}")
          })?;
          ensure(is_thread_id(backend_session_id), || {
            "thread id is not a UUID".into()
          })?;
          ensure(tools.is_empty(), || "tools".into())
        }
        _ => Err("thread.started must give one bare Init".into()),
      },
      "turn.started" => ensure(
        matches!(p, [EventPayload::TurnStarted { turn_id: None }]),
        || "turn.started must give TurnStarted without id".into(),
      ),
      ty @ ("item.started" | "item.updated" | "item.completed") => {
        let stage = &ty["item.".len()..];
        self.items.check(stage, &json["item"], p)
      }
      "turn.completed" => {
        let total = exec_usage(&json["usage"])?;
        turn_end(p, "completed", &[], Some(total), 0)
      }
      "turn.failed" => {
        let msg = str_of(&json["error"], "message").ok_or("turn.failed without message")?;
        turn_end(p, "failed", &[msg.to_owned()], None, 0)
      }
      "error" => match p {
        [EventPayload::Error {
          message,
          fatal: false,
        }] => ensure(json["message"] == message.as_str(), || {
          format!("error {message:?}")
        }),
        _ => Err("error must give one non-fatal Error".into()),
      },
      other => Err(format!(
        "exec event `{other}` is not in the 0.169.0 transcripts"
      )),
    }
  }
}

/// Notifications of 0.169.0 that the session model has no type for: `System{subtype: method}`.
pub const INFORMATIONAL: &[&str] = &[
  "configWarning",
  "remoteControl/status/changed",
  "warning",
  "deprecationNotice",
  "thread/status/changed",
  "thread/goal/cleared",
  "account/rateLimits/updated",
  "serverRequest/resolved",
];

/// One app-server stdout line; remembers the last `thread/tokenUsage/updated` total.
#[derive(Default)]
pub struct AppCheck {
  items: ItemCheck,
  total: Option<Usage>,
}

impl AppCheck {
  pub fn check(&mut self, msg: &Value, inbound: &[Inbound]) -> Result<(), String> {
    let method = str_of(msg, "method");
    match (method, msg.get("id").filter(|i| !i.is_null())) {
      (None, Some(id)) => match inbound {
        [Inbound::Response { id: got, result }] => {
          ensure(id.as_u64() == Some(*got), || format!("response id {got}"))?;
          match msg.get("error") {
            Some(e) => {
              let want = RpcError {
                code: e["code"].as_i64().ok_or("error without code")?,
                message: str_of(e, "message").unwrap_or("").to_owned(),
              };
              ensure(*result == Err(want), || format!("error result {result:?}"))
            }
            None => ensure(*result == Ok(msg["result"].clone()), || {
              "result differs from the line's".into()
            }),
          }
        }
        _ => Err("a response must give one Response".into()),
      },
      (Some(m), Some(id)) => match inbound {
        [Inbound::Request {
          id: got,
          method,
          params,
        }] => {
          ensure(got == id && method == m, || {
            format!("request {got} {method}")
          })?;
          ensure(*params == msg["params"], || "request params".into())
        }
        _ => Err("a server request must give one Request".into()),
      },
      (Some(m), None) => {
        let mut events = Vec::new();
        for i in inbound {
          match i {
            Inbound::Event(e) => events.push(e.clone()),
            other => return Err(format!("notification gave {other:?}")),
          }
        }
        self.notification(m, &msg["params"], &events)
      }
      (None, None) => Err("a line with neither method nor id".into()),
    }
  }

  fn notification(&mut self, m: &str, params: &Value, p: &[EventPayload]) -> Result<(), String> {
    let turn = &params["turn"];
    match m {
      "thread/started" => match p {
        [EventPayload::Init {
          backend_session_id, ..
        }] => ensure(
          params["thread"]["id"] == backend_session_id.as_str(),
          || format!("thread id {backend_session_id}"),
        ),
        _ => Err("thread/started must give one Init".into()),
      },
      "turn/started" => match p {
        [EventPayload::TurnStarted { turn_id: Some(id) }] => {
          ensure(turn["id"] == id.as_str(), || format!("turn id {id}"))
        }
        _ => Err("turn/started must give TurnStarted with the turn id".into()),
      },
      "item/started" => self.items.check("started", &params["item"], p),
      "item/completed" => self.items.check("completed", &params["item"], p),
      "item/agentMessage/delta"
      | "item/reasoning/summaryTextDelta"
      | "item/reasoning/textDelta" => ensure(
        matches!(p, [EventPayload::StreamEvent { event }] if event == params),
        || "a delta must give one StreamEvent with the params".into(),
      ),
      "thread/tokenUsage/updated" => {
        self.total = Some(app_usage(&params["tokenUsage"]["total"])?);
        ensure(p.is_empty(), || "token usage gives no payload".into())
      }
      "turn/completed" => {
        let status = str_of(turn, "status").unwrap_or("");
        ensure(
          ["completed", "interrupted", "failed"].contains(&status),
          || format!("turn status {status}"),
        )?;
        let errors: Vec<String> = str_of(&turn["error"], "message")
          .map(str::to_owned)
          .into_iter()
          .collect();
        let duration = turn["durationMs"].as_u64().unwrap_or(0);
        turn_end(p, status, &errors, self.total, duration)
      }
      "error" => match p {
        [EventPayload::Error {
          message,
          fatal: false,
        }] => ensure(params["error"]["message"] == message.as_str(), || {
          format!("error {message:?}")
        }),
        _ => Err("error must give one non-fatal Error".into()),
      },
      m if INFORMATIONAL.contains(&m) => ensure(
        matches!(p, [EventPayload::System { subtype, data }] if subtype == m && data == params),
        || format!("{m} must give System with the params"),
      ),
      other => Err(format!(
        "notification `{other}` is not in the 0.169.0 transcripts: decide how to map it"
      )),
    }
  }
}
