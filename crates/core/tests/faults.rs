//! Faults a real CLI can't be made to show, with small fake agents (shell scripts): garbage and
//! non-UTF-8 output, oversized lines, exit without a result, a grandchild holding stdout open.
//! Each must end in a defined status with context; the parser must never panic.

use openclaw_sessions_core::{EventPayload, Manager, ManagerOptions, SpawnOptions, Status};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::time::Duration;

struct Scratch(PathBuf);

impl Scratch {
  fn new(tag: &str) -> Self {
    let p = std::env::temp_dir().join(format!("ocs-faults-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).unwrap();
    Scratch(p)
  }

  fn agent(&self, body: &str) -> String {
    let path = self.0.join("agent.sh");
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path.to_string_lossy().into_owned()
  }
}

impl Drop for Scratch {
  fn drop(&mut self) {
    let _ = std::fs::remove_dir_all(&self.0);
  }
}

fn manager(agent: String) -> Manager {
  Manager::new(ManagerOptions {
    claude_path: Some(agent),
    max_line_bytes: 64 * 1024,
    close_timeout_ms: 5000,
    store_path: Some(":memory:".into()),
    ..Default::default()
  })
  .unwrap()
}

fn spawn_opts(workdir: &std::path::Path) -> SpawnOptions {
  serde_json::from_value(serde_json::json!({
    "backend": "claude",
    "prompt": "hello",
    "workdir": workdir,
  }))
  .unwrap()
}

async fn wait_status(m: &Manager, id: &str, wanted: &[Status]) -> Status {
  for _ in 0..200 {
    let st = m.get(id).unwrap().status;
    if wanted.contains(&st) {
      return st;
    }
    tokio::time::sleep(Duration::from_millis(25)).await;
  }
  panic!("status stayed {:?}", m.get(id).unwrap().status);
}

fn alive(pid: i32) -> bool {
  // A zombie counts as dead: it is only waiting to be reaped by its parent.
  std::fs::read_to_string(format!("/proc/{pid}/stat"))
    .map(|s| !s[s.rfind(')').unwrap() + 2..].starts_with('Z'))
    .unwrap_or(false)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_and_oversized_lines_are_errors_not_crashes() {
  let dir = Scratch::new("garbage");
  let result = r#"{"type":"result","subtype":"success","is_error":false,"result":"ok","num_turns":1,"total_cost_usd":0.5,"usage":{"input_tokens":3,"output_tokens":4}}"#;
  let agent = dir.agent(&format!(
    "read line\necho 'this is not json'\nprintf '\\377\\376 binary\\n'\nhead -c 70000 /dev/zero | tr '\\0' 'x'; echo\necho '{{\"type\":\"assistant\",\"message\":{{\"content\":[{{\"type\":\"text\",\"text\":\"hi there\"}}]}}}}'\necho '{result}'\ncat >/dev/null\nexit 0"
  ));
  let m = manager(agent);
  let s = m.spawn(spawn_opts(&dir.0), None).await.unwrap();
  assert_eq!(
    wait_status(&m, &s.id, &[Status::WaitingForInput, Status::Failed]).await,
    Status::WaitingForInput
  );
  let errors: Vec<String> = m
    .events(&s.id, 0, &["error".into()])
    .unwrap()
    .into_iter()
    .map(|e| match e.payload {
      EventPayload::Error { message, fatal } => {
        assert!(!fatal);
        message
      }
      _ => unreachable!(),
    })
    .collect();
  assert_eq!(errors.len(), 3, "{errors:?}");
  assert!(errors[0].contains("unparsable"), "{errors:?}");
  assert!(
    errors[2].contains("70000 bytes exceeds maxLineBytes"),
    "{errors:?}"
  );
  let info = m.get(&s.id).unwrap();
  assert_eq!(info.last_assistant_text.as_deref(), Some("hi there"));
  assert_eq!(info.turns, 1);
  let closed = m.close(&s.id).await.unwrap();
  assert_eq!(closed.status, Status::Completed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_without_a_result_fails_with_context() {
  let dir = Scratch::new("noresult");
  let agent = dir.agent(
    "read line\necho '{\"type\":\"system\",\"subtype\":\"init\",\"session_id\":\"x\"}'\necho 'crashed: out of cheese' >&2\nprintf '{\"type\":\"assist'\nexit 7",
  );
  let m = manager(agent);
  let s = m.spawn(spawn_opts(&dir.0), None).await.unwrap();
  assert_eq!(
    wait_status(&m, &s.id, &[Status::Failed, Status::Completed]).await,
    Status::Failed
  );
  let info = m.get(&s.id).unwrap();
  assert_eq!(info.exit_code, Some(7));
  assert_eq!(info.stderr_tail, vec!["crashed: out of cheese".to_string()]);
  assert!(info.last_error.unwrap().contains("exit code 7"));
  // The half line was reported, not silently dropped.
  assert!(m.events(&s.id, 0, &["error".into()]).unwrap().iter().any(
    |e| matches!(&e.payload, EventPayload::Error { message, .. } if message.contains("unparsable"))
  ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grandchild_holding_stdout_does_not_hang_the_session_and_dies_with_it() {
  let dir = Scratch::new("grandchild");
  let pidfile = dir.0.join("grandchild.pid");
  let agent = dir.agent(&format!(
    "sleep 300 &\necho $! > {}\nexit 1",
    pidfile.display()
  ));
  let m = manager(agent);
  let s = m.spawn(spawn_opts(&dir.0), None).await.unwrap();
  assert_eq!(
    wait_status(&m, &s.id, &[Status::Failed, Status::Completed]).await,
    Status::Failed
  );
  let gc: i32 = std::fs::read_to_string(&pidfile)
    .unwrap()
    .trim()
    .parse()
    .unwrap();
  tokio::time::sleep(Duration::from_millis(100)).await;
  assert!(!alive(gc), "the grandchild was killed with the group");
  assert_eq!(m.get(&s.id).unwrap().exit_code, Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_takes_the_whole_process_group() {
  let dir = Scratch::new("kill");
  let pidfile = dir.0.join("grandchild.pid");
  let agent = dir.agent(&format!(
    "sleep 300 &\necho $! > {}\nwait",
    pidfile.display()
  ));
  let m = manager(agent);
  let s = m.spawn(spawn_opts(&dir.0), None).await.unwrap();
  for _ in 0..100 {
    if pidfile.exists() && !std::fs::read_to_string(&pidfile).unwrap().trim().is_empty() {
      break;
    }
    tokio::time::sleep(Duration::from_millis(20)).await;
  }
  let gc: i32 = std::fs::read_to_string(&pidfile)
    .unwrap()
    .trim()
    .parse()
    .unwrap();
  assert!(alive(gc));
  let info = m.kill(&s.id).await.unwrap();
  assert_eq!(info.status, Status::Killed);
  assert_eq!(info.exit_signal, Some(9));
  tokio::time::sleep(Duration::from_millis(100)).await;
  assert!(!alive(gc), "the grandchild died with the session");
  // Killing again is a no-op that returns the same final state.
  assert_eq!(m.kill(&s.id).await.unwrap().status, Status::Killed);
  let stats = m.shutdown(None).await.unwrap();
  assert_eq!(stats.live, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finished_sessions_leave_memory_after_their_ttl() {
  let dir = Scratch::new("ttl");
  let m = Manager::new(ManagerOptions {
    claude_path: Some(dir.agent("exit 0")),
    finished_ttl_ms: 300,
    store_path: Some(":memory:".into()),
    ..Default::default()
  })
  .unwrap();
  let s = m.spawn(spawn_opts(&dir.0), None).await.unwrap();
  assert_eq!(
    wait_status(&m, &s.id, &[Status::Completed, Status::Failed]).await,
    Status::Completed
  );
  assert_eq!(m.stats().total, 1, "kept while fresh");
  tokio::time::sleep(Duration::from_millis(400)).await;
  assert_eq!(m.stats().total, 0, "forgotten after the TTL");
  // The store still has it; only the in-memory part (event log, output ring) is gone.
  assert_eq!(m.get(&s.id).unwrap().status, Status::Completed);
  assert_eq!(m.events(&s.id, 0, &[]).unwrap_err().code(), "E_NOT_FOUND");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_server_that_never_answers_times_out_and_leaves_nothing() {
  let dir = Scratch::new("rpc-timeout");
  let pidfile = dir.0.join("agent.pid");
  // Reads requests, never answers (a hung `codex app-server`).
  let agent = dir.agent(&format!(
    "echo $$ > {}\nexec cat >/dev/null",
    pidfile.display()
  ));
  let m = Manager::new(ManagerOptions {
    codex_path: Some(agent),
    request_timeout_ms: 300,
    store_path: Some(":memory:".into()),
    ..Default::default()
  })
  .unwrap();
  let mut opts = spawn_opts(&dir.0);
  opts.backend = openclaw_sessions_core::Backend::Codex;
  let err = m.spawn(opts, None).await.unwrap_err();
  assert_eq!(err.code(), "E_TIMEOUT", "{err}");
  assert!(err.to_string().contains("initialize"), "{err}");
  let pid: i32 = std::fs::read_to_string(&pidfile)
    .unwrap()
    .trim()
    .parse()
    .unwrap();
  assert!(!alive(pid), "the hung CLI was killed");
  assert_eq!(
    m.stats().total,
    0,
    "the session that never started is forgotten"
  );
  assert_eq!(m.stats().live, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_lost_to_an_oversized_line_fails_its_request_at_once() {
  let dir = Scratch::new("oversized-answer");
  // Answers `initialize` with a line over maxLineBytes, then waits.
  let agent = dir.agent(
    "read line\nprintf '{\"id\":0,\"result\":{\"pad\":\"'; head -c 70000 /dev/zero | tr '\\0' 'x'; echo '\"}}'\ncat >/dev/null",
  );
  let m = Manager::new(ManagerOptions {
    codex_path: Some(agent),
    max_line_bytes: 64 * 1024,
    request_timeout_ms: 60_000,
    store_path: Some(":memory:".into()),
    ..Default::default()
  })
  .unwrap();
  let mut opts = spawn_opts(&dir.0);
  opts.backend = openclaw_sessions_core::Backend::Codex;
  let started = std::time::Instant::now();
  let err = m.spawn(opts, None).await.unwrap_err();
  assert_eq!(err.code(), "E_PROTOCOL", "{err}");
  assert!(err.to_string().contains("exceeds maxLineBytes"), "{err}");
  assert!(
    started.elapsed() < Duration::from_secs(30),
    "failed at once, not after requestTimeoutMs"
  );
  assert_eq!(m.stats().live, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupt_escalates_to_sigkill_after_exactly_the_grace_period() {
  let dir = Scratch::new("sigint-ignored");
  // Ignores SIGINT (and so does its child), and does not stop at stdin EOF.
  let agent = dir.agent("trap '' INT\ncat >/dev/null\nsleep 300 &\nwait");
  let m = manager(agent);
  let s = m.spawn(spawn_opts(&dir.0), None).await.unwrap();
  let grace = Duration::from_millis(800);
  let started = std::time::Instant::now();
  let info = m.interrupt(&s.id, Some(grace)).await.unwrap();
  let took = started.elapsed();
  assert_eq!(info.status, Status::Interrupted);
  assert!(info.forced_stop, "the stop needed SIGKILL");
  assert_eq!(info.exit_signal, Some(9));
  assert!(took >= grace, "SIGKILL came early: {took:?}");
  assert!(
    took < grace + Duration::from_millis(2000),
    "SIGKILL came late: {took:?}"
  );
  // A finished session is not interrupted again.
  assert_eq!(
    m.interrupt(&s.id, Some(grace)).await.unwrap().status,
    Status::Interrupted
  );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupt_of_an_agent_that_stops_at_eof_is_quick_and_not_forced() {
  let dir = Scratch::new("eof-stops");
  let m = manager(dir.agent("cat >/dev/null\nexit 0"));
  let s = m.spawn(spawn_opts(&dir.0), None).await.unwrap();
  let started = std::time::Instant::now();
  let info = m
    .interrupt(&s.id, Some(Duration::from_secs(5)))
    .await
    .unwrap();
  assert_eq!(
    info.status,
    Status::Interrupted,
    "a graceful stop is `interrupted`, not `completed`"
  );
  assert!(!info.forced_stop);
  assert!(started.elapsed() < Duration::from_secs(2));
  assert_eq!(
    info.end_reason,
    Some(openclaw_sessions_core::EndReason::User)
  );
  // shutdown stops the rest the same way, with endReason `shutdown`.
  let s2 = m.spawn(spawn_opts(&dir.0), None).await.unwrap();
  let stats = m.shutdown(Some(Duration::from_secs(5))).await.unwrap();
  assert_eq!(stats.live, 0);
  let after = m.get(&s2.id).unwrap();
  assert_eq!(after.status, Status::Interrupted);
  assert_eq!(
    after.end_reason,
    Some(openclaw_sessions_core::EndReason::Shutdown)
  );
}

fn with(agent: String, f: impl FnOnce(&mut ManagerOptions)) -> Manager {
  let mut o = ManagerOptions {
    claude_path: Some(agent),
    interrupt_grace_ms: 1000,
    store_path: Some(":memory:".into()),
    ..Default::default()
  };
  f(&mut o);
  Manager::new(o).unwrap()
}

const RESULT: &str = r#"{"type":"result","subtype":"success","is_error":false,"result":"ok","num_turns":1,"total_cost_usd":0.1,"usage":{"input_tokens":1,"output_tokens":1}}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_cli_is_killed_at_the_startup_timeout() {
  let dir = Scratch::new("startup");
  let m = with(dir.agent("exec cat >/dev/null"), |o| {
    o.startup_timeout_ms = 300
  });
  let s = m.spawn(spawn_opts(&dir.0), None).await.unwrap();
  assert_eq!(
    wait_status(&m, &s.id, &[Status::Killed, Status::Failed]).await,
    Status::Killed
  );
  let info = m.get(&s.id).unwrap();
  assert_eq!(
    info.end_reason,
    Some(openclaw_sessions_core::EndReason::StartupTimeout)
  );
  assert!(m
    .events(&s.id, 0, &["error".into()])
    .unwrap()
    .iter()
    .any(|e| matches!(&e.payload, EventPayload::Error { message, .. } if message.contains("within 300 ms"))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_session_is_stopped_gracefully_and_stays_resumable() {
  let dir = Scratch::new("idle");
  let m = with(
    dir.agent(&format!("read line\necho '{RESULT}'\nexec cat >/dev/null")),
    |o| o.idle_timeout_ms = 400,
  );
  let s = m.spawn(spawn_opts(&dir.0), None).await.unwrap();
  assert_eq!(
    wait_status(&m, &s.id, &[Status::Interrupted, Status::Failed]).await,
    Status::Interrupted
  );
  let info = m.get(&s.id).unwrap();
  assert_eq!(
    info.end_reason,
    Some(openclaw_sessions_core::EndReason::IdleTimeout)
  );
  assert_eq!(info.turns, 1, "the turn before the idle period counted");
  assert!(!info.forced_stop, "the CLI stopped at stdin EOF");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_turn_over_its_timeout_is_interrupted_and_the_session_goes_on() {
  let dir = Scratch::new("turn");
  let interrupted = r#"{"type":"result","subtype":"error_during_execution","is_error":true,"num_turns":1,"total_cost_usd":0,"usage":{}}"#;
  let agent = dir.agent(&format!(
    "read line\necho '{{\"type\":\"system\",\"subtype\":\"init\",\"session_id\":\"x\"}}'\nwhile read l; do case \"$l\" in *interrupt*) echo '{interrupted}';; esac; done"
  ));
  let m = with(agent, |o| o.turn_timeout_ms = 300);
  let s = m.spawn(spawn_opts(&dir.0), None).await.unwrap();
  assert_eq!(
    wait_status(&m, &s.id, &[Status::WaitingForInput, Status::Failed]).await,
    Status::WaitingForInput
  );
  let turn = m.events(&s.id, 0, &["turn-completed".into()]).unwrap();
  assert!(
    matches!(&turn[0].payload, EventPayload::TurnCompleted { subtype, .. } if subtype == "error_during_execution")
  );
  assert!(
    m.get(&s.id).unwrap().last_error.is_none(),
    "an asked-for interrupt is not an error"
  );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_group_over_the_memory_limit_is_killed() {
  let dir = Scratch::new("memory");
  let agent = dir.agent(
    "exec python3 -c 'import time; x = bytearray(160 * 1024 * 1024); x[::4096] = b\"x\" * len(x[::4096]); time.sleep(60)'",
  );
  let m = with(agent, |o| o.memory_limit_mb = 64);
  let s = m.spawn(spawn_opts(&dir.0), None).await.unwrap();
  for _ in 0..400 {
    if m.get(&s.id).unwrap().status.is_terminal() {
      break;
    }
    tokio::time::sleep(Duration::from_millis(25)).await;
  }
  let info = m.get(&s.id).unwrap();
  assert_eq!(info.status, Status::Killed);
  assert_eq!(
    info.end_reason,
    Some(openclaw_sessions_core::EndReason::MemoryLimit)
  );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_during_spawn_wins_and_spawn_says_so() {
  let dir = Scratch::new("kill-during-spawn");
  let m = std::sync::Arc::new(
    Manager::new(ManagerOptions {
      codex_path: Some(dir.agent("exec cat >/dev/null")),
      request_timeout_ms: 30_000,
      store_path: Some(":memory:".into()),
      ..Default::default()
    })
    .unwrap(),
  );
  let mut opts = spawn_opts(&dir.0);
  opts.backend = openclaw_sessions_core::Backend::Codex;
  opts.name = Some("racer".into());
  let m2 = std::sync::Arc::clone(&m);
  let spawning = tokio::spawn(async move { m2.spawn(opts, None).await });
  // The app-server handshake hangs: kill by name while spawn waits for `initialize`.
  let mut killed = None;
  for _ in 0..100 {
    tokio::time::sleep(Duration::from_millis(20)).await;
    if let Ok(info) = m.kill("racer").await {
      killed = Some(info);
      break;
    }
  }
  assert_eq!(
    killed.expect("the session was found while starting").status,
    Status::Killed
  );
  let err = spawning.await.unwrap().unwrap_err();
  assert_eq!(err.code(), "E_STATE", "{err}");
  assert!(err.to_string().contains("stopped while starting"), "{err}");
  assert_eq!(m.get("racer").unwrap().status, Status::Killed);
  assert_eq!(m.stats().live, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_10_mb_line_is_read_whole_and_memory_stays_bounded() {
  let dir = Scratch::new("10mb");
  let agent = dir.agent(&format!(
    "read line\npython3 -c 'import json; print(json.dumps({{\"type\":\"assistant\",\"message\":{{\"content\":[{{\"type\":\"text\",\"text\":\"y\" * (10 * 1024 * 1024)}}]}}}}))'\necho '{RESULT}'\nexec cat >/dev/null"
  ));
  let m = with(agent, |_| {});
  let s = m.spawn(spawn_opts(&dir.0), None).await.unwrap();
  assert_eq!(
    wait_status(&m, &s.id, &[Status::WaitingForInput, Status::Failed]).await,
    Status::WaitingForInput
  );
  let info = m.get(&s.id).unwrap();
  assert_eq!(
    info.last_assistant_text.map(|t| t.len()),
    Some(10 * 1024 * 1024)
  );
  let out = m.output(&s.id, None).unwrap();
  assert!(
    out.iter().map(String::len).sum::<usize>() <= 1024 * 1024,
    "the output ring is capped in bytes"
  );
  m.kill(&s.id).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_keeps_the_newest_and_never_a_live_session() {
  let dir = Scratch::new("retention");
  let m = Manager::new(ManagerOptions {
    claude_path: Some(dir.agent(&format!("read line\necho '{RESULT}'\nexec cat >/dev/null"))),
    store_path: Some(dir.0.join("s.db").to_string_lossy().into_owned()),
    max_persisted_sessions: 3,
    ..Default::default()
  })
  .unwrap();
  let live = m.spawn(spawn_opts(&dir.0), None).await.unwrap();
  let mut finished = Vec::new();
  for _ in 0..5 {
    let s = m.spawn(spawn_opts(&dir.0), None).await.unwrap();
    m.kill(&s.id).await.unwrap();
    finished.push(s.id);
  }
  m.gc().unwrap();
  // What the store holds, as another manager on it sees it.
  let other = Manager::new(ManagerOptions {
    store_path: Some(dir.0.join("s.db").to_string_lossy().into_owned()),
    ..Default::default()
  })
  .unwrap();
  let kept: Vec<String> = other
    .list(&Default::default())
    .await
    .unwrap()
    .into_iter()
    .map(|i| i.id)
    .collect();
  assert!(kept.contains(&live.id), "the live session stays");
  assert_eq!(kept.len(), 3, "{kept:?}");
  assert!(
    kept.contains(&finished[4]) && kept.contains(&finished[3]),
    "the newest finished stay"
  );
  m.shutdown(None).await.unwrap();
}
