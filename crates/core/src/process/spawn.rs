//! Starting and signalling CLI processes: resolve the binary, spawn it in a process group of
//! its own with piped stdio (no shell, ever), signal the whole group.

use std::ffi::OsString;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;

/// Everything needed to start one CLI process.
#[derive(Debug, Clone)]
pub(crate) struct CommandSpec {
  pub program: PathBuf,
  pub args: Vec<OsString>,
  /// The child's working directory (Claude has no `--cwd`).
  pub cwd: PathBuf,
  /// Variables added to (or overriding) the inherited environment.
  pub env: Vec<(OsString, OsString)>,
}

/// Finds `program`: a path containing `/` is checked as is; a bare name is searched on `path`
/// (a `PATH`-style list). The result exists, is a file, and is executable.
/// The error names every place tried.
pub(crate) fn resolve_program(
  program: &str,
  path: Option<&std::ffi::OsStr>,
) -> Result<PathBuf, String> {
  fn check(p: &Path) -> Result<(), String> {
    let meta = std::fs::metadata(p).map_err(|e| format!("{}: {e}", p.display()))?;
    if !meta.is_file() {
      return Err(format!("{} is not a file", p.display()));
    }
    if meta.permissions().mode() & 0o111 == 0 {
      return Err(format!("{} is not executable", p.display()));
    }
    Ok(())
  }
  if program.is_empty() {
    return Err("the program path is empty".into());
  }
  if program.contains('/') {
    let p = PathBuf::from(program);
    check(&p)?;
    return Ok(p);
  }
  let path = path
    .map(OsString::from)
    .or_else(|| std::env::var_os("PATH"));
  let dirs: Vec<PathBuf> = path
    .as_deref()
    .map(|p| std::env::split_paths(p).collect())
    .unwrap_or_default();
  for dir in &dirs {
    let candidate = dir.join(program);
    if check(&candidate).is_ok() {
      return Ok(candidate);
    }
  }
  Err(format!(
    "`{program}` was not found on PATH ({})",
    std::env::join_paths(&dirs)
      .map(|p| p.to_string_lossy().into_owned())
      .unwrap_or_default()
  ))
}

/// Spawns the command with piped stdin/stdout/stderr, in a new process group whose id is the
/// child's pid, so that on Linux the child dies with this process (see `platform::die_with_parent`),
/// inside `contained` (its marker variable; its cgroup, entered before exec).
pub(crate) fn spawn(
  spec: &CommandSpec,
  contained: &super::Contained,
) -> std::io::Result<tokio::process::Child> {
  let mut cmd = tokio::process::Command::new(&spec.program);
  cmd
    .args(&spec.args)
    .current_dir(&spec.cwd)
    .envs(spec.env.iter().map(|(k, v)| (k, v)))
    .envs([contained.env()])
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .process_group(0)
    .kill_on_drop(false);
  super::platform::die_with_parent(&mut cmd);
  if let Some(procs) = contained.procs_file()? {
    enter_cgroup(&mut cmd, procs);
  }
  cmd.spawn()
}

/// The child writes `0` (itself) to the session cgroup's `cgroup.procs` before exec, so
/// everything it starts is in the cgroup from the first instruction.
fn enter_cgroup(cmd: &mut tokio::process::Command, procs: std::fs::File) {
  use std::io::Write;
  // SAFETY: the closure only calls write(2) on a file opened before the fork (no allocation).
  unsafe {
    cmd.pre_exec(move || (&procs).write_all(b"0"));
  }
}

/// Sends `signal` to the process group `pgid` (the group leader's pid). Returns false when the
/// group no longer exists.
pub(crate) fn signal_group(pgid: u32, signal: nix::sys::signal::Signal) -> bool {
  nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pgid as i32), signal).is_ok()
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn resolve_reports_what_was_tried() {
    let err = resolve_program(
      "definitely-not-a-cli-xyz",
      Some("/nonexistent-a:/nonexistent-b".as_ref()),
    )
    .unwrap_err();
    assert!(err.contains("/nonexistent-a"), "{err}");
    let f = std::env::temp_dir().join(format!("ocs-not-exec-{}", std::process::id()));
    std::fs::write(&f, "x").unwrap();
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = resolve_program(f.to_str().unwrap(), None).unwrap_err();
    std::fs::remove_file(&f).unwrap();
    assert!(err.contains("not executable"), "{err}");
    assert!(resolve_program("sh", None).is_ok());
  }
}
