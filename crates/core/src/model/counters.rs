//! Monotonic counters of what sessions did, fed by the manager's internal event listener and
//! by delivery; read by `stats()` and `metrics()`.

use crate::model::event::{AgentEvent, EventPayload};
use std::sync::atomic::{AtomicU64, Ordering};

/// Monotonic counters of what sessions did.
#[derive(Default)]
pub struct Counters {
  pub turns: AtomicU64,
  /// USD × 1e6.
  pub cost_micro_usd: AtomicU64,
  pub input_tokens: AtomicU64,
  pub output_tokens: AtomicU64,
  pub cache_read_tokens: AtomicU64,
  pub cache_creation_tokens: AtomicU64,
  pub notifications_delivered: AtomicU64,
  pub notifications_failed: AtomicU64,
}

impl Counters {
  /// Counts one event (called by the manager's internal listener).
  pub fn observe(&self, ev: &AgentEvent) {
    if let EventPayload::TurnCompleted {
      cost_usd, usage, ..
    } = &ev.payload
    {
      let r = Ordering::Relaxed;
      self.turns.fetch_add(1, r);
      self
        .cost_micro_usd
        .fetch_add((cost_usd * 1e6).round().max(0.0) as u64, r);
      self.input_tokens.fetch_add(usage.input_tokens, r);
      self.output_tokens.fetch_add(usage.output_tokens, r);
      self
        .cache_read_tokens
        .fetch_add(usage.cache_read_input_tokens, r);
      self
        .cache_creation_tokens
        .fetch_add(usage.cache_creation_input_tokens, r);
    }
  }
}
