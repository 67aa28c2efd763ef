//! The Codex parsers (`codex exec --json` and `codex app-server`) and the session state machine
//! over REAL Codex CLI 0.169.0 transcripts (`tests/fixtures/codex/`, recorded by
//! `node scripts/record-codex-fixtures.mjs` against the scripted model server), plus the
//! reference transcripts of `shared/fixtures/codex` when that directory exists.
//!
//! Every CLI output line is parsed with the backend's parser and cross-checked field by field
//! against its raw JSON (`check.rs`); each scenario then asserts what it exists to show and
//! replays its payloads through `SessionState` the way the manager feeds them.

use openclaw_sessions_core::model::event::{EventPayload, Status, StatusReason, Usage};
use openclaw_sessions_core::model::options::Backend;
use openclaw_sessions_core::protocol::codex::app_server::{
  initialize_params, is_approval, notification, request, response, thread_id, thread_start_params,
  turn_id, turn_interrupt_params, turn_start_params, AppServerParser,
};
use openclaw_sessions_core::protocol::codex::exec::{args, CodexArgs, Continue, ExecParser};
use openclaw_sessions_core::protocol::codex::items::is_thread_id;
use openclaw_sessions_core::protocol::{Inbound, RpcError};
use openclaw_sessions_core::session::{EndReason, Limits, NewSession, SessionState, TurnOutcome};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};

mod app_server;
mod check;
mod exec;
mod replay;
mod support;

use check::*;
use replay::*;
use support::*;

// ---- every line of every transcript ----------------------------------------------------------

#[test]
fn every_recorded_exec_line_parses_and_matches_its_json() {
  let files = files_ending(&fixture_dir(), ".jsonl")
    .into_iter()
    .filter(|p| !p.to_string_lossy().ends_with(".wire.jsonl"))
    .collect::<Vec<_>>();
  assert_eq!(files.len(), 9, "the 9 exec scenarios: {files:?}");
  let mut types = BTreeSet::new();
  let mut kinds = BTreeSet::new();
  let mut lines = 0;
  for path in &files {
    let label = path.file_name().unwrap().to_string_lossy().into_owned();
    for l in parse_exec(&label, &read(path)) {
      types.insert(l.json["type"].as_str().unwrap().to_owned());
      kinds.extend(l.payloads.iter().map(EventPayload::kind));
      lines += 1;
    }
  }
  let want: BTreeSet<String> = [
    "thread.started",
    "turn.started",
    "item.started",
    "item.completed",
    "turn.completed",
    "turn.failed",
    "error",
  ]
  .map(String::from)
  .into();
  assert_eq!(types, want, "exec event types of the transcripts");
  let want_kinds: BTreeSet<&str> = [
    "init",
    "turn-started",
    "assistant-text",
    "tool-use",
    "tool-result",
    "turn-completed",
    "error",
  ]
  .into();
  assert_eq!(kinds, want_kinds);
  assert!(lines >= 40, "only {lines} lines");
}

#[test]
fn every_recorded_app_server_line_parses_and_matches_its_json() {
  let files = files_ending(&fixture_dir(), ".wire.jsonl");
  assert_eq!(files.len(), 5, "the app-server transcripts: {files:?}");
  let mut methods = BTreeSet::new();
  let mut kinds = BTreeSet::new();
  let (mut responses, mut requests, mut lines) = (0, 0, 0);
  for path in &files {
    let label = path.file_name().unwrap().to_string_lossy().into_owned();
    let wire = parse_wire(&label, &read(path));
    for l in wire.iter().filter(|l| l.out) {
      lines += 1;
      for i in &l.inbound {
        match i {
          Inbound::Event(e) => {
            kinds.insert(e.kind());
            methods.insert(l.method().unwrap().to_owned());
          }
          Inbound::Response { .. } => responses += 1,
          Inbound::Request { .. } => requests += 1,
        }
      }
    }
    check_request_matching(&label, &wire);
  }
  // The informational notifications all appear (else INFORMATIONAL lists a stale name), and
  // every method that gave an event is typed or informational.
  for m in INFORMATIONAL {
    assert!(methods.contains(*m), "no transcript sends `{m}`");
  }
  for m in [
    "thread/started",
    "turn/started",
    "item/started",
    "item/completed",
    "item/agentMessage/delta",
    "turn/completed",
    "error",
  ] {
    assert!(methods.contains(m), "no event from `{m}`");
  }
  for k in [
    "init",
    "turn-started",
    "assistant-text",
    "tool-use",
    "tool-result",
    "stream-event",
    "turn-completed",
    "error",
    "system",
  ] {
    assert!(kinds.contains(k), "no `{k}` payload");
  }
  assert!(!kinds.contains("other"));
  assert!(lines > 150, "only {lines} CLI lines");
  assert!(responses >= 25, "only {responses} responses");
  assert_eq!(requests, 2, "the two approval requests of 11");
}

// ---- the reference transcripts of shared/fixtures/codex --------------------------------------

#[test]
fn shared_reference_fixtures_parse_when_present() {
  let dir = shared_dir();
  if !dir.is_dir() {
    eprintln!(
      "skipping: {} is absent (the reference transcripts live outside this repository)",
      dir.display()
    );
    return;
  }
  let (mut lines, mut turn_ends, mut tools) = (0, 0, 0);
  for path in files_ending(&dir, ".jsonl") {
    let label = path.file_name().unwrap().to_string_lossy().into_owned();
    let text = read(&path);
    let payloads: Vec<EventPayload> = if label.ends_with(".wire.jsonl") {
      let wire = parse_wire(&label, &text);
      check_request_matching(&label, &wire);
      lines += wire.iter().filter(|l| l.out).count();
      wire.iter().flat_map(|l| l.events().cloned()).collect()
    } else {
      let parsed = parse_exec(&label, &text);
      lines += parsed.len();
      parsed.into_iter().flat_map(|l| l.payloads).collect()
    };
    turn_ends += payloads
      .iter()
      .filter(|p| matches!(p, EventPayload::TurnCompleted { .. }))
      .count();
    tools += payloads
      .iter()
      .filter(|p| matches!(p, EventPayload::ToolUse { .. }))
      .count();
  }
  assert!(lines > 100, "only {lines} lines in {}", dir.display());
  assert!(turn_ends >= 10, "only {turn_ends} turn ends");
  assert!(tools >= 5, "only {tools} tool uses");
}

#[test]
fn shared_exec_multi_tool_turn_when_present() {
  let path = shared_dir().join("02-exec-multi-tool-turn.jsonl");
  if !path.is_file() {
    eprintln!("skipping: {} is absent", path.display());
    return;
  }
  let p: Vec<EventPayload> = parse_exec("02-exec-multi-tool-turn", &read(&path))
    .into_iter()
    .flat_map(|l| l.payloads)
    .collect();
  assert!(p
    .iter()
    .any(|p| matches!(p, EventPayload::Thinking { text, .. } if text.contains("Planning"))));
  assert!(p.iter().any(
    |p| matches!(p, EventPayload::ToolUse { name, input, .. } if name == "file_change" && input["changes"][0]["kind"] == "add")
  ));
  // The command that exited 127 is an error result; the others are not.
  let results: Vec<(String, bool)> = p
    .iter()
    .filter_map(|p| match p {
      EventPayload::ToolResult {
        content, is_error, ..
      } => Some((content.clone(), *is_error)),
      _ => None,
    })
    .collect();
  assert_eq!(results.len(), 4);
  assert_eq!(results.iter().filter(|r| r.1).count(), 1);
  assert!(results
    .iter()
    .any(|r| r.1 && r.0.contains("cargo: command not found")));
}

// ---- what we write to the CLI ------------------------------------------------------------------

/// The line our builders write for one recorded `>` message, or None for the deliberately
/// bogus requests of scenario 13.
fn ours_for(msg: &Value) -> Option<Value> {
  let p = &msg["params"];
  let s = |v: &Value| v.as_str().unwrap().to_owned();
  let line = match (msg["method"].as_str(), msg["id"].as_u64()) {
    (Some("initialized"), None) => notification("initialized"),
    (None, _) => response(&msg["id"], json!({ "decision": msg["result"]["decision"] })),
    (Some(m), Some(id)) => {
      let params = match m {
        "initialize" => initialize_params(p["clientInfo"]["version"].as_str()?),
        "thread/start" => thread_start_params(
          p["cwd"].as_str()?,
          &CodexArgs {
            approval_policy: p["approvalPolicy"].as_str().map(str::to_owned),
            sandbox: p["sandbox"].as_str().map(str::to_owned),
            ..Default::default()
          },
        ),
        // What `launch.rs` sends for a resume / fork.
        "thread/resume" | "thread/fork" => json!({ "threadId": p["threadId"] }),
        "turn/start" => turn_start_params(&s(&p["threadId"]), p["input"][0]["text"].as_str()?),
        "turn/interrupt" => turn_interrupt_params(&s(&p["threadId"]), &s(&p["turnId"])),
        _ => return None,
      };
      request(id, m, params)
    }
    _ => panic!("unexpected stdin line {msg}"),
  };
  assert!(line.ends_with('\n') && line.matches('\n').count() == 1);
  assert!(!line.contains("jsonrpc"), "{line}");
  Some(serde_json::from_str(&line).unwrap())
}

/// Whether every key of `ours` is in `theirs`, recursively (the "shape" of a message).
fn keys_within(ours: &Value, theirs: &Value) -> bool {
  match (ours, theirs) {
    (Value::Object(a), Value::Object(b)) => a
      .iter()
      .all(|(k, v)| b.get(k).is_some_and(|t| keys_within(v, t))),
    (Value::Array(a), Value::Array(b)) => {
      a.len() == b.len() && a.iter().zip(b).all(|(x, y)| keys_within(x, y))
    }
    (Value::Object(_) | Value::Array(_), _) => false,
    _ => true,
  }
}

#[test]
fn stdin_messages_match_the_crate_builders() {
  let mut methods = BTreeSet::new();
  for path in files_ending(&fixture_dir(), ".wire.jsonl") {
    let label = path.file_name().unwrap().to_string_lossy().into_owned();
    for l in parse_wire(&label, &read(&path)).iter().filter(|l| !l.out) {
      methods.insert(l.method().unwrap_or("(reply)").to_owned());
      match ours_for(&l.msg) {
        // The recorder sent what our builders send, byte for byte once parsed.
        Some(ours) => assert_eq!(ours, l.msg, "{label}:{}", l.no),
        None => assert_eq!(l.method(), Some("thread/frobnicate"), "{label}:{}", l.no),
      }
    }
  }
  let want: BTreeSet<String> = [
    "initialize",
    "initialized",
    "thread/start",
    "thread/resume",
    "thread/fork",
    "turn/start",
    "turn/interrupt",
    "thread/frobnicate",
    "(reply)",
  ]
  .map(String::from)
  .into();
  assert_eq!(methods, want);
  // The reference transcripts (another client, `excludeTurns` on resume): same methods, and
  // our messages' keys are a subset of theirs.
  let dir = shared_dir();
  if !dir.is_dir() {
    eprintln!("skipping the reference half: {} is absent", dir.display());
    return;
  }
  for path in files_ending(&dir, ".wire.jsonl") {
    let label = path.file_name().unwrap().to_string_lossy().into_owned();
    for l in parse_wire(&label, &read(&path)).iter().filter(|l| !l.out) {
      let ours = ours_for(&l.msg).expect("a known method");
      assert_eq!(ours["method"], l.msg["method"], "{label}:{}", l.no);
      assert_eq!(ours["id"], l.msg["id"], "{label}:{}", l.no);
      assert!(
        keys_within(&ours, &l.msg),
        "{label}:{}: ours {ours} is not within {}",
        l.no,
        l.msg
      );
    }
  }
}

#[test]
fn exec_command_lines_match_the_crate_args() {
  // The recorded argv minus `codex`, against `args()` minus the `--` we put before the prompt.
  for (name, how) in [
    ("01-exec-hello", "new"),
    ("02-exec-resume", "resume"),
    ("03-exec-tool", "new"),
    ("07-exec-resume-unknown", "resume"),
    ("09-exec-fork", "fork"),
  ] {
    let meta: Value =
      serde_json::from_str(&read(&fixture_dir().join(format!("{name}.meta.json")))).unwrap();
    let cmd: Vec<&str> = meta["command"]
      .as_array()
      .unwrap()
      .iter()
      .map(|v| v.as_str().unwrap())
      .collect();
    let a = CodexArgs {
      sandbox: cmd
        .iter()
        .position(|s| *s == "-s")
        .map(|i| cmd[i + 1].to_owned()),
      ..Default::default()
    };
    let how = match how {
      "new" => Continue::New,
      "resume" => Continue::Resume(cmd[cmd.len() - 2].to_owned()),
      _ => Continue::Fork(cmd[cmd.len() - 2].to_owned()),
    };
    // The recorded runs passed the prompt as the last argument; ours is `-` (read from stdin).
    let ours: Vec<String> = args(&a, &how, None)
      .into_iter()
      .map(|s| s.into_string().unwrap())
      .map(|s| if s == "--sandbox" { "-s".into() } else { s })
      .collect();
    assert_eq!(ours.last().map(String::as_str), Some("-"), "{name}");
    assert_eq!(ours[..ours.len() - 1], cmd[1..cmd.len() - 1], "{name}");
  }
}
