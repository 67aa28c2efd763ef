//! 300 spawn / kill / interrupt cycles with a small fake agent: afterwards no child process is
//! left (none running, no zombie) and this process has as many open file descriptors as before.
//! Its own test binary, so that no other test's processes or fds disturb the counts.

use openclaw_sessions_core::{Manager, ManagerOptions, SpawnOptions, Status};
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

fn open_fds() -> usize {
  std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// Processes whose parent is this process (running or zombie).
fn children() -> Vec<u32> {
  let me = std::process::id();
  std::fs::read_dir("/proc")
    .unwrap()
    .flatten()
    .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
    .filter(|pid| {
      std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
          s[s.rfind(')')? + 2..]
            .split(' ')
            .nth(1)?
            .parse::<u32>()
            .ok()
        })
        == Some(me)
    })
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_hundred_spawn_kill_interrupt_cycles_leave_nothing_behind() {
  let dir = std::env::temp_dir().join(format!("ocs-soak-{}", std::process::id()));
  std::fs::create_dir_all(&dir).unwrap();
  let agent = dir.join("agent.sh");
  // Reports a turn, then waits for stdin EOF (a well-behaved CLI between turns).
  std::fs::write(
    &agent,
    "#!/bin/sh\nread line\necho '{\"type\":\"system\",\"subtype\":\"init\",\"session_id\":\"x\"}'\nexec cat >/dev/null\n",
  )
  .unwrap();
  std::fs::set_permissions(&agent, std::fs::Permissions::from_mode(0o755)).unwrap();
  let m = Manager::new(ManagerOptions {
    claude_path: Some(agent.to_string_lossy().into_owned()),
    max_sessions: 400,
    store_path: Some(":memory:".into()),
    ..Default::default()
  })
  .unwrap();
  let opts: SpawnOptions = serde_json::from_value(serde_json::json!({
    "backend": "claude", "prompt": "soak", "workdir": dir,
  }))
  .unwrap();

  // Warm up the runtime's own threads and fds before counting.
  let s = m.spawn(opts.clone(), None).await.unwrap();
  m.kill(&s.id).await.unwrap();
  tokio::time::sleep(Duration::from_millis(100)).await;
  let fds_before = open_fds();

  for i in 0..300 {
    let s = m.spawn(opts.clone(), None).await.unwrap();
    let end = match i % 3 {
      0 => m.kill(&s.id).await.unwrap(),
      1 => m
        .interrupt(&s.id, Some(Duration::from_secs(2)))
        .await
        .unwrap(),
      // Stop it while it is still starting up (before its first output, most of the time).
      _ => {
        let m2 = &m;
        let (a, b) = tokio::join!(
          m2.kill(&s.id),
          m2.interrupt(&s.id, Some(Duration::from_secs(2)))
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        assert!(a.status.is_terminal() && b.status.is_terminal());
        a
      }
    };
    assert!(
      matches!(end.status, Status::Killed | Status::Interrupted),
      "cycle {i}: {:?}",
      end.status
    );
  }
  let stats = m.shutdown(None).await.unwrap();
  assert_eq!(stats.live, 0);
  assert!(stats.spawned >= 301);

  tokio::time::sleep(Duration::from_millis(200)).await;
  assert_eq!(
    children(),
    Vec::<u32>::new(),
    "no child process and no zombie is left"
  );
  assert_eq!(open_fds(), fds_before, "no file descriptor leaked");
  let _ = std::fs::remove_dir_all(&dir);
}
