// onLimit: 'evict-idle' with the real Claude Code CLI and the scripted model on 127.0.0.1:
// at maxSessions a new session evicts the session that has waited for input longest
// (interrupted, endReason 'evicted', its notification), which then resumes with its history;
// running sessions are never evicted; two concurrent launches never exceed the limit.
import test from 'node:test'
import assert from 'node:assert/strict'
import { SessionManager } from '../index.js'
import { startScriptedModel } from 'openclaw-sessions/testing'
import { claudeBin, claudeEnv, waitForStatus } from './helpers/claude.mjs'

let model
let t
let m
let told
let waiters

test.beforeEach(async () => {
  model = await startScriptedModel()
  t = claudeEnv(model.url)
  told = []
  waiters = []
  m = new SessionManager({
    claudePath: claudeBin(),
    env: t.env,
    storePath: ':memory:',
    maxSessions: 2,
    onLimit: 'evict-idle',
    notifications: { fallbackChannel: 'main', waitingDebounceMs: 60000 },
  })
  m.onNotification((n) => {
    told.push(n)
    for (const w of waiters) w()
  })
})

test.afterEach(async () => {
  await m.shutdown({ graceMs: 2000 })
  await model.close()
  t.cleanup()
})

const waiting = (id) => waitForStatus(m, id, ['waiting-for-input'])

/** Resolves with the notification of `kind` for `id` once it has been delivered. */
function notified(id, kind, timeoutMs = 10000) {
  return new Promise((resolve, reject) => {
    const look = () => {
      const n = told.find((x) => x.sessionId === id && x.kind === kind)
      if (!n) return
      clearTimeout(timer)
      waiters = waiters.filter((w) => w !== look)
      resolve(n)
    }
    const timer = setTimeout(() => reject(new Error(`no ${kind} notification for ${id}`)), timeoutMs)
    waiters.push(look)
    look()
  })
}

test('a third launch evicts the idlest waiting session, which then resumes with its history', async () => {
  const a = await m.spawn({ backend: 'claude', prompt: "Hello, I'm John", workdir: t.workdir, name: 'john' })
  await waiting(a.id)
  const b = await m.spawn({ backend: 'claude', prompt: 'Hello', workdir: t.workdir })
  await waiting(b.id)

  const c = await m.spawn({ backend: 'claude', prompt: 'Hello again', workdir: t.workdir })
  const evicted = m.get(a.id)
  assert.equal(evicted.status, 'interrupted', 'the session waiting longest was stopped before the new one started')
  assert.equal(evicted.endReason, 'evicted')
  assert.equal(evicted.statusReason, 'limit')
  assert.equal(m.get(b.id).status, 'waiting-for-input', 'the other one goes on')
  assert.equal(m.stats().live, 2, 'never over maxSessions')
  const n = await notified(a.id, 'interrupted')
  assert.equal(n.data.endReason, 'evicted')

  const v = m.canResume(a.id)
  assert.deepEqual([v.resumable, v.reason], [true, 'ok'], 'an evicted session is resumable')
  await waiting(c.id)
  // Resuming needs a slot too: now `b` has waited longest and makes room.
  const r = await m.resume('john', "What's my name?")
  assert.equal(r.resumedFromId, a.id)
  assert.equal(m.get(b.id).endReason, 'evicted')
  const info = await waiting(r.id)
  assert.equal(info.lastAssistantText, 'Your name is John.', 'the conversation kept its history')
})

test('running sessions are never evicted: with none waiting it is E_LIMIT', async () => {
  const a = await m.spawn({ backend: 'claude', prompt: 'sleep 20000', workdir: t.workdir })
  const b = await m.spawn({ backend: 'claude', prompt: 'sleep 20000', workdir: t.workdir })
  await model.waitForRequest({ prompt: 'sleep 20000' }, 20000)
  const before = m.stats().spawned
  await assert.rejects(m.spawn({ backend: 'claude', prompt: 'Hello', workdir: t.workdir }), (err) => {
    assert.equal(err.code, 'E_LIMIT')
    assert.match(err.message, /none waits for input/)
    return true
  })
  assert.equal(m.stats().spawned, before, 'nothing was started')
  assert.deepEqual([m.get(a.id).status, m.get(b.id).status], ['running', 'running'])
})

test('two concurrent launches at the limit evict one waiting session each, never the same one', async () => {
  const a = await m.spawn({ backend: 'claude', prompt: 'Hello', workdir: t.workdir })
  await waiting(a.id)
  const b = await m.spawn({ backend: 'claude', prompt: 'Hello', workdir: t.workdir })
  await waiting(b.id)
  const [c, d] = await Promise.all([
    m.spawn({ backend: 'claude', prompt: 'Hello', workdir: t.workdir }),
    m.spawn({ backend: 'claude', prompt: 'Hello', workdir: t.workdir }),
  ])
  assert.deepEqual([m.get(a.id).endReason, m.get(b.id).endReason], ['evicted', 'evicted'])
  assert.equal(m.stats().live, 2)
  assert.notEqual(c.id, d.id)
})

test("onLimit 'reject' (the default) keeps E_LIMIT, and a bad onLimit is refused", async () => {
  assert.throws(() => new SessionManager({ onLimit: 'evict', storePath: ':memory:' }), {
    code: 'E_INVALID_ARGUMENT',
    message: /onLimit/,
  })
  const r = new SessionManager({ claudePath: claudeBin(), env: t.env, storePath: ':memory:', maxSessions: 1 })
  try {
    const a = await r.spawn({ backend: 'claude', prompt: 'Hello', workdir: t.workdir })
    await waitForStatus(r, a.id, ['waiting-for-input'])
    await assert.rejects(r.spawn({ backend: 'claude', prompt: 'Hello', workdir: t.workdir }), { code: 'E_LIMIT' })
    assert.equal(r.get(a.id).status, 'waiting-for-input', 'nothing was evicted')
  } finally {
    await r.shutdown()
  }
})
