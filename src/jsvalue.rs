//! Small reads of raw JS values that never leave an exception pending: type names, strings,
//! and the message of a thrown exception (taken and cleared).

use napi::sys;
use std::ptr;

/// The JS type of `v` (`napi_undefined` when it cannot be read).
pub fn type_of(env: sys::napi_env, v: sys::napi_value) -> sys::napi_valuetype {
  let mut t = sys::ValueType::napi_undefined;
  if unsafe { sys::napi_typeof(env, v, &mut t) } != sys::Status::napi_ok {
    clear(env);
  }
  t
}

/// `typeof`-style name of a napi type, for messages.
pub fn type_name(t: sys::napi_valuetype) -> &'static str {
  match t {
    sys::ValueType::napi_undefined => "undefined",
    sys::ValueType::napi_null => "null",
    sys::ValueType::napi_boolean => "boolean",
    sys::ValueType::napi_number => "number",
    sys::ValueType::napi_string => "string",
    sys::ValueType::napi_symbol => "symbol",
    sys::ValueType::napi_object => "object",
    sys::ValueType::napi_function => "function",
    sys::ValueType::napi_external => "external",
    sys::ValueType::napi_bigint => "bigint",
    _ => "value",
  }
}

/// The name of `v`'s type, `array` for an array.
pub fn describe(env: sys::napi_env, v: sys::napi_value) -> &'static str {
  let t = type_of(env, v);
  let mut is_array = false;
  if t == sys::ValueType::napi_object
    && unsafe { sys::napi_is_array(env, v, &mut is_array) } == sys::Status::napi_ok
    && is_array
  {
    return "array";
  }
  type_name(t)
}

/// A JS string's UTF-8 text (lone surrogates become U+FFFD).
pub fn string(env: sys::napi_env, v: sys::napi_value) -> Result<String, ()> {
  let mut len = 0;
  if unsafe { sys::napi_get_value_string_utf8(env, v, ptr::null_mut(), 0, &mut len) }
    != sys::Status::napi_ok
  {
    clear(env);
    return Err(());
  }
  let mut buf = vec![0u8; len + 1];
  let mut written = 0;
  if unsafe {
    sys::napi_get_value_string_utf8(env, v, buf.as_mut_ptr().cast(), len + 1, &mut written)
  } != sys::Status::napi_ok
  {
    clear(env);
    return Err(());
  }
  buf.truncate(written);
  String::from_utf8(buf).map_err(|_| ())
}

/// Takes the pending exception, if any, and returns its message: an `Error`'s own `message`,
/// or a thrown string; `fallback` for anything else (nothing is coerced, no getter is run
/// beyond `message`).
pub fn take_exception(env: sys::napi_env, fallback: &str) -> String {
  let mut pending = false;
  unsafe { sys::napi_is_exception_pending(env, &mut pending) };
  if !pending {
    return fallback.to_owned();
  }
  let mut e = ptr::null_mut();
  unsafe { sys::napi_get_and_clear_last_exception(env, &mut e) };
  message_of(env, e).unwrap_or_else(|| fallback.to_owned())
}

/// The message of a thrown or rejected value: a string itself, or an object's `message`.
pub fn message_of(env: sys::napi_env, e: sys::napi_value) -> Option<String> {
  match type_of(env, e) {
    sys::ValueType::napi_string => string(env, e).ok(),
    sys::ValueType::napi_object => {
      let mut m = ptr::null_mut();
      let status = unsafe { sys::napi_get_named_property(env, e, c"message".as_ptr(), &mut m) };
      if status != sys::Status::napi_ok {
        clear(env);
        return None;
      }
      (type_of(env, m) == sys::ValueType::napi_string)
        .then(|| string(env, m).ok())
        .flatten()
    }
    _ => None,
  }
}

/// Clears a pending exception, if any.
pub fn clear(env: sys::napi_env) {
  let mut pending = false;
  unsafe { sys::napi_is_exception_pending(env, &mut pending) };
  if pending {
    let mut e = ptr::null_mut();
    unsafe { sys::napi_get_and_clear_last_exception(env, &mut e) };
  }
}
