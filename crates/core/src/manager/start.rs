//! How sessions start: `spawn` (and `resume`, through `start`) validate the options, prepare
//! the backend's launch, admit the session and run its first turn; `register` admits a session
//! whose process the caller owns. Both go through `admit`.

use crate::manager::Manager;
use crate::model::error::{Error, Result};
use crate::model::options::{self, Backend, SpawnOptions};
use crate::notify::router::Input as RouterInput;
use crate::session::launch::Launch;
use crate::session::lifecycle::{self, stop_hard, Timeouts};
use crate::session::live::{KeepAlive, LiveSession, PermissionPolicy, Persist};
use crate::session::{EndReason, Limits, NewSession, SessionInfo, SessionState, SummaryTurn};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// How a new session relates to earlier ones, and what it starts with.
#[derive(Default)]
pub(crate) struct Plan {
  pub resumed_from_id: Option<String>,
  pub forked_from_id: Option<String>,
  /// The thread's tokens so far (Codex resume), so the first turn is a delta.
  pub thread_usage: Option<crate::model::event::Usage>,
  /// The summary carried over from the resumed session.
  pub summary: Vec<SummaryTurn>,
  /// The first message; none: the session waits for `send`.
  pub prompt: Option<String>,
}

/// A session about to be admitted.
pub(crate) struct Admission<'a> {
  pub state: SessionState,
  /// What is persisted for a later resume (see [`resumable_options`]).
  pub options: &'a SpawnOptions,
  pub launch: Arc<Launch>,
  pub keepalive: Option<KeepAlive>,
  /// The answer to an unanswered permission request.
  pub default_allow: bool,
}

impl Manager {
  /// Starts a session: validates `opts`, spawns the CLI and sends the first prompt. Resolves
  /// once the backend session id is known (see `Launch::first_turn`). With `resume`, the
  /// conversation is checked first (`E_RESUME_NOT_FOUND`) and the new session is linked to
  /// the one it continues, when this store knows it.
  pub async fn spawn(
    &self,
    opts: SpawnOptions,
    keepalive: Option<KeepAlive>,
  ) -> Result<SessionInfo> {
    let mut plan = Plan {
      prompt: Some(opts.prompt.clone()),
      ..Plan::default()
    };
    if let Some(from) = &opts.resume {
      self.refuse_live_resume(from, opts.fork)?;
      if let Some(src) = self
        .lookup_async(from)
        .await?
        .filter(|s| s.info.backend_session_id == *from)
      {
        if opts.fork {
          plan.forked_from_id = Some(src.info.id);
        } else {
          plan.resumed_from_id = Some(src.info.id);
        }
        plan.thread_usage = Some(src.thread_usage);
        plan.summary = src.summary;
      }
    }
    self.start(opts, plan, keepalive).await
  }

  /// `E_STATE` when a live session of this manager runs the conversation `backend_id` and
  /// `fork` is off: two processes on one conversation would make its history diverge.
  fn refuse_live_resume(&self, backend_id: &str, fork: bool) -> Result<()> {
    if fork {
      return Ok(());
    }
    let live = self
      .live_infos()
      .into_iter()
      .find(|i| !i.status.is_terminal() && i.backend_session_id == backend_id);
    match live {
      Some(i) => Err(Error::State(format!(
        "session `{}` is {} on conversation `{backend_id}`: send to it, or resume with fork for a copy",
        i.id,
        i.status.as_str()
      ))),
      None => Ok(()),
    }
  }

  /// The one way sessions with a process of ours start (spawn, resume).
  pub(crate) async fn start(
    &self,
    opts: SpawnOptions,
    plan: Plan,
    keepalive: Option<KeepAlive>,
  ) -> Result<SessionInfo> {
    let backend = opts.validate()?;
    if let Some(p) = &plan.prompt {
      self.opts.check_prompt("the prompt", p)?;
    }
    self.opts.check_prompt("the prompt", &opts.prompt)?;
    let claude_id = match (&opts.resume, opts.fork) {
      (Some(id), false) => id.clone(),
      _ => uuid::Uuid::new_v4().to_string(),
    };
    let launch = Arc::new(Launch::prepare(
      &self.opts,
      &opts,
      backend,
      &claude_id,
      Arc::clone(&self.spawned),
    )?);
    launch.verify_resumable()?;
    let state = self.planned_state(&opts, backend, claude_id, &plan);
    // At the limit with `onLimit: 'evict-idle'`: the idlest waiting session makes room.
    let room = self.make_room().await?;
    let session = self.admit(Admission {
      state,
      options: &opts,
      launch: Arc::clone(&launch),
      keepalive,
      default_allow: self.opts.permission_policy == options::PermissionPolicy::Allow,
    })?;
    drop(room);
    match launch.first_turn(&session, plan.prompt.as_deref()).await {
      // Stopped (and over) before the start finished: the caller hears it as `not_started`.
      Ok(()) if session.is_done() && session.state().stop_request().is_some() => {
        let e = Error::State("the start did not finish".into());
        Err(self.not_started(&session, e).await)
      }
      Ok(()) => self.started(&session, &launch).await,
      Err(e) => Err(self.not_started(&session, e).await),
    }
  }

  /// The new session's state: its ids, where it came from and what it carries over.
  fn planned_state(
    &self,
    opts: &SpawnOptions,
    backend: Backend,
    claude_id: String,
    plan: &Plan,
  ) -> SessionState {
    let backend_session_id = match backend {
      Backend::Claude => claude_id,
      // Known from the CLI: `thread/start`, `thread.started`; a plain resume keeps its id.
      Backend::Codex | Backend::CodexExec => match (&opts.resume, opts.fork) {
        (Some(id), false) => id.clone(),
        _ => String::new(),
      },
    };
    let mut state = self.new_state(NewSession {
      id: uuid::Uuid::new_v4().to_string(),
      name: opts.name.clone(),
      backend,
      backend_session_id,
      workdir: opts.workdir.clone(),
      model: opts.model.clone(),
      first_prompt: plan.prompt.clone().unwrap_or_default(),
      origin: opts.origin_with_owner(),
      resumed_from_id: plan.resumed_from_id.clone(),
      forked_from_id: plan.forked_from_id.clone(),
    });
    if let Some(total) = plan.thread_usage {
      state.set_thread_usage(total);
    }
    state.set_summary(plan.summary.clone());
    if backend != Backend::Claude {
      state.set_prices(Arc::clone(&self.prices));
    }
    if let Some(m) = &opts.metadata {
      state.set_metadata(m.clone());
    }
    state.set_max_budget(opts.max_budget_usd);
    state.set_recovery(opts.recovery.clone().or_else(|| self.opts.recovery.clone()));
    state
  }

  /// A session's state with this manager's history limits.
  pub(crate) fn new_state(&self, n: NewSession) -> SessionState {
    SessionState::new(
      n,
      Limits {
        event_log: self.opts.event_log_limit as usize,
        output_lines: self.opts.output_lines as usize,
        stderr_lines: self.opts.stderr_lines as usize,
      },
    )
  }

  /// The one admission path (spawn, resume, register): registers the session under the
  /// limits, persists it, tells the router and records `started`.
  pub(crate) fn admit(&self, a: Admission<'_>) -> Result<Arc<LiveSession>> {
    let permissions = PermissionPolicy {
      default_allow: a.default_allow,
      timeout: Duration::from_millis(self.opts.permission_timeout_ms),
    };
    let session = LiveSession::new(
      a.state,
      Arc::clone(&self.listeners),
      a.keepalive,
      permissions,
    );
    self.registry.admit(&session, &a.launch)?;
    session.persist_to(Persist {
      writer: Arc::clone(&self.writer),
      options: resumable_options(a.options),
    });
    if let Some((router, _)) = &self.notifications {
      router.send(RouterInput::Started {
        id: session.state().id().to_owned(),
        name: a.options.name.clone(),
        workdir: a.options.workdir.clone(),
        origin_channel: a.options.origin.as_ref().and_then(|o| o.channel.clone()),
      });
    }
    session.update(|st| ((), vec![st.started()]));
    Ok(session)
  }

  /// The first turn is under way: watch the session and make it durable.
  async fn started(&self, session: &Arc<LiveSession>, launch: &Arc<Launch>) -> Result<SessionInfo> {
    {
      let st = session.state();
      tracing::info!(
        session = %st.id(),
        backend = st.backend().as_str(),
        backend_session_id = %st.backend_session_id(),
        pid = st.info().pid.unwrap_or(0),
        "session started"
      );
    }
    lifecycle::watch(Arc::clone(session), Arc::clone(launch), self.timeouts());
    // A started session is on disk before spawn resolves (E_STORE if it cannot be: it
    // runs on, and is written once the store is back).
    self.writer.flush().await?;
    // Retention as the store grows (never touches live sessions), on the writer thread.
    self.store.gc_later(
      self.opts.max_persisted_sessions as u64,
      self.opts.max_persisted_age_ms,
    );
    let info = session.state().info();
    Ok(info)
  }

  /// The session could not start: nothing is left behind (the process, if any, is killed
  /// and reaped). A session the caller stopped while it started stays listed as stopped;
  /// any other is forgotten. Returns the error to reject with.
  async fn not_started(&self, session: &Arc<LiveSession>, e: Error) -> Error {
    if matches!(e, Error::Spawn(_)) {
      self.spawn_failures.fetch_add(1, Ordering::Relaxed);
    }
    tracing::warn!(code = e.code(), error = %e, "session could not start");
    let stopped = session.state().stop_request().is_some();
    if !stopped {
      stop_hard(session, EndReason::User);
    }
    // A stop the caller asked for ends the process its own way (`close` waits for the CLI to
    // exit and kills it after `closeTimeoutMs`, `interrupt` escalates to SIGKILL after its
    // grace): its end, not ours, is the session's.
    session.wait_done().await;
    if stopped {
      let status = session.state().status();
      return Error::State(format!(
        "the session was stopped while starting (it is {}): {e}",
        status.as_str()
      ));
    }
    self.registry.remove(session);
    let _ = self.store.delete(session.state().id());
    e
  }

  pub(crate) fn timeouts(&self) -> Timeouts {
    let on = |ms: u64| (ms > 0).then(|| Duration::from_millis(ms));
    Timeouts {
      startup: on(self.opts.startup_timeout_ms),
      idle: on(self.opts.idle_timeout_ms),
      turn: on(self.opts.turn_timeout_ms),
      memory_bytes: (self.opts.memory_limit_mb > 0)
        .then(|| self.opts.memory_limit_mb as u64 * 1024 * 1024),
      grace: Duration::from_millis(self.opts.interrupt_grace_ms),
    }
  }
}

/// The spawn options a resume needs: everything but the prompt and the environment (which
/// may hold secrets and is not written to disk).
pub(crate) fn resumable_options(o: &SpawnOptions) -> serde_json::Value {
  let mut v = serde_json::to_value(o).unwrap_or_default();
  if let Some(map) = v.as_object_mut() {
    for key in ["prompt", "env", "resume", "fork", "name"] {
      map.remove(key);
    }
  }
  v
}
