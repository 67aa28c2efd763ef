//! What the manager reports about itself: `stats()` and the `list()` filter.

use crate::manager::Manager;
use crate::model::event::{Status, ALL_STATUSES};
use crate::model::info::SessionInfo;
use crate::model::options::Backend;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

/// Which sessions `list` returns (`list({ status, backend, liveOnly, limit })`). Absent fields
/// match everything.
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
  /// At most this many sessions: the newest (by `createdAt`), still returned oldest first.
  pub limit: Option<u32>,
}

impl ListFilter {
  /// Whether `i` passes the filter (not the limit).
  pub(crate) fn matches(&self, i: &SessionInfo) -> bool {
    (self.statuses.is_empty() || self.statuses.contains(&i.status))
      && (self.backend.is_empty() || self.backend.contains(&i.backend))
      && (!self.live_only || !i.status.is_terminal())
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
