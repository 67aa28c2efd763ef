//! Event subscribers. `emit` is called with the session's state lock held, so each session's
//! events reach every listener in sequence order; listeners must therefore return quickly and
//! never call back into the manager synchronously (the napi binding only queues a call to JS).

use crate::model::event::Ev;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

/// A subscriber callback.
pub(crate) type Listener = Arc<dyn Fn(&Ev) + Send + Sync>;

/// The set of subscribers of one manager.
#[derive(Default)]
pub(crate) struct Listeners {
  next: AtomicU64,
  list: RwLock<Vec<(u64, Listener)>>,
  emitted: AtomicU64,
}

impl Listeners {
  /// Adds a listener; returns its id for [`Listeners::unsubscribe`].
  pub(crate) fn subscribe(&self, f: Listener) -> u64 {
    let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
    self
      .list
      .write()
      .unwrap_or_else(|e| e.into_inner())
      .push((id, f));
    id
  }

  /// Removes a listener; false if it was already gone.
  pub(crate) fn unsubscribe(&self, id: u64) -> bool {
    let mut list = self.list.write().unwrap_or_else(|e| e.into_inner());
    let before = list.len();
    list.retain(|(i, _)| *i != id);
    list.len() != before
  }

  /// Calls every listener with `ev`.
  pub(crate) fn emit(&self, ev: &Ev) {
    self.emitted.fetch_add(1, Ordering::Relaxed);
    let list = self.list.read().unwrap_or_else(|e| e.into_inner());
    for (_, f) in list.iter() {
      f(ev);
    }
  }

  /// Events emitted so far.
  pub(crate) fn emitted(&self) -> u64 {
    self.emitted.load(Ordering::Relaxed)
  }

  pub(crate) fn len(&self) -> usize {
    self.list.read().unwrap_or_else(|e| e.into_inner()).len()
  }
}
