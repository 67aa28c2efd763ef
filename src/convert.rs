//! Conversions between the core's types and JS: snapshots as napi objects, errors as JS
//! `Error`s whose `code` is the core's stable code.

use napi::bindgen_prelude::*;
use napi::JsError;
use napi_derive::napi;
use openclaw_sessions_core as core;
use std::collections::BTreeMap;

/// An error code string such as `E_NOT_FOUND`, the `code` of thrown errors.
pub struct Code(&'static str);

impl AsRef<str> for Code {
  fn as_ref(&self) -> &str {
    self.0
  }
}

/// A synchronous throw with the core error's code.
pub fn throw(e: core::Error) -> napi::Error<Code> {
  napi::Error::new(Code(e.code()), e.to_string())
}

/// A promise rejection with the core error's code: the JS error object is built here, on the
/// JS thread, so that the rejection carries `code` (napi's own path would say `GenericFailure`).
pub fn reject(env: &Env, e: core::Error) -> napi::Error {
  let raw = unsafe { JsError::from(throw(e)).into_value(env.raw()) };
  match unsafe { Unknown::from_napi_value(env.raw(), raw) } {
    Ok(v) => napi::Error::from(v),
    Err(err) => err,
  }
}

/// Token counts (Anthropic names).
#[napi(object)]
pub struct TokenUsage {
  pub input_tokens: f64,
  pub output_tokens: f64,
  pub cache_read_input_tokens: f64,
  pub cache_creation_input_tokens: f64,
}

impl From<core::Usage> for TokenUsage {
  fn from(u: core::Usage) -> Self {
    TokenUsage {
      input_tokens: u.input_tokens as f64,
      output_tokens: u.output_tokens as f64,
      cache_read_input_tokens: u.cache_read_input_tokens as f64,
      cache_creation_input_tokens: u.cache_creation_input_tokens as f64,
    }
  }
}

/// Where a session came from: the chat channel, the gateway agent, the owner.
#[napi(object)]
pub struct SessionOrigin {
  pub channel: Option<String>,
  pub agent: Option<String>,
  pub owner: Option<String>,
}

/// A snapshot of one session.
#[napi(object)]
pub struct SessionInfo {
  /// The manager's session id (a UUID).
  pub id: String,
  pub name: Option<String>,
  #[napi(ts_type = "Backend")]
  pub backend: String,
  /// The CLI's own id: Claude's `session_id` or Codex's thread id, known when `spawn` resolves.
  pub backend_session_id: String,
  #[napi(ts_type = "SessionStatus")]
  pub status: String,
  /// Why the session waits or ended: `turn-ended`, `question`, `permission`, `idle`, `user`,
  /// `exited`, `api-error`, `shutdown`, `limit` (a timeout or limit of the manager).
  #[napi(ts_type = "StatusReason")]
  pub status_reason: Option<String>,
  /// Why a terminal session ended: `user`, `shutdown`, `exited`, `api-error`, `protocol-error`,
  /// `idle-timeout`, `startup-timeout`, `memory-limit`, `close-timeout`, `budget-exhausted`,
  /// `manager-restart` (the manager that ran it died; a new one found it live in the store),
  /// `evicted` (interrupted to make room at `maxSessions`, `onLimit: 'evict-idle'`; resumable).
  /// For `interrupted` and `killed` it says who stopped it (`user`, `shutdown`).
  #[napi(ts_type = "EndReason")]
  pub end_reason: Option<String>,
  pub workdir: String,
  pub model: Option<String>,
  pub first_prompt: String,
  /// The CLI's pid while it runs (also its process group id).
  pub pid: Option<u32>,
  /// ms since the Unix epoch.
  pub created_at: f64,
  /// ms since the Unix epoch.
  pub updated_at: f64,
  /// ms since the Unix epoch.
  pub ended_at: Option<f64>,
  /// Turns ended (one per Claude `result` / Codex turn end).
  pub turns: u32,
  /// Sum of the CLI's `num_turns` (not a count of API calls).
  pub num_turns: u32,
  /// USD, an estimate: Claude's from the CLI's `total_cost_usd`; Codex's from its token counts
  /// and the manager's `prices` (USD per million tokens by model; dated defaults).
  pub total_cost_usd: f64,
  /// Tokens over all turns.
  pub usage: TokenUsage,
  pub last_assistant_text: Option<String>,
  /// The last error: model API error, fatal exit with context, ...
  pub last_error: Option<String>,
  pub exit_code: Option<i32>,
  pub exit_signal: Option<i32>,
  /// The last stderr lines of the CLI (at most `stderrLines`).
  pub stderr_tail: Vec<String>,
  pub origin: Option<SessionOrigin>,
  /// Who launched the session (`spawn({ owner })`, `register({ owner })` or `origin.owner`;
  /// a resumed session keeps its source's); absent: the operator's. A `forOwner(owner)` handle
  /// sees only sessions whose `owner` is its owner.
  pub owner: Option<String>,
  /// The highest event `seq` so far.
  pub last_seq: f64,
  /// A graceful stop (`interrupt`, `shutdown`) had to SIGKILL the process group when its grace
  /// period expired.
  pub forced_stop: bool,
  /// Permission requests waiting for `respondToPermission`, oldest first.
  pub pending_permissions: Vec<PendingPermission>,
  /// The session this one resumed (`resume`): the same conversation, an earlier process.
  pub resumed_from_id: Option<String>,
  /// The session this one forked (`resume` with `fork`): a copy of its conversation.
  pub forked_from_id: Option<String>,
  /// Removed from the store by retention; only ids and links are left (in `resumeChain`).
  pub evicted: bool,
  /// The caller owns the agent process (`register` / `ingest`, e.g. the Agent SDK).
  pub external: bool,
  /// What makes every process the session starts die with it (set at its first process):
  /// `cgroup` (a cgroup v2 per session, emptied with `cgroup.kill`), `subreaper` (the manager
  /// adopts orphans; they are found by their inherited `OPENCLAW_SESSION_ID`), or
  /// `process-group` (the CLI's process group only, e.g. on macOS). See the README.
  #[napi(ts_type = "'cgroup' | 'subreaper' | 'process-group'")]
  pub containment: Option<String>,
  /// The caller's own JSON object (`spawn({ metadata })`, `setMetadata`), at most 4096 bytes
  /// of JSON; `{}` by default. Stored, carried over by `resume`, filterable in `list`.
  #[napi(ts_type = "Record<string, unknown>")]
  pub metadata: serde_json::Value,
  /// Codex reported tokens for a model with no price (neither in the manager's `prices` nor
  /// the defaults): `totalCostUsd` leaves those tokens out.
  pub unpriced: bool,
  /// Automatic recovery (opt-in `recovery`): set once a turn failed on a transient model API
  /// error. Absent (`undefined`) otherwise.
  pub recovery: Option<RecoveryInfo>,
}

/// Where a session's automatic recovery is (`SessionInfo.recovery`).
#[napi(object)]
pub struct RecoveryInfo {
  /// Attempts started or scheduled so far (1 after the first failure).
  pub attempt: u32,
  /// The session's `recovery.maxAttempts`.
  pub max_attempts: u32,
  /// ms since the Unix epoch: when the next attempt starts, while `recovering`; else absent.
  pub next_attempt_at: Option<f64>,
  /// Every failed attempt's error, oldest first.
  pub errors: Vec<String>,
}

/// What `gc()` removed.
#[napi(object)]
pub struct GcReport {
  /// Sessions deleted from the store.
  pub deleted: u32,
  /// Sessions reduced to tombstones because a later session links to them.
  pub tombstoned: u32,
}

impl From<core::store::GcReport> for GcReport {
  fn from(r: core::store::GcReport) -> Self {
    GcReport {
      deleted: r.deleted,
      tombstoned: r.tombstoned,
    }
  }
}

/// A permission / approval request waiting for an answer.
#[napi(object)]
pub struct PendingPermission {
  /// Pass to `respondToPermission`.
  pub request_id: String,
  /// Claude's tool name (e.g. `Bash`), or the Codex approval method (e.g.
  /// `item/commandExecution/requestApproval`).
  pub tool_name: String,
  /// The tool input / approval params as the CLI sent them.
  #[napi(ts_type = "unknown")]
  pub input: serde_json::Value,
  /// ms since the Unix epoch.
  pub since: f64,
}

fn kebab<T: serde::Serialize>(v: &T) -> String {
  serde_json::to_value(v)
    .ok()
    .and_then(|v| v.as_str().map(str::to_owned))
    .unwrap_or_default()
}

impl From<core::SessionInfo> for SessionInfo {
  fn from(i: core::SessionInfo) -> Self {
    let owner = i.owner_id().map(str::to_owned);
    SessionInfo {
      id: i.id,
      name: i.name,
      backend: i.backend.as_str().to_owned(),
      backend_session_id: i.backend_session_id,
      status: i.status.as_str().to_owned(),
      status_reason: i.status_reason.as_ref().map(kebab),
      end_reason: i.end_reason.as_ref().map(kebab),
      workdir: i.workdir,
      model: i.model,
      first_prompt: i.first_prompt,
      pid: i.pid,
      created_at: i.created_at as f64,
      updated_at: i.updated_at as f64,
      ended_at: i.ended_at.map(|t| t as f64),
      turns: i.turns,
      num_turns: i.num_turns,
      total_cost_usd: i.total_cost_usd,
      usage: TokenUsage::from(i.usage),
      last_assistant_text: i.last_assistant_text,
      last_error: i.last_error,
      exit_code: i.exit_code,
      exit_signal: i.exit_signal,
      stderr_tail: i.stderr_tail,
      owner,
      origin: i.origin.map(|o| SessionOrigin {
        channel: o.channel,
        agent: o.agent,
        owner: o.owner,
      }),
      last_seq: i.last_seq as f64,
      forced_stop: i.forced_stop,
      containment: i.containment.map(|c| c.as_str().to_owned()),
      pending_permissions: i
        .pending_permissions
        .into_iter()
        .map(|p| PendingPermission {
          request_id: p.request_id,
          tool_name: p.tool_name,
          input: p.input,
          since: p.since as f64,
        })
        .collect(),
      resumed_from_id: i.resumed_from_id,
      forked_from_id: i.forked_from_id,
      evicted: i.evicted,
      external: i.external,
      metadata: serde_json::Value::Object(i.metadata),
      unpriced: i.unpriced,
      recovery: i.recovery.map(|r| RecoveryInfo {
        attempt: r.attempt,
        max_attempts: r.max_attempts,
        next_attempt_at: r.next_attempt_at.map(|t| t as f64),
        errors: r.errors,
      }),
    }
  }
}

/// Manager-wide counters.
#[napi(object)]
pub struct Stats {
  /// Sessions not in a terminal status.
  pub live: u32,
  /// Sessions held in memory.
  pub total: u32,
  /// Sessions per status; every status is present.
  #[napi(ts_type = "Record<SessionStatus, number>")]
  pub by_status: BTreeMap<String, u32>,
  /// Processes started since the manager was created.
  pub spawned: f64,
  /// Spawns that failed to start a process.
  pub spawn_failures: f64,
  /// Turns ended, over sessions in memory.
  pub turns: f64,
  /// USD, over sessions in memory.
  pub total_cost_usd: f64,
  /// Events published so far.
  pub events_emitted: f64,
  /// Current `onEvent` subscribers.
  pub listeners: u32,
  pub max_sessions: u32,
  /// Events not passed to an `onEvent` callback because its queue (10000 events) was full.
  pub events_dropped: f64,
  /// `onEvent` callbacks that threw (each also reported by a `warn` log record).
  pub listener_errors: f64,
  /// What opening the store found, as `[E_STORE] message` lines: a damaged store file of ours
  /// moved aside (both paths named) and a fresh one started. Empty for a healthy store.
  pub store_warnings: Vec<String>,
  /// The session counts, turns, cost and tokens per backend, over sessions in memory; every
  /// backend is present.
  #[napi(ts_type = "Record<Backend, BackendStats>")]
  pub by_backend: BTreeMap<String, BackendStats>,
}

/// One backend's share of `stats()` (`byBackend`), over sessions in memory.
#[napi(object)]
pub struct BackendStats {
  /// Sessions not in a terminal status.
  pub live: u32,
  /// Sessions held in memory.
  pub total: u32,
  /// Turns ended.
  pub turns: f64,
  /// USD, an estimate (Claude: the CLI's reported cost; Codex: its tokens at `prices`).
  pub total_cost_usd: f64,
  /// Tokens over all turns.
  pub usage: TokenUsage,
}

impl Stats {
  /// The core's stats with the binding's own counters.
  pub fn new(s: core::Stats, c: &crate::callbacks::Counters) -> Self {
    use std::sync::atomic::Ordering::Relaxed;
    Stats {
      live: s.live,
      total: s.total,
      by_status: s.by_status,
      spawned: s.spawned as f64,
      spawn_failures: s.spawn_failures as f64,
      turns: s.turns as f64,
      total_cost_usd: s.total_cost_usd,
      events_emitted: s.events_emitted as f64,
      listeners: s.listeners,
      max_sessions: s.max_sessions,
      events_dropped: c.events_dropped.load(Relaxed) as f64,
      listener_errors: c.listener_errors.load(Relaxed) as f64,
      store_warnings: s.store_warnings,
      by_backend: s
        .by_backend
        .into_iter()
        .map(|(k, b)| {
          let b = BackendStats {
            live: b.live,
            total: b.total,
            turns: b.turns as f64,
            total_cost_usd: b.total_cost_usd,
            usage: TokenUsage::from(b.usage),
          };
          (k, b)
        })
        .collect(),
    }
  }
}
