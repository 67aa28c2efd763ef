//! Delivery of notifications, and their ledger in the store (exactly once). Two workers: the
//! intake writes each new notification to the ledger, in order, claimed by this manager (a key
//! already there was made before and is never sent twice); the sender delivers through the
//! plugin's async callback, with exponential backoff on a rejected delivery and a bounded
//! number of attempts, and marks the outcome. A store write that fails is reported (an `error`
//! event on the session, an `E_STORE` log record) and retried until it succeeds: the
//! notification waits in memory meanwhile, never dropped. Pending notifications of a manager
//! that is gone (an earlier run, or another manager on the same store that died) are claimed
//! and sent; those of a manager that still runs are left to it.

use crate::model::error::Error;
use crate::model::event::EventPayload;
use crate::notify::Notification;
use crate::store::Store;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, Notify};

/// The plugin's delivery callback: resolves `Ok` once delivered, `Err(reason)` when rejected.
pub type Deliver = Arc<
  dyn Fn(Notification) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>> + Send + Sync,
>;

/// Reports an event on a session (e.g. `delivery-failed`).
pub type Report = Arc<dyn Fn(&str, EventPayload) + Send + Sync>;

/// How often the sender looks for notifications a gone manager left pending.
const ORPHANS_EVERY: Duration = Duration::from_secs(2);
/// Backoff of a failed ledger write: first and longest wait.
const STORE_RETRY: (Duration, Duration) = (Duration::from_millis(100), Duration::from_secs(2));

/// The delivery queue and its workers.
#[derive(Clone)]
pub struct Delivery {
  tx: mpsc::UnboundedSender<Notification>,
  deliver: Arc<Mutex<Option<Deliver>>>,
  ready: Arc<Notify>,
}

/// What the workers share.
struct Ctx {
  /// Weak: the manager's store, whose lifetime is its claims' (a stuck delivery keeps no claim).
  store: std::sync::Weak<Store>,
  attempts: u32,
  backoff: Duration,
  report: Report,
  counters: Arc<crate::model::counters::Counters>,
  deliver: Arc<Mutex<Option<Deliver>>>,
  ready: Arc<Notify>,
}

impl Delivery {
  /// Starts the workers (needs a tokio runtime).
  pub fn start(
    store: Arc<Store>,
    attempts: u32,
    backoff: Duration,
    report: Report,
    counters: Arc<crate::model::counters::Counters>,
  ) -> Delivery {
    let (tx, mut rx) = mpsc::unbounded_channel::<Notification>();
    let (send_tx, mut send_rx) = mpsc::unbounded_channel::<Notification>();
    let deliver: Arc<Mutex<Option<Deliver>>> = Arc::new(Mutex::new(None));
    let ready = Arc::new(Notify::new());
    let ctx = Arc::new(Ctx {
      store: Arc::downgrade(&store),
      attempts,
      backoff,
      report,
      counters,
      deliver: Arc::clone(&deliver),
      ready: Arc::clone(&ready),
    });
    let intake = Arc::clone(&ctx);
    tokio::spawn(async move {
      while let Some(n) = rx.recv().await {
        let Some(store) = intake.store.upgrade() else {
          break;
        };
        let add = || store.ledger_add_async(&n);
        if intake.until_stored(&n, add).await && send_tx.send(n).is_err() {
          break;
        }
      }
    });
    tokio::spawn(async move {
      let mut orphans = tokio::time::interval(ORPHANS_EVERY);
      loop {
        // The callback is read per notification: one set while the sender was idle is used.
        tokio::select! {
          biased;
          _ = orphans.tick() => {
            let Some(store) = ctx.store.upgrade() else { break };
            let orphans = store.ledger_claim_orphans().await.unwrap_or_default();
            drop(store);
            for n in orphans {
              ctx.send(&ctx.callback().await, n).await;
            }
          }
          n = send_rx.recv() => match n {
            Some(n) => ctx.send(&ctx.callback().await, n).await,
            None => break,
          },
        }
      }
    });
    Delivery { tx, deliver, ready }
  }

  /// Hands over a new notification: it is written to the ledger, then delivered once.
  pub fn push(&self, n: Notification) {
    let _ = self.tx.send(n);
  }

  /// Sets (or replaces) the delivery callback and wakes the sender.
  pub fn set(&self, f: Option<Deliver>) {
    *self.deliver.lock().unwrap_or_else(|e| e.into_inner()) = f;
    self.ready.notify_one();
  }
}

impl Ctx {
  /// The callback, once there is one (notifications wait in the ledger meanwhile).
  async fn callback(&self) -> Deliver {
    loop {
      let current = self
        .deliver
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
      match current {
        Some(f) => return f,
        None => self.ready.notified().await,
      }
    }
  }

  /// Runs a ledger write until it succeeds, reporting the first failure of a spell on the
  /// notification's session; the result (`ledger_add`: whether the key was new).
  async fn until_stored<F, Fut>(&self, n: &Notification, write: F) -> bool
  where
    F: Fn() -> Fut,
    Fut: Future<Output = crate::model::error::Result<bool>>,
  {
    let mut wait = STORE_RETRY.0;
    let mut reported = false;
    loop {
      match write().await {
        Ok(new) => return new,
        Err(e) => {
          if !reported {
            reported = true;
            self.store_failed(n, &e);
          }
          tokio::time::sleep(wait).await;
          wait = (wait * 2).min(STORE_RETRY.1);
        }
      }
    }
  }

  fn store_failed(&self, n: &Notification, e: &Error) {
    tracing::warn!(code = e.code(), key = %n.key, error = %e, "notification ledger write failed; retrying");
    (self.report)(
      &n.session_id,
      EventPayload::Error {
        message: format!(
          "[{}] notification `{}` waits in memory: {e}; retrying",
          e.code(),
          n.key
        ),
        fatal: false,
      },
    );
  }

  /// Delivers `n` (if it is still pending and ours) and marks the outcome in the ledger.
  async fn send(&self, f: &Deliver, n: Notification) {
    let Some(store) = self.store.upgrade() else {
      return;
    };
    if !store.ledger_is_mine(&n.key).await.unwrap_or(true) {
      return;
    }
    // Not held while the callback runs: a delivery that never settles must not keep the
    // store (and so this manager's claims) alive.
    drop(store);
    let mut delay = self.backoff;
    let mut tries = 0;
    let outcome = loop {
      tries += 1;
      match f(n.clone()).await {
        Ok(()) => {
          self
            .counters
            .notifications_delivered
            .fetch_add(1, Ordering::Relaxed);
          break "delivered";
        }
        Err(why) if tries >= self.attempts.max(1) => {
          self
            .counters
            .notifications_failed
            .fetch_add(1, Ordering::Relaxed);
          (self.report)(
            &n.session_id,
            EventPayload::DeliveryFailed {
              key: n.key.clone(),
              notification: n.kind.clone(),
              attempts: tries,
              error: why,
            },
          );
          break "failed";
        }
        Err(_) => {
          tokio::time::sleep(delay).await;
          delay = delay.saturating_mul(2);
        }
      }
    };
    let Some(store) = self.store.upgrade() else {
      return;
    };
    let mark = || async {
      store
        .ledger_mark(&n.key, outcome, tries)
        .await
        .map(|()| true)
    };
    self.until_stored(&n, mark).await;
  }
}
