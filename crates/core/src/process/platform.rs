//! What the operating system tells about processes, read from Linux's `/proc`, and the Linux
//! parent-death signal. Elsewhere (macOS) these are honest no-ops: no start time (so restart
//! recovery matches by pid alone), a group RSS of 0 (so `memoryLimitMb` never triggers), and
//! no parent-death signal (a CLI outlives a manager killed with SIGKILL until it notices its
//! stdin closed).

/// Makes the child get SIGKILL when this process dies (`PR_SET_PDEATHSIG`, Linux only).
pub(crate) fn die_with_parent(cmd: &mut tokio::process::Command) {
  #[cfg(target_os = "linux")]
  // SAFETY: the closure only calls prctl(2), which is async-signal-safe.
  unsafe {
    cmd.pre_exec(|| {
      nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)
        .map_err(std::io::Error::from)
    });
  }
  #[cfg(not(target_os = "linux"))]
  let _ = cmd;
}

/// The summed resident set size, in bytes, of every process whose process group is `pgid`
/// (read from `/proc/<pid>/stat`; 0 where `/proc` is not there).
pub(crate) fn group_rss(pgid: u32) -> u64 {
  let page = 4096u64;
  let Ok(dir) = std::fs::read_dir("/proc") else {
    return 0;
  };
  let mut total = 0;
  for entry in dir.flatten() {
    let name = entry.file_name();
    let Some(pid) = name
      .to_str()
      .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
    else {
      continue;
    };
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
      continue;
    };
    // Fields after the command's closing parenthesis: state ppid pgrp ... rss is field 24.
    let Some(rest) = stat.rfind(')').map(|i| &stat[i + 2..]) else {
      continue;
    };
    let fields: Vec<&str> = rest.split(' ').collect();
    if fields.get(2).and_then(|g| g.parse::<u32>().ok()) == Some(pgid) {
      total += fields
        .get(21)
        .and_then(|r| r.parse::<u64>().ok())
        .unwrap_or(0)
        * page;
    }
  }
  total
}

/// A process's start time in clock ticks since boot (`/proc/<pid>/stat` field 22): with the
/// pid, it identifies one process across pid reuse. `None` if there is no such process.
pub(crate) fn start_time(pid: u32) -> Option<u64> {
  let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
  let rest = &stat[stat.rfind(')')? + 2..];
  rest.split(' ').nth(19)?.parse().ok()
}

/// The file this code was loaded from: the addon's `.node` file (a test or bench binary when
/// run by cargo). `None` if the loader cannot say. The CLIs are searched from there.
pub(crate) fn loaded_from() -> Option<std::path::PathBuf> {
  let mut info = std::mem::MaybeUninit::<libc::Dl_info>::uninit();
  let here = loaded_from as *const () as *const libc::c_void;
  // SAFETY: dladdr only reads the loader's tables and fills `info`; it returns 0 on failure,
  // and `dli_fname` is then not read.
  let found = unsafe { libc::dladdr(here, info.as_mut_ptr()) };
  if found == 0 {
    return None;
  }
  // SAFETY: dladdr succeeded, so `info` is initialised; `dli_fname` is null or a C string
  // owned by the loader for as long as the object stays loaded.
  let name = unsafe { info.assume_init().dli_fname };
  if name.is_null() {
    return None;
  }
  // SAFETY: non-null, NUL-terminated (see above).
  let bytes = unsafe { std::ffi::CStr::from_ptr(name) }.to_bytes();
  use std::os::unix::ffi::OsStrExt;
  std::fs::canonicalize(std::ffi::OsStr::from_bytes(bytes)).ok()
}
