//! One test per recorded `codex exec --json` scenario, and the exec replays.

use super::*;

const METADATA_WARNING: &str = "Model metadata for `scripted-model` not found";
const BAD_REQUEST: &str = "Scripted bad request: prompt is not acceptable";

fn total(input: u64, output: u64) -> Usage {
  Usage {
    input_tokens: input,
    output_tokens: output,
    ..Default::default()
  }
}

/// The shape every model-reaching exec transcript of this recording has: `thread.started`, the
/// fallback-metadata error item (non-fatal), `turn.started`; returns the payloads after those.
fn opening(f: &ExecFixture) -> Vec<EventPayload> {
  let p = f.payloads();
  assert!(
    matches!(&p[0], EventPayload::Init { backend_session_id, .. } if *backend_session_id == f.thread_id()),
    "{}: {:?}",
    f.name,
    p[0]
  );
  assert!(is_thread_id(&f.thread_id()));
  assert!(
    matches!(&p[1], EventPayload::Error { message, fatal: false } if message.contains(METADATA_WARNING)),
    "{}: {:?}",
    f.name,
    p[1]
  );
  assert_eq!(
    p[2],
    EventPayload::TurnStarted { turn_id: None },
    "{}",
    f.name
  );
  p[3..].to_vec()
}

fn completed_total(p: &EventPayload) -> Usage {
  match p {
    EventPayload::TurnCompleted {
      subtype,
      is_error: false,
      fatal: false,
      usage_total: Some(t),
      errors,
      ..
    } if subtype == "completed" && errors.is_empty() => *t,
    other => panic!("expected a completed turn with a total, got {other:?}"),
  }
}

fn failed_errors(p: &EventPayload) -> Vec<String> {
  match p {
    EventPayload::TurnCompleted {
      subtype,
      is_error: true,
      fatal: true,
      usage_total: None,
      errors,
      ..
    } if subtype == "failed" => errors.clone(),
    other => panic!("expected a failed fatal turn, got {other:?}"),
  }
}

fn text(p: &EventPayload) -> &str {
  match p {
    EventPayload::AssistantText { text, .. } => text,
    other => panic!("expected AssistantText, got {other:?}"),
  }
}

#[test]
fn e01_hello_one_text_turn() {
  let f = ExecFixture::load("01-exec-hello");
  let rest = opening(&f);
  assert_eq!(rest.len(), 2, "{rest:?}");
  assert_eq!(text(&rest[0]), "Nice to meet you, John!");
  assert!(
    matches!(&rest[0], EventPayload::AssistantText { message_id: Some(id), .. } if id == "item_1")
  );
  let t = completed_total(&rest[1]);
  assert_eq!(t, total(9889, 6));
  assert_eq!(t, f.json_total());
  assert_eq!(f.exit_code(), 0);
  // `Reading additional input from stdin...` although stdin is /dev/null (PROTOCOLS B1).
  assert!(f.stderr.contains("Reading additional input from stdin"));
}

#[test]
fn e02_resume_keeps_the_thread_and_reports_a_larger_total() {
  let one = ExecFixture::load("01-exec-hello");
  let two = ExecFixture::load("02-exec-resume");
  assert_eq!(two.thread_id(), one.thread_id());
  assert_eq!(two.meta["command"][5], one.thread_id().as_str());
  let rest = opening(&two);
  assert_eq!(text(&rest[0]), "Your name is John.");
  let (t1, t2) = (
    completed_total(one.payloads().last().unwrap()),
    completed_total(&rest[1]),
  );
  assert_eq!(t2, total(19860, 11));
  assert!(t2.input_tokens > t1.input_tokens && t2.output_tokens > t1.output_tokens);
}

#[test]
fn e03_command_execution_is_exec_command_with_its_output() {
  let f = ExecFixture::load("03-exec-tool");
  let rest = opening(&f);
  let uses: Vec<_> = rest
    .iter()
    .filter(|p| matches!(p, EventPayload::ToolUse { .. }))
    .collect();
  assert_eq!(
    uses.len(),
    1,
    "item.started and item.completed give one ToolUse"
  );
  let EventPayload::ToolUse {
    tool_use_id,
    name,
    input,
    ..
  } = &rest[0]
  else {
    panic!("{:?}", rest[0]);
  };
  assert_eq!(name, "exec_command");
  assert!(input["command"].as_str().unwrap().contains("echo fixture"));
  assert_eq!(
    rest[1],
    EventPayload::ToolResult {
      tool_use_id: tool_use_id.clone(),
      content: "fixture\n".into(),
      is_error: false,
    }
  );
  // The ToolUse came from the item.started line, the result from item.completed.
  let started = f
    .lines
    .iter()
    .find(|l| l.json["type"] == "item.started")
    .unwrap();
  assert!(matches!(
    &started.payloads[..],
    [EventPayload::ToolUse { .. }]
  ));
  assert!(text(&rest[2]).contains("Output:\nfixture"));
  assert_eq!(completed_total(&rest[3]), f.json_total());
  assert_eq!(rest.len(), 4);
}

#[test]
fn e04_http_400_is_an_error_then_a_fatal_failed_turn() {
  let f = ExecFixture::load("04-exec-400");
  let rest = opening(&f);
  assert_eq!(rest.len(), 2, "{rest:?}");
  assert!(
    matches!(&rest[0], EventPayload::Error { message, fatal: false } if message.contains(BAD_REQUEST))
  );
  let errors = failed_errors(&rest[1]);
  assert_eq!(errors.len(), 1);
  assert!(errors[0].contains(BAD_REQUEST), "{errors:?}");
  // The message is the HTTP body, verbatim.
  let body: Value = serde_json::from_str(&errors[0]).unwrap();
  assert_eq!(body["error"]["type"], "invalid_request_error");
  assert_eq!(f.exit_code(), 1);

  let mut r = Replay::new(Backend::CodexExec, f.name);
  replay_exec_process(&mut r, &f);
  r.check_invariants();
  assert_eq!(r.outcomes, vec![TurnOutcome::ApiFailed]);
  assert_eq!(
    r.after_turn,
    vec![Status::Running],
    "failed only once the process exits"
  );
  let info = r.state.info();
  assert_eq!(info.status, Status::Failed);
  assert_eq!(info.status_reason, Some(StatusReason::ApiError));
  assert_eq!(info.end_reason, Some(EndReason::ApiError));
  assert!(info.last_error.unwrap().contains(BAD_REQUEST));
  assert_eq!(info.exit_code, Some(1));
}

#[test]
fn e05_http_500_is_the_same_shape_with_codexs_own_message() {
  let f = ExecFixture::load("05-exec-500");
  let rest = opening(&f);
  assert_eq!(rest.len(), 2, "{rest:?}");
  let EventPayload::Error {
    message,
    fatal: false,
  } = &rest[0]
  else {
    panic!("{:?}", rest[0]);
  };
  assert!(message.contains("experiencing high demand"), "{message}");
  // Codex does not pass the 500's body ("Scripted server error") on.
  assert!(!message.contains("Scripted server error"));
  assert_eq!(failed_errors(&rest[1]), vec![message.clone()]);
  assert_eq!(f.exit_code(), 1);
  assert_eq!(f.meta["modelRequests"], 1, "request_max_retries 0");

  let mut r = Replay::new(Backend::CodexExec, f.name);
  replay_exec_process(&mut r, &f);
  assert_eq!(r.state.status(), Status::Failed);
  assert!(r.state.info().last_error.unwrap().contains("high demand"));
}

#[test]
fn e06_sigint_ends_the_stream_after_turn_started() {
  let f = ExecFixture::load("06-exec-sigint");
  let rest = opening(&f);
  assert!(rest.is_empty(), "{rest:?}");
  assert_eq!(f.lines.last().unwrap().json["type"], "turn.started");
  assert_eq!(f.meta["signalSent"], "SIGINT");
  assert_eq!(f.exit_code(), 1);
  assert!(f.meta["exitSignal"].is_null());

  // As a bare exit (nobody asked for the interrupt): exit 1 without a turn end fails.
  let mut r = Replay::new(Backend::CodexExec, f.name);
  replay_exec_process(&mut r, &f);
  let info = r.state.info();
  assert_eq!(info.status, Status::Failed);
  assert_eq!(info.end_reason, Some(EndReason::Exited));
  assert_eq!(info.turns, 0);
  assert!(info.last_error.unwrap().contains("exit code 1"));
  assert_eq!(
    r.statuses(),
    vec![Status::Starting, Status::Running, Status::Failed]
  );

  // As `interruptTurn` does it: the session notes the interrupt, then SIGINT; the exit ends
  // the turn as interrupted and the thread waits for the next message.
  let mut r = Replay::new(Backend::CodexExec, f.name);
  for p in f.payloads() {
    r.apply(p);
  }
  assert!(r.state.request_turn_interrupt());
  r.exited(Some(1), None);
  let info = r.state.info();
  assert_eq!(
    info.status,
    Status::WaitingForInput,
    "{:?}",
    info.last_error
  );
  assert_eq!(info.turns, 1);
  assert!(matches!(
    r.events.iter().rev().find_map(|e| match &e.payload {
      EventPayload::TurnCompleted { subtype, .. } => Some(subtype.as_str()),
      _ => None,
    }),
    Some("interrupted")
  ));
}

#[test]
fn e07_resume_of_an_unknown_thread_writes_no_stdout() {
  let f = ExecFixture::load("07-exec-resume-unknown");
  assert!(f.lines.is_empty());
  assert_eq!(f.exit_code(), 1);
  let id = f.meta["command"][5].as_str().unwrap();
  assert!(is_thread_id(id));
  assert!(
    f.stderr.contains(&format!(
      "no rollout found for thread id {id} (code -32600)"
    )),
    "{}",
    f.stderr
  );
}

#[test]
fn e08_web_search_with_the_duplicate_id_key() {
  let f = ExecFixture::load("08-exec-web-search");
  let line = f
    .lines
    .iter()
    .find(|l| l.json["type"] == "item.started")
    .unwrap();
  // The raw line really carries two "id" keys in the item; the last one wins.
  let item_raw = &line.raw[line.raw.find("\"item\":").unwrap()..];
  assert_eq!(
    item_raw.matches("\"id\":").count(),
    2,
    "{}:{}: {}",
    f.name,
    line.no,
    line.raw
  );
  const WS: &str = "ws_76557f2bfc7d9ec0bad97264";
  let rest = opening(&f);
  // item.started has `query: ""`; the ToolUse comes from item.completed, with the real query.
  match &rest[0] {
    EventPayload::ToolUse {
      tool_use_id,
      name,
      input,
      ..
    } => {
      assert_eq!(name, "web_search");
      assert_eq!(tool_use_id, WS);
      assert_eq!(input["query"], "tokio graceful shutdown signal handling");
    }
    other => panic!("{other:?}"),
  }
  assert!(matches!(
    &rest[1],
    EventPayload::ToolResult { tool_use_id, is_error: false, .. } if tool_use_id == WS
  ));
  let completed = f
    .lines
    .iter()
    .find(|l| l.json["type"] == "item.completed" && l.json["item"]["type"] == "web_search")
    .unwrap();
  assert_eq!(
    completed.json["item"]["query"],
    "tokio graceful shutdown signal handling"
  );
  assert_eq!(
    text(&rest[2]),
    "Tokio's docs recommend tokio::signal::ctrl_c for graceful shutdown."
  );
  assert_eq!(completed_total(&rest[3]), f.json_total());
}

#[test]
fn e09_fork_gives_a_new_thread_with_the_parents_tokens() {
  let one = ExecFixture::load("01-exec-hello");
  let fork = ExecFixture::load("09-exec-fork");
  assert_ne!(fork.thread_id(), one.thread_id());
  assert_eq!(fork.meta["command"][4], "fork");
  assert_eq!(fork.meta["command"][5], one.thread_id().as_str());
  let rest = opening(&fork);
  assert_eq!(text(&rest[0]), "Your name is John.");
  let t = completed_total(&rest[1]);
  assert!(
    t.input_tokens
      > ExecFixture::load("02-exec-resume")
        .json_total()
        .input_tokens
  );
}

#[test]
fn exec_replay_01_then_02_is_one_session_of_two_processes() {
  let one = ExecFixture::load("01-exec-hello");
  let two = ExecFixture::load("02-exec-resume");
  let mut r = Replay::new(Backend::CodexExec, "01+02");
  for p in one.payloads() {
    r.apply(p);
  }
  assert_eq!(
    r.state.status(),
    Status::Running,
    "the turn's process still runs"
  );
  r.exited(Some(one.exit_code()), None);
  assert_eq!(r.state.status(), Status::WaitingForInput);
  r.begin_turn();
  replay_exec_process(&mut r, &two);
  r.check_invariants();

  assert_eq!(
    r.statuses(),
    vec![
      Status::Starting,
      Status::Running,
      Status::WaitingForInput,
      Status::Running,
      Status::WaitingForInput
    ]
  );
  assert_eq!(r.outcomes, vec![TurnOutcome::Waiting, TurnOutcome::Waiting]);
  let info = r.state.info();
  assert_eq!(info.turns, 2);
  assert_eq!(info.status_reason, Some(StatusReason::TurnEnded));
  assert_eq!(info.backend_session_id, one.thread_id());
  assert_eq!(
    info.last_assistant_text.as_deref(),
    Some("Your name is John.")
  );
  assert_eq!(info.last_error, None);
  assert_eq!(r.state.inits(), 2, "one thread.started per process");
  let (t1, t2) = (one.json_total(), two.json_total());
  let turns = r.turns();
  assert_eq!(
    turns[0].1, t1,
    "the first turn's usage is the whole first total"
  );
  assert_eq!(turns[1].1, t2.since(&t1));
  assert_eq!(turns[1].1, total(19860 - 9889, 11 - 6));
  assert_eq!(
    info.usage, t2,
    "per-turn usages add up to 02's cumulative total"
  );
  assert_eq!(r.state.thread_usage(), t2);
}
