//! Whether a session can be resumed, and why not: the one verdict `canResume` reports and
//! `resume` acts on, so that the two never disagree. What it reads: the store (a tombstone,
//! a live status, when the session ended), the filesystem (the workdir) and the CLI's own
//! record of the conversation (`session::resumable`).

use crate::manager::Manager;
use crate::model::error::{Error, Result};
use crate::model::options::Backend;
use crate::session::resumable::{find_conversation, Conversation};
use crate::store::StoredSession;
use serde::{Deserialize, Serialize};
use std::ffi::OsString;
use std::path::Path;

/// Why a session can or cannot be resumed (`canResume(ref).reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CanResumeReason {
  /// Resumable: finished (or forkable), its workdir and the CLI's record are there.
  Ok,
  /// The session is live (not terminal) and `fork` is off: `resume` → `E_STATE`.
  Live,
  /// Claude Code has no transcript of the conversation for this workdir (or the session never
  /// got a session id): `E_RESUME_NOT_FOUND`.
  TranscriptMissing,
  /// Codex has no rollout file of the thread (or the session never got a thread id):
  /// `E_RESUME_NOT_FOUND`.
  RolloutMissing,
  /// Retention reduced the stored session to a tombstone (`SessionInfo.evicted`): its
  /// options are gone: `E_RESUME_NOT_FOUND`.
  Evicted,
  /// The session's workdir is gone (the CLI resumes only from it): `E_STATE`.
  WorkdirMissing,
  /// It ended longer ago than `resumeMaxAgeMs`: `E_RESUME_NOT_FOUND`.
  TooOld,
}

impl CanResumeReason {
  pub fn as_str(self) -> &'static str {
    match self {
      CanResumeReason::Ok => "ok",
      CanResumeReason::Live => "live",
      CanResumeReason::TranscriptMissing => "transcript-missing",
      CanResumeReason::RolloutMissing => "rollout-missing",
      CanResumeReason::Evicted => "evicted",
      CanResumeReason::WorkdirMissing => "workdir-missing",
      CanResumeReason::TooOld => "too-old",
    }
  }

  /// The conversation is gone for the CLI or by policy: `resume({ onMissing: 'fresh' })`
  /// starts a new one seeded with the stored summary instead of failing.
  pub fn fresh_start_helps(self) -> bool {
    matches!(
      self,
      CanResumeReason::TranscriptMissing
        | CanResumeReason::RolloutMissing
        | CanResumeReason::TooOld
    )
  }
}

/// `canResume(ref, options)`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct CanResumeOptions {
  /// As `resume({ fork: true })`: a live session can be forked.
  pub fork: bool,
}

/// The verdict (`canResume`).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Resumability {
  /// `resume` would start the CLI on the conversation (`reason` is `ok`).
  pub resumable: bool,
  pub reason: CanResumeReason,
  /// For people: what was found or looked for.
  pub message: String,
  /// The manager's id of the session asked about.
  pub session_id: String,
  pub backend: Backend,
  pub backend_session_id: String,
  pub workdir: String,
  /// When it ended, ms since the Unix epoch (`None` while live).
  pub ended_at: Option<u64>,
}

impl Resumability {
  /// The error `resume` fails with for this verdict (`None` when resumable).
  pub fn error(&self) -> Option<Error> {
    let msg = format!("{}; nothing was started", self.message);
    match self.reason {
      CanResumeReason::Ok => None,
      CanResumeReason::Live | CanResumeReason::WorkdirMissing => Some(Error::State(msg)),
      _ => Some(Error::ResumeNotFound(msg)),
    }
  }
}

impl Manager {
  /// Whether `resume(r, ..., { fork })` would continue the conversation, and why not: the
  /// verdict `resume` itself acts on. `E_NOT_FOUND` for a session neither live nor stored.
  /// Reads only (the store, the filesystem); never writes.
  pub fn can_resume(&self, r: &str, o: &CanResumeOptions) -> Result<Resumability> {
    let src = self.lookup(r)?.ok_or_else(|| super::resume::not_found(r))?;
    Ok(self.verdict(&src, o.fork))
  }

  /// The one resumability check (`canResume`, `resume`), in this order: tombstone, live,
  /// age, workdir, the CLI's record.
  pub(crate) fn verdict(&self, src: &StoredSession, fork: bool) -> Resumability {
    let i = &src.info;
    let (reason, message) = self.reason(src, fork);
    Resumability {
      resumable: reason == CanResumeReason::Ok,
      reason,
      message,
      session_id: i.id.clone(),
      backend: i.backend,
      backend_session_id: i.backend_session_id.clone(),
      workdir: i.workdir.clone(),
      ended_at: i.ended_at,
    }
  }

  fn reason(&self, src: &StoredSession, fork: bool) -> (CanResumeReason, String) {
    use CanResumeReason as R;
    let i = &src.info;
    let id = &i.id;
    if i.evicted {
      return (
        R::Evicted,
        format!("session `{id}` was evicted from the store by retention (maxPersistedSessions, maxPersistedAgeMs): only its ids and links are kept, not the options to resume it"),
      );
    }
    if !i.status.is_terminal() && !fork {
      return (
        R::Live,
        format!(
          "session `{id}` is {}: send to it, or resume with fork for a copy",
          i.status.as_str()
        ),
      );
    }
    let max_age = self.opts.resume_max_age_ms;
    if let (true, Some(ended)) = (max_age > 0, i.ended_at) {
      let age = crate::model::event::now_ms().saturating_sub(ended);
      if age > max_age {
        return (
          R::TooOld,
          // The same words every time it is asked (canResume, then resume): no running age.
          format!(
            "session `{id}` ended longer ago than resumeMaxAgeMs ({max_age} ms): at {ended} ms since the Unix epoch"
          ),
        );
      }
    }
    if !Path::new(&i.workdir).is_dir() {
      return (
        R::WorkdirMissing,
        format!(
          "the workdir `{}` of session `{id}` is gone; the CLI resumes a conversation only from its original workdir (recreate it to resume)",
          i.workdir
        ),
      );
    }
    let missing = match i.backend {
      Backend::Claude => R::TranscriptMissing,
      Backend::Codex | Backend::CodexExec => R::RolloutMissing,
    };
    if i.backend_session_id.is_empty() {
      return (
        missing,
        format!("session `{id}` never got a backend session id, so there is nothing to resume"),
      );
    }
    let env = |k: &str| self.resume_env(i.backend, k);
    let found = find_conversation(&Conversation {
      backend: i.backend,
      cwd: Path::new(&i.workdir),
      id: &i.backend_session_id,
      env: &env,
    });
    match found {
      Ok(()) => (
        R::Ok,
        format!(
          "session `{id}` can be resumed: {} has conversation `{}`",
          i.backend.as_str(),
          i.backend_session_id
        ),
      ),
      Err(why) => (missing, why),
    }
  }

  /// The environment variable `key` as a resumed session's CLI would see it: the manager's
  /// `env`, then `codexHome` (Codex), then this process's (as `Launch::prepare` builds it;
  /// a stored session keeps no `env` of its own).
  fn resume_env(&self, backend: Backend, key: &str) -> Option<OsString> {
    if let Some(v) = self.opts.env.get(key) {
      return Some(v.into());
    }
    if key == "CODEX_HOME" && backend != Backend::Claude {
      if let Some(h) = &self.opts.codex_home {
        return Some(h.into());
      }
    }
    std::env::var_os(key)
  }
}
