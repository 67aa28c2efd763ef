//! Estimated cost of Codex sessions: Codex reports tokens, not USD, so the manager prices the
//! tokens of each turn with a table of USD per million tokens by model. The defaults below are
//! OpenAI's published list prices as of 2025-11 (standard tier); the caller's `prices` option
//! overrides or extends them. Like Claude Code's own `total_cost_usd`, the result is an
//! estimate: it knows nothing of discounts, batch or priority tiers.

use crate::model::error::{Error, Result};
use crate::model::event::Usage;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One model's price, USD per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Price {
  /// Input tokens not served from the prompt cache.
  pub input_per_m_tok: f64,
  /// Input tokens served from the prompt cache (Codex `cached_input_tokens`).
  pub cached_input_per_m_tok: f64,
  /// Output tokens (reasoning included).
  pub output_per_m_tok: f64,
}

impl Price {
  const fn new(input: f64, cached: f64, output: f64) -> Price {
    Price {
      input_per_m_tok: input,
      cached_input_per_m_tok: cached,
      output_per_m_tok: output,
    }
  }

  /// USD for `u`, Codex's counts: `input_tokens` includes the cached ones.
  pub fn cost(&self, u: &Usage) -> f64 {
    let cached = u.cache_read_input_tokens.min(u.input_tokens);
    let fresh = u.input_tokens - cached;
    (fresh as f64 * self.input_per_m_tok
      + cached as f64 * self.cached_input_per_m_tok
      + u.output_tokens as f64 * self.output_per_m_tok)
      / 1_000_000.0
  }
}

/// The default prices (USD per 1M tokens: input, cached input, output), dated 2025-11.
pub const DEFAULT_PRICES: &[(&str, Price)] = &[
  ("gpt-5", Price::new(1.25, 0.125, 10.0)),
  ("gpt-5-codex", Price::new(1.25, 0.125, 10.0)),
  ("gpt-5-mini", Price::new(0.25, 0.025, 2.0)),
  ("gpt-5-nano", Price::new(0.05, 0.005, 0.4)),
  ("gpt-5.1", Price::new(1.25, 0.125, 10.0)),
  ("gpt-5.1-codex", Price::new(1.25, 0.125, 10.0)),
  ("gpt-5.1-codex-mini", Price::new(0.25, 0.025, 2.0)),
  ("gpt-4.1", Price::new(2.0, 0.5, 8.0)),
  ("gpt-4.1-mini", Price::new(0.4, 0.1, 1.6)),
  ("o3", Price::new(2.0, 0.5, 8.0)),
  ("o4-mini", Price::new(1.1, 0.275, 4.4)),
];

/// The defaults with the caller's prices over them.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceTable(BTreeMap<String, Price>);

impl PriceTable {
  pub fn new(overrides: &BTreeMap<String, Price>) -> PriceTable {
    let mut t: BTreeMap<String, Price> = DEFAULT_PRICES
      .iter()
      .map(|(k, p)| ((*k).to_owned(), *p))
      .collect();
    t.extend(overrides.iter().map(|(k, p)| (k.clone(), *p)));
    PriceTable(t)
  }

  /// The price of `model`: its own entry, else the longest entry it extends with a `-`
  /// (`gpt-5-2025-08-07` → `gpt-5`); `None` for an unknown model.
  pub fn get(&self, model: &str) -> Option<Price> {
    if let Some(p) = self.0.get(model) {
      return Some(*p);
    }
    self
      .0
      .iter()
      .filter(|(k, _)| {
        model
          .strip_prefix(k.as_str())
          .is_some_and(|rest| rest.starts_with('-'))
      })
      .max_by_key(|(k, _)| k.len())
      .map(|(_, p)| *p)
  }
}

/// `E_INVALID_ARGUMENT` for a price that is negative, NaN or infinite, or an empty model name.
pub fn check_prices(prices: &BTreeMap<String, Price>) -> Result<()> {
  for (model, p) in prices {
    if model.trim().is_empty() {
      return Err(Error::InvalidArgument(
        "prices has an empty model name".into(),
      ));
    }
    for (key, v) in [
      ("inputPerMTok", p.input_per_m_tok),
      ("cachedInputPerMTok", p.cached_input_per_m_tok),
      ("outputPerMTok", p.output_per_m_tok),
    ] {
      if !(v >= 0.0 && v.is_finite()) {
        return Err(Error::InvalidArgument(format!(
          "prices.{model}.{key} is {v}: expected a finite number of USD per million tokens, 0 or more"
        )));
      }
    }
  }
  Ok(())
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn cached_input_is_priced_apart_from_fresh_input() {
    let u = Usage {
      input_tokens: 1_000_000,
      cache_read_input_tokens: 400_000,
      output_tokens: 100_000,
      cache_creation_input_tokens: 0,
    };
    let p = Price::new(1.25, 0.125, 10.0);
    let want = 0.6 * 1.25 + 0.4 * 0.125 + 0.1 * 10.0;
    assert!((p.cost(&u) - want).abs() < 1e-12);
  }

  #[test]
  fn the_callers_prices_win_and_dated_names_find_their_model() {
    let mut o = BTreeMap::new();
    o.insert("gpt-5".to_owned(), Price::new(2.0, 0.0, 20.0));
    o.insert("scripted-model".to_owned(), Price::new(1.0, 0.5, 4.0));
    let t = PriceTable::new(&o);
    assert_eq!(t.get("gpt-5").unwrap().input_per_m_tok, 2.0);
    assert_eq!(t.get("gpt-5-2025-08-07").unwrap().input_per_m_tok, 2.0);
    assert_eq!(t.get("gpt-5-mini").unwrap().input_per_m_tok, 0.25);
    assert_eq!(t.get("scripted-model").unwrap().output_per_m_tok, 4.0);
    assert!(t.get("gpt-50").is_none());
    assert!(t.get("unknown").is_none());
  }

  #[test]
  fn bad_prices_are_refused() {
    let mut o = BTreeMap::new();
    o.insert("m".to_owned(), Price::new(-1.0, 0.0, 0.0));
    assert_eq!(check_prices(&o).unwrap_err().code(), "E_INVALID_ARGUMENT");
    o.insert("m".to_owned(), Price::new(0.0, 0.0, f64::INFINITY));
    assert!(check_prices(&o).is_err());
  }
}
