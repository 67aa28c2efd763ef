//! A live session: its state behind a lock, the current child's stdin, waiting for the state,
//! signals and ends, and JSON-RPC requests for backends that speak it. The task that pumps
//! the child's output into the state machine until the process is reaped is `pump`;
//! permission requests and their answers are `permissions`. Owns processes from spawn to
//! reap; decides nothing about statuses itself (that is `session`).

use crate::model::error::{Error, Result};
use crate::model::event::{Ev, EventPayload};
use crate::process::{signal_group, Contained};
use crate::protocol::codex::app_server as rpc;
use crate::protocol::jsonrpc;
use crate::session::listeners::Listeners;
use crate::session::SessionState;
use crate::store::{StoredSession, Writer};
use nix::sys::signal::Signal;
use serde_json::Value;
use std::any::Any;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::process::ChildStdin;
use tokio::sync::{oneshot, watch};

mod permissions;
mod pump;

pub(crate) use permissions::PermissionPolicy;

/// Something kept alive while the session is live (the binding's handle that keeps Node's
/// event loop running); dropped when the session reaches a terminal status.
pub(crate) type KeepAlive = Box<dyn Any + Send>;

/// Our JSON-RPC requests waiting for their response, each with the sender that hands it over.
type Pending = jsonrpc::Pending<oneshot::Sender<jsonrpc::Response>>;

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
  pending: Mutex<Pending>,
  permissions: PermissionPolicy,
  persist: OnceLock<Persist>,
  /// Changed since the writer last took a snapshot.
  dirty: std::sync::atomic::AtomicBool,
  /// This session, for handing itself to the store's writer.
  me: std::sync::Weak<LiveSession>,
  /// What holds its processes, from its first process on.
  contained: OnceLock<Arc<Contained>>,
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
      pending: Mutex::new(Pending::default()),
      permissions,
      persist: OnceLock::new(),
      dirty: std::sync::atomic::AtomicBool::new(false),
      me: me.clone(),
      contained: OnceLock::new(),
    })
  }

  /// Stores this session from now on: at once, then on every status change and turn end. The
  /// first snapshot does not wait out the writer's fold: a new session is in the store before
  /// any later change of it (a manager killed right after `register` or `spawn` loses none).
  pub(crate) fn persist_to(&self, p: Persist) {
    let _ = self.persist.set(p);
    self.update(|_| {
      self.hand_to_writer(true);
      ((), Vec::new())
    });
  }

  /// Hands the session to the store's writer now (a change outside the milestones, e.g.
  /// `setMetadata`).
  pub(crate) fn store_changed(&self) {
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
    self.hand_to_writer(st.status().is_terminal());
  }

  /// `write_snapshot`; `urgent` (the session ended, or its first snapshot): written without
  /// waiting out the writer's fold.
  fn hand_to_writer(&self, urgent: bool) {
    let Some(p) = self.persist.get() else { return };
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
    if milestone && self.milestones.receiver_count() > 0 {
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

  /// Waits until `f` gives a value for the state, or `timeout` passes (`None`; no timeout:
  /// until `f` does). Same rules for `f` as for `wait_until`'s predicate.
  pub(crate) async fn wait_for<T>(
    &self,
    timeout: Option<Duration>,
    f: impl Fn(&SessionState) -> Option<T>,
  ) -> Option<T> {
    let mut rx = self.version.subscribe();
    let wait = async {
      loop {
        if let Some(v) = f(&self.state()) {
          return Some(v);
        }
        if rx.changed().await.is_err() {
          return f(&self.state());
        }
      }
    };
    match timeout {
      Some(t) => tokio::time::timeout(t, wait).await.ok().flatten(),
      None => wait.await,
    }
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
    let (tx, rx) = oneshot::channel();
    let id = lock(&self.pending).register(tx);
    if let Err(e) = self.write(&rpc::request(id, method, params)).await {
      lock(&self.pending).take(id);
      return Err(Error::Protocol(format!("cannot send `{method}`: {e}")));
    }
    match tokio::time::timeout(timeout, rx).await {
      Ok(Ok(response)) => jsonrpc::result(method, response),
      Ok(Err(_)) => Err(Error::Protocol(format!(
        "the CLI exited before answering `{method}`"
      ))),
      Err(_) => {
        lock(&self.pending).take(id);
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

  /// The session's containment (its cgroup made at the first call), recorded on its snapshot.
  pub(crate) fn contained(&self) -> Arc<Contained> {
    let c = self.contained.get_or_init(|| {
      let mut st = self.state();
      let c = Contained::new(st.id());
      st.set_containment(c.mechanism());
      c
    });
    Arc::clone(c)
  }

  /// Signals the whole process group; false when no process is running. SIGKILL also kills
  /// every other process of the session (its containment), whatever its group.
  pub(crate) fn signal(&self, sig: Signal) -> bool {
    let pgid = *lock(&self.pgid);
    let sent = pgid.is_some_and(|pgid| signal_group(pgid, sig));
    if sig == Signal::SIGKILL {
      self.kill_contained(pgid);
    }
    sent
  }

  /// SIGKILL to every process of the session but `leader` (signalled by its group).
  pub(super) fn kill_contained(&self, leader: Option<u32>) {
    if let Some(c) = self.contained.get() {
      c.kill(leader);
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
    if let Some(c) = self.contained.get() {
      c.release();
    }
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

  /// Ends a session that has no process as `failed` with `message` (a recovery attempt that
  /// could not start). False if a process runs or the session already ended.
  pub(crate) fn fail_without_process(&self, message: String) -> bool {
    let pgid = lock(&self.pgid);
    if pgid.is_some() || self.is_done() {
      return false;
    }
    self.update(|st| ((), st.recovery_attempt_failed(message)));
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
