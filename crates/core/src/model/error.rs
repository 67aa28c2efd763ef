//! The one error type of the core. Every variant has a stable `code` (docs/design.md) that the binding
//! copies onto the JS `Error`; the message says what was wrong and what to do.

/// A failure the caller can act on. `code()` is the stable contract; messages may improve.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum Error {
  /// Bad input: empty prompt, relative or missing workdir, unknown backend or option, ...
  #[error("{0}")]
  InvalidArgument(String),
  /// No session matches the given id, name or backend session id.
  #[error("{0}")]
  NotFound(String),
  /// A configured limit (e.g. `maxSessions`) would be exceeded.
  #[error("{0}")]
  Limit(String),
  /// The CLI could not be started (binary missing, not executable, ...).
  #[error("{0}")]
  Spawn(String),
  /// The operation does not fit the session's current status.
  #[error("{0}")]
  State(String),
  /// The CLI no longer has the conversation to resume.
  #[error("{0}")]
  ResumeNotFound(String),
  /// The operation is not allowed by the manager's configuration.
  #[error("{0}")]
  Forbidden(String),
  /// The persistent store failed.
  #[error("{0}")]
  Store(String),
  /// The CLI broke its wire protocol (unparsable or oversized output, ...).
  #[error("{0}")]
  Protocol(String),
  /// Something did not happen within its deadline.
  #[error("{0}")]
  Timeout(String),
  /// `maxAutoResponds` automatic messages were sent without the user speaking.
  #[error("{0}")]
  AutoRespondLimit(String),
}

impl Error {
  /// Every code `code` returns.
  pub const CODES: [&'static str; 11] = [
    "E_INVALID_ARGUMENT",
    "E_NOT_FOUND",
    "E_LIMIT",
    "E_SPAWN",
    "E_STATE",
    "E_RESUME_NOT_FOUND",
    "E_FORBIDDEN",
    "E_STORE",
    "E_PROTOCOL",
    "E_TIMEOUT",
    "E_AUTO_RESPOND_LIMIT",
  ];

  /// The stable error code, e.g. `E_INVALID_ARGUMENT`.
  pub fn code(&self) -> &'static str {
    match self {
      Error::InvalidArgument(_) => "E_INVALID_ARGUMENT",
      Error::NotFound(_) => "E_NOT_FOUND",
      Error::Limit(_) => "E_LIMIT",
      Error::Spawn(_) => "E_SPAWN",
      Error::State(_) => "E_STATE",
      Error::ResumeNotFound(_) => "E_RESUME_NOT_FOUND",
      Error::Forbidden(_) => "E_FORBIDDEN",
      Error::Store(_) => "E_STORE",
      Error::Protocol(_) => "E_PROTOCOL",
      Error::Timeout(_) => "E_TIMEOUT",
      Error::AutoRespondLimit(_) => "E_AUTO_RESPOND_LIMIT",
    }
  }
}

/// Result with the core's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn codes_are_stable() {
    assert_eq!(
      Error::InvalidArgument("x".into()).code(),
      "E_INVALID_ARGUMENT"
    );
    assert_eq!(Error::State("x".into()).code(), "E_STATE");
    assert_eq!(
      Error::AutoRespondLimit("x".into()).code(),
      "E_AUTO_RESPOND_LIMIT"
    );
    assert_eq!(
      Error::Spawn("no such file".into()).to_string(),
      "no such file"
    );
  }
}
