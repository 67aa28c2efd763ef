//! Session `metadata`: a small JSON object of the caller's (`spawn({ metadata })`,
//! `setMetadata(ref, patch)`), stored with the session and matched by `list({ metadata })`.
//! The manager never reads it; it only bounds its size.

use crate::model::error::{Error, Result};
use serde_json::{Map, Value};

/// The largest metadata object, serialized as compact JSON (UTF-8 bytes).
pub const MAX_METADATA_BYTES: usize = 4096;

/// `E_INVALID_ARGUMENT` when `m` serializes to more than [`MAX_METADATA_BYTES`].
pub fn check(m: &Map<String, Value>) -> Result<()> {
  let len = serde_json::to_string(m)
    .map(|s| s.len())
    .unwrap_or(usize::MAX);
  if len > MAX_METADATA_BYTES {
    return Err(Error::InvalidArgument(format!(
      "metadata is {len} bytes of JSON, over the limit of {MAX_METADATA_BYTES}: keep ids and \
       small labels there, not content"
    )));
  }
  Ok(())
}

/// `metadata` after `patch`: a shallow merge where a `null` value deletes its key. Checked
/// against the size limit; `metadata` is untouched on error.
pub fn patched(
  metadata: &Map<String, Value>,
  patch: &Map<String, Value>,
) -> Result<Map<String, Value>> {
  let mut out = metadata.clone();
  for (k, v) in patch {
    if v.is_null() {
      out.remove(k);
    } else {
      out.insert(k.clone(), v.clone());
    }
  }
  check(&out)?;
  Ok(out)
}

/// Whether `metadata` has every key of `filter` with an equal value (a `null` in the filter
/// matches an absent key).
pub fn matches(metadata: &Map<String, Value>, filter: &Map<String, Value>) -> bool {
  filter
    .iter()
    .all(|(k, v)| metadata.get(k).unwrap_or(&Value::Null) == v)
}

#[cfg(test)]
mod tests {
  use super::*;
  use serde_json::json;

  fn obj(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap()
  }

  #[test]
  fn patch_merges_shallowly_and_null_deletes() {
    let m = obj(json!({"a": 1, "b": {"x": 1}, "c": "keep"}));
    let p = patched(&m, &obj(json!({"a": null, "b": {"y": 2}, "d": true}))).unwrap();
    assert_eq!(
      Value::Object(p),
      json!({"b": {"y": 2}, "c": "keep", "d": true})
    );
  }

  #[test]
  fn the_size_limit_is_checked_on_the_result() {
    let big = "x".repeat(MAX_METADATA_BYTES);
    let e = patched(&Map::new(), &obj(json!({ "k": big }))).unwrap_err();
    assert_eq!(e.code(), "E_INVALID_ARGUMENT");
    assert!(e.to_string().contains("4096"), "{e}");
    check(&obj(json!({"k": "x".repeat(4000)}))).unwrap();
  }

  #[test]
  fn filters_match_top_level_keys_exactly() {
    let m = obj(json!({"ticket": "T-1", "n": 2}));
    assert!(matches(&m, &obj(json!({"ticket": "T-1"}))));
    assert!(matches(&m, &obj(json!({"ticket": "T-1", "gone": null}))));
    assert!(!matches(&m, &obj(json!({"ticket": "T-2"}))));
    assert!(!matches(&m, &obj(json!({"n": "2"}))));
    assert!(matches(&m, &Map::new()));
  }
}
