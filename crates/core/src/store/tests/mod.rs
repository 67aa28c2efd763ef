//! Unit tests of the store: schema, round trips, chains, recovery, retention, bad files.

use super::*;
use crate::model::event::{now_ms, EndReason, Status};
use crate::model::notification::Notification;
use crate::model::options::Backend;
use crate::session::{Limits, NewSession, SessionState};
use std::path::Path;
use std::sync::Mutex;

mod files;
mod layout;
mod listing;
mod writer;

pub(super) fn scratch(tag: &str) -> PathBuf {
  let d = std::env::temp_dir().join(format!("ocs-store-{tag}-{}", std::process::id()));
  let _ = std::fs::remove_dir_all(&d);
  std::fs::create_dir_all(&d).unwrap();
  d
}

/// Runs `sql` in the store's writer transaction.
pub(super) fn sql(store: &Store, sql: &str) {
  let sql = sql.to_owned();
  store.write(move |c, _| c.execute_batch(&sql)).unwrap();
}

pub(super) fn sha(p: &Path) -> Vec<u8> {
  std::fs::read(p).unwrap()
}

pub(super) fn session(id: &str, from: Option<&str>, status: Status) -> StoredSession {
  let mut st = SessionState::new(
    NewSession {
      id: id.into(),
      name: Some(format!("name-{id}")),
      backend: Backend::Claude,
      backend_session_id: format!("b-{id}"),
      workdir: "/tmp".into(),
      model: None,
      first_prompt: "hello".into(),
      origin: None,
      resumed_from_id: from.map(str::to_owned),
      forked_from_id: None,
    },
    Limits {
      event_log: 10,
      output_lines: 10,
      stderr_lines: 10,
    },
  );
  let mut info = st.info();
  st.started();
  info.status = status;
  if status.is_terminal() {
    info.ended_at = Some(now_ms());
  }
  StoredSession {
    info,
    summary: st.summary(),
    options: serde_json::json!({"backend": "claude"}),
    thread_usage: Usage::default(),
    pid_start: None,
  }
}

#[test]
fn round_trip_find_by_id_name_backend_id_and_file_mode() {
  let dir = scratch("roundtrip");
  let path = dir.join("s.db");
  let store = Store::open(path.to_str().unwrap()).unwrap();
  let a = session("a", None, Status::Running);
  store.upsert(&a).unwrap();
  assert_eq!(store.find("a").unwrap().unwrap(), a);
  assert_eq!(store.find("name-a").unwrap().unwrap().info.id, "a");
  assert_eq!(store.find("b-a").unwrap().unwrap().info.id, "a");
  assert!(store.find("zzz").unwrap().is_none());
  use std::os::unix::fs::PermissionsExt;
  assert_eq!(
    std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
    0o600
  );
  // A second store on the same file sees the same data (WAL, busy timeout).
  let other = Store::open(path.to_str().unwrap()).unwrap();
  assert_eq!(other.find("a").unwrap().unwrap(), a);
  let mut a2 = a.clone();
  a2.info.turns = 7;
  other.upsert(&a2).unwrap();
  assert_eq!(store.find("a").unwrap().unwrap().info.turns, 7);
}

#[test]
fn chains_read_back_newest_first_and_survive_eviction_as_tombstones() {
  let store = Store::open(":memory:").unwrap();
  store
    .upsert(&session("a", None, Status::Completed))
    .unwrap();
  store
    .upsert(&session("b", Some("a"), Status::Completed))
    .unwrap();
  store
    .upsert(&session("c", Some("b"), Status::Running))
    .unwrap();
  store.upsert(&session("x", None, Status::Failed)).unwrap();
  let ids = |v: Vec<StoredSession>| v.into_iter().map(|s| s.info.id).collect::<Vec<_>>();
  assert_eq!(ids(store.chain("c").unwrap()), ["c", "b", "a"]);
  // Keep 1: the live session stays; a and b are linked → tombstones; x is deleted.
  let report = store.gc(1, 0).unwrap();
  assert_eq!(
    report,
    GcReport {
      deleted: 1,
      tombstoned: 2
    }
  );
  assert!(store.find("x").unwrap().is_none());
  let chain = store.chain("c").unwrap();
  assert_eq!(
    ids(chain.clone()),
    ["c", "b", "a"],
    "the chain is still readable"
  );
  assert!(chain[1].info.evicted && chain[2].info.evicted && !chain[0].info.evicted);
  let listed: Vec<_> = store.all().unwrap().into_iter().map(|i| i.id).collect();
  assert_eq!(listed, ["c"]);
  assert_eq!(store.count().unwrap(), 1);
}

#[test]
fn recovery_tells_a_predecessor_with_our_pid_by_start_time_and_boot() {
  let dir = scratch("recover-pid-reuse");
  let path = dir.join("s.db");
  let store = Store::open(path.to_str().unwrap()).unwrap();
  for id in [
    "mine",
    "same-pid-earlier",
    "same-pid-other-boot",
    "live-other",
  ] {
    store.upsert(&session(id, None, Status::Running)).unwrap();
  }
  let me = std::process::id();
  // Our pid, an earlier start: the manager that was pid N before us (pid 1 in a container).
  sql(
    &store,
    &format!("UPDATE sessions SET owner_start = owner_start - 1 WHERE id = 'same-pid-earlier' AND owner_pid = {me}"),
  );
  // Our pid and start time, but another boot.
  sql(
    &store,
    "UPDATE sessions SET owner_boot = 'another-boot' WHERE id = 'same-pid-other-boot'",
  );
  // A running process (pid 1 here) recorded with its real start time: alive.
  let init_start = crate::process::start_time(1).unwrap() as i64;
  sql(
    &store,
    &format!(
      "UPDATE sessions SET owner_pid = 1, owner_start = {init_start} WHERE id = 'live-other'"
    ),
  );
  let mut recovered: Vec<String> = store
    .recover()
    .unwrap()
    .into_iter()
    .map(|s| s.info.id)
    .collect();
  recovered.sort();
  assert_eq!(recovered, ["same-pid-earlier", "same-pid-other-boot"]);
}

#[test]
fn recovery_marks_sessions_of_a_dead_manager_only() {
  let dir = scratch("recover");
  let path = dir.join("s.db");
  let store = Store::open(path.to_str().unwrap()).unwrap();
  store
    .upsert(&session("mine", None, Status::Running))
    .unwrap();
  // A row written by a manager that no longer runs.
  store
    .upsert(&session("orphan", None, Status::WaitingForInput))
    .unwrap();
  sql(
    &store,
    "UPDATE sessions SET owner_pid = 999999999, owner_start = 1 WHERE id = 'orphan'",
  );
  let recovered = store.recover().unwrap();
  assert_eq!(
    recovered
      .iter()
      .map(|s| s.info.id.as_str())
      .collect::<Vec<_>>(),
    ["orphan"]
  );
  let o = store.find("orphan").unwrap().unwrap();
  assert_eq!(o.info.status, Status::Interrupted);
  assert_eq!(o.info.end_reason, Some(EndReason::ManagerRestart));
  assert_eq!(
    store.find("mine").unwrap().unwrap().info.status,
    Status::Running,
    "our own live session is left alone"
  );
}

#[test]
fn list_filters_and_limits_in_sql() {
  let store = Store::open(":memory:").unwrap();
  for (id, st) in [
    ("a", Status::Completed),
    ("b", Status::Failed),
    ("c", Status::Completed),
  ] {
    store.upsert(&session(id, None, st)).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(2));
  }
  let ids =
    |q: Query| -> Vec<String> { store.list(&q).unwrap().into_iter().map(|i| i.id).collect() };
  let done = vec!["completed".to_string()];
  assert_eq!(
    ids(Query {
      statuses: done.clone(),
      ..Query::default()
    }),
    ["a", "c"]
  );
  assert_eq!(
    ids(Query {
      limit: Some(2),
      ..Query::default()
    }),
    ["b", "c"]
  );
  assert_eq!(
    ids(Query {
      backends: vec!["codex".into()],
      ..Query::default()
    }),
    Vec::<String>::new()
  );
  assert_eq!(
    ids(Query {
      backends: vec!["claude".into(), "codex-exec".into()],
      limit: Some(1),
      statuses: done
    }),
    ["c"]
  );
}

fn note(key: &str, session: &str) -> Notification {
  Notification {
    key: key.into(),
    kind: "completed".into(),
    session_id: session.into(),
    session_name: None,
    channel: "c".into(),
    text: "done".into(),
    data: serde_json::Value::Null,
    at: crate::model::event::now_ms(),
  }
}

#[tokio::test]
async fn ledger_claims_pass_only_when_their_manager_is_gone() {
  let dir = scratch("claims");
  let path = dir.join("s.db");
  let a = Store::open(path.to_str().unwrap()).unwrap();
  let b = Store::open(path.to_str().unwrap()).unwrap();
  assert!(a.ledger_add_async(&note("k1", "s")).await.unwrap());
  assert!(
    !b.ledger_add_async(&note("k1", "s")).await.unwrap(),
    "a key once"
  );
  assert!(a.ledger_is_mine("k1").await.unwrap());
  assert!(!b.ledger_is_mine("k1").await.unwrap());
  assert!(
    b.ledger_claim_orphans().await.unwrap().is_empty(),
    "a still runs"
  );
  drop(a);
  let claimed = b.ledger_claim_orphans().await.unwrap();
  assert_eq!(
    claimed.iter().map(|n| n.key.as_str()).collect::<Vec<_>>(),
    ["k1"]
  );
  assert!(b.ledger_is_mine("k1").await.unwrap());
  b.ledger_mark("k1", "delivered", 1).await.unwrap();
  assert!(b.ledger_claim_orphans().await.unwrap().is_empty());
  assert_eq!(b.ledger_status("k1").unwrap().as_deref(), Some("delivered"));
}

#[test]
fn retention_prunes_the_ledger_of_removed_sessions() {
  let store = Store::open(":memory:").unwrap();
  store
    .upsert(&session("old", None, Status::Completed))
    .unwrap();
  store.ledger_add(&note("k-old", "old")).unwrap();
  store
    .write(|c, _| ledger::mark(c, "k-old", "delivered", 1))
    .unwrap();
  store.ledger_add(&note("k-pending", "old")).unwrap();
  assert_eq!(store.gc(0, 0).unwrap().deleted, 1);
  assert_eq!(
    store.ledger_status("k-old").unwrap(),
    None,
    "settled: pruned"
  );
  assert_eq!(
    store.ledger_status("k-pending").unwrap().as_deref(),
    Some("pending"),
    "kept until sent"
  );
}
