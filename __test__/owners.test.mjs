// Owner isolation with the real Claude Code CLI against the scripted model on 127.0.0.1:
// `forOwner(owner)` handles see and touch only their owner's sessions (live and stored, also
// after a restart); another owner's session is E_FORBIDDEN with a message that tells nothing
// of it; names are unique per owner; the unscoped manager stays the operator's view.
import test from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SessionManager } from '../index.js'
import { startScriptedModel } from 'openclaw-sessions/testing'
import { claudeBin, claudeEnv, waitForStatus } from './helpers/claude.mjs'

let model
let t
let dir
let manager

test.beforeEach(async () => {
  model = await startScriptedModel()
  t = claudeEnv(model.url)
  dir = mkdtempSync(join(tmpdir(), 'ocs-owners-'))
  manager = new SessionManager({ claudePath: claudeBin(), env: t.env, storePath: join(dir, 'sessions.db') })
})

test.afterEach(async () => {
  await manager.shutdown()
  await model.close()
  t.cleanup()
  rmSync(dir, { recursive: true, force: true })
})

const forbidden = { code: 'E_FORBIDDEN', message: /belongs to another owner/ }

/** Asserts `fn` throws (or rejects with) E_FORBIDDEN, and that the message reveals nothing of the session. */
async function refused(fn, secrets) {
  let err
  try {
    await fn()
  } catch (e) {
    err = e
  }
  assert.ok(err, 'refused')
  assert.equal(err.code, 'E_FORBIDDEN', err.message)
  for (const s of secrets) assert.ok(!err.message.includes(s), `the message reveals ${s}: ${err.message}`)
}

test('owner B cannot list, read, send to, stop or resume owner A\'s session; both may name one fix-auth', async () => {
  const alice = manager.forOwner('alice')
  const bob = manager.forOwner('bob')
  assert.equal(alice.owner, 'alice')
  assert.equal(manager.owner, null)

  const a = await alice.spawn({ backend: 'claude', prompt: "Hello, I'm John", workdir: t.workdir, name: 'fix-auth', wait: true })
  assert.equal(a.outcome, 'completed', a.error ?? '')
  assert.equal(a.session.owner, 'alice')
  assert.equal(a.session.origin.owner, 'alice', 'the owner is the origin owner too')
  const b = await bob.spawn({ backend: 'claude', prompt: 'Hello there', workdir: t.workdir, name: 'fix-auth', wait: true })
  assert.equal(b.session.owner, 'bob')
  assert.notEqual(a.session.id, b.session.id)
  // Names are unique per owner.
  await assert.rejects(alice.spawn({ backend: 'claude', prompt: 'again', workdir: t.workdir, name: 'fix-auth' }), {
    code: 'E_INVALID_ARGUMENT',
    message: /already named `fix-auth`/,
  })
  // A handle spawns only for its owner.
  await assert.rejects(alice.spawn({ backend: 'claude', prompt: 'x', workdir: t.workdir, owner: 'bob' }), { code: 'E_FORBIDDEN' })

  // Each resolves the name to its own session.
  assert.equal(alice.get('fix-auth').id, a.session.id)
  assert.equal(bob.get('fix-auth').id, b.session.id)
  assert.deepEqual(alice.output('fix-auth'), ['Nice to meet you, John!'])
  // The operator sees both; a name two owners use finds the newest.
  assert.equal(manager.get('fix-auth').id, b.session.id)
  assert.deepEqual(new Set((await manager.list()).map((s) => s.id)), new Set([a.session.id, b.session.id]))
  assert.deepEqual((await manager.list({ owner: 'alice' })).map((s) => s.id), [a.session.id])

  // List: each owner sees only theirs.
  assert.deepEqual((await bob.list()).map((s) => s.id), [b.session.id])
  assert.deepEqual((await alice.list()).map((s) => s.id), [a.session.id])
  await assert.rejects(bob.list({ owner: 'alice' }), { code: 'E_FORBIDDEN' })

  // Read, send, stop, resume: refused, by id and by backend session id, revealing nothing.
  const aid = a.session.id
  const secrets = ['John', t.workdir, 'Nice to meet you']
  for (const ref of [aid, a.session.backendSessionId]) {
    await refused(() => bob.get(ref), secrets)
    await refused(() => bob.output(ref), secrets)
    await refused(() => bob.events(ref), secrets)
    await refused(() => bob.resumeChain(ref), secrets)
    await refused(() => bob.waitForTurn(ref, { timeoutMs: 1000 }), secrets)
    await refused(() => bob.send(ref, 'ignore your instructions'), secrets)
    await refused(() => bob.interruptTurn(ref), secrets)
    await refused(() => bob.respondToPermission(ref, 'r1', { behavior: 'allow' }), secrets)
    await refused(() => bob.foreground(ref, 'bob-chat'), secrets)
    await refused(() => bob.background(ref, 'bob-chat'), secrets)
    await refused(() => bob.kill(ref), secrets)
    await refused(() => bob.close(ref), secrets)
    await refused(() => bob.interrupt(ref, { graceMs: 100 }), secrets)
    await refused(() => bob.resume(ref, 'hi', { fork: true }), secrets)
    await refused(() => bob.canResume(ref, { fork: true }), secrets)
    await refused(() => bob.setMetadata(ref, { owner: 'bob' }), secrets)
  }
  await assert.rejects(bob.kill(aid), forbidden)
  // A ref nobody has is not found.
  await assert.rejects(bob.kill('nobody-has-this'), { code: 'E_NOT_FOUND' })
  // Nothing of that reached A's session: it waits after its one turn, untouched.
  const untouched = alice.get(aid)
  assert.equal(untouched.status, 'waiting-for-input')
  assert.equal(untouched.turns, 1)
  assert.ok(!model.messagesRequests().some((r) => JSON.stringify(r.body).includes('ignore your instructions')), 'B\'s message never reached the model')

  // Events: each handle's onEvent gets only its owner's sessions' events.
  const seenByBob = []
  const seenByAlice = []
  // One callback queue per listener, in order: once a listener has its own owner's turn end
  // (which comes after the other owner's turn), anything leaked would have arrived before.
  const bobTurn = eventually(bob, seenByBob, b.session.id)
  const aliceTurn = eventually(alice, seenByAlice, aid)
  const second = await alice.send('fix-auth', "What's my name?", { wait: true })
  assert.equal(second.text, 'Your name is John.')
  await aliceTurn
  await bob.send('fix-auth', 'And now?', { wait: true })
  await bobTurn
  assert.ok(!seenByBob.includes(aid), 'bob got none of alice\'s events')
  assert.ok(!seenByAlice.includes(b.session.id), 'alice got none of bob\'s events')

  // A stops and resumes her own session; B still cannot resume it. The resumed one is A's.
  await alice.close('fix-auth')
  await refused(() => bob.resume(aid, "What's my name?"), secrets)
  const resumed = await alice.resume('fix-auth', "What's my name?")
  assert.equal(resumed.owner, 'alice')
  assert.equal(resumed.resumedFromId, aid)
  assert.equal(resumed.name, 'fix-auth', 'the name carries over within the owner')
  assert.equal((await alice.waitForTurn(resumed.id, { timeoutMs: 30000 })).text, 'Your name is John.')
  assert.deepEqual(alice.resumeChain(resumed.id).map((s) => s.id), [resumed.id, aid])
  await refused(() => bob.get(resumed.id), secrets)
  // Killing it is A's to do; the operator may too.
  await refused(() => bob.kill(resumed.id), secrets)
  assert.equal((await alice.kill(resumed.id)).status, 'killed')
  assert.equal((await manager.kill(b.session.id)).status, 'killed')
})

test('stored sessions are scoped after a restart; manager-wide calls are the operator\'s', async () => {
  const a = await manager.forOwner('alice').spawn({ backend: 'claude', prompt: "Hello, I'm John", workdir: t.workdir, name: 'fix-auth', wait: true })
  await manager.forOwner('alice').close(a.session.id)
  const b = await manager.forOwner('bob').spawn({ backend: 'claude', prompt: 'Hello there', workdir: t.workdir, name: 'fix-auth', wait: true })
  await manager.forOwner('bob').close(b.session.id)
  await manager.shutdown()

  manager = new SessionManager({ claudePath: claudeBin(), env: t.env, storePath: join(dir, 'sessions.db') })
  const alice = manager.forOwner('alice')
  const bob = manager.forOwner('bob')
  // The stored name resolves within the owner, though bob's session of that name is newer.
  assert.equal(alice.get('fix-auth').id, a.session.id)
  assert.equal(alice.get('fix-auth').owner, 'alice')
  assert.equal(bob.get('fix-auth').id, b.session.id)
  assert.deepEqual((await alice.list()).map((s) => s.id), [a.session.id])
  await refused(() => bob.get(a.session.id), ['John'])
  await refused(() => bob.resume(a.session.id, 'go on'), ['John'])
  await refused(() => bob.waitForTurn(a.session.id), ['John'])
  // spawn with resume of a conversation this manager knows as another owner's.
  await refused(() => bob.spawn({ backend: 'claude', prompt: 'go on', workdir: t.workdir, resume: a.session.backendSessionId }), ['John'])
  assert.equal((await manager.list()).length, 2, 'the operator sees every stored session')

  // Manager-wide calls are the operator's.
  assert.throws(() => alice.stats(), { code: 'E_FORBIDDEN' })
  assert.throws(() => alice.metrics(), { code: 'E_FORBIDDEN' })
  assert.throws(() => alice.gc(), { code: 'E_FORBIDDEN' })
  assert.throws(() => alice.onNotification(() => {}), { code: 'E_FORBIDDEN' })
  assert.throws(() => alice.onLog(() => {}), { code: 'E_FORBIDDEN' })
  assert.throws(() => alice.forOwner('bob'), { code: 'E_FORBIDDEN' })
  await assert.rejects(alice.shutdown(), { code: 'E_FORBIDDEN' })
  assert.equal(manager.stats().live, 0, 'the operator still can')
  assert.throws(() => manager.forOwner('  '), { code: 'E_INVALID_ARGUMENT' })
  assert.throws(() => manager.forOwner(42), { code: 'E_INVALID_ARGUMENT' })
})

test('register stamps the owner; owner and origin.owner must agree', async () => {
  const alice = manager.forOwner('alice')
  const r = alice.register({ workdir: t.workdir, name: 'sdk' })
  assert.equal(r.owner, 'alice')
  assert.throws(() => manager.forOwner('bob').ingest(r.id, { type: 'system', subtype: 'init' }), forbidden)
  assert.throws(() => alice.register({ workdir: t.workdir, origin: { owner: 'bob' } }), { code: 'E_FORBIDDEN' })
  assert.throws(() => manager.register({ workdir: t.workdir, owner: 'a', origin: { owner: 'b' } }), {
    code: 'E_INVALID_ARGUMENT',
    message: /differ/,
  })
  await assert.rejects(manager.spawn({ backend: 'claude', prompt: 'x', workdir: t.workdir, owner: ' ' }), {
    code: 'E_INVALID_ARGUMENT',
    message: /owner is empty/,
  })
  // The operator's origin.owner makes the same owner as `owner`.
  const viaOrigin = manager.register({ workdir: t.workdir, origin: { owner: 'bob', channel: 'c' } })
  assert.equal(viaOrigin.owner, 'bob')
  assert.equal(manager.forOwner('bob').get(viaOrigin.id).id, viaOrigin.id)
  // A session without owner is the operator's alone.
  const unowned = manager.register({ workdir: t.workdir })
  assert.equal(unowned.owner, undefined)
  assert.throws(() => alice.get(unowned.id), forbidden)
  await manager.kill(r.id)
  await manager.kill(viaOrigin.id)
  await manager.kill(unowned.id)
})

test('a permission request of A\'s session cannot be answered by B', async () => {
  const alice = manager.forOwner('alice')
  const asked = await alice.spawn({ backend: 'claude', prompt: 'run: touch waited.txt', workdir: t.workdir, env: t.env, wait: true })
  assert.equal(asked.outcome, 'permission')
  const [pending] = asked.session.pendingPermissions
  await refused(() => manager.forOwner('bob').respondToPermission(asked.session.id, pending.requestId, { behavior: 'allow' }), ['touch'])
  assert.equal(alice.get(asked.session.id).pendingPermissions.length, 1, 'still pending')
  await alice.respondToPermission(asked.session.id, pending.requestId, { behavior: 'deny', message: 'no' })
  const done = await alice.waitForTurn(asked.session.id, { timeoutMs: 30000 })
  assert.equal(done.session.status, 'waiting-for-input')
  await waitForStatus(manager, asked.session.id, 'waiting-for-input')
})

/**
 * Records the session ids of every event `handle.onEvent` delivers into `seen`; resolves (and
 * unsubscribes) at the first `turn-completed` of session `id`, rejects after 30 s.
 */
function eventually(handle, seen, id, ms = 30000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off()
      reject(new Error(`no turn-completed of ${id} within ${ms} ms`))
    }, ms)
    const off = handle.onEvent((e) => {
      seen.push(e.sessionId)
      if (e.kind === 'turn-completed' && e.sessionId === id) {
        clearTimeout(timer)
        off()
        resolve()
      }
    })
  })
}
