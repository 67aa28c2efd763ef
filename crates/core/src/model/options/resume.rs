//! `resume(ref, prompt, options)`.

use super::OnMissing;
use serde::Deserialize;

/// `resume(ref, prompt, { fork, onMissing, name })`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct ResumeOptions {
  /// Continue a copy of the conversation under a new backend id.
  pub fork: bool,
  /// When the CLI no longer has the conversation: `fail` (default, `E_RESUME_NOT_FOUND`) or
  /// `fresh` (a new conversation seeded with the stored summary, linked into the chain).
  pub on_missing: Option<OnMissing>,
  /// The new session's name (default: the resumed session's, unless a live one has it).
  pub name: Option<String>,
}

impl ResumeOptions {
  /// Whether a missing conversation starts fresh.
  pub fn fresh_on_missing(&self) -> bool {
    self.on_missing == Some(OnMissing::Fresh)
  }
}
