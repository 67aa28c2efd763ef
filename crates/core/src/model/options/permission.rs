//! `respondToPermission(ref, requestId, decision)`: the decision as the caller gives it and
//! as the protocols send it.

use super::{bad, from_json, PermissionBehavior};
use crate::model::error::Result;
use serde::Deserialize;
use serde_json::Value;

/// The answer to a permission / approval request (Claude `can_use_tool`, Codex approvals).
#[derive(Debug, Clone, PartialEq)]
pub struct PermissionAnswer {
  pub allow: bool,
  /// Why, for a deny (Claude shows it to the model).
  pub message: Option<String>,
  /// Claude: the tool input to run with instead of the requested one.
  pub updated_input: Option<Value>,
}

/// `respondToPermission(ref, requestId, { behavior, message, updatedInput })`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Decision {
  behavior: PermissionBehavior,
  message: Option<String>,
  updated_input: Option<serde_json::Value>,
}

/// Reads a permission decision; `E_INVALID_ARGUMENT` unless `behavior` is `allow` or `deny`.
pub fn permission_answer(v: serde_json::Value) -> Result<PermissionAnswer> {
  let d: Decision = from_json("permission decision", v)?;
  let allow = d.behavior == PermissionBehavior::Allow;
  if d.updated_input.as_ref().is_some_and(|u| !u.is_object()) {
    return Err(bad(
      "updatedInput must be an object (the tool's input)".into(),
    ));
  }
  Ok(PermissionAnswer {
    allow,
    message: d.message,
    updated_input: d.updated_input,
  })
}
