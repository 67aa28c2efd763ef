//! The sessions tables: one row per session in `sessions` (the columns queries need and the
//! `SessionInfo` as JSON, all a listing reads) and one in `session_details` (the last turns,
//! spawn options and thread usage, read only for one session). Plain functions over a
//! connection; the writer thread runs the writing ones inside its transactions, readers run the
//! rest on their read-only connection.

use crate::model::event::{now_ms, EndReason, Status, Usage};
use crate::model::info::{SessionInfo, SummaryTurn};
use crate::store::{GcReport, Owner, Query, StoredSession};
use rusqlite::types::ValueRef;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

type Sql<T> = rusqlite::Result<T>;

/// A session as read: its id, its `SessionInfo` JSON and its details JSON (decoded by the
/// caller, which skips and reports an undecodable one).
pub(crate) struct Row {
  pub id: String,
  pub info: Option<String>,
  pub details: Option<String>,
}

/// Where a session's parts are read from: the split layout of schema 5 on, or (for a reader
/// of a store an older release wrote, which it never migrates) the one `data` column of before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
  Split,
  Legacy,
}

impl Layout {
  /// The `SessionInfo` JSON of row `s`.
  fn info(self) -> &'static str {
    match self {
      Layout::Split => "s.info",
      Layout::Legacy => {
        "CASE WHEN json_valid(s.data) AND json_type(s.data, '$.info') = 'object' \
         THEN json_extract(s.data, '$.info') ELSE s.data END"
      }
    }
  }

  /// The details JSON of row `s` and where it comes from.
  fn details(self) -> (&'static str, &'static str) {
    match self {
      Layout::Split => (
        "d.data",
        "sessions s LEFT JOIN session_details d ON d.id = s.id",
      ),
      Layout::Legacy => (
        "CASE WHEN json_valid(s.data) THEN json_remove(s.data, '$.info') END",
        "sessions s",
      ),
    }
  }
}

/// What a session stores besides its `SessionInfo` (`session_details.data`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DetailsRef<'a> {
  summary: &'a [SummaryTurn],
  options: &'a serde_json::Value,
  thread_usage: &'a Usage,
  pid_start: Option<u64>,
}

/// `DetailsRef` read back (absent fields: their defaults).
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct Details {
  pub summary: Vec<SummaryTurn>,
  pub options: serde_json::Value,
  pub thread_usage: Usage,
  pub pid_start: Option<u64>,
}

fn json<T: Serialize>(v: &T) -> Sql<String> {
  serde_json::to_string(v).map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))
}

/// Writes one session's latest snapshot (insert or replace), owned by `owner`.
pub(crate) fn upsert(c: &Connection, s: &StoredSession, owner: &Owner) -> Sql<()> {
  let i = &s.info;
  let details = json(&DetailsRef {
    summary: &s.summary,
    options: &s.options,
    thread_usage: &s.thread_usage,
    pid_start: s.pid_start,
  })?;
  c.prepare_cached(
    "INSERT INTO sessions (id, name, backend_session_id, status, created_at, ended_at,
       resumed_from_id, forked_from_id, tombstone, owner_pid, owner_start, info, backend,
       owner_boot)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0, ?9, ?10, ?11, ?12, ?13)
     ON CONFLICT(id) DO UPDATE SET name = ?2, backend_session_id = ?3, status = ?4,
       ended_at = ?6, resumed_from_id = ?7, forked_from_id = ?8, tombstone = 0,
       owner_pid = ?9, owner_start = ?10, info = ?11, backend = ?12, owner_boot = ?13",
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
    json(i)?,
    i.backend.as_str(),
    owner.boot,
  ])?;
  c.prepare_cached(
    "INSERT INTO session_details (id, data) VALUES (?1, ?2)
     ON CONFLICT(id) DO UPDATE SET data = ?2",
  )?
  .execute(params![i.id, details])
  .map(|_| ())
}

/// Removes a session and its settled ledger entries.
pub(crate) fn delete(c: &Connection, id: &str) -> Sql<()> {
  c.execute("DELETE FROM sessions WHERE id = ?1", params![id])?;
  c.execute("DELETE FROM session_details WHERE id = ?1", params![id])?;
  crate::store::ledger::prune(c, id)
}

/// One session by id, name (newest) or backend session id (newest); tombstones included.
pub(crate) fn find(c: &Connection, r: &str, layout: Layout) -> Sql<Option<Row>> {
  let (details, from) = layout.details();
  let sql = format!(
    "SELECT s.id, {}, {details} FROM {from} WHERE s.id = (
       SELECT id FROM sessions WHERE id = ?1
       UNION ALL SELECT * FROM (SELECT id FROM sessions WHERE name = ?1 ORDER BY created_at DESC LIMIT 1)
       UNION ALL SELECT * FROM (SELECT id FROM sessions WHERE backend_session_id = ?1 ORDER BY created_at DESC LIMIT 1)
       LIMIT 1)",
    layout.info()
  );
  c.prepare_cached(&sql)?
    .query_row(params![r], |row| {
      Ok(Row {
        id: row.get(0)?,
        info: row.get(1)?,
        details: row.get(2)?,
      })
    })
    .optional()
}

/// As `find`, among the sessions of `owner` only (`info.owner`, else `info.origin.owner` for
/// rows written before the owner was).
pub(crate) fn find_owned(c: &Connection, r: &str, owner: &str, layout: Layout) -> Sql<Option<Row>> {
  let (details, from) = layout.details();
  let info = layout.info();
  let sql = format!(
    "WITH mine AS (SELECT s.id, s.name, s.backend_session_id, s.created_at FROM sessions s
       WHERE coalesce(json_extract({info}, '$.owner'), json_extract({info}, '$.origin.owner')) = ?2)
     SELECT s.id, {info}, {details} FROM {from} WHERE s.id = (
       SELECT id FROM mine WHERE id = ?1
       UNION ALL SELECT * FROM (SELECT id FROM mine WHERE name = ?1 ORDER BY created_at DESC LIMIT 1)
       UNION ALL SELECT * FROM (SELECT id FROM mine WHERE backend_session_id = ?1 ORDER BY created_at DESC LIMIT 1)
       LIMIT 1)"
  );
  c.prepare_cached(&sql)?
    .query_row(params![r, owner], |row| {
      Ok(Row {
        id: row.get(0)?,
        info: row.get(1)?,
        details: row.get(2)?,
      })
    })
    .optional()
}

/// The `SessionInfo` of the sessions `q` selects (tombstones left out), oldest first: filters
/// and limit in SQL, nothing else read. `decode` turns a row's id and JSON (borrowed from
/// SQLite, not copied) into the info, or `None` to skip it. A long listing is decoded on two
/// threads (`shared_decode`).
pub(crate) fn list(
  c: &Connection,
  q: &Query,
  layout: Layout,
  decode: impl Fn(&str, Option<&str>) -> Option<SessionInfo> + Sync,
) -> Sql<Vec<SessionInfo>> {
  let mut sql = format!(
    "SELECT s.id, {} FROM sessions s WHERE s.tombstone = 0",
    layout.info()
  );
  let mut args: Vec<&str> = Vec::new();
  for (column, values) in [("status", &q.statuses), ("backend", &q.backends)] {
    if !values.is_empty() {
      let marks = vec!["?"; values.len()].join(", ");
      sql.push_str(&format!(" AND s.{column} IN ({marks})"));
      args.extend(values.iter().map(String::as_str));
    }
  }
  if let Some(n) = q.limit {
    // The newest `n` (SQLite keeps only those while it scans).
    sql.push_str(&format!(" ORDER BY s.created_at DESC, s.id DESC LIMIT {n}"));
  }
  let mut stmt = c.prepare_cached(&sql)?;
  let mut rows = stmt.query(params_from_iter(args.iter()))?;
  let mut out = shared_decode(&mut rows, &decode)?;
  // Oldest first. Sorted here rather than by SQLite, whose sorter would copy every row's JSON.
  out.sort_unstable_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
  Ok(out)
}

/// Rows a listing decodes on its own thread before it shares the work.
const SHARE_FROM: usize = 1024;
/// Rows per block handed to the second thread.
const BLOCK: usize = 256;

/// Decodes the `(id, info)` rows in any order. Up to `SHARE_FROM` rows on this thread, from the
/// JSON SQLite holds; beyond that every other block of `BLOCK` rows is copied and decoded on a
/// second (scoped) thread while this one reads and decodes the rest, so a 10k listing takes
/// about the read and half the decoding (`benches/store.rs`).
fn shared_decode(
  rows: &mut rusqlite::Rows<'_>,
  decode: &(impl Fn(&str, Option<&str>) -> Option<SessionInfo> + Sync),
) -> Sql<Vec<SessionInfo>> {
  std::thread::scope(|scope| {
    let mut out = Vec::new();
    let mut helper = None;
    let mut block: Vec<(String, Option<String>)> = Vec::new();
    let mut n = 0usize;
    while let Some(r) = rows.next()? {
      let (id, info) = (text(r, 0)?.unwrap_or_default(), text(r, 1)?);
      n += 1;
      if n <= SHARE_FROM || (n / BLOCK).is_multiple_of(3) {
        out.extend(decode(id, info));
        continue;
      }
      block.push((id.to_owned(), info.map(str::to_owned)));
      if block.len() == BLOCK {
        let (tx, _) = helper.get_or_insert_with(|| {
          let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<(String, Option<String>)>>(4);
          let decoded = scope.spawn(move || {
            rx.into_iter()
              .flatten()
              .filter_map(|(id, info)| decode(&id, info.as_deref()))
              .collect::<Vec<_>>()
          });
          (tx, decoded)
        });
        // The helper only stops when `tx` is dropped, so this send cannot fail.
        let _ = tx.send(std::mem::take(&mut block));
      }
    }
    out.extend(
      block
        .iter()
        .filter_map(|(id, info)| decode(id, info.as_deref())),
    );
    if let Some((tx, decoded)) = helper {
      drop(tx);
      out.extend(
        decoded
          .join()
          .unwrap_or_else(|p| std::panic::resume_unwind(p)),
      );
    }
    Ok(out)
  })
}

/// Column `i` of `r` as text borrowed from SQLite (`None` for NULL).
fn text<'r>(r: &'r rusqlite::Row<'_>, i: usize) -> Sql<Option<&'r str>> {
  match r.get_ref(i)? {
    ValueRef::Null => Ok(None),
    v => v.as_str().map(Some).map_err(Into::into),
  }
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

/// The rows left live (the writer's connection: always the split layout).
pub(crate) fn live_rows(c: &Connection) -> Sql<Vec<LiveRow>> {
  let mut stmt = c.prepare(
    "SELECT s.id, s.info, d.data, s.owner_pid, s.owner_start, s.owner_boot
     FROM sessions s LEFT JOIN session_details d ON d.id = s.id
     WHERE s.status IN ('starting', 'running', 'waiting-for-input')",
  )?;
  let rows = stmt.query_map([], |r| {
    Ok((
      Row {
        id: r.get(0)?,
        info: r.get(1)?,
        details: r.get(2)?,
      },
      r.get(3)?,
      r.get(4)?,
      r.get(5)?,
    ))
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
  let victims: Vec<(Row, bool)> = {
    let mut stmt = c.prepare_cached(
      "SELECT s.id, s.info, d.data,
         EXISTS(SELECT 1 FROM sessions c WHERE c.resumed_from_id = s.id OR c.forked_from_id = s.id)
       FROM sessions s LEFT JOIN session_details d ON d.id = s.id
       WHERE s.tombstone = 0 AND s.status IN ('completed', 'failed', 'interrupted', 'killed')
         AND (s.ended_at <= ?1 OR s.id IN (
           SELECT id FROM sessions WHERE tombstone = 0
             AND status IN ('completed', 'failed', 'interrupted', 'killed')
           ORDER BY created_at LIMIT ?2))",
    )?;
    let rows = stmt.query_map(params![cutoff, excess], |r| {
      let row = Row {
        id: r.get(0)?,
        info: r.get(1)?,
        details: r.get(2)?,
      };
      Ok((row, r.get(3)?))
    })?;
    rows.collect::<Sql<_>>()?
  };
  for (row, linked) in victims {
    let id = row.id.clone();
    if linked {
      let Ok(mut s) = decode(row) else {
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

/// A session's row decoded (its details default when missing).
pub(crate) fn decode(row: Row) -> serde_json::Result<StoredSession> {
  let info = serde_json::from_str(row.info.as_deref().unwrap_or("null"))?;
  let d: Details = match row.details.as_deref() {
    Some(text) => serde_json::from_str(text)?,
    None => Details::default(),
  };
  Ok(StoredSession {
    info,
    summary: d.summary,
    options: d.options,
    thread_usage: d.thread_usage,
    pid_start: d.pid_start,
  })
}
