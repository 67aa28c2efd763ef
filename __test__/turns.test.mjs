// Waiting for turns with the real CLIs against the scripted model on 127.0.0.1:
// `send(..., { wait: true })`, `spawn({ ..., wait: true })` and `waitForTurn` resolve with the
// turn's text, cost, tokens and how it ended, for every backend; `spawn` without `wait`
// resolves `running` for every backend.
import test from 'node:test'
import assert from 'node:assert/strict'
import { SessionManager, isSessionError } from '../index.js'
import { startScriptedModel } from 'openclaw-sessions/testing'
import { claudeBin, claudeEnv } from './helpers/claude.mjs'
import { codexBin, codexEnv } from './helpers/codex.mjs'

let model
let ct
let xt
let manager

test.beforeEach(async () => {
  model = await startScriptedModel()
  ct = claudeEnv(model.url)
  xt = codexEnv(model.url)
  manager = new SessionManager({ claudePath: claudeBin(), codexPath: codexBin() })
})

test.afterEach(async () => {
  await manager.shutdown()
  await model.close()
  ct.cleanup()
  xt.cleanup()
})

const setup = (backend) => (backend === 'claude' ? ct : xt)

for (const backend of ['claude', 'codex', 'codex-exec']) {
  test(`${backend}: spawn and send with wait: true resolve with the turn's answer`, async () => {
    const { env, workdir } = setup(backend)
    const first = await manager.spawn({ backend, prompt: "Hello, I'm John", workdir, env, wait: true })
    assert.equal(first.outcome, 'completed', first.error ?? '')
    assert.equal(first.text, 'Nice to meet you, John!')
    assert.equal(first.turn, 1)
    assert.equal(first.session.status, 'waiting-for-input')
    assert.ok(first.usage.inputTokens > 0 && first.usage.outputTokens > 0, 'the turn has tokens')
    assert.ok(first.durationMs >= 0)

    const second = await manager.send(first.session.id, "What's my name?", { wait: true })
    assert.equal(second.outcome, 'completed', second.error ?? '')
    assert.equal(second.text, 'Your name is John.')
    assert.equal(second.turn, 2)
    assert.equal(second.session.turns, 2)
    assert.equal(second.session.status, 'waiting-for-input')
    if (backend === 'claude') assert.ok(second.costUsd > 0, 'Claude reports a cost')
    const turnEvents = manager.events(first.session.id, { kinds: ['turn-completed'] })
    assert.equal(second.costUsd, turnEvents.at(-1).costUsd, "the result's cost is the turn's")

    // Nothing runs: waitForTurn resolves at once with the last turn.
    const again = await manager.waitForTurn(first.session.id, { timeoutMs: 1000 })
    assert.equal(again.text, 'Your name is John.')
    assert.equal(again.turn, 2)
  })

  test(`${backend}: spawn without wait resolves running`, async () => {
    const { env, workdir } = setup(backend)
    model.enqueue({ stall: { ms: 60000, then: { text: 'late' } } }, { prompt: 'a long task' })
    const s = await manager.spawn({ backend, prompt: 'a long task', workdir, env })
    assert.equal(s.status, 'running')
    await model.waitForRequest({ prompt: 'a long task' }, 30000)
    // The turn runs: a bounded wait times out and the session goes on.
    await assert.rejects(manager.waitForTurn(s.id, { timeoutMs: 200 }), { code: 'E_TIMEOUT' })
    assert.equal(manager.get(s.id).status, 'running')
    // Interrupted while a waiter waits: the waiter learns it.
    const waiting = manager.waitForTurn(s.id)
    await manager.interruptTurn(s.id)
    const r = await waiting
    assert.equal(r.outcome, 'interrupted')
    assert.equal(r.session.status, 'waiting-for-input')
    assert.equal(r.error, undefined)
  })
}

test('claude: a permission request ends the wait, answering it and waiting again ends the turn', async () => {
  const { env, workdir } = ct
  const asked = await manager.spawn({ backend: 'claude', prompt: 'run: touch waited.txt', workdir, env, wait: true })
  assert.equal(asked.outcome, 'permission')
  assert.equal(asked.session.statusReason, 'permission')
  const [pending] = asked.session.pendingPermissions
  assert.equal(pending.toolName, 'Bash')
  await manager.respondToPermission(asked.session.id, pending.requestId, { behavior: 'allow' })
  const done = await manager.waitForTurn(asked.session.id, { timeoutMs: 30000 })
  assert.equal(done.outcome, 'completed', done.error ?? '')
  assert.equal(done.session.status, 'waiting-for-input')
  assert.equal(done.turn, 1)
})

test('a session that ends while waited for resolves ended; a stored one too', async () => {
  const { env, workdir } = ct
  model.enqueue({ stall: { ms: 60000 } }, { prompt: 'never answered' })
  const s = await manager.spawn({ backend: 'claude', prompt: 'never answered', workdir, env })
  const waiting = manager.waitForTurn(s.id)
  await manager.kill(s.id)
  const r = await waiting
  assert.equal(r.outcome, 'ended')
  assert.equal(r.session.status, 'killed')
  assert.equal((await manager.waitForTurn(s.id)).outcome, 'ended')
})

test('bad wait options are E_INVALID_ARGUMENT; unknown refs E_NOT_FOUND', async () => {
  await assert.rejects(manager.waitForTurn('nope'), { code: 'E_NOT_FOUND' })
  await assert.rejects(manager.waitForTurn('nope', { timeoutMs: -1 }), { code: 'E_INVALID_ARGUMENT', message: /timeoutMs/ })
  await assert.rejects(manager.waitForTurn('nope', { wait: true }), { code: 'E_INVALID_ARGUMENT', message: /unknown key `wait`/ })
  await assert.rejects(manager.send('nope', 'hi', { timeoutMs: 5 }), { code: 'E_INVALID_ARGUMENT', message: /needs `wait: true`/ })
  await assert.rejects(manager.send('nope', 'hi', { wait: 'yes' }), { code: 'E_INVALID_ARGUMENT', message: /`wait` must be a boolean/ })
  await assert.rejects(
    manager.spawn({ backend: 'claude', prompt: 'x', workdir: ct.workdir, waitTimeoutMs: 5 }),
    { code: 'E_INVALID_ARGUMENT', message: /needs `wait: true`/ },
  )
})

test('isSessionError tells the manager\'s errors from anything else', async () => {
  const err = await manager.waitForTurn('nope').catch((e) => e)
  assert.equal(isSessionError(err), true)
  assert.equal(err.code, 'E_NOT_FOUND')
  let thrown
  try {
    manager.get('nope')
  } catch (e) {
    thrown = e
  }
  assert.equal(isSessionError(thrown), true)
  for (const other of [new Error('x'), Object.assign(new Error('x'), { code: 'ENOENT' }), { code: 'E_STATE', message: 'x' }, null, undefined, 'E_STATE', 42]) {
    assert.equal(isSessionError(other), false, String(other))
  }
})

test('list filters on one backend or several', async () => {
  const c = await manager.spawn({ backend: 'claude', prompt: "Hello, I'm John", workdir: ct.workdir, env: ct.env, wait: true })
  const x = await manager.spawn({ backend: 'codex-exec', prompt: "Hello, I'm John", workdir: xt.workdir, env: xt.env, wait: true })
  const ids = async (filter) => (await manager.list(filter)).map((s) => s.id).filter((id) => [c.session.id, x.session.id].includes(id))
  assert.deepEqual(await ids({ backend: 'claude' }), [c.session.id])
  assert.deepEqual(await ids({ backend: ['codex', 'codex-exec'] }), [x.session.id])
  assert.deepEqual(await ids({ backend: ['claude', 'codex-exec'] }), [c.session.id, x.session.id])
  assert.deepEqual(await ids({ backend: [] }), [c.session.id, x.session.id])
  await assert.rejects(manager.list({ backend: ['gpt'] }), { code: 'E_INVALID_ARGUMENT' })
})
