// The contract of the callbacks: onNotification may return nothing, a value or a promise;
// its remover removes only its own callback; a delivery that never settles times out and the
// next notifications still flow; a throwing onEvent listener is reported (onLog, stats) and
// Node goes on; a JS thread that does not keep up drops events with a counted, logged overflow.
// Notifications come from registered sessions (register/ingest, the Agent SDK path: each
// register makes a `launched` notification); the throwing listener watches a real Claude CLI.
import test from 'node:test'
import assert from 'node:assert/strict'
import { SessionManager } from '../index.js'
import { startScriptedModel } from 'openclaw-sessions/testing'
import { claudeBin, claudeEnv, waitForStatus } from './helpers/claude.mjs'

const warnings = []
process.on('warning', (w) => warnings.push(w))

function manager(notifications = {}) {
  return new SessionManager({
    storePath: ':memory:',
    maxSessions: 50,
    notifications: { fallbackChannel: 'main', deliveryBackoffMs: 10, ...notifications },
  })
}

/** Resolves once `pred()` holds, checked after every event and notification; rejects after `ms`. */
function until(m, pred, what, ms = 10000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off()
      clearInterval(tick)
      reject(new Error(`timed out waiting for ${what}`))
    }, ms)
    const check = () => {
      if (!pred()) return
      clearTimeout(timer)
      clearInterval(tick)
      off()
      resolve()
    }
    const off = m.onEvent(check)
    // Deliveries produce no event of their own: check them on a short interval too.
    const tick = setInterval(check, 10)
    check()
  })
}

let n = 0
const register = (m) => m.register({ workdir: process.cwd(), name: `ext-${++n}`, prompt: 'hi' })
const failures = (m, id) => m.events(id, { kinds: ['delivery-failed'] })

test('a synchronous callback, one returning a value, and an async one each get every notification once, without warnings', async () => {
  for (const callback of [(got, n) => void got.push(n), (got, n) => got.push(n) && 42, async (got, n) => void got.push(n)]) {
    const m = manager({ deliveryAttempts: 5 })
    const got = []
    m.onNotification((n) => callback(got, n))
    const a = register(m)
    const b = register(m)
    // Delivery is in order, one at a time: once b's arrives, a's attempts are over.
    await until(m, () => got.some((x) => x.sessionId === b.id), "b's launched notification")
    assert.deepEqual(got.map((x) => [x.kind, x.sessionId]), [['launched', a.id], ['launched', b.id]])
    assert.deepEqual(failures(m, a.id), [])
    assert.match(m.metrics(), /notifications_total\{outcome="delivered"\} [12]\n/)
    assert.match(m.metrics(), /notifications_total\{outcome="failed"\} 0\n/)
    await m.shutdown()
  }
  assert.deepEqual(warnings.filter((w) => w.code === 'DEP0168'), [], 'no DEP0168 warning')
})

test('removing an old onNotification callback leaves the newer one in place', async () => {
  const m = manager()
  const first = []
  const second = []
  const offFirst = m.onNotification((n) => void first.push(n))
  const offSecond = m.onNotification((n) => void second.push(n))
  offFirst()
  const a = register(m)
  await until(m, () => second.length === 1, 'delivery to the newer callback')
  assert.equal(second[0].sessionId, a.id)
  assert.deepEqual(first, [])
  // Its own remover does remove it: the next notification waits for a new callback.
  offSecond()
  const b = register(m)
  const third = []
  m.onNotification((n) => void third.push(n))
  await until(m, () => third.length === 1, 'the waiting notification')
  assert.equal(third[0].sessionId, b.id)
  assert.equal(second.length, 1)
  await m.shutdown()
})

test('a delivery that never settles times out, a throw and a rejection fail with their message, and later notifications still flow', async () => {
  const m = manager({ deliveryTimeoutMs: 150, deliveryAttempts: 2 })
  const calls = new Map()
  const delivered = []
  let mode = 'hang'
  m.onNotification((n) => {
    calls.set(n.sessionId, (calls.get(n.sessionId) ?? 0) + 1)
    if (mode === 'hang') return new Promise(() => {})
    if (mode === 'throw') throw new Error('callback boom')
    if (mode === 'reject') return Promise.reject(new Error('rejected boom'))
    delivered.push(n)
  })
  const outcomes = {}
  for (const m2 of ['hang', 'throw', 'reject']) {
    mode = m2
    const s = register(m)
    await until(m, () => failures(m, s.id).length === 1, `delivery-failed for ${m2}`)
    outcomes[m2] = failures(m, s.id)[0]
    assert.equal(calls.get(s.id), 2, 'retried once, then given up')
  }
  assert.match(outcomes.hang.error, /did not settle within 150 ms/)
  assert.equal(outcomes.hang.attempts, 2)
  assert.match(outcomes.throw.error, /callback boom/)
  assert.match(outcomes.reject.error, /rejected boom/)
  mode = 'ok'
  const last = register(m)
  await until(m, () => delivered.length === 1, 'the next notification')
  assert.equal(delivered[0].sessionId, last.id)
  await m.shutdown()
})

test('a throwing onEvent listener is reported by onLog and stats, and Node and the other listeners go on (real Claude CLI)', async () => {
  const model = await startScriptedModel()
  const t = claudeEnv(model.url)
  const m = new SessionManager({ claudePath: claudeBin(), env: t.env, storePath: ':memory:' })
  const logs = []
  const offLog = m.onLog((e) => logs.push(e), { level: 'warn' })
  const uncaught = []
  const onUncaught = (e) => uncaught.push(e)
  process.on('uncaughtException', onUncaught)
  try {
    const offBad = m.onEvent(() => {
      throw new Error('listener boom')
    })
    const seen = []
    m.onEvent((e) => seen.push(e.kind))
    const s = await m.spawn({ backend: 'claude', prompt: 'Say hello', workdir: t.workdir })
    await waitForStatus(m, s.id, ['waiting-for-input', 'failed'])
    await until(m, () => logs.some((l) => l.fields.callback === 'onEvent'), 'the warn record')
    const record = logs.find((l) => l.fields.callback === 'onEvent')
    assert.equal(record.level, 'warn')
    assert.match(String(record.fields.error), /listener boom/)
    assert.ok(m.stats().listenerErrors >= 3, `listenerErrors ${m.stats().listenerErrors}`)
    assert.ok(seen.includes('turn-completed'), 'the good listener saw the turn end')
    assert.equal(m.get(s.id).status, 'waiting-for-input')
    assert.deepEqual(uncaught, [])
    assert.equal(offBad(), true)
  } finally {
    process.off('uncaughtException', onUncaught)
    offLog()
    await m.shutdown({ graceMs: 2000 })
    await model.close()
    t.cleanup()
  }
})

test('an onEvent queue that overflows drops events, counts them, and says so once in onLog', async () => {
  const m = manager()
  const logs = []
  m.onLog((e) => logs.push(e), { level: 'warn' })
  let received = 0
  m.onEvent(() => received++)
  const s = register(m)
  // ingest runs on the JS thread, so nothing reaches the listener until the loop ends.
  const total = 10_500
  for (let i = 0; i < total; i++) {
    m.ingest(s.id, { type: 'assistant', message: { role: 'assistant', content: [{ type: 'text', text: `line ${i}` }] } })
  }
  const emitted = m.stats().eventsEmitted
  assert.ok(emitted > 10_000, `events emitted ${emitted}`)
  await until(m, () => received + m.stats().eventsDropped >= emitted - 5, 'the queue to drain')
  const dropped = m.stats().eventsDropped
  assert.ok(dropped > 0, 'some events were dropped')
  assert.ok(received >= 10_000, `the queue held 10000 events; received ${received}`)
  await until(m, () => logs.some((l) => /queue is full/.test(l.message)), 'the overflow record')
  assert.equal(logs.filter((l) => /queue is full/.test(l.message)).length, 1, 'reported once per overflow')
  await m.shutdown()
})
