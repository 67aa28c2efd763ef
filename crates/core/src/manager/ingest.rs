//! Sessions whose agent process the caller owns (e.g. `@anthropic-ai/claude-agent-sdk` in JS):
//! `register` makes one, `ingest` feeds it the SDK's messages (Claude's stream-json shapes), and
//! from there it gets the same statuses, notifications, persistence and resume chain as a
//! session this manager spawned.

use crate::manager::start::Admission;
use crate::manager::Manager;
use crate::model::error::{Error, Result};
use crate::model::event::{EventPayload, Status};
use crate::model::options::{check_dir, check_owner, is_uuid, Backend, Origin, SpawnOptions};
use crate::protocol::claude;
use crate::session::launch::Launch;
use crate::session::{NewSession, SessionInfo, TurnOutcome};
use serde::Deserialize;
use std::sync::Arc;

/// `register(options)`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegisterOptions {
  /// The agent's working directory (absolute): where a later `resume` runs the CLI.
  pub workdir: String,
  pub name: Option<String>,
  /// The first user message, if the caller sent one (for the summary and `firstPrompt`).
  pub prompt: Option<String>,
  pub model: Option<String>,
  pub origin: Option<Origin>,
  /// Who launched the session, as `spawn({ owner })`: the same as `origin.owner`; when both
  /// are given they must agree.
  pub owner: Option<String>,
  /// The Claude session id, if known before the first message (else taken from `init`).
  pub backend_session_id: Option<String>,
}

/// Messages that mean a turn is under way.
fn starts_turn(p: &EventPayload) -> bool {
  matches!(
    p,
    EventPayload::Init { .. }
      | EventPayload::AssistantText { .. }
      | EventPayload::Thinking { .. }
      | EventPayload::ToolUse { .. }
      | EventPayload::StreamEvent { .. }
  )
}

impl Manager {
  /// Registers a session whose process the caller owns; it starts `starting` and follows the
  /// messages given to `ingest`. Counts toward `maxSessions`.
  pub fn register(&self, o: RegisterOptions) -> Result<SessionInfo> {
    check_dir("workdir", &o.workdir)?;
    if o.name.as_deref().is_some_and(|n| n.trim().is_empty()) {
      return Err(Error::InvalidArgument(
        "name is empty: omit it or give a non-empty name".into(),
      ));
    }
    check_owner(o.owner.as_deref(), o.origin.as_ref())?;
    if let Some(id) = o.backend_session_id.as_deref().filter(|id| !is_uuid(id)) {
      return Err(Error::InvalidArgument(format!(
        "backendSessionId must be a Claude session id (a UUID), got `{id}`"
      )));
    }
    let spawn_like = registered_options(&o);
    let mut state = self.new_state(NewSession {
      id: uuid::Uuid::new_v4().to_string(),
      name: o.name.clone(),
      backend: Backend::Claude,
      backend_session_id: o.backend_session_id.clone().unwrap_or_default(),
      workdir: o.workdir.clone(),
      model: o.model.clone(),
      first_prompt: o.prompt.clone().unwrap_or_default(),
      origin: spawn_like.origin_with_owner(),
      resumed_from_id: None,
      forked_from_id: None,
    });
    state.set_external();
    let launch = Arc::new(Launch::external(
      &self.opts,
      &o.workdir,
      Arc::clone(&self.spawned),
    ));
    let session = self.admit(Admission {
      state,
      options: &spawn_like,
      launch,
      keepalive: None,
      default_allow: false,
    })?;
    let info = session.state().info();
    Ok(info)
  }

  /// Feeds one message of a registered session (an SDK message: `system`, `assistant`,
  /// `user`, `result`, ...). A message after the session waited starts its next turn; a
  /// `result` ends a turn; a failed model call ends the session `failed`.
  /// `E_STATE` for a session this manager spawned itself or one that has ended.
  pub fn ingest(&self, r: &str, message: serde_json::Value) -> Result<SessionInfo> {
    let (s, _) = self.registry.find(r)?;
    if !s.state().is_external() {
      return Err(Error::State(format!(
        "session `{r}` runs a process of this manager; only registered sessions take ingest"
      )));
    }
    if s.is_done() {
      return Err(Error::State(format!(
        "session `{r}` has ended; register a new one"
      )));
    }
    let typed = message
      .get("type")
      .and_then(|t| t.as_str())
      .is_some_and(|t| !t.is_empty());
    if !typed {
      return Err(Error::InvalidArgument(
        "ingest takes one SDK message: an object with a string `type` (system, assistant, user, result, ...)".into(),
      ));
    }
    for p in claude::parse_message(message) {
      let outcome = s.update(|st| {
        let mut evs = Vec::new();
        if st.status() == Status::WaitingForInput && starts_turn(&p) {
          evs.extend(st.begin_turn("").ok().flatten());
        }
        let (more, outcome) = st.apply(p);
        evs.extend(more);
        (outcome, evs)
      });
      if matches!(outcome, TurnOutcome::ApiFailed) {
        s.end_external();
      }
    }
    let info = s.state().info();
    Ok(info)
  }
}

/// What a registered session stores for a later resume: a Claude session in its workdir.
fn registered_options(o: &RegisterOptions) -> SpawnOptions {
  SpawnOptions {
    backend: Backend::Claude,
    prompt: o.prompt.clone().unwrap_or_default(),
    workdir: o.workdir.clone(),
    name: o.name.clone(),
    model: o.model.clone(),
    permission_mode: None,
    allowed_tools: Vec::new(),
    disallowed_tools: Vec::new(),
    append_system_prompt: None,
    max_turns: None,
    add_dirs: Vec::new(),
    env: Default::default(),
    origin: o.origin.clone(),
    owner: o.owner.clone(),
    sandbox: None,
    approval_policy: None,
    config: Default::default(),
    resume: None,
    fork: false,
    max_budget_usd: None,
    metadata: None,
    recovery: None,
  }
}
