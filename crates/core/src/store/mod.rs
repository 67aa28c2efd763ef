//! Persistence: one SQLite file (WAL, versioned schema, mode 0600) holding every session's
//! latest snapshot, the links of its resume chain, and what is needed to resume it. Written at
//! creation, on each status change and turn end. Owns the schema, migrations, recovery of
//! sessions whose manager died, retention, and the failure modes of a bad file. Knows nothing
//! about processes.

use crate::model::error::{Error, Result};
use crate::model::event::EndReason;
use crate::model::event::{now_ms, Status, Usage};
use crate::model::info::{SessionInfo, SummaryTurn};
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

mod writer;
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

/// Schema migrations; `PRAGMA user_version` is the number applied.
const MIGRATIONS: &[&str] = &[
  // 1: sessions with the columns queries need and the rest as JSON.
  "CREATE TABLE sessions (
     id TEXT PRIMARY KEY,
     name TEXT,
     backend_session_id TEXT,
     status TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     ended_at INTEGER,
     resumed_from_id TEXT,
     forked_from_id TEXT,
     tombstone INTEGER NOT NULL DEFAULT 0,
     owner_pid INTEGER,
     owner_start INTEGER,
     data TEXT NOT NULL
   );
   CREATE INDEX sessions_backend_id ON sessions(backend_session_id);
   CREATE INDEX sessions_name ON sessions(name);
   CREATE INDEX sessions_created ON sessions(created_at);
   CREATE INDEX sessions_status ON sessions(status);
   CREATE INDEX sessions_resumed_from ON sessions(resumed_from_id);
   CREATE INDEX sessions_forked_from ON sessions(forked_from_id);",
  // 2: the notification ledger (exactly-once delivery across restarts).
  "CREATE TABLE notifications (
     key TEXT PRIMARY KEY,
     session_id TEXT NOT NULL,
     status TEXT NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0,
     created_at INTEGER NOT NULL,
     delivered_at INTEGER,
     data TEXT NOT NULL
   );
   CREATE INDEX notifications_status ON notifications(status, created_at);",
];

/// The store file.
pub struct Store {
  conn: Mutex<Connection>,
  path: String,
  /// This process, as the owner of the sessions it writes.
  owner: (u32, Option<u64>),
}

fn store_error(path: &str, what: &str, e: impl std::fmt::Display) -> Error {
  Error::Store(format!("session store {path}: {what}: {e}"))
}

fn is_corrupt(e: &rusqlite::Error) -> bool {
  matches!(
    e.sqlite_error_code(),
    Some(rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt)
  )
}

/// The default path: `$OPENCLAW_STATE_DIR/agent-sessions.db`, else `~/.openclaw/agent-sessions.db`.
pub fn default_path() -> PathBuf {
  let dir = std::env::var_os("OPENCLAW_STATE_DIR")
    .map(PathBuf::from)
    .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".openclaw")))
    .unwrap_or_else(|| PathBuf::from(".openclaw"));
  dir.join("agent-sessions.db")
}

impl Store {
  /// Opens (creating if needed) the store at `path`, or an in-memory one for `:memory:`.
  /// Fails with `E_STORE` naming the path when the file cannot be opened or written (e.g. a
  /// read-only directory), and when it is corrupt: the bad file is then moved aside (never
  /// deleted) and the message says where; opening again starts a fresh store.
  pub fn open(path: &str) -> Result<Store> {
    let conn = if path == ":memory:" {
      Connection::open_in_memory().map_err(|e| store_error(path, "cannot open", e))?
    } else {
      let p = Path::new(path);
      if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.exists() {
          std::fs::create_dir_all(dir)
            .map_err(|e| store_error(path, "cannot create its directory", e))?;
          use std::os::unix::fs::PermissionsExt;
          let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
        }
      }
      create_private(p).map_err(|e| store_error(path, "cannot create the file", e))?;
      Connection::open(p).map_err(|e| store_error(path, "cannot open", e))?
    };
    let me = std::process::id();
    let store = Store {
      conn: Mutex::new(conn),
      path: path.to_owned(),
      owner: (me, crate::process::start_time(me)),
    };
    match store.init() {
      Ok(()) => Ok(store),
      Err(e) if is_corrupt(&e) && path != ":memory:" => {
        drop(store);
        let aside = move_aside(Path::new(path));
        Err(Error::Store(format!(
          "session store {path} is corrupt ({e}); it was moved aside to {} (nothing was \
           deleted). Create the manager again to start a fresh store, or restore the file",
          aside.display()
        )))
      }
      Err(e) => Err(store_error(
        path,
        "cannot be written (check the directory's permissions)",
        e,
      )),
    }
  }

  /// Pragmas and migrations, in one write transaction: proves the file is writable now.
  fn init(&self) -> rusqlite::Result<()> {
    let mut conn = self.lock();
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    if self.path != ":memory:" {
      conn.pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(()))?;
    }
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let version: usize = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
      tx.execute_batch(sql)?;
      tx.pragma_update(None, "user_version", i + 1)?;
    }
    tx.commit()
  }

  fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
    self.conn.lock().unwrap_or_else(|e| e.into_inner())
  }

  pub fn path(&self) -> &str {
    &self.path
  }

  fn err(&self, what: &str, e: impl std::fmt::Display) -> Error {
    store_error(&self.path, what, e)
  }

  /// Writes one session's latest snapshot (insert or replace), owned by this process.
  pub fn upsert(&self, s: &StoredSession) -> Result<()> {
    let data = serde_json::to_string(s).map_err(|e| self.err("cannot encode a session", e))?;
    let i = &s.info;
    let conn = self.lock();
    let mut stmt = conn
      .prepare_cached(
        "INSERT INTO sessions (id, name, backend_session_id, status, created_at, ended_at,
           resumed_from_id, forked_from_id, tombstone, owner_pid, owner_start, data)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0, ?9, ?10, ?11)
         ON CONFLICT(id) DO UPDATE SET name = ?2, backend_session_id = ?3, status = ?4,
           ended_at = ?6, resumed_from_id = ?7, forked_from_id = ?8, tombstone = 0,
           owner_pid = ?9, owner_start = ?10, data = ?11",
      )
      .map_err(|e| self.err("cannot write a session", e))?;
    stmt
      .execute(params![
        i.id,
        i.name,
        i.backend_session_id,
        i.status.as_str(),
        i.created_at as i64,
        i.ended_at.map(|t| t as i64),
        i.resumed_from_id,
        i.forked_from_id,
        self.owner.0 as i64,
        self.owner.1.map(|t| t as i64),
        data,
      ])
      .map(|_| ())
      .map_err(|e| self.err("cannot write a session", e))
  }

  /// Records a notification as pending; false if its key is already in the ledger (it was
  /// created before: never deliver it twice).
  pub fn ledger_add(&self, n: &crate::model::notification::Notification) -> Result<bool> {
    let data = serde_json::to_string(n).map_err(|e| self.err("cannot encode a notification", e))?;
    self
      .lock()
      .execute(
        "INSERT OR IGNORE INTO notifications (key, session_id, status, created_at, data)
         VALUES (?1, ?2, 'pending', ?3, ?4)",
        params![n.key, n.session_id, n.at as i64, data],
      )
      .map(|changed| changed == 1)
      .map_err(|e| self.err("cannot write the notification ledger", e))
  }

  /// Marks a notification `delivered` or `failed` after `attempts` attempts.
  pub fn ledger_mark(&self, key: &str, status: &str, attempts: u32) -> Result<()> {
    self
      .lock()
      .execute(
        "UPDATE notifications SET status = ?2, attempts = ?3,
           delivered_at = CASE WHEN ?2 = 'delivered' THEN ?4 ELSE delivered_at END
         WHERE key = ?1",
        params![key, status, attempts, now_ms() as i64],
      )
      .map(|_| ())
      .map_err(|e| self.err("cannot write the notification ledger", e))
  }

  /// Notifications not yet delivered (nor given up on), oldest first.
  pub fn ledger_pending(&self) -> Result<Vec<crate::model::notification::Notification>> {
    let conn = self.lock();
    let mut stmt = conn
      .prepare("SELECT data FROM notifications WHERE status = 'pending' ORDER BY created_at, rowid")
      .map_err(|e| self.err("cannot read the notification ledger", e))?;
    let rows: Vec<String> = stmt
      .query_map([], |r| r.get(0))
      .and_then(|rows| rows.collect())
      .map_err(|e| self.err("cannot read the notification ledger", e))?;
    drop(stmt);
    drop(conn);
    rows
      .into_iter()
      .map(|d| serde_json::from_str(&d).map_err(|e| self.err("cannot read a notification", e)))
      .collect()
  }

  /// The ledger status of `key` (`pending`, `delivered`, `failed`), if any.
  pub fn ledger_status(&self, key: &str) -> Result<Option<String>> {
    self
      .lock()
      .query_row(
        "SELECT status FROM notifications WHERE key = ?1",
        params![key],
        |r| r.get(0),
      )
      .optional()
      .map_err(|e| self.err("cannot read the notification ledger", e))
  }

  /// Writes several snapshots in one transaction (the writer's batches).
  pub fn upsert_all(&self, batch: &[StoredSession]) -> Result<()> {
    self
      .lock()
      .execute_batch("BEGIN IMMEDIATE")
      .map_err(|e| self.err("cannot write", e))?;
    let mut result = Ok(());
    for s in batch {
      if let Err(e) = self.upsert(s) {
        result = Err(e);
        break;
      }
    }
    let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
    self
      .lock()
      .execute_batch(end)
      .map_err(|e| self.err("cannot write", e))?;
    result
  }

  /// Removes a session (one that never started).
  pub fn delete(&self, id: &str) -> Result<()> {
    self
      .lock()
      .execute("DELETE FROM sessions WHERE id = ?1", params![id])
      .map(|_| ())
      .map_err(|e| self.err("cannot write", e))
  }

  fn decode(&self, data: String) -> Result<StoredSession> {
    serde_json::from_str(&data).map_err(|e| self.err("cannot read a stored session", e))
  }

  /// One session by id, name (newest) or backend session id (newest); tombstones included.
  pub fn find(&self, r: &str) -> Result<Option<StoredSession>> {
    let data: Option<String> = self
      .lock()
      .query_row(
        "SELECT data FROM sessions WHERE id = ?1
         UNION ALL SELECT * FROM (SELECT data FROM sessions WHERE name = ?1 ORDER BY created_at DESC LIMIT 1)
         UNION ALL SELECT * FROM (SELECT data FROM sessions WHERE backend_session_id = ?1 ORDER BY created_at DESC LIMIT 1)
         LIMIT 1",
        params![r],
        |row| row.get(0),
      )
      .optional()
      .map_err(|e| self.err("cannot read", e))?;
    data.map(|d| self.decode(d)).transpose()
  }

  /// Every session that is not a tombstone, oldest first.
  pub fn all(&self) -> Result<Vec<StoredSession>> {
    let conn = self.lock();
    let mut stmt = conn
      .prepare_cached("SELECT data FROM sessions WHERE tombstone = 0 ORDER BY created_at, id")
      .map_err(|e| self.err("cannot read", e))?;
    let rows: Vec<String> = stmt
      .query_map([], |row| row.get(0))
      .and_then(|rows| rows.collect())
      .map_err(|e| self.err("cannot read", e))?;
    drop(stmt);
    drop(conn);
    rows.into_iter().map(|d| self.decode(d)).collect()
  }

  /// How many sessions the store holds (tombstones not counted).
  pub fn count(&self) -> Result<u64> {
    self
      .lock()
      .query_row(
        "SELECT COUNT(*) FROM sessions WHERE tombstone = 0",
        [],
        |r| r.get::<_, i64>(0),
      )
      .map(|n| n as u64)
      .map_err(|e| self.err("cannot read", e))
  }

  /// The session `id` and its ancestors (resumed-from / forked-from), newest first.
  pub fn chain(&self, id: &str) -> Result<Vec<StoredSession>> {
    let mut out: Vec<StoredSession> = Vec::new();
    let mut next = Some(id.to_owned());
    while let Some(id) = next.take() {
      if out.iter().any(|s| s.info.id == id) {
        break; // a loop would be a bug elsewhere; never spin on it
      }
      match self.find(&id)? {
        Some(s) => {
          next = s
            .info
            .resumed_from_id
            .clone()
            .or_else(|| s.info.forked_from_id.clone());
          out.push(s);
        }
        None => break,
      }
    }
    Ok(out)
  }

  /// Sessions left live by a manager that is gone (its process is not running any more):
  /// marked `interrupted`, `endReason: manager-restart`, and returned so their orphaned
  /// processes can be dealt with. Sessions of a manager that still runs are left alone.
  pub fn recover(&self) -> Result<Vec<StoredSession>> {
    let live = ["starting", "running", "waiting-for-input"];
    let conn = self.lock();
    let mut stmt = conn
      .prepare("SELECT data, owner_pid, owner_start FROM sessions WHERE status IN (?1, ?2, ?3)")
      .map_err(|e| self.err("cannot read", e))?;
    let rows: Vec<(String, Option<i64>, Option<i64>)> = stmt
      .query_map(params![live[0], live[1], live[2]], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
      })
      .and_then(|rows| rows.collect())
      .map_err(|e| self.err("cannot read", e))?;
    drop(stmt);
    drop(conn);
    let mut recovered = Vec::new();
    for (data, pid, start) in rows {
      let owner_alive = match (pid, start) {
        (Some(pid), start) => {
          let pid = pid as u32;
          pid == self.owner.0
            || (start.is_some() && crate::process::start_time(pid) == start.map(|s| s as u64))
        }
        _ => false,
      };
      if owner_alive {
        continue;
      }
      let mut s = self.decode(data)?;
      let now = now_ms();
      s.info.status = Status::Interrupted;
      s.info.status_reason = Some(crate::model::event::StatusReason::Limit);
      s.info.end_reason = Some(EndReason::ManagerRestart);
      s.info.ended_at = Some(now);
      s.info.updated_at = now;
      s.info.pending_permissions.clear();
      let orphan = s.clone();
      s.info.pid = None;
      self.upsert(&s)?;
      recovered.push(orphan);
    }
    Ok(recovered)
  }

  /// Retention: keeps at most `max` sessions and none that ended more than `max_age_ms` ago
  /// (0: no age limit). Only finished sessions go, oldest first; one that a later session links
  /// to becomes a tombstone (ids and links kept) so chains stay readable.
  pub fn gc(&self, max: u64, max_age_ms: u64) -> Result<GcReport> {
    let mut report = GcReport::default();
    let cutoff = if max_age_ms > 0 {
      now_ms().saturating_sub(max_age_ms) as i64
    } else {
      -1
    };
    let conn = self.lock();
    let total: i64 = conn
      .query_row(
        "SELECT COUNT(*) FROM sessions WHERE tombstone = 0",
        [],
        |r| r.get(0),
      )
      .map_err(|e| self.err("cannot read", e))?;
    let excess = (total - max as i64).max(0);
    let mut stmt = conn
      .prepare(
        "SELECT id, data, EXISTS(SELECT 1 FROM sessions c WHERE c.resumed_from_id = s.id OR c.forked_from_id = s.id)
         FROM sessions s
         WHERE tombstone = 0 AND status IN ('completed', 'failed', 'interrupted', 'killed')
           AND (ended_at <= ?1 OR id IN (
             SELECT id FROM sessions WHERE tombstone = 0
               AND status IN ('completed', 'failed', 'interrupted', 'killed')
             ORDER BY created_at LIMIT ?2))",
      )
      .map_err(|e| self.err("cannot read", e))?;
    let victims: Vec<(String, String, bool)> = stmt
      .query_map(params![cutoff, excess], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
      })
      .and_then(|rows| rows.collect())
      .map_err(|e| self.err("cannot read", e))?;
    drop(stmt);
    drop(conn);
    for (id, data, linked) in victims {
      if linked {
        let mut s = self.decode(data)?;
        s.info.evicted = true;
        s.info.first_prompt = String::new();
        s.info.last_assistant_text = None;
        s.info.stderr_tail = Vec::new();
        s.summary = Vec::new();
        self.upsert(&s)?;
        self
          .lock()
          .execute(
            "UPDATE sessions SET tombstone = 1 WHERE id = ?1",
            params![id],
          )
          .map_err(|e| self.err("cannot write", e))?;
        report.tombstoned += 1;
      } else {
        self
          .lock()
          .execute("DELETE FROM sessions WHERE id = ?1", params![id])
          .map_err(|e| self.err("cannot write", e))?;
        report.deleted += 1;
      }
    }
    Ok(report)
  }
}

/// Creates the file with mode 0600 if it does not exist (SQLite would use the umask).
fn create_private(p: &Path) -> std::io::Result<()> {
  use std::os::unix::fs::OpenOptionsExt;
  match std::fs::OpenOptions::new()
    .write(true)
    .create_new(true)
    .mode(0o600)
    .open(p)
  {
    Ok(_) => Ok(()),
    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
    Err(e) => Err(e),
  }
}

/// Renames the file (and its WAL / shared-memory files) to `<path>.corrupt-<ms>`.
fn move_aside(p: &Path) -> PathBuf {
  let stamp = now_ms();
  let aside = PathBuf::from(format!("{}.corrupt-{stamp}", p.display()));
  let _ = std::fs::rename(p, &aside);
  for ext in ["-wal", "-shm"] {
    let side = PathBuf::from(format!("{}{ext}", p.display()));
    if side.exists() {
      let _ = std::fs::rename(&side, format!("{}{ext}", aside.display()));
    }
  }
  aside
}

#[cfg(test)]
mod tests;
