//! The core's `tracing` output, forwarded to JS callbacks (`onLog`). Nothing is written to
//! stdout or stderr: without a callback, log records go nowhere.

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{
  ThreadsafeFunction, ThreadsafeFunctionCallMode, UnknownReturnValue,
};
use openclaw_sessions_core as core;
use serde_json::{Map, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, Once};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

/// The most records queued for one `onLog` callback while JS is busy.
pub const LOG_QUEUE: usize = 10_000;

type LogFn = ThreadsafeFunction<Value, UnknownReturnValue, Value, Status, false, true, LOG_QUEUE>;

struct Sink {
  id: u64,
  level: Level,
  callback: LogFn,
  /// Records dropped since the last one queued (the queue was full).
  dropped: AtomicU64,
}

static SINKS: Mutex<Vec<Sink>> = Mutex::new(Vec::new());
static NEXT: Mutex<u64> = Mutex::new(0);
static INSTALL: Once = Once::new();

struct Fields(Map<String, Value>);

impl Visit for Fields {
  fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
    self
      .0
      .insert(field.name().to_owned(), Value::String(format!("{value:?}")));
  }
  fn record_str(&mut self, field: &Field, value: &str) {
    self
      .0
      .insert(field.name().to_owned(), Value::String(value.to_owned()));
  }
  fn record_i64(&mut self, field: &Field, value: i64) {
    self.0.insert(field.name().to_owned(), value.into());
  }
  fn record_u64(&mut self, field: &Field, value: u64) {
    self.0.insert(field.name().to_owned(), value.into());
  }
  fn record_bool(&mut self, field: &Field, value: bool) {
    self.0.insert(field.name().to_owned(), value.into());
  }
}

struct ToJs;

impl<S: Subscriber> Layer<S> for ToJs {
  fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
    let sinks = SINKS.lock().unwrap_or_else(|e| e.into_inner());
    let level = *event.metadata().level();
    if !sinks.iter().any(|s| level <= s.level) {
      return;
    }
    let mut fields = Fields(Map::new());
    event.record(&mut fields);
    let message = fields
      .0
      .remove("message")
      .unwrap_or(Value::String(String::new()));
    let record = serde_json::json!({
      "level": level.as_str().to_lowercase(),
      "target": event.metadata().target(),
      "message": message,
      "fields": fields.0,
      "at": std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0),
    });
    for s in sinks.iter().filter(|s| level <= s.level) {
      s.offer(&record);
    }
  }
}

impl Sink {
  /// Queues `record`, telling how many were dropped before it; counts it when the queue is
  /// full. A callback that throws is ignored: reporting it by a log record would loop.
  fn offer(&self, record: &Value) {
    let mut record = record.clone();
    let dropped = self.dropped.load(Ordering::Relaxed);
    if dropped > 0 {
      record["fields"]["droppedBefore"] = dropped.into();
    }
    let status = self.callback.call_with_return_value(
      record,
      ThreadsafeFunctionCallMode::NonBlocking,
      |_, _| Ok(()),
    );
    if status == Status::QueueFull {
      self.dropped.fetch_add(1, Ordering::Relaxed);
    } else if dropped > 0 {
      self.dropped.fetch_sub(dropped, Ordering::Relaxed);
    }
  }
}

/// Parses `options.level` (absent: `info`); `E_INVALID_ARGUMENT` for anything else.
pub fn parse_level(v: Option<&Value>) -> core::Result<Level> {
  match v {
    None | Some(Value::Null) => Ok(Level::INFO),
    Some(Value::String(s)) if s == "error" => Ok(Level::ERROR),
    Some(Value::String(s)) if s == "warn" => Ok(Level::WARN),
    Some(Value::String(s)) if s == "info" => Ok(Level::INFO),
    Some(Value::String(s)) if s == "debug" => Ok(Level::DEBUG),
    Some(Value::String(s)) if s == "trace" => Ok(Level::TRACE),
    Some(other) => Err(core::Error::InvalidArgument(format!(
      "log options: `level` must be error, warn, info, debug or trace, got {other}"
    ))),
  }
}

/// Adds a callback for records at `level` or more severe; returns its id.
pub fn subscribe(callback: LogFn, level: Level) -> u64 {
  INSTALL.call_once(|| {
    let _ = tracing::subscriber::set_global_default(tracing_subscriber::registry().with(ToJs));
  });
  let id = {
    let mut n = NEXT.lock().unwrap_or_else(|e| e.into_inner());
    *n += 1;
    *n
  };
  SINKS.lock().unwrap_or_else(|e| e.into_inner()).push(Sink {
    id,
    level,
    callback,
    dropped: AtomicU64::new(0),
  });
  id
}

/// Removes a callback.
pub fn unsubscribe(id: u64) {
  SINKS
    .lock()
    .unwrap_or_else(|e| e.into_inner())
    .retain(|s| s.id != id);
}
