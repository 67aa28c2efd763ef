//! Persistence: one SQLite file (WAL, versioned schema, our `application_id`, mode 0600) holding
//! every session's latest snapshot, the links of its resume chain, what is needed to resume it,
//! and the notification ledger. A manager's store has one writer thread that owns the write
//! connection and runs every write in whole transactions (`writer`); reads use a separate
//! read-only connection. A reader (`open_read_only`) never creates, migrates or renames
//! anything. Knows nothing about processes.
//!
//! Files: `open` (opening, schema, damaged files), `sessions` and `ledger` (their SQL; the
//! ledger's `Store` methods too), `owner` (which manager writes, and whether one still runs),
//! `writer` (the thread).

use crate::model::error::{Error, Result};
use crate::model::event::Usage;
use crate::model::info::{SessionInfo, SummaryTurn};
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use sessions::Layout;
use std::path::PathBuf;
use std::sync::Arc;

mod ledger;
mod open;
mod owner;
mod sessions;
mod writer;
pub use open::{APPLICATION_ID, SCHEMA_VERSION};
pub(crate) use owner::{alive, Owner};
use owner::{boot_id, registry};
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
