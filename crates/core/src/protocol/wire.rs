//! Helpers for reading wire messages into typed structs: the typed fast path with its
//! `Value` fallback, lenient scalar fields, borrowed object keys.

use super::{decode, ParseError};
use crate::model::event::EventPayload;
use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;
use std::fmt;

/// Reads one line through a typed wire message, the fast path every parser takes: `typed`
/// decodes the line into its wire struct (borrowing strings from the line) and maps it. The
/// line is trimmed first; a blank line gives `Ok(None)`.
///
/// When `typed` fails on a line that is JSON (a duplicate key such as the two `id`s of
/// web_search items, docs/protocols.md B2, or a field of an unexpected type), the line is read into
/// a `Value` (the last duplicate wins, as `JSON.parse` does), written out again and given to
/// `typed` once more; if that fails too, `other` gets the `Value`, so no JSON line is lost.
/// Only a line that is not JSON at all is an error.
pub fn decode_typed<R>(
  line: &str,
  mut typed: impl FnMut(&str) -> Result<R, serde_json::Error>,
  other: impl FnOnce(Value) -> R,
) -> Result<Option<R>, ParseError> {
  let trimmed = line.trim();
  if trimmed.is_empty() {
    return Ok(None);
  }
  if let Ok(r) = typed(trimmed) {
    return Ok(Some(r));
  }
  let v = decode(trimmed)?.unwrap_or(Value::Null);
  Ok(Some(match typed(&v.to_string()) {
    Ok(r) => r,
    Err(_) => other(v),
  }))
}

/// A field read leniently (`#[serde(default, deserialize_with = "lenient")]`): a value of
/// another type (a string where a number was expected) reads as absent instead of failing the
/// whole line.
pub fn lenient<'de, D: Deserializer<'de>, T: FromScalar>(d: D) -> Result<Option<T>, D::Error> {
  Ok(T::from_scalar(Scalar::deserialize(d)?))
}

/// A value read leniently: one of another type reads as `None` (for hand-written visitors;
/// derived structs use [`lenient`]).
pub struct Lenient<T>(pub Option<T>);

impl<'de, T: FromScalar> Deserialize<'de> for Lenient<T> {
  fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
    lenient(d).map(Lenient)
  }
}

/// An object key, borrowed from the line unless it has escapes.
pub struct Key<'a>(pub std::borrow::Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
  fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
      type Value = Key<'de>;
      fn expecting(&self, f: &mut fmt::Formatter) -> std::fmt::Result {
        f.write_str("an object key")
      }
      fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Key<'de>, E> {
        Ok(Key(s.into()))
      }
      fn visit_str<E>(self, s: &str) -> Result<Key<'de>, E> {
        Ok(Key(s.to_owned().into()))
      }
    }
    d.deserialize_str(V)
  }
}

/// The whole line as a `Value`, for the rare messages that are kept whole (the line is known
/// to be JSON by then).
pub(super) fn whole(line: &str) -> Value {
  serde_json::from_str(line).unwrap_or(Value::Null)
}

/// A message no mapping knows, kept whole as [`EventPayload::Other`].
pub(super) fn other(v: Value) -> EventPayload {
  EventPayload::Other {
    message_type: type_of(&v),
    raw: v,
  }
}

/// The `type` of a message that is read as a `Value` (the rare path).
pub fn type_of(v: &Value) -> String {
  v.get("type")
    .and_then(Value::as_str)
    .unwrap_or("")
    .to_owned()
}

/// A JSON value as far as a scalar field cares: a string or a number or a bool; anything else
/// (null, an array, an object) is skipped without being built.
pub enum Scalar {
  Str(String),
  U(u64),
  I(i64),
  F(f64),
  B(bool),
  Other,
}

impl<'de> Deserialize<'de> for Scalar {
  fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
      type Value = Scalar;
      fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
      }
      fn visit_str<E>(self, s: &str) -> Result<Scalar, E> {
        Ok(Scalar::Str(s.to_owned()))
      }
      fn visit_string<E>(self, s: String) -> Result<Scalar, E> {
        Ok(Scalar::Str(s))
      }
      fn visit_u64<E>(self, n: u64) -> Result<Scalar, E> {
        Ok(Scalar::U(n))
      }
      fn visit_i64<E>(self, n: i64) -> Result<Scalar, E> {
        Ok(Scalar::I(n))
      }
      fn visit_f64<E>(self, n: f64) -> Result<Scalar, E> {
        Ok(Scalar::F(n))
      }
      fn visit_bool<E>(self, b: bool) -> Result<Scalar, E> {
        Ok(Scalar::B(b))
      }
      fn visit_unit<E>(self) -> Result<Scalar, E> {
        Ok(Scalar::Other)
      }
      fn visit_none<E>(self) -> Result<Scalar, E> {
        Ok(Scalar::Other)
      }
      fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Scalar, D::Error> {
        Scalar::deserialize(d)
      }
      fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other)
      }
      fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other)
      }
    }
    d.deserialize_any(V)
  }
}

/// A scalar field's type, read from whatever [`Scalar`] the line had (`None` when it does
/// not fit, e.g. a string for a number or a negative count).
pub trait FromScalar: Sized {
  fn from_scalar(s: Scalar) -> Option<Self>;
}

impl FromScalar for String {
  fn from_scalar(s: Scalar) -> Option<Self> {
    match s {
      Scalar::Str(s) => Some(s),
      _ => None,
    }
  }
}

impl FromScalar for bool {
  fn from_scalar(s: Scalar) -> Option<Self> {
    match s {
      Scalar::B(b) => Some(b),
      _ => None,
    }
  }
}

impl FromScalar for f64 {
  fn from_scalar(s: Scalar) -> Option<Self> {
    match s {
      Scalar::F(n) => Some(n),
      Scalar::U(n) => Some(n as f64),
      Scalar::I(n) => Some(n as f64),
      _ => None,
    }
  }
}

impl FromScalar for i64 {
  fn from_scalar(s: Scalar) -> Option<Self> {
    match s {
      Scalar::I(n) => Some(n),
      Scalar::U(n) => i64::try_from(n).ok(),
      _ => None,
    }
  }
}

macro_rules! unsigned_from_scalar {
  ($($t:ty),*) => {$(
    impl FromScalar for $t {
      fn from_scalar(s: Scalar) -> Option<Self> {
        match s {
          Scalar::U(n) => <$t>::try_from(n).ok(),
          Scalar::I(n) => <$t>::try_from(n).ok(),
          _ => None,
        }
      }
    }
  )*};
}
unsigned_from_scalar!(u64, u32, u16);
