//! Owner isolation in the binding: `forOwner(owner)` returns a `SessionManager` handle with an
//! owner's scope over the same manager. Every method applies its handle's scope through the
//! core (`Manager::resolve`, `scope_spawn`, `scope_list`, ...); the rules live there.

use crate::args;
use crate::convert::{throw, Code};
use crate::SessionManager;
use napi::bindgen_prelude::*;
use napi_derive::napi;
use openclaw_sessions_core as core;
use std::sync::Arc;

#[napi]
impl SessionManager {
  /// A handle on this manager that acts for one owner (e.g. a chat user id): the same methods,
  /// but lookups (`get`, `output`, `events`, `resumeChain`, `waitForTurn`), `list`, `onEvent`,
  /// `foreground` / `background`, `send`, `interruptTurn`, `respondToPermission`, `close`,
  /// `interrupt`, `kill`, `resume` and `ingest` see only the sessions whose `owner` is `owner`.
  /// `spawn` and `register` stamp `owner` on the new session (giving another `owner` or
  /// `origin.owner` is `E_FORBIDDEN`). A ref that names only another owner's session (or one
  /// without owner) is `E_FORBIDDEN` with a message that says nothing of it; a name resolves
  /// among the owner's own sessions first, so two owners may both use a name. The
  /// manager-wide calls (`shutdown`, `gc`, `stats`, `metrics`, `onNotification`, `onLog`,
  /// `forOwner`) are the operator's: `E_FORBIDDEN` on an owner's handle. The handle shares the
  /// manager: it needs no shutdown of its own.
  ///
  /// @param owner - the owner's id: a non-blank string.
  /// @throws `E_INVALID_ARGUMENT` (not a string, blank), `E_FORBIDDEN` (called on an owner's
  /// handle).
  #[napi(catch_unwind, ts_args_type = "owner: string")]
  pub fn for_owner(&self, env: Env, owner: Unknown<'_>) -> Result<SessionManager, Code> {
    self.scope.operator_only("forOwner").map_err(throw)?;
    let owner = args::string(&env, &owner, "owner").map_err(throw)?;
    let scope = core::Scope::owner(&owner).map_err(throw)?;
    Ok(SessionManager {
      inner: Arc::clone(&self.inner),
      hook: None,
      notify_gen: Arc::clone(&self.notify_gen),
      counters: Arc::clone(&self.counters),
      scope,
    })
  }

  /// The owner this handle acts for; `null` on the operator's manager.
  #[napi(getter)]
  pub fn owner(&self) -> Option<String> {
    self.scope.owner_id().map(str::to_owned)
  }
}

impl SessionManager {
  /// The manager and this handle's scope, for a call's future.
  pub(crate) fn view(&self) -> (Arc<core::Manager>, core::Scope) {
    (Arc::clone(&self.inner), self.scope.clone())
  }

  /// The ref to act on for `r` in this handle's scope (`E_FORBIDDEN`, `E_NOT_FOUND`).
  pub(crate) fn resolve(&self, r: &str) -> core::Result<String> {
    self.inner.resolve(&self.scope, r)
  }
}
