//! Child processes: resolve the CLI binary, spawn it in its own process group with piped stdio
//! (no shell, ever), read its output as bounded lines, keep a stderr tail, and signal the whole
//! group. Knows nothing about sessions or protocols.

pub(crate) mod binaries;

use std::collections::VecDeque;
use std::ffi::OsString;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

/// Everything needed to start one CLI process.
#[derive(Debug, Clone)]
pub(crate) struct CommandSpec {
  pub program: PathBuf,
  pub args: Vec<OsString>,
  /// The child's working directory (Claude has no `--cwd`).
  pub cwd: PathBuf,
  /// Variables added to (or overriding) the inherited environment.
  pub env: Vec<(OsString, OsString)>,
  /// stdin from /dev/null instead of a pipe (`codex exec` blocks reading an open pipe).
  pub stdin_null: bool,
}

/// Finds `program`: a path containing `/` is checked as is; a bare name is searched on `path`
/// (a `PATH`-style list). The result exists, is a file, and is executable.
/// The error names every place tried.
pub(crate) fn resolve_program(
  program: &str,
  path: Option<&std::ffi::OsStr>,
) -> Result<PathBuf, String> {
  fn check(p: &Path) -> Result<(), String> {
    let meta = std::fs::metadata(p).map_err(|e| format!("{}: {e}", p.display()))?;
    if !meta.is_file() {
      return Err(format!("{} is not a file", p.display()));
    }
    if meta.permissions().mode() & 0o111 == 0 {
      return Err(format!("{} is not executable", p.display()));
    }
    Ok(())
  }
  if program.is_empty() {
    return Err("the program path is empty".into());
  }
  if program.contains('/') {
    let p = PathBuf::from(program);
    check(&p)?;
    return Ok(p);
  }
  let path = path
    .map(OsString::from)
    .or_else(|| std::env::var_os("PATH"));
  let dirs: Vec<PathBuf> = path
    .as_deref()
    .map(|p| std::env::split_paths(p).collect())
    .unwrap_or_default();
  for dir in &dirs {
    let candidate = dir.join(program);
    if check(&candidate).is_ok() {
      return Ok(candidate);
    }
  }
  Err(format!(
    "`{program}` was not found on PATH ({})",
    std::env::join_paths(&dirs)
      .map(|p| p.to_string_lossy().into_owned())
      .unwrap_or_default()
  ))
}

/// Spawns the command with piped stdin/stdout/stderr, in a new process group whose id is the
/// child's pid, with `PR_SET_PDEATHSIG(SIGKILL)` so the child dies with this process.
pub(crate) fn spawn(spec: &CommandSpec) -> std::io::Result<tokio::process::Child> {
  let mut cmd = tokio::process::Command::new(&spec.program);
  cmd
    .args(&spec.args)
    .current_dir(&spec.cwd)
    .envs(spec.env.iter().map(|(k, v)| (k, v)))
    .stdin(if spec.stdin_null {
      Stdio::null()
    } else {
      Stdio::piped()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .process_group(0)
    .kill_on_drop(false);
  #[cfg(target_os = "linux")]
  // SAFETY: the closure only calls prctl(2), which is async-signal-safe.
  unsafe {
    cmd.pre_exec(|| {
      nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)
        .map_err(std::io::Error::from)
    });
  }
  cmd.spawn()
}

/// Sends `signal` to the process group `pgid` (the group leader's pid). Returns false when the
/// group no longer exists.
pub(crate) fn signal_group(pgid: u32, signal: nix::sys::signal::Signal) -> bool {
  nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pgid as i32), signal).is_ok()
}

/// The summed resident set size, in bytes, of every process whose process group is `pgid`
/// (read from `/proc/<pid>/stat`; 0 where `/proc` is not there).
pub(crate) fn group_rss(pgid: u32) -> u64 {
  let page = 4096u64;
  let Ok(dir) = std::fs::read_dir("/proc") else {
    return 0;
  };
  let mut total = 0;
  for entry in dir.flatten() {
    let name = entry.file_name();
    let Some(pid) = name
      .to_str()
      .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
    else {
      continue;
    };
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
      continue;
    };
    // Fields after the command's closing parenthesis: state ppid pgrp ... rss is field 24.
    let Some(rest) = stat.rfind(')').map(|i| &stat[i + 2..]) else {
      continue;
    };
    let fields: Vec<&str> = rest.split(' ').collect();
    if fields.get(2).and_then(|g| g.parse::<u32>().ok()) == Some(pgid) {
      total += fields
        .get(21)
        .and_then(|r| r.parse::<u64>().ok())
        .unwrap_or(0)
        * page;
    }
  }
  total
}

/// A process's start time in clock ticks since boot (`/proc/<pid>/stat` field 22): with the
/// pid, it identifies one process across pid reuse. `None` if there is no such process.
pub(crate) fn start_time(pid: u32) -> Option<u64> {
  let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
  let rest = &stat[stat.rfind(')')? + 2..];
  rest.split(' ').nth(19)?.parse().ok()
}

/// One line read from a child's stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Line {
  /// A complete line (without the newline), invalid UTF-8 replaced by U+FFFD.
  Text(String),
  /// A line longer than the cap; its bytes were discarded. `len` is the full length.
  TooLong { len: usize },
}

/// Reads newline-separated lines with a per-line byte cap, so a runaway line can never make the
/// reader buffer without bound. `next_line` is cancel-safe: a partial line survives a dropped
/// future (it can sit in `tokio::select!`).
pub(crate) struct LineReader<R> {
  inner: BufReader<R>,
  cap: usize,
  buf: Vec<u8>,
  len: usize,
}

impl<R: AsyncRead + Unpin> LineReader<R> {
  /// `cap`: the longest line kept, in bytes.
  pub(crate) fn new(inner: R, cap: usize) -> Self {
    LineReader {
      inner: BufReader::with_capacity(64 * 1024, inner),
      cap,
      buf: Vec::new(),
      len: 0,
    }
  }

  /// Whether a whole line is already buffered (the next `next_line` needs no read).
  pub(crate) fn has_buffered_line(&self) -> bool {
    memchr::memchr(b'\n', self.inner.buffer()).is_some()
  }

  /// The next line, or `None` at end of stream. A last line without a newline is returned.
  pub(crate) async fn next_line(&mut self) -> std::io::Result<Option<Line>> {
    loop {
      let chunk = self.inner.fill_buf().await?;
      if chunk.is_empty() {
        if self.len == 0 {
          return Ok(None);
        }
        return Ok(Some(self.finish()));
      }
      let (used, done) = match memchr::memchr(b'\n', chunk) {
        Some(i) => (i + 1, true),
        None => (chunk.len(), false),
      };
      let data = &chunk[..if done { used - 1 } else { used }];
      if self.len + data.len() <= self.cap {
        if self.buf.capacity() == 0 {
          // Most lines arrive whole in one chunk: allocate once, at their size.
          self.buf.reserve_exact(data.len());
        }
        self.buf.extend_from_slice(data);
      }
      self.len += data.len();
      self.inner.consume(used);
      if done {
        return Ok(Some(self.finish()));
      }
    }
  }

  fn finish(&mut self) -> Line {
    let len = std::mem::take(&mut self.len);
    let mut buf = std::mem::take(&mut self.buf);
    if len > self.cap {
      return Line::TooLong { len };
    }
    if buf.last() == Some(&b'\r') {
      buf.pop();
    }
    match String::from_utf8(buf) {
      Ok(s) => Line::Text(s),
      Err(e) => Line::Text(String::from_utf8_lossy(e.as_bytes()).into_owned()),
    }
  }
}

/// The last lines of a stream, bounded by line count and by total bytes.
#[derive(Debug, Clone, Default)]
pub(crate) struct Tail {
  lines: VecDeque<String>,
  bytes: usize,
  max_lines: usize,
  max_bytes: usize,
}

impl Tail {
  pub(crate) fn new(max_lines: usize, max_bytes: usize) -> Self {
    Tail {
      lines: VecDeque::new(),
      bytes: 0,
      max_lines,
      max_bytes,
    }
  }

  /// Appends a line (itself cut to `max_bytes`), dropping the oldest ones past the bounds.
  pub(crate) fn push(&mut self, line: &str) {
    let line = truncate(line, self.max_bytes);
    self.bytes += line.len();
    self.lines.push_back(line);
    while self.lines.len() > self.max_lines || self.bytes > self.max_bytes {
      match self.lines.pop_front() {
        Some(old) => self.bytes -= old.len(),
        None => break,
      }
    }
  }

  /// The kept lines, oldest first.
  pub(crate) fn lines(&self) -> Vec<String> {
    self.lines.iter().cloned().collect()
  }

  /// The last `n` kept lines, oldest first.
  pub(crate) fn last(&self, n: usize) -> Vec<String> {
    let skip = self.lines.len().saturating_sub(n);
    self.lines.iter().skip(skip).cloned().collect()
  }
}

/// Cuts `s` to at most `max` bytes on a char boundary, marking the cut with `…`.
pub(crate) fn truncate(s: &str, max: usize) -> String {
  if s.len() <= max {
    return s.to_owned();
  }
  let mut end = max.saturating_sub(3);
  while end > 0 && !s.is_char_boundary(end) {
    end -= 1;
  }
  format!("{}…", &s[..end])
}

#[cfg(test)]
mod tests {
  use super::*;

  #[tokio::test]
  async fn lines_are_capped_and_lossy() {
    let mut input: Vec<u8> = b"short\n".to_vec();
    input.extend(std::iter::repeat_n(b'x', 100));
    input.extend(b"\nbad \xff utf8\r\nlast-no-newline");
    let mut r = LineReader::new(&input[..], 50);
    assert_eq!(
      r.next_line().await.unwrap(),
      Some(Line::Text("short".into()))
    );
    assert_eq!(
      r.next_line().await.unwrap(),
      Some(Line::TooLong { len: 100 })
    );
    assert_eq!(
      r.next_line().await.unwrap(),
      Some(Line::Text("bad \u{fffd} utf8".into()))
    );
    assert_eq!(
      r.next_line().await.unwrap(),
      Some(Line::Text("last-no-newline".into()))
    );
    assert_eq!(r.next_line().await.unwrap(), None);
  }

  #[test]
  fn tail_is_bounded_by_lines_and_bytes() {
    let mut t = Tail::new(3, 10);
    for l in ["a", "b", "c", "d"] {
      t.push(l);
    }
    assert_eq!(t.lines(), vec!["b", "c", "d"]);
    t.push("0123456789abc");
    assert_eq!(t.lines().len(), 1);
    assert!(t.lines()[0].len() <= 10);
    assert_eq!(t.last(5).len(), 1);
  }

  #[test]
  fn resolve_reports_what_was_tried() {
    let err = resolve_program(
      "definitely-not-a-cli-xyz",
      Some("/nonexistent-a:/nonexistent-b".as_ref()),
    )
    .unwrap_err();
    assert!(err.contains("/nonexistent-a"), "{err}");
    let f = std::env::temp_dir().join(format!("ocs-not-exec-{}", std::process::id()));
    std::fs::write(&f, "x").unwrap();
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = resolve_program(f.to_str().unwrap(), None).unwrap_err();
    std::fs::remove_file(&f).unwrap();
    assert!(err.contains("not executable"), "{err}");
    assert!(resolve_program("sh", None).is_ok());
  }
}
