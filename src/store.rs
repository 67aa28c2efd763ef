//! `SessionStore`: the session store read directly, without a manager (the operator CLI, an
//! admin page). Safe while a gateway writes the same file (SQLite WAL).

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
  /// Opens the store at `path` (default: the manager's default path,
  /// `$OPENCLAW_STATE_DIR/agent-sessions.db` or `~/.openclaw/agent-sessions.db`).
  ///
  /// @throws `E_STORE` (unreadable, corrupt: moved aside, as for the manager).
  #[napi(constructor)]
  pub fn new(path: Option<String>) -> Result<Self, Code> {
    let path = path.unwrap_or_else(|| core::store::default_path().to_string_lossy().into_owned());
    Ok(SessionStore {
      inner: core::store::Store::open(&path).map_err(throw)?,
    })
  }

  /// The file's path.
  #[napi(getter)]
  pub fn path(&self) -> String {
    self.inner.path().to_owned()
  }

  /// Every stored session (tombstones left out), oldest first.
  ///
  /// @throws `E_STORE`.
  #[napi]
  pub fn list(&self) -> Result<Vec<SessionInfo>, Code> {
    Ok(
      self
        .inner
        .all()
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
  /// `maxAgeMs` ago (default 0: no age limit). Live sessions are never removed.
  ///
  /// @throws `E_STORE`.
  #[napi]
  pub fn gc(&self, max_sessions: Option<u32>, max_age_ms: Option<f64>) -> Result<GcReport, Code> {
    self
      .inner
      .gc(
        max_sessions.unwrap_or(1000) as u64,
        max_age_ms.unwrap_or(0.0).max(0.0) as u64,
      )
      .map(GcReport::from)
      .map_err(throw)
  }
}
