//! Owners: who may touch a session. A session records who launched it (`spawn({ owner })`,
//! `register({ owner })`, or `origin.owner`). A call made in an owner's [`Scope`] (the
//! binding's `forOwner(owner)` handle) resolves refs among that owner's sessions only, lists
//! and streams only theirs, and stamps new sessions with the owner; a ref that names only
//! another owner's session is `E_FORBIDDEN`, with a message that tells nothing of that session.
//! The operator's scope (the unscoped manager) sees every session.

use crate::manager::{ListFilter, Manager, RegisterOptions};
use crate::model::error::{Error, Result};
use crate::model::event::Ev;
use crate::model::options::SpawnOptions;
use crate::session::listeners::Listener;
use crate::session::SessionInfo;
use std::sync::Arc;

/// Whose view a call is made in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Scope {
  /// Every session (the unscoped manager).
  #[default]
  Operator,
  /// Only the sessions of this owner.
  Owner(String),
}

impl Scope {
  /// An owner's scope; `E_INVALID_ARGUMENT` for a blank owner.
  pub fn owner(owner: &str) -> Result<Scope> {
    if owner.trim().is_empty() {
      return Err(Error::InvalidArgument(
        "owner is empty: give the owner's id (e.g. the chat user id)".into(),
      ));
    }
    Ok(Scope::Owner(owner.to_owned()))
  }

  /// The owner, for an owner's scope.
  pub fn owner_id(&self) -> Option<&str> {
    match self {
      Scope::Operator => None,
      Scope::Owner(o) => Some(o),
    }
  }

  /// Whether a session of `owner` (`None`: the operator's) is visible in this scope.
  pub fn sees(&self, owner: Option<&str>) -> bool {
    match self {
      Scope::Operator => true,
      Scope::Owner(me) => owner == Some(me.as_str()),
    }
  }

  /// `E_FORBIDDEN` for what an owner's handle may not do (manager-wide operations).
  pub fn operator_only(&self, what: &str) -> Result<()> {
    match self {
      Scope::Operator => Ok(()),
      Scope::Owner(_) => Err(Error::Forbidden(format!(
        "{what} is the operator's: an owner's handle (forOwner) cannot call it"
      ))),
    }
  }
}

/// The refusal for a ref that names another owner's session: it says nothing of the session.
fn forbidden(r: &str) -> Error {
  Error::Forbidden(format!("session `{r}` belongs to another owner"))
}

impl Manager {
  /// The ref to act on for `r` in `scope`. The operator's scope: `r` as given (id, then name,
  /// newest first across owners, then backend session id). An owner's: the id of their live or
  /// stored session with that id, name (newest) or backend session id; `E_FORBIDDEN` when only
  /// another owner's session (or the operator's) answers to `r`; `E_NOT_FOUND` when none does.
  pub fn resolve(&self, scope: &Scope, r: &str) -> Result<String> {
    let Scope::Owner(me) = scope else {
      return Ok(r.to_owned());
    };
    if let Ok((s, _)) = self.registry.find_owned(r, Some(me)) {
      return Ok(s.state().id().to_owned());
    }
    if let Some(s) = self.store.find_owned(r, me)? {
      return Ok(s.info.id);
    }
    if self.registry.find(r).is_ok() || self.store.find(r)?.is_some() {
      return Err(forbidden(r));
    }
    Err(Error::NotFound(format!(
      "no session with id, name or backend session id `{r}` among yours, live or stored; list() shows yours"
    )))
  }

  /// Makes `opts` a spawn of `scope`'s owner: the owner is stamped on the session; a different
  /// `owner` / `origin.owner` is `E_FORBIDDEN`, and so is `resume` of a conversation this
  /// manager knows as another owner's.
  pub fn scope_spawn(&self, scope: &Scope, opts: &mut SpawnOptions) -> Result<()> {
    let Scope::Owner(me) = scope else {
      return Ok(());
    };
    refuse_other_owner(me, opts.owner())?;
    opts.owner = Some(me.clone());
    if let Some(conversation) = &opts.resume {
      match self.resolve(scope, conversation) {
        Err(Error::NotFound(_)) => {}
        other => {
          other?;
        }
      }
    }
    Ok(())
  }

  /// Makes `o` a registration of `scope`'s owner (as [`Manager::scope_spawn`]).
  pub fn scope_register(&self, scope: &Scope, o: &mut RegisterOptions) -> Result<()> {
    if let Scope::Owner(me) = scope {
      let given = o
        .owner
        .as_deref()
        .or_else(|| o.origin.as_ref().and_then(|x| x.owner.as_deref()));
      refuse_other_owner(me, given)?;
      o.owner = Some(me.clone());
    }
    Ok(())
  }

  /// Narrows `f` to `scope`'s owner; asking an owner's handle for another owner's sessions is
  /// `E_FORBIDDEN`.
  pub fn scope_list(&self, scope: &Scope, f: &mut ListFilter) -> Result<()> {
    if let Scope::Owner(me) = scope {
      refuse_other_owner(me, f.owner.as_deref())?;
      f.owner = Some(me.clone());
    }
    Ok(())
  }

  /// `resume_chain` in `scope`: ancestors of other owners are left out.
  pub fn scoped_chain(&self, scope: &Scope, r: &str) -> Result<Vec<SessionInfo>> {
    let id = self.resolve(scope, r)?;
    let chain = self.resume_chain(&id)?;
    Ok(
      chain
        .into_iter()
        .filter(|i| scope.sees(i.owner_id()))
        .collect(),
    )
  }

  /// Adds an event listener that gets only the events of `scope`'s sessions (every event,
  /// manager-wide ones too, for the operator); returns its id for `unsubscribe`.
  pub fn subscribe_scoped(&self, scope: &Scope, f: Listener) -> u64 {
    let Scope::Owner(me) = scope else {
      return self.subscribe(f);
    };
    let me: Arc<str> = Arc::from(me.as_str());
    let registry = Arc::downgrade(&self.registry);
    self.subscribe(Arc::new(move |ev: &Ev| {
      // The owner index takes no session lock (listeners run under the session's).
      let owner = registry
        .upgrade()
        .and_then(|r| r.owner_by_id(&ev.session_id))
        .flatten();
      if owner.as_deref() == Some(&*me) {
        f(ev);
      }
    }))
  }
}

fn refuse_other_owner(me: &str, given: Option<&str>) -> Result<()> {
  match given {
    Some(o) if o != me => Err(Error::Forbidden(
      "an owner's handle acts only for its own owner; it cannot name another".into(),
    )),
    _ => Ok(()),
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::model::options::{check_owner, Origin};
  use crate::store::{Store, StoredSession};

  fn stored(id: &str, name: &str, owner: Option<&str>, legacy: bool, at: u64) -> StoredSession {
    let json = serde_json::json!({
      "info": {
        "id": id, "name": name, "backend": "claude", "backendSessionId": format!("b-{id}"),
        "status": "completed", "statusReason": null, "endReason": null, "workdir": "/tmp",
        "model": null, "firstPrompt": "secret", "pid": null, "createdAt": at, "updatedAt": at,
        "endedAt": at, "turns": 1, "numTurns": 1, "totalCostUsd": 0.0,
        "usage": {"inputTokens": 0, "outputTokens": 0, "cacheReadInputTokens": 0, "cacheCreationInputTokens": 0},
        "lastAssistantText": null, "lastError": null, "exitCode": 0, "exitSignal": null,
        "stderrTail": [], "origin": owner.map(|o| serde_json::json!({"owner": o})),
        "owner": if legacy { None } else { owner },
        "lastSeq": 1, "forcedStop": false, "pendingPermissions": []
      },
      "summary": [], "options": {"backend": "claude"}, "threadUsage": {"inputTokens": 0, "outputTokens": 0, "cacheReadInputTokens": 0, "cacheCreationInputTokens": 0}, "pidStart": null
    });
    serde_json::from_value(json).unwrap()
  }

  #[test]
  fn stored_names_resolve_within_the_owner_also_for_rows_with_only_origin_owner() {
    let store = Store::open(":memory:").unwrap();
    store
      .upsert(&stored("a1", "fix-auth", Some("alice"), true, 1))
      .unwrap();
    store
      .upsert(&stored("b1", "fix-auth", Some("bob"), false, 2))
      .unwrap();
    store
      .upsert(&stored("o1", "fix-auth", None, false, 3))
      .unwrap();
    store.sync().unwrap();
    let id = |r: &str, o: &str| store.find_owned(r, o).unwrap().map(|s| s.info.id);
    assert_eq!(id("fix-auth", "alice").as_deref(), Some("a1"));
    assert_eq!(id("fix-auth", "bob").as_deref(), Some("b1"));
    assert_eq!(id("b-a1", "alice").as_deref(), Some("a1"));
    assert_eq!(
      id("a1", "bob"),
      None,
      "another owner's id is not found among bob's"
    );
    assert_eq!(store.find("fix-auth").unwrap().unwrap().info.id, "o1");
    let legacy = store.find_owned("a1", "alice").unwrap().unwrap().info;
    assert_eq!(
      legacy.owner_id(),
      Some("alice"),
      "origin.owner counts as the owner"
    );
  }

  #[test]
  fn scopes_see_their_owner_and_refuse_the_manager_wide_calls() {
    let alice = Scope::owner("alice").unwrap();
    assert!(alice.sees(Some("alice")));
    assert!(!alice.sees(Some("bob")) && !alice.sees(None));
    assert!(Scope::Operator.sees(None) && Scope::Operator.sees(Some("bob")));
    assert_eq!(alice.operator_only("gc").unwrap_err().code(), "E_FORBIDDEN");
    assert!(Scope::Operator.operator_only("gc").is_ok());
    assert_eq!(Scope::owner(" ").unwrap_err().code(), "E_INVALID_ARGUMENT");
    let origin = |o: &str| Origin {
      owner: Some(o.into()),
      ..Origin::default()
    };
    assert!(check_owner(Some("a"), Some(&origin("a"))).is_ok());
    let e = check_owner(Some("a"), Some(&origin("b"))).unwrap_err();
    assert_eq!(e.code(), "E_INVALID_ARGUMENT");
    assert!(check_owner(Some(""), None).is_err());
  }
}
