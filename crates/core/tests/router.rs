//! The notification router and delivery on tokio's paused clock: debounce, once per turn,
//! cancellation by a new turn, safety net, long-running, failure context, channel resolution,
//! foreground catch-up, retries with backoff, and exactly-once across a restart.

use openclaw_sessions_core::model::event::{AgentEvent, EventPayload, Status, StatusReason};
use openclaw_sessions_core::model::options::NotificationOptions;
use openclaw_sessions_core::notify::delivery::{Deliver, Delivery, Report};
use openclaw_sessions_core::notify::router::{Input, Router};
use openclaw_sessions_core::notify::Notification;
use openclaw_sessions_core::store::Store;
use std::sync::{Arc, Mutex};
use std::time::Duration;

type Seen = Arc<Mutex<Vec<Notification>>>;
type Reported = Arc<Mutex<Vec<(String, EventPayload)>>>;

struct Rig {
  /// Delivery holds the store weakly (the manager owns it): the rig keeps it open.
  _store: Arc<Store>,
  router: Router,
  delivery: Delivery,
  seen: Seen,
  reported: Reported,
  seq: u64,
}

fn opts() -> NotificationOptions {
  NotificationOptions {
    fallback_channel: Some("fallback".into()),
    ..Default::default()
  }
}

fn recorder(seen: &Seen) -> Deliver {
  let seen = Arc::clone(seen);
  Arc::new(move |n| {
    seen.lock().unwrap().push(n);
    Box::pin(async { Ok(()) })
  })
}

thread_local! {
  /// The stores of this test's rigs (each test runs on one thread), for `settle`.
  static STORES: std::cell::RefCell<Vec<std::sync::Weak<Store>>> = Default::default();
}

fn rig(o: NotificationOptions, store: Arc<Store>) -> Rig {
  STORES.with(|s| s.borrow_mut().push(Arc::downgrade(&store)));
  let seen: Seen = Arc::default();
  let reported: Reported = Arc::default();
  let r = Arc::clone(&reported);
  let report: Report = Arc::new(move |id: &str, p| r.lock().unwrap().push((id.to_owned(), p)));
  let delivery = Delivery::start(
    Arc::clone(&store),
    o.delivery_attempts,
    Duration::from_millis(o.delivery_backoff_ms),
    Arc::clone(&report),
    Arc::default(),
  );
  delivery.set(Some(recorder(&seen)));
  let router = Router::start(o, delivery.clone(), report);
  Rig {
    _store: store,
    router,
    delivery,
    seen,
    reported,
    seq: 0,
  }
}

impl Rig {
  fn start(&self, id: &str, workdir: &str, origin: Option<&str>) {
    self.router.send(Input::Started {
      id: id.into(),
      name: Some(format!("n-{id}")),
      workdir: workdir.into(),
      origin_channel: origin.map(str::to_owned),
    });
  }

  fn ev(&mut self, id: &str, payload: EventPayload) {
    self.seq += 1;
    self
      .router
      .send(Input::Event(std::sync::Arc::new(AgentEvent {
        seq: self.seq,
        session_id: id.into(),
        at: 0,
        payload,
      })));
  }

  fn status(&mut self, id: &str, status: Status, reason: Option<StatusReason>) {
    self.ev(
      id,
      EventPayload::Status {
        status,
        previous: None,
        reason,
        end_reason: None,
      },
    );
  }

  fn text(&mut self, id: &str, t: &str) {
    self.ev(
      id,
      EventPayload::AssistantText {
        text: t.into(),
        message_id: None,
        parent_tool_use_id: None,
      },
    );
  }

  fn turn_end(&mut self, id: &str) {
    self.ev(id, EventPayload::turn_end("completed", None, None));
  }

  fn kinds(&self) -> Vec<String> {
    self
      .seen
      .lock()
      .unwrap()
      .iter()
      .map(|n| n.kind.clone())
      .collect()
  }

  fn of(&self, kind: &str) -> Vec<Notification> {
    self
      .seen
      .lock()
      .unwrap()
      .iter()
      .filter(|n| n.kind == kind)
      .cloned()
      .collect()
  }
}

async fn settle() {
  // Let the router and delivery tasks run without moving the clock. The ledger is written by
  // the store's writer thread (not a tokio task): each round waits for it to catch up, so the
  // answers it sent are there when the tasks run again.
  for _ in 0..6 {
    for _ in 0..20 {
      tokio::task::yield_now().await;
    }
    let stores: Vec<Arc<Store>> =
      STORES.with(|s| s.borrow().iter().filter_map(|w| w.upgrade()).collect());
    for store in stores {
      store.sync().unwrap();
    }
  }
}

/// Moves the paused clock forward in 50 ms steps, so timers armed on the way fire on time.
async fn advance(ms: u64) {
  settle().await;
  let mut left = ms;
  while left > 0 {
    let step = left.min(50);
    tokio::time::advance(Duration::from_millis(step)).await;
    settle().await;
    left -= step;
  }
}

fn mem() -> Arc<Store> {
  Arc::new(Store::open(":memory:").unwrap())
}

#[tokio::test(start_paused = true)]
async fn one_debounced_waiting_per_ended_turn_and_none_when_the_next_turn_starts_in_time() {
  let mut r = rig(opts(), mem());
  r.start("s", "/w", None);
  r.status("s", Status::Running, None);
  for i in 0..50 {
    r.text("s", &format!("line {i}"));
  }
  r.turn_end("s");
  r.status("s", Status::WaitingForInput, Some(StatusReason::TurnEnded));
  advance(4_000).await;
  assert!(
    r.of("waiting-for-input").is_empty(),
    "still within the 5 s debounce"
  );
  advance(1_500).await;
  let w = r.of("waiting-for-input");
  assert_eq!(w.len(), 1);
  assert_eq!(w[0].data["reason"], "turn-ended");
  assert_eq!(w[0].channel, "fallback");
  // A repeated waiting status in the same turn does not fire again.
  r.status("s", Status::WaitingForInput, Some(StatusReason::TurnEnded));
  advance(6_000).await;
  assert_eq!(r.of("waiting-for-input").len(), 1);

  // Turn 2 ends, the user answers within the debounce: no wake for it.
  r.status("s", Status::Running, None);
  r.turn_end("s");
  r.status("s", Status::WaitingForInput, Some(StatusReason::TurnEnded));
  advance(2_000).await;
  r.status("s", Status::Running, None);
  advance(10_000).await;
  assert_eq!(r.of("waiting-for-input").len(), 1);
  assert_eq!(r.kinds()[0], "launched");
}

#[tokio::test(start_paused = true)]
async fn a_question_carries_its_text_and_a_permission_its_request() {
  let mut r = rig(opts(), mem());
  r.start("q", "/w", Some("tg:42"));
  r.status("q", Status::Running, None);
  r.text("q", "I looked at the code.");
  r.text("q", "Which file should I edit?");
  r.turn_end("q");
  r.status("q", Status::WaitingForInput, Some(StatusReason::Question));
  advance(5_100).await;
  let w = r.of("waiting-for-input");
  assert_eq!(w[0].data["reason"], "question");
  assert!(w[0].data["question"]
    .as_str()
    .unwrap()
    .ends_with("Which file should I edit?"));
  assert!(w[0].text.contains("asks: I looked at the code."));
  assert_eq!(w[0].channel, "tg:42", "the origin channel wins");

  r.status("q", Status::Running, None);
  r.ev(
    "q",
    EventPayload::PermissionRequest {
      request_id: "r1".into(),
      tool_name: "Bash".into(),
      input: serde_json::json!({"command": "rm -rf build"}),
      tool_use_id: None,
    },
  );
  r.status("q", Status::WaitingForInput, Some(StatusReason::Permission));
  advance(5_100).await;
  let w = r.of("waiting-for-input");
  assert_eq!(w.len(), 2);
  assert_eq!(w[1].data["permission"]["requestId"], "r1");
  assert_eq!(w[1].data["permission"]["toolName"], "Bash");
}

#[tokio::test(start_paused = true)]
async fn turns_back_to_back_ask_with_only_the_last_turns_text() {
  // Turns that run back to back (queued messages) never let the waiting debounce fire: each
  // turn's text must still start over, or the question would carry every turn's text.
  let mut r = rig(opts(), mem());
  r.start("b", "/w", None);
  for i in 0..200 {
    r.status("b", Status::Running, None);
    r.text("b", &format!("reply {i}"));
    r.turn_end("b");
    r.status("b", Status::WaitingForInput, Some(StatusReason::TurnEnded));
  }
  r.status("b", Status::Running, None);
  r.text("b", "Shall I go on?");
  r.turn_end("b");
  r.status("b", Status::WaitingForInput, Some(StatusReason::Question));
  advance(5_100).await;
  let w = r.of("waiting-for-input");
  assert_eq!(w.len(), 1, "one wake, for the last turn");
  assert_eq!(w[0].data["question"], "Shall I go on?");
  assert_eq!(w[0].data["turn"], 201);
}

#[tokio::test(start_paused = true)]
async fn the_safety_net_reports_a_quiet_running_turn_once_and_long_running_fires_once() {
  let mut o = opts();
  o.long_running_ms = 60_000;
  let mut r = rig(o, mem());
  r.start("q", "/w", None);
  r.status("q", Status::Running, None);
  advance(10_000).await;
  r.text("q", "still working");
  advance(10_000).await;
  assert!(
    r.of("waiting-for-input").is_empty(),
    "output moved the safety net"
  );
  advance(6_000).await;
  let w = r.of("waiting-for-input");
  assert_eq!(w.len(), 1);
  assert_eq!(w[0].data["reason"], "idle");
  advance(30_000).await;
  assert_eq!(r.of("waiting-for-input").len(), 1, "once per turn");
  advance(10_000).await;
  assert_eq!(r.of("long-running").len(), 1);
  advance(120_000).await;
  assert_eq!(r.of("long-running").len(), 1, "only once");
}

#[tokio::test(start_paused = true)]
async fn timer_options_beyond_the_timer_wheel_switch_those_timers_off_and_the_router_goes_on() {
  // 1e11 ms (about 3 years) is past tokio's DelayQueue limit (2^36 - 1 ms): arming it
  // panicked the router task, and every later notification was lost.
  let mut o = opts();
  o.long_running_ms = 100_000_000_000;
  o.safety_net_ms = 100_000_000_000;
  let mut r = rig(o, mem());
  r.start("far", "/w", None);
  r.status("far", Status::Running, None);
  advance(1_000).await;
  r.turn_end("far");
  r.status(
    "far",
    Status::WaitingForInput,
    Some(StatusReason::TurnEnded),
  );
  advance(6_000).await;
  assert_eq!(
    r.of("waiting-for-input").len(),
    1,
    "the router still notifies: {:?}",
    r.kinds()
  );
  assert!(r.of("long-running").is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_failure_carries_exit_code_stderr_last_output_cost_and_a_hint() {
  let mut r = rig(opts(), mem());
  r.start("f", "/w", None);
  r.status("f", Status::Running, None);
  r.text("f", "Working on it");
  r.ev(
    "f",
    EventPayload::Stderr {
      line: "Error: 401 invalid x-api-key".into(),
    },
  );
  r.ev(
    "f",
    EventPayload::Exit {
      exit_code: Some(1),
      signal: None,
    },
  );
  r.ev(
    "f",
    EventPayload::Error {
      message: "claude exited with exit code 1: model API error 401".into(),
      fatal: true,
    },
  );
  r.ev(
    "f",
    EventPayload::Status {
      status: Status::Failed,
      previous: None,
      reason: None,
      end_reason: Some(openclaw_sessions_core::model::event::EndReason::ApiError),
    },
  );
  settle().await;
  let f = r.of("failed");
  assert_eq!(f.len(), 1);
  let d = &f[0].data;
  assert_eq!(d["exitCode"], 1);
  assert_eq!(d["stderrTail"][0], "Error: 401 invalid x-api-key");
  assert_eq!(d["lastLines"][0], "Working on it");
  assert_eq!(d["endReason"], "api-error");
  assert!(d["hint"].as_str().unwrap().contains("API key"));
  assert!(f[0].text.contains("exit code 1"));
}

#[tokio::test(start_paused = true)]
async fn without_any_channel_a_notification_is_dropped_with_a_warning_event() {
  let mut o = opts();
  o.fallback_channel = None;
  o.channels.insert("/srv/app".into(), "ops".into());
  let mut r = rig(o, mem());
  r.start("a", "/srv/app/sub", None);
  r.start("b", "/home/x", None);
  settle().await;
  assert_eq!(
    r.of("launched")
      .iter()
      .map(|n| n.channel.as_str())
      .collect::<Vec<_>>(),
    ["ops"]
  );
  let reported = r.reported.lock().unwrap().clone();
  assert!(
    matches!(&reported[..], [(id, EventPayload::NotificationDropped { notification, .. })] if id == "b" && notification == "launched")
  );
  let _ = &mut r;
}

#[tokio::test(start_paused = true)]
async fn foreground_catches_up_then_streams_debounced_output_and_tool_use() {
  let mut r = rig(opts(), mem());
  r.start("s", "/w", None);
  r.status("s", Status::Running, None);
  r.text("s", "one\ntwo");
  settle().await;
  let (tx, rx) = tokio::sync::oneshot::channel();
  r.router.send(Input::Foreground {
    id: "s".into(),
    channel: "fg".into(),
    reply: tx,
  });
  assert_eq!(rx.await.unwrap(), ["one", "two"], "catch-up");
  r.text("s", "three");
  r.text("s", "four");
  advance(400).await;
  assert!(r.of("output").is_empty(), "debounced");
  advance(200).await;
  let out = r.of("output");
  assert_eq!(out.len(), 1);
  assert_eq!(out[0].data["lines"], serde_json::json!(["three", "four"]));
  assert_eq!(out[0].channel, "fg");
  r.ev(
    "s",
    EventPayload::ToolUse {
      tool_use_id: "t1".into(),
      name: "Bash".into(),
      input: serde_json::json!({"command": "ls"}),
      parent_tool_use_id: None,
    },
  );
  settle().await;
  assert_eq!(r.of("tool-use")[0].channel, "fg");
  // Nothing missed now; after background nothing streams.
  let (tx, rx) = tokio::sync::oneshot::channel();
  r.router.send(Input::Foreground {
    id: "s".into(),
    channel: "fg".into(),
    reply: tx,
  });
  assert!(rx.await.unwrap().is_empty());
  r.router.send(Input::Background {
    id: "s".into(),
    channel: "fg".into(),
  });
  r.text("s", "five");
  advance(1_000).await;
  assert_eq!(r.of("output").len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_rejected_delivery_is_retried_with_backoff_then_delivered_once() {
  let store = mem();
  let reported: Reported = Arc::default();
  let rep = Arc::clone(&reported);
  let report: Report = Arc::new(move |id: &str, p| rep.lock().unwrap().push((id.to_owned(), p)));
  let delivery = Delivery::start(
    Arc::clone(&store),
    5,
    Duration::from_millis(500),
    report,
    Arc::default(),
  );
  let calls: Arc<Mutex<Vec<tokio::time::Instant>>> = Arc::default();
  let c = Arc::clone(&calls);
  delivery.set(Some(Arc::new(move |_n| {
    let mut calls = c.lock().unwrap();
    calls.push(tokio::time::Instant::now());
    let ok = calls.len() >= 3;
    Box::pin(async move {
      if ok {
        Ok(())
      } else {
        Err("channel offline".to_string())
      }
    })
  })));
  let n = Notification {
    key: "k1".into(),
    kind: "launched".into(),
    session_id: "s".into(),
    session_name: None,
    channel: "c".into(),
    text: "t".into(),
    data: serde_json::json!({}),
    at: 0,
  };
  delivery.push(n.clone());
  // The same key again (e.g. re-sent by a restarted router): the ledger has it, never twice.
  delivery.push(n.clone());
  advance(5_000).await;
  let calls = calls.lock().unwrap().clone();
  assert_eq!(calls.len(), 3, "two rejections, then delivered");
  assert_eq!(calls[1] - calls[0], Duration::from_millis(500));
  assert_eq!(
    calls[2] - calls[1],
    Duration::from_millis(1_000),
    "exponential backoff"
  );
  assert_eq!(
    store.ledger_status("k1").unwrap().as_deref(),
    Some("delivered")
  );
  assert!(reported.lock().unwrap().is_empty());

  // A delivery that never succeeds is reported, not silently dropped.
  delivery.set(Some(Arc::new(|_n| {
    Box::pin(async { Err("gone".to_string()) })
  })));
  let n2 = Notification {
    key: "k2".into(),
    ..n
  };
  delivery.push(n2);
  advance(60_000).await;
  assert_eq!(
    store.ledger_status("k2").unwrap().as_deref(),
    Some("failed")
  );
  assert!(matches!(
    &reported.lock().unwrap()[..],
    [(_, EventPayload::DeliveryFailed { attempts: 5, .. })]
  ));
}

#[tokio::test(start_paused = true)]
async fn a_restarted_manager_resends_only_what_was_pending() {
  let dir = std::env::temp_dir().join(format!("ocs-router-restart-{}", std::process::id()));
  let _ = std::fs::remove_dir_all(&dir);
  std::fs::create_dir_all(&dir).unwrap();
  let path = dir.join("s.db");
  let path = path.to_str().unwrap();
  {
    // The first manager: delivers `launched`, then its channel hangs for the rest.
    let store = Arc::new(Store::open(path).unwrap());
    let mut r = rig(opts(), Arc::clone(&store));
    r.start("s", "/w", None);
    settle().await;
    assert_eq!(r.kinds(), ["launched"]);
    r.delivery
      .set(Some(Arc::new(|_n| Box::pin(std::future::pending()))));
    r.status("s", Status::Running, None);
    r.turn_end("s");
    r.status("s", Status::WaitingForInput, Some(StatusReason::TurnEnded));
    advance(6_000).await;
    assert_eq!(
      store
        .ledger_status("s:waiting-for-input:1")
        .unwrap()
        .as_deref(),
      Some("pending")
    );
  }
  // The second manager on the same store: only the pending one goes out.
  let store = Arc::new(Store::open(path).unwrap());
  let r = rig(opts(), Arc::clone(&store));
  // Delivery claims what the gone manager left pending.
  advance(100).await;
  assert_eq!(r.kinds(), ["waiting-for-input"]);
  assert_eq!(
    store.ledger_status("s:launched").unwrap().as_deref(),
    Some("delivered")
  );
  let _ = std::fs::remove_dir_all(&dir);
}
