//! The caller's session `metadata` (`model::metadata`): `setMetadata`, and the `list` filter.

use crate::manager::Manager;
use crate::model::error::{Error, Result};
use crate::model::info::SessionInfo;
use serde_json::{Map, Value};

impl Manager {
  /// Patches the session's metadata: a shallow merge where a `null` value deletes its key.
  /// A session this manager runs (live or in memory) is changed and handed to the store's
  /// writer; a stored finished one is rewritten in the store. `E_NOT_FOUND` for an unknown
  /// ref, `E_INVALID_ARGUMENT` when the result is over 4 KiB of JSON, `E_STATE` for a session
  /// another manager runs or a tombstone, `E_STORE` when the store cannot be written.
  pub fn set_metadata(&self, r: &str, patch: &Map<String, Value>) -> Result<SessionInfo> {
    if let Ok((s, _)) = self.registry.find(r) {
      let info = s.update(|st| {
        let r = crate::model::metadata::patched(&st.info().metadata, patch).map(|m| {
          st.set_metadata(m);
          st.info()
        });
        (r, Vec::new())
      })?;
      s.store_changed();
      return Ok(info);
    }
    let mut stored = self
      .store
      .find(r)?
      .ok_or_else(|| super::resume::not_found(r))?;
    let id = &stored.info.id;
    if stored.info.evicted {
      return Err(Error::State(format!(
        "session `{id}` was evicted from the store by retention: only its ids and links are kept"
      )));
    }
    if !stored.info.status.is_terminal() {
      return Err(Error::State(format!(
        "session `{id}` is {} in another manager: set its metadata there",
        stored.info.status.as_str()
      )));
    }
    stored.info.metadata = crate::model::metadata::patched(&stored.info.metadata, patch)?;
    self.store.upsert(&stored)?;
    Ok(stored.info)
  }
}

/// Whether `info` passes the `list({ metadata })` filter (none: every session).
pub(crate) fn listed(info: &SessionInfo, filter: Option<&Map<String, Value>>) -> bool {
  filter.is_none_or(|f| crate::model::metadata::matches(&info.metadata, f))
}
