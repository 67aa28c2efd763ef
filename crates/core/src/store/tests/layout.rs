//! Schema 5's split layout: a listing reads only `SessionInfo`; a store of schema 4 is
//! migrated by a manager and read as it is by a reader; the async reads run off the runtime.

use super::*;

/// A store as schema 4 wrote it: every session as one `data` JSON; `bad` does not decode.
fn schema_4(path: &Path, sessions: &[StoredSession]) {
  let c = Connection::open(path).unwrap();
  for (i, m) in open::MIGRATIONS_FOR_TESTS[..4].iter().enumerate() {
    c.execute_batch(m).unwrap();
    c.pragma_update(None, "user_version", i + 1).unwrap();
  }
  c.pragma_update(None, "application_id", APPLICATION_ID)
    .unwrap();
  for s in sessions {
    c.execute(
      "INSERT INTO sessions (id, name, backend_session_id, status, created_at, data, backend)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'claude')",
      rusqlite::params![
        s.info.id,
        s.info.name,
        s.info.backend_session_id,
        s.info.status.as_str(),
        s.info.created_at as i64,
        serde_json::to_string(s).unwrap()
      ],
    )
    .unwrap();
  }
  c.execute(
    "INSERT INTO sessions (id, status, created_at, data) VALUES ('bad', 'completed', 9, 'not json')",
    [],
  )
  .unwrap();
}

fn three() -> Vec<StoredSession> {
  ["a", "b", "c"]
    .iter()
    .enumerate()
    .map(|(n, id)| {
      let mut s = session(id, None, Status::Completed);
      s.info.created_at = 100 + n as u64;
      s.summary = vec![SummaryTurn {
        prompt: format!("q-{id}"),
        reply: format!("r-{id}"),
      }];
      s
    })
    .collect()
}

#[test]
fn a_reader_reads_a_schema_4_store_as_it_is() {
  let dir = scratch("layout-reader");
  let path = dir.join("s.db");
  let sessions = three();
  schema_4(&path, &sessions);
  let before = sha(&path);
  let reader = Store::open_read_only(path.to_str().unwrap()).unwrap();
  let listed: Vec<_> = reader.all().unwrap().into_iter().map(|i| i.id).collect();
  assert_eq!(listed, ["a", "b", "c"], "`bad` skipped");
  let found = reader.find("name-b").unwrap().unwrap();
  assert_eq!(found, sessions[1], "every part read back from `data`");
  assert!(reader.find("bad").unwrap().is_none());
  drop(reader);
  assert_eq!(sha(&path), before, "a reader never migrates");
}

#[test]
fn a_manager_migrates_schema_4_into_the_split_layout() {
  let dir = scratch("layout-migrate");
  let path = dir.join("s.db");
  let sessions = three();
  schema_4(&path, &sessions);
  let store = Store::open(path.to_str().unwrap()).unwrap();
  let reports = Arc::new(Mutex::new(Vec::new()));
  let r = Arc::clone(&reports);
  store.set_reporter(Arc::new(move |e: &Error| {
    r.lock().unwrap().push(e.to_string())
  }));
  let listed: Vec<_> = store.all().unwrap().into_iter().map(|i| i.id).collect();
  assert_eq!(listed, ["a", "b", "c"]);
  for s in &sessions {
    assert_eq!(store.find(&s.info.id).unwrap().as_ref(), Some(s));
  }
  assert!(store.find("bad").unwrap().is_none());
  assert!(
    reports.lock().unwrap()[0].contains("`bad` no longer decodes"),
    "{:?}",
    reports.lock().unwrap()
  );
  let (version, columns, raw): (usize, String, String) = store
    .read(|c, _| {
      let columns: Vec<String> = c
        .prepare("SELECT name FROM pragma_table_info('sessions')")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
      Ok((
        open::version(c)?,
        columns.join(","),
        c.query_row("SELECT info FROM sessions WHERE id = 'bad'", [], |r| {
          r.get(0)
        })?,
      ))
    })
    .unwrap();
  assert_eq!(version, SCHEMA_VERSION);
  assert!(
    columns.contains("info") && !columns.contains("data"),
    "{columns}"
  );
  assert_eq!(raw, "not json", "kept for inspection");
  // Written again in the new layout, read back whole.
  let mut changed = sessions[0].clone();
  changed.info.turns = 7;
  changed.summary.push(SummaryTurn {
    prompt: "q2".into(),
    reply: "r2".into(),
  });
  store.upsert(&changed).unwrap();
  assert_eq!(store.find("a").unwrap(), Some(changed));
  drop(store);
  let reader = Store::open_read_only(path.to_str().unwrap()).unwrap();
  assert_eq!(reader.find("b").unwrap().as_ref(), Some(&sessions[1]));
}

#[test]
fn a_listing_decodes_only_the_session_info() {
  let store = Store::open(":memory:").unwrap();
  store
    .upsert(&session("a", None, Status::Completed))
    .unwrap();
  // Details that do not decode: a listing never reads them, a full read reports them.
  sql(
    &store,
    "UPDATE session_details SET data = 'garbage' WHERE id = 'a'",
  );
  let listed: Vec<_> = store.all().unwrap().into_iter().map(|i| i.id).collect();
  assert_eq!(listed, ["a"]);
  assert!(store.find("a").unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn async_reads_run_off_the_runtime_threads() {
  let dir = scratch("layout-async");
  let path = dir.join("s.db");
  let store = Arc::new(Store::open(path.to_str().unwrap()).unwrap());
  store.upsert_all(&three()).unwrap();
  // Hold the read connection (from another thread): an async read must wait for it on the
  // blocking pool, and the runtime's one worker thread must stay free meanwhile.
  let (locked_tx, locked) = std::sync::mpsc::channel();
  let (release, release_rx) = std::sync::mpsc::channel::<()>();
  let s = Arc::clone(&store);
  let holder = std::thread::spawn(move || {
    let _guard = s.shared.read.lock().unwrap();
    locked_tx.send(()).unwrap();
    let _ = release_rx.recv();
  });
  locked.recv().unwrap();
  let s = Arc::clone(&store);
  let listing = tokio::spawn(async move {
    s.list_async(&Query {
      limit: Some(2),
      ..Query::default()
    })
    .await
  });
  let ticked = tokio::spawn(async { 42 });
  let ticked = tokio::time::timeout(std::time::Duration::from_secs(5), ticked)
    .await
    .expect("the worker thread is not blocked by the read")
    .unwrap();
  assert_eq!(ticked, 42);
  assert!(!listing.is_finished());
  release.send(()).unwrap();
  holder.join().unwrap();
  let ids: Vec<_> = listing
    .await
    .unwrap()
    .unwrap()
    .into_iter()
    .map(|i| i.id)
    .collect();
  assert_eq!(ids, ["b", "c"]);
  let found = store.find_async("name-a").await.unwrap().unwrap();
  assert_eq!(found.summary[0].prompt, "q-a");
  let memory = Store::open(":memory:").unwrap();
  memory.upsert(&session("m", None, Status::Failed)).unwrap();
  assert_eq!(
    memory.list_async(&Query::default()).await.unwrap()[0].id,
    "m"
  );
  assert_eq!(memory.find_async("m").await.unwrap().unwrap().info.id, "m");
}
