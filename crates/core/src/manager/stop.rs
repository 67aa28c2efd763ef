//! How sessions stop: `close` (the conversation ends), `interrupt` (graceful, resumable),
//! `kill` (hard), and the manager-wide `shutdown` / `kill_all_now`. The mechanics (signals,
//! grace periods) are in `session::lifecycle`.

use crate::manager::{Manager, Stats};
use crate::model::error::Result;
use crate::session::lifecycle::{stop_gracefully, stop_hard};
use crate::session::live::LiveSession;
use crate::session::{EndReason, SessionInfo, StopRequest};
use std::time::Duration;

impl Manager {
  /// Ends the conversation: stdin EOF, then waits for the CLI to exit (`completed` on exit 0).
  /// After `closeTimeoutMs` the process group is killed. A `codex-exec` session between turns
  /// completes at once. A finished session is returned as is (once its state is on disk).
  pub async fn close(&self, r: &str) -> Result<SessionInfo> {
    let (s, _) = match self.registry.find(r) {
      Ok(found) => found,
      Err(e) => return self.stored_finished(r, e).await,
    };
    if !s.is_done() {
      self.close_live(&s).await;
    }
    // What close reports is on disk, also for a session that had ended (`E_STORE` if not).
    self.writer.flush().await?;
    let info = s.state().info();
    Ok(info)
  }

  /// Closes a live session: stdin EOF, then SIGKILL after `closeTimeoutMs`.
  async fn close_live(&self, s: &LiveSession) {
    s.state().request_stop(StopRequest::Close);
    if !s.end_without_process() {
      s.close_stdin().await;
      let wait = Duration::from_millis(self.opts.close_timeout_ms);
      if tokio::time::timeout(wait, s.wait_done()).await.is_err() {
        // The CLI hangs: the grace ran out, `killed` with `endReason: close-timeout`.
        s.state().mark_forced_stop();
        stop_hard(s, EndReason::CloseTimeout);
        s.wait_done().await;
      }
    }
  }

  /// Graceful stop → `interrupted` (resumable): the protocol's interrupt (Claude control
  /// request, Codex `turn/interrupt`, codex-exec SIGINT), stdin EOF, SIGINT to the process group
  /// at half the grace period, SIGKILL when it expires (`forcedStop` records that). A session
  /// between `codex-exec` turns stops at once. A finished session is returned as is (its status
  /// says it was not interrupted).
  pub async fn interrupt(&self, r: &str, grace: Option<Duration>) -> Result<SessionInfo> {
    let (s, launch) = match self.registry.find(r) {
      Ok(found) => found,
      Err(e) => return self.stored_finished(r, e).await,
    };
    let grace = grace.unwrap_or(Duration::from_millis(self.opts.interrupt_grace_ms));
    stop_gracefully(&s, &launch, EndReason::User, grace).await;
    self.writer.flush().await?;
    let info = s.state().info();
    Ok(info)
  }

  /// Hard stop: SIGKILL to the whole process group; resolves once reaped (`killed`).
  /// A finished session is returned as is.
  pub async fn kill(&self, r: &str) -> Result<SessionInfo> {
    let (s, _) = match self.registry.find(r) {
      Ok(found) => found,
      Err(e) => return self.stored_finished(r, e).await,
    };
    stop_hard(&s, EndReason::User);
    s.wait_done().await;
    self.writer.flush().await?;
    let info = s.state().info();
    Ok(info)
  }

  /// Refuses new sessions and stops every live one gracefully (as `interrupt`, `endReason:
  /// shutdown`, SIGKILL after `grace`); resolves once all are reaped.
  pub async fn shutdown(&self, grace: Option<Duration>) -> Result<Stats> {
    self.registry.close();
    let grace = grace.unwrap_or(Duration::from_millis(self.opts.interrupt_grace_ms));
    let live: Vec<_> = self
      .registry
      .entries()
      .into_iter()
      .filter(|(s, _)| !s.is_done())
      .collect();
    let mut stops = tokio::task::JoinSet::new();
    for (s, launch) in live {
      stops.spawn(async move { stop_gracefully(&s, &launch, EndReason::Shutdown, grace).await });
    }
    while stops.join_next().await.is_some() {}
    // Every session's end is on disk, or `E_STORE` (the failure was also reported as error
    // events and an `E_STORE` log record; the writer keeps retrying while the process lives).
    self.writer.flush().await?;
    Ok(self.stats())
  }

  /// Synchronous last resort (e.g. the host is exiting): SIGKILL to every live process group.
  pub fn kill_all_now(&self) {
    self.registry.close();
    for s in self.registry.all() {
      stop_hard(&s, EndReason::Shutdown);
    }
  }
}
