//! Notification routing: turns each session's event stream into the notifications DESIGN.md
//! names, with a debounced, once-per-turn `waiting-for-input`, a safety net for agents that go
//! quiet mid-turn, a one-time `long-running` reminder, terminal notifications with failure
//! context, and foreground streaming of output. One task owns all of it and is fed through a
//! channel, so no session lock is ever held while it works; timers are tokio sleeps (testable
//! on a paused clock). Delivery and exactly-once are `delivery`'s.

use crate::model::event::{now_ms, Ev, EventPayload, Status, StatusReason};
use crate::model::options::NotificationOptions;
use crate::notify::delivery::{Delivery, Report};
use crate::notify::{resolve_channel, Notification};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tokio_util::time::{delay_queue, DelayQueue};

mod text;

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

#[derive(Default)]
struct Session {
  name: Option<String>,
  workdir: String,
  origin_channel: Option<String>,
  status: Option<Status>,
  /// Turns ended so far.
  turn: u32,
  waiting_gen: u64,
  waiting_reason: Option<StatusReason>,
  safety_gen: u64,
  safety_armed: bool,
  last_activity: Option<Instant>,
  long_running_sent: bool,
  started: u64,
  turn_text: String,
  lines: VecDeque<(u64, String)>,
  line_no: u64,
  foreground: BTreeMap<String, u64>,
  fg_gen: u64,
  fg_armed: bool,
  cost: f64,
  stderr: VecDeque<String>,
  exit_code: Option<i32>,
  signal: Option<i32>,
  last_error: Option<String>,
  permission: Option<(String, String, Value)>,
}

impl Session {
  fn label(&self, id: &str) -> String {
    self
      .name
      .clone()
      .unwrap_or_else(|| id.chars().take(8).collect())
  }

  fn last_lines(&self, n: usize) -> Vec<String> {
    let skip = self.lines.len().saturating_sub(n);
    self
      .lines
      .iter()
      .skip(skip)
      .map(|(_, l)| l.clone())
      .collect()
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
  /// Arms the session's timer of this kind, replacing a pending one (whose generation is
  /// stale by now: `fire` would ignore it).
  fn timer(&mut self, id: &str, which: Timer, gen: u64, after: Duration) {
    let slot = (id.to_owned(), which);
    if let Some(key) = self.timer_keys.remove(&slot) {
      self.timers.remove(&key);
    }
    let key = self.timers.insert((id.to_owned(), which, gen), after);
    self.timer_keys.insert(slot, key);
  }

  fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
  }

  fn handle(&mut self, input: Input) {
    match input {
      Input::Started {
        id,
        name,
        workdir,
        origin_channel,
      } => {
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
      Input::Event(ev) => self.event(ev),
      Input::Sent {
        id,
        text,
        user_initiated,
      } => {
        let Some(s) = self.sessions.get(&id) else {
          return;
        };
        let (turn, label) = (s.turn, s.label(&id));
        self.notify(
          &id,
          "responded",
          format!("{id}:responded:{turn}"),
          format!("↩️ Session {label} got a message: {}", preview(&text)),
          json!({ "text": text, "userInitiated": user_initiated, "turn": turn }),
        );
      }
      Input::Foreground { id, channel, reply } => {
        let Some(s) = self.sessions.get_mut(&id) else {
          let _ = reply.send(Vec::new());
          return;
        };
        let from = s.foreground.get(&channel).copied().unwrap_or(0);
        let missed = s
          .lines
          .iter()
          .filter(|(n, _)| *n > from)
          .map(|(_, l)| l.clone())
          .collect();
        s.foreground.insert(channel, s.line_no);
        let _ = reply.send(missed);
      }
      Input::Background { id, channel } => {
        if let Some(s) = self.sessions.get_mut(&id) {
          s.foreground.remove(&channel);
        }
      }
    }
  }

  fn event(&mut self, ev: Ev) {
    let id: &str = &ev.session_id;
    let Some(s) = self.sessions.get_mut(id) else {
      return;
    };
    s.last_activity = Some(Instant::now());
    match &ev.payload {
      EventPayload::Status {
        status,
        reason,
        end_reason,
        ..
      } => {
        let (status, reason, end_reason) = (*status, *reason, *end_reason);
        s.status = Some(status);
        match status {
          Status::Running => {
            s.waiting_gen += 1;
            s.waiting_reason = None;
            if self.opts.safety_net_ms > 0 && !s.safety_armed {
              s.safety_armed = true;
              s.safety_gen += 1;
              let gen = s.safety_gen;
              self.timer(id, Timer::SafetyNet, gen, Self::ms(self.opts.safety_net_ms));
            }
          }
          Status::WaitingForInput => {
            s.waiting_gen += 1;
            s.waiting_reason = reason;
            s.safety_armed = false;
            s.safety_gen += 1;
            let gen = s.waiting_gen;
            self.timer(
              id,
              Timer::Waiting,
              gen,
              Self::ms(self.opts.waiting_debounce_ms),
            );
          }
          Status::Starting => {}
          _ => {
            let end = end_reason
              .and_then(|e| serde_json::to_value(e).ok())
              .and_then(|v| v.as_str().map(str::to_owned));
            self.terminal(id, status, end)
          }
        }
      }
      EventPayload::AssistantText { text, .. } => {
        if !s.turn_text.is_empty() {
          s.turn_text.push('\n');
        }
        s.turn_text.push_str(text);
        for line in text.lines() {
          s.line_no += 1;
          s.lines.push_back((s.line_no, line.to_owned()));
          if s.lines.len() > CATCH_UP_LINES {
            s.lines.pop_front();
          }
        }
        if !s.foreground.is_empty() && !s.fg_armed {
          s.fg_armed = true;
          s.fg_gen += 1;
          let gen = s.fg_gen;
          self.timer(
            id,
            Timer::Foreground,
            gen,
            Self::ms(self.opts.foreground_debounce_ms),
          );
        }
      }
      EventPayload::ToolUse {
        tool_use_id,
        name,
        input,
        ..
      } => {
        let label = s.label(id);
        for channel in s.foreground.keys().cloned().collect::<Vec<_>>() {
          self.notify_to(
            id,
            &channel,
            "tool-use",
            format!("{id}:tool-use:{tool_use_id}:{channel}"),
            format!("🔧 {label}: {name} {}", preview(&input.to_string())),
            json!({ "toolUseId": tool_use_id, "name": name, "input": input.clone() }),
          );
        }
      }
      EventPayload::TurnCompleted { cost_usd, .. } => {
        s.turn += 1;
        s.cost += *cost_usd;
      }
      EventPayload::Stderr { line } => {
        s.stderr.push_back(line.clone());
        if s.stderr.len() > STDERR_LINES {
          s.stderr.pop_front();
        }
      }
      EventPayload::Exit { exit_code, signal } => {
        s.exit_code = *exit_code;
        s.signal = *signal;
      }
      EventPayload::Error {
        message,
        fatal: true,
      } => s.last_error = Some(message.clone()),
      EventPayload::PermissionRequest {
        request_id,
        tool_name,
        input,
        ..
      } => {
        s.permission = Some((request_id.clone(), tool_name.clone(), input.clone()));
      }
      EventPayload::BudgetExhausted {
        total_cost_usd,
        max_budget_usd,
      } => {
        let label = s.label(id);
        self.notify(
          id,
          "budget-exhausted",
          format!("{id}:budget-exhausted"),
          format!("💸 Session {label} used its budget: ${total_cost_usd:.4} of ${max_budget_usd:.4}; it is being stopped"),
          json!({ "totalCostUsd": total_cost_usd, "maxBudgetUsd": max_budget_usd }),
        );
      }
      EventPayload::AutoRespondLimit { count, max } => {
        let (label, turn) = (s.label(id), s.turn);
        self.notify(
          id,
          "auto-respond-limit",
          format!("{id}:auto-respond-limit:{turn}"),
          format!(
            "✋ Session {label} reached {max} automatic replies; a person has to answer next"
          ),
          json!({ "count": count, "max": max }),
        );
      }
      _ => {}
    }
  }

  fn fire(&mut self, id: &str, which: Timer, gen: u64) {
    let Some(s) = self.sessions.get_mut(id) else {
      return;
    };
    match which {
      Timer::Waiting if gen == s.waiting_gen && s.status == Some(Status::WaitingForInput) => {
        let reason = s.waiting_reason.unwrap_or(StatusReason::TurnEnded);
        let (label, turn) = (s.label(id), s.turn);
        let last = s.last_lines(1).pop().unwrap_or_default();
        let (key, text, data) = match (reason, s.permission.clone()) {
          (StatusReason::Permission, Some((req, tool, input))) => (
            format!("{id}:waiting-for-input:{turn}:permission:{req}"),
            format!(
              "🔐 Session {label} wants to use {tool}: {}",
              preview(&input.to_string())
            ),
            json!({ "reason": "permission", "turn": turn, "permission": { "requestId": req, "toolName": tool, "input": input } }),
          ),
          (StatusReason::Question, _) => (
            format!("{id}:waiting-for-input:{turn}"),
            format!("❓ Session {label} asks: {}", s.turn_text.trim()),
            json!({ "reason": "question", "turn": turn, "question": s.turn_text.trim() }),
          ),
          _ => (
            format!("{id}:waiting-for-input:{turn}"),
            format!(
              "⏸️ Session {label} is waiting for input. Last: {}",
              preview(&last)
            ),
            json!({ "reason": "turn-ended", "turn": turn, "lastLine": last }),
          ),
        };
        s.turn_text.clear();
        self.notify(id, "waiting-for-input", key, text, data);
      }
      Timer::SafetyNet if gen == s.safety_gen && s.status == Some(Status::Running) => {
        let quiet = s.last_activity.map(|t| t.elapsed()).unwrap_or_default();
        let limit = Self::ms(self.opts.safety_net_ms);
        if quiet >= limit {
          s.safety_armed = false;
          let (label, turn) = (s.label(id), s.turn);
          self.notify(
            id,
            "waiting-for-input",
            format!("{id}:waiting-for-input:{turn}:idle"),
            format!(
              "💤 Session {label} has been quiet for {} s; it may be waiting",
              limit.as_secs()
            ),
            json!({ "reason": "idle", "turn": turn, "quietMs": quiet.as_millis() as u64 }),
          );
        } else {
          self.timer(id, Timer::SafetyNet, gen, limit - quiet);
        }
      }
      Timer::LongRunning
        if s.status.is_some_and(|st| !st.is_terminal()) && !s.long_running_sent =>
      {
        s.long_running_sent = true;
        let label = s.label(id);
        let running_ms = now_ms().saturating_sub(s.started);
        let minutes = self.opts.long_running_ms / 60_000;
        self.notify(
          id,
          "long-running",
          format!("{id}:long-running"),
          format!("⏳ Session {label} has been running for {minutes} min"),
          json!({ "runningMs": running_ms }),
        );
      }
      Timer::Foreground if gen == s.fg_gen => {
        s.fg_armed = false;
        self.flush_foreground(id);
      }
      _ => {}
    }
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
