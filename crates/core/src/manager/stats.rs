//! What the manager reports about itself: `stats()` and the `list()` filter.

use crate::manager::Manager;
use crate::model::event::{Status, ALL_STATUSES};
use crate::model::info::SessionInfo;
use crate::model::options::Backend;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

/// Which sessions `list` returns (`list({ status, backend, liveOnly, metadata, owner,
/// limit })`). Absent fields match everything.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct ListFilter {
  #[serde(rename = "status")]
  pub statuses: Vec<Status>,
  /// One backend or several (`'codex'` or `['codex', 'codex-exec']`); empty: all.
  #[serde(deserialize_with = "one_or_many")]
  pub backend: Vec<Backend>,
  /// Only live (non-terminal) sessions.
  pub live_only: bool,
  /// Only sessions whose metadata has each of these top-level keys with an equal value
  /// (`null` matches an absent key).
  pub metadata: Option<serde_json::Map<String, serde_json::Value>>,
  /// Only the sessions of this owner (an owner's handle always sets its own).
  pub owner: Option<String>,
  /// At most this many sessions: the newest (by `createdAt`), still returned oldest first.
  pub limit: Option<u32>,
}

impl ListFilter {
  /// Whether `i` passes the filter (not the limit).
  pub(crate) fn matches(&self, i: &SessionInfo) -> bool {
    (self.statuses.is_empty() || self.statuses.contains(&i.status))
      && (self.backend.is_empty() || self.backend.contains(&i.backend))
      && (!self.live_only || !i.status.is_terminal())
      && super::metadata::listed(i, self.metadata.as_ref())
      && (self.owner.is_none() || i.owner_id() == self.owner.as_deref())
  }

  /// Whether some of the filter is matched after the store's query (owner, metadata), so
  /// that the query cannot apply the limit.
  pub(crate) fn post_filters(&self) -> bool {
    self.owner.is_some() || self.metadata.is_some()
  }

  /// The statuses the store's query selects (empty: all), `liveOnly` folded in; `None` when
  /// no status can match (live-only of terminal statuses).
  pub(crate) fn stored_statuses(&self) -> Option<Vec<String>> {
    let mut s: Vec<Status> = if self.statuses.is_empty() && self.live_only {
      ALL_STATUSES.to_vec()
    } else {
      self.statuses.clone()
    };
    if self.live_only {
      s.retain(|s| !s.is_terminal());
      if s.is_empty() {
        return None;
      }
    }
    Some(s.iter().map(|s| s.as_str().to_owned()).collect())
  }
}

/// A backend or a list of them.
fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Backend>, D::Error> {
  #[derive(serde::Deserialize)]
  #[serde(untagged)]
  enum OneOrMany {
    One(Backend),
    Many(Vec<Backend>),
  }
  use serde::Deserialize;
  match Option::<OneOrMany>::deserialize(d)? {
    None => Ok(Vec::new()),
    Some(OneOrMany::One(b)) => Ok(vec![b]),
    Some(OneOrMany::Many(v)) => Ok(v),
  }
}

/// Manager-wide counters (`stats()`).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
  /// Sessions not in a terminal status.
  pub live: u32,
  /// Sessions held in memory.
  pub total: u32,
  /// Count per status name, every status present.
  pub by_status: BTreeMap<String, u32>,
  /// Processes started since the manager was created.
  pub spawned: u64,
  pub spawn_failures: u64,
  /// Turns ended, over sessions in memory.
  pub turns: u64,
  /// USD, over sessions in memory.
  pub total_cost_usd: f64,
  pub events_emitted: u64,
  pub listeners: u32,
  pub max_sessions: u32,
  /// What opening the store found (a damaged file moved aside, with both paths), as
  /// `[E_STORE] message` lines; empty for a healthy store.
  pub store_warnings: Vec<String>,
  /// The same counts per backend, over sessions in memory; every backend present.
  pub by_backend: BTreeMap<String, BackendStats>,
}

/// One backend's share of `stats()` (`byBackend`), over sessions in memory.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct BackendStats {
  /// Sessions not in a terminal status.
  pub live: u32,
  /// Sessions held in memory.
  pub total: u32,
  /// Turns ended.
  pub turns: u64,
  /// USD: Claude's reported cost, Codex's estimate from `prices`.
  pub total_cost_usd: f64,
  /// Tokens over all turns.
  pub usage: crate::model::event::Usage,
}

impl BackendStats {
  /// Per backend name, every backend present.
  fn collect(infos: &[SessionInfo]) -> BTreeMap<String, BackendStats> {
    let mut by: BTreeMap<String, BackendStats> = Backend::ALL
      .iter()
      .map(|b| (b.as_str().to_owned(), BackendStats::default()))
      .collect();
    for i in infos {
      let b = by.entry(i.backend.as_str().to_owned()).or_default();
      b.live += u32::from(!i.status.is_terminal());
      b.total += 1;
      b.turns += i.turns as u64;
      b.total_cost_usd += i.total_cost_usd;
      b.usage.add(&i.usage);
    }
    by
  }
}

/// What `stats()` reads besides the sessions: plain numbers, so `Stats` is built from data.
pub(crate) struct Gauges {
  pub spawned: u64,
  pub spawn_failures: u64,
  pub events_emitted: u64,
  pub listeners: u32,
  pub max_sessions: u32,
  pub store_warnings: Vec<String>,
}

impl Stats {
  /// The stats of the sessions `infos` (those held in memory).
  pub(crate) fn collect(infos: &[SessionInfo], g: Gauges) -> Stats {
    let mut by_status: BTreeMap<String, u32> = ALL_STATUSES
      .iter()
      .map(|s| (s.as_str().to_owned(), 0))
      .collect();
    for i in infos {
      *by_status.entry(i.status.as_str().to_owned()).or_default() += 1;
    }
    Stats {
      live: infos.iter().filter(|i| !i.status.is_terminal()).count() as u32,
      total: infos.len() as u32,
      by_status,
      spawned: g.spawned,
      spawn_failures: g.spawn_failures,
      turns: infos.iter().map(|i| i.turns as u64).sum(),
      total_cost_usd: infos.iter().map(|i| i.total_cost_usd).sum(),
      events_emitted: g.events_emitted,
      listeners: g.listeners,
      max_sessions: g.max_sessions,
      store_warnings: g.store_warnings,
      by_backend: BackendStats::collect(infos),
    }
  }
}

impl Manager {
  /// Manager-wide counters over the sessions held in memory.
  pub fn stats(&self) -> Stats {
    let gauges = Gauges {
      spawned: self.spawned.load(Ordering::Relaxed),
      spawn_failures: self.spawn_failures.load(Ordering::Relaxed),
      events_emitted: self.listeners.emitted(),
      listeners: self.listeners.len() as u32,
      max_sessions: self.opts.max_sessions,
      store_warnings: (self.store.warnings().iter())
        .map(|e| format!("[{}] {e}", e.code()))
        .collect(),
    };
    Stats::collect(&self.live_infos(), gauges)
  }
}
