//! The option objects of `SessionManager`'s methods as TypeScript sees them. The methods read
//! them with `args` (so that bad input is `E_INVALID_ARGUMENT` naming the key and the range);
//! these structs only give index.d.ts their shapes.

#![allow(dead_code)]

use napi_derive::napi;

/// `output(ref, { lines })`.
#[napi(object)]
pub struct OutputQuery {
  /// How many of the last lines to return: an integer from 0 to `Number.MAX_SAFE_INTEGER`
  /// (default: all kept).
  pub lines: Option<f64>,
}

/// `events(ref, { sinceSeq, kinds })`.
#[napi(object)]
pub struct EventsQuery {
  /// Only events with `seq` greater than this: an integer from 0 to
  /// `Number.MAX_SAFE_INTEGER` (default 0: all kept).
  pub since_seq: Option<f64>,
  /// Only these kinds, e.g. `['status', 'turn-completed']` (default: all); an unknown kind is
  /// refused.
  #[napi(ts_type = "AgentEventKind[]")]
  pub kinds: Option<Vec<String>>,
}

/// `interrupt(ref, { graceMs })`, `shutdown({ graceMs })`.
#[napi(object)]
pub struct StopOptions {
  /// ms between the start of a graceful stop and SIGKILL: an integer from 0 to
  /// `Number.MAX_SAFE_INTEGER` (default: the manager's `interruptGraceMs`, 5000). SIGINT goes
  /// to the process group at half of it.
  pub grace_ms: Option<f64>,
}

/// `send(ref, text, { userInitiated })`.
#[napi(object)]
pub struct SendOptions {
  /// false: an automatic reply, counted toward `maxAutoResponds`; true (default): the user
  /// spoke, which resets that count.
  pub user_initiated: Option<bool>,
}

/// `onLog(callback, { level })`.
#[napi(object)]
pub struct LogOptions {
  /// `error`, `warn`, `info` (default), `debug` or `trace`.
  #[napi(ts_type = "'error' | 'warn' | 'info' | 'debug' | 'trace'")]
  pub level: Option<String>,
}

/// `SessionStore.list(filter)`.
#[napi(object)]
pub struct StoreFilter {
  /// Only sessions in this status (or any of these).
  #[napi(ts_type = "SessionStatus | SessionStatus[]")]
  pub status: Option<napi::Either<String, Vec<String>>>,
  /// Only sessions of this backend (`claude`, `codex` or `codex-exec`), or of any of these.
  #[napi(ts_type = "Backend | Backend[]")]
  pub backend: Option<napi::Either<String, Vec<String>>>,
  /// At most this many: the newest ones (still returned oldest first); an integer from 0 to 4294967295.
  pub limit: Option<f64>,
}
