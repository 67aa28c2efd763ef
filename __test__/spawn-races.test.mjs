// Stops that race `spawn()`, with the real CLIs against the scripted model on 127.0.0.1: for
// every backend and every way to stop (kill, close, interrupt, shutdown), sessions are stopped
// at random moments of their start (before they are registered, between registration and the
// exec, during the Codex handshake, just after spawn resolved). Whatever the order, no CLI
// process is left and every session that was registered ends in a terminal status.
//
// OCS_SPAWN_RACE_ROUNDS (default 6) batches of BATCH sessions per backend and stop:
// 3 × 4 × 6 × 4 = 288 sessions.
import test from 'node:test'
import assert from 'node:assert/strict'
import { SessionManager } from '../index.js'
import { startScriptedModel } from 'openclaw-sessions/testing'
import { claudeBin, claudeEnv } from './helpers/claude.mjs'
import { codexBin, codexEnv } from './helpers/codex.mjs'
import { childPids, noneLeft, recordChildren } from './helpers/procs.mjs'

const ROUNDS = Number(process.env.OCS_SPAWN_RACE_ROUNDS ?? 6)
const BATCH = 4
const TERMINAL = ['completed', 'failed', 'killed', 'interrupted']
// What each stop ends a session in (close may run out of time on a CLI still starting).
const ENDS = {
  kill: ['killed'],
  close: ['completed', 'killed'],
  interrupt: ['interrupted'],
  shutdown: ['interrupted'],
}

let model
let claude
let codex

test.before(async () => {
  model = await startScriptedModel()
  claude = claudeEnv(model.url)
  codex = codexEnv(model.url)
})

test.after(async () => {
  await model.close()
  claude.cleanup()
  codex.cleanup()
})

function managerFor(backend) {
  const env = backend === 'claude' ? claude : codex
  const m = new SessionManager({
    claudePath: claudeBin(),
    codexPath: codexBin(),
    env: env.env,
    storePath: ':memory:',
    maxSessions: BATCH,
    interruptGraceMs: 2000,
    closeTimeoutMs: 5000,
  })
  return { m, workdir: env.workdir }
}

const tick = () => new Promise((r) => setImmediate(r))
const randomDelay = (maxMs) => new Promise((r) => setTimeout(r, Math.random() * maxMs))

/** Stops `name` with `how` as soon as it is registered (retrying E_NOT_FOUND until spawn settles). */
async function stopWhenKnown(m, name, how, settled) {
  for (;;) {
    // Read before the attempt: a spawn that settles while a stop is refused E_NOT_FOUND has
    // registered its session by then, so the loop tries once more rather than give up.
    const wasSettled = settled.done
    try {
      return await (how === 'kill' ? m.kill(name) : how === 'close' ? m.close(name) : m.interrupt(name))
    } catch (e) {
      if (e.code !== 'E_NOT_FOUND') throw e
      if (wasSettled) return null
    }
    await tick()
  }
}

/** One batch: BATCH spawns at once, each stopped after its own random delay. */
async function batch(backend, how, seen, pgids) {
  const { m, workdir } = managerFor(backend)
  // Mostly within the first tens of ms (registration, exec, the Codex handshake), sometimes
  // up to 600 ms (a first exec turn, the first output) and past the start.
  const maxDelay = Math.random() < 0.6 ? 40 : 600
  const runs = []
  for (let i = 0; i < BATCH; i++) {
    const name = `${backend}-${how}-${i}-${Math.random().toString(36).slice(2)}`
    const settled = { done: false }
    const spawned = m
      .spawn({ backend, prompt: 'Hello', workdir, name })
      .then((info) => ({ info }), (error) => ({ error }))
      .finally(() => (settled.done = true))
    runs.push({ name, settled, spawned })
  }
  let stops
  if (how === 'shutdown') {
    await randomDelay(maxDelay)
    stops = [m.shutdown()]
  } else {
    stops = runs.map(async (r) => {
      await randomDelay(maxDelay)
      return stopWhenKnown(m, r.name, how, r.settled)
    })
  }
  await Promise.all(stops)
  for (const r of runs) {
    const { info, error } = await r.spawned
    if (error) {
      // Stopped while starting (or refused after shutdown): E_STATE, nothing else.
      assert.equal(error.code, 'E_STATE', `${r.name}: ${error.message}`)
      seen.rejected++
    } else {
      assert.equal(info.name, r.name)
      seen.resolved++
    }
    let now
    try {
      now = m.get(r.name)
    } catch (e) {
      // Never registered: only possible when shutdown came first.
      assert.equal(how, 'shutdown', `${r.name} is unknown: ${e.message}`)
      assert.ok(error, `${r.name} resolved but is unknown`)
      seen.unregistered++
      continue
    }
    assert.ok(TERMINAL.includes(now.status), `${r.name} is ${now.status} after ${how}`)
    assert.ok(ENDS[how].includes(now.status), `${r.name}: ${how} ended it ${now.status} (${now.lastError})`)
    assert.equal(now.pid ?? null, null, `${r.name} still has a pid`)
  }
  // Every stop resolved after its process was reaped, and a spawn that rejected reaped its
  // process first: no child may be alive now (a leaked codex exec would finish its turn and
  // exit by itself, so this is checked per batch, not only at the end).
  assert.deepEqual(childPids(), [], `${backend} ${how}: CLI processes left`)
  await noneLeft(pgids)
  await m.shutdown()
}

for (const backend of ['claude', 'codex', 'codex-exec']) {
  test(`${backend}: kill, close, interrupt or shutdown at a random moment of spawn leaves no process`, async () => {
    const seen = { resolved: 0, rejected: 0, unregistered: 0 }
    const children = recordChildren()
    try {
      for (let round = 0; round < ROUNDS; round++) {
        for (const how of ['kill', 'close', 'interrupt', 'shutdown']) {
          await batch(backend, how, seen, children.seen)
        }
      }
    } finally {
      children.stop()
    }
    await noneLeft(children.seen)
    assert.ok(children.seen.size > 0, 'CLIs were started')
    const total = seen.resolved + seen.rejected
    assert.equal(total, ROUNDS * 4 * BATCH)
    // Both sides of the race were hit: some stops came while spawning, some after. (Claude's
    // spawn resolves once the prompt is written, a window of a few ms: hit only now and then.)
    if (backend !== 'claude') assert.ok(seen.rejected > 0, `no stop came during spawn: ${JSON.stringify(seen)}`)
    assert.ok(seen.resolved > 0, `no spawn finished before its stop: ${JSON.stringify(seen)}`)
    console.log(`${backend}: ${JSON.stringify(seen)}, ${children.seen.size} CLI processes started`)
  })
}
