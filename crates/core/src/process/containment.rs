//! Containment: every process a session starts dies with it, whatever its process group or
//! session (Claude's Bash tool runs commands in a group of their own; a grandchild may
//! `setsid`). Chosen once per process (`host()`), in this order:
//!
//! - `cgroup`: a cgroup v2 per session (`<the manager's cgroup>/ocs-<session id>`), entered by
//!   the CLI between fork and exec; `cgroup.kill` ends everything in it at once, and nothing
//!   can leave it without write access to the cgroup tree. Used where the manager's own cgroup
//!   lets it create children with `cgroup.kill` (Linux ≥ 5.14; root, or a delegated cgroup such
//!   as a systemd user service or a unit with `Delegate=yes`).
//! - `subreaper`: `PR_SET_CHILD_SUBREAPER` on the manager, so orphaned descendants are
//!   re-parented to it instead of init, and found by the `OPENCLAW_SESSION_ID` variable every
//!   descendant inherits (read from `/proc/<pid>/environ`); they are SIGKILLed and reaped. A
//!   descendant that clears its environment (`env -i`) escapes this one.
//! - `process-group`: elsewhere (no `/proc`, e.g. macOS): only the CLI's process group.
//!
//! Every mechanism also signals the CLI's process group. `OPENCLAW_SESSIONS_CONTAINMENT`
//! (`cgroup`, `subreaper`, `process-group`) forces a weaker mechanism (for tests).

use crate::model::info::Containment;
use std::ffi::OsString;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// The variable every process of a session inherits: the session's id.
pub(crate) const SESSION_ENV: &str = "OPENCLAW_SESSION_ID";

/// What this process can use, decided once.
#[derive(Debug)]
pub(crate) struct Host {
  pub mechanism: Containment,
  /// The directory session cgroups are made in (the manager's own cgroup).
  cgroup_dir: Option<PathBuf>,
}

/// The mechanism of this process (decided at the first call; may set the subreaper flag).
pub(crate) fn host() -> &'static Host {
  static HOST: OnceLock<Host> = OnceLock::new();
  HOST.get_or_init(detect)
}

fn detect() -> Host {
  let forced = std::env::var("OPENCLAW_SESSIONS_CONTAINMENT").unwrap_or_default();
  if forced.is_empty() || forced == "cgroup" {
    if let Some(dir) = own_cgroup_dir().filter(|d| can_make_children(d)) {
      return Host {
        mechanism: Containment::Cgroup,
        cgroup_dir: Some(dir),
      };
    }
  }
  let proc_ok = Path::new("/proc/self/environ").exists();
  if forced != "process-group" && proc_ok && set_subreaper() {
    return Host {
      mechanism: Containment::Subreaper,
      cgroup_dir: None,
    };
  }
  Host {
    mechanism: Containment::ProcessGroup,
    cgroup_dir: None,
  }
}

#[cfg(target_os = "linux")]
fn set_subreaper() -> bool {
  nix::sys::prctl::set_child_subreaper(true).is_ok()
}

#[cfg(not(target_os = "linux"))]
fn set_subreaper() -> bool {
  false
}

/// `<cgroup2 mount>/<our path>` from `/proc/self/cgroup` (`0::<path>`) and `/proc/self/mountinfo`.
fn own_cgroup_dir() -> Option<PathBuf> {
  let cg = std::fs::read_to_string("/proc/self/cgroup").ok()?;
  let path = cg.lines().find_map(|l| l.strip_prefix("0::"))?.trim();
  let mounts = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
  mounts.lines().find_map(|line| {
    let (before, after) = line.split_once(" - ")?;
    if after.split(' ').next()? != "cgroup2" {
      return None;
    }
    let f: Vec<&str> = before.split(' ').collect();
    let (root, mount) = (*f.get(3)?, *f.get(4)?);
    let rel = if root == "/" {
      path
    } else {
      path.strip_prefix(root)?
    };
    Some(Path::new(mount).join(rel.trim_start_matches('/')))
  })
}

/// Whether a child cgroup with `cgroup.kill` can be made (and removed) in `dir`.
fn can_make_children(dir: &Path) -> bool {
  let probe = dir.join(format!("ocs-probe-{}", uuid::Uuid::new_v4()));
  if std::fs::create_dir(&probe).is_err() {
    return false;
  }
  let ok = probe.join("cgroup.kill").exists();
  let _ = std::fs::remove_dir(&probe);
  ok
}

/// One session's containment: its cgroup (with `cgroup`) and its marker variable.
#[derive(Debug)]
pub(crate) struct Contained {
  session_id: String,
  mechanism: Containment,
  cgroup: Option<PathBuf>,
  /// A private directory (0700) for files the CLI reads instead of argv; removed at release.
  files: std::sync::Mutex<Option<PathBuf>>,
  /// Symbolic links to files in it, made where the CLI looks for them; removed at release.
  links: std::sync::Mutex<Vec<PathBuf>>,
}

impl Contained {
  /// Creates the session's cgroup where the host uses cgroups (falls back to the marker and
  /// the process group when it cannot be made).
  pub(crate) fn new(session_id: &str) -> Arc<Contained> {
    let h = host();
    let cgroup = h
      .cgroup_dir
      .as_ref()
      .map(|d| d.join(format!("ocs-{session_id}")))
      .filter(|d| std::fs::create_dir(d).is_ok() || d.join("cgroup.procs").exists());
    let mechanism = match (h.mechanism, &cgroup) {
      (Containment::Cgroup, None) => Containment::ProcessGroup,
      (m, _) => m,
    };
    Arc::new(Contained {
      session_id: session_id.to_owned(),
      mechanism,
      cgroup,
      files: std::sync::Mutex::new(None),
      links: std::sync::Mutex::new(Vec::new()),
    })
  }

  /// Writes `text` to a new file (mode 0600) in the session's private directory (mode 0700,
  /// under the temp dir); both are removed when the session ends (`release`).
  pub(crate) fn private_file(&self, name: &str, text: &str) -> std::io::Result<PathBuf> {
    use std::io::Write;
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let mut files = self.files.lock().unwrap_or_else(|e| e.into_inner());
    let dir = match &*files {
      Some(d) => d.clone(),
      None => {
        let d = std::env::temp_dir().join(format!(
          "{}{}",
          private_prefix(&self.session_id),
          uuid::Uuid::new_v4()
        ));
        std::fs::DirBuilder::new().mode(0o700).create(&d)?;
        *files = Some(d.clone());
        d
      }
    };
    let path = dir.join(name);
    let _ = std::fs::remove_file(&path);
    let mut f = std::fs::OpenOptions::new()
      .write(true)
      .create_new(true)
      .mode(0o600)
      .open(&path)?;
    f.write_all(text.as_bytes())?;
    Ok(path)
  }

  /// `private_file`, plus a symbolic link to it at `link` (replacing what is there), for a CLI
  /// that only reads the file from a fixed place (Codex profiles live in `CODEX_HOME`). The link
  /// holds no secret; it is removed at release, and dangles if the manager dies first.
  pub(crate) fn private_link(&self, name: &str, text: &str, link: &Path) -> std::io::Result<()> {
    let target = self.private_file(name, text)?;
    let _ = std::fs::remove_file(link);
    std::os::unix::fs::symlink(&target, link)?;
    let mut links = self.links.lock().unwrap_or_else(|e| e.into_inner());
    if !links.iter().any(|l| l == link) {
      links.push(link.to_path_buf());
    }
    Ok(())
  }

  pub(crate) fn mechanism(&self) -> Containment {
    self.mechanism
  }

  /// The marker every process of the session inherits.
  pub(crate) fn env(&self) -> (OsString, OsString) {
    (SESSION_ENV.into(), self.session_id.clone().into())
  }

  /// The session cgroup's `cgroup.procs`, opened for the child to enter between fork and exec.
  pub(crate) fn procs_file(&self) -> std::io::Result<Option<File>> {
    self
      .cgroup
      .as_ref()
      .map(|d| {
        std::fs::OpenOptions::new()
          .write(true)
          .open(d.join("cgroup.procs"))
      })
      .transpose()
  }

  /// SIGKILL to every process of the session except `leader` (the CLI itself, which its
  /// owner reaps; its group is signalled by the caller).
  pub(crate) fn kill(&self, leader: Option<u32>) {
    match self.mechanism {
      Containment::ProcessGroup => {}
      _ => {
        kill_session(&self.session_id, self.cgroup.as_deref(), leader);
      }
    }
  }

  /// Kills what is left and removes the cgroup (in the background: the kernel empties it
  /// within milliseconds of `cgroup.kill`).
  pub(crate) fn release(&self) {
    self.kill(None);
    for link in std::mem::take(&mut *self.links.lock().unwrap_or_else(|e| e.into_inner())) {
      let _ = std::fs::remove_file(link);
    }
    if let Some(dir) = self.files.lock().unwrap_or_else(|e| e.into_inner()).take() {
      let _ = std::fs::remove_dir_all(dir);
    }
    if let Some(dir) = self.cgroup.clone() {
      // Usually empty by now (the CLI was reaped): removed at once, so a host that exits right
      // after does not leave it behind; else on a thread once the killed processes are gone.
      if std::fs::remove_dir(&dir).is_err() && dir.exists() {
        std::thread::spawn(move || remove_cgroup(&dir));
      }
    }
  }
}

/// The name every private directory of session `id` starts with (in the temp dir).
fn private_prefix(id: &str) -> String {
  format!("ocs-{id}-")
}

/// Removes the private directories a dead manager left for session `id` (recovery): the
/// files that kept its secrets off argv.
pub(crate) fn remove_private_files(id: &str) {
  let prefix = private_prefix(id);
  let Ok(dir) = std::fs::read_dir(std::env::temp_dir()) else {
    return;
  };
  for entry in dir.flatten() {
    let is_ours = entry.file_name().to_str().is_some_and(|n| {
      n.strip_prefix(&prefix)
        .is_some_and(|rest| uuid::Uuid::parse_str(rest).is_ok())
    });
    if is_ours && entry.file_type().is_ok_and(|t| t.is_dir()) {
      let _ = std::fs::remove_dir_all(entry.path());
    }
  }
}

/// Kills the processes of session `id`, run by this manager or a dead one (recovery): its
/// cgroup if there is one, and every process carrying its marker. Returns how many were found
/// by marker.
pub(crate) fn kill_session(id: &str, cgroup: Option<&Path>, leader: Option<u32>) -> usize {
  let dir = cgroup.map(Path::to_path_buf).or_else(|| {
    host()
      .cgroup_dir
      .as_ref()
      .map(|d| d.join(format!("ocs-{id}")))
  });
  if let Some(dir) = &dir {
    let _ = std::fs::write(dir.join("cgroup.kill"), "1");
  }
  let found = super::scan::kill_marked(SESSION_ENV, id, leader);
  if cgroup.is_none() {
    if let Some(dir) = dir.filter(|d| d.exists()) {
      std::thread::spawn(move || remove_cgroup(&dir));
    }
  }
  found
}

/// Removes an emptied cgroup, waiting (bounded) for its killed processes to be gone.
fn remove_cgroup(dir: &Path) {
  for i in 0..100u64 {
    match std::fs::remove_dir(dir) {
      Ok(()) => return,
      Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
      Err(_) => std::thread::sleep(std::time::Duration::from_millis(5 + i)),
    }
  }
  tracing::warn!(cgroup = %dir.display(), "a session cgroup could not be removed");
}

#[cfg(test)]
mod tests {
  use super::*;
  use std::os::unix::fs::PermissionsExt;

  #[test]
  fn private_files_and_links_go_at_release_or_recovery() {
    let id = uuid::Uuid::new_v4().to_string();
    let home = std::env::temp_dir().join(format!("ocs-test-home-{id}"));
    std::fs::create_dir(&home).unwrap();
    let link = home.join(format!("ocs-{id}.config.toml"));
    let c = Contained::new(&id);
    c.private_link("profile.toml", "secret = 1\n", &link)
      .unwrap();
    let target = std::fs::read_link(&link).unwrap();
    assert_eq!(std::fs::read_to_string(&link).unwrap(), "secret = 1\n");
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&target), 0o600);
    assert_eq!(mode(target.parent().unwrap()), 0o700);
    // Written again (the next turn): the same link, new contents.
    c.private_link("profile.toml", "secret = 2\n", &link)
      .unwrap();
    assert_eq!(std::fs::read_to_string(&link).unwrap(), "secret = 2\n");
    c.release();
    assert!(
      std::fs::symlink_metadata(&link).is_err(),
      "the link is removed"
    );
    assert!(!target.exists(), "the file is removed");

    // A dead manager's leftovers: only this session's private directories are removed.
    let left = Contained::new(&id);
    let file = left.private_file("f", "x").unwrap();
    let other = Contained::new(&uuid::Uuid::new_v4().to_string());
    let kept = other.private_file("f", "y").unwrap();
    remove_private_files(&id);
    assert!(!file.exists() && !file.parent().unwrap().exists());
    assert!(kept.exists());
    left.release();
    other.release();
    let _ = std::fs::remove_dir_all(home);
  }
}
