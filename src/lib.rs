//! The napi binding of `openclaw-sessions-core`: option objects in, snapshots and events out,
//! one error mapping, callbacks. It converts and forwards; every decision lives in the core.

#![deny(clippy::all)]

mod convert;
mod logs;
mod store;

use convert::{
  reject, throw, Code, EventsQuery, GcReport, OutputQuery, SendOptions, SessionInfo, Stats,
  StopOptions,
};
use napi::bindgen_prelude::*;
use napi::threadsafe_function::ThreadsafeFunctionCallMode;
use napi_derive::napi;
use openclaw_sessions_core as core;
use serde_json::Value;
use std::sync::Arc;

/// The addon's heap: the ingest path allocates many small, short-lived values (parsed JSON,
/// events) on the reader task and frees them on others; glibc malloc spent about a third of the
/// ingest profile there, contended on its arena locks. mimalloc's per-thread heaps do not.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `arena_eager_commit` (option 4 in `mimalloc.h`; the Rust binding has no constant
/// for it). Its default commits whole arenas up front on Linux, which doubled the resident
/// memory per live session in `npm run bench`; off, memory is committed as it is used.
const MI_OPTION_ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;

#[napi_derive::module_init]
fn init_allocator() {
  // SAFETY: sets a process-wide option; mimalloc reads it when it reserves its next arena.
  unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_ARENA_EAGER_COMMIT, 0) };
}

/// Manages Claude Code and Codex sessions: spawns the real CLIs, parses their event streams, tracks
/// each session's status, cost and output. See the README for the lifecycle.
#[napi]
pub struct SessionManager {
  inner: Arc<core::Manager>,
}

#[napi]
impl SessionManager {
  /// Creates a manager. `options`: see {@link ManagerOptions}; unknown keys are rejected.
  /// Every live child is SIGKILLed when the Node.js environment exits.
  ///
  /// @throws `E_INVALID_ARGUMENT` on an unknown key or a bad value.
  #[napi(constructor, ts_args_type = "options?: ManagerOptions")]
  pub fn new(env: Env, options: Option<Value>) -> Result<Self, Code> {
    let opts: core::ManagerOptions = core::model::options::from_json(
      "SessionManager options",
      options.unwrap_or(Value::Null).or_empty(),
    )
    .map_err(throw)?;
    // Inside napi's tokio runtime, so the manager can start its notification router.
    let inner = Arc::new(
      napi::bindgen_prelude::within_runtime_if_available(|| core::Manager::new(opts))
        .map_err(throw)?,
    );
    let hook = Arc::clone(&inner);
    env
      .add_env_cleanup_hook(hook, |m| m.kill_all_now())
      .map_err(|e| throw(core::Error::Spawn(e.reason)))?;
    Ok(SessionManager { inner })
  }

  /// Starts a session and sends `options.prompt` as its first message (Claude: a stdin
  /// message; Codex: `turn/start`; codex-exec: the `codex exec` prompt argument after `--`).
  /// Resolves with the session's snapshot once `backendSessionId` is known: at once for
  /// Claude (`--session-id`), after `thread/start` for Codex, at `thread.started` for
  /// codex-exec. While any session is live, Node stays up.
  ///
  /// @throws `E_INVALID_ARGUMENT` (bad or unknown option, an option of another backend,
  /// duplicate name, non-UUID `resume`), `E_LIMIT` (`maxSessions` live sessions), `E_SPAWN`
  /// (CLI missing or not executable; the message names the path tried), `E_RESUME_NOT_FOUND`
  /// (the CLI has no such conversation; nothing is left running), `E_TIMEOUT` / `E_PROTOCOL`
  /// (the Codex app-server did not complete its handshake), `E_STATE` (manager shut down).
  #[napi(
    ts_args_type = "options: SpawnOptions",
    ts_return_type = "Promise<SessionInfo>"
  )]
  pub fn spawn<'env>(
    &self,
    env: &'env Env,
    options: Value,
  ) -> Result<PromiseRaw<'env, SessionInfo>> {
    let inner = Arc::clone(&self.inner);
    let keepalive = keepalive(env)?;
    promise(
      env,
      async move {
        let opts: core::SpawnOptions = core::model::options::from_json("spawn options", options)?;
        inner.spawn(opts, Some(Box::new(keepalive))).await
      },
      SessionInfo::from,
    )
  }

  /// Sends the next user message to a session that is `waiting-for-input` (Claude: stdin;
  /// Codex: `turn/start`; codex-exec: a new `codex exec resume <thread id>` process).
  ///
  /// @param ref - session id, name, or backend session id (Claude session id, Codex thread id).
  /// `options.userInitiated` (default true): false marks an automatic reply (e.g. the
  /// gateway's agent answering for the user); at most `maxAutoResponds` of those in a row.
  ///
  /// @throws `E_NOT_FOUND`, `E_STATE` (not waiting: wait for the turn to end; a permission
  /// request is pending; the session is finished: resume it), `E_INVALID_ARGUMENT` (empty
  /// text), `E_AUTO_RESPOND_LIMIT` (too many automatic replies in a row).
  #[napi(
    ts_args_type = "ref: string, text: string, options?: SendOptions",
    ts_return_type = "Promise<SessionInfo>"
  )]
  pub fn send<'env>(
    &self,
    env: &'env Env,
    r#ref: String,
    text: String,
    options: Option<SendOptions>,
  ) -> Result<PromiseRaw<'env, SessionInfo>> {
    let inner = Arc::clone(&self.inner);
    let user_initiated = options.and_then(|o| o.user_initiated).unwrap_or(true);
    promise(
      env,
      async move { inner.send(&r#ref, &text, user_initiated).await },
      SessionInfo::from,
    )
  }

  /// Sets the notification callback: it gets every notification (DESIGN.md "Notifications")
  /// for the channel the manager resolved, and returns a promise; a rejection is retried with
  /// exponential backoff (`notifications.deliveryAttempts`, `deliveryBackoffMs`), then
  /// reported as a `delivery-failed` event. Each notification's `key` is delivered at most
  /// once, also across restarts (a ledger in the store); notifications made while no callback
  /// is set wait for one. Returns a function that removes the callback. One callback at a time:
  /// setting another replaces it.
  #[napi(
    ts_args_type = "callback: (notification: Notification) => Promise<void>",
    ts_return_type = "() => void"
  )]
  pub fn on_notification<'env>(
    &self,
    env: &'env Env,
    callback: Function<'_, Value, Promise<()>>,
  ) -> Result<Function<'env, (), ()>> {
    let tsfn = Arc::new(
      callback
        .build_threadsafe_function::<Value>()
        .callee_handled::<false>()
        .weak::<true>()
        .build()?,
    );
    let deliver: core::notify::delivery::Deliver =
      Arc::new(move |n: core::notify::Notification| {
        let tsfn = Arc::clone(&tsfn);
        Box::pin(async move {
          let value = serde_json::to_value(&n).map_err(|e| e.to_string())?;
          match tsfn.call_async_catch(value).await {
            Ok(promise) => promise.await.map_err(|e| e.reason.clone()),
            Err(e) => Err(e.reason.clone()),
          }
        })
      });
    self.inner.on_notification(Some(deliver));
    let inner = Arc::clone(&self.inner);
    env.create_function_from_closure("offNotification", move |_| {
      inner.on_notification(None);
      Ok(())
    })
  }

  /// Foreground mode for `channel`: resolves with the output lines the channel has not seen
  /// yet (catch-up), then streams new output as `output` notifications (batched over
  /// `notifications.foregroundDebounceMs`, 500 ms) and tool calls as `tool-use` notifications
  /// to that channel, until `background(ref, channel)`.
  ///
  /// @throws `E_NOT_FOUND` (also for a session that is not live).
  #[napi(
    ts_args_type = "ref: string, channel: string",
    ts_return_type = "Promise<string[]>"
  )]
  pub fn foreground<'env>(
    &self,
    env: &'env Env,
    r#ref: String,
    channel: String,
  ) -> Result<PromiseRaw<'env, Vec<String>>> {
    let inner = Arc::clone(&self.inner);
    promise(
      env,
      async move { inner.foreground(&r#ref, &channel).await },
      |v| v,
    )
  }

  /// Stops foreground streaming of the session to `channel`.
  ///
  /// @throws `E_NOT_FOUND`.
  #[napi(ts_args_type = "ref: string, channel: string")]
  pub fn background(&self, r#ref: String, channel: String) -> Result<(), Code> {
    self.inner.background(&r#ref, &channel).map_err(throw)
  }

  /// Cancels the running turn only; the session goes on and returns to `waiting-for-input`
  /// with a `turn-completed` event whose `subtype` says how the CLI ended it (Claude
  /// `error_during_execution`, Codex `interrupted`). Claude: stdin `control_request {subtype:
  /// interrupt}`; Codex: `turn/interrupt`; codex-exec: SIGINT to the turn's process. When no
  /// turn is running it does nothing and resolves with the snapshot.
  ///
  /// @throws `E_NOT_FOUND`, `E_TIMEOUT` (Codex did not answer), `E_STATE` (the CLI is gone).
  #[napi(ts_args_type = "ref: string", ts_return_type = "Promise<SessionInfo>")]
  pub fn interrupt_turn<'env>(
    &self,
    env: &'env Env,
    r#ref: String,
  ) -> Result<PromiseRaw<'env, SessionInfo>> {
    let inner = Arc::clone(&self.inner);
    promise(
      env,
      async move { inner.interrupt_turn(&r#ref).await },
      SessionInfo::from,
    )
  }

  /// Ends the conversation normally: closes stdin, waits for the CLI to exit
  /// (`completed` on exit 0), SIGKILL after `closeTimeoutMs`. A finished session resolves as is.
  ///
  /// @throws `E_NOT_FOUND`.
  #[napi(ts_args_type = "ref: string", ts_return_type = "Promise<SessionInfo>")]
  pub fn close<'env>(
    &self,
    env: &'env Env,
    r#ref: String,
  ) -> Result<PromiseRaw<'env, SessionInfo>> {
    let inner = Arc::clone(&self.inner);
    promise(
      env,
      async move { inner.close(&r#ref).await },
      SessionInfo::from,
    )
  }

  /// Answers a pending permission request (a `permission-request` event; the session is
  /// `waiting-for-input` with reason `permission` meanwhile). Claude: the `control_response` to
  /// its `can_use_tool` request (`--permission-prompt-tool stdio`), `allow` runs the tool with
  /// `updatedInput` (default: the requested input), `deny` sends `message` to the model;
  /// Codex: `{decision: 'accept' | 'decline'}`. Requests nobody answers within
  /// `permissionTimeoutMs` get the manager's `permissionPolicy` (deny by default).
  ///
  /// @throws `E_NOT_FOUND` (no such session, or no such pending request), `E_STATE` (the
  /// session is finished), `E_INVALID_ARGUMENT` (bad decision object).
  #[napi(
    ts_args_type = "ref: string, requestId: string, decision: PermissionDecision",
    ts_return_type = "Promise<SessionInfo>"
  )]
  pub fn respond_to_permission<'env>(
    &self,
    env: &'env Env,
    r#ref: String,
    request_id: String,
    decision: Value,
  ) -> Result<PromiseRaw<'env, SessionInfo>> {
    let inner = Arc::clone(&self.inner);
    promise(
      env,
      async move {
        let answer = core::model::options::permission_answer(decision)?;
        inner
          .respond_to_permission(&r#ref, &request_id, answer)
          .await
      },
      SessionInfo::from,
    )
  }

  /// Graceful stop → `interrupted` (resumable): the protocol's interrupt (Claude
  /// `control_request {subtype: interrupt}`, Codex `turn/interrupt`, codex-exec SIGINT), stdin
  /// EOF, SIGINT to the process group at half the grace period, SIGKILL when `graceMs`
  /// (default the manager's `interruptGraceMs`, 5000) expires; `forcedStop` then records that.
  /// `endReason` is `user`. A finished session resolves as is: its status says it was not
  /// interrupted.
  ///
  /// @throws `E_NOT_FOUND`.
  #[napi(
    ts_args_type = "ref: string, options?: StopOptions",
    ts_return_type = "Promise<SessionInfo>"
  )]
  pub fn interrupt<'env>(
    &self,
    env: &'env Env,
    r#ref: String,
    options: Option<StopOptions>,
  ) -> Result<PromiseRaw<'env, SessionInfo>> {
    let inner = Arc::clone(&self.inner);
    let grace = grace(options);
    promise(
      env,
      async move { inner.interrupt(&r#ref, grace).await },
      SessionInfo::from,
    )
  }

  /// Hard stop: SIGKILL to the session's whole process group; resolves once the process is
  /// reaped, status `killed`. A finished session resolves as is.
  ///
  /// @throws `E_NOT_FOUND`.
  #[napi(ts_args_type = "ref: string", ts_return_type = "Promise<SessionInfo>")]
  pub fn kill<'env>(&self, env: &'env Env, r#ref: String) -> Result<PromiseRaw<'env, SessionInfo>> {
    let inner = Arc::clone(&self.inner);
    promise(
      env,
      async move { inner.kill(&r#ref).await },
      SessionInfo::from,
    )
  }

  /// A snapshot of one session, live or stored.
  ///
  /// @throws `E_NOT_FOUND`.
  #[napi(ts_args_type = "ref: string")]
  pub fn get(&self, r#ref: String) -> Result<SessionInfo, Code> {
    self.inner.get(&r#ref).map(SessionInfo::from).map_err(throw)
  }

  /// Snapshots of the live and stored sessions, oldest first (a session this manager runs
  /// shows its live state).
  ///
  /// @throws `E_INVALID_ARGUMENT` on an unknown filter key or status.
  #[napi(ts_args_type = "filter?: ListFilter")]
  pub fn list(&self, filter: Option<Value>) -> Result<Vec<SessionInfo>, Code> {
    let f: core::ListFilter =
      core::model::options::from_json("list filter", filter.unwrap_or(Value::Null).or_empty())
        .map_err(throw)?;
    let list = self.inner.list(&f).map_err(throw)?;
    Ok(list.into_iter().map(SessionInfo::from).collect())
  }

  /// The last lines of assistant text (default: every kept line, at most `outputLines`).
  ///
  /// @throws `E_NOT_FOUND`.
  #[napi(ts_args_type = "ref: string, options?: OutputQuery")]
  pub fn output(&self, r#ref: String, options: Option<OutputQuery>) -> Result<Vec<String>, Code> {
    let lines = options.and_then(|o| o.lines);
    self.inner.output(&r#ref, lines).map_err(throw)
  }

  /// Logged events (the last `eventLogLimit`) with `seq > sinceSeq`, optionally only `kinds`.
  ///
  /// @throws `E_NOT_FOUND`.
  #[napi(
    ts_args_type = "ref: string, options?: EventsQuery",
    ts_return_type = "AgentEvent[]"
  )]
  pub fn events(&self, r#ref: String, options: Option<EventsQuery>) -> Result<Vec<Value>, Code> {
    let o = options.unwrap_or_default();
    let since = o.since_seq.unwrap_or(0.0).max(0.0) as u64;
    let events = self
      .inner
      .events(&r#ref, since, &o.kinds.unwrap_or_default())
      .map_err(throw)?;
    Ok(events.iter().map(core::AgentEvent::to_json).collect())
  }

  /// Calls `callback` with every event of every session, in order per session. The callback
  /// never keeps Node alive by itself. Returns a function that unsubscribes (it returns false
  /// when already unsubscribed).
  #[napi(
    ts_args_type = "callback: (event: AgentEvent) => void",
    ts_return_type = "() => boolean"
  )]
  pub fn on_event<'env>(
    &self,
    env: &'env Env,
    callback: Function<'_, Value, ()>,
  ) -> Result<Function<'env, (), bool>> {
    let tsfn = callback
      .build_threadsafe_function::<Value>()
      .callee_handled::<false>()
      .weak::<true>()
      .build()?;
    let id = self
      .inner
      .subscribe(Arc::new(move |ev: &core::model::event::Ev| {
        tsfn.call(ev.to_json(), ThreadsafeFunctionCallMode::NonBlocking);
      }));
    let inner = Arc::clone(&self.inner);
    env.create_function_from_closure("unsubscribe", move |_| Ok(inner.unsubscribe(id)))
  }

  /// Continues a finished session's conversation in a new live session: Claude `--resume <id>`
  /// from the original workdir (`--fork-session` with `fork`), Codex `thread/resume` /
  /// `thread/fork`, codex-exec `exec resume` / `exec fork`, with the original options. The CLI's
  /// record is checked first (Claude's transcript, Codex's rollout file). Without `prompt` the
  /// new session waits for `send`. It records `resumedFromId` (or `forkedFromId`).
  ///
  /// @throws `E_NOT_FOUND`, `E_RESUME_NOT_FOUND` (the CLI no longer has the conversation; the
  /// message says what was looked for; nothing is spawned — or with `onMissing: 'fresh'` a
  /// new conversation starts, seeded with the stored summary and linked into the chain),
  /// `E_STATE` (the session is live and `fork` is not set), and the errors of `spawn`.
  #[napi(
    ts_args_type = "ref: string, prompt?: string | null, options?: ResumeOptions",
    ts_return_type = "Promise<SessionInfo>"
  )]
  pub fn resume<'env>(
    &self,
    env: &'env Env,
    r#ref: String,
    prompt: Option<String>,
    options: Option<Value>,
  ) -> Result<PromiseRaw<'env, SessionInfo>> {
    let inner = Arc::clone(&self.inner);
    let keepalive = keepalive(env)?;
    promise(
      env,
      async move {
        let o: core::model::options::ResumeOptions = core::model::options::from_json(
          "resume options",
          options.unwrap_or(Value::Null).or_empty(),
        )?;
        inner
          .resume(&r#ref, prompt, o, Some(Box::new(keepalive)))
          .await
      },
      SessionInfo::from,
    )
  }

  /// The session and its ancestors back to the root (`resumedFromId` / `forkedFromId`),
  /// newest first, read from the store; an ancestor removed by retention appears with
  /// `evicted: true`.
  ///
  /// @throws `E_NOT_FOUND`, `E_STORE`.
  #[napi(ts_args_type = "ref: string")]
  pub fn resume_chain(&self, r#ref: String) -> Result<Vec<SessionInfo>, Code> {
    Ok(
      self
        .inner
        .resume_chain(&r#ref)
        .map_err(throw)?
        .into_iter()
        .map(SessionInfo::from)
        .collect(),
    )
  }

  /// Applies the store's retention now: at most `maxPersistedSessions` sessions, none
  /// finished longer ago than `maxPersistedAgeMs`; live sessions are never removed, and an
  /// ancestor a later session links to stays as a tombstone.
  ///
  /// @throws `E_STORE`.
  #[napi]
  pub fn gc(&self) -> Result<GcReport, Code> {
    self.inner.gc().map(GcReport::from).map_err(throw)
  }

  /// The manager's metrics in the Prometheus text format: sessions by status, live sessions,
  /// processes spawned and failed, turns, cost (USD), tokens by type, notifications delivered
  /// and failed, events.
  #[napi]
  pub fn metrics(&self) -> String {
    self.inner.metrics()
  }

  /// Calls `callback` with the core's log records (`tracing`) at `options.level` (default
  /// `info`) or more severe. Logs are process-wide (every manager's); nothing is printed to
  /// stdout or stderr. Returns a function that removes the callback.
  ///
  /// @throws `E_INVALID_ARGUMENT` on an unknown level.
  #[napi(
    ts_args_type = "callback: (entry: LogEntry) => void, options?: LogOptions",
    ts_return_type = "() => void"
  )]
  pub fn on_log<'env>(
    &self,
    env: &'env Env,
    callback: Function<'_, Value, ()>,
    options: Option<LogOptions>,
  ) -> Result<Function<'env, (), ()>> {
    let level = logs::parse_level(options.as_ref().and_then(|o| o.level.as_deref()))
      .map_err(|m| napi::Error::new(napi::Status::InvalidArg, m))?;
    let tsfn = callback
      .build_threadsafe_function::<Value>()
      .callee_handled::<false>()
      .weak::<true>()
      .build()?;
    let id = logs::subscribe(tsfn, level);
    env.create_function_from_closure("offLog", move |_| {
      logs::unsubscribe(id);
      Ok(())
    })
  }

  /// Registers a session whose agent process the caller owns, e.g. one run by
  /// `@anthropic-ai/claude-agent-sdk`'s `query()`; feed it every message with `ingest`. It gets
  /// the same statuses, events, notifications, persistence and resume chain as a spawned
  /// session; `close` / `kill` / `interrupt` only mark it (the caller stops its process),
  /// `send` and `interruptTurn` are refused (`E_STATE`). Counts toward `maxSessions`.
  ///
  /// @throws `E_INVALID_ARGUMENT` (bad or unknown option), `E_LIMIT`.
  #[napi(ts_args_type = "options: RegisterOptions")]
  pub fn register(&self, options: Value) -> Result<SessionInfo, Code> {
    let o: core::manager::RegisterOptions =
      core::model::options::from_json("register options", options).map_err(throw)?;
    self.inner.register(o).map(SessionInfo::from).map_err(throw)
  }

  /// Feeds one message of a registered session: an Agent SDK message (`system`, `assistant`,
  /// `user`, `result`, ... — Claude's stream-json shapes). A `result` ends the turn
  /// (`waiting-for-input`); a message after that starts the next one; a failed model call
  /// (`is_error` with an API status) ends the session `failed`. Returns the snapshot.
  ///
  /// @throws `E_NOT_FOUND`, `E_STATE` (not a registered session, or it has ended),
  /// `E_INVALID_ARGUMENT` (not an object).
  #[napi(ts_args_type = "ref: string, message: object")]
  pub fn ingest(&self, r#ref: String, message: Value) -> Result<SessionInfo, Code> {
    self
      .inner
      .ingest(&r#ref, message)
      .map(SessionInfo::from)
      .map_err(throw)
  }

  /// Manager-wide counters.
  #[napi]
  pub fn stats(&self) -> Stats {
    self.inner.stats().into()
  }

  /// Refuses new sessions and stops every live one gracefully, as `interrupt` does
  /// (`interrupted`, `endReason: 'shutdown'`, SIGKILL after `graceMs`, default the manager's
  /// `interruptGraceMs`); resolves with the final stats once all are reaped. Afterwards nothing
  /// of the manager keeps Node alive.
  #[napi(ts_return_type = "Promise<Stats>")]
  pub fn shutdown<'env>(
    &self,
    env: &'env Env,
    options: Option<StopOptions>,
  ) -> Result<PromiseRaw<'env, Stats>> {
    let inner = Arc::clone(&self.inner);
    let grace = grace(options);
    env.spawn_future(async move { Ok(Stats::from(inner.shutdown(grace).await)) })
  }
}

/// A promise for a core future: resolves with `convert(value)`, rejects with the core error's code.
fn promise<'env, T, V, F>(
  env: &'env Env,
  fut: F,
  convert: fn(T) -> V,
) -> Result<PromiseRaw<'env, V>>
where
  T: Send + 'static,
  V: ToNapiValue + 'static,
  F: std::future::Future<Output = core::Result<T>> + Send + 'static,
{
  env.spawn_future_with_callback(
    async move { Ok::<_, napi::Error>(fut.await) },
    move |env, r| r.map(convert).map_err(|e| reject(env, e)),
  )
}

/// `onLog(callback, { level })`.
#[napi(object)]
pub struct LogOptions {
  /// `error`, `warn`, `info` (default), `debug` or `trace`.
  #[napi(ts_type = "'error' | 'warn' | 'info' | 'debug' | 'trace'")]
  pub level: Option<String>,
}

/// A strong no-op threadsafe function: while a session holds it, Node's event loop stays up.
fn keepalive(
  env: &Env,
) -> Result<napi::threadsafe_function::ThreadsafeFunction<(), (), (), napi::Status, false>> {
  env
    .create_function_from_closure::<(), (), _>("openclawSessionKeepAlive", |_| Ok(()))?
    .build_threadsafe_function::<()>()
    .build()
}

fn grace(options: Option<StopOptions>) -> Option<std::time::Duration> {
  options
    .and_then(|o| o.grace_ms)
    .map(|ms| std::time::Duration::from_millis(ms as u64))
}

trait OrEmpty {
  fn or_empty(self) -> Value;
}

impl OrEmpty for Value {
  /// `undefined` / `null` options mean "all defaults".
  fn or_empty(self) -> Value {
    if self.is_null() {
      Value::Object(Default::default())
    } else {
      self
    }
  }
}
