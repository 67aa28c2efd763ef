//! Reading a child's output: bounded, lossy lines (`LineReader`), a bounded tail of recent
//! lines (`Tail`, for stderr), and `truncate` for previews.

use std::collections::VecDeque;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

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
}
