//! The sessions table: one row per session (its latest snapshot as JSON plus the columns
//! queries need). Plain functions over a connection; the writer thread runs the writing ones
//! inside its transactions, readers run the rest on their read-only connection.

use crate::model::event::{now_ms, EndReason, Status};
use crate::store::{GcReport, Owner, Query, StoredSession};
use rusqlite::{params, params_from_iter, Connection, OptionalExtension};

type Sql<T> = rusqlite::Result<T>;

/// A row as read: its id and its JSON (decoded by the caller, which skips and reports an
/// undecodable one).
pub(crate) type Row = (String, String);

/// Writes one session's latest snapshot (insert or replace), owned by `owner`.
pub(crate) fn upsert(c: &Connection, s: &StoredSession, owner: &Owner) -> Sql<()> {
  let data =
    serde_json::to_string(s).map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))?;
  let i = &s.info;
  c.prepare_cached(
    "INSERT INTO sessions (id, name, backend_session_id, status, created_at, ended_at,
       resumed_from_id, forked_from_id, tombstone, owner_pid, owner_start, data, backend,
       owner_boot)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0, ?9, ?10, ?11, ?12, ?13)
     ON CONFLICT(id) DO UPDATE SET name = ?2, backend_session_id = ?3, status = ?4,
       ended_at = ?6, resumed_from_id = ?7, forked_from_id = ?8, tombstone = 0,
       owner_pid = ?9, owner_start = ?10, data = ?11, backend = ?12, owner_boot = ?13",
  )?
  .execute(params![
    i.id,
    i.name,
    i.backend_session_id,
    i.status.as_str(),
    i.created_at as i64,
    i.ended_at.map(|t| t as i64),
    i.resumed_from_id,
    i.forked_from_id,
    owner.pid as i64,
    owner.start.map(|t| t as i64),
    data,
    i.backend.as_str(),
    owner.boot,
  ])
  .map(|_| ())
}

/// Removes a session and its settled ledger entries.
pub(crate) fn delete(c: &Connection, id: &str) -> Sql<()> {
  c.execute("DELETE FROM sessions WHERE id = ?1", params![id])?;
  crate::store::ledger::prune(c, id)
}

/// One session by id, name (newest) or backend session id (newest); tombstones included.
pub(crate) fn find(c: &Connection, r: &str) -> Sql<Option<Row>> {
  c.prepare_cached(
    "SELECT id, data FROM sessions WHERE id = ?1
     UNION ALL SELECT * FROM (SELECT id, data FROM sessions WHERE name = ?1 ORDER BY created_at DESC LIMIT 1)
     UNION ALL SELECT * FROM (SELECT id, data FROM sessions WHERE backend_session_id = ?1 ORDER BY created_at DESC LIMIT 1)
     LIMIT 1",
  )?
  .query_row(params![r], |row| Ok((row.get(0)?, row.get(1)?)))
  .optional()
}

/// As `find`, among the sessions of `owner` only (`info.owner`, else `info.origin.owner` for
/// rows written before the owner was).
pub(crate) fn find_owned(c: &Connection, r: &str, owner: &str) -> Sql<Option<Row>> {
  c.prepare_cached(
    "WITH mine AS (SELECT id, name, backend_session_id, created_at, data FROM sessions
       WHERE coalesce(json_extract(data, '$.info.owner'), json_extract(data, '$.info.origin.owner')) = ?2)
     SELECT id, data FROM mine WHERE id = ?1
     UNION ALL SELECT * FROM (SELECT id, data FROM mine WHERE name = ?1 ORDER BY created_at DESC LIMIT 1)
     UNION ALL SELECT * FROM (SELECT id, data FROM mine WHERE backend_session_id = ?1 ORDER BY created_at DESC LIMIT 1)
     LIMIT 1",
  )?
  .query_row(params![r, owner], |row| Ok((row.get(0)?, row.get(1)?)))
  .optional()
}

/// Sessions that are not tombstones, oldest first, filtered and limited in SQL.
pub(crate) fn list(c: &Connection, q: &Query) -> Sql<Vec<Row>> {
  let mut sql = String::from("SELECT id, data FROM sessions WHERE tombstone = 0");
  let mut args: Vec<String> = Vec::new();
  if !q.statuses.is_empty() {
    let marks = vec!["?"; q.statuses.len()].join(", ");
    sql.push_str(&format!(" AND status IN ({marks})"));
    args.extend(q.statuses.iter().cloned());
  }
  if let Some(b) = &q.backend {
    sql.push_str(" AND backend = ?");
    args.push(b.clone());
  }
  sql = match q.limit {
    // The newest `n`, returned oldest first.
    Some(n) => format!(
      "SELECT id, data FROM ({} ORDER BY created_at DESC, id DESC LIMIT {n}) ORDER BY created_at, id",
      sql.replacen("SELECT id, data", "SELECT id, data, created_at", 1)
    ),
    None => format!("{sql} ORDER BY created_at, id"),
  };
  let mut stmt = c.prepare_cached(&sql)?;
  let rows = stmt.query_map(params_from_iter(args.iter()), |r| {
    Ok((r.get(0)?, r.get(1)?))
  })?;
  rows.collect()
}

/// How many sessions the store holds (tombstones not counted).
pub(crate) fn count(c: &Connection) -> Sql<u64> {
  c.query_row(
    "SELECT COUNT(*) FROM sessions WHERE tombstone = 0",
    [],
    |r| r.get::<_, i64>(0),
  )
  .map(|n| n as u64)
}

/// A live row and its owner (pid, start time, boot id), for recovery.
pub(crate) type LiveRow = (Row, Option<i64>, Option<i64>, Option<String>);

pub(crate) fn live_rows(c: &Connection) -> Sql<Vec<LiveRow>> {
  let mut stmt = c.prepare(
    "SELECT id, data, owner_pid, owner_start, owner_boot FROM sessions
     WHERE status IN ('starting', 'running', 'waiting-for-input')",
  )?;
  let rows = stmt.query_map([], |r| {
    Ok(((r.get(0)?, r.get(1)?), r.get(2)?, r.get(3)?, r.get(4)?))
  })?;
  rows.collect()
}

/// A session left live by a dead manager, as recovery stores it.
pub(crate) fn interrupted(mut s: StoredSession) -> StoredSession {
  let now = now_ms();
  s.info.status = Status::Interrupted;
  s.info.status_reason = Some(crate::model::event::StatusReason::Limit);
  s.info.end_reason = Some(EndReason::ManagerRestart);
  s.info.ended_at = Some(now);
  s.info.updated_at = now;
  s.info.pending_permissions.clear();
  s
}

/// Retention, in the caller's transaction: keeps at most `max` sessions and none that ended
/// more than `max_age_ms` ago (0: no age limit). Only finished sessions go, oldest first; one
/// that a later session links to becomes a tombstone. An undecodable row is never touched.
pub(crate) fn gc(c: &Connection, max: u64, max_age_ms: u64, owner: &Owner) -> Sql<GcReport> {
  let mut report = GcReport::default();
  let cutoff = if max_age_ms > 0 {
    now_ms().saturating_sub(max_age_ms) as i64
  } else {
    -1
  };
  let total = count(c)? as i64;
  let excess = (total - max as i64).max(0);
  let victims: Vec<(String, String, bool)> = {
    let mut stmt = c.prepare_cached(
      "SELECT id, data, EXISTS(SELECT 1 FROM sessions c WHERE c.resumed_from_id = s.id OR c.forked_from_id = s.id)
       FROM sessions s
       WHERE tombstone = 0 AND status IN ('completed', 'failed', 'interrupted', 'killed')
         AND (ended_at <= ?1 OR id IN (
           SELECT id FROM sessions WHERE tombstone = 0
             AND status IN ('completed', 'failed', 'interrupted', 'killed')
           ORDER BY created_at LIMIT ?2))",
    )?;
    let rows = stmt.query_map(params![cutoff, excess], |r| {
      Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    })?;
    rows.collect::<Sql<_>>()?
  };
  for (id, data, linked) in victims {
    if linked {
      let Ok(mut s) = serde_json::from_str::<StoredSession>(&data) else {
        continue; // kept for inspection; reported where it is read
      };
      s.info.evicted = true;
      s.info.first_prompt = String::new();
      s.info.last_assistant_text = None;
      s.info.stderr_tail = Vec::new();
      s.summary = Vec::new();
      upsert(c, &s, owner)?;
      c.execute(
        "UPDATE sessions SET tombstone = 1 WHERE id = ?1",
        params![id],
      )?;
      crate::store::ledger::prune(c, &id)?;
      report.tombstoned += 1;
    } else {
      delete(c, &id)?;
      report.deleted += 1;
    }
  }
  Ok(report)
}
