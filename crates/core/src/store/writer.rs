//! The store's writer thread: the one owner of the write connection. It serves every write —
//! session snapshots, deletes, the ledger, retention — each in a whole transaction, off the
//! async runtime. Snapshots are group-committed: the first change after a quiet spell is written
//! at once, later ones fold for up to `FOLD` after a write (at once when a session ended or a
//! flush waits), so a burst costs one transaction per `FOLD`, not one per change. A failed write is
//! reported (an `error` event on each session it concerned, an `E_STORE` log record) and
//! retried with backoff until it succeeds; a store file deleted while in use is noticed,
//! reported, and recreated with the live sessions written again.

use crate::model::error::{Error, Result};
use crate::model::info::SessionInfo;
use crate::store::open::{explain, identity, open_writer};
use crate::store::sessions::Layout;
use crate::store::{sessions, Owner, Reporter, Row, StoredSession};
use rusqlite::Connection;
use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, Instant};

/// How often an idle writer checks that its file is still there.
const WATCH: Duration = Duration::from_secs(1);
/// Retry backoff of a failed write: first and longest wait.
const RETRY_FIRST: Duration = Duration::from_millis(100);
const RETRY_MAX: Duration = Duration::from_secs(2);
/// How long after a snapshot write changes are folded before the next one: a session that ends
/// a turn every few hundred µs (a replay, a CLI running queued turns) is written once per
/// `FOLD`, not once per turn. A flush or a session's end is written at once.
pub(crate) const FOLD: Duration = Duration::from_millis(10);

/// Something whose snapshot the writer stores: a live session.
pub trait Snapshot: Send + Sync {
  /// The snapshot as of now, clearing the "changed" mark first (a change during the call marks
  /// it again and queues it again).
  fn snapshot(&self) -> StoredSession;
  /// Its snapshot could not be written (reported once per failing spell; retried).
  fn failed(&self, _error: &Error) {}
}

/// What the store and its writer thread share.
pub(crate) struct Shared {
  pub path: String,
  pub owner: Owner,
  /// The read-only connection; `None` for `:memory:` (reads go to the writer).
  pub read: Mutex<Option<Connection>>,
  /// Where sessions are read from (`Legacy` only for a reader of an older store).
  pub layout: Layout,
  pub warnings: Vec<Error>,
  pub reporter: RwLock<Option<Reporter>>,
  /// Rows already reported as undecodable (reported once each).
  reported: Mutex<HashSet<String>>,
  /// The writer's fold window in ms (`FOLD`; tests lengthen it).
  fold_ms: AtomicU64,
}

impl Shared {
  pub(crate) fn new(
    path: &str,
    owner: Owner,
    read: Option<Connection>,
    layout: Layout,
    warnings: Vec<Error>,
  ) -> Shared {
    Shared {
      path: path.to_owned(),
      owner,
      read: Mutex::new(read),
      layout,
      warnings,
      reporter: RwLock::new(None),
      reported: Mutex::new(HashSet::new()),
      fold_ms: AtomicU64::new(FOLD.as_millis() as u64),
    }
  }

  /// Logs (`E_STORE`) and reports a store-level problem.
  pub(crate) fn report(&self, e: &Error) {
    tracing::warn!(code = e.code(), path = %self.path, "{e}");
    let r = self
      .reporter
      .read()
      .unwrap_or_else(|e| e.into_inner())
      .clone();
    if let Some(r) = r {
      r(e);
    }
  }

  /// Sets the fold window (tests: a long one shows what does not wait for it).
  #[cfg(test)]
  pub(crate) fn set_fold(&self, d: Duration) {
    self.fold_ms.store(d.as_millis() as u64, Ordering::Relaxed);
  }

  pub(crate) fn stopped(&self) -> Error {
    Error::Store(format!(
      "session store {}: its writer has stopped",
      self.path
    ))
  }

  /// A session row decoded, or `None` (reported once, left in the file for inspection).
  pub(crate) fn decode(&self, row: Row) -> Option<StoredSession> {
    let id = row.id.clone();
    self.decoded(&id, "session", sessions::decode(row))
  }

  /// A listed session's `SessionInfo`, or `None` (reported once, as `decode`).
  pub(crate) fn decode_info(&self, id: &str, info: Option<&str>) -> Option<SessionInfo> {
    self.decoded(id, "session", serde_json::from_str(info.unwrap_or("null")))
  }

  pub(crate) fn decode_as<T: serde::de::DeserializeOwned>(
    &self,
    id: &str,
    what: &str,
    data: &str,
  ) -> Option<T> {
    self.decoded(id, what, serde_json::from_str(data))
  }

  fn decoded<T>(&self, id: &str, what: &str, r: serde_json::Result<T>) -> Option<T> {
    match r {
      Ok(v) => Some(v),
      Err(e) => {
        let first = self
          .reported
          .lock()
          .unwrap_or_else(|e| e.into_inner())
          .insert(format!("{what}:{id}"));
        if first {
          self.report(&Error::Store(format!(
            "session store {}: the stored {what} `{id}` no longer decodes ({e}); it is skipped \
             and kept in the file for inspection",
            self.path
          )));
        }
        None
      }
    }
  }
}

type Call = Box<dyn FnOnce(&Connection, &Shared) + Send>;

pub(crate) enum Job {
  /// A changed session; `true`: urgent (it ended), written without waiting out `FOLD`.
  Changed(Arc<dyn Snapshot>, bool),
  /// Answers once everything queued before is durable (or what failed).
  Flush(Box<dyn FnOnce(Result<()>) + Send>),
  /// Removes a session (after its queued snapshots).
  Delete(String),
  Call(Call),
}

/// Queues `f` to run in one write transaction; `reply` gets its result.
pub(crate) fn submit<T: Send + 'static>(
  jobs: &Sender<Job>,
  f: impl FnOnce(&Connection, &Shared) -> rusqlite::Result<T> + Send + 'static,
  reply: impl FnOnce(Result<T>) + Send + 'static,
) -> Result<()> {
  let call: Call = Box::new(move |c, sh| {
    reply(in_tx(c, |c| f(c, sh)).map_err(|e| explain(&sh.path, "cannot write", &e)))
  });
  jobs
    .send(Job::Call(call))
    .map_err(|_| Error::Store("the session store's writer has stopped".into()))
}

fn in_tx<T>(
  c: &Connection,
  f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
  c.execute_batch("BEGIN IMMEDIATE")?;
  match f(c) {
    Ok(v) => c.execute_batch("COMMIT").map(|_| v).inspect_err(|_| {
      let _ = c.execute_batch("ROLLBACK");
    }),
    Err(e) => {
      let _ = c.execute_batch("ROLLBACK");
      Err(e)
    }
  }
}

/// Starts the writer thread on `conn`; it ends when the last sender is dropped.
pub(crate) fn start(conn: Connection, shared: Arc<Shared>) -> Result<Sender<Job>> {
  let (tx, rx) = std::sync::mpsc::channel::<Job>();
  std::thread::Builder::new()
    .name("openclaw-store-writer".into())
    .spawn(move || Thread::new(conn, shared).run(rx))
    .map_err(|e| Error::Store(format!("cannot start the store writer thread: {e}")))?;
  Ok(tx)
}

/// The writer thread's state.
struct Thread {
  conn: Connection,
  shared: Arc<Shared>,
  identity: Option<(u64, u64)>,
  /// Snapshots not yet durable (a failed write), retried at `retry_at`.
  pending: Vec<Arc<dyn Snapshot>>,
  deletes: Vec<String>,
  /// Sessions removed: their late snapshots are not written back.
  deleted: HashSet<String>,
  /// Every session written, to write again into a recreated file.
  known: Vec<(String, Weak<dyn Snapshot>)>,
  failing: Option<Error>,
  backoff: Duration,
  retry_at: Option<Instant>,
  /// When snapshots were last written (`FOLD` counts from there).
  wrote_at: Option<Instant>,
  /// A pending snapshot is urgent.
  urgent: bool,
}

impl Thread {
  fn new(conn: Connection, shared: Arc<Shared>) -> Thread {
    Thread {
      conn,
      identity: identity(&shared.path),
      shared,
      pending: Vec::new(),
      deletes: Vec::new(),
      deleted: HashSet::new(),
      known: Vec::new(),
      failing: None,
      backoff: RETRY_FIRST,
      retry_at: None,
      wrote_at: None,
      urgent: false,
    }
  }

  fn run(mut self, rx: Receiver<Job>) {
    loop {
      let wait = match (self.retry_at, self.fold_until()) {
        (Some(t), _) | (None, Some(t)) => t.saturating_duration_since(Instant::now()),
        (None, None) => WATCH,
      };
      let mut jobs = match rx.recv_timeout(wait) {
        Ok(job) => vec![job],
        Err(RecvTimeoutError::Timeout) => Vec::new(),
        Err(RecvTimeoutError::Disconnected) => break,
      };
      // Group commit: everything that queued meanwhile goes in this round.
      jobs.extend(rx.try_iter());
      self.watch_file();
      let mut flushes = Vec::new();
      let mut calls = Vec::new();
      for job in jobs {
        match job {
          Job::Changed(s, urgent) => {
            self.urgent |= urgent;
            if !self.pending.iter().any(|p| Arc::ptr_eq(p, &s)) {
              self.pending.push(s);
            }
          }
          Job::Flush(done) => flushes.push(done),
          Job::Delete(id) => {
            self.deleted.insert(id.clone());
            self.deletes.push(id);
          }
          Job::Call(f) => calls.push(f),
        }
      }
      let now = Instant::now();
      let due = match self.retry_at {
        Some(t) => t <= now,
        None => self.urgent || self.fold_until().is_none_or(|t| t <= now),
      } || !flushes.is_empty();
      if due && (!self.pending.is_empty() || !self.deletes.is_empty()) {
        self.write_snapshots();
      }
      for f in calls {
        f(&self.conn, &self.shared);
      }
      for done in flushes {
        done(match &self.failing {
          None => Ok(()),
          Some(e) => Err(e.clone()),
        });
      }
    }
  }

  /// Until when pending snapshots wait to fold more changes (`None`: nothing waits).
  fn fold_until(&self) -> Option<Instant> {
    if self.pending.is_empty() && self.deletes.is_empty() {
      return None;
    }
    let fold = Duration::from_millis(self.shared.fold_ms.load(Ordering::Relaxed));
    self.wrote_at.map(|t| t + fold)
  }

  /// Writes the pending snapshots, then the deletes, in one transaction.
  fn write_snapshots(&mut self) {
    self.wrote_at = Some(Instant::now());
    self.urgent = false;
    let batch: Vec<(Arc<dyn Snapshot>, StoredSession)> = self
      .pending
      .iter()
      .map(|s| (Arc::clone(s), s.snapshot()))
      .filter(|(_, s)| !self.deleted.contains(&s.info.id))
      .collect();
    let owner = &self.shared.owner;
    let deletes = &self.deletes;
    let result = in_tx(&self.conn, |c| {
      batch
        .iter()
        .try_for_each(|(_, s)| sessions::upsert(c, s, owner))?;
      deletes.iter().try_for_each(|id| sessions::delete(c, id))
    });
    match result {
      Ok(()) => {
        self.pending.clear();
        for (s, snap) in batch {
          if !self.known.iter().any(|(k, _)| *k == snap.info.id) {
            self.known.push((snap.info.id, Arc::downgrade(&s)));
          }
        }
        self.known.retain(|(_, w)| w.strong_count() > 0);
        self.deletes.clear();
        self.retry_at = None;
        self.backoff = RETRY_FIRST;
        if self.failing.take().is_some() {
          tracing::info!(path = %self.shared.path, "session store writable again; what waited is written");
        }
      }
      Err(e) => {
        let err = explain(&self.shared.path, "cannot write", &e);
        if self.failing.is_none() {
          self
            .shared
            .report(&Error::Store(format!("{err}; retrying")));
          for s in &self.pending {
            s.failed(&err);
          }
        }
        self.failing = Some(err);
        self.retry_at = Some(Instant::now() + self.backoff);
        self.backoff = (self.backoff * 2).min(RETRY_MAX);
      }
    }
  }

  /// Notices the file deleted or replaced; recreates it and writes the live sessions again.
  fn watch_file(&mut self) {
    if self.identity.is_none() || identity(&self.shared.path) == self.identity {
      return;
    }
    let path = self.shared.path.clone();
    match open_writer(&path) {
      Ok((conn, _)) => {
        self.conn = conn;
        self.identity = identity(&path);
        let read =
          Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).ok();
        *self.shared.read.lock().unwrap_or_else(|e| e.into_inner()) = read;
        for (_, w) in &self.known {
          if let Some(s) = w.upgrade() {
            if !self.pending.iter().any(|p| Arc::ptr_eq(p, &s)) {
              self.pending.push(s);
            }
          }
        }
        self.shared.report(&Error::Store(format!(
          "session store {path} was deleted or replaced while in use; a fresh store was \
           created there and the sessions this manager holds are written to it again (finished \
           sessions it no longer holds are lost)"
        )));
      }
      Err(e) => {
        self.identity = None;
        self.shared.report(&Error::Store(format!(
          "session store {path} was deleted or replaced while in use and cannot be recreated: {e}"
        )));
      }
    }
  }
}

/// Snapshot writes off the hot path: a session that changed hands itself over once (until it
/// is written), and the writer thread takes each one's *latest* snapshot when it writes.
/// `flush` waits until everything handed over is on disk.
pub struct Writer {
  tx: Sender<Job>,
}

impl Writer {
  /// A handle on `store`'s writer thread. `E_STORE` for a read-only store.
  pub fn start(store: Arc<crate::store::Store>) -> Result<Writer> {
    Ok(Writer {
      tx: store.writer()?.clone(),
    })
  }

  /// Queues a changed session (the caller hands each one over once until it is written).
  /// `urgent` (the session ended): written without waiting out `FOLD`.
  pub fn changed(&self, s: Arc<dyn Snapshot>, urgent: bool) {
    let _ = self.tx.send(Job::Changed(s, urgent));
  }

  /// Waits until every change handed over so far is written; `E_STORE` (what failed) when it
  /// could not be: the writes are retried in the background.
  pub async fn flush(&self) -> Result<()> {
    let (done, wait) = tokio::sync::oneshot::channel();
    let job = Job::Flush(Box::new(move |r| {
      let _ = done.send(r);
    }));
    if self.tx.send(job).is_err() {
      return Err(Error::Store(
        "the session store's writer has stopped".into(),
      ));
    }
    wait.await.unwrap_or_else(|_| {
      Err(Error::Store(
        "the session store's writer has stopped".into(),
      ))
    })
  }
}
