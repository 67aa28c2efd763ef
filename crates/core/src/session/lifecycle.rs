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
  tokio::spawn(async move {
    let mut changes = s.subscribe_milestones();
    let mut turn_interrupted_at = None;
    loop {
      if s.is_done() {
        return;
      }
      let (status, created, updated, turn_started, spoke) = {
        let st = s.state();
        let info = st.info_header();
        (info.0, info.1, info.2, st.turn_started_at(), st.cli_spoke())
      };
      let now = now_ms();
      let mut next = u64::MAX;
      let ms = |d: Duration| d.as_millis() as u64;
      let starting = !spoke && matches!(status, Status::Starting | Status::Running);
      if let (Some(startup), true) = (t.startup, starting) {
        let due = created + ms(startup);
        if now >= due {
          note(
            &s,
            format!("no output from the CLI within {} ms of spawn", ms(startup)),
          );
          stop_hard(&s, EndReason::StartupTimeout);
          return;
        }
        next = next.min(due);
      }
      if let Some(idle) = t.idle {
        let due = updated + ms(idle);
        if now >= due {
          note(&s, format!("no activity for {} ms", ms(idle)));
          stop_gracefully(&s, &launch, EndReason::IdleTimeout, t.grace).await;
          return;
        }
        next = next.min(due);
      }
      if let (Some(turn), Status::Running) = (t.turn, status) {
        let due = turn_started + ms(turn);
        if now >= due && turn_interrupted_at != Some(turn_started) {
          turn_interrupted_at = Some(turn_started);
          note(
            &s,
            format!("the turn ran longer than {} ms; interrupting it", ms(turn)),
          );
          if s.state().request_turn_interrupt() {
            let _ = tokio::time::timeout(t.grace, launch.interrupt_turn(&s)).await;
          }
        } else if now < due {
          next = next.min(due);
        }
      }
      if let Some(limit) = t.memory_bytes {
        if let Some(rss) = s.group_rss() {
          if rss > limit {
            note(
              &s,
              format!("the process group uses {rss} bytes, over the {limit}-byte memory limit"),
            );
            stop_hard(&s, EndReason::MemoryLimit);
            return;
          }
        }
        next = next.min(now + ms(MEMORY_SAMPLE));
      }
      let sleep = tokio::time::sleep(Duration::from_millis(
        next.saturating_sub(now).min(86_400_000),
      ));
      tokio::select! {
        _ = sleep => {}
        _ = s.wait_done() => return,
        // A new turn brings a new turn deadline.
        _ = changes.changed(), if t.turn.is_some() => {}
      }
    }
  });
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
