// Notifications with the real Claude Code CLI and the scripted model: debounced waiting
// states, questions, failure context, exactly-once across a restart, retries, channels,
// foreground streaming, auto-respond cap, budget stop.
import test from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { SessionManager } from '../index.js'
import { startScriptedModel } from 'openclaw-sessions/testing'
import { claudeBin, claudeEnv, waitForStatus } from './helpers/claude.mjs'

let model
let t
let managers

test.beforeEach(async () => {
  model = await startScriptedModel()
  t = claudeEnv(model.url)
  managers = []
})

test.afterEach(async () => {
  for (const m of managers) await m.shutdown({ graceMs: 2000 })
  await model.close()
  t.cleanup()
})

/** A manager with short notification timings and a collecting callback. */
function make(extra = {}, notifications = {}) {
  const m = new SessionManager({
    claudePath: claudeBin(),
    env: t.env,
    storePath: ':memory:',
    ...extra,
    notifications: { fallbackChannel: 'main', waitingDebounceMs: 400, deliveryBackoffMs: 20, ...notifications },
  })
  managers.push(m)
  const got = []
  m.onNotification(async (n) => {
    got.push(n)
  })
  return { m, got }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const turnEnd = (m, id) => waitForStatus(m, id, ['waiting-for-input', 'failed', 'completed'])
async function until(pred, ms = 15000) {
  const start = Date.now()
  while (!pred()) {
    if (Date.now() - start > ms) throw new Error('condition not met in time')
    await sleep(20)
  }
}

test('exactly one waiting-for-input per ended turn; none when the next send lands within the debounce; questions carry their text', async () => {
  // A debounce long enough that the test's next send lands within it even on a busy machine.
  const { m, got } = make({}, { waitingDebounceMs: 1500 })
  const waits = () => got.filter((n) => n.kind === 'waiting-for-input')
  const s = await m.spawn({ backend: 'claude', prompt: "Hello, I'm John", workdir: t.workdir, name: 'w' })
  await turnEnd(m, s.id)
  await until(() => waits().length === 1)
  assert.ok(m.events(s.id).length > 5, 'many events, one wake')
  assert.equal(waits()[0].data.reason, 'turn-ended')
  assert.equal(waits()[0].channel, 'main')

  // The next message arrives well within the debounce after turn 2 ends: no wake for turn 2.
  await m.send(s.id, 'ask me something')
  await turnEnd(m, s.id)
  await m.send(s.id, "What's my name?")
  await turnEnd(m, s.id)
  await sleep(2000)
  const keys = waits().map((n) => n.key)
  assert.equal(new Set(keys).size, keys.length, 'no key twice')
  assert.equal(waits().filter((n) => n.data.reason === 'question').length, 0, 'turn 2 (the question) was answered in time')
  assert.equal(waits().length, 2, 'turns 1 and 3')

  await m.send(s.id, 'ask me again')
  await turnEnd(m, s.id)
  await until(() => waits().length === 3)
  const q = waits()[2]
  assert.equal(q.data.reason, 'question')
  assert.equal(q.data.question, 'Which file should I edit?')
  assert.match(q.text, /asks: Which file should I edit\?/)
  assert.deepEqual(got.filter((n) => n.kind === 'responded').length, 3)
  assert.equal(got[0].kind, 'launched')
})

test('a failure notification carries the error, exit code, stderr tail and a hint', async () => {
  const { m, got } = make()
  model.enqueue({ error: { status: 401, type: 'authentication_error', message: 'invalid x-api-key' } }, { prompt: 'fail please', times: Infinity })
  const s = await m.spawn({ backend: 'claude', prompt: 'fail please', workdir: t.workdir })
  await waitForStatus(m, s.id, ['failed', 'waiting-for-input'])
  await until(() => got.some((n) => n.kind === 'failed'))
  const f = got.find((n) => n.kind === 'failed')
  assert.equal(f.data.exitCode, 1)
  assert.ok(Array.isArray(f.data.stderrTail))
  assert.match(f.data.error, /401|x-api-key/)
  assert.match(f.data.hint, /API key/)
  assert.match(f.text, /failed \(exit code 1\)/)
})

test('a rejected delivery is retried with backoff and delivered once', async () => {
  const m = new SessionManager({ claudePath: claudeBin(), env: t.env, storePath: ':memory:', notifications: { fallbackChannel: 'main', deliveryBackoffMs: 50 } })
  managers.push(m)
  const calls = []
  m.onNotification(async (n) => {
    calls.push({ key: n.key, at: Date.now() })
    if (n.kind === 'launched' && calls.filter((c) => c.key === n.key).length <= 2) throw new Error('channel offline')
  })
  const s = await m.spawn({ backend: 'claude', prompt: 'hello', workdir: t.workdir })
  await until(() => calls.filter((c) => c.key === `${s.id}:launched`).length === 3)
  const launched = calls.filter((c) => c.key === `${s.id}:launched`)
  assert.ok(launched[1].at - launched[0].at >= 45 && launched[2].at - launched[1].at >= 95, 'backoff doubles')
  await turnEnd(m, s.id)
  await sleep(300)
  assert.equal(calls.filter((c) => c.key === `${s.id}:launched`).length, 3, 'delivered once, never again')
  assert.equal(m.events(s.id, { kinds: ['delivery-failed'] }).length, 0)
})

test('channels: origin, then the longest workdir prefix, then the fallback, else dropped with a warning', async () => {
  const { m, got } = make({}, { fallbackChannel: null, channels: { [t.root]: 'root', [t.workdir]: 'work' } })
  const a = await m.spawn({ backend: 'claude', prompt: 'hello a', workdir: t.workdir, origin: { channel: 'tg:1' } })
  const b = await m.spawn({ backend: 'claude', prompt: 'hello b', workdir: t.workdir })
  const c = await m.spawn({ backend: 'claude', prompt: 'hello c', workdir: '/tmp' })
  await until(() => got.filter((n) => n.kind === 'launched').length === 2)
  const ch = (id) => got.find((n) => n.kind === 'launched' && n.sessionId === id)?.channel
  assert.equal(ch(a.id), 'tg:1')
  assert.equal(ch(b.id), 'work')
  assert.equal(ch(c.id), undefined)
  await until(() => m.events(c.id, { kinds: ['notification-dropped'] }).length > 0)
  assert.equal(m.events(c.id, { kinds: ['notification-dropped'] })[0].notification, 'launched')
})

test('foreground returns the catch-up output, then streams new output to that channel', async () => {
  const { m, got } = make({}, { foregroundDebounceMs: 100 })
  const s = await m.spawn({ backend: 'claude', prompt: "Hello, I'm John", workdir: t.workdir })
  await turnEnd(m, s.id)
  assert.deepEqual(await m.foreground(s.id, 'fg'), ['Nice to meet you, John!'])
  await m.send(s.id, "What's my name?")
  await turnEnd(m, s.id)
  await until(() => got.some((n) => n.kind === 'output'))
  const out = got.filter((n) => n.kind === 'output')
  assert.equal(out.length, 1)
  assert.equal(out[0].channel, 'fg')
  assert.deepEqual(out[0].data.lines, ['Your name is John.'])
  assert.deepEqual(await m.foreground(s.id, 'fg'), [], 'nothing missed')
  m.background(s.id, 'fg')
  await m.send(s.id, 'anything new?')
  await turnEnd(m, s.id)
  await sleep(300)
  assert.equal(got.filter((n) => n.kind === 'output').length, 1, 'background stops the stream')
  assert.deepEqual(await m.foreground(s.id, 'fg2'), ['Nice to meet you, John!', 'Your name is John.', 'You said: anything new?. This is turn 3.'])
})

test('automatic replies are capped, a user message resets the cap', async () => {
  const { m, got } = make({ maxAutoResponds: 2 })
  const s = await m.spawn({ backend: 'claude', prompt: 'hello', workdir: t.workdir })
  await turnEnd(m, s.id)
  for (const text of ['auto one', 'auto two']) {
    await m.send(s.id, text, { userInitiated: false })
    await turnEnd(m, s.id)
  }
  await assert.rejects(m.send(s.id, 'auto three', { userInitiated: false }), { code: 'E_AUTO_RESPOND_LIMIT' })
  await until(() => got.some((n) => n.kind === 'auto-respond-limit'))
  assert.equal(got.find((n) => n.kind === 'auto-respond-limit').data.max, 2)
  await m.send(s.id, 'the user speaks')
  await turnEnd(m, s.id)
  await m.send(s.id, 'auto again', { userInitiated: false })
  assert.equal((await turnEnd(m, s.id)).turns, 5)
})

test('the budget stops a session once its reported cost reaches maxBudgetUsd', async () => {
  const { m, got } = make()
  const s = await m.spawn({ backend: 'claude', prompt: 'hello', workdir: t.workdir, maxBudgetUsd: 0.12 })
  const first = await turnEnd(m, s.id)
  assert.ok(first.totalCostUsd < 0.12, `one scripted turn costs ${first.totalCostUsd}`)
  await m.send(s.id, 'and again')
  const end = await waitForStatus(m, s.id, ['interrupted', 'failed', 'completed', 'killed'])
  assert.equal(end.status, 'interrupted')
  assert.equal(end.endReason, 'budget-exhausted')
  await until(() => got.some((n) => n.kind === 'budget-exhausted') && got.some((n) => n.kind === 'interrupted'))
  assert.equal(got.find((n) => n.kind === 'budget-exhausted').data.maxBudgetUsd, 0.12)
})

test('a restarted manager re-sends no delivered notification and still sends the pending ones', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocs-notify-restart-'))
  const storePath = join(dir, 's.db')
  const script = `
    const { SessionManager } = require(${JSON.stringify(fileURLToPath(new URL('../index.js', import.meta.url)))})
    const cfg = JSON.parse(process.env.CFG)
    const m = new SessionManager({ claudePath: cfg.claudePath, env: cfg.env, storePath: cfg.storePath,
      notifications: { fallbackChannel: 'main', waitingDebounceMs: 100 } })
    // Delivers everything but waiting-for-input, which hangs (the channel never answers).
    m.onNotification((n) => {
      if (n.kind === 'waiting-for-input') { console.log('HANG ' + n.key); return new Promise(() => {}) }
      console.log('DELIVERED ' + n.key); return Promise.resolve()
    })
    m.spawn({ backend: 'claude', prompt: 'hello', workdir: cfg.workdir })
  `
  const child = spawn(process.execPath, ['-e', script], {
    env: { ...process.env, CFG: JSON.stringify({ claudePath: claudeBin(), env: t.env, storePath, workdir: t.workdir }) },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let out = ''
  child.stdout.on('data', (d) => (out += d))
  try {
    await until(() => /HANG /.test(out), 20000)
    child.kill('SIGKILL')
    await new Promise((r) => child.on('exit', r))
    const delivered = [...out.matchAll(/DELIVERED (\S+)/g)].map((m) => m[1])
    const pending = [...out.matchAll(/HANG (\S+)/g)].map((m) => m[1])
    assert.ok(delivered.some((k) => k.endsWith(':launched')))

    const m = new SessionManager({ claudePath: claudeBin(), env: t.env, storePath, notifications: { fallbackChannel: 'main' } })
    managers.push(m)
    const again = []
    m.onNotification(async (n) => {
      again.push(n.key)
    })
    // The session the dead manager ran is recovered (interrupted, manager-restart): its end is a
    // new notification, sent once besides the pending ones.
    const recovered = `${pending[0].split(':')[0]}:interrupted`
    await until(() => pending.every((k) => again.includes(k)) && again.includes(recovered))
    await sleep(300)
    assert.deepEqual(again.filter((k) => delivered.includes(k)), [], 'nothing delivered before is sent again')
    assert.deepEqual([...again].sort(), [...pending, recovered].sort())
  } finally {
    child.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  }
})
