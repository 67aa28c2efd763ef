//! Waiting for a turn: `wait_for_turn`, and `send` / `spawn` that resolve when their turn
//! has ended (or needs a permission answer, or the session ended).

use crate::manager::Manager;
use crate::model::error::{Error, Result};
use crate::model::options::SpawnOptions;
use crate::model::turn::{TurnEnd, TurnResult};
use crate::session::live::{KeepAlive, LiveSession};
use std::sync::Arc;
use std::time::Duration;

impl Manager {
  /// Resolves once the session's running turn has ended, a permission request waits for an
  /// answer, or the session ended; at once when none of its turns runs (with the last one).
  /// `E_TIMEOUT` after `timeout` (the session goes on), `E_NOT_FOUND`.
  pub async fn wait_for_turn(&self, r: &str, timeout: Option<Duration>) -> Result<TurnResult> {
    match self.registry.find(r) {
      Ok((s, _)) => wait(&s, r, timeout).await,
      Err(e) => match self.store.find_async(r).await? {
        Some(stored) if stored.info.status.is_terminal() => Ok(ended(stored.info)),
        _ => Err(e),
      },
    }
  }

  /// `send`, resolving when the turn it started has ended (see `wait_for_turn`).
  pub async fn send_and_wait(
    &self,
    r: &str,
    text: &str,
    user_initiated: bool,
    timeout: Option<Duration>,
  ) -> Result<TurnResult> {
    let info = self.send(r, text, user_initiated).await?;
    self.wait_for_turn(&info.id, timeout).await
  }

  /// `spawn`, resolving when its first turn has ended (see `wait_for_turn`).
  pub async fn spawn_and_wait(
    &self,
    opts: SpawnOptions,
    keepalive: Option<KeepAlive>,
    timeout: Option<Duration>,
  ) -> Result<TurnResult> {
    let info = self.spawn(opts, keepalive).await?;
    self.wait_for_turn(&info.id, timeout).await
  }
}

async fn wait(s: &Arc<LiveSession>, r: &str, timeout: Option<Duration>) -> Result<TurnResult> {
  s.wait_for(timeout, |st| st.turn_result())
    .await
    .ok_or_else(|| {
      Error::Timeout(format!(
        "the turn of session `{r}` did not end within {} ms; it goes on",
        timeout.unwrap_or_default().as_millis()
      ))
    })
}

/// The result for a session that is only in the store: it ended.
fn ended(session: crate::session::SessionInfo) -> TurnResult {
  TurnResult {
    outcome: TurnEnd::Ended,
    turn: session.turns,
    text: String::new(),
    cost_usd: 0.0,
    usage: Default::default(),
    error: session.last_error.clone(),
    duration_ms: 0,
    session,
  }
}
