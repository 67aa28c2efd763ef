// Shared setup for tests that run the real Codex CLI against the scripted model on 127.0.0.1:
// the native binary from the pinned devDependency, and a throwaway HOME / CODEX_HOME per test.
import { createRequire } from 'node:module'
import { existsSync } from 'node:fs'
import { codexConfig, codexOfflineEnv } from 'openclaw-sessions/testing'
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

/** A throwaway HOME / CODEX_HOME / workdir and the env for Codex against the scripted model. */
export function codexEnv(modelUrl, options = {}) {
  return codexOfflineEnv(modelUrl, options)
}

export { codexConfig }
