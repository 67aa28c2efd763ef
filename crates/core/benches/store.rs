//! `cargo bench -p openclaw-sessions-core --bench store`: the session store's per-update write
//! latency and load time at 1k, 10k and 100k stored sessions (`BENCH_STORE_SIZES=1000,10000`
//! picks others), next to what the TypeScript managers do (rewrite one JSON file of every
//! session on each change). Load: opening the file (with its integrity check) and listing every
//! session (`SessionInfo`, what `list()` returns), best of `LOADS` runs, in wall time and in the
//! process's CPU time (which a busy machine inflates less). Prints a table; not a test.

/// The allocator the addon uses, so the numbers match it (a long listing is decoded on two
/// threads, where the system allocator's arenas contend).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use openclaw_sessions_core::model::event::{Status, Usage};
use openclaw_sessions_core::model::options::Backend;
use openclaw_sessions_core::session::{Limits, NewSession, SessionState, SummaryTurn};
use openclaw_sessions_core::store::{Store, StoredSession};
use std::path::Path;
use std::time::{Duration, Instant};

const UPDATES: usize = 400;
const LOADS: usize = 5;

fn record(i: usize) -> StoredSession {
  let st = SessionState::new(
    NewSession {
      id: format!("00000000-0000-4000-8000-{i:012}"),
      name: Some(format!("session-{i}")),
      backend: Backend::Claude,
      backend_session_id: format!("10000000-0000-4000-8000-{i:012}"),
      workdir: "/home/dev/projects/openclaw/some-repository".into(),
      model: Some("claude-sonnet-4-5".into()),
      first_prompt: "Summarise the README and list the open questions in the issue tracker".into(),
      origin: None,
      resumed_from_id: None,
      forked_from_id: None,
    },
    Limits {
      event_log: 10,
      output_lines: 10,
      stderr_lines: 10,
    },
  );
  let mut info = st.info();
  info.status = if i.is_multiple_of(10) {
    Status::Running
  } else {
    Status::Completed
  };
  info.turns = 4;
  info.total_cost_usd = 0.42;
  info.last_assistant_text =
    Some("The README describes a tiny demo crate; two questions remain open.".into());
  info.stderr_tail = vec!["warning: model retirement notice".into()];
  StoredSession {
    info,
    summary: (0..4)
      .map(|t| SummaryTurn {
        prompt: format!("question {t} about the code base"),
        reply: "a reply of a few dozen words ".repeat(8),
      })
      .collect(),
    options: serde_json::json!({"backend": "claude", "workdir": "/home/dev/projects/openclaw/some-repository", "model": "claude-sonnet-4-5"}),
    thread_usage: Usage::default(),
    pid_start: None,
  }
}

/// This process's CPU time so far (all threads: a long listing decodes on two).
fn cpu() -> Duration {
  let mut t = libc::timespec {
    tv_sec: 0,
    tv_nsec: 0,
  };
  // SAFETY: writes the process's CPU clock into `t`, a valid timespec.
  unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut t) };
  Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

fn percentile(v: &mut [Duration], p: f64) -> Duration {
  v.sort();
  v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn micros(d: Duration) -> String {
  format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

struct Row {
  n: usize,
  what: &'static str,
  p50: Duration,
  p99: Duration,
  /// Opening (`None`: nothing to open) and reading every session.
  open: Option<Duration>,
  load: Duration,
  /// The process's CPU time for both.
  cpu: Duration,
}

fn sqlite(dir: &Path, n: usize) -> Row {
  let path = dir.join(format!("store-{n}.db"));
  let store = Store::open(path.to_str().unwrap()).unwrap();
  for i in 0..n {
    store.upsert(&record(i)).unwrap();
  }
  let mut lat = Vec::with_capacity(UPDATES);
  for u in 0..UPDATES {
    let mut r = record(u * 7 % n);
    r.info.turns += 1;
    let t = Instant::now();
    store.upsert(&r).unwrap();
    lat.push(t.elapsed());
  }
  drop(store);
  let (open, load, cpu) = (0..LOADS)
    .map(|_| {
      let (t, c) = (Instant::now(), cpu());
      let store = Store::open(path.to_str().unwrap()).unwrap();
      let opened = t.elapsed();
      let all = store.all().unwrap();
      let (done, cpu) = (t.elapsed(), cpu() - c);
      assert_eq!(all.len(), n);
      (opened, done - opened, cpu)
    })
    .min_by_key(|(o, l, _)| *o + *l)
    .unwrap();
  Row {
    n,
    what: "SQLite store (WAL)",
    p50: percentile(&mut lat, 0.5),
    p99: percentile(&mut lat, 0.99),
    open: Some(open),
    load,
    cpu,
  }
}

fn json_file(dir: &Path, n: usize) -> Row {
  let path = dir.join(format!("sessions-{n}.json"));
  let mut records: Vec<StoredSession> = (0..n).map(record).collect();
  let write = |records: &Vec<StoredSession>| {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, serde_json::to_vec(records).unwrap()).unwrap();
    std::fs::rename(&tmp, &path).unwrap();
  };
  write(&records);
  // Above 10k sessions a rewrite takes most of a second: fewer updates (p99 is then ~ the max).
  let updates = if n > 10_000 { 40 } else { UPDATES };
  let mut lat = Vec::with_capacity(updates);
  for u in 0..updates {
    let i = u * 7 % n;
    records[i].info.turns += 1;
    let t = Instant::now();
    write(&records);
    lat.push(t.elapsed());
  }
  let (load, cpu) = (0..LOADS)
    .map(|_| {
      let (t, c) = (Instant::now(), cpu());
      let all: Vec<StoredSession> = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
      assert_eq!(all.len(), n);
      (t.elapsed(), cpu() - c)
    })
    .min()
    .unwrap();
  Row {
    n,
    what: "one JSON file, rewritten",
    p50: percentile(&mut lat, 0.5),
    p99: percentile(&mut lat, 0.99),
    open: None,
    load,
    cpu,
  }
}

fn main() {
  let dir = std::env::temp_dir().join(format!("ocs-bench-store-{}", std::process::id()));
  std::fs::create_dir_all(&dir).unwrap();
  println!("\nsession store: per-update write latency ({UPDATES} updates; 40 for a JSON file above 10k) and load time\n");
  println!(
    "| sessions | store | write p50 | write p99 | load: open + list all | load, CPU | p99 vs JSON file |"
  );
  println!("|---:|---|---:|---:|---:|---:|---:|");
  let sizes: Vec<usize> = std::env::var("BENCH_STORE_SIZES")
    .unwrap_or_else(|_| "1000,10000,100000".into())
    .split(',')
    .map(|n| {
      n.trim()
        .parse()
        .expect("BENCH_STORE_SIZES: comma-separated session counts")
    })
    .collect();
  for n in sizes {
    let s = sqlite(&dir, n);
    let j = json_file(&dir, n);
    for r in [&s, &j] {
      let ratio = j.p99.as_secs_f64() / r.p99.as_secs_f64();
      let ms = |d: Duration| d.as_secs_f64() * 1e3;
      let load = match r.open {
        Some(open) => format!(
          "{:.1} ms ({:.1} + {:.1})",
          ms(open + r.load),
          ms(open),
          ms(r.load)
        ),
        None => format!("{:.1} ms", ms(r.load)),
      };
      println!(
        "| {} | {} | {} | {} | {load} | {:.1} ms | {:.1}x |",
        r.n,
        r.what,
        micros(r.p50),
        micros(r.p99),
        ms(r.cpu),
        ratio
      );
    }
  }
  let _ = std::fs::remove_dir_all(&dir);
}
