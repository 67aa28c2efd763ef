// Shared setup for tests that run the real Codex CLI against the scripted model on 127.0.0.1:
// the native binary from the pinned devDependency, and a throwaway HOME / CODEX_HOME per test.
import { createRequire } from 'node:module'
import { existsSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'

const require = createRequire(import.meta.url)

/** Rust target triples of the native binaries shipped in `@openai/codex-<platform>-<arch>`. */
const TARGET_TRIPLES = {
  'linux-x64': 'x86_64-unknown-linux-musl',
  'linux-arm64': 'aarch64-unknown-linux-musl',
  'darwin-x64': 'x86_64-apple-darwin',
  'darwin-arm64': 'aarch64-apple-darwin',
}

/**
 * The native Codex binary of the pinned `@openai/codex` (not the Node launcher `bin/codex.js`,
 * so that signals reach the agent itself).
 */
export function codexBin() {
  const key = `${process.platform}-${process.arch}`
  const triple = TARGET_TRIPLES[key]
  if (!triple) throw new Error(`no Codex native binary for ${key}`)
  const pkg = `@openai/codex-${key}`
  let pkgDir
  try {
    pkgDir = dirname(require.resolve(`${pkg}/package.json`))
  } catch {
    throw new Error(`Codex native package ${pkg} is not installed; run npm install (devDependency @openai/codex)`)
  }
  const bin = join(pkgDir, 'vendor', triple, 'bin', 'codex')
  if (!existsSync(bin)) throw new Error(`Codex native binary not found at ${bin}; run npm install`)
  return bin
}

/** The `config.toml` that points Codex at the scripted model and keeps it off the network. */
export function codexConfig(modelUrl, { sandbox = 'read-only', approvalPolicy = 'never' } = {}) {
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
 * A temp dir with a fresh HOME, CODEX_HOME (holding a config.toml for the scripted model) and
 * workdir, plus the environment for the CLI. Codex refuses to put its helper binaries under
 * /tmp and prints a harmless WARNING about it on stderr.
 */
export function codexEnv(modelUrl, { sandbox = 'read-only', approvalPolicy = 'never' } = {}) {
  const root = mkdtempSync(join(tmpdir(), 'ocs-codex-'))
  const home = join(root, 'home')
  const codexHome = join(home, '.codex')
  const workdir = join(root, 'work')
  mkdirSync(codexHome, { recursive: true })
  mkdirSync(workdir)
  writeFileSync(join(codexHome, 'config.toml'), codexConfig(modelUrl, { sandbox, approvalPolicy }))
  const env = { HOME: home, CODEX_HOME: codexHome, SCRIPTED_API_KEY: 'test' }
  return { root, home, codexHome, workdir, env, cleanup: () => rmSync(root, { recursive: true, force: true }) }
}
