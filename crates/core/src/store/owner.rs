//! Which manager writes a store: this process (pid, start time, boot) and this store instance
//! (a token, so two managers in one process are told apart); and whether the manager recorded
//! on a row or a ledger entry still runs (recovery and the ledger's claims ask).

use std::collections::HashSet;
use std::sync::Mutex;

/// Who writes: this process (pid, start time) and this store instance (two managers in one
/// process are told apart by the token).
#[derive(Debug, Clone)]
pub(crate) struct Owner {
  pub pid: u32,
  pub start: Option<u64>,
  pub token: String,
  /// This boot's id (`/proc/sys/kernel/random/boot_id`; `None` without `/proc`).
  pub boot: Option<String>,
}

impl Owner {
  /// Whether the manager recorded as (pid, start, boot) is this process or another one still
  /// running. A pid equal to ours is ours only with our start time: a manager that is pid 1 in
  /// a container after every restart must still recover its predecessor's sessions.
  pub(crate) fn recorded_alive(
    &self,
    pid: Option<i64>,
    start: Option<i64>,
    boot: Option<&str>,
  ) -> bool {
    let Some(pid) = pid else { return false };
    if boot.is_some() && self.boot.is_some() && boot != self.boot.as_deref() {
      return false; // another boot: every process of it is gone
    }
    let start = start.map(|s| s as u64);
    if pid as u32 == self.pid {
      return start.is_none() || start == self.start;
    }
    start.is_some() && crate::process::start_time(pid as u32) == start
  }
}

/// This boot's id, read once.
pub(super) fn boot_id() -> Option<String> {
  std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
    .ok()
    .map(|s| s.trim().to_owned())
}

/// The tokens of the stores open for writing in this process.
pub(super) fn registry() -> std::sync::MutexGuard<'static, HashSet<String>> {
  static LIVE: std::sync::LazyLock<Mutex<HashSet<String>>> =
    std::sync::LazyLock::new(|| Mutex::new(HashSet::new()));
  LIVE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Whether the manager that wrote (pid, start, token) still runs: another process with the same
/// start time, or a store of this process still open.
pub(crate) fn alive(pid: Option<i64>, start: Option<i64>, token: Option<&str>) -> bool {
  let Some(pid) = pid else { return false };
  if pid as u32 == std::process::id() {
    return token.is_some_and(|t| registry().contains(t));
  }
  start.is_some() && crate::process::start_time(pid as u32) == start.map(|s| s as u64)
}
