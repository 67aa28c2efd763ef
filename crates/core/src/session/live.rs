//! A live session: its state behind a lock, the current child's stdin, the task that pumps the
//! child's output into the state machine until the process is reaped, and JSON-RPC request
//! matching for backends that speak it. Owns processes from spawn to reap; decides nothing
//! about statuses itself (that is `session`).

use crate::model::error::{Error, Result};
use crate::model::event::{Ev, EventPayload};
use crate::model::options::Backend;
use crate::process::{signal_group, Line, LineReader};
use crate::protocol::{
  claude, codex::app_server as rpc, Inbound, Parser, PermissionAnswer, RpcError,
};
use crate::session::listeners::Listeners;
use crate::session::reader::{read_and_parse, Parsed, PARSED_BACKLOG};
use crate::session::{SessionState, TurnOutcome};
use crate::store::{StoredSession, Writer};
use nix::sys::signal::Signal;
use serde_json::Value;
use std::any::Any;
use std::collections::HashMap;
use std::os::unix::process::ExitStatusExt;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::process::{Child, ChildStdin};
use tokio::sync::{oneshot, watch};

/// How long output is still read after the CLI exited (a grandchild may hold the pipe).
const DRAIN_AFTER_EXIT: Duration = Duration::from_secs(2);

/// Something kept alive while the session is live (the binding's handle that keeps Node's
/// event loop running); dropped when the session reaches a terminal status.
pub(crate) type KeepAlive = Box<dyn Any + Send>;

/// How unanswered permission requests are answered.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PermissionPolicy {
  pub default_allow: bool,
  pub timeout: Duration,
}

type Pending = HashMap<u64, oneshot::Sender<std::result::Result<Value, RpcError>>>;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
  m.lock().unwrap_or_else(|e| e.into_inner())
}

/// One session and, while one runs, its process.
///
/// Lock order: `pgid` before `state` (e.g. `end_without_process`, `start`); never take `pgid`
/// while holding `state`. The manager's registry lock comes before both.
pub(crate) struct LiveSession {
  state: Mutex<SessionState>,
  stdin: tokio::sync::Mutex<Option<ChildStdin>>,
  /// The process group id while a process runs and is not reaped.
  pgid: Mutex<Option<u32>>,
  /// Bumped on every state change; `wait_until` watches it. Receivers are woken only while
  /// there are any (most of the time none: every output line changes the state).
  version: watch::Sender<u64>,
  /// Bumped on status changes and turn ends only; the watchdog watches it.
  milestones: watch::Sender<u64>,
  done: watch::Sender<bool>,
  listeners: Arc<Listeners>,
  keepalive: Mutex<Option<KeepAlive>>,
  next_request: Mutex<u64>,
  pending: Mutex<Pending>,
  permissions: PermissionPolicy,
  persist: OnceLock<Persist>,
  /// Changed since the writer last took a snapshot.
  dirty: std::sync::atomic::AtomicBool,
  /// This session, for handing itself to the store's writer.
  me: std::sync::Weak<LiveSession>,
}

/// Where and with what the session's snapshots are stored.
pub(crate) struct Persist {
  pub writer: Arc<Writer>,
  /// The spawn options to resume with (no prompt, no env).
  pub options: Value,
}

impl LiveSession {
  pub(crate) fn new(
    state: SessionState,
    listeners: Arc<Listeners>,
    keepalive: Option<KeepAlive>,
    permissions: PermissionPolicy,
  ) -> Arc<Self> {
    Arc::new_cyclic(|me| LiveSession {
      state: Mutex::new(state),
      stdin: tokio::sync::Mutex::new(None),
      pgid: Mutex::new(None),
      version: watch::channel(0).0,
      milestones: watch::channel(0).0,
      done: watch::channel(false).0,
      listeners,
      keepalive: Mutex::new(keepalive),
      next_request: Mutex::new(0),
      pending: Mutex::new(HashMap::new()),
      permissions,
      persist: OnceLock::new(),
      dirty: std::sync::atomic::AtomicBool::new(false),
      me: me.clone(),
    })
  }

  /// Stores this session from now on: at once, then on every status change and turn end.
  pub(crate) fn persist_to(&self, p: Persist) {
    let _ = self.persist.set(p);
    self.update(|st| {
      self.write_snapshot(st);
      ((), Vec::new())
    });
  }

  /// The options stored for resuming this session.
  pub(crate) fn stored_options(&self) -> Value {
    self
      .persist
      .get()
      .map(|p| p.options.clone())
      .unwrap_or(Value::Null)
  }

  /// Marks the session changed and hands it to the store's writer once; the writer takes the
  /// latest snapshot when it writes (a failed write is logged; the session goes on).
  fn write_snapshot(&self, st: &SessionState) {
    let Some(p) = self.persist.get() else { return };
    let urgent = st.status().is_terminal();
    if !self.dirty.swap(true, std::sync::atomic::Ordering::AcqRel) || urgent {
      if let Some(me) = self.me.upgrade() {
        p.writer.changed(me, urgent);
      }
    }
  }

  /// The state, for reading. Never hold it across an await.
  pub(crate) fn state(&self) -> MutexGuard<'_, SessionState> {
    lock(&self.state)
  }

  /// Runs `f` on the state and publishes the events it returns, under the lock (ordering).
  pub(crate) fn update<R>(&self, f: impl FnOnce(&mut SessionState) -> (R, Vec<Ev>)) -> R {
    let r = {
      let mut st = self.state();
      let (r, events) = f(&mut st);
      // Stored on status changes, turn ends, and when the CLI told its session id (not on
      // every `init`: Claude sends one per turn).
      let id_changed = st.take_backend_id_changed();
      let milestone = id_changed
        || events.iter().any(|e| {
          matches!(
            e.payload,
            EventPayload::Status { .. } | EventPayload::TurnCompleted { .. }
          )
        });
      if milestone {
        self.write_snapshot(&st);
      }
      for ev in &events {
        self.listeners.emit(ev);
      }
      (r, milestone)
    };
    let (r, milestone) = r;
    // A waiter subscribes before it reads the state (under the lock this update held), so
    // one that could miss this change is already counted here; with none, nothing to do.
    if self.version.receiver_count() > 0 {
      self.version.send_modify(|v| *v += 1);
    }
    if milestone {
      self.milestones.send_modify(|v| *v += 1);
    }
    r
  }

  /// A receiver that changes on every status change and turn end.
  pub(crate) fn subscribe_milestones(&self) -> watch::Receiver<u64> {
    self.milestones.subscribe()
  }

  /// The resident memory of the session's process group in bytes, from `/proc` (Linux);
  /// `None` without a running process.
  pub(crate) fn group_rss(&self) -> Option<u64> {
    let pgid = (*lock(&self.pgid))?;
    Some(crate::process::group_rss(pgid))
  }

  /// Waits until `pred` holds for the state, or `timeout` passes (false). `pred` runs under
  /// the state lock: it must not take another lock of this session (lock order: the
  /// process-group lock `pgid` before the state lock, never the reverse).
  pub(crate) async fn wait_until(
    &self,
    timeout: Duration,
    pred: impl Fn(&SessionState) -> bool,
  ) -> bool {
    let mut rx = self.version.subscribe();
    let wait = async {
      loop {
        if pred(&self.state()) {
          return;
        }
        if rx.changed().await.is_err() {
          return;
        }
      }
    };
    tokio::time::timeout(timeout, wait).await.is_ok() && pred(&self.state())
  }

  /// Writes one line to the child's stdin. Fails when stdin is closed or the pipe broke.
  pub(crate) async fn write(&self, line: &str) -> std::io::Result<()> {
    let mut guard = self.stdin.lock().await;
    let stdin = guard
      .as_mut()
      .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "stdin is closed"))?;
    stdin.write_all(line.as_bytes()).await?;
    stdin.flush().await
  }

  /// Closes the child's stdin (EOF): the CLI ends once queued turns finish.
  pub(crate) async fn close_stdin(&self) {
    self.stdin.lock().await.take();
  }

  /// Sends a JSON-RPC request and waits for its response (`E_TIMEOUT` after `timeout`,
  /// `E_PROTOCOL` when the CLI answers with an error or exits first).
  pub(crate) async fn request(
    &self,
    method: &str,
    params: Value,
    timeout: Duration,
  ) -> Result<Value> {
    let id = {
      let mut n = lock(&self.next_request);
      let id = *n;
      *n += 1;
      id
    };
    let (tx, rx) = oneshot::channel();
    lock(&self.pending).insert(id, tx);
    if let Err(e) = self.write(&rpc::request(id, method, params)).await {
      lock(&self.pending).remove(&id);
      return Err(Error::Protocol(format!("cannot send `{method}`: {e}")));
    }
    match tokio::time::timeout(timeout, rx).await {
      Ok(Ok(Ok(v))) => Ok(v),
      Ok(Ok(Err(e))) => Err(Error::Protocol(format!(
        "`{method}` failed: {} (code {})",
        e.message, e.code
      ))),
      Ok(Err(_)) => Err(Error::Protocol(format!(
        "the CLI exited before answering `{method}`"
      ))),
      Err(_) => {
        lock(&self.pending).remove(&id);
        Err(Error::Timeout(format!(
          "no answer to `{method}` within {} ms",
          timeout.as_millis()
        )))
      }
    }
  }

  /// Sends a JSON-RPC notification.
  pub(crate) async fn notify(&self, method: &str) -> Result<()> {
    self
      .write(&rpc::notification(method))
      .await
      .map_err(|e| Error::Protocol(format!("cannot send `{method}`: {e}")))
  }

  /// Signals the whole process group; false when no process is running.
  pub(crate) fn signal(&self, sig: Signal) -> bool {
    match *lock(&self.pgid) {
      Some(pgid) => signal_group(pgid, sig),
      None => false,
    }
  }

  /// Whether a process is running now.
  pub(crate) fn has_process(&self) -> bool {
    lock(&self.pgid).is_some()
  }

  /// Whether the session reached its terminal status (and no process is left).
  pub(crate) fn is_done(&self) -> bool {
    *self.done.borrow()
  }

  /// Waits until the session is done.
  pub(crate) async fn wait_done(&self) {
    let mut rx = self.done.subscribe();
    let _ = rx.wait_for(|d| *d).await;
  }

  /// The session is over: wake waiters and let go of the keep-alive.
  fn finish(&self) {
    lock(&self.keepalive).take();
    self.done.send_replace(true);
  }

  /// Ends a session that has no process, per its stop request (see
  /// `SessionState::ended_without_process`). Returns false if a process is running after all.
  pub(crate) fn end_without_process(&self) -> bool {
    let pgid = lock(&self.pgid);
    if pgid.is_some() || self.is_done() {
      return pgid.is_none();
    }
    self.update(|st| ((), st.ended_without_process()));
    drop(pgid);
    self.finish();
    true
  }

  /// Ends a session whose process the caller owns (`ingest`): the status follows from what
  /// was ingested (a failed model call → `failed`) or the stop request.
  pub(crate) fn end_external(&self) {
    if self.is_done() {
      return;
    }
    self.update(|st| {
      let evs = if st.stop_request().is_some() {
        st.ended_without_process()
      } else {
        st.exited(None, None)
      };
      ((), evs)
    });
    self.finish();
  }

  /// Takes ownership of a spawned child and starts pumping its output with `parser`.
  /// Returns false, with the child's process group killed and reaped, when the session was
  /// stopped while the process started: nothing outlives a session that reports its end.
  /// Atomic with `end_without_process` (both decide under the process-group lock).
  pub(crate) fn start(self: &Arc<Self>, mut child: Child, parser: Parser, line_cap: usize) -> bool {
    let pid = child.id().unwrap_or(0);
    {
      let mut pgid = lock(&self.pgid);
      if self.state().status().is_terminal() {
        drop(pgid);
        signal_group(pid, Signal::SIGKILL);
        tokio::spawn(async move {
          let _ = child.wait().await;
        });
        return false;
      }
      *pgid = Some(pid);
    }
    // Stored with its start time, so a later manager can tell this process from a reused pid.
    self.update(|st| {
      st.set_pid(pid);
      self.write_snapshot(st);
      ((), Vec::new())
    });
    if let Some(stdin) = child.stdin.take() {
      // Not contended: the previous process (if any) is reaped and its stdin dropped.
      if let Ok(mut guard) = self.stdin.try_lock() {
        *guard = Some(stdin);
      }
    }
    let me = Arc::clone(self);
    tokio::spawn(async move { me.pump(child, parser, line_cap).await });
    true
  }

  async fn pump(self: Arc<Self>, mut child: Child, parser: Parser, line_cap: usize) {
    let stderr_task = child.stderr.take().map(|err| {
      let me = Arc::clone(&self);
      tokio::spawn(async move {
        let mut r = LineReader::new(err, 64 * 1024);
        while let Ok(Some(line)) = r.next_line().await {
          if let Line::Text(l) = line {
            me.update(|st| ((), vec![st.stderr_line(&l)]));
          }
        }
      })
    });
    // The exit is awaited by its own task, so reading a line never polls the child.
    let stdout = child.stdout.take();
    let (exit_tx, mut exit_rx) = tokio::sync::oneshot::channel();
    let reaper = Arc::clone(&self);
    tokio::spawn(async move {
      let status = child.wait().await;
      reaper.reaped();
      let _ = exit_tx.send(status);
    });
    let gone = || Err(std::io::Error::other("the exit status was lost"));
    let mut exit = None;
    // Lines are read and parsed by a task of their own, so parsing the next lines overlaps
    // with applying the previous ones (on another core when there is one).
    let (tx, mut parsed) = tokio::sync::mpsc::channel(PARSED_BACKLOG);
    let reader = stdout.map(|out| tokio::spawn(read_and_parse(out, parser, line_cap, tx)));
    loop {
      tokio::select! {
        biased;
        batch = parsed.recv() => match batch {
          Some(batch) => {
            for p in batch {
              self.handle_parsed(p).await;
            }
          }
          None => break,
        },
        status = &mut exit_rx, if exit.is_none() => {
          exit = Some(status.unwrap_or_else(|_| gone()));
          break;
        }
      }
    }
    if exit.is_some() {
      // The leader is gone; read what it left in the pipe, bounded in time.
      let deadline = tokio::time::Instant::now() + DRAIN_AFTER_EXIT;
      while let Ok(Some(batch)) = tokio::time::timeout_at(deadline, parsed.recv()).await {
        for p in batch {
          self.handle_parsed(p).await;
        }
      }
    }
    // A grandchild may still hold the pipe open: stop reading it.
    if let Some(r) = reader {
      r.abort();
    }
    let status = match exit {
      Some(s) => s,
      None => exit_rx.await.unwrap_or_else(|_| gone()),
    };
    if let Some(t) = stderr_task {
      let _ = tokio::time::timeout(DRAIN_AFTER_EXIT, t).await;
    }
    let (code, signal) = match &status {
      Ok(s) => (s.code(), s.signal()),
      Err(_) => (None, None),
    };
    self.stdin.lock().await.take();
    // Requests still waiting will never be answered: their senders drop here.
    lock(&self.pending).clear();
    let terminal = self.update(|st| {
      let evs = st.exited(code, signal);
      tracing::info!(
        session = %st.id(),
        exit_code = code.unwrap_or(-1),
        signal = signal.unwrap_or(0),
        status = st.status().as_str(),
        "process exited"
      );
      (st.status().is_terminal(), evs)
    });
    if terminal {
      self.finish();
    }
  }

  /// The leader was reaped: every descendant goes with it (the group is killed), and the
  /// group id is forgotten so it can never be signalled after reuse.
  fn reaped(&self) {
    if let Some(pgid) = lock(&self.pgid).take() {
      signal_group(pgid, Signal::SIGKILL);
    }
  }

  async fn handle_parsed(self: &Arc<Self>, parsed: Parsed) {
    let inbound = match parsed {
      Ok(p) => p,
      Err(msg) => {
        self.update(|st| ((), vec![st.protocol_error(msg)]));
        return;
      }
    };
    for item in inbound {
      match item {
        Inbound::Event(p) => {
          let permission = match &p {
            EventPayload::PermissionRequest { request_id, .. } => Some(request_id.clone()),
            _ => None,
          };
          let outcome = self.update(|st| {
            let (evs, outcome) = st.apply(p);
            (outcome, evs)
          });
          if let Some(id) = permission {
            self.arm_permission_timer(id);
          }
          if matches!(
            outcome,
            TurnOutcome::ApiFailed | TurnOutcome::BudgetExhausted
          ) {
            // The conversation cannot go on: let the CLI exit; the exit sets `failed`.
            self.close_stdin().await;
          }
        }
        Inbound::Response { id, result } => {
          if let Some(tx) = lock(&self.pending).remove(&id) {
            let _ = tx.send(result);
          }
        }
        Inbound::Request { id, method, params } => self.server_request(id, method, params).await,
      }
    }
  }

  /// A request from the CLI. Approvals become `permission-request` events waiting for
  /// `respondToPermission` (or the default policy); anything else is answered "method not
  /// found" so the CLI never waits on us.
  async fn server_request(self: &Arc<Self>, id: Value, method: String, params: Value) {
    if !rpc::is_approval(&method) {
      let reply = rpc::error_response(
        &id,
        -32601,
        &format!("openclaw-sessions does not handle `{method}`"),
      );
      let _ = self.write(&reply).await;
      return;
    }
    let request_id = id.to_string();
    self.update(|st| {
      let ev = st.apply(EventPayload::PermissionRequest {
        request_id: request_id.clone(),
        tool_name: method.clone(),
        input: params.clone(),
        tool_use_id: params
          .get("itemId")
          .and_then(Value::as_str)
          .map(str::to_owned),
      });
      ((), ev.0)
    });
    self.arm_permission_timer(request_id);
  }

  /// Answers the request with the default policy if nobody has after the timeout.
  fn arm_permission_timer(self: &Arc<Self>, request_id: String) {
    let me = Arc::clone(self);
    let policy = self.permissions;
    tokio::spawn(async move {
      tokio::time::sleep(policy.timeout).await;
      let answer = PermissionAnswer {
        allow: policy.default_allow,
        message: Some(format!(
          "No answer within {} ms; the session's default policy decided",
          policy.timeout.as_millis()
        )),
        updated_input: None,
      };
      let _ = me.answer_permission(&request_id, &answer, "policy").await;
    });
  }

  /// Answers a pending permission request: Claude `control_response` to `can_use_tool`, Codex
  /// `{decision}` response. `E_NOT_FOUND` when no such request is pending (already answered,
  /// or its turn is over).
  pub(crate) async fn answer_permission(
    &self,
    request_id: &str,
    answer: &PermissionAnswer,
    by: &str,
  ) -> Result<()> {
    let taken = self.update(|st| {
      let backend = st.backend();
      match st.resolve_permission(request_id, answer.allow, by) {
        Some((pending, evs)) => (Some((pending, backend)), evs),
        None => (None, Vec::new()),
      }
    });
    let Some((pending, backend)) = taken else {
      return Err(Error::NotFound(format!(
        "no pending permission request `{request_id}`; get(ref).pendingPermissions lists them"
      )));
    };
    let line = match backend {
      Backend::Claude => claude::permission_response(&pending.request_id, &pending.input, answer),
      Backend::Codex | Backend::CodexExec => {
        let id = serde_json::from_str(&pending.request_id)
          .unwrap_or(Value::String(pending.request_id.clone()));
        rpc::approval_response(&id, answer)
      }
    };
    self
      .write(&line)
      .await
      .map_err(|e| Error::State(format!("the session's CLI no longer reads input ({e})")))
  }
}

impl crate::store::Snapshot for LiveSession {
  fn snapshot(&self) -> StoredSession {
    self
      .dirty
      .store(false, std::sync::atomic::Ordering::Release);
    let st = self.state();
    StoredSession {
      info: st.info(),
      summary: st.summary(),
      options: self.stored_options(),
      thread_usage: st.thread_usage(),
      pid_start: st.pid_start(),
    }
  }

  fn failed(&self, error: &Error) {
    let message = format!("[{}] {error}; the session goes on", error.code());
    self.update(|st| {
      (
        (),
        vec![st.record(EventPayload::Error {
          message,
          fatal: false,
        })],
      )
    });
  }
}
