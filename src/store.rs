//! `SessionStore`: the session store read directly, without a manager (the operator CLI, an
//! admin page). Opened read-only: it never creates, migrates, renames or repairs anything, and
//! refuses a file that is not a store. Safe while a gateway writes the same file (SQLite WAL).

use crate::convert::{throw, Code, GcReport, SessionInfo};
use napi::bindgen_prelude::Result;
use napi_derive::napi;
use openclaw_sessions_core as core;

/// The session store read directly, without starting a manager: no recovery, no processes.
#[napi]
pub struct SessionStore {
  inner: core::store::Store,
}

#[napi]
impl SessionStore {
  /// Opens the existing store at `path` read-only (`SQLITE_OPEN_READ_ONLY`; default: the
  /// manager's default path, `$OPENCLAW_STATE_DIR/agent-sessions.db` or
  /// `~/.openclaw/agent-sessions.db`). Nothing is created, migrated, renamed or repaired; a
  /// damaged store is repaired (moved aside) only by a `SessionManager`.
  ///
  /// @throws `E_STORE` naming the path and the problem: the file does not exist, is not an
  /// openclaw-sessions store (not SQLite, another application's database, empty), or was written
  /// by a newer release. The file is left byte-for-byte unchanged.
  #[napi(constructor)]
  pub fn new(path: Option<String>) -> Result<Self, Code> {
    let path = path.unwrap_or_else(|| core::store::default_path().to_string_lossy().into_owned());
    Ok(SessionStore {
      inner: core::store::Store::open_read_only(&path).map_err(throw)?,
    })
  }

  /// The file's path.
  #[napi(getter)]
  pub fn path(&self) -> String {
    self.inner.path().to_owned()
  }

  /// The stored sessions (tombstones left out), oldest first, filtered in SQL: `status` (one
  /// status or several), `backend`, and `limit` (the newest `limit` sessions; default: all). A
  /// row that no longer decodes is skipped (logged, `E_STORE`) and left in the file.
  ///
  /// @throws `E_STORE`; `E_INVALID_ARGUMENT` on a negative or fractional `limit`.
  #[napi]
  pub fn list(&self, filter: Option<StoreFilter>) -> Result<Vec<SessionInfo>, Code> {
    let f = filter.unwrap_or_default();
    let limit = match f.limit {
      Some(n) if n < 0.0 || n.fract() != 0.0 || n > u32::MAX as f64 => {
        return Err(throw(core::Error::InvalidArgument(format!(
          "limit must be a non-negative integer, got {n}"
        ))))
      }
      n => n.map(|n| n as u32),
    };
    let q = core::store::Query {
      statuses: match f.status {
        None => Vec::new(),
        Some(napi::Either::A(one)) => vec![one],
        Some(napi::Either::B(many)) => many,
      },
      backend: f.backend,
      limit,
    };
    Ok(
      self
        .inner
        .list(&q)
        .map_err(throw)?
        .into_iter()
        .map(|s| SessionInfo::from(s.info))
        .collect(),
    )
  }

  /// One session by id, name or backend session id, or `null`.
  ///
  /// @throws `E_STORE`.
  #[napi(ts_args_type = "ref: string")]
  pub fn get(&self, r#ref: String) -> Result<Option<SessionInfo>, Code> {
    Ok(
      self
        .inner
        .find(&r#ref)
        .map_err(throw)?
        .map(|s| SessionInfo::from(s.info)),
    )
  }

  /// The session and its ancestors, newest first (empty if unknown).
  ///
  /// @throws `E_STORE`.
  #[napi(ts_args_type = "ref: string")]
  pub fn chain(&self, r#ref: String) -> Result<Vec<SessionInfo>, Code> {
    let Some(first) = self.inner.find(&r#ref).map_err(throw)? else {
      return Ok(Vec::new());
    };
    Ok(
      self
        .inner
        .chain(&first.info.id)
        .map_err(throw)?
        .into_iter()
        .map(|s| SessionInfo::from(s.info))
        .collect(),
    )
  }

  /// The last turns (prompt and reply) kept of a session, oldest first.
  ///
  /// @throws `E_STORE`.
  #[napi(
    ts_args_type = "ref: string",
    ts_return_type = "Array<{ prompt: string; reply: string }>"
  )]
  pub fn summary(&self, r#ref: String) -> Result<Vec<serde_json::Value>, Code> {
    let Some(s) = self.inner.find(&r#ref).map_err(throw)? else {
      return Ok(Vec::new());
    };
    Ok(
      s.summary
        .iter()
        .filter_map(|t| serde_json::to_value(t).ok())
        .collect(),
    )
  }

  /// Applies retention: at most `maxSessions` (default 1000), none finished longer than
  /// `maxAgeMs` ago (default 0: no age limit). Live sessions are never removed. The one call
  /// that writes: it opens the store (already checked to be ours) for writing for its duration.
  ///
  /// @throws `E_STORE`.
  #[napi]
  pub fn gc(&self, max_sessions: Option<u32>, max_age_ms: Option<f64>) -> Result<GcReport, Code> {
    core::store::Store::open(self.inner.path())
      .map_err(throw)?
      .gc(
        max_sessions.unwrap_or(1000) as u64,
        max_age_ms.unwrap_or(0.0).max(0.0) as u64,
      )
      .map(GcReport::from)
      .map_err(throw)
  }
}

/// `SessionStore.list(filter)`.
#[napi(object)]
#[derive(Default)]
pub struct StoreFilter {
  /// Only sessions in this status (or any of these).
  #[napi(ts_type = "SessionStatus | SessionStatus[]")]
  pub status: Option<napi::Either<String, Vec<String>>>,
  /// Only sessions of this backend: `claude`, `codex` or `codex-exec`.
  pub backend: Option<String>,
  /// At most this many: the newest ones (still returned oldest first).
  pub limit: Option<f64>,
}
