//! `metrics()`: the manager's counters as Prometheus text (exposition format 0.0.4). Counters
//! are fed by an internal event listener, so they only ever grow; gauges are read live.

use crate::manager::Manager;
use crate::model::event::ALL_STATUSES;
use std::fmt::Write;
use std::sync::atomic::Ordering;

fn metric(out: &mut String, name: &str, kind: &str, help: &str, samples: &[(String, String)]) {
  let _ = writeln!(out, "# HELP openclaw_sessions_{name} {help}");
  let _ = writeln!(out, "# TYPE openclaw_sessions_{name} {kind}");
  for (labels, value) in samples {
    let _ = writeln!(out, "openclaw_sessions_{name}{labels} {value}");
  }
}

impl Manager {
  /// The manager's metrics in the Prometheus text format.
  pub fn metrics(&self) -> String {
    let stats = self.stats();
    let c = &self.counters;
    let r = Ordering::Relaxed;
    let mut out = String::new();
    let by_status: Vec<(String, String)> = ALL_STATUSES
      .iter()
      .map(|s| {
        let n = stats.by_status.get(s.as_str()).copied().unwrap_or(0);
        (format!("{{status=\"{}\"}}", s.as_str()), n.to_string())
      })
      .collect();
    metric(
      &mut out,
      "sessions",
      "gauge",
      "Sessions held in memory, by status.",
      &by_status,
    );
    metric(
      &mut out,
      "live_sessions",
      "gauge",
      "Sessions not in a terminal status.",
      &[(String::new(), stats.live.to_string())],
    );
    let one = |v: u64| vec![(String::new(), v.to_string())];
    metric(
      &mut out,
      "spawned_total",
      "counter",
      "CLI processes started.",
      &one(stats.spawned),
    );
    metric(
      &mut out,
      "spawn_failures_total",
      "counter",
      "CLI processes that could not be started.",
      &one(stats.spawn_failures),
    );
    metric(
      &mut out,
      "turns_total",
      "counter",
      "Turns ended.",
      &one(c.turns.load(r)),
    );
    let usd = c.cost_micro_usd.load(r) as f64 / 1e6;
    metric(
      &mut out,
      "cost_usd_total",
      "counter",
      "Reported cost in USD (the CLIs' estimates).",
      &[(String::new(), format!("{usd}"))],
    );
    let tokens = [
      ("input", c.input_tokens.load(r)),
      ("output", c.output_tokens.load(r)),
      ("cache_read", c.cache_read_tokens.load(r)),
      ("cache_creation", c.cache_creation_tokens.load(r)),
    ]
    .iter()
    .map(|(k, v)| (format!("{{type=\"{k}\"}}"), v.to_string()))
    .collect::<Vec<_>>();
    metric(
      &mut out,
      "tokens_total",
      "counter",
      "Tokens reported, by type.",
      &tokens,
    );
    metric(
      &mut out,
      "notifications_total",
      "counter",
      "Notifications by delivery outcome.",
      &[
        (
          "{outcome=\"delivered\"}".into(),
          c.notifications_delivered.load(r).to_string(),
        ),
        (
          "{outcome=\"failed\"}".into(),
          c.notifications_failed.load(r).to_string(),
        ),
      ],
    );
    metric(
      &mut out,
      "events_total",
      "counter",
      "Events published.",
      &one(stats.events_emitted),
    );
    out
  }
}
