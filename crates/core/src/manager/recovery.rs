//! Automatic recovery (opt-in `recovery`): when a session goes `recovering` (its turn failed
//! on a transient model API error, `session::state::recovery`), the attempt is scheduled
//! here: after the backoff, the failed attempt is stored as a link of the resume chain and a
//! new process resumes the same conversation with the failed turn's prompt
//! (`Launch::retry`). The session keeps its id and name throughout.

use crate::manager::registry::Registry;
use crate::model::event::{Ev, EventPayload};
use crate::session::listeners::Listeners;
use crate::store::{Store, StoredSession};
use std::sync::{Arc, Weak};
use std::time::Duration;

/// Schedules an attempt for every `recovering` event of the manager's sessions.
pub(super) fn watch(registry: &Arc<Registry>, store: &Arc<Store>, listeners: &Arc<Listeners>) {
  let registry = Arc::downgrade(registry);
  let store = Arc::downgrade(store);
  let handle = tokio::runtime::Handle::try_current().ok();
  listeners.subscribe(Arc::new(move |ev: &Ev| {
    let EventPayload::Recovering { delay_ms, .. } = ev.payload else {
      return;
    };
    let Some(rt) = tokio::runtime::Handle::try_current()
      .ok()
      .or(handle.clone())
    else {
      tracing::warn!(session = %ev.session_id, "no async runtime to run a recovery attempt on");
      return;
    };
    let id = ev.session_id.to_string();
    let (registry, store) = (Weak::clone(&registry), Weak::clone(&store));
    rt.spawn(attempt(
      registry,
      store,
      id,
      Duration::from_millis(delay_ms),
    ));
  }));
}

/// After `delay`: the session (if still `recovering`) resumes its conversation with the
/// failed turn's prompt; a failed start fails the session with the reason.
async fn attempt(registry: Weak<Registry>, store: Weak<Store>, id: String, delay: Duration) {
  tokio::time::sleep(delay).await;
  let Some((s, launch)) = registry.upgrade().and_then(|r| r.find(&id).ok()) else {
    return;
  };
  let link_id = uuid::Uuid::new_v4().to_string();
  let Some((prompt, link)) = s.update(|st| match st.begin_recovery_attempt(link_id.clone()) {
    Some((prompt, link, evs)) => (Some((prompt, link)), evs),
    None => (None, Vec::new()),
  }) else {
    // Stopped while it waited: the stop decided its status.
    return;
  };
  if let Some(store) = store.upgrade() {
    // One lock of the state at a time (a second `state()` in one expression would deadlock).
    let (summary, thread_usage) = {
      let st = s.state();
      (st.summary(), st.thread_usage())
    };
    let stored = StoredSession {
      info: link,
      summary,
      options: s.stored_options(),
      thread_usage,
      pid_start: None,
    };
    let written = tokio::task::spawn_blocking(move || store.upsert(&stored)).await;
    if let Ok(Err(e)) = written {
      tracing::warn!(session = %id, error = %e, "cannot store the failed attempt's link");
    }
  }
  tracing::info!(session = %id, link = %link_id, "recovery attempt: resuming the conversation");
  if let Err(e) = launch.retry(&s, &prompt).await {
    if !s.has_process() {
      s.fail_without_process(format!("the recovery attempt could not start: {e}"));
    }
  }
}
