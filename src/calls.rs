//! `SessionManager`'s promise-returning session operations. Each reads its arguments first;
//! bad input rejects the promise with `E_INVALID_ARGUMENT` (never a synchronous throw).

use crate::args::{self, R};
use crate::convert::{SessionInfo, Stats};
use crate::waits::{self, Sent, TurnResult};
use crate::{or_empty, promise, SessionManager};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use openclaw_sessions_core as core;
use std::sync::Arc;
use std::time::Duration;

#[napi]
impl SessionManager {
  /// Starts a session and sends `options.prompt` as its first message (Claude: a stdin
  /// message; Codex: `turn/start`; codex-exec: the `codex exec` prompt argument after `--`).
  /// Resolves with the session's snapshot once `backendSessionId` is known and the prompt has
  /// reached the CLI: status `running` for every backend (or later, if the turn already
  /// ended or the CLI died). With `wait: true` it resolves when the first turn has ended
  /// instead, with a `TurnResult` (see `waitForTurn`; `waitTimeoutMs` bounds that wait).
  /// While any session is live, Node stays up.
  ///
  /// @throws `E_INVALID_ARGUMENT` (not an object, bad or unknown option, an option of another
  /// backend, duplicate name, non-UUID `resume`, `waitTimeoutMs` without `wait: true`),
  /// `E_LIMIT` (`maxSessions` live sessions; with `onLimit: 'evict-idle'`, only when none of
  /// them waits for input to be evicted), `E_SPAWN` (CLI missing or not executable; the
  /// message names the paths tried and what to install or set), `E_RESUME_NOT_FOUND` (the
  /// CLI has no such conversation; nothing is left running), `E_TIMEOUT` (the Codex
  /// app-server did not complete its handshake; with `wait`, `waitTimeoutMs` passed: the
  /// session goes on), `E_PROTOCOL`, `E_STATE` (manager shut down; `resume` of a conversation
  /// a live session of this manager runs, without `fork`; the session was stopped — `kill`,
  /// `close`, `interrupt`, `shutdown` — while it started: its process is gone and the session
  /// stays listed with that end), `E_STORE` (the started session could not be written: it runs
  /// on and is written once the store is back). The prompt is written to the CLI's stdin
  /// (every backend): a blank prompt, a NUL in it, or an `env` key that is empty or holds `=`
  /// or NUL (or a NUL in a value) is `E_INVALID_ARGUMENT`. On a `forOwner` handle the session
  /// gets the handle's owner; another `owner` / `origin.owner`, or `resume` of a conversation
  /// this manager knows as another owner's, is `E_FORBIDDEN`.
  #[napi(
    catch_unwind,
    ts_generic_types = "W extends boolean = false",
    ts_args_type = "options: SpawnOptions & SpawnWait<W>",
    ts_return_type = "Promise<W extends true ? TurnResult : SessionInfo>"
  )]
  pub fn spawn<'env>(
    &self,
    env: &'env Env,
    options: Unknown<'_>,
  ) -> Result<PromiseRaw<'env, Either<SessionInfo, TurnResult>>> {
    let (inner, scope) = self.view();
    let input = args::object(env, &options, "spawn options").and_then(|mut v| {
      let wait = match v.as_object_mut() {
        Some(o) => {
          let wait = waits::wait_option(o, "waitTimeoutMs", "spawn options")?;
          o.remove("wait");
          o.remove("waitTimeoutMs");
          wait
        }
        None => None,
      };
      let opts = core::model::options::from_json::<core::SpawnOptions>("spawn options", v)?;
      Ok((opts, wait))
    });
    let keepalive = keepalive(env)?;
    promise(
      env,
      async move {
        let (mut opts, wait) = input?;
        inner.scope_spawn(&scope, &mut opts)?;
        let keep = Some(Box::new(keepalive) as _);
        Ok(match wait {
          None => Sent::Info(inner.spawn(opts, keep).await?),
          Some(t) => Sent::Turn(inner.spawn_and_wait(opts, keep, t).await?),
        })
      },
      waits::sent,
    )
  }

  /// Sends the next user message to a session that is `waiting-for-input` (Claude: stdin;
  /// Codex: `turn/start`; codex-exec: a new `codex exec resume <thread id>` process).
  /// Resolves with the snapshot (`running`) once the message is sent; with `wait: true`,
  /// once the turn has ended, with a `TurnResult` (see `waitForTurn`).
  ///
  /// @param ref - session id, name, or backend session id (Claude session id, Codex thread id).
  /// `options.userInitiated` (boolean, default true): false marks an automatic reply (e.g. the
  /// gateway's agent answering for the user); at most `maxAutoResponds` of those in a row.
  /// `options.wait` (boolean, default false) and `options.timeoutMs` (ms, only with `wait`).
  ///
  /// @throws `E_NOT_FOUND`, `E_FORBIDDEN` (on a `forOwner` handle: another owner's session), `E_STATE` (not waiting: wait for the turn to end; a permission
  /// request is pending; the session is finished: resume it), `E_INVALID_ARGUMENT` (blank
  /// text or text with a NUL, a non-string, an unknown option, `timeoutMs` without
  /// `wait: true`), `E_AUTO_RESPOND_LIMIT` (too many automatic replies in a row), `E_TIMEOUT`
  /// (`timeoutMs` passed while waiting; the turn goes on).
  #[napi(
    catch_unwind,
    ts_generic_types = "W extends boolean = false",
    ts_args_type = "ref: string, text: string, options?: SendOptions & SendWait<W>",
    ts_return_type = "Promise<W extends true ? TurnResult : SessionInfo>"
  )]
  pub fn send<'env>(
    &self,
    env: &'env Env,
    r#ref: Unknown<'_>,
    text: Unknown<'_>,
    options: Unknown<'_>,
  ) -> Result<PromiseRaw<'env, Either<SessionInfo, TurnResult>>> {
    let (inner, scope) = self.view();
    let input = (|| -> R<_> {
      let what = "send options";
      let o = args::options(env, &options, what, &["userInitiated", "wait", "timeoutMs"])?;
      Ok((
        args::string(env, &r#ref, "ref")?,
        args::string(env, &text, "text")?,
        args::flag(&o, "userInitiated", what)?.unwrap_or(true),
        waits::wait_option(&o, "timeoutMs", what)?,
      ))
    })();
    promise(
      env,
      async move {
        let (r, text, user, wait) = input?;
        let r = inner.resolve(&scope, &r)?;
        Ok(match wait {
          None => Sent::Info(inner.send(&r, &text, user).await?),
          Some(t) => Sent::Turn(inner.send_and_wait(&r, &text, user, t).await?),
        })
      },
      waits::sent,
    )
  }

  /// Foreground mode for `channel`: resolves with the output lines the channel has not seen
  /// yet (catch-up), then streams new output as `output` notifications (batched over
  /// `notifications.foregroundDebounceMs`, 500 ms) and tool calls as `tool-use` notifications
  /// to that channel, until `background(ref, channel)`.
  ///
  /// @throws `E_NOT_FOUND`, `E_FORBIDDEN` (on a `forOwner` handle: another owner's session) (also for a session that is not live), `E_INVALID_ARGUMENT`.
  #[napi(
    catch_unwind,
    ts_args_type = "ref: string, channel: string",
    ts_return_type = "Promise<string[]>"
  )]
  pub fn foreground<'env>(
    &self,
    env: &'env Env,
    r#ref: Unknown<'_>,
    channel: Unknown<'_>,
  ) -> Result<PromiseRaw<'env, Vec<String>>> {
    let (inner, scope) = self.view();
    let input = args::string(env, &r#ref, "ref")
      .and_then(|r| Ok((r, args::string(env, &channel, "channel")?)));
    promise(
      env,
      async move {
        let (r, channel) = input?;
        inner
          .foreground(&inner.resolve(&scope, &r)?, &channel)
          .await
      },
      |v| v,
    )
  }

  /// Cancels the running turn only; the session goes on and returns to `waiting-for-input`
  /// with a `turn-completed` event whose `subtype` says how the CLI ended it (Claude
  /// `error_during_execution`, Codex `interrupted`). Claude: stdin `control_request {subtype:
  /// interrupt}`; Codex: `turn/interrupt` (with the turn id `turn/start` answered, so right
  /// after `spawn` / `send` it cancels the turn just started); codex-exec: SIGINT to the turn's
  /// process, held back until Codex reports `turn.started` (it ignores an earlier one). When
  /// no turn is running it does nothing and resolves with the snapshot.
  ///
  /// @throws `E_NOT_FOUND`, `E_FORBIDDEN` (on a `forOwner` handle: another owner's session), `E_TIMEOUT` (Codex did not answer), `E_STATE` (the CLI is gone),
  /// `E_INVALID_ARGUMENT`.
  #[napi(
    catch_unwind,
    ts_args_type = "ref: string",
    ts_return_type = "Promise<SessionInfo>"
  )]
  pub fn interrupt_turn<'env>(
    &self,
    env: &'env Env,
    r#ref: Unknown<'_>,
  ) -> Result<PromiseRaw<'env, SessionInfo>> {
    let (inner, scope) = self.view();
    let r = args::string(env, &r#ref, "ref");
    promise(
      env,
      async move { inner.interrupt_turn(&inner.resolve(&scope, &r?)?).await },
      SessionInfo::from,
    )
  }

  /// Ends the conversation normally: closes stdin and waits for the CLI to exit: `completed`
  /// whenever it exits by itself (whatever its exit code or how the last turn ended:
  /// interrupted, `error_max_turns`). After `closeTimeoutMs` the process group is SIGKILLed:
  /// `killed`, `endReason: 'close-timeout'`, `forcedStop: true`. A `kill` during the close
  /// wins (both resolve `killed`). A finished session resolves as is, once its state is on
  /// disk.
  ///
  /// @throws `E_NOT_FOUND`, `E_FORBIDDEN` (on a `forOwner` handle: another owner's session), `E_INVALID_ARGUMENT`, `E_STORE` (the end could not be written).
  #[napi(
    catch_unwind,
    ts_args_type = "ref: string",
    ts_return_type = "Promise<SessionInfo>"
  )]
  pub fn close<'env>(
    &self,
    env: &'env Env,
    r#ref: Unknown<'_>,
  ) -> Result<PromiseRaw<'env, SessionInfo>> {
    let (inner, scope) = self.view();
    let r = args::string(env, &r#ref, "ref");
    promise(
      env,
      async move { inner.close(&inner.resolve(&scope, &r?)?).await },
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
  /// @throws `E_NOT_FOUND`, `E_FORBIDDEN` (on a `forOwner` handle: another owner's session) (no such session, or no such pending request), `E_STATE` (the
  /// session is finished), `E_INVALID_ARGUMENT` (bad decision object, non-string ids).
  #[napi(
    catch_unwind,
    ts_args_type = "ref: string, requestId: string, decision: PermissionDecision",
    ts_return_type = "Promise<SessionInfo>"
  )]
  pub fn respond_to_permission<'env>(
    &self,
    env: &'env Env,
    r#ref: Unknown<'_>,
    request_id: Unknown<'_>,
    decision: Unknown<'_>,
  ) -> Result<PromiseRaw<'env, SessionInfo>> {
    let (inner, scope) = self.view();
    let input = (|| -> R<_> {
      Ok((
        args::string(env, &r#ref, "ref")?,
        args::string(env, &request_id, "requestId")?,
        core::model::options::permission_answer(args::json(env, &decision, "decision")?)?,
      ))
    })();
    promise(
      env,
      async move {
        let (r, id, answer) = input?;
        let r = inner.resolve(&scope, &r)?;
        inner.respond_to_permission(&r, &id, answer).await
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
  /// @throws `E_NOT_FOUND`, `E_FORBIDDEN` (on a `forOwner` handle: another owner's session), `E_INVALID_ARGUMENT` (`graceMs` not an integer from 0 to
  /// `Number.MAX_SAFE_INTEGER`, an unknown option), `E_STORE` (the end could not be written).
  #[napi(
    catch_unwind,
    ts_args_type = "ref: string, options?: StopOptions",
    ts_return_type = "Promise<SessionInfo>"
  )]
  pub fn interrupt<'env>(
    &self,
    env: &'env Env,
    r#ref: Unknown<'_>,
    options: Unknown<'_>,
  ) -> Result<PromiseRaw<'env, SessionInfo>> {
    let (inner, scope) = self.view();
    let input = args::string(env, &r#ref, "ref")
      .and_then(|r| Ok((r, grace(env, &options, "interrupt options")?)));
    promise(
      env,
      async move {
        let (r, grace) = input?;
        inner.interrupt(&inner.resolve(&scope, &r)?, grace).await
      },
      SessionInfo::from,
    )
  }

  /// Hard stop: SIGKILL to the session's whole process group; resolves once the process is
  /// reaped, status `killed`. A finished session resolves as is.
  ///
  /// @throws `E_NOT_FOUND`, `E_FORBIDDEN` (on a `forOwner` handle: another owner's session), `E_INVALID_ARGUMENT`, `E_STORE` (the end could not be written).
  #[napi(
    catch_unwind,
    ts_args_type = "ref: string",
    ts_return_type = "Promise<SessionInfo>"
  )]
  pub fn kill<'env>(
    &self,
    env: &'env Env,
    r#ref: Unknown<'_>,
  ) -> Result<PromiseRaw<'env, SessionInfo>> {
    let (inner, scope) = self.view();
    let r = args::string(env, &r#ref, "ref");
    promise(
      env,
      async move { inner.kill(&inner.resolve(&scope, &r?)?).await },
      SessionInfo::from,
    )
  }

  /// Continues a finished session's conversation in a new live session: Claude `--resume <id>`
  /// from the original workdir (`--fork-session` with `fork`), Codex `thread/resume` /
  /// `thread/fork`, codex-exec `exec resume` / `exec fork`, with the original options. The CLI's
  /// record is checked first (Claude's transcript, Codex's rollout file): the verdict of
  /// `canResume`, so the two never disagree. Without `prompt` the new session waits for `send`.
  /// It records `resumedFromId` (or `forkedFromId`) and carries the `metadata` over.
  ///
  /// @throws `E_NOT_FOUND`, `E_FORBIDDEN` (on a `forOwner` handle: another owner's session),
  /// `E_RESUME_NOT_FOUND` (`canResume` reasons `transcript-missing`,
  /// `rollout-missing`: the CLI no longer has the conversation, the message says what was
  /// looked for; `too-old`: it ended longer ago than `resumeMaxAgeMs`; `evicted`: retention left
  /// a tombstone; nothing is spawned — except that with `onMissing: 'fresh'` the first three
  /// start a new conversation, seeded with the stored summary and linked into the chain),
  /// `E_STATE` (`live`: the session is live and `fork` is not set; `workdir-missing`: its
  /// workdir is gone), `E_INVALID_ARGUMENT`, and the errors of `spawn`.
  #[napi(
    catch_unwind,
    ts_args_type = "ref: string, prompt?: string | null, options?: ResumeOptions",
    ts_return_type = "Promise<SessionInfo>"
  )]
  pub fn resume<'env>(
    &self,
    env: &'env Env,
    r#ref: Unknown<'_>,
    prompt: Unknown<'_>,
    options: Unknown<'_>,
  ) -> Result<PromiseRaw<'env, SessionInfo>> {
    let (inner, scope) = self.view();
    let input = (|| -> R<_> {
      let o = args::json(env, &options, "resume options")?;
      Ok((
        args::string(env, &r#ref, "ref")?,
        args::opt_string(env, &prompt, "prompt")?,
        core::model::options::from_json::<core::model::options::ResumeOptions>(
          "resume options",
          or_empty(o),
        )?,
      ))
    })();
    let keepalive = keepalive(env)?;
    promise(
      env,
      async move {
        let (r, prompt, o) = input?;
        let r = inner.resolve(&scope, &r)?;
        inner.resume(&r, prompt, o, Some(Box::new(keepalive))).await
      },
      SessionInfo::from,
    )
  }

  /// Refuses new sessions and stops every live one gracefully, as `interrupt` does
  /// (`interrupted`, `endReason: 'shutdown'`, SIGKILL after `graceMs`, default the manager's
  /// `interruptGraceMs`); resolves with the final stats once all are reaped. Afterwards nothing
  /// of the manager keeps Node alive.
  ///
  /// @throws `E_INVALID_ARGUMENT` (`graceMs` not an integer from 0 to
  /// `Number.MAX_SAFE_INTEGER`, an unknown option), `E_STORE` (the sessions' ends could not be
  /// written; they are stopped all the same), `E_FORBIDDEN` (on a `forOwner` handle).
  #[napi(
    catch_unwind,
    ts_args_type = "options?: StopOptions",
    ts_return_type = "Promise<Stats>"
  )]
  pub fn shutdown<'env>(
    &self,
    env: &'env Env,
    options: Unknown<'_>,
  ) -> Result<PromiseRaw<'env, Stats>> {
    let (inner, scope) = self.view();
    let counters = Arc::clone(&self.counters);
    let grace = grace(env, &options, "shutdown options");
    promise(
      env,
      async move {
        scope.operator_only("shutdown")?;
        Ok(Stats::new(inner.shutdown(grace?).await?, &counters))
      },
      |s| s,
    )
  }
}

/// `{ graceMs }` of `interrupt` / `shutdown`.
fn grace(env: &Env, options: &Unknown<'_>, what: &str) -> R<Option<Duration>> {
  let o = args::options(env, options, what, &["graceMs"])?;
  Ok(args::count(&o, "graceMs", what, "ms")?.map(Duration::from_millis))
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
