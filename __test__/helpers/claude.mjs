// Shared setup for tests that run the real Claude Code CLI against the scripted model on
// 127.0.0.1: the binary from the pinned devDependency, and a throwaway HOME per test.
import { createRequire } from 'node:module'
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { claudeOfflineEnv } from 'openclaw-sessions/testing'
import { dirname, join } from 'node:path'

const require = createRequire(import.meta.url)

// Every test process gets its own session store (the default path is under OPENCLAW_STATE_DIR),
// so no test touches ~/.openclaw and parallel test files never share a store by accident.
if (!process.env.OCS_TEST_STATE_DIR_SET) {
  process.env.OPENCLAW_STATE_DIR = mkdtempSync(join(tmpdir(), 'ocs-state-'))
  process.env.OCS_TEST_STATE_DIR_SET = '1'
}

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

/** A throwaway HOME / CLAUDE_CONFIG_DIR / workdir and the env for Claude against the scripted model. */
export function claudeEnv(modelUrl) {
  return claudeOfflineEnv(modelUrl)
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
