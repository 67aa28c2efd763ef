//! Before a resume spawns anything: does the CLI still have the conversation? Claude keeps a
//! transcript per project folder, Codex a rollout file per thread; without it the CLI would
//! start a new conversation (Codex) or fail after starting (Claude).

use crate::model::error::{Error, Result};
use crate::model::options::Backend;
use crate::session::launch::Launch;
use std::path::PathBuf;

/// The longest project folder name Claude Code writes in full (docs/protocols.md A5).
const CLAUDE_FOLDER_MAX: usize = 200;

impl Launch {
  /// Checks that the CLI still has the conversation `resume` names (Claude's transcript,
  /// Codex's rollout file): `E_RESUME_NOT_FOUND` saying what was looked for, before anything
  /// is spawned. Nothing to check without `resume`.
  pub(crate) fn verify_resumable(&self) -> Result<()> {
    match (&self.resume, self.backend) {
      (None, _) => Ok(()),
      (Some(id), Backend::Claude) => self.check_claude_transcript(id),
      (Some(id), Backend::Codex | Backend::CodexExec) => self.check_codex_rollout(id),
    }
  }

  /// Codex resumes only threads with a rollout file:
  /// `$CODEX_HOME/sessions/YYYY/MM/DD/rollout-<timestamp>-<thread_id>.jsonl` (docs/protocols.md B3).
  fn check_codex_rollout(&self, id: &str) -> Result<()> {
    let home = self
      .env_var("CODEX_HOME")
      .map(PathBuf::from)
      .or_else(|| {
        self
          .env_var("HOME")
          .map(|h| PathBuf::from(h).join(".codex"))
      })
      .unwrap_or_else(|| PathBuf::from(".codex"));
    let sessions = home.join("sessions");
    let suffix = format!("-{id}.jsonl");
    fn walk(dir: &std::path::Path, suffix: &str, depth: u32) -> bool {
      std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .any(|e| {
          let p = e.path();
          if p.is_dir() {
            depth > 0 && walk(&p, suffix, depth - 1)
          } else {
            e.file_name().to_string_lossy().ends_with(suffix)
          }
        })
    }
    if walk(&sessions, &suffix, 4) {
      return Ok(());
    }
    Err(Error::ResumeNotFound(format!(
      "Codex has no conversation `{id}`: no rollout-*{suffix} under {}; nothing was started",
      sessions.display()
    )))
  }

  /// Claude resumes only what it has on disk: `$CLAUDE_CONFIG_DIR/projects/<cwd with every
  /// non-alphanumeric char as '-'>/<id>.jsonl` (docs/protocols.md A5), from the session's own
  /// workdir only: the pinned Claude Code finds no conversation of another cwd's folder.
  fn check_claude_transcript(&self, id: &str) -> Result<()> {
    let config = self
      .env_var("CLAUDE_CONFIG_DIR")
      .map(PathBuf::from)
      .or_else(|| {
        self
          .env_var("HOME")
          .map(|h| PathBuf::from(h).join(".claude"))
      })
      .unwrap_or_else(|| PathBuf::from(".claude"));
    let projects = config.join("projects");
    let escaped: String = self
      .cwd
      .to_string_lossy()
      .chars()
      .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
      .collect();
    let expected = projects.join(&escaped).join(format!("{id}.jsonl"));
    if expected.is_file() {
      return Ok(());
    }
    // Names over 200 characters are cut and get a hash suffix (`-r3njmf`): the folder of this
    // cwd is the one that starts with the cut name. A transcript under another cwd's folder
    // does not count: the pinned Claude Code does not find it from here.
    if escaped.len() > CLAUDE_FOLDER_MAX {
      let cut = &escaped[..CLAUDE_FOLDER_MAX];
      let found = std::fs::read_dir(&projects)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|d| d.file_name().to_string_lossy().starts_with(cut))
        .any(|d| d.path().join(format!("{id}.jsonl")).is_file());
      if found {
        return Ok(());
      }
    }
    let elsewhere = std::fs::read_dir(&projects)
      .into_iter()
      .flatten()
      .flatten()
      .find(|d| d.path().join(format!("{id}.jsonl")).is_file())
      .map(|d| d.path());
    if let Some(other) = elsewhere {
      return Err(Error::ResumeNotFound(format!(
        "Claude Code keeps conversation `{id}` under {}, the folder of another working \
         directory; it resumes only from the original one (workdir `{}` has {}); nothing was \
         started",
        other.display(),
        self.cwd.display(),
        projects.join(&escaped).display()
      )));
    }
    Err(Error::ResumeNotFound(format!(
      "Claude Code has no conversation `{id}`: looked for {} (and under {}); nothing was started",
      expected.display(),
      projects.display()
    )))
  }
}
