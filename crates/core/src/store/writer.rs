//! The store's writer thread: snapshot writes off the sessions' hot path, gathered briefly
//! and written in one transaction per batch.

use crate::model::error::{Error, Result};
use crate::store::{Store, StoredSession};

/// How long the writer gathers snapshots before writing them.
const WRITE_WINDOW: std::time::Duration = std::time::Duration::from_millis(20);

/// Something whose snapshot the writer stores: a live session.
pub trait Snapshot: Send + Sync {
  /// The snapshot as of now, clearing the "changed" mark first (a change during the call marks
  /// it again and queues it again).
  fn snapshot(&self) -> StoredSession;
}

/// Snapshot writes off the hot path: a session that changed hands itself over once (until it
/// is written), and one writer thread takes each one's *latest* snapshot when it writes. A
/// burst of turns is therefore one write per session; each batch is one transaction. `flush`
/// waits until everything handed over is on disk.
pub struct Writer {
  tx: std::sync::mpsc::Sender<Job>,
}

enum Job {
  /// A changed session; `urgent` (a terminal status) skips the gathering window.
  Changed(std::sync::Arc<dyn Snapshot>, bool),
  Flush(tokio::sync::oneshot::Sender<()>),
}

impl Writer {
  /// Starts the writer thread for `store`; it ends when the last `Writer` handle is dropped.
  /// `E_STORE` when the thread cannot be started.
  pub fn start(store: std::sync::Arc<Store>) -> Result<Writer> {
    let (tx, rx) = std::sync::mpsc::channel::<Job>();
    std::thread::Builder::new()
      .name("openclaw-store-writer".into())
      .spawn(move || {
        while let Ok(first) = rx.recv() {
          let mut changed: Vec<std::sync::Arc<dyn Snapshot>> = Vec::new();
          let mut waiting = Vec::new();
          let mut take = |job: Job| match job {
            Job::Changed(s, _) => changed.push(s),
            Job::Flush(done) => waiting.push(done),
          };
          let now = |j: &Job| matches!(j, Job::Flush(_) | Job::Changed(_, true));
          // Gather what arrives within a short window; a flush or an ended session does not
          // wait for it.
          let mut flushing = now(&first);
          take(first);
          let until = std::time::Instant::now() + WRITE_WINDOW;
          loop {
            let job = if flushing {
              rx.try_recv().ok()
            } else {
              rx.recv_timeout(until.saturating_duration_since(std::time::Instant::now()))
                .ok()
            };
            let Some(job) = job else { break };
            flushing |= now(&job);
            take(job);
          }
          // A busy or failing store is retried a few times before the batch is given up
          // (logged); the sessions' next changes are written again either way.
          for attempt in 1..=3 {
            let batch: Vec<StoredSession> = changed.iter().map(|s| s.snapshot()).collect();
            if batch.is_empty() {
              break;
            }
            match store.upsert_all(&batch) {
              Ok(()) => break,
              Err(e) if attempt == 3 => {
                tracing::warn!(error = %e, sessions = batch.len(), "store write failed")
              }
              Err(_) => std::thread::sleep(std::time::Duration::from_millis(50 * attempt)),
            }
          }
          for done in waiting {
            let _ = done.send(());
          }
        }
      })
      .map_err(|e| Error::Store(format!("cannot start the store writer thread: {e}")))?;
    Ok(Writer { tx })
  }

  /// Queues a changed session (the caller hands each one over once until it is written);
  /// `urgent` writes it without waiting for the gathering window (an ended session).
  pub fn changed(&self, s: std::sync::Arc<dyn Snapshot>, urgent: bool) {
    let _ = self.tx.send(Job::Changed(s, urgent));
  }

  /// Waits until every change handed over so far is written.
  pub async fn flush(&self) {
    let (done, wait) = tokio::sync::oneshot::channel();
    if self.tx.send(Job::Flush(done)).is_ok() {
      let _ = wait.await;
    }
  }
}
