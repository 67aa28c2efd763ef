//! `SessionManager`'s queries, `background`, and the registered-session calls: synchronous
//! except `list`, which reads the store off the JS thread and returns a promise. Bad input
//! throws `E_INVALID_ARGUMENT` naming the argument (`list` rejects instead).

use crate::args::{self, R};
use crate::convert::{throw, Code, GcReport, SessionInfo, Stats};
use crate::{or_empty, promise, SessionManager};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use openclaw_sessions_core as core;
use serde_json::Value;

/// The `kind`s `events(ref, { kinds })` accepts.
const EVENT_KINDS: &[&str] = &[
  "status",
  "init",
  "assistant-text",
  "thinking",
  "tool-use",
  "tool-result",
  "user-text",
  "turn-started",
  "turn-completed",
  "permission-request",
  "permission-resolved",
  "control-response",
  "system",
  "stream-event",
  "error",
  "budget-exhausted",
  "auto-respond-limit",
  "recovering",
  "delivery-failed",
  "notification-dropped",
  "stderr",
  "exit",
  "other",
];

#[napi]
impl SessionManager {
  /// Stops foreground streaming of the session to `channel`.
  ///
  /// @throws `E_NOT_FOUND`, `E_FORBIDDEN` (on a `forOwner` handle: another owner's session), `E_INVALID_ARGUMENT`.
  #[napi(catch_unwind, ts_args_type = "ref: string, channel: string")]
  pub fn background(&self, env: Env, r#ref: Unknown<'_>, channel: Unknown<'_>) -> Result<(), Code> {
    let r = args::string(&env, &r#ref, "ref").map_err(throw)?;
    let channel = args::string(&env, &channel, "channel").map_err(throw)?;
    let r = self.resolve(&r).map_err(throw)?;
    self.inner.background(&r, &channel).map_err(throw)
  }

  /// A snapshot of one session, live or stored.
  ///
  /// @throws `E_NOT_FOUND`, `E_FORBIDDEN` (on a `forOwner` handle: another owner's session), `E_INVALID_ARGUMENT`.
  #[napi(catch_unwind, ts_args_type = "ref: string")]
  pub fn get(&self, env: Env, r#ref: Unknown<'_>) -> Result<SessionInfo, Code> {
    let r = args::string(&env, &r#ref, "ref").map_err(throw)?;
    let r = self.resolve(&r).map_err(throw)?;
    self.inner.get(&r).map(SessionInfo::from).map_err(throw)
  }

  /// Snapshots of the live and stored sessions, oldest first (a session this manager runs
  /// shows its live state). `filter`: `status` (any of these), `backend` (one or several),
  /// `liveOnly`, `metadata` (top-level keys equal), `owner`, `limit` (the newest `limit`
  /// sessions, still oldest first; an integer from 0 to 4294967295; default: all). The stored
  /// part is one SQL query with the filters and the limit (owner and metadata are matched after
  /// it), read and decoded on a worker thread (only each session's snapshot is decoded), so the
  /// JS thread does not wait on the store; the promise resolves with the merged list. On a
  /// `forOwner` handle: only the handle's owner's sessions.
  ///
  /// @throws (rejects) `E_INVALID_ARGUMENT` on a non-object, an unknown filter key, status or
  /// backend, a bad `limit`; `E_FORBIDDEN` (on a `forOwner` handle: a filter naming another
  /// owner); `E_STORE` when the store cannot be read.
  #[napi(
    catch_unwind,
    ts_args_type = "filter?: ListFilter",
    ts_return_type = "Promise<SessionInfo[]>"
  )]
  pub fn list<'env>(
    &self,
    env: &'env Env,
    filter: Unknown<'_>,
  ) -> Result<PromiseRaw<'env, Vec<SessionInfo>>> {
    let (inner, scope) = self.view();
    let f = args::json(env, &filter, "list filter")
      .and_then(|v| core::model::options::from_json::<core::ListFilter>("list filter", or_empty(v)))
      .and_then(|mut f| inner.scope_list(&scope, &mut f).map(|()| f));
    promise(env, async move { inner.list(&f?).await }, |list| {
      list.into_iter().map(SessionInfo::from).collect()
    })
  }

  /// The last lines of assistant text (default: every kept line, at most `outputLines`).
  /// `options.lines`: an integer from 0 to `Number.MAX_SAFE_INTEGER`.
  ///
  /// @throws `E_NOT_FOUND`, `E_FORBIDDEN` (on a `forOwner` handle: another owner's session), `E_INVALID_ARGUMENT` (a bad `lines`, an unknown option).
  #[napi(catch_unwind, ts_args_type = "ref: string, options?: OutputQuery")]
  pub fn output(
    &self,
    env: Env,
    r#ref: Unknown<'_>,
    options: Unknown<'_>,
  ) -> Result<Vec<String>, Code> {
    let what = "output options";
    let (r, lines) = (|| -> R<_> {
      let o = args::options(&env, &options, what, &["lines"])?;
      Ok((
        args::string(&env, &r#ref, "ref")?,
        args::count(&o, "lines", what, "lines")?,
      ))
    })()
    .map_err(throw)?;
    let lines = lines.map(|n| u32::try_from(n).unwrap_or(u32::MAX));
    let r = self.resolve(&r).map_err(throw)?;
    self.inner.output(&r, lines).map_err(throw)
  }

  /// Logged events (the last `eventLogLimit`) with `seq > sinceSeq`, optionally only `kinds`.
  /// `sinceSeq`: an integer from 0 to `Number.MAX_SAFE_INTEGER` (default 0); `kinds`: event
  /// kinds (an unknown kind is refused, the message lists the known ones).
  ///
  /// @throws `E_NOT_FOUND`, `E_FORBIDDEN` (on a `forOwner` handle: another owner's session), `E_INVALID_ARGUMENT`.
  #[napi(
    catch_unwind,
    ts_args_type = "ref: string, options?: EventsQuery",
    ts_return_type = "AgentEvent[]"
  )]
  pub fn events(
    &self,
    env: Env,
    r#ref: Unknown<'_>,
    options: Unknown<'_>,
  ) -> Result<Vec<Value>, Code> {
    let what = "events options";
    let (r, since, kinds) = (|| -> R<_> {
      let o = args::options(&env, &options, what, &["sinceSeq", "kinds"])?;
      Ok((
        args::string(&env, &r#ref, "ref")?,
        args::count(&o, "sinceSeq", what, "a seq")?.unwrap_or(0),
        event_kinds(o.get("kinds"))?,
      ))
    })()
    .map_err(throw)?;
    let r = self.resolve(&r).map_err(throw)?;
    let events = self.inner.events(&r, since, &kinds).map_err(throw)?;
    Ok(events.iter().map(core::AgentEvent::to_json).collect())
  }

  /// The session and its ancestors back to the root (`resumedFromId` / `forkedFromId`),
  /// newest first, read from the store; an ancestor removed by retention appears with
  /// `evicted: true`.
  ///
  /// @throws `E_NOT_FOUND`, `E_FORBIDDEN` (on a `forOwner` handle: another owner's session), `E_STORE`, `E_INVALID_ARGUMENT`.
  #[napi(catch_unwind, ts_args_type = "ref: string")]
  pub fn resume_chain(&self, env: Env, r#ref: Unknown<'_>) -> Result<Vec<SessionInfo>, Code> {
    let r = args::string(&env, &r#ref, "ref").map_err(throw)?;
    let chain = (self.inner.scoped_chain(&self.scope, &r)).map_err(throw)?;
    Ok(chain.into_iter().map(SessionInfo::from).collect())
  }

  /// Applies the store's retention now: at most `maxPersistedSessions` sessions, none
  /// finished longer ago than `maxPersistedAgeMs`; live sessions are never removed, and an
  /// ancestor a later session links to stays as a tombstone.
  ///
  /// @throws `E_STORE`, `E_FORBIDDEN` (on an owner's handle: the operator's call).
  #[napi(catch_unwind)]
  pub fn gc(&self) -> Result<GcReport, Code> {
    self.scope.operator_only("gc").map_err(throw)?;
    self.inner.gc().map(GcReport::from).map_err(throw)
  }

  /// The manager's metrics in the Prometheus text format: sessions by status, live sessions,
  /// processes spawned and failed, turns, cost (USD), tokens by type, notifications delivered
  /// and failed, events.
  ///
  /// @throws `E_FORBIDDEN` (on an owner's handle: the operator's call).
  #[napi(catch_unwind)]
  pub fn metrics(&self) -> Result<String, Code> {
    self.scope.operator_only("metrics").map_err(throw)?;
    Ok(self.inner.metrics())
  }

  /// Registers a session whose agent process the caller owns, e.g. one run by
  /// `@anthropic-ai/claude-agent-sdk`'s `query()`; feed it every message with `ingest`. It gets
  /// the same statuses, events, notifications, persistence and resume chain as a spawned
  /// session; `close` / `kill` / `interrupt` only mark it (the caller stops its process),
  /// `send` and `interruptTurn` are refused (`E_STATE`). Counts toward `maxSessions`.
  ///
  /// On a `forOwner` handle the session gets the handle's owner.
  ///
  /// @throws `E_INVALID_ARGUMENT` (not an object, bad or unknown option), `E_LIMIT`,
  /// `E_FORBIDDEN` (on a `forOwner` handle: another `owner` / `origin.owner`).
  #[napi(catch_unwind, ts_args_type = "options: RegisterOptions")]
  pub fn register(&self, env: Env, options: Unknown<'_>) -> Result<SessionInfo, Code> {
    let mut o: core::manager::RegisterOptions = args::object(&env, &options, "register options")
      .and_then(|v| core::model::options::from_json("register options", v))
      .map_err(throw)?;
    (self.inner.scope_register(&self.scope, &mut o)).map_err(throw)?;
    self.inner.register(o).map(SessionInfo::from).map_err(throw)
  }

  /// Feeds one message of a registered session: an Agent SDK message (`system`, `assistant`,
  /// `user`, `result`, ... — Claude's stream-json shapes). A `result` ends the turn
  /// (`waiting-for-input`); a message after that starts the next one; a failed model call
  /// (`is_error` with an API status) ends the session `failed`. Returns the snapshot.
  ///
  /// @throws `E_NOT_FOUND`, `E_FORBIDDEN` (on a `forOwner` handle: another owner's session), `E_STATE` (not a registered session, or it has ended),
  /// `E_INVALID_ARGUMENT` (not an object with a non-empty string `type`, not JSON: NaN, a
  /// function, nested too deep; nothing changes). The failure of such a session reads "the
  /// external session failed: …", naming no CLI.
  #[napi(catch_unwind, ts_args_type = "ref: string, message: object")]
  pub fn ingest(
    &self,
    env: Env,
    r#ref: Unknown<'_>,
    message: Unknown<'_>,
  ) -> Result<SessionInfo, Code> {
    let (r, m) = args::string(&env, &r#ref, "ref")
      .and_then(|r| Ok((r, args::object(&env, &message, "message")?)))
      .map_err(throw)?;
    let r = self.resolve(&r).map_err(throw)?;
    self
      .inner
      .ingest(&r, m)
      .map(SessionInfo::from)
      .map_err(throw)
  }

  /// Manager-wide counters, with the binding's own: events dropped because the `onEvent`
  /// queue was full, and listener callbacks that threw.
  ///
  /// @throws `E_FORBIDDEN` (on an owner's handle: the operator's call).
  #[napi(catch_unwind)]
  pub fn stats(&self) -> Result<Stats, Code> {
    self.scope.operator_only("stats").map_err(throw)?;
    Ok(Stats::new(self.inner.stats(), &self.counters))
  }
}

/// `kinds` of `events()`: absent, or an array of known kinds.
fn event_kinds(v: Option<&Value>) -> R<Vec<String>> {
  let bad = |got: &Value| {
    core::Error::InvalidArgument(format!(
      "events options: `kinds` must be an array of {}; got {got}",
      EVENT_KINDS.join(", ")
    ))
  };
  match v {
    None | Some(Value::Null) => Ok(Vec::new()),
    Some(Value::Array(items)) => items
      .iter()
      .map(|k| match k.as_str() {
        Some(s) if EVENT_KINDS.contains(&s) => Ok(s.to_owned()),
        _ => Err(bad(k)),
      })
      .collect(),
    Some(other) => Err(bad(other)),
  }
}
