// `lineBufferBudgetBytes` (issue 16): 8 sessions each printing one 30 MB line at the same time
// keep the manager's RSS under the bound the README documents; the lines the budget cannot hold
// are skipped with an `error` event instead of buffered. A fake agent: no real CLI prints a
// 30 MB line on demand.
import test from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { SessionManager } from '../index.js'
import { waitForStatus } from './helpers/claude.mjs'
import { eventually } from './helpers/procs.mjs'

const agent = fileURLToPath(new URL('./fake-agents/long-line.sh', import.meta.url))
const MiB = 1024 * 1024
const budget = 64 * MiB // the default lineBufferBudgetBytes
const maxLine = 32 * MiB // the default maxLineBytes
// The README's bound: RSS grows by less than 3 × the budget while the lines are read (the buffers
// hold at most the budget; the rest is buffers freed as they grew or were refused, which the
// allocator returns to the OS after its purge delay). Without the budget, the 8 buffers alone
// would hold 8 × 32 MiB.
const bound = 3 * budget

test('8 concurrent 30 MB lines: RSS stays under the budget bound; the lines over it are skipped', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocs-lines-'))
  const written = join(dir, 'written')
  const go = join(dir, 'go')
  mkdirSync(written)
  const manager = new SessionManager({
    claudePath: agent,
    env: { OCS_WRITTEN_DIR: written, OCS_GO: go },
    storePath: ':memory:',
    maxSessions: 8,
    maxLineBytes: maxLine,
    lineBufferBudgetBytes: budget,
  })
  global.gc?.()
  const baseline = process.memoryUsage.rss()
  let peak = baseline
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 2)
  try {
    const sessions = await Promise.all(
      Array.from({ length: 8 }, (_, i) => manager.spawn({ backend: 'claude', prompt: `line ${i}`, workdir: dir })),
    )
    // Every agent has written its 30 MB: the partial lines are all in flight at once.
    await eventually(() => readdirSync(written).length === 8, 'all 8 agents to write their 30 MB', 60000)
    peak = Math.max(peak, process.memoryUsage.rss())
    writeFileSync(go, '')
    await Promise.all(sessions.map((s) => waitForStatus(manager, s.id, ['completed', 'failed', 'killed', 'interrupted'], 60000)))
    clearInterval(sampler)
    const errors = sessions.map((s) => manager.events(s.id, { kinds: ['error'] }).map((e) => e.message))
    const skipped = errors.filter((m) => m.some((x) => /30000000 bytes skipped: the line buffers of all sessions hold lineBufferBudgetBytes/.test(x)))
    // At most budget / (the buffer a 30 MB line needs: 32 MiB) lines fit at once; the others
    // were refused, not buffered.
    assert.ok(skipped.length >= 8 - Math.floor(budget / maxLine), `lines skipped for the budget: ${skipped.length}; errors: ${JSON.stringify(errors)}`)
    assert.ok(skipped.length < 8, 'the budget let at least one line through')
    const grown = peak - baseline
    console.log(`# RSS: baseline ${(baseline / MiB).toFixed(0)} MiB, peak ${(peak / MiB).toFixed(0)} MiB (+${(grown / MiB).toFixed(0)} MiB); ${skipped.length} of 8 lines skipped`)
    assert.ok(grown < bound, `RSS grew by ${(grown / MiB).toFixed(0)} MiB, over the documented ${bound / MiB} MiB`)
  } finally {
    clearInterval(sampler)
    await manager.shutdown()
    rmSync(dir, { recursive: true, force: true })
  }
})
