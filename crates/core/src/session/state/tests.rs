//! Unit tests of the session state machine.
use super::*;

fn state() -> SessionState {
  SessionState::new(
    NewSession {
      id: "s1".into(),
      name: None,
      backend: Backend::Claude,
      backend_session_id: "b1".into(),
      workdir: "/tmp".into(),
      model: None,
      first_prompt: "hi".into(),
      origin: None,
      resumed_from_id: None,
      forked_from_id: None,
    },
    Limits {
      event_log: 5,
      output_lines: 3,
      stderr_lines: 2,
    },
  )
}

fn result(total: f64, is_error: bool, subtype: &str, api: Option<u16>) -> EventPayload {
  EventPayload::TurnCompleted {
    turn: 0,
    subtype: subtype.into(),
    is_error,
    result: Some("done".into()),
    api_error_status: api,
    errors: vec![],
    stop_reason: None,
    terminal_reason: None,
    num_turns: 2,
    duration_ms: 10,
    cost_usd: 0.0,
    total_cost_usd: total,
    usage: Usage {
      input_tokens: 10,
      output_tokens: 5,
      ..Default::default()
    },
    usage_total: None,
    fatal: crate::protocol::claude::is_api_error(subtype, is_error, api),
  }
}

fn statuses(evs: &[Ev]) -> Vec<Status> {
  evs
    .iter()
    .filter_map(|e| match e.payload {
      EventPayload::Status { status, .. } => Some(status),
      _ => None,
    })
    .collect()
}

#[test]
fn turns_cost_and_statuses() {
  let mut s = state();
  s.started();
  let (evs, _) = s.apply(EventPayload::AssistantText {
    text: "a\nb".into(),
    message_id: None,
    parent_tool_use_id: None,
  });
  assert_eq!(statuses(&evs), vec![Status::Running]);
  let (evs, outcome) = s.apply(result(0.5, false, "success", None));
  assert_eq!(outcome, TurnOutcome::Waiting);
  assert_eq!(statuses(&evs), vec![Status::WaitingForInput]);
  match &evs[0].payload {
    EventPayload::TurnCompleted { turn, cost_usd, .. } => {
      assert_eq!(*turn, 1);
      assert!((cost_usd - 0.5).abs() < 1e-9);
    }
    other => panic!("{other:?}"),
  }
  assert!(s.begin_turn("next").unwrap().is_some());
  assert_eq!(s.begin_turn("next"), Err(Status::Running));
  let (evs, _) = s.apply(result(0.75, false, "success", None));
  match &evs[0].payload {
    EventPayload::TurnCompleted { turn, cost_usd, .. } => {
      assert_eq!(*turn, 2);
      assert!((cost_usd - 0.25).abs() < 1e-9);
    }
    other => panic!("{other:?}"),
  }
  let info = s.info();
  assert_eq!(info.turns, 2);
  assert_eq!(info.num_turns, 4);
  assert!((info.total_cost_usd - 0.75).abs() < 1e-9);
  assert_eq!(info.usage.input_tokens, 20);
  s.request_stop(StopRequest::Close);
  let evs = s.exited(Some(0), None);
  assert_eq!(statuses(&evs), vec![Status::Completed]);
  assert_eq!(s.info().end_reason, Some(EndReason::User));
  // Terminal is final.
  assert!(s.set_status(Status::Running, None).is_none());
}

#[test]
fn question_is_detected_from_the_turn_text() {
  let mut s = state();
  s.apply(EventPayload::AssistantText {
    text: "Which file should I edit?".into(),
    message_id: None,
    parent_tool_use_id: None,
  });
  s.apply(result(0.0, false, "success", None));
  assert_eq!(s.info().status_reason, Some(StatusReason::Question));
}

#[test]
fn turns_back_to_back_keep_only_their_own_text() {
  // A CLI may run queued turns with no `begin_turn` between them: each ended turn's text
  // (and the question check) is that turn's alone, and nothing piles up across turns.
  let mut s = state();
  let text = |t: &str| EventPayload::AssistantText {
    text: t.into(),
    message_id: None,
    parent_tool_use_id: None,
  };
  s.apply(text("Which file?"));
  s.apply(result(0.1, false, "success", None));
  assert_eq!(s.turn_result().unwrap().text, "Which file?");
  assert_eq!(s.info().status_reason, Some(StatusReason::Question));
  for i in 0..100 {
    s.apply(text(&format!("reply {i}")));
    s.apply(text("done."));
    s.apply(result(0.2 + i as f64, false, "success", None));
    assert_eq!(s.turn_result().unwrap().text, format!("reply {i}\ndone."));
  }
  assert_eq!(s.info().status_reason, Some(StatusReason::TurnEnded));
}

#[test]
fn a_graceful_stop_cuts_the_turn_short_without_an_error() {
  // interrupt(): the CLI's aborted turn ends with an error result; that is the stop, not a
  // failure, and leaves no `lastError`.
  let mut s = state();
  s.apply(EventPayload::AssistantText {
    text: "Working".into(),
    message_id: None,
    parent_tool_use_id: None,
  });
  s.request_stop(StopRequest::Interrupt(EndReason::User));
  let mut aborted = result(0.1, true, "error_during_execution", None);
  if let EventPayload::TurnCompleted { errors, .. } = &mut aborted {
    errors.push("[ede_diagnostic] result_type=user".into());
  }
  s.apply(aborted);
  assert_eq!(s.info().last_error, None);
}

#[test]
fn api_error_fails_with_context() {
  let mut s = state();
  let (_, outcome) = s.apply(result(0.0, true, "success", Some(400)));
  assert_eq!(outcome, TurnOutcome::ApiFailed);
  assert_eq!(s.status(), Status::Running);
  s.stderr_line("boom on stderr");
  let evs = s.exited(Some(1), None);
  assert_eq!(statuses(&evs), vec![Status::Failed]);
  let info = s.info();
  assert_eq!(info.exit_code, Some(1));
  assert!(info.last_error.unwrap().contains("400"));
  assert_eq!(info.stderr_tail, vec!["boom on stderr"]);
}

#[test]
fn max_turns_error_keeps_the_session_usable() {
  let mut s = state();
  let (_, outcome) = s.apply(result(0.0, true, "error_max_turns", None));
  assert_eq!(outcome, TurnOutcome::Waiting);
  assert_eq!(s.status(), Status::WaitingForInput);
}

#[test]
fn unexpected_exit_fails_and_kill_is_killed() {
  let mut s = state();
  s.stderr_line("fatal: no key");
  s.exited(Some(3), None);
  let info = s.info();
  assert_eq!(info.status, Status::Failed);
  assert!(info
    .last_error
    .unwrap()
    .contains("exit code 3: fatal: no key"));

  let mut s = state();
  s.request_stop(StopRequest::Kill(EndReason::User));
  s.request_stop(StopRequest::Close);
  s.exited(None, Some(9));
  assert_eq!(s.status(), Status::Killed);
}

/// One scenario end to end (two Codex turns, then a second exec process): long because each
/// step asserts what the previous one left.
#[test]
fn codex_totals_become_per_turn_deltas_and_exec_processes_end_per_turn() {
  let mut s = SessionState::new(
    NewSession {
      id: "x".into(),
      name: None,
      backend: Backend::CodexExec,
      backend_session_id: String::new(),
      workdir: "/tmp".into(),
      model: None,
      first_prompt: "hi".into(),
      origin: None,
      resumed_from_id: None,
      forked_from_id: None,
    },
    Limits {
      event_log: 50,
      output_lines: 10,
      stderr_lines: 2,
    },
  );
  s.set_thread_usage(Usage {
    input_tokens: 100,
    ..Default::default()
  });
  let total = |n| {
    Some(Usage {
      input_tokens: n,
      output_tokens: n / 10,
      ..Default::default()
    })
  };
  let (evs, _) = s.apply(EventPayload::turn_end("completed", None, total(160)));
  assert!(
    matches!(&evs[1].payload, EventPayload::TurnCompleted { usage, .. } if usage.input_tokens == 60)
  );
  assert_eq!(s.status(), Status::Running, "the turn's process still runs");
  // The turn's process exits 0: the session waits, with no process.
  s.exited(Some(0), None);
  assert_eq!(s.status(), Status::WaitingForInput);
  s.begin_turn("next").unwrap();
  s.apply(EventPayload::turn_end("completed", None, total(250)));
  assert_eq!(s.info().usage.input_tokens, 60 + 90);
  s.exited(Some(0), None);
  s.request_stop(StopRequest::Close);
  s.ended_without_process();
  assert_eq!(s.status(), Status::Completed);
  // A failed turn ends the session even though exec exits per turn.
  let mut f = SessionState::new(
    NewSession {
      id: "y".into(),
      name: None,
      backend: Backend::CodexExec,
      backend_session_id: String::new(),
      workdir: "/tmp".into(),
      model: None,
      first_prompt: "hi".into(),
      origin: None,
      resumed_from_id: None,
      forked_from_id: None,
    },
    Limits {
      event_log: 50,
      output_lines: 10,
      stderr_lines: 2,
    },
  );
  let (_, outcome) = f.apply(EventPayload::turn_end(
    "failed",
    Some("HTTP 400".into()),
    None,
  ));
  assert_eq!(outcome, TurnOutcome::ApiFailed);
  f.exited(Some(1), None);
  assert_eq!(f.status(), Status::Failed);
  assert!(f.info().last_error.unwrap().contains("HTTP 400"));
}

#[test]
fn logs_and_rings_are_bounded() {
  let mut s = state();
  for i in 0..10 {
    s.apply(EventPayload::AssistantText {
      text: format!("line {i}"),
      message_id: None,
      parent_tool_use_id: None,
    });
  }
  assert_eq!(s.output(100), vec!["line 7", "line 8", "line 9"]);
  let evs = s.events(0, &[]);
  assert_eq!(evs.len(), 5);
  assert_eq!(evs.last().unwrap().seq, s.info().last_seq);
  assert!(evs.windows(2).all(|w| w[1].seq == w[0].seq + 1));
  assert!(s.events(0, &["status".into()]).is_empty());
}

#[test]
fn a_turn_waiter_stops_at_the_turn_end_a_permission_or_the_end() {
  use crate::model::turn::TurnEnd;
  let mut st = state();
  st.started();
  assert!(st.turn_result().is_none(), "starting: the turn runs");
  st.first_turn_sent();
  assert_eq!(st.status(), Status::Running);
  st.apply(EventPayload::AssistantText {
    text: "Hi John".into(),
    message_id: None,
    parent_tool_use_id: None,
  });
  assert!(st.turn_result().is_none(), "running");
  st.apply(EventPayload::PermissionRequest {
    request_id: "r1".into(),
    tool_name: "Bash".into(),
    input: serde_json::json!({}),
    tool_use_id: None,
  });
  let asked = st
    .turn_result()
    .expect("a permission request ends the wait");
  assert_eq!(
    (asked.outcome, asked.turn, asked.text.as_str()),
    (TurnEnd::Permission, 1, "Hi John")
  );
  st.resolve_permission("r1", true, "user");
  assert!(st.turn_result().is_none(), "answered: the turn runs again");
  st.apply(result(0.25, false, "success", None));
  let done = st.turn_result().expect("the turn ended");
  assert_eq!(done.outcome, TurnEnd::Completed);
  assert_eq!(
    (done.turn, done.text.as_str(), done.cost_usd),
    (1, "Hi John", 0.25)
  );
  assert_eq!(done.usage.output_tokens, 5);
  st.begin_turn("again").unwrap();
  assert!(st.turn_result().is_none(), "the next turn runs");
  st.apply(result(0.5, true, "error_max_turns", None));
  let err = st.turn_result().unwrap();
  assert_eq!((err.outcome, err.turn), (TurnEnd::Error, 2));
  assert!(err.error.is_some());
  st.begin_turn("third").unwrap();
  st.exited(Some(1), None);
  let ended = st.turn_result().unwrap();
  assert_eq!(
    (ended.outcome, ended.session.status),
    (TurnEnd::Ended, Status::Failed)
  );
}

fn recovering_state(max_attempts: u32) -> SessionState {
  let mut s = state();
  s.set_recovery(Some(crate::model::options::RecoveryOptions {
    max_attempts,
    backoff_ms: 100,
    ..Default::default()
  }));
  s
}

#[test]
fn a_transient_api_error_recovers_then_fails_after_the_last_attempt_with_every_error() {
  let mut s = recovering_state(1);
  s.apply(result(0.0, true, "success", Some(529)));
  let evs = s.exited(Some(1), None);
  assert_eq!(statuses(&evs), vec![Status::Recovering]);
  assert!(!s.status().is_terminal());
  let r = s.info().recovery.unwrap();
  assert_eq!((r.attempt, r.max_attempts, r.errors.len()), (1, 1, 1));
  assert!(r.next_attempt_at.is_some());
  assert!(matches!(
    evs.last().unwrap().payload,
    EventPayload::Recovering {
      attempt: 1,
      delay_ms: 100,
      ..
    }
  ));
  assert!(s.turn_result().is_none(), "a waiter goes on waiting");

  let (prompt, link, evs) = s.begin_recovery_attempt("link-1".into()).unwrap();
  assert_eq!(prompt, "hi");
  assert_eq!(statuses(&evs), vec![Status::Running]);
  assert_eq!(link.id, "link-1");
  assert_eq!(link.status, Status::Failed);
  assert_eq!(link.end_reason, Some(EndReason::ApiError));
  assert_eq!(s.info().resumed_from_id.as_deref(), Some("link-1"));
  assert!(s.begin_recovery_attempt("again".into()).is_none());

  s.apply(result(0.0, true, "success", Some(503)));
  let evs = s.exited(Some(1), None);
  assert_eq!(statuses(&evs), vec![Status::Failed]);
  let info = s.info();
  assert_eq!(info.end_reason, Some(EndReason::ApiError));
  let err = info.last_error.unwrap();
  assert!(err.contains("529") && err.contains("503"), "{err}");
  assert_eq!(info.recovery.unwrap().errors.len(), 2);
}

#[test]
fn a_400_or_recovery_off_fails_at_once() {
  let mut s = recovering_state(3);
  s.apply(result(0.0, true, "success", Some(400)));
  assert_eq!(statuses(&s.exited(Some(1), None)), vec![Status::Failed]);
  assert!(s.info().recovery.is_none());

  let mut s = recovering_state(0);
  s.apply(result(0.0, true, "success", Some(529)));
  assert_eq!(statuses(&s.exited(Some(1), None)), vec![Status::Failed]);
}

#[test]
fn a_stop_while_recovering_wins_and_cancels_the_attempt() {
  let mut s = recovering_state(3);
  s.apply(result(0.0, true, "success", Some(529)));
  s.exited(Some(1), None);
  s.request_stop(StopRequest::Kill(EndReason::User));
  assert_eq!(statuses(&s.ended_without_process()), vec![Status::Killed]);
  assert!(s.info().recovery.unwrap().next_attempt_at.is_none());
  assert!(s.begin_recovery_attempt("l".into()).is_none());
}
