//! A live session: its state behind a lock, its child's stdin, and the task that pumps the
//! child's stdout/stderr into the state machine until the process is reaped. Owns the process
//! from spawn to reap; decides nothing about statuses itself (that is `session`).

use crate::event::AgentEvent;
use crate::listeners::Listeners;
use crate::process::{signal_group, Line, LineReader};
use crate::protocol::claude;
use crate::session::{SessionState, TurnOutcome};
use nix::sys::signal::Signal;
use std::any::Any;
use std::os::unix::process::ExitStatusExt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::process::{Child, ChildStdin};
use tokio::sync::watch;

/// How long output is still read after the CLI exited (a grandchild may hold the pipe).
const DRAIN_AFTER_EXIT: Duration = Duration::from_secs(2);

/// Something kept alive while the session is live (the binding's handle that keeps Node's
/// event loop running); dropped when the process is reaped.
pub type KeepAlive = Box<dyn Any + Send>;

/// One session and, while it lives, its process.
pub struct LiveSession {
  state: Mutex<SessionState>,
  stdin: tokio::sync::Mutex<Option<ChildStdin>>,
  /// The process group id while the leader is not reaped.
  pgid: Mutex<Option<u32>>,
  done: watch::Sender<bool>,
  listeners: Arc<Listeners>,
  keepalive: Mutex<Option<KeepAlive>>,
}

impl LiveSession {
  pub fn new(state: SessionState, listeners: Arc<Listeners>) -> Arc<Self> {
    Arc::new(LiveSession {
      state: Mutex::new(state),
      stdin: tokio::sync::Mutex::new(None),
      pgid: Mutex::new(None),
      done: watch::channel(false).0,
      listeners,
      keepalive: Mutex::new(None),
    })
  }

  /// The state, for reading. Never hold it across an await.
  pub fn state(&self) -> MutexGuard<'_, SessionState> {
    self.state.lock().unwrap_or_else(|e| e.into_inner())
  }

  /// Runs `f` on the state and publishes the events it returns, under the lock (ordering).
  pub fn update<R>(&self, f: impl FnOnce(&mut SessionState) -> (R, Vec<AgentEvent>)) -> R {
    let mut st = self.state();
    let (r, events) = f(&mut st);
    for ev in &events {
      self.listeners.emit(ev);
    }
    r
  }

  /// Writes one line to the child's stdin. Fails when stdin is closed or the pipe broke.
  pub async fn write(&self, line: &str) -> std::io::Result<()> {
    let mut guard = self.stdin.lock().await;
    let stdin = guard
      .as_mut()
      .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "stdin is closed"))?;
    stdin.write_all(line.as_bytes()).await?;
    stdin.flush().await
  }

  /// Closes the child's stdin (EOF): the CLI ends once queued turns finish.
  pub async fn close_stdin(&self) {
    self.stdin.lock().await.take();
  }

  /// Signals the whole process group; false when the process is already reaped.
  pub fn signal(&self, sig: Signal) -> bool {
    match *self.pgid.lock().unwrap_or_else(|e| e.into_inner()) {
      Some(pgid) => signal_group(pgid, sig),
      None => false,
    }
  }

  /// Whether the process is reaped and the final status set.
  pub fn is_done(&self) -> bool {
    *self.done.borrow()
  }

  /// Waits until the process is reaped and the final status set.
  pub async fn wait_done(&self) {
    let mut rx = self.done.subscribe();
    let _ = rx.wait_for(|d| *d).await;
  }

  /// Marks a session that never got a process as done (spawn failed).
  pub fn finish_without_process(&self) {
    self.done.send_replace(true);
  }

  /// Takes ownership of the spawned child and starts pumping its output.
  pub fn start(self: &Arc<Self>, mut child: Child, line_cap: usize, keepalive: Option<KeepAlive>) {
    let pid = child.id().unwrap_or(0);
    *self.pgid.lock().unwrap_or_else(|e| e.into_inner()) = Some(pid);
    *self.keepalive.lock().unwrap_or_else(|e| e.into_inner()) = keepalive;
    self.state().set_pid(pid);
    if let Some(stdin) = child.stdin.take() {
      // Not contended yet: nobody else has seen this session's stdin.
      if let Ok(mut guard) = self.stdin.try_lock() {
        *guard = Some(stdin);
      }
    }
    let me = Arc::clone(self);
    tokio::spawn(async move { me.pump(child, line_cap).await });
  }

  async fn pump(self: Arc<Self>, mut child: Child, line_cap: usize) {
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
    let mut exit = None;
    if let Some(out) = child.stdout.take() {
      let mut reader = LineReader::new(out, line_cap);
      loop {
        tokio::select! {
            line = reader.next_line() => match line {
                Ok(Some(line)) => self.handle_line(line).await,
                Ok(None) | Err(_) => break,
            },
            status = child.wait(), if exit.is_none() => {
                exit = Some(status);
                self.reaped();
                break;
            }
        }
      }
      if exit.is_some() {
        // The leader is gone; read what it left in the pipe, bounded in time.
        let deadline = tokio::time::Instant::now() + DRAIN_AFTER_EXIT;
        while let Ok(Ok(Some(line))) = tokio::time::timeout_at(deadline, reader.next_line()).await {
          self.handle_line(line).await;
        }
      }
    }
    let status = match exit {
      Some(s) => s,
      None => {
        let s = child.wait().await;
        self.reaped();
        s
      }
    };
    if let Some(t) = stderr_task {
      let _ = tokio::time::timeout(DRAIN_AFTER_EXIT, t).await;
    }
    let (code, signal) = match &status {
      Ok(s) => (s.code(), s.signal()),
      Err(_) => (None, None),
    };
    self.stdin.lock().await.take();
    self.update(|st| ((), st.exited(code, signal)));
    self
      .keepalive
      .lock()
      .unwrap_or_else(|e| e.into_inner())
      .take();
    self.done.send_replace(true);
  }

  /// The leader was reaped: every descendant goes with it (the group is killed), and the
  /// group id is forgotten so it can never be signalled after reuse.
  fn reaped(&self) {
    if let Some(pgid) = self.pgid.lock().unwrap_or_else(|e| e.into_inner()).take() {
      signal_group(pgid, Signal::SIGKILL);
    }
  }

  async fn handle_line(&self, line: Line) {
    let payloads = match line {
      Line::Text(text) => match claude::parse_line(&text) {
        Ok(p) => p,
        Err(e) => {
          self.update(|st| ((), vec![st.protocol_error(e.to_string())]));
          return;
        }
      },
      Line::TooLong { len } => {
        self.update(|st| {
          let msg = format!("output line of {len} bytes exceeds maxLineBytes; skipped");
          ((), vec![st.protocol_error(msg)])
        });
        return;
      }
    };
    for p in payloads {
      let outcome = self.update(|st| {
        let (evs, outcome) = st.apply(p);
        (outcome, evs)
      });
      if outcome == TurnOutcome::ApiFailed {
        // The conversation cannot go on: let the CLI exit; the exit sets `failed`.
        self.close_stdin().await;
      }
    }
  }
}
