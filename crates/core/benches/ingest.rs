//! `cargo bench -p openclaw-sessions-core --bench ingest -- <file.jsonl> [claude|codex-exec]`:
//! the core's whole ingest path without Node: a session whose agent is `cat <file>`, with the
//! manager's full bookkeeping (statuses, turns, cost, output ring, event log, router, store in
//! memory). Prints `{"mb":..,"MBps":..,"cpuMsPerMB":..}` (best of 3; CPU: user + sys of this
//! process and the agent); for profiling the pipeline by stage.

/// The allocator the addon uses, so the numbers match it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use openclaw_sessions_core::{Manager, ManagerOptions, SpawnOptions, Status};
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

#[tokio::main]
async fn main() {
  let args: Vec<String> = std::env::args()
    .skip(1)
    .filter(|a| !a.starts_with("--"))
    .collect();
  let Some(path) = args.first() else {
    println!("usage: cargo bench --bench ingest -- <file.jsonl> [claude|codex-exec] [runs]");
    return;
  };
  let backend = args.get(1).map(String::as_str).unwrap_or("claude");
  let runs: usize = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(3);
  let data = std::fs::read_to_string(path).expect("readable input");
  let mb = data.len() as f64 / (1024.0 * 1024.0);
  let end = if backend == "claude" {
    "\"type\":\"result\""
  } else {
    "\"type\":\"turn.completed\""
  };
  let turns = data.lines().filter(|l| l.contains(end)).count() as u32;
  let dir = std::env::temp_dir().join(format!("ocs-ingest-{}", std::process::id()));
  std::fs::create_dir_all(&dir).unwrap();
  let agent = dir.join("replay.sh");
  std::fs::write(&agent, format!("#!/bin/sh\nexec cat '{path}'\n")).unwrap();
  std::fs::set_permissions(&agent, std::fs::Permissions::from_mode(0o755)).unwrap();
  let agent = agent.to_string_lossy().into_owned();
  let (mut best, mut best_cpu) = (f64::MAX, f64::MAX);
  for _ in 0..runs {
    let m = Manager::new(ManagerOptions {
      claude_path: Some(agent.clone()),
      codex_path: Some(agent.clone()),
      max_line_bytes: 64 * 1024 * 1024,
      store_path: Some(":memory:".into()),
      ..Default::default()
    })
    .unwrap();
    let opts: SpawnOptions = serde_json::from_value(serde_json::json!({
      "backend": backend, "prompt": "replay", "workdir": dir,
    }))
    .unwrap();
    let (t, c) = (Instant::now(), cpu_ms());
    let s = m.spawn(opts, None).await.unwrap();
    loop {
      let info = m.get(&s.id).unwrap();
      if info.turns >= turns || matches!(info.status, Status::Failed | Status::Killed) {
        assert_eq!(info.turns, turns, "turns seen");
        break;
      }
      tokio::time::sleep(Duration::from_millis(2)).await;
    }
    best = best.min(t.elapsed().as_secs_f64());
    m.shutdown(Some(Duration::from_secs(1))).await.unwrap();
    best_cpu = best_cpu.min(cpu_ms() - c);
  }
  let _ = std::fs::remove_dir_all(&dir);
  println!(
    "{{\"mb\":{mb:.2},\"MBps\":{:.1},\"cpuMsPerMB\":{:.1}}}",
    mb / best,
    best_cpu / mb
  );
}

/// CPU ms (user + sys) of this process and its reaped children (the replay agent) so far.
fn cpu_ms() -> f64 {
  let ms = |who| {
    // SAFETY: getrusage writes into a zeroed rusage we own.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(who, &mut u) };
    let tv = |t: libc::timeval| t.tv_sec as f64 * 1e3 + t.tv_usec as f64 / 1e3;
    tv(u.ru_utime) + tv(u.ru_stime)
  };
  ms(libc::RUSAGE_SELF) + ms(libc::RUSAGE_CHILDREN)
}
