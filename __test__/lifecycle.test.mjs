// Lifecycle contract of issue 14 with the real CLIs against the scripted model on 127.0.0.1:
// what `close` ends in, stop races between two calls, resume of a live conversation, Codex
// resume without a prompt, codex-exec's interrupt of a turn that has not run yet, prompts on
// stdin, and bad input refused with documented codes.
import test from 'node:test'
import assert from 'node:assert/strict'
import { SessionManager } from '../index.js'
import { startScriptedModel } from 'openclaw-sessions/testing'
import { claudeBin, claudeEnv, waitForStatus } from './helpers/claude.mjs'
import { codexBin, codexEnv } from './helpers/codex.mjs'

let model
let t
let c
let m

test.beforeEach(async () => {
  model = await startScriptedModel()
  t = claudeEnv(model.url)
  c = codexEnv(model.url)
  m = new SessionManager({ claudePath: claudeBin(), codexPath: codexBin(), env: { ...c.env, ...t.env }, storePath: ':memory:' })
})

test.afterEach(async () => {
  await m.shutdown()
  await model.close()
  t.cleanup()
  c.cleanup()
})

const settled = (id) => waitForStatus(m, id, ['waiting-for-input', 'failed', 'completed', 'killed', 'interrupted'])
const fatalErrors = (id) => m.events(id, { kinds: ['error'] }).filter((e) => e.fatal)

test('close after an interrupted turn and after error_max_turns completes (those turns are not fatal)', async () => {
  model.enqueue({ stall: { ms: 60000 } }, { prompt: 'a long task' })
  const a = await m.spawn({ backend: 'claude', prompt: 'a long task', workdir: t.workdir })
  await model.waitForRequest({ prompt: 'a long task' }, 20000)
  await m.interruptTurn(a.id)
  assert.equal((await settled(a.id)).status, 'waiting-for-input')
  const closedA = await m.close(a.id)
  assert.equal(closedA.status, 'completed', closedA.lastError ?? '')
  assert.equal(closedA.endReason, 'user')
  assert.deepEqual(fatalErrors(a.id), [])

  // One turn allowed, and the reply is a tool call: Claude ends the turn `error_max_turns`.
  const b = await m.spawn({ backend: 'claude', prompt: 'run: echo max', workdir: t.workdir, maxTurns: 1, permissionMode: 'bypassPermissions' })
  assert.equal((await settled(b.id)).status, 'waiting-for-input')
  assert.equal(m.events(b.id, { kinds: ['turn-completed'] }).at(-1).subtype, 'error_max_turns')
  const closedB = await m.close(b.id)
  assert.equal(closedB.status, 'completed', closedB.lastError ?? '')
  assert.deepEqual(fatalErrors(b.id), [])
})

test('close and kill at once: kill wins (killed), both resolve with the same end', async () => {
  const s = await m.spawn({ backend: 'claude', prompt: 'Hello', workdir: t.workdir })
  await settled(s.id)
  const [closed, killed] = await Promise.all([m.close(s.id), m.kill(s.id)])
  assert.equal(killed.status, 'killed')
  assert.equal(closed.status, 'killed')
  assert.equal(m.events(s.id, { kinds: ['status'] }).filter((e) => e.status === 'failed').length, 0)
})

test('close of a hung CLI (SIGSTOP) ends killed with endReason close-timeout', async () => {
  const quick = new SessionManager({ claudePath: claudeBin(), env: t.env, storePath: ':memory:', closeTimeoutMs: 500 })
  try {
    const s = await quick.spawn({ backend: 'claude', prompt: 'Hello', workdir: t.workdir })
    const ready = await waitForStatus(quick, s.id, ['waiting-for-input', 'failed'])
    process.kill(ready.pid, 'SIGSTOP')
    const closed = await quick.close(s.id)
    assert.equal(closed.status, 'killed')
    assert.equal(closed.endReason, 'close-timeout')
    assert.equal(closed.forcedStop, true)
  } finally {
    await quick.shutdown()
  }
})

test('spawn({ resume }) of a conversation a live session runs is E_STATE; the live session goes on', async () => {
  const s = await m.spawn({ backend: 'claude', prompt: "Hello, I'm Ann", workdir: t.workdir })
  await settled(s.id)
  await assert.rejects(m.spawn({ backend: 'claude', prompt: 'again', workdir: t.workdir, resume: s.backendSessionId }), (e) => {
    assert.equal(e.code, 'E_STATE')
    assert.match(e.message, new RegExp(s.id))
    return true
  })
  assert.equal((await m.list({ liveOnly: true })).length, 1, 'no second process on the conversation')
  await m.send(s.id, "What's my name?")
  assert.equal((await settled(s.id)).lastAssistantText, 'Your name is Ann.')
})

test('Codex resume without a prompt waits for input; send then runs the next turn', async () => {
  const s = await m.spawn({ backend: 'codex', prompt: "Hello, I'm Bea", workdir: c.workdir })
  await settled(s.id)
  await m.close(s.id)
  const r = await m.resume(s.id)
  const waiting = await settled(r.id)
  assert.equal(waiting.status, 'waiting-for-input', waiting.lastError ?? '')
  await m.send(r.id, "What's my name?")
  const after = await settled(r.id)
  assert.equal(after.lastAssistantText, 'Your name is Bea.')
})

for (const when of ['spawn', 'send']) {
  test(`codex-exec: interruptTurn right after ${when} interrupts that turn; the session goes on`, async () => {
    model.enqueue({ stall: { ms: 60000 } }, { prompt: 'a long task' })
    let s
    if (when === 'spawn') {
      s = await m.spawn({ backend: 'codex-exec', prompt: 'a long task', workdir: c.workdir })
    } else {
      s = await m.spawn({ backend: 'codex-exec', prompt: 'Hello', workdir: c.workdir })
      await settled(s.id)
      await m.send(s.id, 'a long task')
    }
    // Before Codex has started the turn (no request has reached the model yet, usually).
    await m.interruptTurn(s.id)
    const info = await settled(s.id)
    assert.equal(info.status, 'waiting-for-input', info.lastError ?? '')
    const turn = m.events(s.id, { kinds: ['turn-completed'] }).at(-1)
    assert.equal(turn.subtype, 'interrupted')
    assert.equal(turn.fatal, false)
  })
}

test('codex-exec prompts go on stdin: `-`, 200 KB, and a NUL is refused', async () => {
  const dash = await m.spawn({ backend: 'codex-exec', prompt: '-', workdir: c.workdir })
  assert.equal((await settled(dash.id)).status, 'waiting-for-input')
  assert.equal(model.responsesRequests().at(-1).prompt, '-')

  const big = 'x'.repeat(200 * 1024)
  await m.send(dash.id, big)
  const after = await settled(dash.id)
  assert.equal(after.status, 'waiting-for-input', after.lastError ?? '')
  assert.equal(model.responsesRequests().at(-1).prompt.length, big.length)

  for (const bad of [() => m.send(dash.id, 'a\0b'), () => m.spawn({ backend: 'codex-exec', prompt: 'a\0b', workdir: c.workdir })]) {
    await assert.rejects(bad(), (e) => e.code === 'E_INVALID_ARGUMENT' && /NUL/.test(e.message))
  }
  assert.equal(m.get(dash.id).status, 'waiting-for-input')
})

test('env with a NUL, an `=` in a key or an empty key is E_INVALID_ARGUMENT naming the key', async () => {
  for (const env of [{ 'A=B': '1' }, { '': '1' }, { GOOD: 'a\0b' }]) {
    const key = Object.keys(env)[0]
    assert.throws(() => new SessionManager({ env, storePath: ':memory:' }), (e) => e.code === 'E_INVALID_ARGUMENT' && e.message.includes('env'))
    await assert.rejects(m.spawn({ backend: 'claude', prompt: 'Hello', workdir: t.workdir, env }), (e) => {
      assert.equal(e.code, 'E_INVALID_ARGUMENT', e.message)
      if (key) assert.ok(e.message.includes(key), e.message)
      return true
    })
  }
})

test('foreground of a finished session is E_NOT_FOUND; ingest({}) is E_INVALID_ARGUMENT; an external failure names no CLI', async () => {
  const s = await m.spawn({ backend: 'claude', prompt: 'Hello', workdir: t.workdir })
  await settled(s.id)
  await m.kill(s.id)
  await assert.rejects(m.foreground(s.id, 'ch'), (e) => e.code === 'E_NOT_FOUND')

  const ext = m.register({ workdir: t.workdir })
  assert.throws(() => m.ingest(ext.id, {}), (e) => e.code === 'E_INVALID_ARGUMENT')
  assert.equal(m.get(ext.id).status, 'starting', 'no turn started')
  assert.equal(m.get(ext.id).turns, 0)
  m.ingest(ext.id, { type: 'result', subtype: 'success', is_error: true, result: 'API Error: 500 boom', api_error_status: 500 })
  const failed = m.get(ext.id)
  assert.equal(failed.status, 'failed')
  assert.doesNotMatch(failed.lastError, /claude exited/)
  assert.match(failed.lastError, /boom/)
})
