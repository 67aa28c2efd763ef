//! Long listings: decoded on two threads, every row kept, order and skipped rows as for a short
//! one; the stored `SessionInfo` leaves its empty optional fields out and reads back the same.

use super::*;
use std::collections::HashSet;

/// `n` sessions created newest first (so the scan order is not the listing's order).
fn many(store: &Store, n: usize) -> Vec<String> {
  let batch: Vec<StoredSession> = (0..n)
    .map(|i| {
      let mut s = session(&format!("s{i:05}"), None, Status::Completed);
      s.info.created_at = 1_000_000 - i as u64;
      s
    })
    .collect();
  store.upsert_all(&batch).unwrap();
  let mut ids: Vec<String> = batch.into_iter().map(|s| s.info.id).collect();
  ids.reverse();
  ids
}

#[test]
fn a_long_listing_is_decoded_on_two_threads_and_keeps_every_row() {
  let dir = scratch("long-listing");
  let store = Store::open(dir.join("s.db").to_str().unwrap()).unwrap();
  let ids = many(&store, 5000);
  let threads = Arc::new(Mutex::new(HashSet::new()));
  let t = Arc::clone(&threads);
  let listed: Vec<String> = store
    .read(move |c, sh| {
      sessions::list(c, &Query::default(), sh.layout, |id, info| {
        t.lock().unwrap().insert(std::thread::current().id());
        sh.decode_info(id, info)
      })
    })
    .unwrap()
    .into_iter()
    .map(|i| i.id)
    .collect();
  assert_eq!(listed, ids, "every row, oldest first");
  assert_eq!(threads.lock().unwrap().len(), 2, "decoded on two threads");

  // Short listings stay on the caller's thread.
  let threads = Arc::new(Mutex::new(HashSet::new()));
  let t = Arc::clone(&threads);
  let q = Query {
    limit: Some(100),
    ..Query::default()
  };
  let n = store
    .read(move |c, sh| {
      sessions::list(c, &q, sh.layout, |id, info| {
        t.lock().unwrap().insert(std::thread::current().id());
        sh.decode_info(id, info)
      })
    })
    .unwrap()
    .len();
  assert_eq!(n, 100);
  assert_eq!(threads.lock().unwrap().len(), 1);
}

#[test]
fn undecodable_rows_anywhere_in_a_long_listing_are_skipped_and_reported_once_each() {
  let dir = scratch("long-listing-bad");
  let store = Store::open(dir.join("s.db").to_str().unwrap()).unwrap();
  let mut ids = many(&store, 4000);
  // Rows read early (this thread), late, and in the blocks the second thread decodes.
  let bad = ["s00003", "s01800", "s02100", "s02400", "s03999"];
  for id in bad {
    sql(
      &store,
      &format!("UPDATE sessions SET info = '{{\"id\": 1}}' WHERE id = '{id}'"),
    );
  }
  ids.retain(|id| !bad.contains(&id.as_str()));
  let reports = Arc::new(Mutex::new(Vec::new()));
  let r = Arc::clone(&reports);
  store.set_reporter(Arc::new(move |e: &Error| {
    r.lock().unwrap().push(e.to_string())
  }));
  for _ in 0..2 {
    let listed: Vec<String> = store.all().unwrap().into_iter().map(|i| i.id).collect();
    assert_eq!(listed, ids);
  }
  let reports = reports.lock().unwrap();
  assert_eq!(reports.len(), bad.len(), "once each: {reports:?}");
  for id in bad {
    assert!(
      reports
        .iter()
        .any(|r| r.contains(&format!("`{id}` no longer decodes"))),
      "{id}: {reports:?}"
    );
  }
}

#[test]
fn stored_info_leaves_empty_optional_fields_out_and_reads_back_the_same() {
  let dir = scratch("compact-info");
  let store = Store::open(dir.join("s.db").to_str().unwrap()).unwrap();
  let mut s = session("a", None, Status::Running);
  s.info.last_error = None;
  store.upsert(&s).unwrap();
  let raw: String = store
    .read(|c, _| c.query_row("SELECT info FROM sessions WHERE id = 'a'", [], |r| r.get(0)))
    .unwrap();
  let keys: Vec<String> = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&raw)
    .unwrap()
    .keys()
    .cloned()
    .collect();
  for absent in [
    "lastError",
    "endedAt",
    "metadata",
    "evicted",
    "recovery",
    "owner",
  ] {
    assert!(!keys.iter().any(|k| k == absent), "{absent} in {raw}");
  }
  assert!(keys.iter().any(|k| k == "stderrTail"), "{raw}");
  assert_eq!(store.all().unwrap(), vec![s.info.clone()]);

  // The full form earlier releases wrote (every field, nulls included) still reads.
  let mut full = serde_json::to_value(&s.info).unwrap();
  for (k, v) in [
    ("lastError", serde_json::Value::Null),
    ("evicted", false.into()),
    ("metadata", serde_json::json!({})),
    ("recovery", serde_json::Value::Null),
  ] {
    full[k] = v;
  }
  sql(
    &store,
    &format!("UPDATE sessions SET info = '{full}' WHERE id = 'a'"),
  );
  assert_eq!(store.all().unwrap(), vec![s.info]);
}
