//! Notifications: what a chat user or the gateway's agent is told, as data the plugin
//! delivers. Owns the notification type, its human text, channel resolution and failure
//! hints. Deciding *when* to notify is `router`; delivering and the exactly-once ledger is
//! `delivery`.

pub use crate::model::notification::Notification;
use crate::model::options::NotificationOptions;

pub mod delivery;
pub mod router;

/// The channel for a session: its origin channel, else the longest configured workdir prefix,
/// else the fallback; `None` means the notification is dropped (with a warning event).
pub fn resolve_channel(
  o: &NotificationOptions,
  origin: Option<&str>,
  workdir: &str,
) -> Option<String> {
  if let Some(c) = origin.filter(|c| !c.is_empty()) {
    return Some(c.to_owned());
  }
  o.channels
    .iter()
    .filter(|(prefix, _)| {
      workdir == prefix.trim_end_matches('/')
        || workdir.starts_with(&format!("{}/", prefix.trim_end_matches('/')))
        || prefix.as_str() == "/"
    })
    .max_by_key(|(prefix, _)| prefix.len())
    .map(|(_, c)| c.clone())
    .or_else(|| o.fallback_channel.clone())
}

/// A recovery hint for a failure, from what the failure says.
pub fn failure_hint(error: &str, stderr: &[String], exit_code: Option<i32>) -> String {
  let all = format!("{error}\n{}", stderr.join("\n")).to_lowercase();
  let has = |needles: &[&str]| needles.iter().any(|n| all.contains(n));
  if has(&[
    "api key",
    "401",
    "unauthorized",
    "authentication",
    "invalid x-api-key",
  ]) {
    "Check the API key (ANTHROPIC_API_KEY / the Codex provider's key), then resume the session."
      .into()
  } else if has(&["budget", "max_budget"]) {
    "The budget is used up: raise maxBudgetUsd, then resume the session.".into()
  } else if has(&[
    "rate limit",
    "429",
    "overloaded",
    "529",
    "high demand",
    "500",
    "502",
    "503",
  ]) {
    "The model API is busy or failing: wait a little, then resume the session.".into()
  } else if has(&["not found", "no such file", "enoent", "not executable"]) {
    "The CLI could not be started: check its path (claudePath / codexPath) and installation.".into()
  } else if has(&["prompt is too long", "context window", "context_length"]) {
    "The conversation outgrew the context window: resume with a fork, or start a new session."
      .into()
  } else if exit_code.is_some_and(|c| c != 0) {
    "The CLI exited with an error: read the stderr tail, then resume the session.".into()
  } else {
    "Resume the session to continue, or start a new one.".into()
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn channel_resolution_order() {
    let mut o = NotificationOptions::default();
    o.channels.insert("/home/me".into(), "home".into());
    o.channels.insert("/home/me/work".into(), "work".into());
    assert_eq!(
      resolve_channel(&o, Some("tg:1"), "/home/me/work/x").as_deref(),
      Some("tg:1")
    );
    assert_eq!(
      resolve_channel(&o, None, "/home/me/work/x").as_deref(),
      Some("work")
    );
    assert_eq!(
      resolve_channel(&o, None, "/home/me/workshop").as_deref(),
      Some("home")
    );
    assert_eq!(resolve_channel(&o, None, "/srv"), None);
    o.fallback_channel = Some("fallback".into());
    assert_eq!(
      resolve_channel(&o, None, "/srv").as_deref(),
      Some("fallback")
    );
  }

  #[test]
  fn hints_follow_the_failure() {
    assert!(
      failure_hint("model API error 401: invalid x-api-key", &[], Some(1)).contains("API key")
    );
    assert!(failure_hint(
      "",
      &["We're currently experiencing high demand".into()],
      Some(1)
    )
    .contains("busy"));
    assert!(failure_hint("exited with exit code 3", &[], Some(3)).contains("stderr"));
  }
}
