//! The router's timers: at most one pending per session and kind, each carrying the
//! generation it was armed for, so that a timer made stale by a later event does nothing when
//! it fires.

use super::{Task, Timer};
use crate::model::event::{now_ms, Status};
use serde_json::json;
use std::time::Duration;

/// The longest timer armed: 2^35 ms (about 397 days). The timer wheel refuses (panics on)
/// deadlines more than 2^36 - 1 ms past the time it last advanced to, which may lag; a timer
/// option above this is never due while this process runs, so such a timer is not armed.
pub(crate) const MAX_TIMER: Duration = Duration::from_millis(1 << 35);

impl Task {
  /// Arms the session's timer of this kind, replacing a pending one (whose generation is
  /// stale by now: `fire` would ignore it). One beyond [`MAX_TIMER`] is not armed.
  pub(super) fn timer(&mut self, id: &str, which: Timer, gen: u64, after: Duration) {
    let slot = (id.to_owned(), which);
    if let Some(key) = self.timer_keys.remove(&slot) {
      self.timers.remove(&key);
    }
    if after > MAX_TIMER {
      return;
    }
    let key = self.timers.insert((id.to_owned(), which, gen), after);
    self.timer_keys.insert(slot, key);
  }

  pub(super) fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
  }

  /// A timer expired: acts if it is still current for the session.
  pub(super) fn fire(&mut self, id: &str, which: Timer, gen: u64) {
    let Some(s) = self.sessions.get_mut(id) else {
      return;
    };
    match which {
      Timer::Waiting if gen == s.waiting_gen && s.status == Some(Status::WaitingForInput) => {
        self.waiting_for_input(id)
      }
      Timer::SafetyNet if gen == s.safety_gen && s.status == Some(Status::Running) => {
        self.safety_net(id, gen)
      }
      Timer::LongRunning
        if s.status.is_some_and(|st| !st.is_terminal()) && !s.long_running_sent =>
      {
        self.long_running(id)
      }
      Timer::Foreground if gen == s.fg_gen => {
        s.fg_armed = false;
        self.flush_foreground(id);
      }
      _ => {}
    }
  }

  /// A running session went quiet: `waiting-for-input` (idle) once it has been quiet for the
  /// whole safety-net time, else the timer again for the rest of it.
  fn safety_net(&mut self, id: &str, gen: u64) {
    let Some(s) = self.sessions.get_mut(id) else {
      return;
    };
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

  /// The one-time reminder that a session has been running long.
  fn long_running(&mut self, id: &str) {
    let Some(s) = self.sessions.get_mut(id) else {
      return;
    };
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
}
