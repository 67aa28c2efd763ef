//! Replaying parsed transcripts through `SessionState` the way the driver and manager feed it.

use super::*;

pub fn new_state(backend: Backend, name: &str) -> SessionState {
  SessionState::new(
    NewSession {
      id: "s1".into(),
      name: Some(name.into()),
      backend,
      backend_session_id: String::new(),
      workdir: WORKDIR.into(),
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
  )
}

pub struct Replay {
  pub state: SessionState,
  pub events: Vec<openclaw_sessions_core::model::event::Ev>,
  pub outcomes: Vec<TurnOutcome>,
  /// The session's status right after each turn-completed payload.
  pub after_turn: Vec<Status>,
}

impl Replay {
  pub fn new(backend: Backend, name: &str) -> Replay {
    let mut state = new_state(backend, name);
    let events = vec![state.started()];
    Replay {
      state,
      events,
      outcomes: Vec::new(),
      after_turn: Vec::new(),
    }
  }

  pub fn apply(&mut self, p: EventPayload) -> TurnOutcome {
    let is_turn_end = matches!(p, EventPayload::TurnCompleted { .. });
    let (evs, outcome) = self.state.apply(p);
    self.events.extend(evs);
    if is_turn_end {
      self.outcomes.push(outcome);
      self.after_turn.push(self.state.status());
    } else {
      assert_eq!(outcome, TurnOutcome::None);
    }
    outcome
  }

  pub fn begin_turn(&mut self) {
    let ev = self
      .state
      .begin_turn("next")
      .unwrap_or_else(|s| panic!("begin_turn in {s:?}"));
    self.events.extend(ev);
  }

  pub fn exited(&mut self, code: Option<i32>, signal: Option<i32>) {
    let evs = self.state.exited(code, signal);
    self.events.extend(evs);
  }

  pub fn statuses(&self) -> Vec<Status> {
    self
      .events
      .iter()
      .filter_map(|e| match e.payload {
        EventPayload::Status { status, .. } => Some(status),
        _ => None,
      })
      .collect()
  }

  /// The turn-completed events as the session stamped them: (turn, per-turn usage, total).
  pub fn turns(&self) -> Vec<(u32, Usage, Option<Usage>)> {
    self
      .events
      .iter()
      .filter_map(|e| match &e.payload {
        EventPayload::TurnCompleted {
          turn,
          usage,
          usage_total,
          ..
        } => Some((*turn, *usage, *usage_total)),
        _ => None,
      })
      .collect()
  }

  /// Invariants of every replay: turns numbered 1.., events numbered without gaps, and the
  /// session's usage the sum of its per-turn usages.
  pub fn check_invariants(&self) {
    let turns = self.turns();
    assert!(turns.iter().enumerate().all(|(i, t)| t.0 as usize == i + 1));
    let mut sum = Usage::default();
    turns.iter().for_each(|t| sum.add(&t.1));
    assert_eq!(self.state.info().usage, sum);
    assert!(self.events.windows(2).all(|w| w[1].seq == w[0].seq + 1));
  }
}

/// One exec process: its stdout payloads, its stderr, then its exit (code from the meta).
pub fn replay_exec_process(r: &mut Replay, f: &ExecFixture) {
  for p in f.payloads() {
    r.apply(p);
  }
  for l in f.stderr.lines() {
    let ev = r.state.stderr_line(l);
    r.events.push(ev);
  }
  r.exited(Some(f.exit_code()), None);
}

/// Feeds a transcript to a `Backend::Codex` session the way the driver and manager do: events
/// are applied; a `turn/start` the CLI accepted begins a turn when the session waits (the
/// first one runs already); an accepted `turn/interrupt` was asked for by `interruptTurn`;
/// approvals become `PermissionRequest`s; a thread response sets the backend session id.
/// Stops at a fatal turn end (the driver then closes stdin) and returns that line.
pub fn replay_app(f: &WireFixture, r: &mut Replay) -> Option<usize> {
  let sent: BTreeMap<u64, &str> = f
    .sent_requests()
    .into_iter()
    .map(|(id, m, _)| (id, m))
    .collect();
  for l in &f.lines {
    if !l.out {
      let accepted = l.msg["id"]
        .as_u64()
        .is_some_and(|id| f.response(id).is_ok());
      match l.method() {
        Some("turn/start") if accepted => {
          if r.state.status() == Status::WaitingForInput {
            r.begin_turn();
          } else {
            assert_eq!(
              r.state.info().turns,
              0,
              "{}:{}: turn while busy",
              f.name,
              l.no
            );
          }
        }
        Some("turn/interrupt") if accepted => {
          assert!(r.state.request_turn_interrupt(), "{}:{}", f.name, l.no)
        }
        _ => {}
      }
      continue;
    }
    for i in &l.inbound {
      match i {
        Inbound::Event(e) => {
          if r.apply(e.clone()) == TurnOutcome::ApiFailed {
            return Some(l.no);
          }
        }
        Inbound::Request { id, method, params } if is_approval(method) => {
          let (evs, _) = r.state.apply(EventPayload::PermissionRequest {
            request_id: id.to_string(),
            tool_name: method.clone(),
            input: params.clone(),
            tool_use_id: params["itemId"].as_str().map(str::to_owned),
          });
          r.events.extend(evs);
        }
        Inbound::Request { method, .. } => panic!("{}: unexpected request {method}", f.name),
        Inbound::Response { id, result: Ok(v) } => {
          if matches!(sent[id], "thread/start" | "thread/resume" | "thread/fork") {
            r.state
              .set_backend_session_id(&thread_id(v).expect("a thread id"));
          }
        }
        Inbound::Response { .. } => {}
      }
    }
  }
  None
}
