//! The options that take one of a closed set of names, as enums: serde refuses any other name
//! with a message that names the key and lists the allowed values (see [`super::from_json`]).

use serde::{Deserialize, Serialize};

/// Defines a closed set of names: the enum, its serde names, `as_str` and `ALL`.
macro_rules! closed_set {
  ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $s:literal),+ $(,)? }) => {
    $(#[$m])*
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
    pub enum $name {
      $($(#[$vm])* #[serde(rename = $s)] $variant),+
    }

    impl $name {
      /// Every value, in declaration order.
      pub const ALL: &'static [$name] = &[$($name::$variant),+];

      /// The name callers and the CLIs use.
      pub fn as_str(self) -> &'static str {
        match self {
          $($name::$variant => $s),+
        }
      }
    }
  };
}

closed_set! {
  /// The agent CLI behind a session (`spawn({ backend })`).
  Backend {
    /// One live `claude -p --input-format stream-json` process per session.
    Claude = "claude",
    /// One live `codex app-server` process per session (JSON-RPC).
    Codex = "codex",
    /// One `codex exec --json` process per turn.
    CodexExec = "codex-exec",
  }
}

closed_set! {
  /// The answer to a permission request nobody answered in time (`permissionPolicy`).
  PermissionPolicy {
    Deny = "deny",
    Allow = "allow",
  }
}

closed_set! {
  /// Claude Code's `--permission-mode` values (Claude Code 2.x).
  PermissionMode {
    Default = "default",
    Manual = "manual",
    AcceptEdits = "acceptEdits",
    Auto = "auto",
    BypassPermissions = "bypassPermissions",
    DontAsk = "dontAsk",
    Plan = "plan",
  }
}

closed_set! {
  /// Codex `--sandbox` / `thread/start.sandbox`.
  Sandbox {
    ReadOnly = "read-only",
    WorkspaceWrite = "workspace-write",
    DangerFullAccess = "danger-full-access",
  }
}

closed_set! {
  /// Codex `approval_policy` / `thread/start.approvalPolicy`.
  ApprovalPolicy {
    Untrusted = "untrusted",
    OnFailure = "on-failure",
    OnRequest = "on-request",
    Never = "never",
  }
}

closed_set! {
  /// What `resume` does when the CLI no longer has the conversation (`onMissing`).
  OnMissing {
    /// Fail with `E_RESUME_NOT_FOUND` (default).
    Fail = "fail",
    /// Start a new conversation seeded with the stored summary, linked into the chain.
    Fresh = "fresh",
  }
}

closed_set! {
  /// What a new session does at `maxSessions` live sessions (`onLimit`).
  OnLimit {
    /// Fail with `E_LIMIT` (default).
    Reject = "reject",
    /// Stop the session that has waited for input longest (`interrupted`, `endReason:
    /// evicted`, resumable) and start; `E_LIMIT` when none waits (`manager::evict`).
    EvictIdle = "evict-idle",
  }
}

closed_set! {
  /// A permission decision (`respondToPermission(ref, id, { behavior })`).
  PermissionBehavior {
    Allow = "allow",
    Deny = "deny",
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn names_round_trip_through_serde() {
    for b in Backend::ALL {
      let v = serde_json::to_value(b).unwrap();
      assert_eq!(v, b.as_str());
      assert_eq!(serde_json::from_value::<Backend>(v).unwrap(), *b);
    }
    for m in PermissionMode::ALL {
      assert_eq!(serde_json::to_value(m).unwrap(), m.as_str());
    }
  }
}
