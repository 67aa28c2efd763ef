//! The registry of sessions: validates and spawns them, enforces limits, finds them by id, name
//! or backend session id, and stops them. Everything a caller can do goes through here; the
//! per-session bookkeeping lives in `session`, the process pumping in `driver`.

mod ingest;
mod metrics;
mod notifications;
mod resume;
mod stats;

pub use ingest::RegisterOptions;

pub use crate::manager::stats::{ListFilter, Stats};
use crate::model::error::{Error, Result};
use crate::model::event::AgentEvent;
use crate::model::options::{Backend, ManagerOptions, SpawnOptions};
use crate::notify::delivery::Delivery;
use crate::notify::router::{Input as RouterInput, Router};
use crate::session::launch::Launch;
use crate::session::lifecycle::{self, stop_gracefully, stop_hard, Timeouts};
use crate::session::listeners::{Listener, Listeners};
use crate::session::live::{KeepAlive, LiveSession, PermissionPolicy, Persist};
use crate::session::{EndReason, Limits, NewSession, SessionInfo, SessionState, StopRequest};
use crate::store::{Store, Writer};
use nix::sys::signal::Signal;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// One registered session and how to start its processes.
pub(crate) struct Entry {
  pub(crate) live: Arc<LiveSession>,
  pub(crate) launch: Arc<Launch>,
}

/// The session manager.
pub struct Manager {
  pub(crate) opts: ManagerOptions,
  sessions: Arc<RwLock<Vec<Entry>>>,
  pub(crate) listeners: Arc<Listeners>,
  closed: AtomicBool,
  pub(crate) spawned: Arc<AtomicU64>,
  pub(crate) spawn_failures: AtomicU64,
  pub(crate) store: Arc<Store>,
  /// Writes session snapshots off the hot path.
  pub(crate) writer: Arc<Writer>,
  /// Monotonic counters for `metrics()`.
  pub(crate) counters: Arc<crate::model::counters::Counters>,
  /// Notification routing and delivery; `None` when created outside a tokio runtime.
  pub(crate) notifications: Option<(Router, Delivery)>,
}

/// How a new session relates to earlier ones, and what it starts with.
#[derive(Default)]
pub(crate) struct Plan {
  pub resumed_from_id: Option<String>,
  pub forked_from_id: Option<String>,
  /// The thread's tokens so far (Codex resume), so the first turn is a delta.
  pub thread_usage: Option<crate::model::event::Usage>,
  /// The summary carried over from the resumed session.
  pub summary: Vec<crate::session::SummaryTurn>,
  /// The first message; none: the session waits for `send`.
  pub prompt: Option<String>,
}

impl Manager {
  /// Opens the store, marks sessions a dead manager left live as `interrupted`
  /// (`manager-restart`) and kills their orphaned processes, then applies retention.
  /// Fails with `E_INVALID_ARGUMENT` on bad options, `E_STORE` on a store that cannot be used.
  pub fn new(opts: ManagerOptions) -> Result<Self> {
    opts.validate()?;
    let path = match &opts.store_path {
      Some(p) => p.clone(),
      None => crate::store::default_path().to_string_lossy().into_owned(),
    };
    let store = Arc::new(Store::open(&path)?);
    let writer = Arc::new(Writer::start(Arc::clone(&store))?);
    let sessions: Arc<RwLock<Vec<Entry>>> = Arc::new(RwLock::new(Vec::new()));
    let listeners = Arc::new(Listeners::default());
    store.set_reporter(store_reporter(&listeners));
    let counters = Arc::new(crate::model::counters::Counters::default());
    let observe = Arc::clone(&counters);
    listeners.subscribe(Arc::new(move |ev: &crate::model::event::Ev| {
      observe.observe(ev)
    }));
    let notifications = tokio::runtime::Handle::try_current().ok().map(|_| {
      crate::manager::notifications::start(&opts, &store, &sessions, &listeners, &counters)
    });
    let m = Manager {
      opts,
      sessions,
      listeners,
      closed: AtomicBool::new(false),
      spawned: Arc::new(AtomicU64::new(0)),
      spawn_failures: AtomicU64::new(0),
      store,
      writer,
      counters,
      notifications,
    };
    m.recover()?;
    m.gc()?;
    Ok(m)
  }

  pub fn options(&self) -> &ManagerOptions {
    &self.opts
  }

  fn all(&self) -> Vec<Arc<LiveSession>> {
    self.prune();
    self.read().iter().map(|e| Arc::clone(&e.live)).collect()
  }

  fn read(&self) -> std::sync::RwLockReadGuard<'_, Vec<Entry>> {
    self.sessions.read().unwrap_or_else(|e| e.into_inner())
  }

  fn write(&self) -> std::sync::RwLockWriteGuard<'_, Vec<Entry>> {
    self.sessions.write().unwrap_or_else(|e| e.into_inner())
  }

  /// Forgets sessions that ended more than `finishedTtlMs` ago.
  fn prune(&self) {
    let cutoff = crate::model::event::now_ms().saturating_sub(self.opts.finished_ttl_ms);
    let expired =
      |e: &Entry| e.live.is_done() && e.live.state().ended_at().is_some_and(|t| t <= cutoff);
    if self.read().iter().any(expired) {
      self.write().retain(|e| !expired(e));
    }
  }

  /// Finds a session by id, then name (newest first), then backend session id.
  pub(crate) fn find(&self, r: &str) -> Result<(Arc<LiveSession>, Arc<Launch>)> {
    self.prune();
    let list = self.read();
    let by =
      |pred: &dyn Fn(&SessionState) -> bool| list.iter().rev().find(|e| pred(&e.live.state()));
    by(&|st| st.id() == r)
      .or_else(|| by(&|st| st.name() == Some(r)))
      .or_else(|| by(&|st| st.backend_session_id() == r))
      .map(|e| (Arc::clone(&e.live), Arc::clone(&e.launch)))
      .ok_or_else(|| {
        Error::NotFound(format!(
          "no session with id, name or backend session id `{r}`; list() shows the known ones"
        ))
      })
  }

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
      if let Some(src) = self
        .lookup(from)?
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

  /// The one way sessions start (spawn, resume).
  pub(crate) async fn start(
    &self,
    opts: SpawnOptions,
    plan: Plan,
    keepalive: Option<KeepAlive>,
  ) -> Result<SessionInfo> {
    let backend = opts.validate()?;
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
    let backend_session_id = match backend {
      Backend::Claude => claude_id,
      // Known from the CLI: `thread/start`, `thread.started`; a plain resume keeps its id.
      Backend::Codex | Backend::CodexExec => match (&opts.resume, opts.fork) {
        (Some(id), false) => id.clone(),
        _ => String::new(),
      },
    };
    let limits = Limits {
      event_log: self.opts.event_log_limit as usize,
      output_lines: self.opts.output_lines as usize,
      stderr_lines: self.opts.stderr_lines as usize,
    };
    let mut state = SessionState::new(
      NewSession {
        id: uuid::Uuid::new_v4().to_string(),
        name: opts.name.clone(),
        backend,
        backend_session_id,
        workdir: opts.workdir.clone(),
        model: opts.model.clone(),
        first_prompt: plan.prompt.clone().unwrap_or_default(),
        origin: opts.origin.clone(),
        resumed_from_id: plan.resumed_from_id.clone(),
        forked_from_id: plan.forked_from_id.clone(),
      },
      limits,
    );
    if let Some(total) = plan.thread_usage {
      state.set_thread_usage(total);
    }
    state.set_summary(plan.summary.clone());
    state.set_max_budget(opts.max_budget_usd);
    let permissions = PermissionPolicy {
      default_allow: self.opts.permission_policy == "allow",
      timeout: Duration::from_millis(self.opts.permission_timeout_ms as u64),
    };
    let session = LiveSession::new(state, Arc::clone(&self.listeners), keepalive, permissions);
    self.reserve(&session, &launch, opts.name.as_deref())?;
    session.persist_to(Persist {
      writer: Arc::clone(&self.writer),
      options: resumable_options(&opts),
    });
    if let Some((router, _)) = &self.notifications {
      let st = session.state();
      router.send(RouterInput::Started {
        id: st.id().to_owned(),
        name: opts.name.clone(),
        workdir: opts.workdir.clone(),
        origin_channel: opts.origin.as_ref().and_then(|o| o.channel.clone()),
      });
    }
    session.update(|st| ((), vec![st.started()]));
    match launch.first_turn(&session, plan.prompt.as_deref()).await {
      Ok(()) => {
        {
          let st = session.state();
          tracing::info!(
            session = %st.id(),
            backend = backend.as_str(),
            backend_session_id = %st.backend_session_id(),
            pid = st.info().pid.unwrap_or(0),
            "session started"
          );
        }
        lifecycle::watch(Arc::clone(&session), Arc::clone(&launch), self.timeouts());
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
      Err(e) => {
        if matches!(e, Error::Spawn(_)) {
          self.spawn_failures.fetch_add(1, Ordering::Relaxed);
        }
        tracing::warn!(code = e.code(), error = %e, "session could not start");
        // Nothing is left behind: the process (if any) is killed and reaped. A session the
        // caller stopped while it started stays listed as stopped; any other is forgotten.
        let stopped = session.state().stop_request().is_some();
        stop_hard(&session, EndReason::User);
        session.wait_done().await;
        if stopped {
          let status = session.state().status();
          return Err(Error::State(format!(
            "the session was stopped while starting (it is {}): {e}",
            status.as_str()
          )));
        }
        self.write().retain(|e| !Arc::ptr_eq(&e.live, &session));
        let _ = self.store.delete(session.state().id());
        Err(e)
      }
    }
  }

  fn timeouts(&self) -> Timeouts {
    let on = |ms: u64| (ms > 0).then(|| Duration::from_millis(ms));
    Timeouts {
      startup: on(self.opts.startup_timeout_ms as u64),
      idle: on(self.opts.idle_timeout_ms),
      turn: on(self.opts.turn_timeout_ms),
      memory_bytes: (self.opts.memory_limit_mb > 0)
        .then(|| self.opts.memory_limit_mb as u64 * 1024 * 1024),
      grace: Duration::from_millis(self.opts.interrupt_grace_ms as u64),
    }
  }

  /// Registers a new session, atomically with the limit and name checks.
  pub(crate) fn reserve(
    &self,
    session: &Arc<LiveSession>,
    launch: &Arc<Launch>,
    name: Option<&str>,
  ) -> Result<()> {
    let mut list = self.write();
    if self.closed.load(Ordering::SeqCst) {
      return Err(Error::State(
        "the manager is shut down; create a new SessionManager".into(),
      ));
    }
    let live: Vec<_> = list
      .iter()
      .filter(|e| !e.live.state().status().is_terminal())
      .collect();
    if let Some(name) = name {
      if live.iter().any(|e| e.live.state().name() == Some(name)) {
        return Err(Error::InvalidArgument(format!(
          "a live session is already named `{name}`; pick another name"
        )));
      }
    }
    if live.len() >= self.opts.max_sessions as usize {
      return Err(Error::Limit(format!(
        "{} live sessions already (maxSessions = {}); close or kill one first",
        live.len(),
        self.opts.max_sessions
      )));
    }
    list.push(Entry {
      live: Arc::clone(session),
      launch: Arc::clone(launch),
    });
    Ok(())
  }

  /// Sends the next user message. `E_STATE` unless the session is `waiting-for-input`.
  /// `user_initiated: false` marks an automatic reply: at most `maxAutoResponds` in a row
  /// (`E_AUTO_RESPOND_LIMIT` after, with an `auto-respond-limit` event); a user's message
  /// resets the count.
  pub async fn send(&self, r: &str, text: &str, user_initiated: bool) -> Result<SessionInfo> {
    if text.trim().is_empty() {
      return Err(Error::InvalidArgument("message text is empty".into()));
    }
    let (s, launch) = match self.find(r) {
      Ok(found) => found,
      Err(e) => {
        let info = self.stored_finished(r, e)?;
        return Err(Error::State(format!(
          "session `{r}` is {}; resume it to continue the conversation",
          info.status.as_str()
        )));
      }
    };
    if s.state().is_external() {
      return Err(Error::State(format!(
        "session `{r}` is driven by its owner (registered for ingest); send through it"
      )));
    }
    let max = self.opts.max_auto_responds;
    s.update(|st| {
      if !user_initiated {
        if let Err(count) = st.count_auto_respond(max) {
          let ev = st.record(crate::model::event::EventPayload::AutoRespondLimit { count, max });
          return (
            Err(Error::AutoRespondLimit(format!(
              "session `{}` got {count} automatic messages in a row (maxAutoResponds = {max}); \
               a user-initiated message resets the count",
              st.id()
            ))),
            vec![ev],
          );
        }
      }
      if st.has_pending_permissions() {
        return (
          Err(Error::State(format!(
            "session `{}` waits for a permission decision; answer it with respondToPermission",
            st.id()
          ))),
          vec![],
        );
      }
      match st.begin_turn(text) {
        Ok(ev) => {
          if user_initiated {
            st.reset_auto_responds();
          }
          (Ok(()), ev.into_iter().collect())
        }
        Err(status) => (
          Err(Error::State(format!(
            "session `{}` is {}, not waiting-for-input; wait for the turn to end",
            st.id(),
            status.as_str()
          ))),
          vec![],
        ),
      }
    })?;
    let sent = launch.next_turn(&s, text).await;
    if s.is_done() {
      // Stopped while the turn was being started: nothing may outlive the session.
      s.signal(Signal::SIGKILL);
    }
    if let Err(e) = sent {
      // The turn never started; a session with no process left cannot go on.
      if !s.has_process() && !s.is_done() {
        s.update(|st| {
          let ev = st.protocol_error(e.to_string());
          (
            (),
            std::iter::once(ev).chain(st.exited(None, None)).collect(),
          )
        });
      }
      return Err(e);
    }
    if let Some((router, _)) = &self.notifications {
      router.send(RouterInput::Sent {
        id: s.state().id().to_owned(),
        text: text.to_owned(),
        user_initiated,
      });
    }
    let info = s.state().info();
    Ok(info)
  }

  /// Cancels the running turn only; the session goes on (`waiting-for-input` once the CLI
  /// ends the turn, which it reports as interrupted). When no turn runs, nothing happens and
  /// the snapshot is returned as is.
  pub async fn interrupt_turn(&self, r: &str) -> Result<SessionInfo> {
    let (s, launch) = match self.find(r) {
      Ok(found) => found,
      Err(e) => return self.stored_finished(r, e),
    };
    if s.state().is_external() {
      return Err(Error::State(format!(
        "session `{r}` is driven by its owner (registered for ingest); interrupt it there"
      )));
    }
    if s.state().request_turn_interrupt() {
      launch.interrupt_turn(&s).await?;
    }
    let info = s.state().info();
    Ok(info)
  }

  /// Ends the conversation: stdin EOF, then waits for the CLI to exit (`completed` on exit 0).
  /// After `closeTimeoutMs` the process group is killed. A `codex-exec` session between turns
  /// completes at once. A finished session is returned as is.
  pub async fn close(&self, r: &str) -> Result<SessionInfo> {
    let (s, _) = match self.find(r) {
      Ok(found) => found,
      Err(e) => return self.stored_finished(r, e),
    };
    if s.is_done() {
      return Ok(s.state().info());
    }
    s.state().request_stop(StopRequest::Close);
    if !s.end_without_process() {
      s.close_stdin().await;
      let wait = Duration::from_millis(self.opts.close_timeout_ms as u64);
      if tokio::time::timeout(wait, s.wait_done()).await.is_err() {
        s.signal(Signal::SIGKILL);
        s.wait_done().await;
      }
    }
    self.writer.flush().await?;
    let info = s.state().info();
    Ok(info)
  }

  /// Graceful stop → `interrupted` (resumable): the protocol's interrupt (Claude control
  /// request, Codex `turn/interrupt`, codex-exec SIGINT), stdin EOF, SIGINT to the process group
  /// at half the grace period, SIGKILL when it expires (`forcedStop` records that). A session
  /// between `codex-exec` turns stops at once. A finished session is returned as is (its status
  /// says it was not interrupted).
  pub async fn interrupt(&self, r: &str, grace: Option<Duration>) -> Result<SessionInfo> {
    let (s, launch) = match self.find(r) {
      Ok(found) => found,
      Err(e) => return self.stored_finished(r, e),
    };
    let grace = grace.unwrap_or(Duration::from_millis(self.opts.interrupt_grace_ms as u64));
    stop_gracefully(&s, &launch, EndReason::User, grace).await;
    self.writer.flush().await?;
    let info = s.state().info();
    Ok(info)
  }

  /// Hard stop: SIGKILL to the whole process group; resolves once reaped (`killed`).
  /// A finished session is returned as is.
  pub async fn kill(&self, r: &str) -> Result<SessionInfo> {
    let (s, _) = match self.find(r) {
      Ok(found) => found,
      Err(e) => return self.stored_finished(r, e),
    };
    stop_hard(&s, EndReason::User);
    s.wait_done().await;
    self.writer.flush().await?;
    let info = s.state().info();
    Ok(info)
  }

  /// The live session `r` as the store would hold it now.
  pub(crate) fn live_snapshot(&self, r: &str) -> Result<crate::store::StoredSession> {
    let (s, _) = self.find(r)?;
    let st = s.state();
    Ok(crate::store::StoredSession {
      info: st.info(),
      summary: st.summary(),
      options: serde_json::Value::Null,
      thread_usage: st.thread_usage(),
      pid_start: st.pid_start(),
    })
    .map(|mut stored| {
      stored.options = s.stored_options();
      stored
    })
  }

  /// Snapshots of the sessions held in memory.
  pub(crate) fn live_infos(&self) -> Vec<SessionInfo> {
    self.all().iter().map(|s| s.state().info()).collect()
  }

  /// For operations on a session this manager does not run: the stored one's snapshot if it
  /// is finished (a no-op), else `E_NOT_FOUND`.
  fn stored_finished(&self, r: &str, e: Error) -> Result<SessionInfo> {
    match self.store.find(r)? {
      Some(s) if s.info.status.is_terminal() => Ok(s.info),
      _ => Err(e),
    }
  }

  /// The last `lines` lines of assistant text (default: all kept).
  pub fn output(&self, r: &str, lines: Option<u32>) -> Result<Vec<String>> {
    let n = lines.map(|n| n as usize).unwrap_or(usize::MAX);
    Ok(self.find(r)?.0.state().output(n))
  }

  /// Logged events after `since_seq`, optionally of the given kinds.
  pub fn events(&self, r: &str, since_seq: u64, kinds: &[String]) -> Result<Vec<AgentEvent>> {
    let events = self.find(r)?.0.state().events(since_seq, kinds);
    Ok(events.iter().map(|e| AgentEvent::clone(e)).collect())
  }

  /// Adds an event listener (all sessions); returns its id.
  pub fn subscribe(&self, f: Listener) -> u64 {
    self.listeners.subscribe(f)
  }

  /// Removes a listener; false if it was already removed.
  pub fn unsubscribe(&self, id: u64) -> bool {
    self.listeners.unsubscribe(id)
  }

  /// Refuses new sessions and stops every live one gracefully (as `interrupt`, `endReason:
  /// shutdown`, SIGKILL after `grace`); resolves once all are reaped.
  pub async fn shutdown(&self, grace: Option<Duration>) -> Stats {
    self.closed.store(true, Ordering::SeqCst);
    let grace = grace.unwrap_or(Duration::from_millis(self.opts.interrupt_grace_ms as u64));
    let live: Vec<_> = {
      self.prune();
      self
        .read()
        .iter()
        .filter(|e| !e.live.is_done())
        .map(|e| (Arc::clone(&e.live), Arc::clone(&e.launch)))
        .collect()
    };
    let mut stops = tokio::task::JoinSet::new();
    for (s, launch) in live {
      stops.spawn(async move { stop_gracefully(&s, &launch, EndReason::Shutdown, grace).await });
    }
    while stops.join_next().await.is_some() {}
    // A failure here was reported (error events, E_STORE log) and is retried by the writer.
    let _ = self.writer.flush().await;
    self.stats()
  }

  /// Synchronous last resort (e.g. the host is exiting): SIGKILL to every live process group.
  pub fn kill_all_now(&self) {
    self.closed.store(true, Ordering::SeqCst);
    for s in self.all() {
      stop_hard(&s, EndReason::Shutdown);
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

/// Store problems outside any session (a damaged file moved aside, the file deleted while in
/// use, an undecodable row) as `error` events with an empty `sessionId`.
fn store_reporter(listeners: &Arc<Listeners>) -> crate::store::Reporter {
  let listeners = Arc::downgrade(listeners);
  Arc::new(move |e: &Error| {
    if let Some(l) = listeners.upgrade() {
      l.emit(&crate::model::event::Ev::new(AgentEvent {
        seq: 0,
        session_id: "".into(),
        at: crate::model::event::now_ms(),
        payload: crate::model::event::EventPayload::Error {
          message: format!("[{}] {e}", e.code()),
          fatal: false,
        },
      }));
    }
  })
}
