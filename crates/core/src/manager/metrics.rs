//! `metrics()`: the manager's counters as Prometheus text (exposition format 0.0.4). Counters
//! are fed by an internal event listener, so they only ever grow; gauges are read live.
//! `render` is built from plain data: a [`Stats`] snapshot and the [`Counters`].

use crate::manager::{Manager, Stats};
use crate::model::counters::Counters;
use crate::model::event::ALL_STATUSES;
use std::fmt::Write;
use std::sync::atomic::Ordering;

/// One metric family: name (after `openclaw_sessions_`), type, help, and `(labels, value)`
/// samples.
type Family = (
  &'static str,
  &'static str,
  &'static str,
  Vec<(String, String)>,
);

impl Manager {
  /// The manager's metrics in the Prometheus text format.
  pub fn metrics(&self) -> String {
    render(&self.stats(), &self.counters)
  }
}

/// The text of every metric family.
pub(crate) fn render(stats: &Stats, c: &Counters) -> String {
  let mut out = String::new();
  for (name, kind, help, samples) in families(stats, c) {
    let _ = writeln!(out, "# HELP openclaw_sessions_{name} {help}");
    let _ = writeln!(out, "# TYPE openclaw_sessions_{name} {kind}");
    for (labels, value) in samples {
      let _ = writeln!(out, "openclaw_sessions_{name}{labels} {value}");
    }
  }
  out
}

fn families(stats: &Stats, c: &Counters) -> Vec<Family> {
  let mut out = session_families(stats);
  out.extend(usage_families(c));
  out.push((
    "events_total",
    "counter",
    "Events published.",
    one(stats.events_emitted.to_string()),
  ));
  out
}

/// One unlabelled sample.
fn one(v: String) -> Vec<(String, String)> {
  vec![(String::new(), v)]
}

/// Samples labelled `{label="name"}`.
fn labelled(label: &str, pairs: &[(&str, u64)]) -> Vec<(String, String)> {
  pairs
    .iter()
    .map(|(k, v)| (format!("{{{label}=\"{k}\"}}"), v.to_string()))
    .collect()
}

/// Sessions and processes: gauges read live, counters since the manager started.
fn session_families(stats: &Stats) -> Vec<Family> {
  let by_status: Vec<(&str, u64)> = ALL_STATUSES
    .iter()
    .map(|s| {
      let n = stats.by_status.get(s.as_str()).copied().unwrap_or(0);
      (s.as_str(), u64::from(n))
    })
    .collect();
  vec![
    (
      "sessions",
      "gauge",
      "Sessions held in memory, by status.",
      labelled("status", &by_status),
    ),
    (
      "live_sessions",
      "gauge",
      "Sessions not in a terminal status.",
      one(stats.live.to_string()),
    ),
    (
      "spawned_total",
      "counter",
      "CLI processes started.",
      one(stats.spawned.to_string()),
    ),
    (
      "spawn_failures_total",
      "counter",
      "CLI processes that could not be started.",
      one(stats.spawn_failures.to_string()),
    ),
  ]
}

/// What sessions used and what was delivered, from the monotonic counters.
fn usage_families(c: &Counters) -> Vec<Family> {
  let r = Ordering::Relaxed;
  let tokens = [
    ("input", c.input_tokens.load(r)),
    ("output", c.output_tokens.load(r)),
    ("cache_read", c.cache_read_tokens.load(r)),
    ("cache_creation", c.cache_creation_tokens.load(r)),
  ];
  let outcomes = [
    ("delivered", c.notifications_delivered.load(r)),
    ("failed", c.notifications_failed.load(r)),
  ];
  let usd = c.cost_micro_usd.load(r) as f64 / 1e6;
  vec![
    (
      "turns_total",
      "counter",
      "Turns ended.",
      one(c.turns.load(r).to_string()),
    ),
    (
      "cost_usd_total",
      "counter",
      "Reported cost in USD (the CLIs' estimates).",
      one(format!("{usd}")),
    ),
    (
      "tokens_total",
      "counter",
      "Tokens reported, by type.",
      labelled("type", &tokens),
    ),
    (
      "notifications_total",
      "counter",
      "Notifications by delivery outcome.",
      labelled("outcome", &outcomes),
    ),
  ]
}
