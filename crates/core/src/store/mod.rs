//! Persistence: one SQLite file (WAL, versioned schema, our `application_id`, mode 0600) holding
//! every session's latest snapshot, the links of its resume chain, what is needed to resume it,
//! and the notification ledger. A manager's store has one writer thread that owns the write
//! connection and runs every write in whole transactions (`writer`); reads use a separate
//! read-only connection. A reader (`open_read_only`) never creates, migrates or renames
//! anything. Knows nothing about processes.
//!
//! Files: `open` (opening, schema, damaged files), `sessions` and `ledger` (their SQL),
//! `writer` (the thread).

use crate::model::error::{Error, Result};
use crate::model::event::Usage;
use crate::model::info::{SessionInfo, SummaryTurn};
use crate::model::notification::Notification;
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use sessions::Layout;
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

mod ledger;
mod open;
mod sessions;
mod writer;
pub use open::{APPLICATION_ID, SCHEMA_VERSION};
pub(crate) use sessions::Row;
use writer::{Job, Shared};
pub use writer::{Snapshot, Writer};

/// Everything stored of one session.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct StoredSession {
  pub info: SessionInfo,
  /// The last turns, for a fresh start when the CLI lost the conversation.
  #[serde(default)]
  pub summary: Vec<SummaryTurn>,
  /// The spawn options to resume with (without `prompt` and `env`).
  #[serde(default)]
  pub options: serde_json::Value,
  /// The thread's cumulative tokens (Codex), so a resume's first turn is a delta.
  #[serde(default)]
  pub thread_usage: Usage,
  /// The running process's start time (with `info.pid`, identifies it after a restart).
  #[serde(default)]
  pub pid_start: Option<u64>,
}

/// What `gc` removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GcReport {
  /// Rows deleted.
  pub deleted: u32,
  /// Rows reduced to tombstones because a later session links to them.
  pub tombstoned: u32,
}

/// A `list` query, run in SQL: statuses (any of; empty: all), backends (any of; empty: all),
/// and the newest `limit`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
  pub statuses: Vec<String>,
  pub backends: Vec<String>,
  pub limit: Option<u32>,
}

/// Who writes: this process (pid, start time) and this store instance (two managers in one
/// process are told apart by the token).
#[derive(Debug, Clone)]
pub(crate) struct Owner {
  pub pid: u32,
  pub start: Option<u64>,
  pub token: String,
  /// This boot's id (`/proc/sys/kernel/random/boot_id`; `None` without `/proc`).
  pub boot: Option<String>,
}

impl Owner {
  /// Whether the manager recorded as (pid, start, boot) is this process or another one still
  /// running. A pid equal to ours is ours only with our start time: a manager that is pid 1 in
  /// a container after every restart must still recover its predecessor's sessions.
  pub(crate) fn recorded_alive(
    &self,
    pid: Option<i64>,
    start: Option<i64>,
    boot: Option<&str>,
  ) -> bool {
    let Some(pid) = pid else { return false };
    if boot.is_some() && self.boot.is_some() && boot != self.boot.as_deref() {
      return false; // another boot: every process of it is gone
    }
    let start = start.map(|s| s as u64);
    if pid as u32 == self.pid {
      return start.is_none() || start == self.start;
    }
    start.is_some() && crate::process::start_time(pid as u32) == start
  }
}

/// This boot's id, read once.
pub(crate) fn boot_id() -> Option<String> {
  std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
    .ok()
    .map(|s| s.trim().to_owned())
}

/// The tokens of the stores open for writing in this process.
fn registry() -> std::sync::MutexGuard<'static, HashSet<String>> {
  static LIVE: std::sync::LazyLock<Mutex<HashSet<String>>> =
    std::sync::LazyLock::new(|| Mutex::new(HashSet::new()));
  LIVE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Whether the manager that wrote (pid, start, token) still runs: another process with the same
/// start time, or a store of this process still open.
pub(crate) fn alive(pid: Option<i64>, start: Option<i64>, token: Option<&str>) -> bool {
  let Some(pid) = pid else { return false };
  if pid as u32 == std::process::id() {
    return token.is_some_and(|t| registry().contains(t));
  }
  start.is_some() && crate::process::start_time(pid as u32) == start.map(|s| s as u64)
}

/// Called with what the store reports outside any session (a damaged file moved aside, the
/// file deleted while in use, an undecodable row); also logged (`E_STORE`).
pub type Reporter = Arc<dyn Fn(&Error) + Send + Sync>;

/// The default path: `$OPENCLAW_STATE_DIR/agent-sessions.db`, else `~/.openclaw/agent-sessions.db`.
pub fn default_path() -> PathBuf {
  let dir = std::env::var_os("OPENCLAW_STATE_DIR")
    .map(PathBuf::from)
    .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".openclaw")))
    .unwrap_or_else(|| PathBuf::from(".openclaw"));
  dir.join("agent-sessions.db")
}

/// The store file.
pub struct Store {
  shared: Arc<Shared>,
  /// The writer thread's queue; `None` for a reader.
  jobs: Option<std::sync::mpsc::Sender<Job>>,
}

impl Store {
  /// Opens (creating if needed, migrating) the store at `path` for a manager, or an in-memory
  /// one for `:memory:`. `E_STORE` naming the path and the problem when the file is not ours
  /// (another application's, not SQLite: left unchanged), written by a newer release, or cannot
  /// be written (a full disk says so). A damaged file of ours is moved aside and a fresh store
  /// started; `warnings()` says so with both paths (also logged).
  pub fn open(path: &str) -> Result<Store> {
    let (conn, warnings) = open::open_writer(path)?;
    let read = (path != ":memory:")
      .then(|| Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY))
      .transpose()
      .map_err(|e| open::explain(path, "cannot open", &e))?;
    let me = std::process::id();
    let owner = Owner {
      pid: me,
      start: crate::process::start_time(me),
      token: uuid::Uuid::new_v4().to_string(),
      boot: boot_id(),
    };
    registry().insert(owner.token.clone());
    for w in &warnings {
      tracing::warn!(code = w.code(), path, "{w}");
    }
    let shared = Arc::new(Shared::new(path, owner, read, Layout::Split, warnings));
    let jobs = writer::start(conn, Arc::clone(&shared))?;
    Ok(Store {
      shared,
      jobs: Some(jobs),
    })
  }

  /// Opens an existing store for reading only (`SQLITE_OPEN_READ_ONLY`): never creates,
  /// migrates, renames or repairs anything. `E_STORE` naming the path when it is missing, not
  /// our store, or of a newer schema.
  pub fn open_read_only(path: &str) -> Result<Store> {
    let conn = open::open_reader(path)?;
    // A store an older release wrote is read as it is (a reader never migrates).
    let layout = match open::version(&conn) {
      Ok(v) if v < open::SPLIT_SCHEMA => Layout::Legacy,
      _ => Layout::Split,
    };
    let owner = Owner {
      pid: std::process::id(),
      start: None,
      token: String::new(),
      boot: None,
    };
    Ok(Store {
      shared: Arc::new(Shared::new(path, owner, Some(conn), layout, Vec::new())),
      jobs: None,
    })
  }

  pub fn path(&self) -> &str {
    &self.shared.path
  }

  /// What opening found worth reporting (a damaged store moved aside), as `E_STORE` errors.
  pub fn warnings(&self) -> Vec<Error> {
    self.shared.warnings.clone()
  }

  /// Where store-level problems go from now on (the warnings so far are passed at once).
  pub fn set_reporter(&self, r: Reporter) {
    for w in &self.shared.warnings {
      r(w);
    }
    *self
      .shared
      .reporter
      .write()
      .unwrap_or_else(|e| e.into_inner()) = Some(r);
  }

  fn writer(&self) -> Result<&std::sync::mpsc::Sender<Job>> {
    self.jobs.as_ref().ok_or_else(|| {
      Error::Store(format!(
        "session store {} is open read-only; only a manager writes it",
        self.shared.path
      ))
    })
  }

  /// Runs `f` in one write transaction on the writer thread and waits for it (for callers off
  /// the async runtime: construction, tests, the operator's `gc`).
  fn write<T: Send + 'static>(
    &self,
    f: impl FnOnce(&Connection, &Shared) -> rusqlite::Result<T> + Send + 'static,
  ) -> Result<T> {
    write_waiting(self.writer()?, &self.shared, f)
  }

  /// As `write`, awaited (for the async runtime: never blocks a runtime thread on SQLite).
  async fn write_async<T: Send + 'static>(
    &self,
    f: impl FnOnce(&Connection, &Shared) -> rusqlite::Result<T> + Send + 'static,
  ) -> Result<T> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    writer::submit(self.writer()?, f, move |r| {
      let _ = tx.send(r);
    })?;
    rx.await.map_err(|_| self.shared.stopped())?
  }

  /// Runs `f` on the read-only connection (the writer's for `:memory:`), on this thread.
  fn read<T: Send + 'static>(
    &self,
    f: impl FnOnce(&Connection, &Shared) -> rusqlite::Result<T> + Send + 'static,
  ) -> Result<T> {
    read_on(&self.shared, self.jobs.as_ref(), f)
  }

  /// As `read`, awaited: runs on tokio's blocking pool (`spawn_blocking`), never on an async
  /// runtime thread, so a slow read (or a wait for the read connection) blocks no other task.
  async fn read_async<T: Send + 'static>(
    &self,
    f: impl FnOnce(&Connection, &Shared) -> rusqlite::Result<T> + Send + 'static,
  ) -> Result<T> {
    let shared = Arc::clone(&self.shared);
    let jobs = self.jobs.clone();
    tokio::task::spawn_blocking(move || read_on(&shared, jobs.as_ref(), f))
      .await
      .map_err(|e| {
        Error::Store(format!(
          "session store {}: a read failed: {e}",
          self.shared.path
        ))
      })?
  }

  /// Writes one session's snapshot now (tests, benchmarks; sessions go through `Writer`).
  pub fn upsert(&self, s: &StoredSession) -> Result<()> {
    self.upsert_all(std::slice::from_ref(s))
  }

  /// Writes several snapshots in one transaction.
  pub fn upsert_all(&self, batch: &[StoredSession]) -> Result<()> {
    let batch = batch.to_vec();
    self.write(move |c, sh| {
      batch
        .iter()
        .try_for_each(|s| sessions::upsert(c, s, &sh.owner))
    })
  }

  /// Removes a session that never started (queued behind its snapshots, never waited for).
  pub fn delete(&self, id: &str) -> Result<()> {
    self
      .writer()?
      .send(Job::Delete(id.to_owned()))
      .map_err(|_| self.shared.stopped())
  }

  /// One session by id, name (newest) or backend session id (newest); tombstones included.
  /// A row that no longer decodes counts as absent (reported, kept in the file).
  pub fn find(&self, r: &str) -> Result<Option<StoredSession>> {
    let r = r.to_owned();
    self.read(move |c, sh| find_decoded(c, sh, &r))
  }

  /// `find`, awaited: read and decoded off the async runtime's threads.
  pub async fn find_async(&self, r: &str) -> Result<Option<StoredSession>> {
    let r = r.to_owned();
    self.read_async(move |c, sh| find_decoded(c, sh, &r)).await
  }

  /// As `find`, among the sessions of `owner` only.
  pub fn find_owned(&self, r: &str, owner: &str) -> Result<Option<StoredSession>> {
    let (r, owner) = (r.to_owned(), owner.to_owned());
    self.read(move |c, sh| {
      Ok(sessions::find_owned(c, &r, &owner, sh.layout)?.and_then(|row| sh.decode(row)))
    })
  }

  /// Every session that is not a tombstone, oldest first.
  pub fn all(&self) -> Result<Vec<SessionInfo>> {
    self.list(&Query::default())
  }

  /// The sessions `q` selects (filters and limit in SQL), oldest first, as their `SessionInfo`
  /// (their last turns and options are neither read nor decoded); undecodable rows are skipped
  /// and reported.
  pub fn list(&self, q: &Query) -> Result<Vec<SessionInfo>> {
    let q = q.clone();
    self.read(move |c, sh| list_decoded(c, sh, &q))
  }

  /// `list`, awaited: read and decoded off the async runtime's threads.
  pub async fn list_async(&self, q: &Query) -> Result<Vec<SessionInfo>> {
    let q = q.clone();
    self.read_async(move |c, sh| list_decoded(c, sh, &q)).await
  }

  /// How many sessions the store holds (tombstones not counted).
  pub fn count(&self) -> Result<u64> {
    self.read(|c, _| sessions::count(c))
  }

  /// The session `id` and its ancestors (resumed-from / forked-from), newest first.
  pub fn chain(&self, id: &str) -> Result<Vec<StoredSession>> {
    let mut out: Vec<StoredSession> = Vec::new();
    let mut next = Some(id.to_owned());
    while let Some(id) = next.take() {
      if out.iter().any(|s| s.info.id == id) {
        break; // a loop would be a bug elsewhere; never spin on it
      }
      if let Some(s) = self.find(&id)? {
        next = s
          .info
          .resumed_from_id
          .clone()
          .or_else(|| s.info.forked_from_id.clone());
        out.push(s);
      }
    }
    Ok(out)
  }

  /// Sessions left live by a manager that is gone (its process is not running any more):
  /// marked `interrupted`, `endReason: manager-restart`, and returned so their orphaned
  /// processes can be dealt with. Sessions of a manager that still runs are left alone.
  pub fn recover(&self) -> Result<Vec<StoredSession>> {
    self.write(|c, sh| {
      let mut recovered = Vec::new();
      for (row, pid, start, boot) in sessions::live_rows(c)? {
        if sh.owner.recorded_alive(pid, start, boot.as_deref()) {
          continue;
        }
        let Some(s) = sh.decode(row) else { continue };
        let orphan = sessions::interrupted(s);
        let mut stored = orphan.clone();
        stored.info.pid = None;
        sessions::upsert(c, &stored, &sh.owner)?;
        recovered.push(orphan);
      }
      Ok(recovered)
    })
  }

  /// Retention: keeps at most `max` sessions and none that ended more than `max_age_ms` ago
  /// (0: no age limit). Only finished sessions go, oldest first; one that a later session links
  /// to becomes a tombstone (ids and links kept) so chains stay readable. The ledger entries of
  /// the removed sessions go with them.
  pub fn gc(&self, max: u64, max_age_ms: u64) -> Result<GcReport> {
    self.write(move |c, sh| sessions::gc(c, max, max_age_ms, &sh.owner))
  }

  /// `gc` queued on the writer thread, not waited for; a failure is logged and reported.
  pub fn gc_later(&self, max: u64, max_age_ms: u64) {
    let Ok(jobs) = self.writer() else { return };
    let shared = Arc::clone(&self.shared);
    let _ = writer::submit(
      jobs,
      move |c, sh| sessions::gc(c, max, max_age_ms, &sh.owner),
      move |r| {
        if let Err(e) = r {
          shared.report(&e);
        }
      },
    );
  }

  /// Blocks until every write queued before this call is done (the writer thread has handled
  /// it). `E_STORE` if the writer has stopped.
  pub fn sync(&self) -> Result<()> {
    self.write(|_, _| Ok(()))
  }

  /// Records a notification as pending, claimed by this manager; false if its key is already
  /// in the ledger (never deliver it twice).
  pub fn ledger_add(&self, n: &Notification) -> Result<bool> {
    let n = n.clone();
    self.write(move |c, sh| ledger::add(c, &n, &sh.owner))
  }

  /// `ledger_add`, awaited.
  pub async fn ledger_add_async(&self, n: &Notification) -> Result<bool> {
    let n = n.clone();
    self
      .write_async(move |c, sh| ledger::add(c, &n, &sh.owner))
      .await
  }

  /// Marks a notification `delivered` or `failed` after `attempts` attempts.
  pub async fn ledger_mark(&self, key: &str, status: &'static str, attempts: u32) -> Result<()> {
    let key = key.to_owned();
    self
      .write_async(move |c, _| ledger::mark(c, &key, status, attempts))
      .await
  }

  /// Whether `key` is pending and claimed by this manager (only then may it go out).
  pub async fn ledger_is_mine(&self, key: &str) -> Result<bool> {
    let key = key.to_owned();
    self
      .write_async(move |c, sh| ledger::is_mine(c, &key, &sh.owner))
      .await
  }

  /// Claims the pending notifications whose manager is gone; oldest first.
  pub async fn ledger_claim_orphans(&self) -> Result<Vec<Notification>> {
    let rows = self
      .write_async(|c, sh| ledger::claim_orphans(c, &sh.owner))
      .await?;
    Ok(
      rows
        .into_iter()
        .filter_map(|(key, data)| self.shared.decode_as(&key, "notification", &data))
        .collect(),
    )
  }

  /// The ledger status of `key` (`pending`, `delivered`, `failed`), if any.
  pub fn ledger_status(&self, key: &str) -> Result<Option<String>> {
    let key = key.to_owned();
    self.read(move |c, _| ledger::status(c, &key))
  }
}

/// Runs `f` on `shared`'s read-only connection, or (`:memory:`) on the writer thread.
fn read_on<T: Send + 'static>(
  shared: &Shared,
  jobs: Option<&std::sync::mpsc::Sender<Job>>,
  f: impl FnOnce(&Connection, &Shared) -> rusqlite::Result<T> + Send + 'static,
) -> Result<T> {
  let guard = shared.read.lock().unwrap_or_else(|e| e.into_inner());
  match guard.as_ref() {
    Some(c) => f(c, shared).map_err(|e| open::explain(&shared.path, "cannot read", &e)),
    None => {
      drop(guard);
      write_waiting(jobs.ok_or_else(|| shared.stopped())?, shared, f)
    }
  }
}

/// Runs `f` in one transaction on the writer thread and waits for it.
fn write_waiting<T: Send + 'static>(
  jobs: &std::sync::mpsc::Sender<Job>,
  shared: &Shared,
  f: impl FnOnce(&Connection, &Shared) -> rusqlite::Result<T> + Send + 'static,
) -> Result<T> {
  let (tx, rx) = std::sync::mpsc::sync_channel(1);
  writer::submit(jobs, f, move |r| {
    let _ = tx.send(r);
  })?;
  rx.recv().map_err(|_| shared.stopped())?
}

fn find_decoded(c: &Connection, sh: &Shared, r: &str) -> rusqlite::Result<Option<StoredSession>> {
  Ok(sessions::find(c, r, sh.layout)?.and_then(|row| sh.decode(row)))
}

fn list_decoded(c: &Connection, sh: &Shared, q: &Query) -> rusqlite::Result<Vec<SessionInfo>> {
  sessions::list(c, q, sh.layout, |id, info| sh.decode_info(id, info))
}

impl Drop for Store {
  fn drop(&mut self) {
    if self.jobs.is_some() {
      registry().remove(&self.shared.owner.token);
    }
  }
}

#[cfg(test)]
mod tests;
