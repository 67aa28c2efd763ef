//! The threadsafe functions between the core's threads and JS callbacks, and what they do when
//! JS misbehaves:
//!
//! - `onNotification`: the callback may return a value, a promise or nothing; only a throw, a
//!   rejection or no settlement within `notifications.deliveryTimeoutMs` fails the attempt.
//! - `onEvent`: calls queue up to [`EVENT_QUEUE`] events per listener; past that, events are
//!   dropped, counted (`stats().eventsDropped`) and reported once per overflow as a `warn`
//!   log record. A listener that throws is reported as a `warn` log record (`onLog`) and
//!   counted (`stats().listenerErrors`); Node goes on.

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{
  ThreadsafeFunction, ThreadsafeFunctionCallMode, UnknownReturnValue,
};
use openclaw_sessions_core as core;
use serde_json::Value;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The most events queued for one `onEvent` listener while JS is busy.
pub const EVENT_QUEUE: usize = 10_000;

/// What a notification callback returns: a promise, or anything else (taken as delivered).
/// napi's `Either<Promise<_>, _>` would need a type for "anything else" that validates every
/// JS type; this reads the one distinction that matters.
pub enum NotifyReturn {
  Promise(Promise<UnknownReturnValue>),
  Value,
}

impl FromNapiValue for NotifyReturn {
  unsafe fn from_napi_value(env: napi::sys::napi_env, v: napi::sys::napi_value) -> Result<Self> {
    let mut is_promise = false;
    unsafe { napi::sys::napi_is_promise(env, v, &mut is_promise) };
    Ok(if is_promise {
      NotifyReturn::Promise(unsafe { Promise::from_napi_value(env, v)? })
    } else {
      NotifyReturn::Value
    })
  }
}
/// An `onNotification` callback.
pub type NotifyFn = ThreadsafeFunction<Value, NotifyReturn, Value, Status, false, true>;
/// An `onEvent` callback with its bounded queue.
pub type EventFn =
  ThreadsafeFunction<Value, UnknownReturnValue, Value, Status, false, true, EVENT_QUEUE>;

/// The binding's own counts, per manager.
#[derive(Default)]
pub struct Counters {
  /// Events not queued to an `onEvent` listener because its queue was full.
  pub events_dropped: AtomicU64,
  /// `onEvent` callbacks that threw.
  pub listener_errors: AtomicU64,
}

/// The core's delivery callback around a JS `onNotification` callback.
pub fn deliver(tsfn: Arc<NotifyFn>, timeout: Duration) -> core::notify::delivery::Deliver {
  Arc::new(move |n: core::notify::Notification| {
    let tsfn = Arc::clone(&tsfn);
    Box::pin(async move {
      let value = serde_json::to_value(&n).map_err(|e| e.to_string())?;
      match tokio::time::timeout(timeout, call_notify(&tsfn, value)).await {
        Ok(outcome) => outcome,
        Err(_) => Err(format!(
          "the onNotification callback did not settle within {} ms (notifications.deliveryTimeoutMs)",
          timeout.as_millis()
        )),
      }
    })
  })
}

/// One call: `Ok` once the callback returned a non-promise or its promise resolved.
async fn call_notify(tsfn: &NotifyFn, value: Value) -> std::result::Result<(), String> {
  let (tx, rx) = tokio::sync::oneshot::channel::<
    std::result::Result<Option<Promise<UnknownReturnValue>>, String>,
  >();
  let status = tsfn.call_with_return_value(
    value,
    ThreadsafeFunctionCallMode::NonBlocking,
    move |ret: Result<NotifyReturn>, _env| {
      let outcome = match ret {
        Ok(NotifyReturn::Promise(promise)) => Ok(Some(promise)),
        Ok(NotifyReturn::Value) => Ok(None),
        Err(e) => Err(reason(&e, "the onNotification callback threw")),
      };
      let _ = tx.send(outcome);
      Ok(())
    },
  );
  if status != Status::Ok {
    return Err(format!(
      "the onNotification callback could not be called ({status})"
    ));
  }
  match rx.await {
    Ok(Ok(Some(promise))) => promise
      .await
      .map(drop)
      .map_err(|e| reason(&e, "the onNotification promise rejected")),
    Ok(Ok(None)) => Ok(()),
    Ok(Err(why)) => Err(why),
    Err(_) => Err("the onNotification callback was not called (Node is exiting)".into()),
  }
}

/// The core's event listener around a JS `onEvent` callback.
pub fn listener(
  tsfn: EventFn,
  counters: Arc<Counters>,
) -> impl Fn(&core::model::event::Ev) + Send + Sync + 'static {
  let overflowing = AtomicBool::new(false);
  move |ev| {
    let counters2 = Arc::clone(&counters);
    let status = tsfn.call_with_return_value(
      ev.to_json(),
      ThreadsafeFunctionCallMode::NonBlocking,
      move |ret: Result<UnknownReturnValue>, _env| {
        if let Err(e) = ret {
          counters2.listener_errors.fetch_add(1, Ordering::Relaxed);
          tracing::warn!(
            callback = "onEvent",
            error = %reason(&e, "threw"),
            "an onEvent listener threw; the event is not delivered again"
          );
        }
        Ok(())
      },
    );
    match status {
      Status::QueueFull => {
        counters.events_dropped.fetch_add(1, Ordering::Relaxed);
        if !overflowing.swap(true, Ordering::Relaxed) {
          tracing::warn!(
            callback = "onEvent",
            queue = EVENT_QUEUE,
            "an onEvent listener's queue is full (JS is not keeping up); dropping events"
          );
        }
      }
      Status::Ok if overflowing.swap(false, Ordering::Relaxed) => {
        tracing::warn!(
          callback = "onEvent",
          dropped_total = counters.events_dropped.load(Ordering::Relaxed),
          "an onEvent listener's queue has room again"
        );
      }
      _ => {}
    }
  }
}

/// The message of a JS throw or rejection, or `fallback` when it has none.
pub fn reason(e: &napi::Error, fallback: &str) -> String {
  if e.reason.is_empty() {
    fallback.to_owned()
  } else {
    e.reason.clone()
  }
}
