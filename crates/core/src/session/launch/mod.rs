//! How each backend starts a session and continues it: the command lines (from `protocol`),
//! the environment, the binary, and the first-turn / next-turn sequences (stdin message,
//! JSON-RPC handshake, or a new process per turn). The registry (`manager`) decides when; this
//! module knows how.

mod start_claude;
mod start_codex;

use crate::model::error::{Error, Result};
use crate::model::options::{Backend, ManagerOptions, PermissionMode, SpawnOptions};
use crate::process::binaries;
use crate::process::{self, CommandSpec};
use crate::protocol::codex::exec::{CodexArgs, Continue};
use crate::protocol::{claude, codex::app_server as app, Parser};
use crate::session::live::LiveSession;
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Everything needed to start this session's processes, fixed at spawn.
#[derive(Debug, Clone)]
pub(crate) struct Launch {
  pub backend: Backend,
  pub program: PathBuf,
  pub cwd: PathBuf,
  pub env: Vec<(OsString, OsString)>,
  /// The conversation to continue (`spawn({ resume })`): a Claude session id or Codex thread id.
  pub resume: Option<String>,
  /// With `resume`: continue a copy under a new id.
  pub fork: bool,
  pub claude: claude::ClaudeArgs,
  pub codex: CodexArgs,
  pub lines: process::LineLimits,
  pub request_timeout: Duration,
  pub startup_timeout: Duration,
  /// The manager's count of processes started.
  pub spawned: Arc<AtomicU64>,
}

impl Launch {
  /// Resolves the binary and the environment; fails with `E_SPAWN` naming what was tried.
  pub(crate) fn prepare(
    m: &ManagerOptions,
    o: &SpawnOptions,
    backend: Backend,
    session_id: &str,
    spawned: Arc<AtomicU64>,
  ) -> Result<Launch> {
    let mut env: Vec<(OsString, OsString)> = m
      .env
      .iter()
      .chain(o.env.iter())
      .map(|(k, v)| (k.into(), v.into()))
      .collect();
    if backend != Backend::Claude {
      if let Some(home) = &m.codex_home {
        env.insert(0, ("CODEX_HOME".into(), home.into()));
      }
    }
    let program = binaries::choose(backend, m, &env)
      .map_err(|why| Error::Spawn(format!("{} CLI not usable: {why}", backend_label(backend))))?;
    if o.permission_mode == Some(PermissionMode::BypassPermissions)
      && nix::unistd::geteuid().is_root()
    {
      // The CLI refuses bypass as root unless told it is sandboxed (docs/protocols.md A1).
      env.push(("IS_SANDBOX".into(), "1".into()));
    }
    Ok(Launch {
      backend,
      program,
      cwd: o.workdir.clone().into(),
      env,
      resume: o.resume.clone(),
      fork: o.fork,
      claude: claude::ClaudeArgs {
        session_id: session_id.to_owned(),
        resume: o.resume.clone(),
        fork: o.fork,
        model: o.model.clone(),
        permission_mode: o.permission_mode.map(|m| m.as_str().to_owned()),
        allowed_tools: o.allowed_tools.clone(),
        disallowed_tools: o.disallowed_tools.clone(),
        append_system_prompt: o.append_system_prompt.clone(),
        append_system_prompt_file: None,
        max_turns: o.max_turns,
        add_dirs: o.add_dirs.clone(),
        max_budget_usd: o.max_budget_usd,
      },
      codex: CodexArgs {
        model: o.model.clone(),
        sandbox: o.sandbox.map(|m| m.as_str().to_owned()),
        approval_policy: o.approval_policy.map(|m| m.as_str().to_owned()),
        config: o.config.clone(),
      },
      lines: line_limits(m),
      request_timeout: Duration::from_millis(m.request_timeout_ms),
      startup_timeout: Duration::from_millis(m.startup_timeout_ms),
      spawned,
    })
  }

  /// For a session whose process the caller owns (`ingest`): nothing to start.
  pub(crate) fn external(m: &ManagerOptions, workdir: &str, spawned: Arc<AtomicU64>) -> Launch {
    Launch {
      backend: Backend::Claude,
      program: PathBuf::new(),
      cwd: workdir.into(),
      env: Vec::new(),
      resume: None,
      fork: false,
      claude: claude::ClaudeArgs::default(),
      codex: CodexArgs::default(),
      lines: line_limits(m),
      request_timeout: Duration::from_millis(m.request_timeout_ms),
      startup_timeout: Duration::from_millis(m.startup_timeout_ms),
      spawned,
    }
  }

  fn spec(&self, args: Vec<OsString>) -> CommandSpec {
    CommandSpec {
      program: self.program.clone(),
      args,
      cwd: self.cwd.clone(),
      env: self.env.clone(),
    }
  }

  pub(super) async fn spawn(
    &self,
    session: &Arc<LiveSession>,
    args: Vec<OsString>,
    parser: Parser,
  ) -> Result<()> {
    let spec = self.spec(args);
    let child = process::spawn(&spec, &session.contained()).map_err(|e| {
      Error::Spawn(format!(
        "cannot start {}: {e}. Check the path or set the `{}` option",
        spec.program.display(),
        binaries::option_name(self.backend)
      ))
    })?;
    self.spawned.fetch_add(1, Ordering::Relaxed);
    if !session.start(child, parser, self.lines.clone()).await {
      return Err(Error::State(
        "the session was stopped while its process started; the process was killed".into(),
      ));
    }
    Ok(())
  }

  /// The environment value the child will see for `key` (ours, else inherited).
  pub(super) fn env_var(&self, key: &str) -> Option<OsString> {
    self
      .env
      .iter()
      .rev()
      .find(|(k, _)| k == key)
      .map(|(_, v)| v.clone())
      .or_else(|| std::env::var_os(key))
  }

  /// Starts the session's first process and sends `prompt`. Resolves when the backend session
  /// id is known: at once for Claude (`--session-id`), after `thread/start` (or resume / fork)
  /// for the app-server, at `thread.started` for exec.
  pub(crate) async fn first_turn(&self, s: &Arc<LiveSession>, prompt: Option<&str>) -> Result<()> {
    self.start(s, prompt).await?;
    if prompt.is_none() {
      // Resumed without a message: up and waiting for the first one.
      s.update(|st| ((), st.ready_without_turn().into_iter().collect()));
    } else {
      // Every backend resolves `spawn` in the same status: the first turn runs.
      s.update(|st| ((), st.first_turn_sent().into_iter().collect()));
    }
    Ok(())
  }

  async fn start(&self, s: &Arc<LiveSession>, prompt: Option<&str>) -> Result<()> {
    match self.backend {
      Backend::Claude => self.start_claude(s, prompt).await,
      Backend::Codex => self.start_app_server(s, prompt).await,
      Backend::CodexExec => self.start_exec(s, prompt).await,
    }
  }

  /// A recovery attempt (`manager::recovery`): a new process on the session's conversation
  /// (Claude `--resume <id>`, Codex `thread/resume`, `codex exec resume`) that is sent
  /// `prompt` again. The caller moved the session from `recovering` to `running`.
  pub(crate) async fn retry(&self, s: &Arc<LiveSession>, prompt: &str) -> Result<()> {
    let id = s.state().backend_session_id().to_owned();
    let mut again = self.clone();
    again.resume = Some(id.clone());
    again.fork = false;
    again.claude.resume = Some(id.clone());
    again.claude.fork = false;
    again.claude.session_id = id;
    again.start(s, Some(prompt)).await
  }

  /// Sends the next user message of a session that is waiting (the caller moved it to
  /// `running`).
  pub(crate) async fn next_turn(&self, s: &Arc<LiveSession>, text: &str) -> Result<()> {
    let gone = |e: std::io::Error| {
      Error::State(format!(
        "the session's CLI no longer reads input ({e}); it is ending"
      ))
    };
    match self.backend {
      Backend::Claude => s.write(&claude::user_message(text)).await.map_err(gone),
      Backend::Codex => {
        let thread = s.state().backend_session_id().to_owned();
        self.app_server_turn(s, &thread, text).await
      }
      Backend::CodexExec => {
        let thread = s.state().backend_session_id().to_owned();
        self.exec_turn(s, &Continue::Resume(thread), text).await
      }
    }
  }
}

impl Launch {
  /// Cancels the running turn only (the caller checked one runs): Claude `control_request
  /// {subtype: interrupt}`, Codex `turn/interrupt`, codex-exec SIGINT to the turn's process.
  pub(crate) async fn interrupt_turn(&self, s: &Arc<LiveSession>) -> Result<()> {
    match self.backend {
      Backend::Claude => {
        let id = format!("interrupt-{}", uuid::Uuid::new_v4());
        s.write(&claude::interrupt_request(&id))
          .await
          .map_err(|e| Error::State(format!("the session's CLI no longer reads input ({e})")))
      }
      Backend::Codex => {
        let (thread, turn) = {
          let st = s.state();
          (
            st.backend_session_id().to_owned(),
            st.turn_id().map(str::to_owned),
          )
        };
        let Some(turn) = turn else {
          return Err(Error::State(
            "the running turn has not started yet; try again".into(),
          ));
        };
        let sent = s
          .request(
            "turn/interrupt",
            app::turn_interrupt_params(&thread, &turn),
            self.request_timeout,
          )
          .await;
        match sent {
          // The turn ended before the interrupt reached it: nothing left to cancel.
          Err(Error::Protocol(m)) if m.contains("no active turn") => Ok(()),
          other => other.map(|_| ()),
        }
      }
      Backend::CodexExec => {
        // Before `turn.started` the pump sends it (see `SessionState::sigint_due`).
        if s.state().sigint_due() {
          s.signal(nix::sys::signal::Signal::SIGINT);
        }
        Ok(())
      }
    }
  }
}

/// How long to wait for a dead CLI's stderr to be read.
pub(super) const DRAIN: Duration = Duration::from_secs(3);

/// `: <the last meaningful stderr lines>` (backtrace frames and blank lines left out).
pub(super) fn stderr_context(s: &LiveSession) -> String {
  let tail = s.state().info().stderr_tail;
  let lines: Vec<&str> = tail
    .iter()
    .map(|l| l.trim())
    .filter(|l| {
      !l.is_empty()
        && !l.chars().next().is_some_and(|c| c.is_ascii_digit())
        && !l.starts_with("Stack backtrace")
    })
    .collect();
  let last: Vec<&str> = lines.iter().rev().take(3).rev().copied().collect();
  if last.is_empty() {
    String::new()
  } else {
    format!("; its stderr says: {}", last.join(" | "))
  }
}

/// `E_RESUME_NOT_FOUND` when the CLI ended saying it has no such conversation.
pub(super) fn resume_not_found(s: &LiveSession) -> Result<()> {
  let info = s.state().info();
  if !info.status.is_terminal() {
    return Ok(());
  }
  let said = info
    .stderr_tail
    .iter()
    .chain(info.last_error.iter())
    .find(|l| l.contains("no rollout found") || l.contains("No conversation found"));
  match said {
    Some(line) => Err(Error::ResumeNotFound(format!(
      "the CLI has no conversation `{}` to resume: {line}",
      info.backend_session_id
    ))),
    None => Ok(()),
  }
}

/// `maxLineBytes` per line, under the shared budget of `lineBufferBudgetBytes` (one per
/// process and budget size: managers with the same setting share it).
fn line_limits(m: &ManagerOptions) -> process::LineLimits {
  use std::collections::HashMap;
  use std::sync::Mutex;
  static BUDGETS: Mutex<Option<HashMap<u64, Arc<process::LineBudget>>>> = Mutex::new(None);
  let mut all = BUDGETS.lock().unwrap_or_else(|e| e.into_inner());
  let budget = all
    .get_or_insert_with(HashMap::new)
    .entry(m.line_buffer_budget_bytes)
    .or_insert_with(|| process::LineBudget::new(m.line_buffer_budget_bytes as usize))
    .clone();
  process::LineLimits {
    cap: m.max_line_bytes as usize,
    budget: Some(budget),
  }
}

fn backend_label(b: Backend) -> &'static str {
  match b {
    Backend::Claude => "Claude Code",
    Backend::Codex | Backend::CodexExec => "Codex",
  }
}
