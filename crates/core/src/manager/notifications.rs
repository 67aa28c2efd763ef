//! The manager's notification side: starting the router and delivery, the delivery callback,
//! foreground / background streaming, and answering permission requests.

use crate::manager::registry::Registry;
use crate::manager::Manager;
use crate::model::error::{Error, Result};
use crate::model::event::{AgentEvent, Ev, EventPayload};
use crate::model::options::ManagerOptions;
use crate::notify::delivery::{Deliver, Delivery, Report};
use crate::notify::router::{Input as RouterInput, Router};
use crate::protocol::PermissionAnswer;
use crate::session::listeners::Listeners;
use crate::session::SessionInfo;
use crate::store::Store;
use std::sync::Arc;
use std::time::Duration;

impl Manager {
  /// Sets the notification delivery callback (`None` stops delivery; notifications wait in the
  /// ledger). Pending ones, also from before a restart, are delivered once it is set.
  pub fn on_notification(&self, deliver: Option<Deliver>) {
    if let Some((_, delivery)) = &self.notifications {
      delivery.set(deliver);
    }
  }

  /// Streams the session's output to `channel` (`output` notifications, debounced) and its
  /// tool calls (`tool-use`); returns the output lines the channel has not seen yet.
  pub async fn foreground(&self, r: &str, channel: &str) -> Result<Vec<String>> {
    let (s, _) = self.registry.find(r)?;
    if s.state().status().is_terminal() {
      return Err(crate::model::error::Error::NotFound(format!(
        "session `{r}` is finished ({}): only a live session can be foregrounded",
        s.state().status().as_str()
      )));
    }
    let Some((router, _)) = &self.notifications else {
      return Ok(Vec::new());
    };
    let (tx, rx) = tokio::sync::oneshot::channel();
    router.send(RouterInput::Foreground {
      id: s.state().id().to_owned(),
      channel: channel.to_owned(),
      reply: tx,
    });
    Ok(rx.await.unwrap_or_default())
  }

  /// Stops streaming the session to `channel`.
  pub fn background(&self, r: &str, channel: &str) -> Result<()> {
    let (s, _) = self.registry.find(r)?;
    if let Some((router, _)) = &self.notifications {
      router.send(RouterInput::Background {
        id: s.state().id().to_owned(),
        channel: channel.to_owned(),
      });
    }
    Ok(())
  }

  /// Answers a pending permission request (Claude `can_use_tool`, Codex approval). The session
  /// runs on once no request is pending. `E_NOT_FOUND` for an unknown or already answered
  /// request, `E_STATE` for a finished session.
  pub async fn respond_to_permission(
    &self,
    r: &str,
    request_id: &str,
    answer: PermissionAnswer,
  ) -> Result<SessionInfo> {
    let (s, _) = self.registry.find(r)?;
    if s.is_done() {
      return Err(Error::State(format!(
        "session `{r}` is {}; its permission requests are void",
        s.state().status().as_str()
      )));
    }
    s.answer_permission(request_id, &answer, "user").await?;
    let info = s.state().info();
    Ok(info)
  }
}

/// Starts delivery and the router; events reach the router through a listener, and sessions'
/// delivery problems come back as events on them.
pub(crate) fn start(
  opts: &ManagerOptions,
  store: &Arc<Store>,
  registry: &Arc<Registry>,
  listeners: &Arc<Listeners>,
  counters: &Arc<crate::model::counters::Counters>,
) -> (Router, Delivery) {
  let registry = Arc::downgrade(registry);
  let fallback = Arc::downgrade(listeners);
  let report: Report = Arc::new(move |id: &str, payload| {
    let live = registry.upgrade().and_then(|r| r.by_id(id));
    match live {
      Some(s) => s.update(|st| ((), vec![st.record(payload)])),
      None => {
        if let Some(l) = fallback.upgrade() {
          l.emit(&Ev::new(AgentEvent {
            seq: 0,
            session_id: id.into(),
            at: crate::model::event::now_ms(),
            payload,
          }));
        }
      }
    }
  });
  let n = &opts.notifications;
  let delivery = Delivery::start(
    Arc::clone(store),
    n.delivery_attempts,
    Duration::from_millis(n.delivery_backoff_ms),
    Arc::clone(&report),
    Arc::clone(counters),
  );
  // What an earlier manager created and could not deliver goes out first (delivery claims it).
  let router = Router::start(n.clone(), delivery.clone(), report);
  let to_router = router.clone();
  listeners.subscribe(Arc::new(move |ev: &Ev| {
    // Only what the router reads: no copies of the high-volume rest.
    let wanted = matches!(
      ev.payload,
      EventPayload::Status { .. }
        | EventPayload::AssistantText { .. }
        | EventPayload::ToolUse { .. }
        | EventPayload::TurnCompleted { .. }
        | EventPayload::Stderr { .. }
        | EventPayload::Exit { .. }
        | EventPayload::Error { fatal: true, .. }
        | EventPayload::PermissionRequest { .. }
        | EventPayload::BudgetExhausted { .. }
        | EventPayload::AutoRespondLimit { .. }
        | EventPayload::Recovering { .. }
    );
    if wanted {
      to_router.send(RouterInput::Event(Ev::clone(ev)));
    }
  }));
  (router, delivery)
}
