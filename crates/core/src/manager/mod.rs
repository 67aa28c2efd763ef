//! The session manager: the public facade. Everything a caller can do goes through here.
//! Starting sessions is `start`, stopping them `stop`, the sessions held in memory `registry`,
//! the persisted side (`get`, `list`, `resume`, `gc`, recovery) `resume`, registered sessions
//! fed by their owner `ingest`, notifications and permission answers `notifications`, and what
//! the manager reports about itself `stats` and `metrics`. Who may touch a session (an owner's
//! view, `E_FORBIDDEN`) is `scope`.

mod evict;
mod ingest;
mod metadata;
mod metrics;
mod notifications;
mod recovery;
mod registry;
mod resumability;
mod resume;
mod scope;
mod start;
mod stats;
mod stop;
mod turns;
mod wait;

pub use ingest::RegisterOptions;
pub use resumability::{CanResumeOptions, CanResumeReason, Resumability};
pub use scope::Scope;
pub use stats::{BackendStats, ListFilter, Stats};

use crate::model::counters::Counters;
use crate::model::error::{Error, Result};
use crate::model::event::{AgentEvent, EventPayload};
use crate::model::options::ManagerOptions;
use crate::notify::delivery::Delivery;
use crate::notify::router::Router;
use crate::session::listeners::{Listener, Listeners};
use crate::session::SessionInfo;
use crate::store::{Store, Writer};
use registry::Registry;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

/// The session manager.
pub struct Manager {
  pub(crate) opts: ManagerOptions,
  registry: Arc<Registry>,
  pub(crate) listeners: Arc<Listeners>,
  pub(crate) spawned: Arc<AtomicU64>,
  pub(crate) spawn_failures: AtomicU64,
  pub(crate) store: Arc<Store>,
  /// Writes session snapshots off the hot path.
  pub(crate) writer: Arc<Writer>,
  /// Monotonic counters for `metrics()`.
  pub(crate) counters: Arc<Counters>,
  /// Notification routing and delivery; `None` when created outside a tokio runtime.
  pub(crate) notifications: Option<(Router, Delivery)>,
  /// Codex sessions' prices: the defaults under `prices` (`model::pricing`).
  pub(crate) prices: Arc<crate::model::pricing::PriceTable>,
  /// Held by a start that makes room at the limit (`onLimit: 'evict-idle'`) until it is
  /// admitted, so that two starts never evict for the same slot (`manager::evict`).
  pub(crate) evicting: tokio::sync::Mutex<()>,
}

impl Manager {
  /// Opens the store, marks sessions a dead manager left live as `interrupted`
  /// (`manager-restart`) and kills their orphaned processes, then applies retention.
  /// Fails with `E_INVALID_ARGUMENT` on bad options, `E_STORE` on a store that cannot be used.
  pub fn new(opts: ManagerOptions) -> Result<Self> {
    opts.validate()?;
    let opts_prices = opts.prices.clone();
    let path = match &opts.store_path {
      Some(p) => p.clone(),
      None => crate::store::default_path().to_string_lossy().into_owned(),
    };
    let store = Arc::new(Store::open(&path)?);
    let writer = Arc::new(Writer::start(Arc::clone(&store))?);
    let registry = Arc::new(Registry::new(opts.max_sessions, opts.finished_ttl_ms));
    let listeners = Arc::new(Listeners::default());
    store.set_reporter(store_reporter(&listeners));
    let counters = Arc::new(Counters::default());
    let observe = Arc::clone(&counters);
    listeners.subscribe(Arc::new(move |ev: &crate::model::event::Ev| {
      observe.observe(ev)
    }));
    recovery::watch(&registry, &store, &listeners);
    let notifications = tokio::runtime::Handle::try_current()
      .ok()
      .map(|_| notifications::start(&opts, &store, &registry, &listeners, &counters));
    let m = Manager {
      opts,
      registry,
      listeners,
      spawned: Arc::new(AtomicU64::new(0)),
      spawn_failures: AtomicU64::new(0),
      store,
      writer,
      counters,
      notifications,
      prices: Arc::new(crate::model::pricing::PriceTable::new(&opts_prices)),
      evicting: tokio::sync::Mutex::new(()),
    };
    m.recover()?;
    m.gc()?;
    Ok(m)
  }

  pub fn options(&self) -> &ManagerOptions {
    &self.opts
  }

  /// The live session `r` as the store would hold it now.
  pub(crate) fn live_snapshot(&self, r: &str) -> Result<crate::store::StoredSession> {
    let (s, _) = self.registry.find(r)?;
    let st = s.state();
    Ok(crate::store::StoredSession {
      info: st.info(),
      summary: st.summary(),
      options: serde_json::Value::Null,
      thread_usage: st.thread_usage(),
      pid_start: st.pid_start(),
    })
    .map(|mut stored| {
      stored.options = s.stored_options();
      stored
    })
  }

  /// Snapshots of the sessions held in memory.
  pub(crate) fn live_infos(&self) -> Vec<SessionInfo> {
    self
      .registry
      .all()
      .iter()
      .map(|s| s.state().info())
      .collect()
  }

  /// For operations on a session this manager does not run: the stored one's snapshot if it
  /// is finished (a no-op), else `E_NOT_FOUND`.
  /// The store is read off the runtime's threads.
  async fn stored_finished(&self, r: &str, e: Error) -> Result<SessionInfo> {
    match self.store.find_async(r).await? {
      Some(s) if s.info.status.is_terminal() => Ok(s.info),
      _ => Err(e),
    }
  }

  /// The last `lines` lines of assistant text (default: all kept).
  pub fn output(&self, r: &str, lines: Option<u32>) -> Result<Vec<String>> {
    let n = lines.map(|n| n as usize).unwrap_or(usize::MAX);
    Ok(self.registry.find(r)?.0.state().output(n))
  }

  /// Logged events after `since_seq`, optionally of the given kinds.
  pub fn events(&self, r: &str, since_seq: u64, kinds: &[String]) -> Result<Vec<AgentEvent>> {
    let events = self.registry.find(r)?.0.state().events(since_seq, kinds);
    Ok(events.iter().map(|e| AgentEvent::clone(e)).collect())
  }

  /// Adds an event listener (all sessions); returns its id.
  pub fn subscribe(&self, f: Listener) -> u64 {
    self.listeners.subscribe(f)
  }

  /// Removes a listener; false if it was already removed.
  pub fn unsubscribe(&self, id: u64) -> bool {
    self.listeners.unsubscribe(id)
  }
}

/// Store problems outside any session (a damaged file moved aside, the file deleted while in
/// use, an undecodable row) as `error` events with an empty `sessionId`.
fn store_reporter(listeners: &Arc<Listeners>) -> crate::store::Reporter {
  let listeners = Arc::downgrade(listeners);
  Arc::new(move |e: &Error| {
    if let Some(l) = listeners.upgrade() {
      l.emit(&crate::model::event::Ev::new(AgentEvent {
        seq: 0,
        session_id: "".into(),
        at: crate::model::event::now_ms(),
        payload: EventPayload::Error {
          message: format!("[{}] {e}", e.code()),
          fatal: false,
        },
      }));
    }
  })
}
