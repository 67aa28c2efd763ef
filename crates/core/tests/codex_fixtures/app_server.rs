//! One test per recorded `codex app-server` scenario, each replayed through a `Backend::Codex`
//! session.

use super::*;

const BAD_REQUEST: &str = "Scripted bad request: prompt is not acceptable";

fn turn_started_ids(f: &WireFixture) -> Vec<String> {
  f.events()
    .into_iter()
    .filter_map(|e| match e {
      EventPayload::TurnStarted { turn_id } => Some(turn_id.expect("app-server turn id")),
      _ => None,
    })
    .collect()
}

/// (subtype, fatal, usage_total) of each turn end.
fn turn_ends(f: &WireFixture) -> Vec<(String, bool, Option<Usage>)> {
  f.turn_completions()
    .into_iter()
    .map(|e| match e {
      EventPayload::TurnCompleted {
        subtype,
        fatal,
        usage_total,
        ..
      } => (subtype, fatal, usage_total),
      _ => unreachable!(),
    })
    .collect()
}

fn texts(f: &WireFixture) -> Vec<String> {
  f.events()
    .into_iter()
    .filter_map(|e| match e {
      EventPayload::AssistantText { text, .. } => Some(text),
      _ => None,
    })
    .collect()
}

fn rpc_error(f: &WireFixture, id: u64) -> RpcError {
  match f.response(id) {
    Err(e) => e.clone(),
    Ok(v) => panic!("{}: request {id} succeeded: {v}", f.name),
  }
}

fn ok(f: &WireFixture, id: u64) -> &Value {
  f.response(id)
    .as_ref()
    .unwrap_or_else(|e| panic!("{}: request {id} failed: {e:?}", f.name))
}

fn last_total(f: &WireFixture) -> Usage {
  turn_ends(f).last().unwrap().2.expect("a total")
}

#[test]
fn a10_session_handshake_turns_interrupt_and_usage() {
  let f = WireFixture::load("10-app-server-session");
  let init = ok(&f, 0);
  assert!(init["userAgent"].as_str().unwrap().contains(PINNED_VERSION));
  let thread = thread_id(ok(&f, 1)).expect("thread/start result has thread.id");
  assert!(is_thread_id(&thread));
  let inits: Vec<_> = f
    .events()
    .into_iter()
    .filter_map(|e| match e {
      EventPayload::Init {
        backend_session_id, ..
      } => Some(backend_session_id),
      _ => None,
    })
    .collect();
  assert_eq!(inits, vec![thread.clone()], "one thread/started, same id");

  // turn/start results and turn/started notifications agree on the turn ids.
  let turn_requests: Vec<u64> = f
    .sent_requests()
    .into_iter()
    .filter(|r| r.1 == "turn/start")
    .map(|r| r.0)
    .collect();
  assert_eq!(turn_requests, vec![2, 3, 4, 5, 7]);
  let from_results: Vec<String> = turn_requests
    .iter()
    .map(|id| turn_id(ok(&f, *id)).expect("turn/start result has turn.id"))
    .collect();
  assert_eq!(turn_started_ids(&f), from_results);
  assert_eq!(*ok(&f, 6), json!({}), "turn/interrupt answers {{}}");
  let interrupt = f.sent_requests().into_iter().find(|r| r.0 == 6).unwrap();
  assert_eq!(interrupt.1, "turn/interrupt");
  assert_eq!(interrupt.2["turnId"], from_results[3].as_str());

  let ends = turn_ends(&f);
  let subtypes: Vec<&str> = ends.iter().map(|e| e.0.as_str()).collect();
  assert_eq!(
    subtypes,
    [
      "completed",
      "completed",
      "completed",
      "interrupted",
      "completed"
    ]
  );
  assert!(ends.iter().all(|e| !e.1), "no turn here is fatal");
  let totals: Vec<Usage> = ends.iter().map(|e| e.2.expect("usage_total")).collect();
  assert_eq!(
    totals[0],
    Usage {
      input_tokens: 10043,
      output_tokens: 6,
      ..Default::default()
    }
  );
  // Thread totals never go down; the interrupted turn's model call never finished, so its
  // `thread/tokenUsage/updated` repeats the previous total.
  assert!(totals
    .windows(2)
    .all(|w| w[1].input_tokens >= w[0].input_tokens));
  assert!(totals[2].input_tokens > totals[1].input_tokens);
  assert_eq!(totals[3], totals[2]);
  assert!(totals[4].input_tokens > totals[3].input_tokens);
  match &f.turn_completions()[3] {
    EventPayload::TurnCompleted {
      is_error,
      errors,
      duration_ms,
      ..
    } => assert!(!is_error && errors.is_empty() && *duration_ms > 0),
    _ => unreachable!(),
  }

  let t = texts(&f);
  assert_eq!(t[0], "Nice to meet you, John!");
  assert_eq!(t[1], "Your name is John.");
  let ev = f.events();
  let (tool_id, input) = ev
    .iter()
    .find_map(|e| match e {
      EventPayload::ToolUse {
        tool_use_id,
        name,
        input,
        ..
      } if name == "exec_command" => Some((tool_use_id.clone(), input.clone())),
      _ => None,
    })
    .expect("the command turn's ToolUse");
  assert!(input["command"].as_str().unwrap().contains("echo fixture"));
  assert_eq!(input["cwd"], WORKDIR);
  assert!(ev.contains(&EventPayload::ToolResult {
    tool_use_id: tool_id,
    content: "fixture\n".into(),
    is_error: false,
  }));
  // The deltas of each message add up to its completed text.
  let mut streamed: BTreeMap<String, String> = BTreeMap::new();
  for e in &ev {
    if let EventPayload::StreamEvent { event } = e {
      let id = event["itemId"].as_str().unwrap().to_owned();
      streamed
        .entry(id)
        .or_default()
        .push_str(event["delta"].as_str().unwrap());
    }
  }
  for e in &ev {
    if let EventPayload::AssistantText {
      text,
      message_id: Some(id),
      ..
    } = e
    {
      assert_eq!(streamed.get(id), Some(text), "deltas of {id}");
    }
  }

  let mut r = Replay::new(Backend::Codex, f.name);
  assert_eq!(replay_app(&f, &mut r), None);
  r.check_invariants();
  let w = Status::WaitingForInput;
  assert_eq!(
    r.after_turn,
    vec![w; 5],
    "waiting after each turn, also the interrupted one"
  );
  assert_eq!(r.outcomes, vec![TurnOutcome::Waiting; 5]);
  let mut want = vec![Status::Starting];
  for _ in 0..5 {
    want.extend([Status::Running, w]);
  }
  assert_eq!(r.statuses(), want);
  let info = r.state.info();
  assert_eq!(info.turns, 5);
  assert_eq!(info.backend_session_id, thread);
  assert_eq!(r.state.turn_id(), from_results.last().map(String::as_str));
  assert_eq!(
    info.usage, totals[4],
    "per-turn usages add up to the thread total"
  );
  let turns = r.turns();
  assert_eq!(turns[1].1, totals[1].since(&totals[0]));
  assert_eq!(
    turns[3].1,
    Usage::default(),
    "the interrupted turn used no tokens"
  );
  assert_eq!(info.last_error, None);
  // stdin closed, exit 0 (meta): completed by the user.
  assert_eq!(f.meta["exitCode"], 0);
  r.state
    .request_stop(openclaw_sessions_core::session::StopRequest::Close);
  r.exited(Some(0), None);
  assert_eq!(r.state.status(), Status::Completed);
}

#[test]
fn a11_command_approvals_are_server_requests() {
  let f = WireFixture::load("11-app-server-approval");
  let mut tool_uses = Vec::new();
  let mut approvals = Vec::new();
  for l in f.lines.iter().filter(|l| l.out) {
    for i in &l.inbound {
      match i {
        Inbound::Event(EventPayload::ToolUse {
          tool_use_id, name, ..
        }) => {
          assert_eq!(name, "exec_command");
          tool_uses.push(tool_use_id.clone());
        }
        Inbound::Request { id, method, params } => {
          assert!(is_approval(method), "{method}");
          assert_eq!(method, "item/commandExecution/requestApproval");
          approvals.push((id.clone(), params.clone()));
        }
        _ => {}
      }
    }
  }
  assert_eq!(approvals.len(), 2);
  for (n, ((id, params), file)) in approvals
    .iter()
    .zip(["approved.txt", "declined.txt"])
    .enumerate()
  {
    assert_eq!(*id, json!(n));
    let cmd = params["command"].as_str().unwrap();
    assert!(cmd.contains(&format!("touch {file}")), "{cmd}");
    // The approval names the item whose ToolUse came just before it.
    assert_eq!(params["itemId"], tool_uses[n].as_str());
    assert_eq!(params["cwd"], WORKDIR);
  }
  // Accepted: a good result. Declined: an error result (status `declined`, no output).
  let results: Vec<(String, String, bool)> = f
    .events()
    .into_iter()
    .filter_map(|e| match e {
      EventPayload::ToolResult {
        tool_use_id,
        content,
        is_error,
      } => Some((tool_use_id, content, is_error)),
      _ => None,
    })
    .collect();
  assert_eq!(
    results,
    vec![
      (tool_uses[0].clone(), String::new(), false),
      (tool_uses[1].clone(), String::new(), true)
    ]
  );
  let subtypes: Vec<String> = turn_ends(&f).into_iter().map(|e| e.0).collect();
  assert_eq!(subtypes, ["completed", "completed"]);
  assert_eq!(
    f.meta["notes"][1],
    "declined.txt does not exist after decline"
  );

  let mut r = Replay::new(Backend::Codex, f.name);
  assert_eq!(replay_app(&f, &mut r), None);
  r.check_invariants();
  assert_eq!(r.after_turn, vec![Status::WaitingForInput; 2]);
  let asked: Vec<Option<String>> = r
    .events
    .iter()
    .filter_map(|e| match &e.payload {
      EventPayload::PermissionRequest { tool_use_id, .. } => Some(tool_use_id.clone()),
      _ => None,
    })
    .collect();
  assert_eq!(
    asked,
    vec![Some(tool_uses[0].clone()), Some(tool_uses[1].clone())]
  );
}

#[test]
fn a12_resume_and_fork_responses() {
  let ten = WireFixture::load("10-app-server-session");
  let f = WireFixture::load("12-app-server-resume-fork");
  let original = thread_id(ok(&ten, 1)).unwrap();
  let resumed = thread_id(ok(&f, 1)).expect("thread/resume result has thread.id");
  assert_eq!(resumed, original);
  let forked = thread_id(ok(&f, 3)).expect("thread/fork result has thread.id");
  assert_ne!(forked, original);
  assert!(is_thread_id(&forked));
  assert_eq!(ok(&f, 3)["thread"]["forkedFromId"], original.as_str());
  // Resume announces no thread/started; the fork does.
  let inits: Vec<String> = f
    .events()
    .into_iter()
    .filter_map(|e| match e {
      EventPayload::Init {
        backend_session_id, ..
      } => Some(backend_session_id),
      _ => None,
    })
    .collect();
  assert_eq!(inits, vec![forked.clone()]);
  // The turn on the fork goes to the fork's thread.
  let turn_on_fork = f.sent_requests().into_iter().find(|r| r.0 == 4).unwrap();
  assert_eq!(turn_on_fork.2["threadId"], forked.as_str());

  let t = texts(&f);
  assert_eq!(t, ["Your name is John.", "Your name is John."]);
  let ends = turn_ends(&f);
  assert!(ends.iter().all(|e| e.0 == "completed" && !e.1));
  let before = last_total(&ten);
  let (t1, t2) = (ends[0].2.unwrap(), ends[1].2.unwrap());
  assert!(
    t1.input_tokens > before.input_tokens,
    "the resumed thread's total goes on"
  );
  assert!(
    t2.input_tokens > t1.input_tokens,
    "the fork carries the parent's tokens"
  );

  // As a resumed session: the manager starts from the thread's earlier total.
  let mut r = Replay::new(Backend::Codex, f.name);
  r.state.set_thread_usage(before);
  assert_eq!(replay_app(&f, &mut r), None);
  assert_eq!(r.after_turn, vec![Status::WaitingForInput; 2]);
  let turns = r.turns();
  assert_eq!(
    turns[0].1,
    t1.since(&before),
    "the first turn's own tokens only"
  );
  assert_eq!(turns[1].1, t2.since(&t1));
  let info = r.state.info();
  assert_eq!(info.turns, 2);
  assert_eq!(info.backend_session_id, forked);
}

#[test]
fn a13_error_responses_and_a_failed_turn() {
  let f = WireFixture::load("13-app-server-errors");
  let sent = f.sent_requests();
  let unknown = sent[1].2["threadId"].as_str().unwrap();
  let e = rpc_error(&f, 1);
  assert_eq!(e.code, -32600);
  assert!(e.message.contains("no rollout found"));
  assert_eq!(
    e.message,
    format!("no rollout found for thread id {unknown}")
  );
  let e = rpc_error(&f, 2);
  assert_eq!(e.code, -32600);
  assert!(e.message.starts_with("thread not found: "), "{}", e.message);
  assert!(thread_id(ok(&f, 3)).is_some());
  let e = rpc_error(&f, 4);
  assert_eq!(
    (e.code, e.message.as_str()),
    (-32600, "no active turn to interrupt")
  );
  assert!(turn_id(ok(&f, 5)).is_some());

  let ev = f.events();
  let failed = ev
    .iter()
    .position(|e| matches!(e, EventPayload::TurnCompleted { subtype, .. } if subtype == "failed"))
    .expect("a failed turn");
  assert!(
    matches!(&ev[failed - 1], EventPayload::Error { message, fatal: false } if message.contains(BAD_REQUEST)),
    "{:?}",
    ev[failed - 1]
  );
  match &ev[failed] {
    EventPayload::TurnCompleted {
      fatal,
      is_error,
      errors,
      usage_total,
      ..
    } => {
      assert!(*fatal && *is_error);
      assert_eq!(errors.len(), 1);
      assert!(errors[0].contains(BAD_REQUEST), "{errors:?}");
      assert_eq!(*usage_total, None, "no token usage before the failure");
    }
    _ => unreachable!(),
  }
  // The real CLI keeps the thread usable after the failed turn.
  assert_eq!(
    texts(&f),
    ["You said: Hello after the failure. This is turn 2."]
  );
  let subtypes: Vec<String> = turn_ends(&f).into_iter().map(|e| e.0).collect();
  assert_eq!(subtypes, ["failed", "completed"]);

  // The session treats the failed turn as fatal: the driver closes stdin, the CLI exits 0.
  let mut r = Replay::new(Backend::Codex, f.name);
  let stop = replay_app(&f, &mut r).expect("stops at the fatal turn end");
  assert_eq!(f.lines[stop - 1].msg["params"]["turn"]["status"], "failed");
  assert_eq!(r.state.status(), Status::Running);
  r.exited(Some(0), None);
  let info = r.state.info();
  assert_eq!(info.status, Status::Failed);
  assert_eq!(info.end_reason, Some(EndReason::ApiError));
  assert!(info.last_error.unwrap().contains(BAD_REQUEST));

  let u = WireFixture::load("13-app-server-errors.uninit");
  assert_eq!(u.sent_requests()[0].1, "thread/start");
  for (id, want) in [
    (0, "Not initialized"),
    (2, "Already initialized"),
    (3, "Invalid request: unknown variant `thread/frobnicate`"),
  ] {
    let e = rpc_error(&u, id);
    assert_eq!(e.code, -32600);
    assert!(e.message.starts_with(want), "{id}: {}", e.message);
  }
  assert!(ok(&u, 1)["userAgent"].is_string());
}
