//! Codex: the app-server (one live process per session, a JSON-RPC handshake, `turn/start`
//! per turn) and `codex exec` (one process per turn, the prompt on stdin).

use super::{resume_not_found, stderr_context, Launch, DRAIN};
use crate::model::error::{Error, Result};
use crate::protocol::codex::exec::Continue;
use crate::protocol::{codex::app_server as app, codex::exec, Parser};
use crate::session::live::LiveSession;
use std::path::PathBuf;
use std::sync::Arc;

impl Launch {
  /// Starts `codex app-server` and runs its handshake (with the first turn, if any).
  pub(super) async fn start_app_server(
    &self,
    s: &Arc<LiveSession>,
    prompt: Option<&str>,
  ) -> Result<()> {
    self
      .spawn(s, app::args(), Parser::CodexAppServer(Default::default()))
      .await?;
    match self.app_server_handshake(s, prompt).await {
      Err(Error::Protocol(m)) if m.contains("exited before answering") => {
        // Say why: the CLI's own last words are on stderr.
        s.wait_until(DRAIN, |st| st.status().is_terminal()).await;
        Err(Error::Protocol(format!("{m}{}", stderr_context(s))))
      }
      other => other,
    }
  }

  /// Starts the first `codex exec` turn, if there is a prompt, and waits for its thread id.
  pub(super) async fn start_exec(&self, s: &Arc<LiveSession>, prompt: Option<&str>) -> Result<()> {
    let Some(prompt) = prompt else {
      // No turn yet, so no process: the first `send` starts `exec resume`.
      return Ok(());
    };
    let how = match (&self.resume, self.fork) {
      (None, _) => Continue::New,
      (Some(id), false) => Continue::Resume(id.clone()),
      (Some(id), true) => Continue::Fork(id.clone()),
    };
    let inits = s.state().inits();
    self.exec_turn(s, &how, prompt).await?;
    let ready = s
      .wait_until(self.startup_timeout, |st| {
        st.inits() > inits || (st.status().is_terminal() && !st.has_pid())
      })
      .await;
    if !ready {
      return Err(Error::Timeout(format!(
        "codex exec did not report its thread within {} ms",
        self.startup_timeout.as_millis()
      )));
    }
    resume_not_found(s)
  }

  async fn app_server_handshake(&self, s: &Arc<LiveSession>, prompt: Option<&str>) -> Result<()> {
    let t = self.request_timeout;
    s.request(
      "initialize",
      app::initialize_params(env!("CARGO_PKG_VERSION")),
      t,
    )
    .await?;
    s.notify("initialized").await?;
    let result = match (&self.resume, self.fork) {
      (None, _) => {
        s.request(
          "thread/start",
          app::thread_start_params(&self.cwd.to_string_lossy(), &self.codex),
          t,
        )
        .await
      }
      (Some(id), fork) => {
        let method = if fork { "thread/fork" } else { "thread/resume" };
        let params = app::thread_continue_params(id, &self.cwd.to_string_lossy(), &self.codex);
        s.request(method, params, t).await
      }
    }
    .map_err(|e| match &e {
      Error::Protocol(m) if m.contains("no rollout found") => Error::ResumeNotFound(format!(
        "Codex has no conversation for thread `{}`: {m}",
        self.resume.as_deref().unwrap_or("")
      )),
      _ => e,
    })?;
    let thread = app::thread_id(&result)
      .ok_or_else(|| Error::Protocol(format!("thread response without a thread id: {result}")))?;
    s.state().set_backend_session_id(&thread);
    match prompt {
      Some(prompt) => self.app_server_turn(s, &thread, prompt).await,
      None => Ok(()),
    }
  }

  /// `turn/start`; its answer names the turn, so `interrupt_turn` can cancel it at once.
  pub(super) async fn app_server_turn(
    &self,
    s: &Arc<LiveSession>,
    thread: &str,
    text: &str,
  ) -> Result<()> {
    let result = s
      .request(
        "turn/start",
        app::turn_start_params(thread, text),
        self.request_timeout,
      )
      .await?;
    if let Some(turn) = app::turn_id(&result) {
      s.state().set_turn_id(turn);
    }
    Ok(())
  }

  /// One `codex exec` process: the prompt goes to its stdin, which is then closed (Codex
  /// reads `-` until EOF). A failed write means the process died; its exit says why.
  pub(super) async fn exec_turn(
    &self,
    s: &Arc<LiveSession>,
    how: &Continue,
    prompt: &str,
  ) -> Result<()> {
    let profile = self.exec_profile(s)?;
    let args = exec::args(&self.codex, how, profile.as_deref());
    self
      .spawn(s, args, Parser::CodexExec(Default::default()))
      .await?;
    let _ = s.write(prompt).await;
    s.close_stdin().await;
    Ok(())
  }

  /// The session's Codex profile for `codex exec`: its config (approval policy and `config`) in
  /// a 0600 file in the session's private directory, linked as
  /// `$CODEX_HOME/ocs-<session id>.config.toml` and named with `--profile`, so no value is on
  /// argv. Link and file go when the session ends. `None` when there is no config.
  fn exec_profile(&self, s: &Arc<LiveSession>) -> Result<Option<String>> {
    let Some(text) = exec::profile_toml(&self.codex)? else {
      return Ok(None);
    };
    let home = self.codex_home().ok_or_else(|| {
      Error::Spawn("cannot tell where CODEX_HOME is: set `codexHome`, CODEX_HOME or HOME".into())
    })?;
    let name = format!("ocs-{}", s.state().id());
    let link = home.join(format!("{name}.config.toml"));
    std::fs::create_dir_all(&home)
      .and_then(|()| {
        s.contained()
          .private_link("codex-profile.toml", &text, &link)
      })
      .map_err(|e| {
        Error::Spawn(format!(
          "cannot write the Codex profile {}: {e}",
          link.display()
        ))
      })?;
    Ok(Some(name))
  }

  /// Where the CLI keeps its state: `CODEX_HOME` as the child sees it, else `~/.codex`.
  fn codex_home(&self) -> Option<PathBuf> {
    match self.env_var("CODEX_HOME").filter(|h| !h.is_empty()) {
      Some(h) => Some(h.into()),
      None => self
        .env_var("HOME")
        .filter(|h| !h.is_empty())
        .map(|h| PathBuf::from(h).join(".codex")),
    }
  }
}
