//! The store's file checks: what is not our store is refused and left as it was; a newer
//! schema is refused; an old store of ours is migrated; damage is moved aside; an undecodable
//! row is skipped and kept.

use super::*;

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

#[test]
fn readers_refuse_what_is_not_our_store_and_change_nothing() {
  let dir = scratch("foreign");
  let text = dir.join("notes.txt");
  std::fs::write(&text, "my notes\n").unwrap();
  let other = dir.join("other.db");
  let c = Connection::open(&other).unwrap();
  c.execute_batch("PRAGMA application_id = 7; CREATE TABLE t(x); INSERT INTO t VALUES (1);")
    .unwrap();
  drop(c);
  let plain = dir.join("plain.db");
  let c = Connection::open(&plain).unwrap();
  c.execute_batch("CREATE TABLE people(name)").unwrap();
  drop(c);
  for (p, why) in [
    (&text, "not an SQLite database"),
    (&other, "another application"),
    (&plain, "another application"),
  ] {
    let before = sha(p);
    let listing = |d: &Path| {
      let mut v: Vec<_> = std::fs::read_dir(d)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
      v.sort();
      v
    };
    let files = listing(&dir);
    for open in [Store::open_read_only, Store::open] {
      let e = open(p.to_str().unwrap()).err().expect("refused");
      assert_eq!(e.code(), "E_STORE");
      let msg = e.to_string();
      assert!(
        msg.contains(p.to_str().unwrap()) && msg.contains(why),
        "{msg}"
      );
    }
    assert_eq!(sha(p), before, "{} unchanged", p.display());
    assert_eq!(listing(&dir), files, "nothing created or renamed");
  }
  let missing = dir.join("no-such-dir").join("x.db");
  let e = Store::open_read_only(missing.to_str().unwrap())
    .err()
    .unwrap();
  assert!(e.to_string().contains("no store was created"), "{e}");
  assert!(!dir.join("no-such-dir").exists());
}

#[test]
fn a_newer_schema_is_refused_and_left_alone() {
  let dir = scratch("newer");
  let path = dir.join("s.db");
  let store = Store::open(path.to_str().unwrap()).unwrap();
  sql(&store, "PRAGMA user_version = 99");
  drop(store);
  // Everything into the main file (the writer thread may close its connection later).
  Connection::open(&path)
    .unwrap()
    .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
    .unwrap();
  let before = sha(&path);
  for open in [Store::open_read_only, Store::open] {
    let e = open(path.to_str().unwrap()).err().unwrap();
    assert!(e.to_string().contains("newer release (schema 99"), "{e}");
  }
  assert_eq!(sha(&path), before);
}

#[test]
fn a_store_from_before_the_application_id_is_migrated() {
  let dir = scratch("legacy");
  let path = dir.join("s.db");
  let c = Connection::open(&path).unwrap();
  for (i, m) in open::MIGRATIONS_FOR_TESTS[..2].iter().enumerate() {
    c.execute_batch(m).unwrap();
    c.pragma_update(None, "user_version", i + 1).unwrap();
  }
  drop(c);
  let store = Store::open(path.to_str().unwrap()).unwrap();
  store
    .upsert(&session("a", None, Status::Completed))
    .unwrap();
  drop(store);
  let reader = Store::open_read_only(path.to_str().unwrap()).unwrap();
  assert_eq!(reader.count().unwrap(), 1);
}

#[test]
fn damaged_pages_are_moved_aside_and_what_reads_is_kept() {
  let dir = scratch("damaged");
  let path = dir.join("s.db");
  let store = Store::open(path.to_str().unwrap()).unwrap();
  let batch: Vec<_> = (0..300)
    .map(|i| session(&format!("s{i:03}"), None, Status::Completed))
    .collect();
  store.upsert_all(&batch).unwrap();
  drop(store);
  Connection::open(&path)
    .unwrap()
    .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
    .unwrap();
  // Garbage over the sessions table's page that holds `s150`'s info.
  let mut bytes = std::fs::read(&path).unwrap();
  let page = 4096;
  let needle = br#"{"id":"s150""#;
  let at = page
    * (bytes
      .windows(needle.len())
      .position(|w| w == needle)
      .expect("s150's info in the file")
      / page);
  bytes[at..at + page].fill(0xa5);
  std::fs::write(&path, &bytes).unwrap();
  let store = Store::open(path.to_str().unwrap()).unwrap();
  let w = store.warnings();
  assert_eq!(w.len(), 1);
  let msg = w[0].to_string();
  assert_eq!(w[0].code(), "E_STORE");
  let aside: Vec<_> = std::fs::read_dir(&dir)
    .unwrap()
    .flatten()
    .filter(|e| {
      let name = e.file_name().to_string_lossy().into_owned();
      name.contains(".corrupt-") && !name.ends_with("-wal") && !name.ends_with("-shm")
    })
    .collect();
  assert_eq!(aside.len(), 1, "the damaged file is kept");
  assert_eq!(std::fs::read(aside[0].path()).unwrap(), bytes, "untouched");
  assert!(
    msg.contains(path.to_str().unwrap()) && msg.contains(aside[0].path().to_str().unwrap()),
    "{msg}"
  );
  let kept = store.count().unwrap();
  assert!(kept > 200 && kept < 300, "kept {kept} of 300: {msg}");
}

#[test]
fn an_undecodable_row_is_skipped_reported_and_kept() {
  let dir = scratch("undecodable");
  let path = dir.join("s.db");
  let store = Store::open(path.to_str().unwrap()).unwrap();
  store
    .upsert(&session("good", None, Status::Completed))
    .unwrap();
  store
    .upsert(&session("bad", None, Status::Running))
    .unwrap();
  sql(
    &store,
    "UPDATE sessions SET info = '{\"id\": 42}', owner_pid = 1, owner_start = 1 WHERE id = 'bad'",
  );
  let reports = Arc::new(Mutex::new(Vec::new()));
  let r = Arc::clone(&reports);
  store.set_reporter(Arc::new(move |e: &Error| {
    r.lock().unwrap().push(e.to_string())
  }));
  assert!(
    store.recover().unwrap().is_empty(),
    "a live undecodable row is not fatal"
  );
  let ids: Vec<_> = store.all().unwrap().into_iter().map(|i| i.id).collect();
  assert_eq!(ids, ["good"]);
  assert!(store.find("bad").unwrap().is_none());
  let reports = reports.lock().unwrap();
  assert_eq!(reports.len(), 1, "reported once: {reports:?}");
  assert!(
    reports[0].contains("`bad` no longer decodes"),
    "{}",
    reports[0]
  );
  let raw: String = store
    .read(|c, _| {
      c.query_row("SELECT info FROM sessions WHERE id = 'bad'", [], |r| {
        r.get(0)
      })
    })
    .unwrap();
  assert_eq!(raw, "{\"id\": 42}", "kept for inspection");
}
