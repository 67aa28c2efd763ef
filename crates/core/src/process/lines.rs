//! Reading a child's output: bounded, lossy lines (`LineReader`), a bounded tail of recent
//! lines (`Tail`, for stderr), and `truncate` for previews.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

/// One line read from a child's stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Line {
  /// A complete line (without the newline), invalid UTF-8 replaced by U+FFFD.
  Text(String),
  /// A line longer than the cap; its bytes were discarded. `len` is the full length.
  TooLong { len: usize },
  /// A line refused because the shared line-buffer budget was spent (other sessions' long
  /// lines hold it); its bytes were discarded. `len` is the full length.
  OverBudget { len: usize },
}

/// The bytes all readers sharing it may hold in partial lines at once (`lineBufferBudgetBytes`):
/// a burst of huge lines is refused, not buffered.
#[derive(Debug)]
pub(crate) struct LineBudget {
  limit: usize,
  used: AtomicUsize,
}

impl LineBudget {
  pub(crate) fn new(limit: usize) -> Arc<LineBudget> {
    Arc::new(LineBudget {
      limit,
      used: AtomicUsize::new(0),
    })
  }

  fn take(&self, n: usize) -> bool {
    self
      .used
      .fetch_update(Ordering::AcqRel, Ordering::Acquire, |u| {
        (u + n <= self.limit).then_some(u + n)
      })
      .is_ok()
  }

  fn give(&self, n: usize) {
    self.used.fetch_sub(n, Ordering::AcqRel);
  }

  /// Bytes held now.
  #[cfg(test)]
  pub(crate) fn used(&self) -> usize {
    self.used.load(Ordering::Acquire)
  }
}

/// The per-line cap and the shared budget a reader works under.
#[derive(Debug, Clone)]
pub(crate) struct LineLimits {
  pub cap: usize,
  pub budget: Option<Arc<LineBudget>>,
}

/// Reads newline-separated lines with a per-line byte cap, so a runaway line can never make the
/// reader buffer without bound. `next_line` is cancel-safe: a partial line survives a dropped
/// future (it can sit in `tokio::select!`).
pub(crate) struct LineReader<R> {
  inner: BufReader<R>,
  cap: usize,
  buf: Vec<u8>,
  len: usize,
  budget: Option<Arc<LineBudget>>,
  /// Bytes of the budget this reader's buffer holds.
  held: usize,
  /// The current line was refused by the budget.
  refused: bool,
}

impl<R> Drop for LineReader<R> {
  fn drop(&mut self) {
    self.release();
  }
}

impl<R> LineReader<R> {
  fn release(&mut self) {
    if let Some(b) = &self.budget {
      b.give(std::mem::take(&mut self.held));
    }
  }
}

impl<R: AsyncRead + Unpin> LineReader<R> {
  /// `cap`: the longest line kept, in bytes.
  pub(crate) fn new(inner: R, cap: usize) -> Self {
    Self::with_limits(inner, LineLimits { cap, budget: None })
  }

  /// With a shared budget: the buffer of a line that spans reads is counted against it.
  pub(crate) fn with_limits(inner: R, limits: LineLimits) -> Self {
    LineReader {
      inner: BufReader::with_capacity(64 * 1024, inner),
      cap: limits.cap,
      buf: Vec::new(),
      len: 0,
      budget: limits.budget,
      held: 0,
      refused: false,
    }
  }

  /// Whether a whole line is already buffered (the next `next_line` needs no read).
  pub(crate) fn has_buffered_line(&self) -> bool {
    memchr::memchr(b'\n', self.inner.buffer()).is_some()
  }

  /// The next line, or `None` at end of stream. A last line without a newline is returned.
  pub(crate) async fn next_line(&mut self) -> std::io::Result<Option<Line>> {
    self
      .next_line_with(|line| match line {
        Ok(text) => Line::Text(text.to_owned()),
        Err(line) => line,
      })
      .await
  }

  /// The next line into the line buffer, whatever it is: one that spans reads, too long, over
  /// budget, not UTF-8 (`next_line_with` takes whole lines straight from the read buffer).
  async fn read_line(&mut self) -> std::io::Result<Option<Line>> {
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
      let n = data.len();
      if done && self.len == 0 && n <= self.cap {
        // A line whole in one chunk that was not lent (not UTF-8): allocate once, at its size,
        // outside the budget.
        self.buf.reserve_exact(n);
        self.buf.extend_from_slice(data);
      } else if self.len + n <= self.cap && !self.refused {
        let budget = self.budget.as_deref();
        self.refused = !keep(&mut self.buf, &mut self.held, budget, self.cap, data);
      }
      self.len += n;
      self.inner.consume(used);
      if done {
        return Ok(Some(self.finish()));
      }
    }
  }

  /// The next line handed to `f`, or `None` at end of stream: `Ok` with the line borrowed
  /// from the read buffer when it arrived whole in one read (most lines: no copy, no
  /// allocation), else `Err` with the line read into the line buffer (one that spanned reads,
  /// was too long or over budget, or is not valid UTF-8).
  pub(crate) async fn next_line_with<T>(
    &mut self,
    f: impl FnOnce(Result<&str, Line>) -> T,
  ) -> std::io::Result<Option<T>> {
    if self.len == 0 {
      let chunk = self.inner.fill_buf().await?;
      if let Some(i) = memchr::memchr(b'\n', chunk) {
        let data = &chunk[..i];
        if i <= self.cap {
          let data = data.strip_suffix(b"\r").unwrap_or(data);
          if let Ok(text) = std::str::from_utf8(data) {
            let t = f(Ok(text));
            self.inner.consume(i + 1);
            return Ok(Some(t));
          }
        }
      }
    }
    Ok(self.read_line().await?.map(|line| f(Err(line))))
  }

  fn finish(&mut self) -> Line {
    let len = std::mem::take(&mut self.len);
    let mut buf = std::mem::take(&mut self.buf);
    self.release();
    if len > self.cap {
      self.refused = false;
      return Line::TooLong { len };
    }
    if std::mem::take(&mut self.refused) {
      return Line::OverBudget { len };
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

/// Appends `data` to `buf`, first growing it (at most to `cap`) under `budget`; false, with the
/// buffer and what it held of the budget freed, when the budget cannot cover the growth.
fn keep(
  buf: &mut Vec<u8>,
  held: &mut usize,
  budget: Option<&LineBudget>,
  cap: usize,
  data: &[u8],
) -> bool {
  let need = buf.len() + data.len();
  if need > buf.capacity() {
    let new_cap = need.max(buf.capacity() * 2).min(cap).max(need);
    let grow = new_cap - buf.capacity();
    if let Some(b) = budget {
      if !b.take(grow) {
        *buf = Vec::new();
        b.give(std::mem::take(held));
        return false;
      }
      *held += grow;
    }
    buf.reserve_exact(new_cap - buf.len());
  }
  buf.extend_from_slice(data);
  true
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

  #[tokio::test]
  async fn whole_lines_are_lent_from_the_buffer_and_the_rest_read_as_next_line_does() {
    // A reader that hands out at most 16 bytes per read, so a longer line spans reads (as do
    // `a line ...` and `pp`; `ok` sits inside one read).
    let mut input: Vec<u8> = b"short\r\n".to_vec();
    input.extend(b"a line that spans reads\n");
    input.extend(std::iter::repeat_n(b'x', 40));
    input.extend(b"\nbad \xff\npp\nok\nlast");
    let slow = tokio_test_reader(&input, 16);
    let mut r = LineReader::new(slow, 30);
    let mut got = Vec::new();
    while let Some(l) = r
      .next_line_with(|l| match l {
        Ok(text) => format!("lent {text}"),
        Err(line) => format!("owned {line:?}"),
      })
      .await
      .unwrap()
    {
      got.push(l);
    }
    assert_eq!(
      got,
      [
        "lent short",
        "owned Text(\"a line that spans reads\")",
        "owned TooLong { len: 40 }",
        "owned Text(\"bad \u{fffd}\")",
        "owned Text(\"pp\")",
        "lent ok",
        "owned Text(\"last\")",
      ]
    );
  }

  /// `data`, read at most `step` bytes at a time.
  fn tokio_test_reader(data: &[u8], step: usize) -> impl AsyncRead + Unpin + '_ {
    struct Slow<'a>(&'a [u8], usize);
    impl AsyncRead for Slow<'_> {
      fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
      ) -> std::task::Poll<std::io::Result<()>> {
        let n = self.1.min(self.0.len()).min(buf.remaining());
        buf.put_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        std::task::Poll::Ready(Ok(()))
      }
    }
    Slow(data, step)
  }

  #[tokio::test]
  async fn a_shared_budget_refuses_lines_that_would_exceed_it() {
    let budget = LineBudget::new(300 * 1024);
    let big = |c: u8| {
      let mut v = vec![c; 200 * 1024];
      v.push(b'\n');
      v.extend(b"after\n");
      v
    };
    let (a, b) = (big(b'a'), big(b'b'));
    let limits = LineLimits {
      cap: 1 << 20,
      budget: Some(budget.clone()),
    };
    let mut ra = LineReader::with_limits(&a[..], limits.clone());
    let mut rb = LineReader::with_limits(&b[..], limits);
    // Interleave: A buffers its first 64 KiB chunk... drive A to hold most of the budget first.
    let la = ra.next_line().await.unwrap().unwrap();
    assert!(matches!(la, Line::Text(ref t) if t.len() == 200 * 1024));
    assert_eq!(budget.used(), 0, "a finished line gives its budget back");
    // Hold part of the budget as another session would, so B's line no longer fits.
    assert!(budget.take(200 * 1024));
    assert_eq!(
      rb.next_line().await.unwrap(),
      Some(Line::OverBudget { len: 200 * 1024 })
    );
    assert_eq!(
      rb.next_line().await.unwrap(),
      Some(Line::Text("after".into()))
    );
    budget.give(200 * 1024);
    assert_eq!(budget.used(), 0);
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
