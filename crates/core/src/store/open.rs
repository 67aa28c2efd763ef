//! Opening the store file: what a reader may open (only our store, read-only, never changed)
//! and what a manager may do (create, migrate, and move a damaged file of ours aside). The
//! schema and its migrations live here.

use crate::model::error::{Error, Result};
use crate::model::event::now_ms;
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};

/// Our `PRAGMA application_id` ("OCSS"): a file without it is not ours to change.
pub const APPLICATION_ID: i32 = 0x4F43_5353;

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
  // 3: which manager claimed a pending notification (pid, start time, instance), the backend
  // column `list()` filters on, and the ledger's link to its sessions for pruning.
  "ALTER TABLE notifications ADD COLUMN claim_pid INTEGER;
   ALTER TABLE notifications ADD COLUMN claim_start INTEGER;
   ALTER TABLE notifications ADD COLUMN claim_token TEXT;
   CREATE INDEX notifications_session ON notifications(session_id);
   ALTER TABLE sessions ADD COLUMN backend TEXT;
   UPDATE sessions SET backend = json_extract(data, '$.info.backend');
   CREATE INDEX sessions_backend ON sessions(backend);",
  // 4: the boot the owning manager ran in (/proc/sys/kernel/random/boot_id): with pid and
  // start time it tells a dead manager from a live one across reboots.
  "ALTER TABLE sessions ADD COLUMN owner_boot TEXT;",
  // 5: the listing apart from the rest. `info` (the `SessionInfo`, all a listing decodes)
  // stays in the session's row; the last turns, spawn options and thread usage move to
  // `session_details`, read only for one session. A row whose JSON no longer decodes keeps
  // its text in `info` (still reported, still kept for inspection).
  "CREATE TABLE session_details (id TEXT PRIMARY KEY, data TEXT NOT NULL);
   INSERT INTO session_details (id, data)
     SELECT id, CASE WHEN json_valid(data) THEN json_remove(data, '$.info') ELSE '{}' END
     FROM sessions;
   ALTER TABLE sessions ADD COLUMN info TEXT;
   UPDATE sessions SET info = CASE
     WHEN json_valid(data) AND json_type(data, '$.info') = 'object' THEN json_extract(data, '$.info')
     ELSE data END;
   ALTER TABLE sessions DROP COLUMN data;",
];

/// The first schema with `session_details` (a reader of an older store reads the old layout).
pub(crate) const SPLIT_SCHEMA: usize = 5;

#[cfg(test)]
pub(crate) const MIGRATIONS_FOR_TESTS: &[&str] = MIGRATIONS;

/// The schema version this release writes.
pub const SCHEMA_VERSION: usize = MIGRATIONS.len();

pub(crate) fn store_error(path: &str, what: &str, e: impl std::fmt::Display) -> Error {
  Error::Store(format!("session store {path}: {what}: {e}"))
}

/// An SQLite failure said plainly: a full disk says so, a read-only file or directory says to
/// check permissions.
pub(crate) fn explain(path: &str, what: &str, e: &rusqlite::Error) -> Error {
  use rusqlite::ErrorCode as C;
  let why = match e.sqlite_error_code() {
    Some(C::DiskFull) => "the disk is full; free space and the writes are retried",
    Some(C::ReadOnly | C::PermissionDenied | C::CannotOpen) => {
      "cannot write (check the file's and its directory's permissions)"
    }
    Some(C::NotADatabase | C::DatabaseCorrupt) => "the file is damaged",
    Some(C::SystemIoFailure) => "an I/O error (the disk failed or the file was removed)",
    _ => what,
  };
  store_error(path, why, e)
}

pub(crate) fn is_corrupt(e: &rusqlite::Error) -> bool {
  matches!(
    e.sqlite_error_code(),
    Some(rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt)
  )
}

/// What the first 100 bytes say about a file (read without SQLite, which would create side
/// files next to a WAL database even when reading).
#[derive(Debug, PartialEq)]
enum Header {
  /// Zero bytes: nothing written yet.
  Empty,
  /// An SQLite database with this application id.
  Sqlite { application_id: i32 },
  /// Anything else.
  NotSqlite,
}

fn header(p: &Path) -> std::io::Result<Header> {
  use std::io::Read;
  let mut f = std::fs::File::open(p)?;
  let mut buf = Vec::with_capacity(100);
  f.by_ref().take(100).read_to_end(&mut buf)?;
  if buf.is_empty() {
    return Ok(Header::Empty);
  }
  if buf.len() < 100 || &buf[..16] != b"SQLite format 3\0" {
    return Ok(Header::NotSqlite);
  }
  let id = i32::from_be_bytes([buf[68], buf[69], buf[70], buf[71]]);
  Ok(Header::Sqlite { application_id: id })
}

/// Refuses (naming the path and the problem) a file that is not our store. `legacy_ok`: a
/// manager also takes a file without an application id when its tables are ours (written by
/// a release before the id) or it has none (a fresh database).
fn check_ours(path: &str, legacy_ok: bool) -> Result<()> {
  let h = header(Path::new(path)).map_err(|e| store_error(path, "cannot read", e))?;
  let refuse = |why: String| {
    Err(Error::Store(format!(
      "{path} is not an openclaw-sessions store ({why}); nothing was changed. Pick another \
       --store / storePath"
    )))
  };
  match h {
    Header::Sqlite { application_id } if application_id == APPLICATION_ID => Ok(()),
    Header::Empty if legacy_ok => Ok(()),
    Header::Empty => refuse("the file is empty".into()),
    Header::NotSqlite => refuse("not an SQLite database".into()),
    Header::Sqlite { application_id: 0 } if legacy_ok => {
      let ro = Connection::open_with_flags(path, read_only_flags())
        .map_err(|e| explain(path, "cannot open", &e))?;
      let tables: Vec<String> = ro
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .map_err(|e| explain(path, "cannot read", &e))?;
      let ours = ["notifications", "session_details", "sessions"];
      if tables.iter().all(|t| ours.contains(&t.as_str())) {
        Ok(())
      } else {
        refuse(format!(
          "an SQLite database of another application: tables {}",
          tables.join(", ")
        ))
      }
    }
    Header::Sqlite { application_id } => refuse(format!(
      "an SQLite database of another application (application_id {application_id:#x})"
    )),
  }
}

fn read_only_flags() -> OpenFlags {
  OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI
}

/// Refuses a schema newer than this release's.
fn check_version(path: &str, conn: &Connection) -> Result<()> {
  let v = version(conn).map_err(|e| explain(path, "cannot read", &e))?;
  if v > SCHEMA_VERSION {
    return Err(Error::Store(format!(
      "session store {path} was written by a newer release (schema {v}; this one knows up to \
       {SCHEMA_VERSION}); nothing was changed. Upgrade openclaw-sessions to read it"
    )));
  }
  Ok(())
}

/// The schema version of the file open on `conn`.
pub(crate) fn version(conn: &Connection) -> rusqlite::Result<usize> {
  conn.pragma_query_value(None, "user_version", |r| r.get(0))
}

/// A read-only connection to an existing store of ours: never creates, migrates or renames
/// anything. `E_STORE` naming the path and what is wrong otherwise.
pub(crate) fn open_reader(path: &str) -> Result<Connection> {
  if path == ":memory:" {
    return Err(Error::Store(
      "`:memory:` holds no stored sessions to read; give a store file".into(),
    ));
  }
  match std::fs::metadata(path) {
    Ok(m) if m.is_file() => {}
    Ok(_) => return Err(store_error(path, "not a file", "nothing was changed")),
    Err(e) => {
      return Err(store_error(
        path,
        "cannot read (no store was created; a manager creates it)",
        e,
      ))
    }
  }
  check_ours(path, false)?;
  let conn = Connection::open_with_flags(path, read_only_flags())
    .map_err(|e| explain(path, "cannot open", &e))?;
  conn
    .busy_timeout(std::time::Duration::from_secs(2))
    .map_err(|e| explain(path, "cannot open", &e))?;
  check_version(path, &conn)?;
  Ok(conn)
}

/// What a manager's open found worth reporting (a damaged store moved aside).
pub(crate) type Warnings = Vec<Error>;

/// The manager's connection: creates the file (mode 0600) and its directory, checks it is ours,
/// migrates it, and moves a damaged file of ours aside for a fresh one (a warning).
pub(crate) fn open_writer(path: &str) -> Result<(Connection, Warnings)> {
  if path == ":memory:" {
    let conn = Connection::open_in_memory().map_err(|e| explain(path, "cannot open", &e))?;
    init(&conn, None).map_err(|e| explain(path, "cannot open", &e))?;
    return Ok((conn, Vec::new()));
  }
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
  check_ours(path, true)?;
  match open_checked(path) {
    Ok(conn) => Ok((conn, Vec::new())),
    Err(Damaged(why)) => {
      let aside = move_aside(p);
      let warning = Error::Store(format!(
        "session store {path} was damaged ({why}); it was moved aside to {} (nothing was \
         deleted) and a fresh store started",
        aside.display()
      ));
      create_private(p).map_err(|e| store_error(path, "cannot create the file", e))?;
      let conn = open_checked(path).map_err(|f| match f {
        Damaged(why) => store_error(path, "damaged", why),
        Other(e) => e,
      })?;
      let (sessions, notifications) = salvage(&conn, &aside);
      let warning = Error::Store(format!(
        "{warning}; {sessions} sessions and {notifications} notification ledger entries that \
         could still be read were copied into it"
      ));
      Ok((conn, vec![warning]))
    }
    Err(Other(e)) => Err(e),
  }
}

enum Failure {
  Damaged(String),
  Other(Error),
}
use Failure::{Damaged, Other};

/// Opens, checks integrity (`quick_check`) and migrates.
fn open_checked(path: &str) -> std::result::Result<Connection, Failure> {
  let sorted = |e: rusqlite::Error| {
    if is_corrupt(&e) {
      Damaged(e.to_string())
    } else {
      Other(explain(path, "cannot be opened for writing", &e))
    }
  };
  let conn = Connection::open(path).map_err(sorted)?;
  conn
    .busy_timeout(std::time::Duration::from_secs(5))
    .map_err(sorted)?;
  check_version(path, &conn).map_err(Other)?;
  // Memory-mapped for the check only (it reads every page; about twice as fast so). Not kept
  // on: a file truncated by someone else under a mapping would be SIGBUS, not an error.
  conn
    .pragma_update(None, "mmap_size", 1i64 << 30)
    .map_err(sorted)?;
  let check: Vec<String> = conn
    .prepare("PRAGMA quick_check")
    .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
    .map_err(sorted)?;
  conn.pragma_update(None, "mmap_size", 0).map_err(sorted)?;
  if check.first().map(String::as_str) != Some("ok") {
    return Err(Damaged(check.join("; ")));
  }
  init(&conn, Some(Path::new(path))).map_err(sorted)?;
  Ok(conn)
}

/// Migrations and our application id in one write transaction (proves the file is writable),
/// then WAL for the file at `wal` (`None`: in memory). A checkpoint puts the header with our id
/// into the main file for readers, when it is not there yet (a checkpoint at every open would
/// cost a sync of the file).
fn init(conn: &Connection, wal: Option<&Path>) -> rusqlite::Result<()> {
  if wal.is_some() {
    // Before the transaction, so it does not wait for a sync either (WAL: synced at checkpoints).
    conn.pragma_update(None, "synchronous", "NORMAL")?;
  }
  conn.execute_batch("BEGIN IMMEDIATE")?;
  let run = || -> rusqlite::Result<()> {
    let version: usize = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
      conn.execute_batch(sql)?;
      conn.pragma_update(None, "user_version", i + 1)?;
    }
    conn.pragma_update(None, "application_id", APPLICATION_ID)
  };
  match run() {
    Ok(()) => conn.execute_batch("COMMIT")?,
    Err(e) => {
      let _ = conn.execute_batch("ROLLBACK");
      return Err(e);
    }
  }
  if let Some(path) = wal {
    conn.pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(()))?;
    let ours = matches!(
      header(path),
      Ok(Header::Sqlite { application_id }) if application_id == APPLICATION_ID
    );
    if !ours {
      let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
    }
  }
  Ok(())
}

/// Copies every row that can still be read from a damaged store of ours (`aside`, same schema)
/// into the fresh one, row by row so a damaged page loses only its own rows. Best effort: what
/// cannot be read stays in the moved-aside file. Returns (sessions, ledger entries) copied.
fn salvage(conn: &Connection, aside: &Path) -> (u64, u64) {
  let Ok(old) = Connection::open_with_flags(aside, read_only_flags()) else {
    return (0, 0);
  };
  let same_schema = old
    .pragma_query_value(None, "user_version", |r| r.get::<_, usize>(0))
    .is_ok_and(|v| v == SCHEMA_VERSION);
  if !same_schema {
    return (0, 0);
  }
  let read = |table: &str| -> Vec<Vec<rusqlite::types::Value>> {
    let max: i64 = old
      .query_row(&format!("SELECT max(rowid) FROM {table}"), [], |r| {
        r.get::<_, Option<i64>>(0)
      })
      .ok()
      .flatten()
      .unwrap_or(0);
    let sql = format!("SELECT * FROM {table} WHERE rowid = ?1");
    (1..=max.min(10_000_000))
      .filter_map(|i| {
        old
          .query_row(&sql, [i], |r| {
            (0..r.as_ref().column_count()).map(|k| r.get(k)).collect()
          })
          .ok()
      })
      .collect()
  };
  let copy = |table: &str, rows: &[Vec<rusqlite::types::Value>]| -> rusqlite::Result<u64> {
    let mut n = 0;
    for row in rows {
      let marks = vec!["?"; row.len()].join(", ");
      let sql = format!("INSERT OR IGNORE INTO {table} VALUES ({marks})");
      n += conn.execute(&sql, rusqlite::params_from_iter(row.iter()))? as u64;
    }
    Ok(n)
  };
  let (sessions, details, ledger) = (
    read("sessions"),
    read("session_details"),
    read("notifications"),
  );
  let run = || -> rusqlite::Result<(u64, u64)> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    copy("session_details", &details)?;
    let n = (
      copy("sessions", &sessions)?,
      copy("notifications", &ledger)?,
    );
    conn.execute_batch("COMMIT")?;
    Ok(n)
  };
  run().unwrap_or_else(|_| {
    let _ = conn.execute_batch("ROLLBACK");
    (0, 0)
  })
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
  let aside = PathBuf::from(format!("{}.corrupt-{}", p.display(), now_ms()));
  let _ = std::fs::rename(p, &aside);
  for ext in ["-wal", "-shm"] {
    let side = PathBuf::from(format!("{}{ext}", p.display()));
    if side.exists() {
      let _ = std::fs::rename(&side, format!("{}{ext}", aside.display()));
    }
  }
  aside
}

/// The file's identity (device, inode), to notice it was deleted or replaced while open.
pub(crate) fn identity(path: &str) -> Option<(u64, u64)> {
  use std::os::unix::fs::MetadataExt;
  std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}
