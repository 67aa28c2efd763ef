//! Eviction at the live-session limit (`onLimit: 'evict-idle'`): before a new session is
//! admitted at `maxSessions`, the session that has waited for input longest (the oldest
//! `updatedAt` among `waiting-for-input` sessions with no pending permission request) is
//! stopped gracefully — `interrupted`, `endReason: 'evicted'`, resumable, with its
//! `interrupted` notification — and the new one takes its slot. A running session is never
//! evicted; with none waiting, the start fails with `E_LIMIT` as under `reject`.
//!
//! Races: a start that evicts holds `Manager::evicting` from the choice until its own
//! admission, so two starts never evict for one slot nor both fill it. The victim is chosen
//! and its stop requested under its state lock, so a session that started a turn meanwhile is
//! not taken. No registry lock is held while a session stops (lock order registry → state).

use crate::manager::Manager;
use crate::model::error::{Error, Result};
use crate::model::event::{Status, StatusReason};
use crate::model::options::OnLimit;
use crate::session::launch::Launch;
use crate::session::lifecycle::stop_gracefully;
use crate::session::live::LiveSession;
use crate::session::{EndReason, StopRequest};
use std::sync::Arc;
use std::time::Duration;

/// Held until the new session is admitted (nothing under `onLimit: 'reject'`).
pub(crate) type Room<'a> = Option<tokio::sync::MutexGuard<'a, ()>>;

impl Manager {
  /// Makes room for one more live session: under `onLimit: 'evict-idle'` at the limit, evicts
  /// the idlest waiting session (and waits until it is reaped). `E_LIMIT` when the limit is
  /// reached and no session waits for input.
  pub(crate) async fn make_room(&self) -> Result<Room<'_>> {
    if self.opts.on_limit != OnLimit::EvictIdle {
      return Ok(None);
    }
    let guard = self.evicting.lock().await;
    let live: Vec<(Arc<LiveSession>, Arc<Launch>)> = self
      .registry
      .entries()
      .into_iter()
      .filter(|(s, _)| !s.state().status().is_terminal())
      .collect();
    let max = self.opts.max_sessions as usize;
    if live.len() < max {
      return Ok(Some(guard));
    }
    let Some((victim, launch)) = claim_idlest(&live) else {
      return Err(Error::Limit(format!(
        "{} live sessions already (maxSessions = {max}) and none waits for input to be evicted \
         (onLimit: 'evict-idle' never stops a running session); close or kill one first",
        live.len()
      )));
    };
    tracing::info!(session = %victim.state().id(), "evicting the idlest waiting session to make room");
    let grace = Duration::from_millis(self.opts.interrupt_grace_ms);
    stop_gracefully(&victim, &launch, EndReason::Evicted, grace).await;
    victim.wait_done().await;
    Ok(Some(guard))
  }
}

/// The waiting session idle longest, its stop requested under its state lock (so it is still
/// waiting at that moment); `None` when no session waits for input.
fn claim_idlest(
  live: &[(Arc<LiveSession>, Arc<Launch>)],
) -> Option<(Arc<LiveSession>, Arc<Launch>)> {
  let evictable = |s: &LiveSession| {
    let st = s.state();
    let info = st.info();
    info.status == Status::WaitingForInput
      && info.status_reason != Some(StatusReason::Permission)
      && info.pending_permissions.is_empty()
      && !info.external
      && st.stop_request().is_none()
  };
  let mut candidates: Vec<_> = live
    .iter()
    .filter(|(s, _)| evictable(s))
    .map(|(s, l)| (s.state().info().updated_at, Arc::clone(s), Arc::clone(l)))
    .collect();
  candidates.sort_by_key(|(at, _, _)| *at);
  candidates.into_iter().find_map(|(_, s, l)| {
    let claimed = {
      let mut st = s.state();
      let info = st.info();
      let ok = info.status == Status::WaitingForInput
        && info.pending_permissions.is_empty()
        && st.stop_request().is_none();
      if ok {
        st.request_stop(StopRequest::Interrupt(EndReason::Evicted));
      }
      ok
    };
    claimed.then_some((s, l))
  })
}
