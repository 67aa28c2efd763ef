// Shared setup for tests that run the real Claude Code CLI against the scripted model on
// 127.0.0.1: the binary from the pinned devDependency, and a throwaway HOME per test.
import { createRequire } from 'node:module'
import { existsSync, mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'

const require = createRequire(import.meta.url)

/** The native Claude Code binary of the pinned `@anthropic-ai/claude-code` (no Node launcher). */
export function claudeBin() {
  const candidates = []
  try {
    candidates.push(join(dirname(require.resolve(`@anthropic-ai/claude-code-${process.platform}-${process.arch}/package.json`)), 'claude'))
  } catch {}
  try {
    candidates.push(join(dirname(require.resolve('@anthropic-ai/claude-code/package.json')), 'bin', 'claude.exe'))
  } catch {}
  const found = candidates.find((p) => existsSync(p))
  if (!found) throw new Error(`Claude Code binary not found (tried ${candidates.join(', ')}); run npm install`)
  return found
}

/**
 * A temp dir with a fresh HOME and CLAUDE_CONFIG_DIR, plus the environment that points Claude
 * Code at the scripted model and switches off everything that would leave 127.0.0.1.
 */
export function claudeEnv(modelUrl) {
  const root = mkdtempSync(join(tmpdir(), 'ocs-test-'))
  const home = join(root, 'home')
  const workdir = join(root, 'work')
  mkdirSync(join(home, '.claude'), { recursive: true })
  mkdirSync(workdir)
  const env = {
    HOME: home,
    CLAUDE_CONFIG_DIR: join(home, '.claude'),
    ANTHROPIC_BASE_URL: modelUrl,
    ANTHROPIC_API_KEY: 'test',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_AUTOUPDATER: '1',
    DISABLE_TELEMETRY: '1',
    DISABLE_ERROR_REPORTING: '1',
    CLAUDE_CODE_MAX_RETRIES: '1',
  }
  return { root, home, workdir, env, cleanup: () => rmSync(root, { recursive: true, force: true }) }
}

/**
 * Resolves with the session's snapshot once it reaches one of `statuses` (checked on every
 * event, and once right away). Rejects after `timeoutMs` with the statuses seen.
 */
export function waitForStatus(manager, ref, statuses, timeoutMs = 30000) {
  const wanted = Array.isArray(statuses) ? statuses : [statuses]
  return new Promise((resolve, reject) => {
    let unsubscribe = () => {}
    const check = () => {
      const info = manager.get(ref)
      if (wanted.includes(info.status)) {
        clearTimeout(timer)
        unsubscribe()
        resolve(info)
        return true
      }
      return false
    }
    const timer = setTimeout(() => {
      unsubscribe()
      const info = manager.get(ref)
      reject(new Error(`timed out waiting for ${wanted.join('|')}; status is ${info.status}, last error ${info.lastError}`))
    }, timeoutMs)
    unsubscribe = manager.onEvent(() => check())
    check()
  })
}

/** Processes whose process group is `pgid`, from /proc (Linux). */
export function processesInGroup(pgid) {
  const out = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8')
      // Fields after the command name "(...)": state ppid pgrp ...
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      if (Number(rest[2]) === pgid && rest[0] !== 'Z') out.push(Number(name))
      if (Number(name) === pgid) out.push(Number(name))
    } catch {}
  }
  return [...new Set(out)]
}
