//! JSON-RPC bookkeeping for the CLIs that speak it (Codex app-server): ids for our requests,
//! the requests still waiting for their response, matched by id, and what a response means
//! to the caller. Pure: writing a request and waiting for its answer is the live session's;
//! the message builders are in `codex::app_server`.

use crate::model::error::{Error, Result};
use crate::protocol::RpcError;
use serde_json::Value;
use std::collections::HashMap;

/// A response as the CLI sent it: the result, or the CLI's error object.
pub type Response = std::result::Result<Value, RpcError>;

/// Requests sent and not answered yet, each with its waiter `W` (whatever hands the response
/// to whoever sent the request). Ids count up from 0 and are never reused.
#[derive(Debug)]
pub struct Pending<W> {
  next_id: u64,
  waiting: HashMap<u64, W>,
}

impl<W> Default for Pending<W> {
  fn default() -> Self {
    Pending {
      next_id: 0,
      waiting: HashMap::new(),
    }
  }
}

impl<W> Pending<W> {
  /// Registers `waiter` under a new id: the id to send the request with.
  pub fn register(&mut self, waiter: W) -> u64 {
    let id = self.next_id;
    self.next_id += 1;
    self.waiting.insert(id, waiter);
    id
  }

  /// The waiter of request `id`, no longer pending: for the response that answers it, or to
  /// give the request up (it could not be sent, or timed out). `None` when `id` is not
  /// pending (never sent, answered, or given up).
  pub fn take(&mut self, id: u64) -> Option<W> {
    self.waiting.remove(&id)
  }

  /// Takes every pending request's waiter (their answers can no longer be matched).
  pub fn drain(&mut self) -> Vec<W> {
    self.waiting.drain().map(|(_, w)| w).collect()
  }

  /// Gives up every pending request (the CLI exited: no response will come); their waiters
  /// are dropped.
  pub fn clear(&mut self) {
    self.waiting.clear();
  }

  /// How many requests wait for their response.
  pub fn len(&self) -> usize {
    self.waiting.len()
  }

  pub fn is_empty(&self) -> bool {
    self.waiting.is_empty()
  }
}

/// What the response to `method` means to the caller: its result, or `E_PROTOCOL` with the
/// CLI's error message and code.
pub fn result(method: &str, response: Response) -> Result<Value> {
  response.map_err(|e| {
    Error::Protocol(format!(
      "`{method}` failed: {} (code {})",
      e.message, e.code
    ))
  })
}

#[cfg(test)]
mod tests {
  use super::*;
  use serde_json::json;

  #[test]
  fn ids_count_up_and_each_response_finds_its_waiter_once() {
    let mut p = Pending::default();
    let a = p.register("a");
    let b = p.register("b");
    assert_eq!((a, b), (0, 1));
    assert_eq!(p.take(b), Some("b"));
    assert_eq!(p.take(b), None, "answered already");
    assert_eq!(p.take(7), None, "never sent");
    assert_eq!(p.len(), 1);
    p.clear();
    assert!(p.is_empty());
    assert_eq!(p.register("c"), 2, "ids are not reused");
  }

  #[test]
  fn an_error_response_names_the_method_and_code() {
    assert_eq!(result("x", Ok(json!(1))).unwrap(), json!(1));
    let e = result(
      "thread/start",
      Err(RpcError {
        code: -32600,
        message: "bad".into(),
      }),
    )
    .unwrap_err();
    assert_eq!(
      e.to_string(),
      Error::Protocol("`thread/start` failed: bad (code -32600)".into()).to_string()
    );
  }
}
