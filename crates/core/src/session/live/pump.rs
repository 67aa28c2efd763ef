//! A live session's process from spawn to reap: its stdout parsed and applied to the state,
//! its stderr kept, its exit awaited by a task of its own, and the session's end once it is
//! reaped.

use super::{lock, LiveSession};
use crate::model::event::{now_ms, EventPayload};
use crate::model::options::Backend;
use crate::process::{signal_group, Line, LineLimits, LineReader};
use crate::protocol::{Inbound, Parser, RpcError};
use crate::session::reader::{read_and_parse, Parsed, PARSED_BACKLOG};
use crate::session::TurnOutcome;
use nix::sys::signal::Signal;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::sync::Arc;
use std::time::Duration;
use tokio::process::{Child, ChildStderr};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How long output is still read after the CLI exited (a grandchild may hold the pipe).
const DRAIN_AFTER_EXIT: Duration = Duration::from_secs(2);

type Exit = std::io::Result<ExitStatus>;

fn gone() -> Exit {
  Err(std::io::Error::other("the exit status was lost"))
}

impl LiveSession {
  /// Takes ownership of a spawned child and starts pumping its output with `parser`.
  /// Returns false, with the child's process group killed and reaped, when the session was
  /// stopped while the process started: nothing outlives a session that reports its end.
  /// Atomic with `end_without_process` (both decide under the process-group lock).
  pub(crate) async fn start(
    self: &Arc<Self>,
    mut child: Child,
    parser: Parser,
    limits: LineLimits,
  ) -> bool {
    let pid = child.id().unwrap_or(0);
    let refused = {
      let mut pgid = lock(&self.pgid);
      let ended = self.state().status().is_terminal();
      if !ended {
        *pgid = Some(pid);
      }
      ended
    };
    if refused {
      signal_group(pid, Signal::SIGKILL);
      self.kill_contained(Some(pid));
      // Reaped before the caller hears of it, so no process is left when spawn rejects.
      let _ = child.wait().await;
      return false;
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
    tokio::spawn(async move { me.pump(child, parser, limits).await });
    true
  }

  /// Applies the child's output until its stdout ends or it exits, then what it left in the
  /// pipe (bounded in time), then its exit.
  async fn pump(self: Arc<Self>, mut child: Child, parser: Parser, limits: LineLimits) {
    let stderr_task = child.stderr.take().map(|err| self.read_stderr(err));
    let stdout = child.stdout.take();
    let mut exit_rx = self.reap(child);
    let mut exit = None;
    // Lines are read and parsed by a task of their own, so parsing the next lines overlaps
    // with applying the previous ones (on another core when there is one).
    let (tx, mut parsed) = tokio::sync::mpsc::channel(PARSED_BACKLOG);
    let reader = stdout.map(|out| tokio::spawn(read_and_parse(out, parser, limits, tx)));
    loop {
      tokio::select! {
        biased;
        batch = parsed.recv() => match batch {
          Some(batch) => self.apply_batch(batch).await,
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
        self.apply_batch(batch).await;
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
    if let Some(mut t) = stderr_task {
      // A grandchild may hold stderr open too: what it has not said by now is not read.
      if tokio::time::timeout(DRAIN_AFTER_EXIT, &mut t)
        .await
        .is_err()
      {
        t.abort();
      }
    }
    self.exited(status).await;
  }

  /// Reads the child's stderr into the state, line by line, on a task of its own.
  fn read_stderr(self: &Arc<Self>, err: ChildStderr) -> JoinHandle<()> {
    let me = Arc::clone(self);
    tokio::spawn(async move {
      let mut r = LineReader::new(err, 64 * 1024);
      while let Ok(Some(line)) = r.next_line().await {
        if let Line::Text(l) = line {
          me.update(|st| ((), vec![st.stderr_line(&l)]));
        }
      }
    })
  }

  /// Awaits the child's exit on a task of its own, so reading a line never polls the child;
  /// the receiver gets the exit status once the child is reaped.
  fn reap(self: &Arc<Self>, mut child: Child) -> oneshot::Receiver<Exit> {
    let (exit_tx, exit_rx) = oneshot::channel();
    let reaper = Arc::clone(self);
    tokio::spawn(async move {
      let status = child.wait().await;
      reaper.reaped();
      let _ = exit_tx.send(status);
    });
    exit_rx
  }

  /// The leader was reaped: every descendant goes with it (the group and the session's
  /// containment are killed), and the group id is forgotten so it can never be signalled after reuse.
  fn reaped(&self) {
    if let Some(pgid) = lock(&self.pgid).take() {
      signal_group(pgid, Signal::SIGKILL);
    }
    self.kill_contained(None);
  }

  /// The process is gone: stdin and pending requests are dropped, and the state decides the
  /// status; a terminal one finishes the session.
  async fn exited(&self, status: Exit) {
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

  /// Applies a batch of parsed lines in order. Synchronous but for the rare steps that write
  /// to the CLI (closing stdin, answering a server request): awaiting per event would move
  /// every event through a chain of futures.
  async fn apply_batch(self: &Arc<Self>, batch: Vec<Parsed>) {
    // Lines read together are stamped with one clock reading.
    let at = now_ms();
    for parsed in batch {
      let inbound = match parsed {
        Ok(p) => p,
        Err(e) => {
          self.line_error(e);
          continue;
        }
      };
      for item in inbound {
        match item {
          Inbound::Event(p) => {
            if self.apply_event(p, at) {
              // The conversation cannot go on: let the CLI exit; the exit sets `failed`.
              self.close_stdin().await;
            }
          }
          Inbound::Response { id, result } => {
            if let Some(tx) = lock(&self.pending).take(id) {
              let _ = tx.send(result);
            }
          }
          Inbound::Request { id, method, params } => self.server_request(id, method, params).await,
        }
      }
    }
  }

  /// A line that gave nothing: a protocol error event; a skipped line may have been the
  /// answer to a pending request, which then fails rather than waits for ever.
  fn line_error(&self, e: crate::session::reader::LineError) {
    if e.skipped {
      let waiters = lock(&self.pending).drain();
      for w in waiters {
        let _ = w.send(Err(RpcError {
          code: -32603,
          message: format!("{}; it may have been this answer", e.message),
        }));
      }
    }
    self.update(|st| ((), vec![st.protocol_error(e.message)]));
  }

  /// One event from the CLI: applied to the state; a permission request gets its timer.
  /// True when the turn's outcome ends the conversation (a failed model API call, the budget
  /// used up): the caller closes stdin.
  fn apply_event(self: &Arc<Self>, p: EventPayload, at: u64) -> bool {
    let permission = match &p {
      EventPayload::PermissionRequest { request_id, .. } => Some(request_id.clone()),
      _ => None,
    };
    let turn_started = matches!(p, EventPayload::TurnStarted { .. });
    let (outcome, sigint) = self.update(|st| {
      let (evs, outcome) = st.apply_read(p, at);
      let sigint = turn_started && st.backend() == Backend::CodexExec && st.sigint_due();
      ((outcome, sigint), evs)
    });
    if sigint {
      // An `interruptTurn` that came before the turn ran (codex-exec).
      self.signal(Signal::SIGINT);
    }
    if let Some(id) = permission {
      self.arm_permission_timer(id);
    }
    matches!(
      outcome,
      TurnOutcome::ApiFailed | TurnOutcome::BudgetExhausted
    )
  }
}
