// Automatic recovery (opt-in `recovery`) with the real Claude Code CLI against the scripted
// model on 127.0.0.1: a turn answered with HTTP 529 is sent again on the same conversation
// after a backoff, each failed attempt is a link of the resume chain, a 400 never retries,
// and the last failed attempt ends the session `failed` with every attempt's error.
import test from 'node:test'
import assert from 'node:assert/strict'
import { SessionManager } from '../index.js'
import { startScriptedModel } from 'openclaw-sessions/testing'
import { claudeBin, claudeEnv, processesInGroup, waitForStatus } from './helpers/claude.mjs'
import { codexBin, codexEnv } from './helpers/codex.mjs'

let model
let t
let manager
let got

test.beforeEach(async () => {
  model = await startScriptedModel()
  t = claudeEnv(model.url)
  // One model request per CLI run: the CLI's own retries would eat the scripted errors.
  t.env.CLAUDE_CODE_MAX_RETRIES = '0'
  manager = new SessionManager({
    claudePath: claudeBin(),
    env: t.env,
    storePath: ':memory:',
    notifications: { fallbackChannel: 'main', waitingDebounceMs: 100, deliveryBackoffMs: 20 },
  })
  got = []
  manager.onNotification(async (n) => {
    got.push(n)
  })
})

test.afterEach(async () => {
  await manager.shutdown({ graceMs: 2000 })
  await model.close()
  t.cleanup()
})

const statusesOf = (id) => manager.events(id, { kinds: ['status'] }).map((e) => e.status)
const requestsFor = (prompt) => model.messagesRequests().filter((r) => r.prompt === prompt)
const overloaded = { error: { status: 529, type: 'overloaded_error', message: 'Overloaded (scripted)' } }

/** Resolves with the notifications of `kind` for `id` once `pred(list)` holds (rejects after `ms`). */
function notificationsWhen(id, kind, pred, ms = 15000) {
  return new Promise((resolve, reject) => {
    const start = Date.now()
    const check = () => {
      const list = got.filter((n) => n.sessionId === id && n.kind === kind)
      if (pred(list)) return resolve(list)
      if (Date.now() - start > ms) return reject(new Error(`no ${kind} notification in time: ${JSON.stringify(got.map((n) => n.kind))}`))
      setTimeout(check, 20)
    }
    check()
  })
}

test('a turn answered 529 twice, then well, ends waiting-for-input after two recovering attempts on the same conversation', async () => {
  const prompt = 'flaky turn'
  model.enqueue(overloaded, { prompt })
  model.enqueue(overloaded, { prompt })
  model.enqueue({ text: 'Recovered answer.' }, { prompt })

  // What the snapshot says while recovering, read from the `recovering` event itself.
  const seen = []
  manager.onEvent((e) => {
    if (e.kind === 'recovering') seen.push({ event: e, info: manager.get(e.sessionId) })
  })
  const s = await manager.spawn({
    backend: 'claude',
    prompt,
    workdir: t.workdir,
    name: 'flaky',
    recovery: { maxAttempts: 3, backoffMs: 1000 },
  })
  // A wait started before the failures resolves when the retried turn ends.
  const turn = await manager.waitForTurn(s.id, { timeoutMs: 60000 })
  assert.equal(turn.outcome, 'completed', turn.error ?? '')
  assert.equal(turn.text, 'Recovered answer.')

  const info = await waitForStatus(manager, 'flaky', ['waiting-for-input', 'failed'])
  assert.equal(info.status, 'waiting-for-input', info.lastError ?? '')
  assert.equal(info.id, s.id, 'the session keeps its id and name')
  assert.equal(info.lastAssistantText, 'Recovered answer.')
  assert.equal(info.recovery.attempt, 2)
  assert.equal(info.recovery.maxAttempts, 3)
  assert.equal(info.recovery.nextAttemptAt, undefined)
  assert.equal(info.recovery.errors.length, 2)
  for (const e of info.recovery.errors) assert.match(e, /529/)

  // Two `recovering` statuses, each followed by a new run of the turn.
  const statuses = statusesOf(s.id)
  assert.equal(statuses.filter((x) => x === 'recovering').length, 2, statuses.join(' > '))
  assert.deepEqual(statuses.slice(-1), ['waiting-for-input'])
  assert.deepEqual(seen.map((x) => x.event.attempt), [1, 2])
  assert.deepEqual(seen.map((x) => x.event.delayMs), [1000, 2000], 'the backoff doubles')
  for (const { event, info: during } of seen) {
    assert.equal(during.status, 'recovering')
    assert.equal(during.pid ?? null, null, 'no process while it waits')
    assert.equal(during.recovery.attempt, event.attempt)
    assert.equal(during.recovery.nextAttemptAt, event.nextAttemptAt)
    assert.ok(event.nextAttemptAt > event.at, 'the next attempt is in the future')
    assert.match(event.error, /529/)
  }

  // The model saw the same prompt three times, all on the same Claude conversation.
  const reqs = requestsFor(prompt)
  assert.equal(reqs.length, 3)
  for (const r of reqs) assert.equal(r.sessionId, s.backendSessionId)
  assert.equal(info.backendSessionId, s.backendSessionId)

  // Each failed attempt is a `failed` link of the resume chain, newest first.
  const chain = manager.resumeChain(s.id)
  assert.equal(chain.length, 3)
  assert.equal(chain[0].id, s.id)
  const links = chain.slice(1)
  for (const link of links) {
    assert.equal(link.status, 'failed')
    assert.equal(link.endReason, 'api-error')
    assert.equal(link.backendSessionId, s.backendSessionId)
    assert.match(link.lastError, /529/)
    assert.notEqual(link.name, 'flaky')
  }
  assert.equal(chain[0].resumedFromId, links[0].id)
  assert.equal(links[0].resumedFromId, links[1].id)
  assert.equal(links[1].resumedFromId ?? null, null)
  assert.deepEqual(links.map((l) => l.recovery.attempt), [2, 1])

  // One `recovering` notification for the session, not one per attempt; then the usual wake.
  await notificationsWhen(s.id, 'waiting-for-input', (l) => l.length === 1)
  const told = got.filter((n) => n.sessionId === s.id && n.kind === 'recovering')
  assert.equal(told.length, 1)
  assert.equal(told[0].data.attempt, 1)
  assert.match(told[0].data.error, /529/)
  assert.equal(got.filter((n) => n.sessionId === s.id && n.kind === 'failed').length, 0)

  // The conversation goes on normally.
  await manager.send(s.id, 'and now?')
  const next = await waitForStatus(manager, s.id, ['waiting-for-input', 'failed'])
  assert.equal(next.status, 'waiting-for-input', next.lastError ?? '')
})

test('a 400 is never retried: the session fails at once, with no recovering status and no link', async () => {
  const prompt = 'bad request turn'
  model.enqueue({ error: { status: 400, type: 'invalid_request_error', message: 'scripted bad request' } }, { prompt })
  const s = await manager.spawn({
    backend: 'claude',
    prompt,
    workdir: t.workdir,
    recovery: { maxAttempts: 3, backoffMs: 50, retryOn: [529, 500, 'bad request'] },
  })
  const info = await waitForStatus(manager, s.id, ['failed', 'waiting-for-input', 'completed'])
  assert.equal(info.status, 'failed')
  assert.equal(info.endReason, 'api-error')
  assert.match(info.lastError, /400/)
  assert.equal(info.recovery, undefined)
  assert.ok(!statusesOf(s.id).includes('recovering'))
  assert.equal(manager.events(s.id, { kinds: ['recovering'] }).length, 0)
  assert.equal(requestsFor(prompt).length, 1)
  assert.equal(manager.resumeChain(s.id).length, 1)
  await notificationsWhen(s.id, 'failed', (l) => l.length === 1)
  assert.equal(got.filter((n) => n.kind === 'recovering').length, 0)
})

test('after the last attempt the session fails with every attempt\'s error; the manager default applies', async () => {
  await manager.shutdown()
  manager = new SessionManager({
    claudePath: claudeBin(),
    env: t.env,
    storePath: ':memory:',
    recovery: { maxAttempts: 1, backoffMs: 50 },
    notifications: { fallbackChannel: 'main', deliveryBackoffMs: 20 },
  })
  manager.onNotification(async (n) => {
    got.push(n)
  })
  const prompt = 'always overloaded'
  model.enqueue(overloaded, { prompt })
  model.enqueue({ error: { status: 503, message: 'scripted unavailable' } }, { prompt })
  const s = await manager.spawn({ backend: 'claude', prompt, workdir: t.workdir })
  const turn = await manager.waitForTurn(s.id, { timeoutMs: 60000 })
  assert.equal(turn.outcome, 'ended')
  const info = manager.get(s.id)
  assert.equal(info.status, 'failed')
  assert.equal(info.endReason, 'api-error')
  assert.equal(info.recovery.attempt, 1)
  assert.equal(info.recovery.errors.length, 2)
  assert.match(info.recovery.errors[0], /529/)
  assert.match(info.recovery.errors[1], /503/)
  assert.match(info.lastError, /529/, 'the first error is in the context')
  assert.match(info.lastError, /503/, 'the last error is in the context')
  assert.equal(statusesOf(s.id).filter((x) => x === 'recovering').length, 1)
  assert.equal(requestsFor(prompt).length, 2)
  assert.equal(manager.resumeChain(s.id).length, 2)
  const failed = await notificationsWhen(s.id, 'failed', (l) => l.length === 1)
  assert.match(failed[0].data.error, /529/)
  assert.equal(got.filter((n) => n.sessionId === s.id && n.kind === 'recovering').length, 1)
})

for (const [stop, ended] of [['kill', 'killed'], ['interrupt', 'interrupted'], ['close', 'completed']]) {
  test(`${stop} while recovering ends the session ${ended}; no attempt runs after it`, async () => {
    const prompt = `overloaded then ${stop}`
    model.enqueue(overloaded, { prompt })
    const s = await manager.spawn({ backend: 'claude', prompt, workdir: t.workdir, recovery: { backoffMs: 1500 } })
    const recovering = await waitForStatus(manager, s.id, ['recovering', 'failed', 'waiting-for-input'])
    assert.equal(recovering.status, 'recovering', recovering.lastError ?? '')
    await assert.rejects(manager.send(s.id, 'too early'), (e) => e.code === 'E_STATE')
    const stopped = await manager[stop](s.id)
    assert.equal(stopped.status, ended)
    assert.equal(stopped.recovery.nextAttemptAt, undefined, 'no attempt is scheduled any more')
    // No second request reaches the model, also well past the time the attempt was due.
    const first = requestsFor(prompt)[0]
    const waitMs = recovering.recovery.nextAttemptAt - Date.now() + 1000
    await assert.rejects(model.waitForRequest((r) => r.prompt === prompt && r !== first, waitMs))
    assert.equal(manager.get(s.id).status, ended)
    assert.equal(requestsFor(prompt).length, 1)
    assert.equal(manager.resumeChain(s.id).length, 1)
    assert.deepEqual(processesInGroup(s.pid), [])
  })
}

for (const backend of ['codex', 'codex-exec']) {
  test(`${backend}: a 529 turn is resumed on the same thread with the prompt again`, async () => {
    const x = codexEnv(model.url)
    const codex = new SessionManager({ codexPath: codexBin(), env: x.env, storePath: ':memory:', recovery: { backoffMs: 200 } })
    try {
      const prompt = `${backend} flaky turn`
      model.enqueue({ error: { status: 529, message: 'scripted overload' } }, { prompt })
      model.enqueue({ text: 'Codex recovered.' }, { prompt })
      const s = await codex.spawn({ backend, prompt, workdir: x.workdir })
      const turn = await codex.waitForTurn(s.id, { timeoutMs: 60000 })
      assert.equal(turn.outcome, 'completed', turn.error ?? '')
      assert.equal(turn.text, 'Codex recovered.')
      const info = codex.get(s.id)
      assert.equal(info.status, 'waiting-for-input')
      assert.equal(info.recovery.attempt, 1)
      assert.match(info.recovery.errors[0], /529/)
      assert.equal(info.backendSessionId, s.backendSessionId, 'the same thread')
      // Both requests carry the prompt; the retried one has the thread's history before it.
      const reqs = model.responsesRequests().filter((r) => r.prompt === prompt)
      assert.equal(reqs.length, 2)
      assert.equal(new Set(reqs.map((r) => r.sessionId)).size, 1, 'one conversation')
      const chain = codex.resumeChain(s.id)
      assert.equal(chain.length, 2)
      assert.equal(chain[1].status, 'failed')
      assert.equal(chain[1].backendSessionId, s.backendSessionId)
    } finally {
      await codex.shutdown({ graceMs: 2000 })
      x.cleanup()
    }
  })
}

test('bad recovery options are E_INVALID_ARGUMENT naming the key', async () => {
  const bad = [
    [{ maxAttempts: 101 }, /recovery\.maxAttempts/],
    [{ retryOn: [401] }, /never retried/],
    [{ retryOn: [200] }, /recovery\.retryOn/],
    [{ retryOn: [''] }, /recovery\.retryOn/],
    [{ tries: 2 }, /tries/],
  ]
  for (const [recovery, message] of bad) {
    await assert.rejects(manager.spawn({ backend: 'claude', prompt: 'x', workdir: t.workdir, recovery }), (e) => {
      assert.equal(e.code, 'E_INVALID_ARGUMENT')
      assert.match(e.message, message)
      return true
    })
    assert.throws(() => new SessionManager({ storePath: ':memory:', recovery }), (e) => e.code === 'E_INVALID_ARGUMENT')
  }
})
