//! The Claude stdout parser and the session state machine over REAL Claude Code 2.1.197
//! transcripts (`tests/fixtures/claude/`, recorded by `node scripts/record-claude-fixtures.mjs`
//! against the scripted model server), plus the reference transcripts of `shared/fixtures/`
//! (Claude Code 2.1.330) when that directory exists.
//!
//! Every line is parsed with `protocol::claude::parse_line` and cross-checked field by field
//! against the raw JSON; each scenario then asserts the payloads it exists to show and replays
//! them through `SessionState`.

use openclaw_sessions_core::model::event::{EventPayload, Status, StatusReason};
use openclaw_sessions_core::model::options::Backend;
use openclaw_sessions_core::protocol::claude::{
  interrupt_request, is_api_error, parse_line, user_message,
};
use openclaw_sessions_core::session::{EndReason, Limits, NewSession, SessionState, TurnOutcome};
use serde_json::Value;
use std::path::{Path, PathBuf};

mod check;
mod scenarios_01_05;
mod scenarios_06_11;
mod support;

use check::*;
use support::*;

// ---- every file parses -------------------------------------------------------------------------

#[test]
fn every_recorded_stdout_line_parses_and_matches_its_json() {
  let mut files: Vec<PathBuf> = std::fs::read_dir(fixture_dir())
    .expect("tests/fixtures/claude exists: run `node scripts/record-claude-fixtures.mjs`")
    .map(|e| e.unwrap().path())
    .filter(|p| p.to_string_lossy().ends_with(".stdout.jsonl"))
    .collect();
  files.sort();
  assert!(
    files.len() >= 7,
    "expected at least the 7 scenarios, found {files:?}"
  );
  let mut kinds = std::collections::BTreeSet::new();
  let mut lines = 0;
  for path in &files {
    let label = path.file_name().unwrap().to_string_lossy().into_owned();
    for l in parse_text(&label, &read(path)) {
      assert!(!l.payloads.is_empty(), "{label}:{}: no payload", l.no);
      kinds.extend(l.payloads.iter().map(EventPayload::kind));
      lines += 1;
    }
  }
  // Together the transcripts show every payload kind the stdout parser can produce (except
  // `other`, which only unknown messages give).
  for kind in [
    "init",
    "assistant-text",
    "thinking",
    "tool-use",
    "tool-result",
    "user-text",
    "turn-completed",
    "permission-request",
    "control-response",
    "system",
    "stream-event",
    "error",
  ] {
    assert!(
      kinds.contains(kind),
      "no fixture produced a `{kind}` payload"
    );
  }
  assert!(lines > 100, "only {lines} lines");
}

#[test]
fn stdin_messages_that_the_real_cli_accepted_match_the_crate_builders() {
  // Every recorded stdin line is one JSON object the CLI read.
  for entry in std::fs::read_dir(fixture_dir()).unwrap() {
    let path = entry.unwrap().path();
    if !path.to_string_lossy().ends_with(".stdin.jsonl") {
      continue;
    }
    for (i, line) in read(&path).lines().enumerate() {
      let v: Value =
        serde_json::from_str(line).unwrap_or_else(|e| panic!("{}:{}: {e}", path.display(), i + 1));
      assert!(v["type"].is_string(), "{}:{}", path.display(), i + 1);
    }
  }
  let f = Fixture::load("06-duplex");
  let sent = f.stdin();
  // The interrupt the CLI answered is exactly what `interrupt_request` writes.
  let ours: Value = serde_json::from_str(interrupt_request("int-1").trim()).unwrap();
  assert!(sent.contains(&ours), "interrupt line differs from {ours}");
  // Each user line the CLI ran carries what `user_message` writes (plus `session_id`).
  for v in sent.iter().filter(|v| v["type"] == "user") {
    let text = v["message"]["content"].as_str().unwrap();
    let ours: Value = serde_json::from_str(user_message(text).trim()).unwrap();
    for (k, val) in ours.as_object().unwrap() {
      assert_eq!(&v[k], val, "user line field {k}");
    }
  }
}

// ---- the reference transcripts of shared/fixtures (Claude Code 2.1.330) ------------------------

#[test]
fn shared_reference_fixtures_parse_when_present() {
  let dir = shared_dir();
  let Ok(entries) = std::fs::read_dir(&dir) else {
    eprintln!(
      "skipping: {} is absent (the reference transcripts live outside this repository)",
      dir.display()
    );
    return;
  };
  let mut files: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
  files.sort();
  let mut checked = 0;
  let mut results = 0;
  for path in &files {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let text = read(path);
    let stdout: String = if name.ends_with(".wire.jsonl") {
      // `{dir, ms, msg}` lines: the CLI's side is `dir == "stdout"`.
      text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str::<Value>(l).expect("wire line is JSON"))
        .filter(|v| v["dir"] == "stdout")
        .map(|v| v["msg"].to_string() + "\n")
        .collect()
    } else if name.ends_with(".stdout.jsonl") || name.ends_with(".output-format-json.json") {
      text
    } else {
      continue; // stdin and stderr files are not CLI stdout
    };
    for l in parse_text(&name, &stdout) {
      results += l
        .payloads
        .iter()
        .filter(|p| matches!(p, EventPayload::TurnCompleted { .. }))
        .count();
      checked += 1;
    }
  }
  assert!(checked > 50, "only {checked} lines in {}", dir.display());
  assert!(results >= 10, "only {results} results");
}
