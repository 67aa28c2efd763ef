// canResume(ref) against the real CLIs and the scripted model on 127.0.0.1: one test per
// reason, each checking that resume() agrees (resumes on `ok`, fails with the reason's code
// otherwise, spawning nothing); and session metadata: set at spawn, patched, filtered in
// list(), size-limited, carried over by resume and persisted across managers.
import test from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SessionManager } from '../index.js'
import { startScriptedModel } from 'openclaw-sessions/testing'
import { claudeBin, claudeEnv, waitForStatus } from './helpers/claude.mjs'
import { codexBin, codexEnv } from './helpers/codex.mjs'

let model
let t
let dir
let managers

/**
 * Claude Code appends its transcript on its own schedule, which on a busy machine can lag the
 * turn's `result` (canResume then truthfully says `transcript-missing`): waits for the file,
 * polled, 10 s at most. A finished session's CLI has exited, so its transcript is complete.
 */
async function transcriptWritten(id) {
  const projects = join(t.env.CLAUDE_CONFIG_DIR, 'projects')
  const deadline = Date.now() + 10_000
  while (!(existsSync(projects) && readdirSync(projects).some((p) => existsSync(join(projects, p, `${id}.jsonl`))))) {
    if (Date.now() > deadline) throw new Error(`Claude Code wrote no transcript of ${id} in 10 s`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

test.beforeEach(async () => {
  model = await startScriptedModel()
  t = claudeEnv(model.url)
  dir = mkdtempSync(join(tmpdir(), 'ocs-resumability-'))
  managers = []
})

test.afterEach(async () => {
  for (const m of managers) await m.shutdown({ graceMs: 2000 })
  await model.close()
  t.cleanup()
  rmSync(dir, { recursive: true, force: true })
})

function make(extra = {}) {
  const m = new SessionManager({ claudePath: claudeBin(), env: t.env, storePath: join(dir, 's.db'), ...extra })
  managers.push(m)
  return m
}

const turnEnd = (m, id) => waitForStatus(m, id, ['waiting-for-input', 'failed', 'completed'])

/** A Claude session that had one turn ("Hello, I'm John") and was closed. */
async function finished(m, extra = {}) {
  const a = await m.spawn({ backend: 'claude', prompt: "Hello, I'm John", workdir: t.workdir, ...extra })
  const w = await turnEnd(m, a.id)
  assert.equal(w.status, 'waiting-for-input', w.lastError ?? '')
  const c = await m.close(a.id)
  assert.equal(c.status, 'completed')
  return c
}

/** resume() refuses with `code` and starts nothing, as canResume said. */
async function refuses(m, ref, code, verdict) {
  const before = m.stats().spawned
  await assert.rejects(m.resume(ref, "What's my name?"), (err) => {
    assert.equal(err.code, code)
    assert.ok(err.message.startsWith(verdict.message), `the same words as canResume: ${err.message}`)
    return true
  })
  assert.equal(m.stats().spawned, before, 'nothing was spawned')
}

test('ok: a finished session is resumable, and resume continues it with its metadata', async () => {
  const m = make()
  const a = await finished(m, { metadata: { ticket: 'T-1' } })
  const v = m.canResume(a.id)
  assert.equal(v.resumable, true)
  assert.equal(v.reason, 'ok')
  assert.equal(v.sessionId, a.id)
  assert.equal(v.backend, 'claude')
  assert.equal(v.backendSessionId, a.backendSessionId)
  assert.equal(v.workdir, t.workdir)
  assert.equal(v.endedAt, a.endedAt)
  const b = await m.resume(a.id, "What's my name?")
  assert.deepEqual(b.metadata, { ticket: 'T-1' }, 'resume carries the metadata over')
  const info = await turnEnd(m, b.id)
  assert.equal(info.lastAssistantText, 'Your name is John.')
})

test('live: a live session is not resumable (E_STATE) unless forked', async () => {
  const m = make()
  const a = await m.spawn({ backend: 'claude', prompt: "Hello, I'm John", workdir: t.workdir })
  await turnEnd(m, a.id)
  const v = m.canResume(a.id)
  assert.deepEqual([v.resumable, v.reason, v.endedAt], [false, 'live', undefined])
  assert.match(v.message, /waiting-for-input/)
  await refuses(m, a.id, 'E_STATE', v)
  await transcriptWritten(a.backendSessionId)
  const f = m.canResume(a.id, { fork: true })
  assert.deepEqual([f.resumable, f.reason], [true, 'ok'])
  const fork = await m.resume(a.id, "What's my name?", { fork: true })
  assert.equal(fork.forkedFromId, a.id)
  assert.equal((await turnEnd(m, fork.id)).lastAssistantText, 'Your name is John.')
})

test('transcript-missing: without the Claude transcript resume fails with E_RESUME_NOT_FOUND', async () => {
  const m = make()
  const a = await finished(m)
  const projects = join(t.env.CLAUDE_CONFIG_DIR, 'projects')
  for (const p of readdirSync(projects)) rmSync(join(projects, p, `${a.backendSessionId}.jsonl`), { force: true })
  const v = m.canResume(a.backendSessionId)
  assert.deepEqual([v.resumable, v.reason], [false, 'transcript-missing'])
  assert.match(v.message, new RegExp(`${a.backendSessionId}\\.jsonl`), 'it says what was looked for')
  await refuses(m, a.id, 'E_RESUME_NOT_FOUND', v)
})

test('rollout-missing: without the Codex rollout file resume fails with E_RESUME_NOT_FOUND', async () => {
  const cx = codexEnv(model.url)
  try {
    const m = make({ codexPath: codexBin(), env: cx.env })
    const a = await m.spawn({ backend: 'codex', prompt: "Hello, I'm Grace", workdir: cx.workdir, sandbox: 'read-only' })
    await turnEnd(m, a.id)
    await m.close(a.id)
    assert.equal(m.canResume(a.id).reason, 'ok', 'the rollout file is there after the turn')
    const sessions = join(cx.env.CODEX_HOME, 'sessions')
    const rollouts = readdirSync(sessions, { recursive: true }).filter((f) => String(f).endsWith(`-${a.backendSessionId}.jsonl`))
    assert.equal(rollouts.length, 1)
    rmSync(join(sessions, String(rollouts[0])))
    const v = m.canResume(a.id)
    assert.deepEqual([v.resumable, v.reason, v.backend], [false, 'rollout-missing', 'codex'])
    assert.match(v.message, /rollout/)
    await refuses(m, a.id, 'E_RESUME_NOT_FOUND', v)
  } finally {
    cx.cleanup()
  }
})

test('workdir-missing: a session whose workdir is gone is not resumed (E_STATE)', async () => {
  const m = make()
  const wd = join(t.workdir, 'gone-soon')
  mkdirSync(wd)
  const a = await m.spawn({ backend: 'claude', prompt: "Hello, I'm John", workdir: wd })
  await turnEnd(m, a.id)
  await m.close(a.id)
  rmSync(wd, { recursive: true })
  const v = m.canResume(a.id)
  assert.deepEqual([v.resumable, v.reason, v.workdir], [false, 'workdir-missing', wd])
  await refuses(m, a.id, 'E_STATE', v)
  mkdirSync(wd)
  assert.equal(m.canResume(a.id).reason, 'ok', 'recreating the workdir makes it resumable again')
})

test('too-old: past resumeMaxAgeMs resume fails with E_RESUME_NOT_FOUND; onMissing fresh starts from the summary', async () => {
  const a = await finished(make())
  await managers.pop().shutdown()
  // A second manager on the same store, with an age limit the session is already past.
  const m = make({ resumeMaxAgeMs: 1 })
  while (Date.now() <= a.endedAt + 1) await new Promise((r) => setImmediate(r))
  const v = m.canResume(a.id)
  assert.deepEqual([v.resumable, v.reason], [false, 'too-old'])
  assert.match(v.message, /resumeMaxAgeMs \(1 ms\)/)
  await refuses(m, a.id, 'E_RESUME_NOT_FOUND', v)
  const fresh = await m.resume(a.id, "What's my name?", { onMissing: 'fresh' })
  assert.equal(fresh.resumedFromId, a.id)
  assert.notEqual(fresh.backendSessionId, a.backendSessionId, 'a new conversation')
  assert.deepEqual(make({ resumeMaxAgeMs: 3_600_000 }).canResume(a.id).reason, 'ok', 'within the limit it is ok')
})

test('evicted: a retention tombstone is not resumable (E_RESUME_NOT_FOUND)', async () => {
  const m1 = make({ maxPersistedSessions: 1 })
  const a = await finished(m1)
  const b = await m1.resume(a.id, "What's my name?")
  await turnEnd(m1, b.id)
  await m1.close(b.id)
  await managers.pop().shutdown()
  // A new manager applies retention at start: `a` is linked from `b`, so it stays as a tombstone.
  const m = make({ maxPersistedSessions: 1 })
  assert.equal(m.get(a.id).evicted, true)
  const v = m.canResume(a.id)
  assert.deepEqual([v.resumable, v.reason], [false, 'evicted'])
  await refuses(m, a.id, 'E_RESUME_NOT_FOUND', v)
  assert.equal(m.canResume(b.id).reason, 'ok', 'the kept session is resumable')
})

test('canResume: bad input and unknown refs', () => {
  const m = make({ storePath: ':memory:' })
  assert.throws(() => m.canResume('nope'), { code: 'E_NOT_FOUND' })
  assert.throws(() => m.canResume(42), { code: 'E_INVALID_ARGUMENT' })
  assert.throws(() => m.canResume('nope', { forc: true }), { code: 'E_INVALID_ARGUMENT', message: /forc/ })
  assert.throws(() => new SessionManager({ resumeMaxAgeMs: -1, storePath: ':memory:' }), { code: 'E_INVALID_ARGUMENT' })
})

test('metadata: set at spawn, patched (null deletes), filtered in list, size-limited, persisted across managers', async () => {
  const m = make()
  const a = await m.spawn({ backend: 'claude', prompt: "Hello, I'm John", workdir: t.workdir, metadata: { ticket: 'T-1', team: 'core' } })
  const b = await m.spawn({ backend: 'claude', prompt: 'Hello', workdir: t.workdir, metadata: { ticket: 'T-2', team: 'core' } })
  const c = await m.spawn({ backend: 'claude', prompt: 'Hello', workdir: t.workdir })
  assert.deepEqual(m.get(a.id).metadata, { ticket: 'T-1', team: 'core' })
  assert.deepEqual(m.get(c.id).metadata, {}, 'none given: an empty object')
  const ids = async (f) => (await m.list({ metadata: f })).map((s) => s.id).sort()
  assert.deepEqual(await ids({ team: 'core' }), [a.id, b.id].sort())
  assert.deepEqual(await ids({ team: 'core', ticket: 'T-2' }), [b.id])
  assert.deepEqual(await ids({ ticket: null }), [c.id], 'null matches an absent key')

  const patched = m.setMetadata(a.id, { ticket: null, step: 2, nested: { x: [1, 2] } })
  assert.deepEqual(patched.metadata, { team: 'core', step: 2, nested: { x: [1, 2] } })
  assert.deepEqual(m.get(a.id).metadata, patched.metadata)
  assert.deepEqual(await ids({ step: 2 }), [a.id])

  const big = 'x'.repeat(4096)
  assert.throws(() => m.setMetadata(a.id, { big }), { code: 'E_INVALID_ARGUMENT', message: /4096/ })
  assert.deepEqual(m.get(a.id).metadata, patched.metadata, 'a refused patch changes nothing')
  await assert.rejects(m.spawn({ backend: 'claude', prompt: 'x', workdir: t.workdir, metadata: { big } }), { code: 'E_INVALID_ARGUMENT' })
  await assert.rejects(m.spawn({ backend: 'claude', prompt: 'x', workdir: t.workdir, metadata: 'T-1' }), { code: 'E_INVALID_ARGUMENT', message: /metadata/ })
  assert.throws(() => m.setMetadata(a.id, 'T-1'), { code: 'E_INVALID_ARGUMENT' })
  assert.throws(() => m.setMetadata('nope', {}), { code: 'E_NOT_FOUND' })
  await assert.rejects(m.list({ metadata: 'x' }), { code: 'E_INVALID_ARGUMENT' })

  for (const s of [a, b, c]) await turnEnd(m, s.id)
  await managers.pop().shutdown()
  const m2 = make()
  assert.deepEqual(m2.get(a.id).metadata, patched.metadata, 'a live patch reached the store')
  assert.deepEqual((await m2.list({ metadata: { team: 'core' } })).map((s) => s.id).sort(), [a.id, b.id].sort())
  // A stored, finished session is patched in the store.
  assert.deepEqual(m2.setMetadata(b.id, { done: true }).metadata, { ticket: 'T-2', team: 'core', done: true })
  await managers.pop().shutdown()
  assert.deepEqual(make().get(b.id).metadata, { ticket: 'T-2', team: 'core', done: true })
})
