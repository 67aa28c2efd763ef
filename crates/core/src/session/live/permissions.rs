//! Permission requests of a live session: a CLI's approval request becomes a
//! `permission-request` event, answered by `respondToPermission` or, after the policy's
//! timeout, by its default; the answer is written back in the backend's wire format.

use super::LiveSession;
use crate::model::error::{Error, Result};
use crate::model::event::EventPayload;
use crate::model::options::Backend;
use crate::protocol::{claude, codex::app_server as rpc, PermissionAnswer};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// How unanswered permission requests are answered.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PermissionPolicy {
  pub default_allow: bool,
  pub timeout: Duration,
}

impl LiveSession {
  /// A request from the CLI. Approvals become `permission-request` events waiting for
  /// `respondToPermission` (or the default policy); anything else is answered "method not
  /// found" so the CLI never waits on us.
  pub(super) async fn server_request(self: &Arc<Self>, id: Value, method: String, params: Value) {
    if !rpc::is_approval(&method) {
      let reply = rpc::error_response(
        &id,
        -32601,
        &format!("openclaw-sessions does not handle `{method}`"),
      );
      let _ = self.write(&reply).await;
      return;
    }
    let request_id = id.to_string();
    self.update(|st| {
      let ev = st.apply(EventPayload::PermissionRequest {
        request_id: request_id.clone(),
        tool_name: method.clone(),
        input: params.clone(),
        tool_use_id: params
          .get("itemId")
          .and_then(Value::as_str)
          .map(str::to_owned),
      });
      ((), ev.0)
    });
    self.arm_permission_timer(request_id);
  }

  /// Answers the request with the default policy if nobody has after the timeout. The timer
  /// ends as soon as the request is no longer pending (answered, its turn over, the process
  /// gone), so an answered request holds no task and no reference to the session.
  pub(super) fn arm_permission_timer(self: &Arc<Self>, request_id: String) {
    let me = Arc::clone(self);
    let policy = self.permissions;
    tokio::spawn(async move {
      let settled = me
        .wait_until(policy.timeout, |st| !st.is_permission_pending(&request_id))
        .await;
      if settled {
        return;
      }
      let answer = PermissionAnswer {
        allow: policy.default_allow,
        message: Some(format!(
          "No answer within {} ms; the session's default policy decided",
          policy.timeout.as_millis()
        )),
        updated_input: None,
      };
      let _ = me.answer_permission(&request_id, &answer, "policy").await;
    });
  }

  /// Answers a pending permission request: Claude `control_response` to `can_use_tool`, Codex
  /// `{decision}` response. `E_NOT_FOUND` when no such request is pending (already answered,
  /// or its turn is over).
  pub(crate) async fn answer_permission(
    &self,
    request_id: &str,
    answer: &PermissionAnswer,
    by: &str,
  ) -> Result<()> {
    let taken = self.update(|st| {
      let backend = st.backend();
      match st.resolve_permission(request_id, answer.allow, by) {
        Some((pending, evs)) => (Some((pending, backend)), evs),
        None => (None, Vec::new()),
      }
    });
    let Some((pending, backend)) = taken else {
      return Err(Error::NotFound(format!(
        "no pending permission request `{request_id}`; get(ref).pendingPermissions lists them"
      )));
    };
    let line = match backend {
      Backend::Claude => claude::permission_response(&pending.request_id, &pending.input, answer),
      Backend::Codex | Backend::CodexExec => {
        let id = serde_json::from_str(&pending.request_id)
          .unwrap_or(Value::String(pending.request_id.clone()));
        rpc::approval_response(&id, answer)
      }
    };
    self
      .write(&line)
      .await
      .map_err(|e| Error::State(format!("the session's CLI no longer reads input ({e})")))
  }
}
