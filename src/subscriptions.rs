//! `SessionManager`'s callbacks: `onNotification`, `onEvent`, `onLog`. Each returns a function
//! that removes exactly the callback it added.

use crate::args;
use crate::callbacks::{self, EventFn, NotifyFn, NotifyReturn};
use crate::convert::{throw, Code};
use crate::logs;
use crate::SessionManager;
use napi::bindgen_prelude::*;
use napi::threadsafe_function::UnknownReturnValue;
use napi_derive::napi;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

#[napi]
impl SessionManager {
  /// Sets the notification callback: it gets every notification (docs/design.md "Notifications")
  /// for the channel the manager resolved. It may return nothing, a value, or a promise:
  /// a return or a resolved promise counts as delivered; a throw, a rejection, or a promise
  /// still pending after `notifications.deliveryTimeoutMs` (default 30000 ms) fails the attempt,
  /// which is retried with exponential backoff (`notifications.deliveryAttempts`, 5;
  /// `deliveryBackoffMs`, 500) and then reported as a `delivery-failed` event whose `error`
  /// says why. A timed-out attempt's promise is ignored from then on, so a retry may deliver
  /// the same notification again. Notifications go out one at a time, in order. Each
  /// notification's `key` is delivered at most once, also across restarts (a ledger in the
  /// store); notifications made while no callback is set wait for one.
  ///
  /// One callback at a time: setting another replaces it. Returns a function that removes
  /// this callback; it does nothing once another callback has replaced this one.
  ///
  /// @throws `E_INVALID_ARGUMENT` when `callback` is not a function, `E_FORBIDDEN` (on a
  /// `forOwner` handle: notifications are routed by the operator's manager).
  #[napi(
    catch_unwind,
    ts_args_type = "callback: (notification: Notification) => unknown",
    ts_return_type = "() => void"
  )]
  pub fn on_notification<'env>(
    &self,
    env: &'env Env,
    callback: Unknown<'_>,
  ) -> Result<Function<'env, (), ()>, Code> {
    (self.scope.operator_only("onNotification")).map_err(throw)?;
    let f: Function<'_, Value, NotifyReturn> =
      args::function(env, &callback, "callback").map_err(throw)?;
    let tsfn: Arc<NotifyFn> = Arc::new(
      f.build_threadsafe_function::<Value>()
        .callee_handled::<false>()
        .weak::<true>()
        .build()
        .map_err(napi_err)?,
    );
    let ms = self
      .inner
      .options()
      .notifications
      .delivery_timeout_ms
      .max(1);
    let deliver = callbacks::deliver(tsfn, Duration::from_millis(ms));
    let mine = {
      let mut generation = self.notify_gen.lock().unwrap_or_else(|e| e.into_inner());
      *generation += 1;
      self.inner.on_notification(Some(deliver));
      *generation
    };
    let (inner, current) = (Arc::clone(&self.inner), Arc::clone(&self.notify_gen));
    env
      .create_function_from_closure("offNotification", move |_| {
        let generation = current.lock().unwrap_or_else(|e| e.into_inner());
        if *generation == mine {
          inner.on_notification(None);
        }
        Ok(())
      })
      .map_err(napi_err)
  }

  /// Calls `callback` with every event of every session, in order per session (on a `forOwner`
  /// handle: of the owner's sessions only). The callback
  /// never keeps Node alive by itself. Up to 10000 events wait for a busy JS thread; beyond
  /// that they are dropped, counted in `stats().eventsDropped` and reported by a `warn`
  /// {@link LogEntry}. A callback that throws is reported by a `warn` log record
  /// (`fields.callback: 'onEvent'`, `fields.error`) and counted in `stats().listenerErrors`;
  /// it stays subscribed and Node goes on. Returns a function that unsubscribes (it returns
  /// false when already unsubscribed).
  ///
  /// @throws `E_INVALID_ARGUMENT` when `callback` is not a function.
  #[napi(
    catch_unwind,
    ts_args_type = "callback: (event: AgentEvent) => void",
    ts_return_type = "() => boolean"
  )]
  pub fn on_event<'env>(
    &self,
    env: &'env Env,
    callback: Unknown<'_>,
  ) -> Result<Function<'env, (), bool>, Code> {
    let f: Function<'_, Value, UnknownReturnValue> =
      args::function(env, &callback, "callback").map_err(throw)?;
    let tsfn: EventFn = f
      .build_threadsafe_function::<Value>()
      .callee_handled::<false>()
      .weak::<true>()
      .max_queue_size::<{ callbacks::EVENT_QUEUE }>()
      .build()
      .map_err(napi_err)?;
    let listener = callbacks::listener(tsfn, Arc::clone(&self.counters));
    let id = (self.inner).subscribe_scoped(&self.scope, Arc::new(listener));
    let inner = Arc::clone(&self.inner);
    env
      .create_function_from_closure("unsubscribe", move |_| Ok(inner.unsubscribe(id)))
      .map_err(napi_err)
  }

  /// Calls `callback` with the core's log records (`tracing`) at `options.level` (default
  /// `info`) or more severe. Logs are process-wide (every manager's); nothing is printed to
  /// stdout or stderr. Up to 10000 records wait for a busy JS thread; beyond that they are
  /// dropped, and the next record delivered carries `fields.droppedBefore` (their count). A
  /// callback that throws is ignored (it cannot be logged without a loop). Returns a function
  /// that removes the callback.
  ///
  /// @throws `E_INVALID_ARGUMENT` when `callback` is not a function, on an unknown level or
  /// an unknown option; `E_FORBIDDEN` (on a `forOwner` handle: logs are process-wide).
  #[napi(
    catch_unwind,
    ts_args_type = "callback: (entry: LogEntry) => void, options?: LogOptions",
    ts_return_type = "() => void"
  )]
  pub fn on_log<'env>(
    &self,
    env: &'env Env,
    callback: Unknown<'_>,
    options: Unknown<'_>,
  ) -> Result<Function<'env, (), ()>, Code> {
    (self.scope.operator_only("onLog")).map_err(throw)?;
    let what = "log options";
    let o = args::options(env, &options, what, &["level"]).map_err(throw)?;
    let level = logs::parse_level(o.get("level")).map_err(throw)?;
    let f: Function<'_, Value, UnknownReturnValue> =
      args::function(env, &callback, "callback").map_err(throw)?;
    let tsfn = f
      .build_threadsafe_function::<Value>()
      .callee_handled::<false>()
      .weak::<true>()
      .max_queue_size::<{ logs::LOG_QUEUE }>()
      .build()
      .map_err(napi_err)?;
    let id = logs::subscribe(tsfn, level);
    env
      .create_function_from_closure("offLog", move |_| {
        logs::unsubscribe(id);
        Ok(())
      })
      .map_err(napi_err)
  }
}

/// A napi failure (the environment is exiting) as a coded error.
fn napi_err(e: napi::Error) -> napi::Error<Code> {
  throw(openclaw_sessions_core::Error::State(format!(
    "Node.js could not create the callback: {}",
    e.reason
  )))
}
