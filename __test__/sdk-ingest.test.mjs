// A session run by the real @anthropic-ai/claude-agent-sdk (its own bundled CLI, against the
// scripted model) and fed to the manager with ingest: same statuses, notifications,
// persistence and resume chain as a spawned session.
import test from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { query } from '@anthropic-ai/claude-agent-sdk'
import { SessionManager } from '../index.js'
import { startScriptedModel } from 'openclaw-sessions/testing'
import { claudeBin, claudeEnv, waitForStatus } from './helpers/claude.mjs'

test('an Agent SDK session fed through ingest behaves like a native one', async () => {
  const model = await startScriptedModel()
  const t = claudeEnv(model.url)
  const dir = mkdtempSync(join(tmpdir(), 'ocs-sdk-'))
  const m = new SessionManager({
    claudePath: claudeBin(),
    env: t.env,
    storePath: join(dir, 's.db'),
    notifications: { fallbackChannel: 'main', waitingDebounceMs: 200 },
  })
  const notes = []
  m.onNotification(async (n) => {
    notes.push(n)
  })
  try {
    const s = m.register({ workdir: t.workdir, name: 'sdk', prompt: "Hello, I'm John", origin: { channel: 'tg:7' } })
    assert.equal(s.status, 'starting')
    assert.equal(s.external, true)
    for await (const message of query({ prompt: "Hello, I'm John", options: { cwd: t.workdir, env: { ...t.env, PATH: process.env.PATH } } })) {
      m.ingest(s.id, message)
    }
    const after = m.get(s.id)
    assert.equal(after.status, 'waiting-for-input')
    assert.equal(after.turns, 1)
    assert.equal(after.lastAssistantText, 'Nice to meet you, John!')
    assert.ok(after.totalCostUsd > 0)
    assert.match(after.backendSessionId, /^[0-9a-f-]{36}$/, 'learned from the SDK’s init message')
    assert.deepEqual(
      m.events(s.id, { kinds: ['status'] }).map((e) => e.status),
      ['starting', 'running', 'waiting-for-input'],
    )
    await assert.rejects(m.send(s.id, 'hi'), { code: 'E_STATE', message: /owner/ })

    // Notifications like a native session's, on its origin channel.
    for (let i = 0; i < 200 && !notes.some((n) => n.kind === 'waiting-for-input'); i++) await new Promise((r) => setTimeout(r, 20))
    assert.deepEqual(notes.map((n) => [n.kind, n.channel]), [['launched', 'tg:7'], ['waiting-for-input', 'tg:7']])

    // The SDK's process is done: close marks the session completed; it is stored.
    assert.equal((await m.close(s.id)).status, 'completed')
    await new Promise((r) => setTimeout(r, 50))
    assert.ok(notes.some((n) => n.kind === 'completed'))

    // Resume it with the CLI this manager runs: the conversation carries over, and the chain
    // links the new session to the SDK's.
    const r = await m.resume(s.id, "What's my name?")
    assert.equal(r.resumedFromId, s.id)
    const resumed = await waitForStatus(m, r.id, ['waiting-for-input', 'failed'])
    assert.equal(resumed.lastAssistantText, 'Your name is John.', resumed.lastError ?? '')
    assert.deepEqual(m.resumeChain(r.id).map((x) => x.id), [r.id, s.id])
    assert.throws(() => m.ingest(r.id, { type: 'assistant' }), { code: 'E_STATE' })
    assert.throws(() => m.register({ workdir: 'relative' }), { code: 'E_INVALID_ARGUMENT' })
  } finally {
    await m.shutdown()
    await model.close()
    t.cleanup()
    rmSync(dir, { recursive: true, force: true })
  }
})
