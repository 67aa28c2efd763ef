//! `recovery`: opt-in automatic retry of a turn that failed on a transient model API error
//! (manager-wide default, per-spawn override), and which errors count as transient.

use super::{bad, MAX_SAFE_INTEGER};
use crate::model::error::Result;
use serde::{Deserialize, Serialize};

/// HTTP statuses that are never transient: a retry would fail the same way.
pub(super) const NEVER_RETRIED: [u16; 3] = [400, 401, 403];

/// Most attempts one failure may get.
pub(super) const MAX_ATTEMPTS: u32 = 100;

/// The longest pause between two attempts, ms (the doubling stops there).
pub(super) const MAX_BACKOFF_MS: u64 = 300_000;

/// One entry of `retryOn`: an HTTP status, or text the error message contains
/// (case-insensitive).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(untagged)]
pub enum RetryOn {
  /// An HTTP status of the model API (e.g. 529).
  Status(u16),
  /// Text in the error message (e.g. `overloaded`).
  Text(String),
}

/// `recovery` of `new SessionManager(options)` and of `spawn(options)`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct RecoveryOptions {
  /// Attempts after a failure, 0 to 100; 0 turns recovery off. Default 3.
  pub max_attempts: u32,
  /// The pause before the first attempt, ms; it doubles for each further attempt (at most
  /// 300000). Default 2000.
  pub backoff_ms: u64,
  /// What counts as transient: HTTP statuses and case-insensitive message texts. Default
  /// `[429, 500, 502, 503, 529, 'overloaded', 'connection error', 'stream disconnected']`.
  /// 400, 401 and 403 are never retried.
  pub retry_on: Vec<RetryOn>,
}

impl Default for RecoveryOptions {
  fn default() -> Self {
    let statuses = [429, 500, 502, 503, 529].map(RetryOn::Status);
    let texts = ["overloaded", "connection error", "stream disconnected"]
      .map(|t| RetryOn::Text(t.to_owned()));
    RecoveryOptions {
      max_attempts: 3,
      backoff_ms: 2000,
      retry_on: statuses.into_iter().chain(texts).collect(),
    }
  }
}

impl RecoveryOptions {
  /// `E_INVALID_ARGUMENT` for a value out of range; `what` names the option (`recovery`).
  pub fn validate(&self, what: &str) -> Result<()> {
    if self.max_attempts > MAX_ATTEMPTS {
      return Err(bad(format!(
        "{what}.maxAttempts is {}: expected an integer from 0 to {MAX_ATTEMPTS}",
        self.max_attempts
      )));
    }
    if self.backoff_ms > MAX_SAFE_INTEGER {
      return Err(bad(format!(
        "{what}.backoffMs is {}: expected an integer from 0 to {MAX_SAFE_INTEGER} (ms)",
        self.backoff_ms
      )));
    }
    for r in &self.retry_on {
      match r {
        RetryOn::Status(s) if NEVER_RETRIED.contains(s) => {
          return Err(bad(format!(
            "{what}.retryOn has {s}: 400, 401 and 403 are never transient and never retried"
          )))
        }
        RetryOn::Status(s) if !(400..=599).contains(s) => {
          return Err(bad(format!(
            "{what}.retryOn has {s}: expected an HTTP error status (400 to 599) or a text"
          )))
        }
        RetryOn::Text(t) if t.trim().is_empty() => {
          return Err(bad(format!(
            "{what}.retryOn has an empty text: give a word of the error message"
          )))
        }
        _ => {}
      }
    }
    Ok(())
  }

  /// Whether recovery is on (`maxAttempts` above 0).
  pub fn enabled(&self) -> bool {
    self.max_attempts > 0
  }

  /// The pause before attempt `attempt` (1-based), ms: `backoffMs` doubled per earlier
  /// attempt, at most 300000 (or `backoffMs` when that is larger).
  pub fn delay_ms(&self, attempt: u32) -> u64 {
    let doubled = self
      .backoff_ms
      .saturating_mul(1u64 << attempt.saturating_sub(1).min(20));
    doubled.min(MAX_BACKOFF_MS.max(self.backoff_ms))
  }

  /// Whether a failed turn's error is transient: its HTTP status (when the CLI reported one,
  /// else a status number in the message) is in `retryOn`, or the message contains one of
  /// its texts. 400, 401 and 403 never are.
  pub fn is_transient(&self, status: Option<u16>, message: &str) -> bool {
    let status = status.or_else(|| status_in(message));
    if status.is_some_and(|s| NEVER_RETRIED.contains(&s)) {
      return false;
    }
    let lower = message.to_lowercase();
    self.retry_on.iter().any(|r| match r {
      RetryOn::Status(s) => status == Some(*s),
      RetryOn::Text(t) => lower.contains(&t.to_lowercase()),
    })
  }
}

/// The first three-digit number from 400 to 599 in `message` standing alone (e.g. Codex's
/// `unexpected status 529 ...`).
fn status_in(message: &str) -> Option<u16> {
  message
    .split(|c: char| !c.is_ascii_digit())
    .filter(|w| w.len() == 3)
    .filter_map(|w| w.parse::<u16>().ok())
    .find(|s| (400..=599).contains(s))
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn transient_errors_are_the_retry_on_set_and_never_400_401_403() {
    let r = RecoveryOptions::default();
    assert!(r.is_transient(Some(529), "Overloaded"));
    assert!(r.is_transient(None, "API Error: Connection error."));
    assert!(r.is_transient(None, "unexpected status 503 Service Unavailable"));
    assert!(r.is_transient(Some(500), "boom"));
    assert!(!r.is_transient(Some(400), "overloaded"));
    assert!(!r.is_transient(None, "unexpected status 401 Unauthorized: overloaded"));
    assert!(!r.is_transient(Some(404), "not found"));
    assert!(!r.is_transient(None, "prompt is too long"));
  }

  #[test]
  fn backoff_doubles_up_to_the_cap() {
    let r = RecoveryOptions {
      backoff_ms: 1000,
      ..RecoveryOptions::default()
    };
    assert_eq!(r.delay_ms(1), 1000);
    assert_eq!(r.delay_ms(2), 2000);
    assert_eq!(r.delay_ms(3), 4000);
    assert_eq!(r.delay_ms(40), MAX_BACKOFF_MS);
  }

  #[test]
  fn bad_values_are_invalid_arguments_naming_the_key() {
    let bad_ones = [
      r#"{"maxAttempts": 101}"#,
      r#"{"retryOn": [400]}"#,
      r#"{"retryOn": [200]}"#,
      r#"{"retryOn": [" "]}"#,
    ];
    for json in bad_ones {
      let o: RecoveryOptions = serde_json::from_str(json).unwrap();
      let e = o.validate("recovery").unwrap_err();
      assert_eq!(e.code(), "E_INVALID_ARGUMENT", "{json}");
      assert!(e.to_string().contains("recovery."), "{e}");
    }
    assert!(serde_json::from_str::<RecoveryOptions>(r#"{"tries": 1}"#).is_err());
    assert!(RecoveryOptions::default().validate("recovery").is_ok());
  }
}
