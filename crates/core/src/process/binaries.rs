//! Finding the agent CLIs' binaries, in this order: the `claudePath` / `codexPath` option; the
//! `CLAUDE_PATH` / `CODEX_PATH` environment variable (the session's environment, else the
//! process's); the native binary inside the CLI's npm package under `node_modules`, searched
//! upwards from where this addon is installed (so a project that depends on the addon and on
//! the CLI finds it, whatever its working directory), then upwards from the current directory;
//! then the name on `PATH`. The native binary is preferred to npm's Node launchers so that
//! signals reach the agent itself (docs/protocols.md B2) and npm's skipped install scripts
//! don't matter.

use crate::model::options::{Backend, ManagerOptions};
use crate::process::resolve_program;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

/// The Claude Code release this addon is tested with (`@anthropic-ai/claude-code`).
pub(crate) const CLAUDE_CODE_VERSION: &str = "2.1.197";
/// The Codex CLI release this addon is tested with (`@openai/codex`).
pub(crate) const CODEX_VERSION: &str = "0.169.0";

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

/// The environment variable that names the binary.
fn env_name(backend: Backend) -> &'static str {
  match backend {
    Backend::Claude => "CLAUDE_PATH",
    Backend::Codex | Backend::CodexExec => "CODEX_PATH",
  }
}

/// The binary a session of `backend` runs, given the manager's options and the environment the
/// session adds (`env`, later entries winning).
pub(crate) fn choose(
  backend: Backend,
  m: &ManagerOptions,
  env: &[(OsString, OsString)],
) -> Result<PathBuf, String> {
  let var = |key: &str| {
    env
      .iter()
      .rev()
      .find(|(k, _)| k == key)
      .map(|(_, v)| v.clone())
      .or_else(|| std::env::var_os(key))
  };
  let path = env
    .iter()
    .rev()
    .find(|(k, _)| k == "PATH")
    .map(|(_, v)| v.clone());
  let option = match backend {
    Backend::Claude => m.claude_path.clone(),
    Backend::Codex | Backend::CodexExec => m.codex_path.clone(),
  };
  let (configured, from) = match (option, var(env_name(backend))) {
    (Some(o), _) => (Some(o), format!("the `{}` option", option_name(backend))),
    (None, Some(v)) => (
      Some(v.to_string_lossy().into_owned()),
      format!("the {} environment variable", env_name(backend)),
    ),
    (None, None) => (None, String::new()),
  };
  if let Some(c) = configured {
    return resolve_program(&c, path.as_deref()).map_err(|why| format!("{why} (from {from})"));
  }
  let starts: Vec<PathBuf> = [
    crate::process::platform::loaded_from().and_then(|p| p.parent().map(Path::to_path_buf)),
    std::env::current_dir().ok(),
  ]
  .into_iter()
  .flatten()
  .collect();
  resolve(backend, None, path.as_deref(), &starts)
}

/// The CLI version this release is tested with (package.json's devDependencies).
fn tested_version(backend: Backend) -> &'static str {
  match backend {
    Backend::Claude => CLAUDE_CODE_VERSION,
    Backend::Codex | Backend::CodexExec => CODEX_VERSION,
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
  starts: &[PathBuf],
) -> Result<PathBuf, String> {
  let opt = option_name(backend);
  if let Some(c) = configured {
    return resolve_program(c, path).map_err(|why| format!("{why} (from the `{opt}` option)"));
  }
  let mut tried = Vec::new();
  for start in starts {
    let mut dir = Some(start.clone());
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
  }
  let name = match backend {
    Backend::Claude => "claude",
    Backend::Codex | Backend::CodexExec => "codex",
  };
  let from: Vec<String> = starts.iter().map(|s| s.display().to_string()).collect();
  resolve_program(name, path).map_err(|why| {
    format!(
      "{why}; no {pkg} native binary under node_modules either (tried {} places upwards from {}). \
       Install it in your project (`npm install {pkg}@{}`), or set the {} environment variable \
       or the `{opt}` option",
      tried.len(),
      from.join(" and "),
      tested_version(backend),
      env_name(backend),
      pkg = package_name(backend),
    )
  })
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn configured_path_errors_name_the_option() {
    let e = resolve(Backend::Codex, Some("/no/such/codex"), None, &[]).unwrap_err();
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
      std::slice::from_ref(&nested),
    );
    std::fs::remove_dir_all(&root).unwrap();
    assert_eq!(found.unwrap(), bin);
    let err = resolve(
      Backend::Codex,
      None,
      Some("/nonexistent".as_ref()),
      std::slice::from_ref(&nested),
    )
    .unwrap_err();
    assert!(
      err.contains("npm install @openai/codex@0.169.0")
        && err.contains("CODEX_PATH")
        && err.contains("codexPath"),
      "{err}"
    );
  }

  #[test]
  fn the_environment_variable_comes_after_the_option() {
    let m = ManagerOptions::default();
    let env = [("CODEX_PATH".into(), "/no/such/codex-from-env".into())];
    let e = choose(Backend::Codex, &m, &env).unwrap_err();
    assert!(
      e.contains("/no/such/codex-from-env") && e.contains("CODEX_PATH"),
      "{e}"
    );
    let m = ManagerOptions {
      codex_path: Some("/no/such/codex-from-option".into()),
      ..ManagerOptions::default()
    };
    let e = choose(Backend::Codex, &m, &env).unwrap_err();
    assert!(
      e.contains("codex-from-option") && e.contains("codexPath"),
      "{e}"
    );
  }

  #[test]
  fn the_search_starts_where_the_code_was_loaded_from() {
    let here = crate::process::platform::loaded_from().expect("dladdr names this binary");
    assert!(here.is_absolute() && here.is_file(), "{}", here.display());
  }

  #[test]
  fn tested_versions_match_package_json() {
    let pkg = include_str!("../../../../package.json");
    assert!(pkg.contains(&format!(
      "\"@anthropic-ai/claude-code\": \"{CLAUDE_CODE_VERSION}\""
    )));
    assert!(pkg.contains(&format!("\"@openai/codex\": \"{CODEX_VERSION}\"")));
  }
}
