//! Unit tests of the store: schema, round trips, chains, recovery, retention, bad files.

use super::*;
use crate::model::options::Backend;
use crate::session::{Limits, NewSession, SessionState};

fn scratch(tag: &str) -> PathBuf {
  let d = std::env::temp_dir().join(format!("ocs-store-{tag}-{}", std::process::id()));
  let _ = std::fs::remove_dir_all(&d);
  std::fs::create_dir_all(&d).unwrap();
  d
}

fn session(id: &str, from: Option<&str>, status: Status) -> StoredSession {
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
  assert_eq!(ids(store.all().unwrap()), ["c"]);
  assert_eq!(store.count().unwrap(), 1);
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
  store
    .lock()
    .execute(
      "UPDATE sessions SET owner_pid = 999999999, owner_start = 1 WHERE id = 'orphan'",
      [],
    )
    .unwrap();
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
fn a_corrupt_file_is_moved_aside_and_named() {
  let dir = scratch("corrupt");
  let path = dir.join("s.db");
  std::fs::write(&path, vec![0x5au8; 8192]).unwrap();
  let err = Store::open(path.to_str().unwrap()).err().unwrap();
  assert_eq!(err.code(), "E_STORE");
  let msg = err.to_string();
  assert!(
    msg.contains(path.to_str().unwrap()) && msg.contains("moved aside"),
    "{msg}"
  );
  let aside: Vec<_> = std::fs::read_dir(&dir)
    .unwrap()
    .flatten()
    .filter(|e| e.file_name().to_string_lossy().contains(".corrupt-"))
    .collect();
  assert_eq!(aside.len(), 1, "the bad file is kept");
  assert_eq!(std::fs::read(aside[0].path()).unwrap(), vec![0x5au8; 8192]);
  // The user's choice: open again → a fresh store.
  let fresh = Store::open(path.to_str().unwrap()).unwrap();
  assert_eq!(fresh.count().unwrap(), 0);
}

#[test]
fn a_read_only_directory_fails_at_open() {
  if nix::unistd::geteuid().is_root() {
    // Root writes through directory permissions; use a path under a file instead.
    let dir = scratch("ro");
    let file = dir.join("not-a-dir");
    std::fs::write(&file, "x").unwrap();
    let err = Store::open(file.join("s.db").to_str().unwrap())
      .err()
      .unwrap();
    assert_eq!(err.code(), "E_STORE");
    assert!(err.to_string().contains("not-a-dir"));
    return;
  }
  let dir = scratch("ro");
  use std::os::unix::fs::PermissionsExt;
  std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o500)).unwrap();
  let err = Store::open(dir.join("s.db").to_str().unwrap())
    .err()
    .unwrap();
  std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
  assert_eq!(err.code(), "E_STORE");
}
