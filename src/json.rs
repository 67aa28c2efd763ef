//! JS values → JSON, for everything the core reads as JSON (option objects, permission
//! decisions, ingested messages). napi's own conversion turns every number above 2^32 into a
//! float (which serde then refuses for a `u64` field), lets NaN through as an opaque failure
//! and reports its limits with napi status codes; this one gives the core what JS meant:
//!
//! - an integral number up to `Number.MAX_SAFE_INTEGER` in magnitude is a JSON integer, any
//!   other finite number a JSON float; NaN and ±Infinity are refused, naming the key;
//! - `undefined` object fields are left out (as `JSON.stringify` does); `undefined`, functions,
//!   symbols and bigints elsewhere are refused, naming the key;
//! - objects: own enumerable string keys; nesting deeper than [`MAX_DEPTH`] and more than
//!   [`MAX_NODES`] values are refused (a cycle is therefore refused too);
//! - a getter or proxy trap that throws is refused with its message, the exception cleared.
//!
//! Every refusal is `E_INVALID_ARGUMENT`.

use napi::sys;
use openclaw_sessions_core as core;
use serde_json::{Map, Number, Value};
use std::ptr;

/// The deepest nesting accepted (serde_json's own recursion limit).
pub const MAX_DEPTH: usize = 127;
/// The most values one conversion reads.
pub const MAX_NODES: usize = 1_000_000;
/// `Number.MAX_SAFE_INTEGER`.
pub const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

type R<T> = core::Result<T>;

/// Converts `value` to JSON; `what` names it in errors (e.g. `spawn options`).
pub fn to_json(env: sys::napi_env, value: sys::napi_value, what: &str) -> R<Value> {
  let mut walk = Walk {
    env,
    nodes: 0,
    what,
  };
  walk.value(value, "", 0)?.ok_or_else(|| {
    core::Error::InvalidArgument(format!("{what} must be a JSON value, got undefined"))
  })
}

/// A finite JS number as JSON: an integer when it is one and safe, else a float.
pub fn number(n: f64) -> Option<Number> {
  if n.fract() == 0.0 && n.abs() <= MAX_SAFE_INTEGER {
    Some(if n < 0.0 {
      Number::from(n as i64)
    } else {
      Number::from(n as u64)
    })
  } else {
    Number::from_f64(n)
  }
}

/// A number as JS prints it (`NaN`, `Infinity`).
fn js(n: f64) -> String {
  match n {
    n if n.is_nan() => "NaN".into(),
    f64::INFINITY => "Infinity".into(),
    f64::NEG_INFINITY => "-Infinity".into(),
    n => n.to_string(),
  }
}

struct Walk<'a> {
  env: sys::napi_env,
  nodes: usize,
  what: &'a str,
}

impl Walk<'_> {
  fn bad(&self, key: &str, why: impl std::fmt::Display) -> core::Error {
    let at = match key.char_indices().nth(80) {
      _ if key.is_empty() => String::new(),
      Some((cut, _)) => format!(" at `{}…`", &key[..cut]),
      None => format!(" at `{key}`"),
    };
    core::Error::InvalidArgument(format!("{}{at}: {why}", self.what))
  }

  /// A call that may have run JS (a getter, a proxy trap): on failure the pending exception
  /// is cleared and its message reported.
  fn check(&self, status: sys::napi_status, key: &str) -> R<()> {
    if status == sys::Status::napi_ok {
      return Ok(());
    }
    Err(self.bad(
      key,
      crate::jsvalue::take_exception(self.env, "could not be read"),
    ))
  }

  /// `None`: `undefined` (left out of objects).
  fn value(&mut self, v: sys::napi_value, key: &str, depth: usize) -> R<Option<Value>> {
    self.nodes += 1;
    if self.nodes > MAX_NODES {
      return Err(self.bad(key, format!("more than {MAX_NODES} values")));
    }
    let env = self.env;
    let mut t = 0;
    self.check(unsafe { sys::napi_typeof(env, v, &mut t) }, key)?;
    Ok(Some(match t {
      sys::ValueType::napi_undefined => return Ok(None),
      sys::ValueType::napi_null => Value::Null,
      sys::ValueType::napi_boolean => {
        let mut b = false;
        self.check(unsafe { sys::napi_get_value_bool(env, v, &mut b) }, key)?;
        Value::Bool(b)
      }
      sys::ValueType::napi_number => {
        let mut n = 0.0;
        self.check(unsafe { sys::napi_get_value_double(env, v, &mut n) }, key)?;
        Value::Number(
          number(n).ok_or_else(|| self.bad(key, format!("{} is not a finite number", js(n))))?,
        )
      }
      sys::ValueType::napi_string => Value::String(
        crate::jsvalue::string(env, v).map_err(|_| self.bad(key, "unreadable string"))?,
      ),
      sys::ValueType::napi_object => {
        if depth >= MAX_DEPTH {
          return Err(self.bad(key, format!("nested deeper than {MAX_DEPTH} levels")));
        }
        let mut is_array = false;
        self.check(unsafe { sys::napi_is_array(env, v, &mut is_array) }, key)?;
        if is_array {
          self.array(v, key, depth)?
        } else {
          self.object(v, key, depth)?
        }
      }
      other => {
        let name = crate::jsvalue::type_name(other);
        return Err(self.bad(key, format!("a {name} is not a JSON value")));
      }
    }))
  }

  fn array(&mut self, v: sys::napi_value, key: &str, depth: usize) -> R<Value> {
    let mut len = 0;
    self.check(
      unsafe { sys::napi_get_array_length(self.env, v, &mut len) },
      key,
    )?;
    let mut out = Vec::with_capacity(len.min(1024) as usize);
    for i in 0..len {
      let at = format!("{key}[{i}]");
      let mut item = ptr::null_mut();
      self.check(
        unsafe { sys::napi_get_element(self.env, v, i, &mut item) },
        &at,
      )?;
      out.push(self.value(item, &at, depth + 1)?.unwrap_or(Value::Null));
    }
    Ok(Value::Array(out))
  }

  fn object(&mut self, v: sys::napi_value, key: &str, depth: usize) -> R<Value> {
    let env = self.env;
    let mut names = ptr::null_mut();
    self.check(
      unsafe {
        sys::napi_get_all_property_names(
          env,
          v,
          sys::KeyCollectionMode::own_only,
          sys::KeyFilter::enumerable | sys::KeyFilter::skip_symbols,
          sys::KeyConversion::numbers_to_strings,
          &mut names,
        )
      },
      key,
    )?;
    let mut len = 0;
    self.check(
      unsafe { sys::napi_get_array_length(env, names, &mut len) },
      key,
    )?;
    let mut map = Map::new();
    for i in 0..len {
      let mut name = ptr::null_mut();
      self.check(
        unsafe { sys::napi_get_element(env, names, i, &mut name) },
        key,
      )?;
      let name_str = crate::jsvalue::string(env, name).map_err(|_| self.bad(key, "bad key"))?;
      let at = if key.is_empty() {
        name_str.clone()
      } else {
        format!("{key}.{name_str}")
      };
      let mut item = ptr::null_mut();
      self.check(
        unsafe { sys::napi_get_property(env, v, name, &mut item) },
        &at,
      )?;
      if let Some(value) = self.value(item, &at, depth + 1)? {
        map.insert(name_str, value);
      }
    }
    Ok(Value::Object(map))
  }
}
