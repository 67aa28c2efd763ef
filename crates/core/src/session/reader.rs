//! A process's stdout, read and parsed by a task of its own, so that parsing the next lines
//! overlaps with the session applying the previous ones.

use crate::process::{Line, LineLimits, LineReader};
use crate::protocol::{Inbound, Parser};

/// Batches of parsed lines waiting to be applied; the reader waits when this many are queued.
pub(crate) const PARSED_BACKLOG: usize = 16;

/// The most lines in one batch.
const BATCH_LINES: usize = 64;

/// One output line, parsed: what it means, or why it could not be read (a protocol error).
pub(crate) type Parsed = std::result::Result<Vec<Inbound>, LineError>;

/// Why an output line gave nothing.
pub(crate) struct LineError {
  pub message: String,
  /// The line was skipped unread (over `maxLineBytes` or the shared line budget): it may have
  /// been the answer to a pending request, which then fails rather than waits for ever.
  pub skipped: bool,
}

fn skipped(message: String) -> LineError {
  LineError {
    message,
    skipped: true,
  }
}

/// Reads the child's stdout line by line and parses each, until end of stream or until the
/// session stops taking them.
pub(crate) async fn read_and_parse(
  out: tokio::process::ChildStdout,
  mut parser: Parser,
  limits: LineLimits,
  tx: tokio::sync::mpsc::Sender<Vec<Parsed>>,
) {
  let mut reader = LineReader::with_limits(out, limits);
  let mut batch = Vec::new();
  let parse = |parser: &mut Parser, text: &str| {
    parser.parse_line(text).map_err(|e| LineError {
      message: e.to_string(),
      skipped: false,
    })
  };
  // Most lines are parsed where they were read, without being copied out of the buffer.
  while let Ok(Some(parsed)) = reader
    .next_line_with(|line| match line {
      Ok(text) => parse(&mut parser, text),
      Err(Line::Text(text)) => parse(&mut parser, &text),
      Err(Line::TooLong { len }) => Err(skipped(format!(
        "output line of {len} bytes exceeds maxLineBytes; skipped"
      ))),
      Err(Line::OverBudget { len }) => Err(skipped(format!(
        "output line of {len} bytes skipped: the line buffers of all sessions hold \
         lineBufferBudgetBytes already"
      ))),
    })
    .await
  {
    batch.push(parsed);
    // Lines already read are parsed before the batch is handed over (one hand-over per read
    // of the pipe); a batch never waits for more output.
    if batch.len() < BATCH_LINES && reader.has_buffered_line() {
      continue;
    }
    if tx.send(std::mem::take(&mut batch)).await.is_err() {
      return;
    }
  }
  if !batch.is_empty() {
    let _ = tx.send(batch).await;
  }
}
