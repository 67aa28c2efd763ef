//! Finding the agent CLIs' binaries: a configured path, else the native binary inside the npm
//! package under `node_modules` (searched upwards from the current directory), else the name on
//! `PATH`. The native binary is preferred to npm's Node launchers so that signals reach the
//! agent itself (docs/protocols.md B2) and npm's skipped install scripts don't matter.

use crate::model::options::Backend;
use crate::process::resolve_program;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// The native binary's path inside `node_modules` for this platform, per CLI.
fn package_binaries(backend: Backend) -> Vec<PathBuf> {
  let (os, arch) = (std::env::consts::OS, std::env::consts::ARCH);
  let npm_arch = match arch {
    "x86_64" => "x64",
    "aarch64" => "arm64",
    other => other,
  };
  match backend {
    Backend::Claude => vec![PathBuf::from(format!(
      "@anthropic-ai/claude-code-{os}-{npm_arch}/claude"
    ))],
    Backend::Codex | Backend::CodexExec => {
      let triple = match (os, arch) {
        ("linux", a) => format!("{a}-unknown-linux-musl"),
        ("macos", a) => format!("{a}-apple-darwin"),
        (o, a) => format!("{a}-{o}"),
      };
      let os = if os == "macos" { "darwin" } else { os };
      let inner = format!("@openai/codex-{os}-{npm_arch}/vendor/{triple}/bin/codex");
      vec![
        PathBuf::from(&inner),
        PathBuf::from(format!("@openai/codex/node_modules/{inner}")),
      ]
    }
  }
}

/// The option that configures the binary, for error messages.
pub(crate) fn option_name(backend: Backend) -> &'static str {
  match backend {
    Backend::Claude => "claudePath",
    Backend::Codex | Backend::CodexExec => "codexPath",
  }
}

fn package_name(backend: Backend) -> &'static str {
  match backend {
    Backend::Claude => "@anthropic-ai/claude-code",
    Backend::Codex | Backend::CodexExec => "@openai/codex",
  }
}

/// Resolves the binary for `backend`. `configured` is the user's option; `path` the `PATH` to
/// search; `start` the directory whose `node_modules` (and its parents') are searched.
/// The error names everything tried and the option to set.
pub(crate) fn resolve(
  backend: Backend,
  configured: Option<&str>,
  path: Option<&OsStr>,
  start: Option<&Path>,
) -> Result<PathBuf, String> {
  let opt = option_name(backend);
  if let Some(c) = configured {
    return resolve_program(c, path).map_err(|why| format!("{why} (from the `{opt}` option)"));
  }
  let mut tried = Vec::new();
  let mut dir = start.map(Path::to_path_buf);
  while let Some(d) = dir {
    for rel in package_binaries(backend) {
      let candidate = d.join("node_modules").join(rel);
      if resolve_program(&candidate.to_string_lossy(), None).is_ok() {
        return Ok(candidate);
      }
      tried.push(candidate);
    }
    dir = d.parent().map(Path::to_path_buf);
  }
  let name = match backend {
    Backend::Claude => "claude",
    Backend::Codex | Backend::CodexExec => "codex",
  };
  resolve_program(name, path).map_err(|why| {
    format!(
      "{why}; no {} native binary under node_modules either (tried {} places from {}). \
       Install {} or set the `{opt}` option",
      package_name(backend),
      tried.len(),
      start.map(|s| s.display().to_string()).unwrap_or_default(),
      package_name(backend)
    )
  })
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn configured_path_errors_name_the_option() {
    let e = resolve(Backend::Codex, Some("/no/such/codex"), None, None).unwrap_err();
    assert!(
      e.contains("/no/such/codex") && e.contains("codexPath"),
      "{e}"
    );
  }

  #[test]
  fn finds_the_native_binary_in_node_modules_of_a_parent() {
    let root = std::env::temp_dir().join(format!("ocs-bin-{}", std::process::id()));
    let nested = root.join("a/b");
    let bin = root
      .join("node_modules")
      .join(&package_binaries(Backend::Claude)[0]);
    std::fs::create_dir_all(bin.parent().unwrap()).unwrap();
    std::fs::create_dir_all(&nested).unwrap();
    std::fs::write(&bin, "#!/bin/sh\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let found = resolve(
      Backend::Claude,
      None,
      Some("/nonexistent".as_ref()),
      Some(&nested),
    );
    std::fs::remove_dir_all(&root).unwrap();
    assert_eq!(found.unwrap(), bin);
    let err = resolve(
      Backend::Codex,
      None,
      Some("/nonexistent".as_ref()),
      Some(&nested),
    )
    .unwrap_err();
    assert!(
      err.contains("@openai/codex") && err.contains("codexPath"),
      "{err}"
    );
  }
}
