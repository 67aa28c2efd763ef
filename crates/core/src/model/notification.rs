//! The notification type: what a chat user or the gateway's agent is told, as data the plugin
//! delivers (`onNotification`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One notification. `key` is stable (session, kind, turn): the same key is never delivered
/// twice, also not across a restart.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
  pub key: String,
  /// `launched`, `waiting-for-input`, `responded`, `completed`, `failed`, `interrupted`,
  /// `killed`, `long-running`, `budget-exhausted`, `auto-respond-limit`, `recovering`,
  /// `output`, `tool-use`.
  pub kind: String,
  pub session_id: String,
  pub session_name: Option<String>,
  /// Where to deliver it.
  pub channel: String,
  /// A preformatted text for people.
  pub text: String,
  /// Structured data, per kind.
  pub data: Value,
  /// ms since the Unix epoch.
  pub at: u64,
}
