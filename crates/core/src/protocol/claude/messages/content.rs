//! A message's `content` field, as Claude Code writes it: a string, content blocks, or
//! (unexpectedly) anything else, which is kept rather than failing the line.

use super::Block;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;
use std::fmt;

/// A `content` field: a string, content blocks, or (unexpectedly) anything else, kept.
pub(super) enum Content {
  Text(String),
  Blocks(Vec<Block>),
  Other(Value),
}

impl Content {
  /// A tool result's text: the string, or the text parts of its blocks joined by newlines.
  pub(super) fn into_text(self) -> String {
    match self {
      Content::Text(s) => s,
      Content::Blocks(blocks) => blocks
        .into_iter()
        .filter_map(|b| b.text)
        .collect::<Vec<_>>()
        .join("\n"),
      Content::Other(Value::Null) => String::new(),
      Content::Other(v) => v.to_string(),
    }
  }
}

impl<'de> Deserialize<'de> for Content {
  fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
      type Value = Content;
      fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string or content blocks")
      }
      fn visit_str<E: de::Error>(self, s: &str) -> Result<Content, E> {
        Ok(Content::Text(s.to_owned()))
      }
      fn visit_string<E: de::Error>(self, s: String) -> Result<Content, E> {
        Ok(Content::Text(s))
      }
      fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Content, A::Error> {
        let mut blocks = Vec::new();
        while let Some(b) = seq.next_element()? {
          blocks.push(b);
        }
        Ok(Content::Blocks(blocks))
      }
      fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Content, A::Error> {
        Value::deserialize(de::value::MapAccessDeserializer::new(map)).map(Content::Other)
      }
      fn visit_unit<E: de::Error>(self) -> Result<Content, E> {
        Ok(Content::Other(Value::Null))
      }
      fn visit_bool<E: de::Error>(self, b: bool) -> Result<Content, E> {
        Ok(Content::Other(b.into()))
      }
      fn visit_i64<E: de::Error>(self, n: i64) -> Result<Content, E> {
        Ok(Content::Other(n.into()))
      }
      fn visit_u64<E: de::Error>(self, n: u64) -> Result<Content, E> {
        Ok(Content::Other(n.into()))
      }
      fn visit_f64<E: de::Error>(self, n: f64) -> Result<Content, E> {
        Ok(Content::Other(n.into()))
      }
    }
    d.deserialize_any(V)
  }
}
