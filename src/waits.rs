//! Waiting for turns: `waitForTurn`, the `wait` option of `send` and `spawn`, and the
//! `TurnResult` they resolve with. The core decides when a turn has ended; this converts.

use crate::args::{self, R};
use crate::convert::{SessionInfo, TokenUsage};
use crate::{promise, SessionManager};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use openclaw_sessions_core as core;
use serde_json::{Map, Value};
use std::time::Duration;

/// What `send(..., { wait: true })`, `spawn({ ..., wait: true })` and `waitForTurn` resolve
/// with: how the turn ended, its text, cost and tokens, and the session's snapshot then.
#[napi(object)]
pub struct TurnResult {
  /// The session's snapshot when the wait ended.
  pub session: SessionInfo,
  /// `completed` (the turn ended well; the session waits for input), `error` (the turn ended
  /// with an error the session survives, e.g. `error_max_turns`; see `error`), `interrupted`
  /// (`interruptTurn`, `turnTimeoutMs`), `permission` (the turn is not over: a permission
  /// request waits in `session.pendingPermissions`; answer it with `respondToPermission`, then
  /// `waitForTurn` again), `ended` (the session reached a terminal status; `session.status`,
  /// `session.endReason` and `error` say why).
  #[napi(ts_type = "TurnOutcome")]
  pub outcome: String,
  /// The turn's 1-based number (for `permission`, and `ended` before the turn ended, the
  /// number it has while it runs); 0 when no turn has run in this session.
  pub turn: u32,
  /// The turn's assistant text, its messages joined by `\n` (so far, for `permission` and
  /// `ended` before the turn ended).
  pub text: String,
  /// The turn's cost in USD (Claude: as reported by the CLI; Codex: estimated from its token
  /// counts); 0 until the turn ended.
  pub cost_usd: f64,
  /// The turn's tokens; zeros until the turn ended.
  pub usage: TokenUsage,
  /// `error`: the turn's error; `ended`: the session's `lastError` (if any).
  pub error: Option<String>,
  /// ms from the turn's start to its end (or to when the wait ended).
  pub duration_ms: f64,
}

impl From<core::TurnResult> for TurnResult {
  fn from(t: core::TurnResult) -> Self {
    TurnResult {
      session: SessionInfo::from(t.session),
      outcome: t.outcome.as_str().to_owned(),
      turn: t.turn,
      text: t.text,
      cost_usd: t.cost_usd,
      usage: TokenUsage::from(t.usage),
      error: t.error,
      duration_ms: t.duration_ms as f64,
    }
  }
}

/// `waitForTurn(ref, { timeoutMs })`.
#[allow(dead_code)]
#[napi(object)]
pub struct WaitOptions {
  /// Give up after this many ms with `E_TIMEOUT` (the session goes on): an integer from 0 to
  /// `Number.MAX_SAFE_INTEGER`. Default: no limit (the manager's `turnTimeoutMs` and
  /// `idleTimeoutMs` still end a turn that runs too long).
  pub timeout_ms: Option<f64>,
}

/// What a `send` or `spawn` resolves with: the snapshot, or with `wait` the turn's result.
pub(crate) enum Sent {
  Info(core::SessionInfo),
  Turn(core::TurnResult),
}

pub(crate) fn sent(s: Sent) -> Either<SessionInfo, TurnResult> {
  match s {
    Sent::Info(i) => Either::A(SessionInfo::from(i)),
    Sent::Turn(t) => Either::B(TurnResult::from(t)),
  }
}

/// `wait` and its timeout (`timeout_key`) of an options object: `None` without `wait`; a
/// timeout without `wait: true` is refused.
pub(crate) fn wait_option(
  o: &Map<String, Value>,
  timeout_key: &str,
  what: &str,
) -> R<Option<Option<Duration>>> {
  let wait = args::flag(o, "wait", what)?.unwrap_or(false);
  let timeout = args::count(o, timeout_key, what, "ms")?.map(Duration::from_millis);
  if !wait && timeout.is_some() {
    return Err(core::Error::InvalidArgument(format!(
      "{what}: `{timeout_key}` needs `wait: true`"
    )));
  }
  Ok(wait.then_some(timeout))
}

#[napi]
impl SessionManager {
  /// Resolves once the session's running turn has ended (`outcome` `completed`, `error` or
  /// `interrupted`; the session waits for input), a permission request waits for an answer
  /// (`permission`), or the session ended (`ended`). A session whose turn is not running
  /// (waiting for input, or finished) resolves at once, with its last turn.
  ///
  /// @param ref - session id, name, or backend session id.
  /// @throws `E_TIMEOUT` (`timeoutMs` passed; the session goes on), `E_NOT_FOUND`, `E_FORBIDDEN` (on a `forOwner` handle: another owner's session),
  /// `E_INVALID_ARGUMENT`.
  #[napi(
    catch_unwind,
    ts_args_type = "ref: string, options?: WaitOptions",
    ts_return_type = "Promise<TurnResult>"
  )]
  pub fn wait_for_turn<'env>(
    &self,
    env: &'env Env,
    r#ref: Unknown<'_>,
    options: Unknown<'_>,
  ) -> Result<PromiseRaw<'env, TurnResult>> {
    let (inner, scope) = self.view();
    let input = (|| -> R<_> {
      let what = "waitForTurn options";
      let o = args::options(env, &options, what, &["timeoutMs"])?;
      Ok((
        args::string(env, &r#ref, "ref")?,
        args::count(&o, "timeoutMs", what, "ms")?.map(Duration::from_millis),
      ))
    })();
    promise(
      env,
      async move {
        let (r, timeout) = input?;
        inner
          .wait_for_turn(&inner.resolve(&scope, &r)?, timeout)
          .await
      },
      TurnResult::from,
    )
  }
}
