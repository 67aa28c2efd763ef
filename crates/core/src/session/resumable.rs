//! Before a resume spawns anything: does the CLI still have the conversation? Claude keeps a
//! transcript per project folder, Codex a rollout file per thread; without it the CLI would
//! start a new conversation (Codex) or fail after starting (Claude). [`find_conversation`] is
//! the one check, used by `spawn({ resume })` (through [`Launch::verify_resumable`]) and by the
//! manager's resumability verdict (`canResume`, `resume`).

use crate::model::error::{Error, Result};
use crate::model::options::Backend;
use crate::session::launch::Launch;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The longest project folder name Claude Code writes in full (docs/protocols.md A5).
const CLAUDE_FOLDER_MAX: usize = 200;

/// Where a CLI would look for conversation `id` when started in `cwd` with the environment
/// `env` (a lookup that falls back to the manager's own environment).
pub(crate) struct Conversation<'a> {
  pub backend: Backend,
  pub cwd: &'a Path,
  pub id: &'a str,
  pub env: &'a dyn Fn(&str) -> Option<OsString>,
}

/// Ok when the CLI has the conversation on disk; else what was looked for, as a sentence.
pub(crate) fn find_conversation(c: &Conversation<'_>) -> std::result::Result<(), String> {
  match c.backend {
    Backend::Claude => claude_transcript(c),
    Backend::Codex | Backend::CodexExec => codex_rollout(c),
  }
}

impl Launch {
  /// Checks that the CLI still has the conversation `resume` names (Claude's transcript,
  /// Codex's rollout file): `E_RESUME_NOT_FOUND` saying what was looked for, before anything
  /// is spawned. Nothing to check without `resume`.
  pub(crate) fn verify_resumable(&self) -> Result<()> {
    let Some(id) = &self.resume else {
      return Ok(());
    };
    let env = |k: &str| self.env_var(k);
    find_conversation(&Conversation {
      backend: self.backend,
      cwd: &self.cwd,
      id,
      env: &env,
    })
    .map_err(|why| Error::ResumeNotFound(format!("{why}; nothing was started")))
  }
}

/// `$VAR`, else `$HOME/<dot>`, else `<dot>`.
fn home_dir(c: &Conversation<'_>, var: &str, dot: &str) -> PathBuf {
  (c.env)(var)
    .map(PathBuf::from)
    .or_else(|| (c.env)("HOME").map(|h| PathBuf::from(h).join(dot)))
    .unwrap_or_else(|| PathBuf::from(dot))
}

/// Codex resumes only threads with a rollout file:
/// `$CODEX_HOME/sessions/YYYY/MM/DD/rollout-<timestamp>-<thread_id>.jsonl` (docs/protocols.md B3).
fn codex_rollout(c: &Conversation<'_>) -> std::result::Result<(), String> {
  let sessions = home_dir(c, "CODEX_HOME", ".codex").join("sessions");
  let suffix = format!("-{}.jsonl", c.id);
  fn walk(dir: &Path, suffix: &str, depth: u32) -> bool {
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
  Err(format!(
    "Codex has no conversation `{}`: no rollout-*{suffix} under {}",
    c.id,
    sessions.display()
  ))
}

/// Claude resumes only what it has on disk: `$CLAUDE_CONFIG_DIR/projects/<cwd with every
/// non-alphanumeric char as '-'>/<id>.jsonl` (docs/protocols.md A5), from the session's own
/// workdir only: the pinned Claude Code finds no conversation of another cwd's folder.
fn claude_transcript(c: &Conversation<'_>) -> std::result::Result<(), String> {
  let id = c.id;
  let projects = home_dir(c, "CLAUDE_CONFIG_DIR", ".claude").join("projects");
  let escaped: String = c
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
    return Err(format!(
      "Claude Code keeps conversation `{id}` under {}, the folder of another working \
       directory; it resumes only from the original one (workdir `{}` has {})",
      other.display(),
      c.cwd.display(),
      projects.join(&escaped).display()
    ));
  }
  Err(format!(
    "Claude Code has no conversation `{id}`: looked for {} (and under {})",
    expected.display(),
    projects.display()
  ))
}
