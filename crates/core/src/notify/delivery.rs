//! Delivery of notifications: one worker, in order, through the plugin's async callback, with
//! exponential backoff on a rejected delivery and a bounded number of attempts. The ledger in
//! the store makes it exactly-once: a key is added once, and a restarted manager re-sends the
//! pending ones and never the delivered ones.

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

/// The delivery queue and its worker.
#[derive(Clone)]
pub struct Delivery {
  tx: mpsc::UnboundedSender<Notification>,
  deliver: Arc<Mutex<Option<Deliver>>>,
  ready: Arc<Notify>,
}

impl Delivery {
  /// Starts the worker (needs a tokio runtime).
  pub fn start(
    store: Arc<Store>,
    attempts: u32,
    backoff: Duration,
    report: Report,
    counters: Arc<crate::model::counters::Counters>,
  ) -> Delivery {
    let (tx, mut rx) = mpsc::unbounded_channel::<Notification>();
    let deliver: Arc<Mutex<Option<Deliver>>> = Arc::new(Mutex::new(None));
    let ready = Arc::new(Notify::new());
    let (d, r) = (Arc::clone(&deliver), Arc::clone(&ready));
    tokio::spawn(async move {
      while let Some(n) = rx.recv().await {
        // Nobody to deliver to yet: wait (the ledger keeps it meanwhile).
        let f = loop {
          let current = d.lock().unwrap_or_else(|e| e.into_inner()).clone();
          match current {
            Some(f) => break f,
            None => r.notified().await,
          }
        };
        if store.ledger_status(&n.key).ok().flatten().as_deref() != Some("pending") {
          continue;
        }
        let mut delay = backoff;
        let mut tries = 0;
        loop {
          tries += 1;
          match f(n.clone()).await {
            Ok(()) => {
              counters
                .notifications_delivered
                .fetch_add(1, Ordering::Relaxed);
              let _ = store.ledger_mark(&n.key, "delivered", tries);
              break;
            }
            Err(why) if tries >= attempts.max(1) => {
              counters
                .notifications_failed
                .fetch_add(1, Ordering::Relaxed);
              let _ = store.ledger_mark(&n.key, "failed", tries);
              report(
                &n.session_id,
                EventPayload::DeliveryFailed {
                  key: n.key.clone(),
                  notification: n.kind.clone(),
                  attempts: tries,
                  error: why,
                },
              );
              break;
            }
            Err(_) => {
              tokio::time::sleep(delay).await;
              delay = delay.saturating_mul(2);
            }
          }
        }
      }
    });
    Delivery { tx, deliver, ready }
  }

  /// Queues a notification already added to the ledger.
  pub fn push(&self, n: Notification) {
    let _ = self.tx.send(n);
  }

  /// Sets (or replaces) the delivery callback and wakes the worker.
  pub fn set(&self, f: Option<Deliver>) {
    *self.deliver.lock().unwrap_or_else(|e| e.into_inner()) = f;
    self.ready.notify_one();
  }
}
