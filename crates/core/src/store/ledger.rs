//! The notification ledger: each notification's key once, its status (`pending`, `delivered`,
//! `failed`) and which manager claimed it. A pending notification is delivered only by the
//! manager that claimed it; the claim passes to another manager only when the claimer is gone
//! (its process ended, checked by pid and start time as recovery does, or — in the same
//! process — its store was dropped). Its SQL, and the `Store` methods delivery calls.

use crate::model::error::Result;
use crate::model::event::now_ms;
use crate::model::notification::Notification;
use crate::store::{Owner, Store};

/// A ledger entry as read: its key and its JSON.
type Row = (String, String);
use rusqlite::{params, Connection, OptionalExtension};

type Sql<T> = rusqlite::Result<T>;

/// A pending entry: key, JSON, and its claimer (pid, start time, token).
type Claimed = (String, String, Option<i64>, Option<i64>, Option<String>);

/// Records a notification as pending, claimed by `owner`; false if its key is already in the
/// ledger (it was created before: never deliver it twice).
pub(crate) fn add(c: &Connection, n: &Notification, owner: &Owner) -> Sql<bool> {
  let data =
    serde_json::to_string(n).map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))?;
  c.prepare_cached(
    "INSERT OR IGNORE INTO notifications
       (key, session_id, status, created_at, data, claim_pid, claim_start, claim_token)
     VALUES (?1, ?2, 'pending', ?3, ?4, ?5, ?6, ?7)",
  )?
  .execute(params![
    n.key,
    n.session_id,
    n.at as i64,
    data,
    owner.pid as i64,
    owner.start.map(|s| s as i64),
    owner.token
  ])
  .map(|changed| changed == 1)
}

/// Marks a notification `delivered` or `failed` after `attempts` attempts.
pub(crate) fn mark(c: &Connection, key: &str, status: &str, attempts: u32) -> Sql<()> {
  c.prepare_cached(
    "UPDATE notifications SET status = ?2, attempts = ?3,
       delivered_at = CASE WHEN ?2 = 'delivered' THEN ?4 ELSE delivered_at END
     WHERE key = ?1",
  )?
  .execute(params![key, status, attempts, now_ms() as i64])
  .map(|_| ())
}

/// Whether `key` is pending and claimed by `owner` (only then may it go out).
pub(crate) fn is_mine(c: &Connection, key: &str, owner: &Owner) -> Sql<bool> {
  c.prepare_cached(
    "SELECT 1 FROM notifications WHERE key = ?1 AND status = 'pending' AND claim_token IS ?2",
  )?
  .query_row(params![key, owner.token], |_| Ok(()))
  .optional()
  .map(|r| r.is_some())
}

/// The ledger status of `key` (`pending`, `delivered`, `failed`), if any.
pub(crate) fn status(c: &Connection, key: &str) -> Sql<Option<String>> {
  c.query_row(
    "SELECT status FROM notifications WHERE key = ?1",
    params![key],
    |r| r.get(0),
  )
  .optional()
}

/// Claims, for `owner`, the pending notifications whose claimer is gone; returns them
/// (key, JSON), oldest first.
pub(crate) fn claim_orphans(c: &Connection, owner: &Owner) -> Sql<Vec<Row>> {
  let rows: Vec<Claimed> = {
    let mut stmt = c.prepare_cached(
      "SELECT key, data, claim_pid, claim_start, claim_token FROM notifications
       WHERE status = 'pending' AND claim_token IS NOT ?1 ORDER BY created_at, rowid",
    )?;
    let rows = stmt.query_map(params![owner.token], |r| {
      Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
    })?;
    rows.collect::<Sql<_>>()?
  };
  let mut claimed = Vec::new();
  for (key, data, pid, start, token) in rows {
    if crate::store::alive(pid, start, token.as_deref()) {
      continue;
    }
    c.prepare_cached(
      "UPDATE notifications SET claim_pid = ?2, claim_start = ?3, claim_token = ?4 WHERE key = ?1",
    )?
    .execute(params![
      key,
      owner.pid as i64,
      owner.start.map(|s| s as i64),
      owner.token
    ])?;
    claimed.push((key, data));
  }
  Ok(claimed)
}

/// Drops the settled (delivered or failed) entries of a session that retention removed; a
/// pending one stays until it is delivered.
pub(crate) fn prune(c: &Connection, session_id: &str) -> Sql<()> {
  c.prepare_cached("DELETE FROM notifications WHERE session_id = ?1 AND status != 'pending'")?
    .execute(params![session_id])
    .map(|_| ())
}

/// The ledger as the manager's notification delivery uses it.
impl Store {
  /// Records a notification as pending, claimed by this manager; false if its key is already
  /// in the ledger (never deliver it twice).
  pub fn ledger_add(&self, n: &Notification) -> Result<bool> {
    let n = n.clone();
    self.write(move |c, sh| add(c, &n, &sh.owner))
  }

  /// `ledger_add`, awaited.
  pub async fn ledger_add_async(&self, n: &Notification) -> Result<bool> {
    let n = n.clone();
    self.write_async(move |c, sh| add(c, &n, &sh.owner)).await
  }

  /// Marks a notification `delivered` or `failed` after `attempts` attempts.
  pub async fn ledger_mark(&self, key: &str, status: &'static str, attempts: u32) -> Result<()> {
    let key = key.to_owned();
    self
      .write_async(move |c, _| mark(c, &key, status, attempts))
      .await
  }

  /// Whether `key` is pending and claimed by this manager (only then may it go out).
  pub async fn ledger_is_mine(&self, key: &str) -> Result<bool> {
    let key = key.to_owned();
    self
      .write_async(move |c, sh| is_mine(c, &key, &sh.owner))
      .await
  }

  /// Claims the pending notifications whose manager is gone; oldest first.
  pub async fn ledger_claim_orphans(&self) -> Result<Vec<Notification>> {
    let rows = self
      .write_async(|c, sh| claim_orphans(c, &sh.owner))
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
    self.read(move |c, _| status(c, &key))
  }
}
