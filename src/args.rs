//! Method arguments read from raw JS values, so that bad input is `E_INVALID_ARGUMENT` naming
//! the argument (napi's own conversions would throw `StringExpected` / `InvalidArg`, and would
//! throw synchronously from methods that return a promise).

use crate::json::{self, MAX_SAFE_INTEGER};
use crate::jsvalue;
use napi::bindgen_prelude::{FromNapiValue, Function, JsValuesTupleIntoVec, Unknown};
use napi::{sys, Env, JsValue};
use openclaw_sessions_core as core;
use serde_json::{Map, Value};

pub type R<T> = core::Result<T>;

fn bad(msg: String) -> core::Error {
  core::Error::InvalidArgument(msg)
}

/// The raw parts of an argument.
fn raw(env: &Env, v: &Unknown<'_>) -> (sys::napi_env, sys::napi_value) {
  (env.raw(), v.raw())
}

fn is_nullish(env: &Env, v: &Unknown<'_>) -> bool {
  let (e, r) = raw(env, v);
  matches!(
    jsvalue::type_of(e, r),
    sys::ValueType::napi_undefined | sys::ValueType::napi_null
  )
}

/// A required string argument.
pub fn string(env: &Env, v: &Unknown<'_>, name: &str) -> R<String> {
  let (e, r) = raw(env, v);
  if jsvalue::type_of(e, r) != sys::ValueType::napi_string {
    return Err(bad(format!(
      "{name} must be a string, got {}",
      jsvalue::describe(e, r)
    )));
  }
  jsvalue::string(e, r).map_err(|_| bad(format!("{name}: unreadable string")))
}

/// An optional string argument (`undefined` / `null`: none).
pub fn opt_string(env: &Env, v: &Unknown<'_>, name: &str) -> R<Option<String>> {
  if is_nullish(env, v) {
    return Ok(None);
  }
  string(env, v, name).map(Some)
}

/// Any JSON value (`undefined`: `null`), converted as [`json::to_json`] does.
pub fn json(env: &Env, v: &Unknown<'_>, what: &str) -> R<Value> {
  if is_nullish(env, v) {
    return Ok(Value::Null);
  }
  let (e, r) = raw(env, v);
  json::to_json(e, r, what)
}

/// A required object (spawn options, a message): anything else is refused by type.
pub fn object(env: &Env, v: &Unknown<'_>, what: &str) -> R<Value> {
  match json(env, v, what)? {
    o @ Value::Object(_) => Ok(o),
    _ => {
      let (e, r) = raw(env, v);
      Err(bad(format!(
        "{what} must be an object, got {}",
        jsvalue::describe(e, r)
      )))
    }
  }
}

/// An options object: `undefined` / `null` is `{}`; anything but a plain object, or a key not
/// in `allowed`, is refused.
pub fn options(env: &Env, v: &Unknown<'_>, what: &str, allowed: &[&str]) -> R<Map<String, Value>> {
  let map = match json(env, v, what)? {
    Value::Null => Map::new(),
    Value::Object(m) => m,
    _ => {
      let (e, r) = raw(env, v);
      return Err(bad(format!(
        "{what} must be an object, got {}",
        jsvalue::describe(e, r)
      )));
    }
  };
  if let Some(k) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
    return Err(bad(format!(
      "{what}: unknown key `{k}` (allowed: {})",
      allowed.join(", ")
    )));
  }
  Ok(map)
}

/// An optional count or duration field: an integer from 0 to `Number.MAX_SAFE_INTEGER`.
pub fn count(map: &Map<String, Value>, key: &str, what: &str, unit: &str) -> R<Option<u64>> {
  match map.get(key) {
    None | Some(Value::Null) => Ok(None),
    Some(Value::Number(n)) if n.as_u64().is_some_and(|n| n as f64 <= MAX_SAFE_INTEGER) => {
      Ok(n.as_u64())
    }
    Some(other) => Err(bad(format!(
      "{what}: `{key}` must be an integer from 0 to {} ({unit}), got {other}",
      MAX_SAFE_INTEGER as u64
    ))),
  }
}

/// An optional boolean field.
pub fn flag(map: &Map<String, Value>, key: &str, what: &str) -> R<Option<bool>> {
  match map.get(key) {
    None | Some(Value::Null) => Ok(None),
    Some(Value::Bool(b)) => Ok(Some(*b)),
    Some(other) => Err(bad(format!(
      "{what}: `{key}` must be a boolean, got {other}"
    ))),
  }
}

/// A required function argument.
pub fn function<'a, A: JsValuesTupleIntoVec, Ret>(
  env: &Env,
  v: &Unknown<'a>,
  name: &str,
) -> R<Function<'a, A, Ret>> {
  let (e, r) = raw(env, v);
  if jsvalue::type_of(e, r) != sys::ValueType::napi_function {
    return Err(bad(format!(
      "{name} must be a function, got {}",
      jsvalue::describe(e, r)
    )));
  }
  unsafe { Function::from_napi_value(e, r) }.map_err(|err| bad(format!("{name}: {err}")))
}
