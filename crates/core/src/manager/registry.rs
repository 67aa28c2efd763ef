//! The sessions a manager holds in memory: admission (the live-session limit, live names
//! unique per owner, refusal after shutdown), lookup by id, name or backend session id (all
//! sessions, or one owner's), and forgetting finished sessions after `finishedTtlMs`.
//! Notification routing holds it weakly to report delivery problems on a session.

use crate::model::error::{Error, Result};
use crate::session::launch::Launch;
use crate::session::live::LiveSession;
use crate::session::SessionState;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// One registered session and how to start its processes.
pub(crate) struct Entry {
  pub(crate) live: Arc<LiveSession>,
  pub(crate) launch: Arc<Launch>,
}

/// The registry. Lock order: the registry's lock is taken before any session's state lock,
/// never while holding one.
pub(crate) struct Registry {
  list: RwLock<Vec<Entry>>,
  /// Set by `shutdown` / `kill_all_now`: no session is admitted after.
  closed: AtomicBool,
  max_live: usize,
  /// Finished sessions are forgotten this long after they ended, ms.
  finished_ttl_ms: u64,
  /// Each held session's owner by id, for event listeners: they run under a session's state
  /// lock, so they must not take the registry's. A leaf lock: nothing is locked under it.
  owners: RwLock<HashMap<Arc<str>, Option<Arc<str>>>>,
}

impl Registry {
  pub(crate) fn new(max_live: u32, finished_ttl_ms: u64) -> Self {
    Registry {
      list: RwLock::new(Vec::new()),
      closed: AtomicBool::new(false),
      max_live: max_live as usize,
      finished_ttl_ms,
      owners: RwLock::new(HashMap::new()),
    }
  }

  fn read(&self) -> RwLockReadGuard<'_, Vec<Entry>> {
    self.list.read().unwrap_or_else(|e| e.into_inner())
  }

  fn write(&self) -> RwLockWriteGuard<'_, Vec<Entry>> {
    self.list.write().unwrap_or_else(|e| e.into_inner())
  }

  /// Refuses every later admission.
  pub(crate) fn close(&self) {
    self.closed.store(true, Ordering::SeqCst);
  }

  /// Registers a new session, atomically with the shutdown, name and limit checks:
  /// `E_STATE` after shutdown, `E_INVALID_ARGUMENT` for the name of a live session of the same
  /// owner (names are unique per owner), `E_LIMIT` at `maxSessions` live sessions.
  pub(crate) fn admit(&self, live: &Arc<LiveSession>, launch: &Arc<Launch>) -> Result<()> {
    let (name, owner) = {
      let st = live.state();
      (st.name().map(str::to_owned), owner_of(&st))
    };
    let mut list = self.write();
    if self.closed.load(Ordering::SeqCst) {
      return Err(Error::State(
        "the manager is shut down; create a new SessionManager".into(),
      ));
    }
    let running: Vec<&Entry> = list
      .iter()
      .filter(|e| !e.live.state().status().is_terminal())
      .collect();
    if let Some(name) = name {
      let taken = |e: &&Entry| {
        let st = e.live.state();
        st.name() == Some(&name) && owner_of(&st) == owner
      };
      if running.iter().any(taken) {
        return Err(Error::InvalidArgument(format!(
          "a live session of this owner is already named `{name}`; pick another name"
        )));
      }
    }
    if running.len() >= self.max_live {
      return Err(Error::Limit(format!(
        "{} live sessions already (maxSessions = {}); close or kill one first",
        running.len(),
        self.max_live
      )));
    }
    list.push(Entry {
      live: Arc::clone(live),
      launch: Arc::clone(launch),
    });
    let id: Arc<str> = Arc::from(live.state().id());
    // No session lock is held under the owners lock (listeners take it under theirs).
    self.owners_mut().insert(id, owner.map(Arc::from));
    Ok(())
  }

  fn owners_mut(&self) -> RwLockWriteGuard<'_, HashMap<Arc<str>, Option<Arc<str>>>> {
    self.owners.write().unwrap_or_else(|e| e.into_inner())
  }

  /// The owner of the held session `id` (`Some(None)`: the operator's; `None`: not held).
  /// Takes no session lock, so event listeners may call it.
  pub(crate) fn owner_by_id(&self, id: &str) -> Option<Option<Arc<str>>> {
    let owners = self.owners.read().unwrap_or_else(|e| e.into_inner());
    owners.get(id).cloned()
  }

  /// Forgets a session (one that never started).
  pub(crate) fn remove(&self, live: &Arc<LiveSession>) {
    let id = live.state().id().to_owned();
    self.write().retain(|e| !Arc::ptr_eq(&e.live, live));
    // No session lock is held under the owners lock (listeners take it under theirs).
    self.owners_mut().remove(id.as_str());
  }

  /// Forgets sessions that ended more than `finishedTtlMs` ago.
  fn prune(&self) {
    let cutoff = crate::model::event::now_ms().saturating_sub(self.finished_ttl_ms);
    let expired =
      |e: &Entry| e.live.is_done() && e.live.state().ended_at().is_some_and(|t| t <= cutoff);
    if self.read().iter().any(expired) {
      let mut list = self.write();
      let gone: Vec<String> = (list.iter().filter(|e| expired(e)))
        .map(|e| e.live.state().id().to_owned())
        .collect();
      list.retain(|e| !expired(e));
      let mut owners = self.owners_mut();
      for id in gone {
        owners.remove(id.as_str());
      }
    }
  }

  /// Every session held, with its launch.
  pub(crate) fn entries(&self) -> Vec<(Arc<LiveSession>, Arc<Launch>)> {
    self.prune();
    let list = self.read();
    list
      .iter()
      .map(|e| (Arc::clone(&e.live), Arc::clone(&e.launch)))
      .collect()
  }

  /// Every session held.
  pub(crate) fn all(&self) -> Vec<Arc<LiveSession>> {
    self.entries().into_iter().map(|(s, _)| s).collect()
  }

  /// A session by its id only.
  pub(crate) fn by_id(&self, id: &str) -> Option<Arc<LiveSession>> {
    let list = self.read();
    let found = list.iter().find(|e| e.live.state().id() == id);
    found.map(|e| Arc::clone(&e.live))
  }

  /// Finds a session by id, then name (newest first), then backend session id;
  /// `E_NOT_FOUND` otherwise. A name two owners use finds the newest such session.
  pub(crate) fn find(&self, r: &str) -> Result<(Arc<LiveSession>, Arc<Launch>)> {
    self.find_owned(r, None)
  }

  /// As `find`, among the sessions of `owner` only (`Some`); `None`: among all.
  pub(crate) fn find_owned(
    &self,
    r: &str,
    owner: Option<&str>,
  ) -> Result<(Arc<LiveSession>, Arc<Launch>)> {
    self.prune();
    let list = self.read();
    let mine = |st: &SessionState| owner.is_none() || owner_of(st).as_deref() == owner;
    let by = |pred: &dyn Fn(&SessionState) -> bool| {
      list.iter().rev().find(|e| {
        let st = e.live.state();
        mine(&st) && pred(&st)
      })
    };
    by(&|st| st.id() == r)
      .or_else(|| by(&|st| st.name() == Some(r)))
      .or_else(|| by(&|st| st.backend_session_id() == r))
      .map(|e| (Arc::clone(&e.live), Arc::clone(&e.launch)))
      .ok_or_else(|| {
        Error::NotFound(format!(
          "no session with id, name or backend session id `{r}`; list() shows the known ones"
        ))
      })
  }
}

/// A session's owner (`None`: the operator's).
fn owner_of(st: &SessionState) -> Option<String> {
  st.owner().map(str::to_owned)
}
