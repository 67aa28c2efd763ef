//! How sessions stop: the graceful stop (`interrupt`, `shutdown`, idle timeout), the hard stop
//! (`kill`, startup timeout, memory limit), and the per-session watchdog that applies the
//! timeouts. The watchdog sleeps until the next deadline; it does not poll (except for the
//! optional memory limit, which samples `/proc`).

use crate::model::event::{now_ms, EventPayload, Status};
use crate::session::launch::Launch;
use crate::session::live::LiveSession;
use crate::session::{EndReason, StopRequest};
use nix::sys::signal::Signal;
use std::sync::Arc;
use std::time::Duration;

/// The watchdog's limits; `None` switches one off.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timeouts {
  /// No output from the CLI within this after spawn → `killed`, `startup-timeout`.
  pub startup: Option<Duration>,
  /// No activity (events) for this long → graceful stop, `interrupted`, `idle-timeout`.
  pub idle: Option<Duration>,
  /// A turn running this long is interrupted (the session goes on).
  pub turn: Option<Duration>,
  /// The process group's RSS over this many bytes → `killed`, `memory-limit`.
  pub memory_bytes: Option<u64>,
  /// The grace period of graceful stops.
  pub grace: Duration,
}

/// How often the memory limit samples `/proc`.
const MEMORY_SAMPLE: Duration = Duration::from_secs(2);

/// The graceful stop of `interrupt` and `shutdown`.
pub(crate) async fn stop_gracefully(
  s: &Arc<LiveSession>,
  launch: &Launch,
  why: EndReason,
  grace: Duration,
) {
  if s.is_done() {
    return;
  }
  let turn_running = {
    let mut st = s.state();
    let running = matches!(st.status(), Status::Starting | Status::Running);
    st.request_stop(StopRequest::Interrupt(why));
    running
  };
  if s.end_without_process() {
    return;
  }
  let start = tokio::time::Instant::now();
  let half = start + grace / 2;
  if turn_running {
    let _ = tokio::time::timeout_at(half, launch.interrupt_turn(s)).await;
  }
  s.close_stdin().await;
  if tokio::time::timeout_at(half, s.wait_done()).await.is_ok() {
    return;
  }
  s.signal(Signal::SIGINT);
  if tokio::time::timeout_at(start + grace, s.wait_done())
    .await
    .is_ok()
  {
    return;
  }
  s.state().mark_forced_stop();
  s.signal(Signal::SIGKILL);
  s.wait_done().await;
}

/// SIGKILL to the session's process group, or, with no process, the end right away.
pub(crate) fn stop_hard(s: &LiveSession, why: EndReason) {
  if s.is_done() {
    return;
  }
  s.state().request_stop(StopRequest::Kill(why));
  if !s.signal(Signal::SIGKILL) {
    s.end_without_process();
  }
}

/// Starts the watchdog of one session; it ends with the session.
pub(crate) fn watch(s: Arc<LiveSession>, launch: Arc<Launch>, t: Timeouts) {
  if t.startup.is_none() && t.idle.is_none() && t.turn.is_none() && t.memory_bytes.is_none() {
    return;
  }
  let dog = Watchdog {
    s,
    launch,
    t,
    turn_interrupted_at: None,
  };
  tokio::spawn(dog.run());
}

/// What one check of the watchdog found.
enum Check {
  /// It stopped the session: the watchdog ends.
  Stopped,
  /// Check again at this time (ms since the epoch).
  Until(u64),
  /// Nothing to watch now.
  Off,
}

/// What the checks read from the session, taken under one state lock.
struct Snap {
  status: Status,
  created: u64,
  updated: u64,
  turn_started: u64,
  spoke: bool,
}

struct Watchdog {
  s: Arc<LiveSession>,
  launch: Arc<Launch>,
  t: Timeouts,
  /// The start of the turn it last interrupted (one interrupt per turn).
  turn_interrupted_at: Option<u64>,
}

fn ms(d: Duration) -> u64 {
  d.as_millis() as u64
}

impl Watchdog {
  async fn run(mut self) {
    // Only a turn deadline moves with the milestones (turn ends, status changes); without
    // one, nothing subscribes and the session does not signal them (`LiveSession::update`).
    let mut changes = self.t.turn.map(|_| self.s.subscribe_milestones());
    loop {
      if self.s.is_done() {
        return;
      }
      let snap = {
        let st = self.s.state();
        let (status, created, updated) = st.info_header();
        let (turn_started, spoke) = (st.turn_started_at(), st.cli_spoke());
        Snap {
          status,
          created,
          updated,
          turn_started,
          spoke,
        }
      };
      let now = now_ms();
      let mut next = u64::MAX;
      let mut stopped = |c: Check| match c {
        Check::Stopped => true,
        Check::Until(due) => {
          next = next.min(due);
          false
        }
        Check::Off => false,
      };
      if stopped(self.startup(&snap, now))
        || stopped(self.idle(&snap, now).await)
        || stopped(self.turn(&snap, now).await)
        || stopped(self.memory(now))
      {
        return;
      }
      let sleep = tokio::time::sleep(Duration::from_millis(
        next.saturating_sub(now).min(86_400_000),
      ));
      tokio::select! {
        _ = sleep => {}
        _ = self.s.wait_done() => return,
        // A new turn brings a new turn deadline.
        _ = async { changes.as_mut()?.changed().await.ok() }, if changes.is_some() => {}
      }
    }
  }

  /// No output from the CLI within `startupTimeoutMs` of spawn → `killed`.
  fn startup(&self, snap: &Snap, now: u64) -> Check {
    let starting = !snap.spoke && matches!(snap.status, Status::Starting | Status::Running);
    let Some(startup) = self.t.startup.filter(|_| starting) else {
      return Check::Off;
    };
    let due = snap.created + ms(startup);
    if now < due {
      return Check::Until(due);
    }
    let why = format!("no output from the CLI within {} ms of spawn", ms(startup));
    note(&self.s, why);
    stop_hard(&self.s, EndReason::StartupTimeout);
    Check::Stopped
  }

  /// No activity for `idleTimeoutMs` → graceful stop, `interrupted`.
  async fn idle(&self, snap: &Snap, now: u64) -> Check {
    let Some(idle) = self.t.idle else {
      return Check::Off;
    };
    let due = snap.updated + ms(idle);
    if now < due {
      return Check::Until(due);
    }
    note(&self.s, format!("no activity for {} ms", ms(idle)));
    stop_gracefully(&self.s, &self.launch, EndReason::IdleTimeout, self.t.grace).await;
    Check::Stopped
  }

  /// A turn running longer than `turnTimeoutMs` is interrupted, once; the session goes on.
  async fn turn(&mut self, snap: &Snap, now: u64) -> Check {
    let (Some(turn), Status::Running) = (self.t.turn, snap.status) else {
      return Check::Off;
    };
    let due = snap.turn_started + ms(turn);
    if now < due {
      return Check::Until(due);
    }
    if self.turn_interrupted_at != Some(snap.turn_started) {
      self.turn_interrupted_at = Some(snap.turn_started);
      let why = format!("the turn ran longer than {} ms; interrupting it", ms(turn));
      note(&self.s, why);
      if self.s.state().request_turn_interrupt() {
        let _ = tokio::time::timeout(self.t.grace, self.launch.interrupt_turn(&self.s)).await;
      }
    }
    Check::Off
  }

  /// The process group's memory over `memoryLimitMb` → `killed`; sampled every 2 s.
  fn memory(&self, now: u64) -> Check {
    let Some(limit) = self.t.memory_bytes else {
      return Check::Off;
    };
    match self.s.group_rss() {
      Some(rss) if rss > limit => {
        let why = format!("the process group uses {rss} bytes, over the {limit}-byte memory limit");
        note(&self.s, why);
        stop_hard(&self.s, EndReason::MemoryLimit);
        Check::Stopped
      }
      _ => Check::Until(now + ms(MEMORY_SAMPLE)),
    }
  }
}

/// A non-fatal `error` event saying why the watchdog acted.
fn note(s: &LiveSession, message: String) {
  tracing::warn!(session = %s.state().id(), "{message}");
  s.update(|st| {
    (
      (),
      vec![st.record(EventPayload::Error {
        message,
        fatal: false,
      })],
    )
  });
}
