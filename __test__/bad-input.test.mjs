// Bad input is rejected with a stable code and spawns nothing.
import test from 'node:test'
import assert from 'node:assert/strict'
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { SessionManager } from '../index.js'
import { startScriptedModel } from 'openclaw-sessions/testing'
import { claudeBin, claudeEnv, waitForStatus } from './helpers/claude.mjs'

const scratch = mkdtempSync(join(tmpdir(), 'ocs-bad-'))
const fakeExit = fileURLToPath(new URL('./fake-agents/exit-early.sh', import.meta.url))

function freshManager(extra = {}) {
  return new SessionManager({ claudePath: claudeBin(), ...extra })
}

/** Asserts that `fn` rejects with `code` and that nothing was spawned or registered. */
async function rejectsAndSpawnsNothing(manager, fn, code, message) {
  const before = manager.stats()
  await assert.rejects(fn(), (err) => {
    assert.equal(err.code, code, `${err.code}: ${err.message}`)
    assert.ok(err instanceof Error)
    if (message) assert.match(err.message, message)
    return true
  })
  const after = manager.stats()
  assert.equal(after.spawned, before.spawned, 'no process was started')
  assert.equal(after.total, before.total, 'no session was registered')
}

const base = () => ({ backend: 'claude', prompt: 'hello', workdir: scratch })

test('spawn rejects bad options with E_INVALID_ARGUMENT', async () => {
  const m = freshManager()
  const cases = [
    [{ prompt: '' }, /prompt is empty/],
    [{ prompt: '   \n ' }, /prompt is empty/],
    [{ workdir: 'relative/path' }, /absolute/],
    [{ workdir: join(scratch, 'missing') }, /not usable/],
    [{ workdir: fakeExit }, /not a directory/],
    [{ backend: 'gpt-agent' }, /`backend`: unknown variant `gpt-agent`, expected one of `claude`, `codex`, `codex-exec`/],
    [{ promtp: 'typo' }, /unknown field `promtp`/],
    [{ permissionMode: 'yolo' }, /`permissionMode`: unknown variant `yolo`, expected one of `default`/],
    [{ maxTurns: 0 }, /maxTurns/],
    [{ prompt: 42 }, /invalid spawn options/],
  ]
  for (const [patch, message] of cases) {
    await rejectsAndSpawnsNothing(m, () => m.spawn({ ...base(), ...patch }), 'E_INVALID_ARGUMENT', message)
  }
  await rejectsAndSpawnsNothing(m, () => m.spawn({ prompt: 'x', workdir: scratch }), 'E_INVALID_ARGUMENT', /backend/)
  await m.shutdown()
})

test('the constructor and list reject unknown or bad options', async () => {
  assert.throws(() => new SessionManager({ maxSesions: 2 }), { code: 'E_INVALID_ARGUMENT', message: /maxSesions/ })
  assert.throws(() => new SessionManager({ maxSessions: 0 }), { code: 'E_INVALID_ARGUMENT' })
  const m = new SessionManager()
  await assert.rejects(m.list({ status: ['sleeping'] }), { code: 'E_INVALID_ARGUMENT' })
  assert.throws(() => m.get('nope'), { code: 'E_NOT_FOUND', message: /nope/ })
  assert.throws(() => m.output('nope'), { code: 'E_NOT_FOUND' })
  assert.throws(() => m.events('nope'), { code: 'E_NOT_FOUND' })
})

test('a missing or non-executable CLI is E_SPAWN naming the path and the option', async () => {
  const missing = join(scratch, 'no-such-claude')
  let m = new SessionManager({ claudePath: missing })
  await rejectsAndSpawnsNothing(m, () => m.spawn(base()), 'E_SPAWN', new RegExp(`${missing}[\\s\\S]*claudePath`))

  const notExec = join(scratch, 'claude-not-executable')
  writeFileSync(notExec, '#!/bin/sh\n')
  chmodSync(notExec, 0o644)
  m = new SessionManager({ claudePath: notExec })
  await rejectsAndSpawnsNothing(m, () => m.spawn(base()), 'E_SPAWN', /not executable/)

  m = new SessionManager({ claudePath: 'claude-cli-that-is-not-on-path', env: { PATH: scratch } })
  await rejectsAndSpawnsNothing(m, () => m.spawn(base()), 'E_SPAWN', /not found on PATH/)
})

test('a CLI that exits early is failed with its exit code and stderr tail', async () => {
  const m = new SessionManager({ claudePath: fakeExit })
  const s = await m.spawn(base())
  const info = await waitForStatus(m, s.id, ['failed', 'completed'])
  assert.equal(info.status, 'failed')
  assert.equal(info.exitCode, 3)
  assert.deepEqual(info.stderrTail, ['warming up', 'fatal: the agent could not start (scripted failure)'])
  assert.match(info.lastError, /exit code 3: fatal: the agent could not start/)
  await assert.rejects(m.send(s.id, 'are you there?'), { code: 'E_STATE' })
})

test('duplicate names, maxSessions and send while running are refused', async () => {
  const model = await startScriptedModel()
  const t = claudeEnv(model.url)
  // Its own store: list() also shows what other managers stored in the shared default one.
  const m = new SessionManager({ claudePath: claudeBin(), env: t.env, maxSessions: 1, storePath: ':memory:' })
  try {
    model.enqueue({ stall: { ms: 60000 } }, { prompt: 'hold the turn' })
    const s = await m.spawn({ backend: 'claude', prompt: 'hold the turn', workdir: t.workdir, name: 'busy' })
    await rejectsAndSpawnsNothing(m, () => m.spawn({ ...base(), name: 'busy' }), 'E_INVALID_ARGUMENT', /already named `busy`/)
    await rejectsAndSpawnsNothing(m, () => m.spawn(base()), 'E_LIMIT', /maxSessions = 1/)
    await assert.rejects(m.send('busy', 'not now'), { code: 'E_STATE', message: /not waiting-for-input/ })
    await assert.rejects(m.send('busy', '  '), { code: 'E_INVALID_ARGUMENT' })
    assert.equal((await m.list({ liveOnly: true })).length, 1)
    assert.equal((await m.list({ status: ['killed'] })).length, 0)
    await m.kill(s.id)
    assert.equal((await m.list({ status: ['killed'] })).length, 1)
    await m.shutdown()
    await rejectsAndSpawnsNothing(m, () => m.spawn(base()), 'E_STATE', /shut down/)
  } finally {
    await m.shutdown()
    await model.close()
    t.cleanup()
  }
})

// The option interfaces in index.d.ts are hand-written (types/header.d.ts) while the core reads
// options through serde; serde's "expected one of" list must name exactly the documented keys.
test('documented option keys are exactly the keys the core accepts', async () => {
  const dts = readFileSync(fileURLToPath(new URL('../index.d.ts', import.meta.url)), 'utf8')
  const documented = (name) => {
    const body = dts.match(new RegExp(`export interface ${name} \\{([\\s\\S]*?)\\n\\}`))[1]
    return [...body.matchAll(/^  (\w+)\??:/gm)].map((m) => m[1]).sort()
  }
  const accepted = (err) => [...err.message.split("expected one of")[1].matchAll(/`(\w+)`/g)].map((m) => m[1]).sort()
  const m = freshManager()
  const spawnErr = await m.spawn({ ...base(), zzz: 1 }).catch((e) => e)
  assert.deepEqual(accepted(spawnErr), documented('SpawnOptions'))
  let ctorErr
  try {
    new SessionManager({ zzz: 1 })
  } catch (e) {
    ctorErr = e
  }
  assert.deepEqual(accepted(ctorErr), documented('ManagerOptions'))
  const listErr = await m.list({ zzz: 1 }).catch((e) => e)
  assert.deepEqual(accepted(listErr), documented('ListFilter'))
})
