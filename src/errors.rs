//! `isSessionError(e)`: the guard for the errors the manager throws or rejects with.

use napi::bindgen_prelude::*;
use napi_derive::napi;
use openclaw_sessions_core as core;

/// Whether `e` is an error thrown (or a promise rejected) by the manager: an `Error` whose
/// `code` is one of `ErrorCode`. Narrows `e` to `SessionError`, so that `e.code` is typed.
/// Never throws: any other value (including `null`) gives false.
#[napi(
  catch_unwind,
  ts_args_type = "e: unknown",
  ts_return_type = "e is SessionError"
)]
pub fn is_session_error(e: Unknown<'_>) -> bool {
  let Ok(ValueType::Object) = e.get_type() else {
    return false;
  };
  let Ok(obj) = (unsafe { e.cast::<Object>() }) else {
    return false;
  };
  if !obj.is_error().unwrap_or(false) {
    return false;
  }
  match obj.get::<String>("code") {
    Ok(Some(code)) => core::Error::CODES.contains(&code.as_str()),
    _ => false,
  }
}
