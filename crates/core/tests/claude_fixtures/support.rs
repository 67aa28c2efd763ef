//! Loading, parsing and replaying the recorded transcripts.

use super::*;

pub const PINNED_VERSION: &str = "2.1.197";
pub const FIXTURE_SESSION: &str = "fixture-session";

// ---- loading and parsing ---------------------------------------------------------------------

pub fn fixture_dir() -> PathBuf {
  Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/claude")
}

pub fn shared_dir() -> PathBuf {
  Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/claude")
}

pub fn read(path: &Path) -> String {
  std::fs::read_to_string(path).unwrap_or_else(|e| {
    panic!(
      "cannot read {}: {e} (record the fixtures with `node scripts/record-claude-fixtures.mjs`)",
      path.display()
    )
  })
}

/// One stdout line: its raw JSON and what the parser made of it.
pub struct Line {
  pub no: usize,
  pub json: Value,
  pub payloads: Vec<EventPayload>,
}

/// Parses every line of a stdout transcript; panics with the file and line on any failure,
/// and cross-checks each line's payloads against its JSON.
pub fn parse_text(label: &str, text: &str) -> Vec<Line> {
  let mut out = Vec::new();
  for (i, raw) in text.lines().enumerate() {
    if raw.trim().is_empty() {
      continue;
    }
    let payloads = parse_line(raw)
      .unwrap_or_else(|e| panic!("{label}:{}: parse_line failed: {e}\n  line: {raw}", i + 1));
    let json: Value = serde_json::from_str(raw)
      .unwrap_or_else(|e| panic!("{label}:{}: not JSON for serde_json either: {e}", i + 1));
    if let Err(why) = check_line(&json, &payloads) {
      panic!(
        "{label}:{}: {why}\n  line: {}\n  payloads: {payloads:#?}",
        i + 1,
        truncate(raw, 600)
      );
    }
    out.push(Line {
      no: i + 1,
      json,
      payloads,
    });
  }
  out
}

pub fn truncate(s: &str, n: usize) -> &str {
  match s.char_indices().nth(n) {
    Some((i, _)) => &s[..i],
    None => s,
  }
}

/// A recorded stdout transcript of this crate's fixtures.
pub struct Fixture {
  pub name: &'static str,
  pub lines: Vec<Line>,
}

impl Fixture {
  pub fn load(name: &'static str) -> Fixture {
    let path = fixture_dir().join(format!("{name}.stdout.jsonl"));
    let lines = parse_text(name, &read(&path));
    assert!(!lines.is_empty(), "{name}: empty transcript");
    for l in &lines {
      for p in &l.payloads {
        assert!(
          !matches!(p, EventPayload::Other { .. }),
          "{name}:{}: the parser left a 2.1.197 message untyped: {p:?}",
          l.no
        );
      }
    }
    Fixture { name, lines }
  }

  pub fn payloads(&self) -> Vec<EventPayload> {
    self
      .lines
      .iter()
      .flat_map(|l| l.payloads.iter().cloned())
      .collect()
  }

  /// The raw JSON of every line of the given `type`.
  pub fn json_of_type(&self, ty: &str) -> Vec<&Value> {
    self
      .lines
      .iter()
      .map(|l| &l.json)
      .filter(|j| j["type"] == ty)
      .collect()
  }

  pub fn results(&self) -> Vec<&Value> {
    self.json_of_type("result")
  }

  /// The `session_id` every stdout line carries (they must all agree).
  pub fn session_id(&self) -> String {
    let ids: Vec<&str> = self
      .lines
      .iter()
      .filter_map(|l| l.json["session_id"].as_str())
      .collect();
    assert!(!ids.is_empty(), "{}: no session_id anywhere", self.name);
    assert!(
      ids.iter().all(|id| *id == ids[0]),
      "{}: session ids differ: {ids:?}",
      self.name
    );
    ids[0].to_owned()
  }

  pub fn stdin(&self) -> Vec<Value> {
    let path = fixture_dir().join(format!("{}.stdin.jsonl", self.name));
    read(&path)
      .lines()
      .filter(|l| !l.trim().is_empty())
      .map(|l| serde_json::from_str(l).expect("stdin line is JSON"))
      .collect()
  }
}

pub fn turn_completed(p: &[EventPayload]) -> Vec<&EventPayload> {
  p.iter()
    .filter(|p| matches!(p, EventPayload::TurnCompleted { .. }))
    .collect()
}

pub fn close(a: f64, b: f64) -> bool {
  (a - b).abs() < 1e-9
}

// ---- replay through SessionState --------------------------------------------------------------

pub struct Replay {
  pub state: SessionState,
  pub events: Vec<openclaw_sessions_core::model::event::Ev>,
  pub outcomes: Vec<TurnOutcome>,
}

impl Replay {
  /// Statuses the session went through, in order.
  pub fn statuses(&self) -> Vec<(Status, Option<StatusReason>)> {
    self
      .events
      .iter()
      .filter_map(|e| match e.payload {
        EventPayload::Status { status, reason, .. } => Some((status, reason)),
        _ => None,
      })
      .collect()
  }

  /// The TurnCompleted payloads as the session stamped them (turn number, per-turn cost).
  pub fn turns(&self) -> Vec<(u32, f64, f64)> {
    self
      .events
      .iter()
      .filter_map(|e| match e.payload {
        EventPayload::TurnCompleted {
          turn,
          cost_usd,
          total_cost_usd,
          ..
        } => Some((turn, cost_usd, total_cost_usd)),
        _ => None,
      })
      .collect()
  }
}

/// Feeds a transcript to a fresh session the way the manager does: the line after a `result`
/// was caused by the next user message, so the waiting session begins a turn first.
pub fn replay(f: &Fixture) -> Replay {
  let mut state = SessionState::new(
    NewSession {
      id: "s1".into(),
      name: Some(f.name.into()),
      backend: Backend::Claude,
      backend_session_id: FIXTURE_SESSION.into(),
      workdir: "/home/dev/demo".into(),
      model: None,
      first_prompt: "fixture".into(),
      origin: None,
      resumed_from_id: None,
      forked_from_id: None,
    },
    Limits {
      event_log: 100_000,
      output_lines: 10_000,
      stderr_lines: 100,
    },
  );
  let mut events = vec![state.started()];
  let mut outcomes = Vec::new();
  let mut after_result = false;
  for p in f.payloads() {
    if after_result {
      after_result = false;
      if state.status() == Status::WaitingForInput {
        let ev = state
          .begin_turn("next")
          .expect("a waiting session accepts a new turn");
        events.extend(ev);
      }
    }
    let is_result = matches!(p, EventPayload::TurnCompleted { .. });
    let permission = match &p {
      EventPayload::PermissionRequest { request_id, .. } => Some(request_id.clone()),
      _ => None,
    };
    let (evs, outcome) = state.apply(p);
    events.extend(evs);
    if let Some(id) = permission {
      // The recording allowed every request (06-duplex.stdin.jsonl), as respondToPermission does.
      let (_, evs) = state
        .resolve_permission(&id, true, "user")
        .expect("the request is pending");
      events.extend(evs);
    }
    if is_result {
      outcomes.push(outcome);
      after_result = true;
    } else {
      assert_eq!(outcome, TurnOutcome::None);
    }
  }
  let r = Replay {
    state,
    events,
    outcomes,
  };
  // Invariants of every replay: one turn per result, the CLI's running total is the session's
  // total, the per-turn costs add up to it, and events are numbered without gaps.
  let info = r.state.info();
  let results = f.results();
  assert_eq!(info.turns as usize, results.len(), "{}: turns", f.name);
  let last_total = results
    .last()
    .and_then(|r| r["total_cost_usd"].as_f64())
    .unwrap();
  assert!(
    close(info.total_cost_usd, last_total),
    "{}: total cost {} != last result's {last_total}",
    f.name,
    info.total_cost_usd
  );
  let turns = r.turns();
  let sum: f64 = turns.iter().map(|t| t.1).sum();
  assert!(
    close(sum, last_total),
    "{}: per-turn costs sum to {sum}",
    f.name
  );
  assert!(turns.iter().enumerate().all(|(i, t)| t.0 as usize == i + 1));
  let expected_num_turns: u64 = results
    .iter()
    .map(|r| r["num_turns"].as_u64().unwrap())
    .sum();
  assert_eq!(
    u64::from(info.num_turns),
    expected_num_turns,
    "{}: num_turns",
    f.name
  );
  assert!(r.events.windows(2).all(|w| w[1].seq == w[0].seq + 1));
  assert_eq!(info.last_seq, r.events.last().unwrap().seq);
  r
}

pub fn init_of(f: &Fixture) -> &Value {
  f.lines
    .iter()
    .map(|l| &l.json)
    .find(|j| j["type"] == "system" && j["subtype"] == "init")
    .unwrap_or_else(|| panic!("{}: no system/init", f.name))
}

/// Checks shared by every scenario that talks to the model: init of the pinned CLI, the
/// workdir rewrite, and the session id the session adopts.
pub fn check_init(f: &Fixture, r: &Replay) {
  let init = init_of(f);
  assert_eq!(init["claude_code_version"], PINNED_VERSION, "{}", f.name);
  assert_eq!(init["cwd"], "/home/dev/demo", "{}", f.name);
  let p = f
    .payloads()
    .into_iter()
    .find(|p| matches!(p, EventPayload::Init { .. }))
    .unwrap();
  match p {
    EventPayload::Init {
      backend_session_id,
      cli_version,
      tools,
      ..
    } => {
      assert_eq!(backend_session_id, f.session_id());
      assert_eq!(cli_version.as_deref(), Some(PINNED_VERSION));
      assert!(
        tools.iter().any(|t| t == "Bash"),
        "{}: tools {tools:?}",
        f.name
      );
    }
    _ => unreachable!(),
  }
  let info = r.state.info();
  assert_eq!(info.backend_session_id, f.session_id());
  assert_eq!(info.model.as_deref(), init["model"].as_str());
}
