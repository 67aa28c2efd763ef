//! Finding processes by an inherited environment marker in `/proc/<pid>/environ` (Linux), and
//! killing them; those re-parented to this process (it is their subreaper) are reaped.

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// The pids (not this process) whose environment holds `key=value`, with their parent pid.
pub(crate) fn marked(key: &str, value: &str) -> Vec<(u32, u32)> {
  let needle = format!("{key}={value}").into_bytes();
  let me = std::process::id();
  let Ok(dir) = std::fs::read_dir("/proc") else {
    return Vec::new();
  };
  let mut out = Vec::new();
  for entry in dir.flatten() {
    let Some(pid) = entry
      .file_name()
      .to_str()
      .and_then(|n| n.parse::<u32>().ok())
    else {
      continue;
    };
    if pid == me {
      continue;
    }
    // Unreadable (another user's, or gone) or empty (a zombie): not ours to kill.
    let Ok(env) = std::fs::read(format!("/proc/{pid}/environ")) else {
      continue;
    };
    if env.split(|b| *b == 0).any(|v| v == needle.as_slice()) {
      out.push((pid, parent(pid).unwrap_or(0)));
    }
  }
  out
}

fn parent(pid: u32) -> Option<u32> {
  let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
  let rest = &stat[stat.rfind(')')? + 2..];
  rest.split(' ').nth(1)?.parse().ok()
}

/// SIGKILLs every process marked `key=value`, rescanning (a process may fork while the scan
/// runs) until none is left or after a few rounds; the killed ones that are this process's
/// children, other than `leader` (reaped by its owner), are reaped on a thread. Returns how
/// many were killed.
pub(crate) fn kill_marked(key: &str, value: &str, leader: Option<u32>) -> usize {
  let me = std::process::id();
  let mut killed = std::collections::HashSet::new();
  let mut adopted = Vec::new();
  for _ in 0..5 {
    let found: Vec<(u32, u32)> = marked(key, value)
      .into_iter()
      .filter(|(p, _)| !killed.contains(p))
      .collect();
    if found.is_empty() {
      break;
    }
    for (pid, ppid) in found {
      let _ = kill(Pid::from_raw(pid as i32), Signal::SIGKILL);
      killed.insert(pid);
      if ppid == me && Some(pid) != leader {
        adopted.push(pid);
      }
    }
  }
  if !adopted.is_empty() {
    std::thread::spawn(move || {
      for pid in adopted {
        let _ = nix::sys::wait::waitpid(Pid::from_raw(pid as i32), None);
      }
    });
  }
  killed.len()
}
