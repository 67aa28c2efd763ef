'use strict'
// Offline environments for the real CLIs: a throwaway HOME (and CODEX_HOME) per run, pointed at
// the scripted model, with every switch that keeps the CLIs off the network
// (docs/real-cli-testing.md). Used by the project's tests and demo, and exported for users' tests.

const { mkdtempSync, mkdirSync, rmSync, writeFileSync } = require('node:fs')
const { tmpdir } = require('node:os')
const { join } = require('node:path')

function scratch(prefix) {
  const root = mkdtempSync(join(tmpdir(), prefix))
  const home = join(root, 'home')
  const workdir = join(root, 'work')
  mkdirSync(home, { recursive: true })
  mkdirSync(workdir)
  return { root, home, workdir, cleanup: () => rmSync(root, { recursive: true, force: true }) }
}

/**
 * Claude Code against `modelUrl`: `HOME`, `CLAUDE_CONFIG_DIR`, `ANTHROPIC_BASE_URL`, a dummy
 * `ANTHROPIC_API_KEY`, and the switches that stop non-essential traffic, auto-update, telemetry
 * and error reporting. `CLAUDE_CODE_MAX_RETRIES=1` makes error tests fast.
 */
function claudeOfflineEnv(modelUrl) {
  const s = scratch('ocs-claude-')
  const configDir = join(s.home, '.claude')
  mkdirSync(configDir, { recursive: true })
  const env = {
    HOME: s.home,
    CLAUDE_CONFIG_DIR: configDir,
    ANTHROPIC_BASE_URL: modelUrl,
    ANTHROPIC_API_KEY: 'test',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_AUTOUPDATER: '1',
    DISABLE_TELEMETRY: '1',
    DISABLE_ERROR_REPORTING: '1',
    CLAUDE_CODE_MAX_RETRIES: '1',
  }
  return { ...s, configDir, env }
}

/** The `config.toml` that points Codex at the scripted model and keeps it off the network. */
function codexConfig(modelUrl, { sandbox = 'read-only', approvalPolicy = 'never' } = {}) {
  return `model = "scripted-model"
model_provider = "scripted"
approval_policy = "${approvalPolicy}"
sandbox_mode = "${sandbox}"
check_for_update_on_startup = false

[model_providers.scripted]
name = "Scripted"
base_url = "${modelUrl}/v1"
wire_api = "responses"
env_key = "SCRIPTED_API_KEY"
request_max_retries = 0
stream_max_retries = 0
supports_websockets = false

[analytics]
enabled = false

[features]
plugins = false
`
}

/**
 * Codex against `modelUrl`: `HOME`, `CODEX_HOME` holding a `config.toml` for the scripted
 * provider (analytics and plugin sync off), and `SCRIPTED_API_KEY`. Codex refuses to put its
 * helper binaries under /tmp and prints a harmless warning about it on stderr.
 */
function codexOfflineEnv(modelUrl, options = {}) {
  const s = scratch('ocs-codex-')
  const codexHome = join(s.home, '.codex')
  mkdirSync(codexHome, { recursive: true })
  writeFileSync(join(codexHome, 'config.toml'), codexConfig(modelUrl, options))
  const env = { HOME: s.home, CODEX_HOME: codexHome, SCRIPTED_API_KEY: 'test' }
  return { ...s, codexHome, env }
}

module.exports = { claudeOfflineEnv, codexOfflineEnv, codexConfig }
