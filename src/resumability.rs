//! `SessionManager.canResume` and `setMetadata`: the resumability verdict and the caller's
//! session metadata. Converts and forwards; the decisions are in the core
//! (`manager::resumability`, `manager::metadata`).

use crate::args;
use crate::convert::{throw, Code, SessionInfo};
use crate::{or_empty, SessionManager};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use openclaw_sessions_core as core;

/// Whether a session can be resumed (`canResume`): the verdict `resume` acts on.
#[napi(object)]
pub struct CanResumeVerdict {
  /// `resume` would start the CLI on the conversation (`reason` is `ok`).
  pub resumable: bool,
  /// `ok`; `live` (resume → `E_STATE`); `transcript-missing` / `rollout-missing` (Claude's
  /// transcript / Codex's rollout file is gone, or the session never got a backend id:
  /// `E_RESUME_NOT_FOUND`); `evicted` (retention left only a tombstone: `E_RESUME_NOT_FOUND`);
  /// `workdir-missing` (`E_STATE`); `too-old` (ended longer ago than `resumeMaxAgeMs`:
  /// `E_RESUME_NOT_FOUND`).
  #[napi(ts_type = "CanResumeReason")]
  pub reason: String,
  /// For people: what was found or looked for (the paths, the status, the age).
  pub message: String,
  /// The manager's id of the session asked about.
  pub session_id: String,
  #[napi(ts_type = "Backend")]
  pub backend: String,
  /// The conversation a resume continues: Claude's session id, Codex's thread id.
  pub backend_session_id: String,
  pub workdir: String,
  /// When the session ended, ms since the Unix epoch (absent while live).
  pub ended_at: Option<f64>,
}

impl From<core::Resumability> for CanResumeVerdict {
  fn from(v: core::Resumability) -> Self {
    CanResumeVerdict {
      resumable: v.resumable,
      reason: v.reason.as_str().to_owned(),
      message: v.message,
      session_id: v.session_id,
      backend: v.backend.as_str().to_owned(),
      backend_session_id: v.backend_session_id,
      workdir: v.workdir,
      ended_at: v.ended_at.map(|t| t as f64),
    }
  }
}

#[napi]
impl SessionManager {
  /// Whether `resume(ref, ..., { fork })` would continue the session's conversation, and why
  /// not — the same check `resume` runs first, so the two never disagree. Checked in order:
  /// a retention tombstone (`evicted`), a live session without `fork` (`live`), the age
  /// against `resumeMaxAgeMs` (`too-old`), the workdir (`workdir-missing`), the CLI's record
  /// (`transcript-missing`: `$CLAUDE_CONFIG_DIR/projects/<escaped workdir>/<id>.jsonl`;
  /// `rollout-missing`: `$CODEX_HOME/sessions/**/rollout-*-<thread id>.jsonl`), else `ok`.
  /// A session stopped by eviction at the limit (`endReason: 'evicted'`) is resumable (`ok`).
  /// Reads only; never writes. `options.fork` (boolean, default false): as `resume`'s.
  ///
  /// @throws `E_NOT_FOUND` (no live or stored session with that ref), `E_FORBIDDEN` (on a
  /// `forOwner` handle: another owner's session), `E_INVALID_ARGUMENT` (a non-string ref, an
  /// unknown option), `E_STORE`.
  #[napi(catch_unwind, ts_args_type = "ref: string, options?: CanResumeOptions")]
  pub fn can_resume(
    &self,
    env: Env,
    r#ref: Unknown<'_>,
    options: Unknown<'_>,
  ) -> Result<CanResumeVerdict, Code> {
    let r = args::string(&env, &r#ref, "ref").map_err(throw)?;
    let o: core::CanResumeOptions = args::json(&env, &options, "canResume options")
      .and_then(|v| core::model::options::from_json("canResume options", or_empty(v)))
      .map_err(throw)?;
    let r = self.resolve(&r).map_err(throw)?;
    let v = self.inner.can_resume(&r, &o).map_err(throw)?;
    Ok(CanResumeVerdict::from(v))
  }

  /// Patches the session's `metadata` and returns its snapshot: a shallow merge of `patch`'s
  /// top-level keys, where `null` deletes a key (`setMetadata(id, { ticket: null })`). The
  /// result must stay within 4096 bytes of JSON. A session this manager holds is written to
  /// the store in the background (at once); a stored finished one is rewritten in the store.
  /// `resume` carries the metadata over to the new session.
  ///
  /// @throws `E_NOT_FOUND`, `E_FORBIDDEN` (on a `forOwner` handle: another owner's session),
  /// `E_INVALID_ARGUMENT` (`patch` not an object, the result over 4096
  /// bytes), `E_STATE` (a session another manager runs, or a retention tombstone), `E_STORE`.
  #[napi(
    catch_unwind,
    ts_args_type = "ref: string, patch: Record<string, unknown>"
  )]
  pub fn set_metadata(
    &self,
    env: Env,
    r#ref: Unknown<'_>,
    patch: Unknown<'_>,
  ) -> Result<SessionInfo, Code> {
    let r = args::string(&env, &r#ref, "ref").map_err(throw)?;
    let patch = args::object(&env, &patch, "metadata patch").map_err(throw)?;
    let patch = patch.as_object().cloned().unwrap_or_default();
    let r = self.resolve(&r).map_err(throw)?;
    let info = self.inner.set_metadata(&r, &patch).map_err(throw)?;
    Ok(SessionInfo::from(info))
  }
}
