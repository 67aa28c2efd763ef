//! Notification routing: turns each session's event stream into the notifications docs/design.md
//! names, with a debounced, once-per-turn `waiting-for-input`, a safety net for agents that go
//! quiet mid-turn, a one-time `long-running` reminder, terminal notifications with failure
//! context, and foreground streaming of output. One task owns all of it and is fed through a
//! channel, so no session lock is ever held while it works; timers are tokio sleeps (testable
//! on a paused clock). Delivery and exactly-once are `delivery`'s.

use crate::model::event::{now_ms, Ev, EventPayload, Status};
use crate::model::options::NotificationOptions;
use crate::notify::delivery::{Delivery, Report};
use crate::notify::{resolve_channel, Notification};
use serde_json::{json, Value};
use std::collections::HashMap;
use tokio::sync::{mpsc, oneshot};
use tokio_util::time::{delay_queue, DelayQueue};

mod events;
mod session;
mod text;
mod timers;

use session::Session;

/// Lines of output kept per session for foreground catch-up.
const CATCH_UP_LINES: usize = 500;
/// stderr lines carried in a `failed` notification.
const STDERR_LINES: usize = 10;
/// Output lines carried in terminal notifications.
const LAST_LINES: usize = 5;

/// What the router is told.
pub enum Input {
  /// A session started (before its first event).
  Started {
    id: String,
    name: Option<String>,
    workdir: String,
    origin_channel: Option<String>,
  },
  /// One event of a session.
  Event(Ev),
  /// A message was sent to the session.
  Sent {
    id: String,
    text: String,
    user_initiated: bool,
  },
  /// `foreground(ref, channel)`: reply with the output the channel missed.
  Foreground {
    id: String,
    channel: String,
    reply: oneshot::Sender<Vec<String>>,
  },
  /// `background(ref, channel)`.
  Background { id: String, channel: String },
  /// A session a dead manager left live, just marked `interrupted` (`manager-restart`) by
  /// this one: its terminal notification, once (the ledger's key is the usual one).
  Recovered(Box<crate::model::info::SessionInfo>),
}

/// The router's timers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Timer {
  Waiting,
  SafetyNet,
  LongRunning,
  Foreground,
}

/// A handle to the router task.
#[derive(Clone)]
pub struct Router {
  tx: mpsc::UnboundedSender<Input>,
}

impl Router {
  /// Starts the router task (needs a tokio runtime).
  pub fn start(opts: NotificationOptions, delivery: Delivery, report: Report) -> Router {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut task = Task {
      opts,
      delivery,
      report,
      sessions: HashMap::new(),
      timers: DelayQueue::new(),
      timer_keys: HashMap::new(),
    };
    tokio::spawn(async move {
      loop {
        tokio::select! {
          input = rx.recv() => match input {
            Some(input) => task.handle(input),
            None => break,
          },
          // An empty queue gives `None`: the branch sits this round out.
          Some(expired) = std::future::poll_fn(|cx| task.timers.poll_expired(cx)) => {
            let (id, which, gen) = expired.into_inner();
            task.timer_keys.remove(&(id.clone(), which));
            task.fire(&id, which, gen);
          }
        }
      }
    });
    Router { tx }
  }

  pub fn send(&self, input: Input) {
    let _ = self.tx.send(input);
  }
}

struct Task {
  opts: NotificationOptions,
  delivery: Delivery,
  report: Report,
  sessions: HashMap<String, Session>,
  /// Pending timers, at most one per session and kind (re-arming replaces it).
  timers: DelayQueue<(String, Timer, u64)>,
  timer_keys: HashMap<(String, Timer), delay_queue::Key>,
}

impl Task {
  fn handle(&mut self, input: Input) {
    match input {
      Input::Started {
        id,
        name,
        workdir,
        origin_channel,
      } => self.started(id, name, workdir, origin_channel),
      Input::Event(ev) => self.event(ev),
      Input::Sent {
        id,
        text,
        user_initiated,
      } => self.sent(&id, &text, user_initiated),
      Input::Foreground { id, channel, reply } => {
        let missed = self.foreground(&id, channel);
        let _ = reply.send(missed);
      }
      Input::Background { id, channel } => {
        if let Some(s) = self.sessions.get_mut(&id) {
          s.foreground.remove(&channel);
        }
      }
      Input::Recovered(info) => self.recovered(*info),
    }
  }

  /// A recovered session's `interrupted` notification, with what it had done (turns, cost,
  /// its last assistant text as `lastLines`).
  fn recovered(&mut self, info: crate::model::info::SessionInfo) {
    let mut s = Session {
      name: info.name.clone(),
      workdir: info.workdir.clone(),
      origin_channel: info.origin.as_ref().and_then(|o| o.channel.clone()),
      started: info.created_at,
      turn: info.turns,
      cost: info.total_cost_usd,
      ..Session::default()
    };
    if let Some(text) = &info.last_assistant_text {
      s.push_text(text);
    }
    self.sessions.insert(info.id.clone(), s);
    let end = info.end_reason.map(|e| {
      serde_json::to_value(e)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
    });
    self.terminal(&info.id, Status::Interrupted, end);
  }

  /// A new session: `launched`, and the long-running reminder armed.
  fn started(
    &mut self,
    id: String,
    name: Option<String>,
    workdir: String,
    origin_channel: Option<String>,
  ) {
    let s = Session {
      name,
      workdir,
      origin_channel,
      started: now_ms(),
      ..Session::default()
    };
    let label = s.label(&id);
    self.sessions.insert(id.clone(), s);
    self.notify(
      &id,
      "launched",
      format!("{id}:launched"),
      format!("🚀 Session {label} launched"),
      json!({}),
    );
    if self.opts.long_running_ms > 0 {
      self.timer(
        &id,
        Timer::LongRunning,
        0,
        Self::ms(self.opts.long_running_ms),
      );
    }
  }

  /// A message sent to the session: `responded`.
  fn sent(&mut self, id: &str, text: &str, user_initiated: bool) {
    let Some(s) = self.sessions.get(id) else {
      return;
    };
    let (turn, label) = (s.turn, s.label(id));
    self.notify(
      id,
      "responded",
      format!("{id}:responded:{turn}"),
      format!("↩️ Session {label} got a message: {}", preview(text)),
      json!({ "text": text, "userInitiated": user_initiated, "turn": turn }),
    );
  }

  /// A channel comes to the foreground: the lines it missed, and from now on its output.
  fn foreground(&mut self, id: &str, channel: String) -> Vec<String> {
    let Some(s) = self.sessions.get_mut(id) else {
      return Vec::new();
    };
    let from = s.foreground.get(&channel).copied().unwrap_or(0);
    let missed = s.lines_after(from);
    s.foreground.insert(channel, s.line_no);
    missed
  }

  /// A notification to the session's own channel (origin, workdir prefix, fallback).
  fn notify(&mut self, id: &str, kind: &str, key: String, text: String, data: Value) {
    let Some(s) = self.sessions.get(id) else {
      return;
    };
    match resolve_channel(&self.opts, s.origin_channel.as_deref(), &s.workdir) {
      Some(channel) => self.notify_to(id, &channel, kind, key, text, data),
      None => (self.report)(
        id,
        EventPayload::NotificationDropped {
          key,
          notification: kind.to_owned(),
        },
      ),
    }
  }

  fn notify_to(
    &mut self,
    id: &str,
    channel: &str,
    kind: &str,
    key: String,
    text: String,
    data: Value,
  ) {
    let name = self.sessions.get(id).and_then(|s| s.name.clone());
    let n = Notification {
      key,
      kind: kind.to_owned(),
      session_id: id.to_owned(),
      session_name: name,
      channel: channel.to_owned(),
      text,
      data,
      at: now_ms(),
    };
    // Delivery writes it to the ledger (never twice) and sends it.
    self.delivery.push(n);
  }
}

fn preview(s: &str) -> String {
  crate::process::truncate(s.trim(), 200)
}

fn preview_lines(lines: &[String]) -> String {
  if lines.is_empty() {
    String::new()
  } else {
    format!("\nLast output:\n{}", lines.join("\n"))
  }
}
