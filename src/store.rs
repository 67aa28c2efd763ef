//! `SessionStore`: the session store read directly, without a manager (the operator CLI, an
//! admin page). Opened read-only: it never creates, migrates, renames or repairs anything, and
//! refuses a file that is not a store. Safe while a gateway writes the same file (SQLite WAL).

use crate::args::{self, R};
use crate::convert::{throw, Code, GcReport, SessionInfo};
use crate::promise;
use napi::bindgen_prelude::{PromiseRaw, Result, Unknown};
use napi::Env;
use napi_derive::napi;
use openclaw_sessions_core as core;
use serde_json::Value;
use std::sync::Arc;

/// The session store read directly, without starting a manager: no recovery, no processes.
#[napi]
pub struct SessionStore {
  inner: Arc<core::store::Store>,
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
  /// `E_INVALID_ARGUMENT` when `path` is given and not a string.
  #[napi(constructor, catch_unwind, ts_args_type = "path?: string")]
  pub fn new(env: Env, path: Unknown<'_>) -> Result<Self, Code> {
    let path = args::opt_string(&env, &path, "path")
      .map_err(throw)?
      .unwrap_or_else(|| core::store::default_path().to_string_lossy().into_owned());
    Ok(SessionStore {
      inner: Arc::new(core::store::Store::open_read_only(&path).map_err(throw)?),
    })
  }

  /// The file's path.
  #[napi(getter)]
  pub fn path(&self) -> String {
    self.inner.path().to_owned()
  }

  /// The stored sessions (tombstones left out), oldest first, filtered in SQL: `status` (one
  /// status or several), `backend` (one backend or several), and `limit` (the newest `limit`
  /// sessions, an integer from 0 to 4294967295; default: all). Read and decoded on a worker
  /// thread (only each session's snapshot is decoded, not its last turns or options); the
  /// promise resolves with the list. A row that no longer decodes is skipped (logged,
  /// `E_STORE`) and left in the file.
  ///
  /// @throws (rejects) `E_STORE`; `E_INVALID_ARGUMENT` (not an object, an unknown key, an
  /// unknown status or backend, a `limit` that is not such an integer).
  #[napi(
    catch_unwind,
    ts_args_type = "filter?: StoreFilter",
    ts_return_type = "Promise<SessionInfo[]>"
  )]
  pub fn list<'env>(
    &self,
    env: &'env Env,
    filter: Unknown<'_>,
  ) -> Result<PromiseRaw<'env, Vec<SessionInfo>>> {
    let inner = Arc::clone(&self.inner);
    let q = store_query(env, &filter);
    promise(env, async move { inner.list_async(&q?).await }, |list| {
      list.into_iter().map(SessionInfo::from).collect()
    })
  }

  /// One session by id, name or backend session id, or `null`.
  ///
  /// @throws `E_STORE`, `E_INVALID_ARGUMENT` (`ref` not a string).
  #[napi(catch_unwind, ts_args_type = "ref: string")]
  pub fn get(&self, env: Env, r#ref: Unknown<'_>) -> Result<Option<SessionInfo>, Code> {
    let r = args::string(&env, &r#ref, "ref").map_err(throw)?;
    Ok(
      self
        .inner
        .find(&r)
        .map_err(throw)?
        .map(|s| SessionInfo::from(s.info)),
    )
  }

  /// The session and its ancestors, newest first (empty if unknown).
  ///
  /// @throws `E_STORE`, `E_INVALID_ARGUMENT` (`ref` not a string).
  #[napi(catch_unwind, ts_args_type = "ref: string")]
  pub fn chain(&self, env: Env, r#ref: Unknown<'_>) -> Result<Vec<SessionInfo>, Code> {
    let r = args::string(&env, &r#ref, "ref").map_err(throw)?;
    let Some(first) = self.inner.find(&r).map_err(throw)? else {
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
  /// @throws `E_STORE`, `E_INVALID_ARGUMENT` (`ref` not a string).
  #[napi(
    catch_unwind,
    ts_args_type = "ref: string",
    ts_return_type = "Array<{ prompt: string; reply: string }>"
  )]
  pub fn summary(&self, env: Env, r#ref: Unknown<'_>) -> Result<Vec<Value>, Code> {
    let r = args::string(&env, &r#ref, "ref").map_err(throw)?;
    let Some(s) = self.inner.find(&r).map_err(throw)? else {
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
  /// `maxAgeMs` ago (default 0: no age limit); both integers from 0 to
  /// `Number.MAX_SAFE_INTEGER`. Live sessions are never removed. The one call that writes: it
  /// opens the store (already checked to be ours) for writing for its duration.
  ///
  /// @throws `E_STORE`, `E_INVALID_ARGUMENT` (a number out of that range).
  #[napi(catch_unwind, ts_args_type = "maxSessions?: number, maxAgeMs?: number")]
  pub fn gc(
    &self,
    env: Env,
    max_sessions: Unknown<'_>,
    max_age_ms: Unknown<'_>,
  ) -> Result<GcReport, Code> {
    let (keep, age) = (|| -> R<_> {
      Ok((
        positional_count(&env, &max_sessions, "maxSessions", "sessions")?,
        positional_count(&env, &max_age_ms, "maxAgeMs", "ms")?,
      ))
    })()
    .map_err(throw)?;
    core::store::Store::open(self.inner.path())
      .map_err(throw)?
      .gc(keep.unwrap_or(1000), age.unwrap_or(0))
      .map(GcReport::from)
      .map_err(throw)
  }
}

/// A count given as a positional argument (`undefined` / `null`: none), checked as
/// [`args::count`] checks an option.
fn positional_count(env: &Env, v: &Unknown<'_>, name: &str, unit: &str) -> R<Option<u64>> {
  let mut map = serde_json::Map::new();
  map.insert(name.to_owned(), args::json(env, v, name)?);
  args::count(&map, name, "gc", unit)
}

/// `SessionStore.list(filter)` read from a raw value: statuses and the backend must be known
/// names, `limit` an integer from 0 to 4294967295.
fn store_query(env: &Env, filter: &Unknown<'_>) -> R<core::store::Query> {
  let what = "store list filter";
  let o = args::options(env, filter, what, &["status", "backend", "limit"])?;
  let statuses: Vec<core::Status> = match o.get("status") {
    None | Some(Value::Null) => Vec::new(),
    Some(v @ Value::Array(_)) => {
      core::model::options::from_json(&format!("{what} `status`"), v.clone())?
    }
    Some(v) => vec![core::model::options::from_json(
      &format!("{what} `status`"),
      v.clone(),
    )?],
  };
  let backends: Vec<core::Backend> = match o.get("backend") {
    None | Some(Value::Null) => Vec::new(),
    Some(v @ Value::Array(_)) => {
      core::model::options::from_json(&format!("{what} `backend`"), v.clone())?
    }
    Some(v) => vec![core::model::options::from_json(
      &format!("{what} `backend`"),
      v.clone(),
    )?],
  };
  let limit = match args::count(&o, "limit", what, "sessions")? {
    Some(n) if n > u32::MAX as u64 => {
      return Err(core::Error::InvalidArgument(format!(
        "{what}: `limit` must be an integer from 0 to 4294967295, got {n}"
      )))
    }
    n => n.map(|n| n as u32),
  };
  Ok(core::store::Query {
    statuses: statuses.iter().map(|s| s.as_str().to_owned()).collect(),
    backends: backends.iter().map(|b| b.as_str().to_owned()).collect(),
    limit,
  })
}
