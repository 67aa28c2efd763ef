//! Turns: `send` starts the next one, `interrupt_turn` cancels the running one.

use crate::manager::Manager;
use crate::model::error::{Error, Result};
use crate::model::event::{Ev, EventPayload};
use crate::notify::router::Input as RouterInput;
use crate::session::{SessionInfo, SessionState};
use nix::sys::signal::Signal;

impl Manager {
  /// Sends the next user message. `E_STATE` unless the session is `waiting-for-input`.
  /// `user_initiated: false` marks an automatic reply: at most `maxAutoResponds` in a row
  /// (`E_AUTO_RESPOND_LIMIT` after, with an `auto-respond-limit` event); a user's message
  /// resets the count.
  pub async fn send(&self, r: &str, text: &str, user_initiated: bool) -> Result<SessionInfo> {
    crate::model::options::check_message("message text", text)?;
    self.opts.check_prompt("the message", text)?;
    let (s, launch) = match self.registry.find(r) {
      Ok(found) => found,
      Err(e) => {
        let info = self.stored_finished(r, e).await?;
        return Err(Error::State(format!(
          "session `{r}` is {}; resume it to continue the conversation",
          info.status.as_str()
        )));
      }
    };
    if s.state().is_external() {
      return Err(Error::State(format!(
        "session `{r}` is driven by its owner (registered for ingest); send through it"
      )));
    }
    let max = self.opts.max_auto_responds;
    s.update(|st| begin_turn(st, text, user_initiated, max))?;
    let sent = launch.next_turn(&s, text).await;
    if s.is_done() {
      // Stopped while the turn was being started: nothing may outlive the session.
      s.signal(Signal::SIGKILL);
    }
    if let Err(e) = sent {
      // The turn never started; a session with no process left cannot go on.
      if !s.has_process() && !s.is_done() {
        s.update(|st| {
          let ev = st.protocol_error(e.to_string());
          (
            (),
            std::iter::once(ev).chain(st.exited(None, None)).collect(),
          )
        });
      }
      return Err(e);
    }
    if let Some((router, _)) = &self.notifications {
      router.send(RouterInput::Sent {
        id: s.state().id().to_owned(),
        text: text.to_owned(),
        user_initiated,
      });
    }
    let info = s.state().info();
    Ok(info)
  }

  /// Cancels the running turn only; the session goes on (`waiting-for-input` once the CLI
  /// ends the turn, which it reports as interrupted). When no turn runs, nothing happens and
  /// the snapshot is returned as is.
  pub async fn interrupt_turn(&self, r: &str) -> Result<SessionInfo> {
    let (s, launch) = match self.registry.find(r) {
      Ok(found) => found,
      Err(e) => return self.stored_finished(r, e).await,
    };
    if s.state().is_external() {
      return Err(Error::State(format!(
        "session `{r}` is driven by its owner (registered for ingest); interrupt it there"
      )));
    }
    if s.state().request_turn_interrupt() {
      launch.interrupt_turn(&s).await?;
    }
    let info = s.state().info();
    Ok(info)
  }
}

/// Starts a user turn in `st` if it may start: `E_AUTO_RESPOND_LIMIT` past `max` automatic
/// messages in a row (with an `auto-respond-limit` event), `E_STATE` while a permission
/// decision is pending, when a stop was asked for, or when the session is not
/// `waiting-for-input`.
fn begin_turn(
  st: &mut SessionState,
  text: &str,
  user_initiated: bool,
  max: u32,
) -> (Result<()>, Vec<Ev>) {
  if !user_initiated {
    if let Err(count) = st.count_auto_respond(max) {
      let ev = st.record(EventPayload::AutoRespondLimit { count, max });
      return (
        Err(Error::AutoRespondLimit(format!(
          "session `{}` got {count} automatic messages in a row (maxAutoResponds = {max}); \
             a user-initiated message resets the count",
          st.id()
        ))),
        vec![ev],
      );
    }
  }
  if st.has_pending_permissions() {
    return (
      Err(Error::State(format!(
        "session `{}` waits for a permission decision; answer it with respondToPermission",
        st.id()
      ))),
      vec![],
    );
  }
  if st.stop_request().is_some() {
    // A stop (close, interrupt, eviction at the limit) was asked for while the session
    // waited: a new turn would only be cut short by it.
    return (
      Err(Error::State(format!(
        "session `{}` is stopping; resume it once it has ended",
        st.id()
      ))),
      vec![],
    );
  }
  match st.begin_turn(text) {
    Ok(ev) => {
      if user_initiated {
        st.reset_auto_responds();
      }
      (Ok(()), ev.into_iter().collect())
    }
    Err(status) => (
      Err(Error::State(format!(
        "session `{}` is {}, not waiting-for-input; wait for the turn to end",
        st.id(),
        status.as_str()
      ))),
      vec![],
    ),
  }
}
