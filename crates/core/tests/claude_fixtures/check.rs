//! The generic cross-check of one parsed line against its raw JSON.

use super::*;

// ---- the generic cross-check of one line ------------------------------------------------------

pub fn opt_str(v: &Value, key: &str) -> Option<String> {
  v.get(key).and_then(Value::as_str).map(str::to_owned)
}

pub fn ensure(cond: bool, why: impl FnOnce() -> String) -> Result<(), String> {
  if cond {
    Ok(())
  } else {
    Err(why())
  }
}

/// Checks that `payloads` are exactly what the message `json` says, field by field.
pub fn check_line(json: &Value, payloads: &[EventPayload]) -> Result<(), String> {
  let ty = json["type"].as_str().unwrap_or("");
  match ty {
    "system" if json["subtype"] == "init" => match payloads {
      [EventPayload::Init {
        backend_session_id,
        model,
        cwd,
        permission_mode,
        tools,
        cli_version,
      }] => {
        ensure(json["session_id"] == backend_session_id.as_str(), || {
          format!("init session id {backend_session_id}")
        })?;
        ensure(*model == opt_str(json, "model"), || {
          format!("init model {model:?}")
        })?;
        ensure(*cwd == opt_str(json, "cwd"), || format!("init cwd {cwd:?}"))?;
        ensure(*permission_mode == opt_str(json, "permissionMode"), || {
          format!("init permission mode {permission_mode:?}")
        })?;
        ensure(*cli_version == opt_str(json, "claude_code_version"), || {
          format!("init version {cli_version:?}")
        })?;
        let want: Vec<&str> = json["tools"]
          .as_array()
          .map(|a| a.iter().filter_map(Value::as_str).collect())
          .unwrap_or_default();
        ensure(
          !want.is_empty() && tools.iter().map(String::as_str).eq(want),
          || format!("init tools {tools:?}"),
        )
      }
      _ => Err("system/init must give exactly one Init".into()),
    },
    "system" => match payloads {
      [EventPayload::System { subtype, data }] => {
        ensure(json["subtype"] == subtype.as_str(), || {
          format!("system subtype {subtype}")
        })?;
        ensure(data == json, || {
          "system data is not the whole message".into()
        })
      }
      _ => Err("system must give exactly one System".into()),
    },
    "assistant" => {
      let msg = &json["message"];
      let blocks = msg["content"]
        .as_array()
        .ok_or("assistant without content")?;
      let synthetic = json.get("error").and_then(Value::as_str);
      let mut it = payloads.iter();
      for b in blocks {
        match b["type"].as_str().unwrap_or("") {
          "text" => {
            if let Some(kind) = synthetic {
              match it.next() {
                Some(EventPayload::Error { message, fatal }) => {
                  ensure(!fatal && message.contains(kind), || {
                    format!("synthetic error payload {message:?}")
                  })?;
                  let text = b["text"].as_str().unwrap_or("");
                  ensure(message.contains(text), || format!("error text {message:?}"))?;
                }
                other => {
                  return Err(format!(
                    "expected Error before synthetic text, got {other:?}"
                  ))
                }
              }
            }
            match it.next() {
              Some(EventPayload::AssistantText {
                text,
                message_id,
                parent_tool_use_id,
              }) => {
                ensure(b["text"] == text.as_str(), || format!("text {text:?}"))?;
                ensure(*message_id == opt_str(msg, "id"), || {
                  format!("message id {message_id:?}")
                })?;
                ensure(
                  *parent_tool_use_id == opt_str(json, "parent_tool_use_id"),
                  || format!("parent {parent_tool_use_id:?}"),
                )?;
              }
              other => return Err(format!("expected AssistantText, got {other:?}")),
            }
          }
          "thinking" => match it.next() {
            Some(EventPayload::Thinking { text, message_id }) => {
              ensure(b["thinking"] == text.as_str(), || {
                format!("thinking {text:?}")
              })?;
              ensure(*message_id == opt_str(msg, "id"), || {
                format!("message id {message_id:?}")
              })?;
            }
            other => return Err(format!("expected Thinking, got {other:?}")),
          },
          "tool_use" => match it.next() {
            Some(EventPayload::ToolUse {
              tool_use_id,
              name,
              input,
              parent_tool_use_id,
            }) => {
              ensure(b["id"] == tool_use_id.as_str(), || {
                format!("tool id {tool_use_id}")
              })?;
              ensure(b["name"] == name.as_str(), || format!("tool name {name}"))?;
              ensure(b["input"] == *input, || format!("tool input {input}"))?;
              ensure(
                *parent_tool_use_id == opt_str(json, "parent_tool_use_id"),
                || format!("parent {parent_tool_use_id:?}"),
              )?;
            }
            other => return Err(format!("expected ToolUse, got {other:?}")),
          },
          // Not in these transcripts; keep the check honest by only counting them.
          _ => {
            it.next();
          }
        }
      }
      ensure(it.next().is_none(), || {
        "more payloads than content blocks".into()
      })
    }
    "user" => match &json["message"]["content"] {
      Value::String(s) => match payloads {
        [EventPayload::UserText { text }] => ensure(text == s, || format!("user text {text:?}")),
        _ => Err("string user content must give exactly one UserText".into()),
      },
      Value::Array(blocks) => {
        ensure(blocks.len() == payloads.len(), || {
          format!("{} blocks, {} payloads", blocks.len(), payloads.len())
        })?;
        for (b, p) in blocks.iter().zip(payloads) {
          match (b["type"].as_str().unwrap_or(""), p) {
            (
              "tool_result",
              EventPayload::ToolResult {
                tool_use_id,
                content,
                is_error,
              },
            ) => {
              ensure(b["tool_use_id"] == tool_use_id.as_str(), || {
                format!("tool result id {tool_use_id}")
              })?;
              ensure(
                b["is_error"].as_bool().unwrap_or(false) == *is_error,
                || format!("tool result is_error {is_error}"),
              )?;
              let want = match &b["content"] {
                Value::String(s) => s.clone(),
                Value::Array(parts) => parts
                  .iter()
                  .filter_map(|p| p["text"].as_str())
                  .collect::<Vec<_>>()
                  .join("\n"),
                _ => String::new(),
              };
              ensure(*content == want, || {
                format!("tool result content {content:?}")
              })?;
            }
            ("text", EventPayload::UserText { text }) => {
              ensure(b["text"] == text.as_str(), || format!("user text {text:?}"))?;
            }
            (t, p) => return Err(format!("user block {t} became {p:?}")),
          }
        }
        Ok(())
      }
      _ => Err("user message without content".into()),
    },
    "result" => match payloads {
      [EventPayload::TurnCompleted {
        turn,
        subtype,
        is_error,
        result,
        api_error_status,
        errors,
        stop_reason,
        terminal_reason,
        num_turns,
        duration_ms,
        cost_usd,
        total_cost_usd,
        usage,
        usage_total,
        fatal,
      }] => {
        ensure(*turn == 0 && *cost_usd == 0.0, || {
          "the parser must not number turns".into()
        })?;
        ensure(usage_total.is_none(), || {
          "Claude reports per-turn usage, never thread totals".into()
        })?;
        ensure(
          *fatal == is_api_error(subtype, *is_error, *api_error_status),
          || format!("fatal {fatal} for subtype {subtype}, is_error {is_error}"),
        )?;
        ensure(json["subtype"] == subtype.as_str(), || {
          format!("subtype {subtype}")
        })?;
        ensure(json["is_error"] == *is_error, || {
          format!("is_error {is_error}")
        })?;
        ensure(*result == opt_str(json, "result"), || {
          format!("result {result:?}")
        })?;
        ensure(
          json["api_error_status"].as_u64() == api_error_status.map(u64::from),
          || format!("api_error_status {api_error_status:?}"),
        )?;
        let want_errors: Vec<&str> = json["errors"]
          .as_array()
          .map(|a| a.iter().filter_map(Value::as_str).collect())
          .unwrap_or_default();
        ensure(errors.iter().map(String::as_str).eq(want_errors), || {
          format!("errors {errors:?}")
        })?;
        ensure(*stop_reason == opt_str(json, "stop_reason"), || {
          format!("stop_reason {stop_reason:?}")
        })?;
        ensure(*terminal_reason == opt_str(json, "terminal_reason"), || {
          format!("terminal_reason {terminal_reason:?}")
        })?;
        ensure(json["num_turns"] == *num_turns, || {
          format!("num_turns {num_turns}")
        })?;
        ensure(json["duration_ms"] == *duration_ms, || {
          format!("duration_ms {duration_ms}")
        })?;
        ensure(
          close(
            json["total_cost_usd"].as_f64().unwrap_or(-1.0),
            *total_cost_usd,
          ),
          || format!("total_cost_usd {total_cost_usd}"),
        )?;
        let u = &json["usage"];
        ensure(
          u["input_tokens"] == usage.input_tokens
            && u["output_tokens"] == usage.output_tokens
            && u["cache_read_input_tokens"] == usage.cache_read_input_tokens
            && u["cache_creation_input_tokens"] == usage.cache_creation_input_tokens,
          || format!("usage {usage:?}"),
        )
      }
      _ => Err("result must give exactly one TurnCompleted".into()),
    },
    "stream_event" => match payloads {
      [EventPayload::StreamEvent { event }] => {
        ensure(!event.is_null() && *event == json["event"], || {
          "stream event".into()
        })
      }
      _ => Err("stream_event must give exactly one StreamEvent".into()),
    },
    "control_request" if json["request"]["subtype"] == "can_use_tool" => match payloads {
      [EventPayload::PermissionRequest {
        request_id,
        tool_name,
        input,
        tool_use_id,
      }] => {
        let req = &json["request"];
        ensure(json["request_id"] == request_id.as_str(), || {
          format!("request id {request_id}")
        })?;
        ensure(req["tool_name"] == tool_name.as_str(), || {
          format!("tool name {tool_name}")
        })?;
        ensure(req["input"] == *input, || format!("input {input}"))?;
        ensure(*tool_use_id == opt_str(req, "tool_use_id"), || {
          format!("tool_use_id {tool_use_id:?}")
        })
      }
      _ => Err("can_use_tool must give exactly one PermissionRequest".into()),
    },
    "control_response" => match payloads {
      [EventPayload::ControlResponse {
        request_id,
        subtype,
        error,
      }] => {
        let resp = &json["response"];
        ensure(resp["request_id"] == request_id.as_str(), || {
          format!("request id {request_id}")
        })?;
        ensure(resp["subtype"] == subtype.as_str(), || {
          format!("subtype {subtype}")
        })?;
        ensure(*error == opt_str(resp, "error"), || {
          format!("error {error:?}")
        })
      }
      _ => Err("control_response must give exactly one ControlResponse".into()),
    },
    _ => match payloads {
      [EventPayload::Other { message_type, raw }] => {
        ensure(message_type == ty && raw == json, || {
          "other message not kept verbatim".into()
        })
      }
      _ => Err(format!("unknown type {ty:?} must give exactly one Other")),
    },
  }
}
