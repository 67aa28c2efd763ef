//! One test per recorded scenario: the payloads it exists to show, replayed through the session.

use super::*;

// ---- scenarios ---------------------------------------------------------------------------------

#[test]
fn s01_hello_one_text_turn() {
  let f = Fixture::load("01-hello");
  let p = f.payloads();
  assert!(matches!(p[0], EventPayload::Init { .. }));
  assert!(
    matches!(&p[1], EventPayload::AssistantText { text, message_id: Some(id), parent_tool_use_id: None }
      if text == "Hello! I am the scripted model." && id.starts_with("msg_"))
  );
  match &p[2] {
    EventPayload::TurnCompleted {
      subtype,
      is_error,
      result,
      num_turns,
      total_cost_usd,
      usage,
      stop_reason,
      ..
    } => {
      assert_eq!(subtype, "success");
      assert!(!is_error);
      assert_eq!(result.as_deref(), Some("Hello! I am the scripted model."));
      assert_eq!(*num_turns, 1);
      assert!(*total_cost_usd > 0.0);
      assert!(usage.input_tokens > 1000 && usage.output_tokens > 0);
      assert_eq!(stop_reason.as_deref(), Some("end_turn"));
    }
    other => panic!("{other:?}"),
  }
  assert_eq!(p.len(), 3);

  let r = replay(&f);
  check_init(&f, &r);
  let info = r.state.info();
  assert_eq!(info.status, Status::WaitingForInput);
  assert_eq!(info.status_reason, Some(StatusReason::TurnEnded));
  assert_eq!(
    info.last_assistant_text.as_deref(),
    Some("Hello! I am the scripted model.")
  );
  assert_eq!(info.last_error, None);
  assert_eq!(r.outcomes, vec![TurnOutcome::Waiting]);
  assert_eq!(
    r.statuses(),
    vec![
      (Status::Starting, None),
      (Status::Running, None),
      (Status::WaitingForInput, Some(StatusReason::TurnEnded))
    ]
  );
  assert_eq!(r.state.output(10), vec!["Hello! I am the scripted model."]);
}

#[test]
fn s02_thinking_tool_use_tool_result_final_text() {
  let f = Fixture::load("02-tool-turn");
  let p = f.payloads();
  let thinking: Vec<_> = p
    .iter()
    .filter_map(|p| match p {
      EventPayload::Thinking { text, message_id } => Some((text, message_id)),
      _ => None,
    })
    .collect();
  assert_eq!(thinking.len(), 1);
  assert!(thinking[0].0.contains("echo the word fixture"));
  let tool_id = p
    .iter()
    .find_map(|p| match p {
      EventPayload::ToolUse {
        tool_use_id,
        name,
        input,
        parent_tool_use_id,
      } => {
        assert_eq!(name, "Bash");
        assert_eq!(input["command"], "echo fixture");
        assert_eq!(*parent_tool_use_id, None);
        Some(tool_use_id.clone())
      }
      _ => None,
    })
    .expect("a ToolUse");
  // The thinking and the tool_use lines share one message id (one line per block).
  let tool_line = f
    .json_of_type("assistant")
    .into_iter()
    .find(|j| j["message"]["content"][0]["type"] == "tool_use")
    .expect("the tool_use line");
  let tool_msg = tool_line["message"]["id"].as_str().unwrap();
  assert_eq!(thinking[0].1.as_deref(), Some(tool_msg));
  assert!(tool_id.starts_with("toolu_"));
  let result = p
    .iter()
    .find_map(|p| match p {
      EventPayload::ToolResult {
        tool_use_id,
        content,
        is_error,
      } => Some((tool_use_id, content, is_error)),
      _ => None,
    })
    .expect("a ToolResult");
  assert_eq!(result.0, &tool_id);
  assert_eq!(result.1.trim(), "fixture");
  assert!(!result.2);
  // The model's words after the tool ran, then the turn's end.
  let texts: Vec<&str> = p
    .iter()
    .filter_map(|p| match p {
      EventPayload::AssistantText { text, .. } => Some(text.as_str()),
      _ => None,
    })
    .collect();
  assert_eq!(texts, vec!["Tool result: fixture"]);
  assert!(p.iter().any(
    |p| matches!(p, EventPayload::System { subtype, data } if subtype == "thinking_tokens" && data["estimated_tokens"].as_u64() > Some(0))
  ));
  let order: Vec<&str> = p
    .iter()
    .map(EventPayload::kind)
    .filter(|k| *k != "system")
    .collect();
  assert_eq!(
    order,
    vec![
      "init",
      "thinking",
      "tool-use",
      "tool-result",
      "assistant-text",
      "turn-completed"
    ]
  );
  match turn_completed(&p)[..] {
    [EventPayload::TurnCompleted {
      subtype,
      is_error,
      num_turns,
      result,
      ..
    }] => {
      assert_eq!(subtype, "success");
      assert!(!is_error);
      assert_eq!(*num_turns, 2);
      assert_eq!(result.as_deref(), Some("Tool result: fixture"));
    }
    _ => panic!("one TurnCompleted expected"),
  }

  let r = replay(&f);
  check_init(&f, &r);
  let info = r.state.info();
  assert_eq!(info.status, Status::WaitingForInput);
  assert_eq!(info.turns, 1);
  assert_eq!(info.num_turns, 2);
  assert_eq!(
    info.last_assistant_text.as_deref(),
    Some("Tool result: fixture")
  );
}

#[test]
fn s03_max_turns_is_an_error_result_but_the_session_waits() {
  let f = Fixture::load("03-max-turns");
  let p = f.payloads();
  assert!(p
    .iter()
    .any(|p| matches!(p, EventPayload::ToolUse { name, .. } if name == "Bash")));
  assert!(p
    .iter()
    .any(|p| matches!(p, EventPayload::ToolResult { content, .. } if content.trim() == "one")));
  match turn_completed(&p)[..] {
    [EventPayload::TurnCompleted {
      subtype,
      is_error,
      errors,
      result,
      api_error_status,
      ..
    }] => {
      assert_eq!(subtype, "error_max_turns");
      assert!(*is_error);
      assert_eq!(*api_error_status, None);
      assert_eq!(*result, None);
      assert!(
        errors
          .iter()
          .any(|e| e.contains("maximum number of turns (1)")),
        "{errors:?}"
      );
      assert!(!is_api_error(subtype, *is_error, *api_error_status));
    }
    _ => panic!("one TurnCompleted expected"),
  }

  let r = replay(&f);
  check_init(&f, &r);
  let info = r.state.info();
  assert_eq!(r.outcomes, vec![TurnOutcome::Waiting]);
  assert_eq!(info.status, Status::WaitingForInput);
  assert!(info
    .last_error
    .as_deref()
    .unwrap()
    .contains("maximum number of turns"));
}

#[test]
fn s04_api_error_400_fails_the_session() {
  let f = Fixture::load("04-api-error");
  let p = f.payloads();
  let synthetic = f.json_of_type("assistant");
  assert_eq!(synthetic[0]["message"]["model"], "<synthetic>");
  assert!(synthetic[0]["error"].is_string());
  assert!(p.iter().any(
    |p| matches!(p, EventPayload::Error { message, fatal: false } if message.contains("API Error: 400"))
  ));
  match turn_completed(&p)[..] {
    [EventPayload::TurnCompleted {
      subtype,
      is_error,
      api_error_status,
      result,
      total_cost_usd,
      ..
    }] => {
      assert_eq!(
        subtype, "success",
        "2.1.197 reports the API error as subtype success"
      );
      assert!(*is_error);
      assert_eq!(*api_error_status, Some(400));
      assert!(result.as_deref().unwrap().contains("Scripted bad request"));
      assert_eq!(*total_cost_usd, 0.0);
      assert!(is_api_error(subtype, *is_error, *api_error_status));
    }
    _ => panic!("one TurnCompleted expected"),
  }

  let mut r = replay(&f);
  check_init(&f, &r);
  assert_eq!(r.outcomes, vec![TurnOutcome::ApiFailed]);
  assert_eq!(
    r.state.status(),
    Status::Running,
    "an API failure never waits for input"
  );
  assert!(!r
    .statuses()
    .iter()
    .any(|(s, _)| *s == Status::WaitingForInput));
  // The CLI exits 1 after it (recorded); the session then fails with the API error as context.
  r.state.exited(Some(1), None);
  let info = r.state.info();
  assert_eq!(info.status, Status::Failed);
  assert_eq!(info.status_reason, Some(StatusReason::ApiError));
  assert_eq!(info.end_reason, Some(EndReason::ApiError));
  let err = info.last_error.unwrap();
  assert!(
    err.contains("400") && err.contains("Scripted bad request"),
    "{err}"
  );
}

#[test]
fn s05_resume_of_an_unknown_id_reports_errors() {
  let f = Fixture::load("05-resume-unknown");
  let p = f.payloads();
  assert_eq!(p.len(), 1, "2.1.197 prints only the result line: no init");
  let stderr = read(&fixture_dir().join("05-resume-unknown.stderr.txt"));
  let id = f.session_id();
  assert!(stderr.contains(&format!("No conversation found with session ID: {id}")));
  match &p[0] {
    EventPayload::TurnCompleted {
      subtype,
      is_error,
      errors,
      num_turns,
      api_error_status,
      total_cost_usd,
      ..
    } => {
      assert_eq!(subtype, "error_during_execution");
      assert!(*is_error);
      assert_eq!(*num_turns, 0);
      assert_eq!(*api_error_status, None);
      assert_eq!(*total_cost_usd, 0.0);
      assert_eq!(errors.len(), 1);
      assert!(errors[0].contains("No conversation found"), "{errors:?}");
      assert!(errors[0].contains(&id));
    }
    other => panic!("{other:?}"),
  }

  let mut r = replay(&f);
  // No init: the session keeps the id it was spawned with.
  assert_eq!(r.state.info().backend_session_id, FIXTURE_SESSION);
  assert_eq!(r.outcomes, vec![TurnOutcome::Waiting]);
  // The CLI exits 1 right away: the session fails with the CLI's reason in last_error.
  r.state.exited(Some(1), None);
  let info = r.state.info();
  assert_eq!(info.status, Status::Failed);
  assert_eq!(info.end_reason, Some(EndReason::Exited));
  assert!(info
    .last_error
    .unwrap()
    .contains("No conversation found with session ID"));
}

#[test]
fn s06_duplex_permission_partial_messages_compact_interrupt() {
  let f = Fixture::load("06-duplex");
  let p = f.payloads();
  let sent = f.stdin();

  // can_use_tool for the Write tool, answered with the recorded allow.
  let (req_id, tool_use_id) = p
    .iter()
    .find_map(|p| match p {
      EventPayload::PermissionRequest {
        request_id,
        tool_name,
        input,
        tool_use_id,
      } => {
        assert_eq!(tool_name, "Write");
        assert_eq!(input["file_path"], "/home/dev/demo/NOTES.md");
        assert_eq!(input["content"], "notes\n");
        Some((request_id.clone(), tool_use_id.clone()))
      }
      _ => None,
    })
    .expect("a PermissionRequest");
  let allow = sent
    .iter()
    .find(|v| v["type"] == "control_response")
    .expect("the allow line");
  assert_eq!(allow["response"]["request_id"], req_id.as_str());
  assert_eq!(allow["response"]["response"]["behavior"], "allow");
  let write_id = p
    .iter()
    .find_map(|p| match p {
      EventPayload::ToolUse {
        tool_use_id, name, ..
      } if name == "Write" => Some(tool_use_id.clone()),
      _ => None,
    })
    .expect("a Write ToolUse");
  assert_eq!(tool_use_id.as_deref(), Some(write_id.as_str()));
  assert!(p.iter().any(
    |p| matches!(p, EventPayload::ToolResult { tool_use_id, is_error: false, content }
      if *tool_use_id == write_id && content.contains("File created successfully"))
  ));

  // Partial messages: raw stream events, text deltas included.
  let stream: Vec<&Value> = p
    .iter()
    .filter_map(|p| match p {
      EventPayload::StreamEvent { event } => Some(event),
      _ => None,
    })
    .collect();
  assert_eq!(stream.len(), f.json_of_type("stream_event").len());
  for ty in [
    "message_start",
    "content_block_start",
    "content_block_delta",
    "content_block_stop",
    "message_delta",
    "message_stop",
  ] {
    assert!(
      stream.iter().any(|e| e["type"] == ty),
      "no {ty} stream event"
    );
  }
  assert!(stream.iter().any(|e| e["delta"]["type"] == "text_delta"));

  // /compact: status compacting, then the boundary with its metadata.
  let systems: Vec<(&str, &Value)> = p
    .iter()
    .filter_map(|p| match p {
      EventPayload::System { subtype, data } => Some((subtype.as_str(), data)),
      _ => None,
    })
    .collect();
  assert!(systems
    .iter()
    .any(|(s, d)| *s == "status" && d["status"] == "compacting"));
  assert!(systems
    .iter()
    .any(|(s, d)| *s == "status" && d["status"] == "requesting"));
  assert!(systems
    .iter()
    .any(|(s, d)| *s == "compact_boundary" && d["compact_metadata"]["trigger"] == "manual"));
  assert!(p.iter().any(
    |p| matches!(p, EventPayload::UserText { text } if text.contains("This session is being continued"))
  ));

  // The interrupt: control_response for int-1, then the synthetic user line, then the result.
  let pos = |pred: &dyn Fn(&EventPayload) -> bool| p.iter().position(pred).unwrap();
  let ack = pos(&|p| {
    matches!(p, EventPayload::ControlResponse { request_id, subtype, error: None }
      if request_id == "int-1" && subtype == "success")
  });
  let interrupted = pos(
    &|p| matches!(p, EventPayload::UserText { text } if text.contains("interrupted") && text == "[Request interrupted by user]"),
  );
  let aborted = pos(&|p| {
    matches!(p, EventPayload::TurnCompleted { subtype, is_error: true, terminal_reason, .. }
      if subtype == "error_during_execution" && terminal_reason.as_deref() == Some("aborted_streaming"))
  });
  assert!(
    ack < interrupted && interrupted < aborted,
    "{ack} {interrupted} {aborted}"
  );

  // Five results: write, hello, compact, interrupted, follow-up; the running total never drops.
  let results = turn_completed(&p);
  assert_eq!(results.len(), 5);
  let totals: Vec<f64> = results
    .iter()
    .map(|r| match r {
      EventPayload::TurnCompleted { total_cost_usd, .. } => *total_cost_usd,
      _ => unreachable!(),
    })
    .collect();
  assert!(totals.windows(2).all(|w| w[1] >= w[0]), "{totals:?}");
  assert!(totals[4] > totals[0]);
  let inits = p
    .iter()
    .filter(|p| matches!(p, EventPayload::Init { .. }))
    .count();
  assert_eq!(inits, 5, "one init per turn");

  let r = replay(&f);
  check_init(&f, &r);
  let info = r.state.info();
  assert_eq!(info.turns, 5);
  assert_eq!(info.status, Status::WaitingForInput);
  assert_eq!(info.status_reason, Some(StatusReason::TurnEnded));
  assert_eq!(r.outcomes, vec![TurnOutcome::Waiting; 5]);
  let waits: Vec<Option<StatusReason>> = r
    .statuses()
    .into_iter()
    .filter(|(s, _)| *s == Status::WaitingForInput)
    .map(|(_, why)| why)
    .collect();
  // Turn 1 first waits on its Write permission, then ends; turn 2 ends with a question.
  assert_eq!(waits.len(), 6);
  assert_eq!(waits[0], Some(StatusReason::Permission));
  assert_eq!(waits[1], Some(StatusReason::TurnEnded));
  assert_eq!(waits[2], Some(StatusReason::Question));
  assert!(info.pending_permissions.is_empty());
  assert!(info
    .last_assistant_text
    .unwrap()
    .starts_with("You said: What did I ask before?"));
}

#[test]
fn s07_two_turns_running_cost_total() {
  let f = Fixture::load("07-two-turns");
  let p = f.payloads();
  let results: Vec<(Option<String>, f64)> = turn_completed(&p)
    .into_iter()
    .map(|r| match r {
      EventPayload::TurnCompleted {
        result,
        total_cost_usd,
        is_error: false,
        ..
      } => (result.clone(), *total_cost_usd),
      other => panic!("{other:?}"),
    })
    .collect();
  assert_eq!(results.len(), 2);
  assert_eq!(results[0].0.as_deref(), Some("Nice to meet you, John!"));
  assert_eq!(results[1].0.as_deref(), Some("Your name is John."));
  assert!(
    results[0].1 > 0.0 && results[1].1 > results[0].1,
    "{results:?}"
  );

  let r = replay(&f);
  check_init(&f, &r);
  let info = r.state.info();
  assert_eq!(info.turns, 2);
  assert_eq!(info.status, Status::WaitingForInput);
  assert!(close(info.total_cost_usd, results[1].1));
  let turns = r.turns();
  assert!(close(turns[0].1, results[0].1));
  assert!(close(turns[1].1, results[1].1 - results[0].1));
  assert_eq!(
    info.last_assistant_text.as_deref(),
    Some("Your name is John.")
  );
  assert_eq!(
    r.state.output(10),
    vec!["Nice to meet you, John!", "Your name is John."]
  );
}

#[test]
fn s08_api_retry_then_529() {
  let f = Fixture::load("08-api-retry");
  let p = f.payloads();
  assert!(p
    .iter()
    .any(|p| matches!(p, EventPayload::System { subtype, data }
      if subtype == "api_retry" && data["error_status"] == 529 && data["attempt"] == 1)));
  match turn_completed(&p)[..] {
    [EventPayload::TurnCompleted {
      is_error: true,
      api_error_status: Some(529),
      subtype,
      ..
    }] => assert!(is_api_error(subtype, true, Some(529))),
    ref other => panic!("{other:?}"),
  }
  let r = replay(&f);
  check_init(&f, &r);
  assert_eq!(r.outcomes, vec![TurnOutcome::ApiFailed]);
}

#[test]
fn s09_max_budget() {
  let f = Fixture::load("09-max-budget");
  let p = f.payloads();
  match turn_completed(&p)[..] {
    [EventPayload::TurnCompleted {
      subtype,
      is_error: true,
      errors,
      total_cost_usd,
      ..
    }] => {
      assert_eq!(subtype, "error_max_budget_usd");
      assert!(errors.iter().any(|e| e.contains("budget")), "{errors:?}");
      assert!(*total_cost_usd > 0.01);
    }
    ref other => panic!("{other:?}"),
  }
  let r = replay(&f);
  check_init(&f, &r);
  assert_eq!(r.outcomes, vec![TurnOutcome::Waiting]);
  assert!(r.state.info().last_error.unwrap().contains("budget"));
}

#[test]
fn s10_structured_output_retries() {
  let f = Fixture::load("10-structured-output");
  let p = f.payloads();
  let calls = p
    .iter()
    .filter(|p| matches!(p, EventPayload::ToolUse { name, .. } if name == "StructuredOutput"))
    .count();
  let rejected = p
    .iter()
    .filter(|p| matches!(p, EventPayload::ToolResult { is_error: true, content, .. } if content.contains("does not match required schema")))
    .count();
  assert!(
    calls >= 2 && calls == rejected,
    "{calls} calls, {rejected} rejections"
  );
  match turn_completed(&p)[..] {
    [EventPayload::TurnCompleted {
      subtype,
      is_error: true,
      ..
    }] => assert_eq!(subtype, "error_max_structured_output_retries"),
    ref other => panic!("{other:?}"),
  }
  let r = replay(&f);
  check_init(&f, &r);
  assert_eq!(r.outcomes, vec![TurnOutcome::Waiting]);
}

#[test]
fn s11_initialize_and_replayed_user_message() {
  let f = Fixture::load("11-initialize-replay");
  let p = f.payloads();
  assert!(
    matches!(&p[0], EventPayload::ControlResponse { request_id, subtype, error: None }
      if request_id == "init-1" && subtype == "success")
  );
  assert!(f.lines[0].json["response"]["response"]["commands"].is_array());
  assert!(p
    .iter()
    .any(|p| matches!(p, EventPayload::UserText { text } if text == "Hello")));
  let replayed = f.json_of_type("user");
  assert_eq!(replayed[0]["isReplay"], true);
  let r = replay(&f);
  check_init(&f, &r);
  assert_eq!(r.state.status(), Status::WaitingForInput);
}
