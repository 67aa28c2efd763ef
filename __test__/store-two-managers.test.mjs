// Two managers on one store (two plugins in one gateway share the default path), one of them
// SIGKILLed mid-delivery: every notification is delivered by exactly one manager, none is lost.
// Manager A runs in a child process so it can be killed; its notifications come from registered
// sessions (register makes a `launched` notification), so no CLI is needed.
import test from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { SessionManager } from '../index.js'

const addon = fileURLToPath(new URL('../index.js', import.meta.url))

// Delivers two notifications, then hangs on the third (its callback never settles); prints
// one JSON line per callback call.
const managerA = `
const { SessionManager } = require(${JSON.stringify(addon)})
const m = new SessionManager({ storePath: process.env.STORE, notifications: { fallbackChannel: 'main' } })
let calls = 0
m.onNotification((n) => {
  calls += 1
  if (calls <= 2) { console.log(JSON.stringify({ delivered: n.key })); return }
  console.log(JSON.stringify({ hanging: n.key }))
  return new Promise(() => {})
})
for (let i = 1; i <= 5; i++) m.register({ workdir: process.cwd(), name: 'a' + i, prompt: 'hi' })
console.log(JSON.stringify({ ready: true }))
setInterval(() => {}, 1000)
`

/** Resolves with the first value `pick(line)` returns for a JSON line of `child`; rejects after `ms`. */
function lineOf(lines, pick, what, ms = 15000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms)
    const seen = (line) => {
      const v = pick(JSON.parse(line))
      if (v === undefined) return
      clearTimeout(timer)
      lines.off('line', seen)
      resolve(v)
    }
    lines.on('line', seen)
  })
}

/** Resolves once `pred()` holds, checked after each delivery; rejects after `ms`. */
function until(onDelivery, pred, what, ms = 15000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms)
    onDelivery.push(() => {
      if (!pred()) return
      clearTimeout(timer)
      resolve()
    })
    if (pred()) {
      clearTimeout(timer)
      resolve()
    }
  })
}

test('two managers on one store across a SIGKILL of one: no notification delivered twice, none lost', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocs-two-managers-'))
  const store = join(dir, 'shared.db')
  const a = spawn(process.execPath, ['-e', managerA], {
    env: { ...process.env, STORE: store },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const lines = createInterface({ input: a.stdout })
  const byA = []
  lines.on('line', (line) => {
    const v = JSON.parse(line)
    if (v.delivered) byA.push(v.delivered)
  })
  const exited = new Promise((resolve) => a.on('exit', (code, signal) => resolve(signal)))
  const hanging = await lineOf(lines, (v) => v.hanging, "A's hanging delivery")

  // B starts while A runs: A's pending notifications are A's; B delivers its own.
  const byB = []
  const onDelivery = []
  const b = new SessionManager({ storePath: store, notifications: { fallbackChannel: 'main' } })
  b.onNotification((n) => {
    byB.push(n.key)
    for (const f of onDelivery) f()
  })
  const own = b.register({ workdir: process.cwd(), name: 'b1', prompt: 'hi' })
  await until(onDelivery, () => byB.includes(`${own.id}:launched`), "B's own notification")
  assert.deepEqual(byB, [`${own.id}:launched`], 'B takes nothing of a manager that still runs')

  a.kill('SIGKILL')
  assert.equal(await exited, 'SIGKILL')
  const aIds = (await b.list()).filter((s) => /^a\d$/.test(s.name)).map((s) => s.id)
  assert.equal(aIds.length, 5)
  const aKeys = aIds.map((id) => `${id}:launched`)
  assert.equal(byA.length, 2)
  assert.ok(aKeys.includes(hanging))
  // What A did not confirm (the hanging one and the two behind it) goes out through B, once.
  const left = aKeys.filter((k) => !byA.includes(k))
  assert.equal(left.length, 3)
  await until(onDelivery, () => left.every((k) => byB.includes(k)), "A's undelivered notifications through B")
  const all = [...byA, ...byB]
  assert.equal(new Set(all).size, all.length, `no key twice: ${JSON.stringify({ byA, byB })}`)
  assert.deepEqual(new Set(all), new Set([...aKeys, `${own.id}:launched`]), 'none lost')
  await b.shutdown()
  rmSync(dir, { recursive: true, force: true })
})
