//! Scenarios 01–05, one test each: one text turn, a tool turn, and the ways a turn ends in an
//! error (max turns, a model API error, resuming an unknown id), each asserting the payloads
//! it exists to show and replaying them through the session.

use super::*;

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
