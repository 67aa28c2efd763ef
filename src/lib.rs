//! The napi binding of `openclaw-sessions-core`: option objects in, snapshots and events out,
//! one error mapping, callbacks. It converts and forwards; every decision lives in the core.
//!
//! `SessionManager`'s methods are split by kind: [`calls`] (promise-returning session
//! operations), [`reads`] (synchronous queries and the registered-session calls) and
//! [`subscriptions`] (callbacks); [`owners`] makes an owner's handle (`forOwner`), the same class
//! with a scope every method applies. Every argument is read by [`args`] so that bad input is
//! `E_INVALID_ARGUMENT`, and every method is guarded against panics (`catch_unwind`).

#![deny(clippy::all)]

mod args;
mod callbacks;
mod calls;
mod convert;
mod errors;
mod json;
mod jsvalue;
mod logs;
mod owners;
mod reads;
mod resumability;
mod shapes;
mod store;
mod subscriptions;
mod waits;

use convert::{reject, throw, Code};
use napi::bindgen_prelude::*;
use napi::CleanupEnvHook;
use napi_derive::napi;
use openclaw_sessions_core as core;
use std::sync::{Arc, Mutex, Weak};

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
///
/// Every method reports bad input (a wrong type, a missing argument, NaN, ±Infinity, a
/// negative or fractional count, an unknown option key, objects nested deeper than 127
/// levels) as `E_INVALID_ARGUMENT` naming the argument; a method that returns a promise
/// rejects it and never throws. A dropped manager (garbage-collected) frees its store file,
/// its writer thread and its exit hook; its live sessions are not stopped by that (call
/// `shutdown()` first), and a live session keeps Node's event loop, not the manager, alive.
#[napi(custom_finalize)]
pub struct SessionManager {
  inner: Arc<core::Manager>,
  /// The environment's exit hook (SIGKILL to live children); removed when the manager is
  /// finalized. It holds the manager weakly, so it never keeps it alive.
  hook: Option<CleanupEnvHook<Weak<core::Manager>>>,
  /// The current `onNotification` callback's number: its remover only removes that one.
  notify_gen: Arc<Mutex<u64>>,
  /// What the binding counts of its own queues and callbacks (`stats()`).
  counters: Arc<callbacks::Counters>,
  /// Whose view this handle is: the operator's (`new SessionManager`) or an owner's
  /// (`forOwner`).
  scope: core::Scope,
}

#[napi]
impl SessionManager {
  /// Creates a manager. `options`: see {@link ManagerOptions}; unknown keys are rejected.
  /// Integral numbers up to `Number.MAX_SAFE_INTEGER` are accepted for every ms, byte and count
  /// option (e.g. `maxPersistedAgeMs: 90 * 86400000`).
  /// Every live child is SIGKILLed when the Node.js environment exits.
  ///
  /// @throws `E_INVALID_ARGUMENT` on an unknown key, a bad value or a non-object;
  /// `E_STORE` when the store cannot be opened.
  #[napi(constructor, catch_unwind, ts_args_type = "options?: ManagerOptions")]
  pub fn new(env: Env, options: Unknown<'_>) -> Result<Self, Code> {
    let opts: core::ManagerOptions = args::json(&env, &options, "SessionManager options")
      .and_then(|v| core::model::options::from_json("SessionManager options", or_empty(v)))
      .map_err(throw)?;
    // Inside napi's tokio runtime, so the manager can start its notification router.
    let inner = Arc::new(
      napi::bindgen_prelude::within_runtime_if_available(|| core::Manager::new(opts))
        .map_err(throw)?,
    );
    let hook = env
      .add_env_cleanup_hook(Arc::downgrade(&inner), |m| {
        if let Some(m) = m.upgrade() {
          m.kill_all_now()
        }
      })
      .map_err(|e| throw(core::Error::Spawn(e.reason)))?;
    Ok(SessionManager {
      inner,
      hook: Some(hook),
      notify_gen: Arc::new(Mutex::new(0)),
      counters: Arc::new(callbacks::Counters::default()),
      scope: core::Scope::Operator,
    })
  }
}

impl ObjectFinalize for SessionManager {
  /// The JS object was collected: the exit hook goes; the manager is freed with the last of
  /// its in-flight calls.
  fn finalize(mut self, env: Env) -> Result<()> {
    if let Some(hook) = self.hook.take() {
      env.remove_env_cleanup_hook(hook)?;
    }
    Ok(())
  }
}

/// A promise for a core future: resolves with `convert(value)`, rejects with the core error's
/// code. Arguments are read before the future and their error passed in as `Err`, so bad input
/// rejects too.
pub(crate) fn promise<'env, T, V, F>(
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

/// `undefined` / `null` options mean "all defaults".
pub(crate) fn or_empty(v: serde_json::Value) -> serde_json::Value {
  if v.is_null() {
    serde_json::Value::Object(Default::default())
  } else {
    v
  }
}
