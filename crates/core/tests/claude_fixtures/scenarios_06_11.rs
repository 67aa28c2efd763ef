//! Scenarios 06–11, one test each: the duplex session (permission, partial messages,
//! compaction, interrupt), two turns, API retries ending in a 529, the budget, structured
//! output retries, and the initialize response with the replayed user message; each asserts
//! the payloads it exists to show and replays them through the session.

use super::*;

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
