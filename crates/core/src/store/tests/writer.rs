//! The writer's fold: a burst of changes costs one write per `FOLD`, not one per change; a
//! session's end and a flush do not wait for it.

use super::*;
use crate::store::writer::{Snapshot, Writer, FOLD};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// A session whose snapshots are counted; `turns` is what it reports.
struct Counted {
  id: String,
  turns: AtomicU32,
  taken: AtomicUsize,
}

impl Counted {
  fn new(id: &str) -> Arc<Counted> {
    Arc::new(Counted {
      id: id.into(),
      turns: AtomicU32::new(0),
      taken: AtomicUsize::new(0),
    })
  }
}

impl Snapshot for Counted {
  fn snapshot(&self) -> StoredSession {
    self.taken.fetch_add(1, Ordering::SeqCst);
    let mut s = session(&self.id, None, Status::Running);
    s.info.turns = self.turns.load(Ordering::SeqCst);
    s
  }
}

fn stored_turns(store: &Store, id: &str) -> u32 {
  store.find(id).unwrap().unwrap().info.turns
}

/// Waits (up to 10 s) until `f` holds.
fn eventually(what: &str, f: impl Fn() -> bool) {
  let until = Instant::now() + Duration::from_secs(10);
  while !f() {
    assert!(Instant::now() < until, "timed out waiting for {what}");
    std::thread::sleep(Duration::from_millis(1));
  }
}

#[tokio::test]
async fn a_burst_of_changes_is_folded_into_few_writes_and_the_last_one_is_stored() {
  let dir = scratch("fold-burst");
  let store = Arc::new(Store::open(dir.join("s.db").to_str().unwrap()).unwrap());
  let w = Writer::start(Arc::clone(&store)).unwrap();
  let s = Counted::new("burst");
  let t = Instant::now();
  // A turn ends every ~300 µs, as in a replay: without the fold nearly each is a write.
  for turn in 1..=300 {
    s.turns.store(turn, Ordering::SeqCst);
    w.changed(s.clone(), false);
    std::thread::sleep(Duration::from_micros(300));
  }
  w.flush().await.unwrap();
  let elapsed = t.elapsed();
  assert_eq!(stored_turns(&store, "burst"), 300, "the latest change");
  // At most one write per fold window, plus the first (at once) and the flush's.
  let bound = 2 + (elapsed.as_millis() / FOLD.as_millis()) as usize;
  let taken = s.taken.load(Ordering::SeqCst);
  assert!(
    taken <= bound,
    "{taken} writes for 300 changes in {elapsed:?} (at most {bound})"
  );
}

#[tokio::test]
async fn an_ended_session_and_a_flush_do_not_wait_for_the_fold() {
  let dir = scratch("fold-urgent");
  let store = Arc::new(Store::open(dir.join("s.db").to_str().unwrap()).unwrap());
  store.shared.set_fold(Duration::from_secs(600));
  let w = Writer::start(Arc::clone(&store)).unwrap();
  let a = Counted::new("a");
  w.changed(a.clone(), false);
  eventually("the first change, written at once", || {
    a.taken.load(Ordering::SeqCst) == 1
  });
  // Within the (long) fold: an ended session is written at once, and takes `a` along.
  a.turns.store(1, Ordering::SeqCst);
  w.changed(a.clone(), false);
  let b = Counted::new("b");
  w.changed(b.clone(), true);
  eventually("the ended session's write", || {
    b.taken.load(Ordering::SeqCst) == 1
  });
  assert_eq!(stored_turns(&store, "a"), 1);
  // And a flush writes what waits.
  a.turns.store(2, Ordering::SeqCst);
  w.changed(a.clone(), false);
  tokio::time::timeout(Duration::from_secs(10), w.flush())
    .await
    .expect("the flush does not wait out the fold")
    .unwrap();
  assert_eq!(stored_turns(&store, "a"), 2);
}

#[tokio::test]
async fn a_new_session_is_stored_at_once_even_inside_the_fold() {
  // A manager killed right after `register`/`spawn` must not lose the session: its first
  // snapshot does not wait out the fold (two managers on one store saw it lost).
  let dir = scratch("fold-new");
  let m = crate::Manager::new(crate::ManagerOptions {
    store_path: Some(dir.join("s.db").to_string_lossy().into_owned()),
    max_sessions: 10,
    ..Default::default()
  })
  .unwrap();
  m.store.shared.set_fold(Duration::from_secs(600));
  let register = |name: String| {
    let o = serde_json::json!({ "workdir": dir, "name": name });
    m.register(serde_json::from_value(o).unwrap()).unwrap().id
  };
  let first = register("first".into());
  eventually("the first session, stored", || {
    m.store.find(&first).unwrap().is_some()
  });
  // The fold window is open now: five more sessions, each stored without waiting for it.
  let ids: Vec<String> = (0..5).map(|i| register(format!("s{i}"))).collect();
  eventually("every new session, stored", || {
    ids.iter().all(|id| m.store.find(id).unwrap().is_some())
  });
}
