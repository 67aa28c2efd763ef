// The session store with the real CLIs: resume and fork by the stored session, resume chains
// across a restart, the CLI's own record checked before resuming, recovery after the manager's
// process is killed, and the store's failure modes.
import test from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { SessionManager } from '../index.js'
import { startScriptedModel } from 'openclaw-sessions/testing'
import { claudeBin, claudeEnv, processesInGroup, waitForStatus } from './helpers/claude.mjs'
import { codexBin, codexEnv } from './helpers/codex.mjs'

const child = fileURLToPath(new URL('./helpers/child-session.mjs', import.meta.url))
let model
let t
let dir

test.beforeEach(async () => {
  model = await startScriptedModel()
  t = claudeEnv(model.url)
  dir = mkdtempSync(join(tmpdir(), 'ocs-store-test-'))
})

test.afterEach(async () => {
  await model.close()
  t.cleanup()
  rmSync(dir, { recursive: true, force: true })
})

const turnEnd = (m, id) => waitForStatus(m, id, ['waiting-for-input', 'failed', 'completed'])

test('claude: resume continues a finished session, fork copies it, and a chain of three reads back after a restart', async () => {
  const storePath = join(dir, 'sessions.db')
  let m = new SessionManager({ claudePath: claudeBin(), env: t.env, storePath })
  const a = await m.spawn({ backend: 'claude', prompt: "Hello, I'm John", workdir: t.workdir, name: 'john' })
  await turnEnd(m, a.id)
  await m.close(a.id)

  const b = await m.resume('john', "What's my name?")
  assert.equal(b.resumedFromId, a.id)
  assert.equal(b.backendSessionId, a.backendSessionId, 'a resume keeps the Claude session id')
  assert.equal(b.name, 'john', 'the name carries over')
  const bInfo = await turnEnd(m, b.id)
  assert.equal(bInfo.lastAssistantText, 'Your name is John.')
  assert.match(JSON.stringify(model.messagesRequests().at(-1).body.messages), /Hello, I'm John/)
  await m.close(b.id)

  const fork = await m.resume(a.id, "What's my name?", { fork: true })
  assert.equal(fork.forkedFromId, a.id)
  assert.notEqual(fork.backendSessionId, a.backendSessionId)
  assert.equal((await turnEnd(m, fork.id)).lastAssistantText, 'Your name is John.')
  await m.close(fork.id)

  const c = await m.resume(b.id) // no prompt: waits for the first message
  assert.equal(c.status, 'waiting-for-input')
  await m.send(c.id, 'What did I ask you?')
  await turnEnd(m, c.id)
  await m.close(c.id)
  await m.shutdown()

  // A new manager on the same store: the chain reads back newest first.
  m = new SessionManager({ claudePath: claudeBin(), env: t.env, storePath })
  const chain = m.resumeChain(c.id)
  assert.deepEqual(chain.map((s) => s.id), [c.id, b.id, a.id])
  assert.deepEqual(m.resumeChain(fork.id).map((s) => s.id), [fork.id, a.id])
  const listed = await m.list()
  assert.deepEqual(new Set(listed.map((s) => s.id)), new Set([a.id, b.id, fork.id, c.id]))
  const storedA = m.get(a.id)
  assert.equal(storedA.status, 'completed')
  assert.equal(storedA.turns, 1)
  assert.ok(storedA.totalCostUsd > 0)
  assert.equal(storedA.firstPrompt, "Hello, I'm John")
  assert.equal(storedA.lastAssistantText, 'Nice to meet you, John!')
  // Stopping a stored, finished session is a no-op; sending to it says to resume.
  assert.equal((await m.kill(a.id)).status, 'completed')
  await assert.rejects(m.send(a.id, 'hi'), { code: 'E_STATE', message: /resume/ })
  await m.shutdown()
})

test('codex: resume of a stored session continues the thread', async () => {
  const cx = codexEnv(model.url)
  const storePath = join(dir, 'codex.db')
  try {
    let m = new SessionManager({ codexPath: codexBin(), env: cx.env, storePath })
    const a = await m.spawn({ backend: 'codex', prompt: "Hello, I'm Grace", workdir: cx.workdir, sandbox: 'read-only' })
    await turnEnd(m, a.id)
    await m.close(a.id)
    await m.shutdown()
    m = new SessionManager({ codexPath: codexBin(), env: cx.env, storePath })
    const b = await m.resume(a.id, "What's my name?")
    assert.equal(b.backendSessionId, a.backendSessionId)
    const info = await turnEnd(m, b.id)
    assert.equal(info.lastAssistantText, 'Your name is Grace.')
    assert.match(JSON.stringify(model.responsesRequests().at(-1).body.input), /Hello, I'm Grace/)
    await m.shutdown()
  } finally {
    cx.cleanup()
  }
})

test('a deleted transcript fails resume before spawning; onMissing fresh seeds the stored summary', async () => {
  const m = new SessionManager({ claudePath: claudeBin(), env: t.env, storePath: join(dir, 's.db') })
  try {
    const a = await m.spawn({ backend: 'claude', prompt: "Hello, I'm John", workdir: t.workdir })
    await turnEnd(m, a.id)
    await m.close(a.id)
    const projects = join(t.env.CLAUDE_CONFIG_DIR, 'projects')
    for (const p of readdirSync(projects)) rmSync(join(projects, p, `${a.backendSessionId}.jsonl`), { force: true })

    const before = m.stats().spawned
    await assert.rejects(m.resume(a.id, "What's my name?"), (err) => {
      assert.equal(err.code, 'E_RESUME_NOT_FOUND')
      assert.match(err.message, new RegExp(`${a.backendSessionId}\\.jsonl`), 'it says what was looked for')
      return true
    })
    assert.equal(m.stats().spawned, before, 'nothing was spawned')

    const fresh = await m.resume(a.id, "What's my name?", { onMissing: 'fresh' })
    assert.equal(fresh.resumedFromId, a.id, 'linked into the chain')
    assert.notEqual(fresh.backendSessionId, a.backendSessionId)
    await turnEnd(m, fresh.id)
    const first = model.messagesRequests().filter((r) => r.sessionId === fresh.backendSessionId)[0]
    const sent = JSON.stringify(first.body.messages)
    assert.match(sent, /Hello, I'm John/, 'the stored summary travels in the first request')
    assert.match(sent, /Nice to meet you, John!/)
    assert.deepEqual(m.resumeChain(fresh.id).map((s) => s.id), [fresh.id, a.id])
  } finally {
    await m.shutdown()
  }
})

test('a Claude conversation is resumed only from its own workdir: from another, E_RESUME_NOT_FOUND before spawning', async () => {
  const m = new SessionManager({ claudePath: claudeBin(), env: t.env, storePath: ':memory:' })
  const other = mkdtempSync(join(tmpdir(), 'ocs-other-workdir-'))
  try {
    const a = await m.spawn({ backend: 'claude', prompt: "Hello, I'm John", workdir: t.workdir })
    await turnEnd(m, a.id)
    await m.close(a.id)
    const before = m.stats().spawned
    await assert.rejects(m.spawn({ backend: 'claude', prompt: "What's my name?", workdir: other, resume: a.backendSessionId }), (err) => {
      assert.equal(err.code, 'E_RESUME_NOT_FOUND')
      assert.match(err.message, /another working directory/)
      assert.ok(err.message.includes(other), 'it names the workdir it was asked from')
      return true
    })
    assert.equal(m.stats().spawned, before, 'nothing was spawned')
    // From its own workdir the same conversation goes on.
    const b = await m.spawn({ backend: 'claude', prompt: "What's my name?", workdir: t.workdir, resume: a.backendSessionId })
    assert.equal((await turnEnd(m, b.id)).status, 'waiting-for-input')
  } finally {
    await m.shutdown()
    rmSync(other, { recursive: true, force: true })
  }
})

test('after the manager process is SIGKILLed mid-turn, a new manager recovers its sessions', async () => {
  const storePath = join(dir, 'restart.db')
  // One finished turn (on disk), then a turn the model stalls on when the process dies.
  model.enqueue({ stall: { ms: 60000 } }, { prompt: 'now a long task' })
  const p = spawn(process.execPath, [child, 'hold'], {
    env: {
      ...process.env,
      OCS_CHILD_CONFIG: JSON.stringify({
        claudePath: claudeBin(),
        env: t.env,
        workdir: t.workdir,
        storePath,
        prompt: "Hello, I'm John",
        then: 'now a long task',
      }),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const spawned = await new Promise((resolve, reject) => {
    let out = ''
    p.stdout.on('data', (d) => {
      out += d
      const line = out.split('\n').find((l) => l.includes('"pid"'))
      if (line) resolve(JSON.parse(line))
    })
    p.on('exit', () => reject(new Error(`child exited early: ${out}`)))
  })
  await model.waitForRequest({ prompt: 'now a long task' }, 20000)
  // Claude writes its transcript a little after a turn; a SIGKILL before that loses the turn
  // for `--resume` (then resume says E_RESUME_NOT_FOUND, as the next test shows). Wait for it.
  const transcripts = () => {
    try {
      return readdirSync(join(t.env.CLAUDE_CONFIG_DIR, 'projects'), { recursive: true }).filter((f) => String(f).endsWith('.jsonl'))
    } catch {
      return []
    }
  }
  for (let i = 0; i < 200 && transcripts().length === 0; i++) await new Promise((r) => setTimeout(r, 50))
  p.kill('SIGKILL')
  await new Promise((r) => p.on('exit', r))

  const m = new SessionManager({ claudePath: claudeBin(), env: t.env, storePath, notifications: { fallbackChannel: 'main' } })
  try {
    const [s] = await m.list()
    assert.equal(s.id, spawned.spawned)
    assert.equal(s.status, 'interrupted')
    assert.equal(s.endReason, 'manager-restart')
    assert.equal(s.firstPrompt, "Hello, I'm John")
    assert.equal(s.turns, 1, 'the finished turn was stored')
    assert.equal(s.lastAssistantText, 'Nice to meet you, John!')
    assert.match(s.backendSessionId, /^[0-9a-f-]{36}$/)
    for (let i = 0; i < 100 && processesInGroup(spawned.pid).length > 0; i++) await new Promise((r) => setTimeout(r, 50))
    assert.deepEqual(processesInGroup(spawned.pid), [], 'no agent process survived')

    // Whoever launched it is told, once: one `interrupted` notification with what it had done.
    const told = []
    let gotIt
    const got = new Promise((resolve) => (gotIt = resolve))
    m.onNotification((n) => {
      told.push(n)
      if (n.sessionId === s.id && n.kind === 'interrupted') gotIt()
    })
    await Promise.race([got, new Promise((_, reject) => setTimeout(() => reject(new Error('no interrupted notification')), 10000))])
    const mine = told.filter((n) => n.sessionId === s.id)
    assert.deepEqual(mine.map((n) => n.kind), ['interrupted'])
    assert.equal(mine[0].key, `${s.id}:interrupted`)
    assert.equal(mine[0].data.endReason, 'manager-restart')
    assert.equal(mine[0].data.turns, 1)
    assert.deepEqual(mine[0].data.lastLines, ['Nice to meet you, John!'])

    const r = await m.resume(s.id, "What's my name?")
    const info = await turnEnd(m, r.id)
    assert.equal(info.lastAssistantText, 'Your name is John.', 'the conversation continues')
  } finally {
    await m.shutdown()
  }
})

test('store failure modes: corrupt file moved aside, unwritable path, two managers on one store', async () => {
  // A file that is not ours is refused and left as it was.
  const path = join(dir, 'bad.db')
  writeFileSync(path, Buffer.alloc(8192, 0x5a))
  assert.throws(() => new SessionManager({ storePath: path }), (err) => {
    assert.equal(err.code, 'E_STORE')
    assert.match(err.message, /is not an openclaw-sessions store/)
    assert.ok(err.message.includes(path))
    return true
  })
  assert.deepEqual(readFileSync(path), Buffer.alloc(8192, 0x5a), 'a foreign file is left unchanged')
  assert.equal(readdirSync(dir).filter((f) => f.startsWith('bad.db.corrupt-')).length, 0)

  // A store of ours with damaged pages is moved aside; the manager starts on a fresh one and
  // says so (both paths) in stats().storeWarnings.
  const damaged = join(dir, 'damaged.db')
  new SessionManager({ storePath: damaged })
  const bytes = readFileSync(damaged)
  assert.ok(bytes.length > 4096, 'the store has more than its first page')
  writeFileSync(damaged, Buffer.concat([bytes.subarray(0, 4096), Buffer.alloc(bytes.length - 4096, 0x5a)]))
  const fresh = new SessionManager({ storePath: damaged })
  assert.deepEqual(await fresh.list(), [])
  const [warning, ...more] = fresh.stats().storeWarnings
  assert.equal(more.length, 0)
  assert.match(warning, /^\[E_STORE\] .*damaged.*moved aside/)
  assert.ok(warning.includes(damaged))
  const aside = readdirSync(dir).filter((f) => /^damaged\.db\.corrupt-\d+$/.test(f))
  assert.equal(aside.length, 1, 'the damaged file is kept')
  assert.ok(warning.includes(join(dir, aside[0])))

  const notADir = join(dir, 'file')
  writeFileSync(notADir, 'x')
  assert.throws(() => new SessionManager({ storePath: join(notADir, 's.db') }), { code: 'E_STORE' })
  if (process.getuid() !== 0) {
    const ro = join(dir, 'ro')
    mkdtempSync(ro)
    chmodSync(ro, 0o500)
    assert.throws(() => new SessionManager({ storePath: join(ro, 's.db') }), { code: 'E_STORE' })
  }

  // Two managers on one store: each sees the other's sessions; neither takes the other's
  // live session for an orphan.
  const shared = join(dir, 'shared.db')
  const m1 = new SessionManager({ claudePath: claudeBin(), env: t.env, storePath: shared })
  model.enqueue({ stall: { ms: 60000 } }, { prompt: 'busy in m1' })
  const s1 = await m1.spawn({ backend: 'claude', prompt: 'busy in m1', workdir: t.workdir })
  const m2 = new SessionManager({ claudePath: claudeBin(), env: t.env, storePath: shared })
  const seen = m2.get(s1.id)
  assert.notEqual(seen.status, 'interrupted', 'a live manager’s session is not recovered')
  const s2 = await m2.spawn({ backend: 'claude', prompt: "Hello, I'm Eve", workdir: t.workdir })
  await turnEnd(m2, s2.id)
  assert.deepEqual(new Set((await m1.list()).map((s) => s.id)), new Set([s1.id, s2.id]))
  await m2.shutdown()
  await m1.shutdown()
  assert.ok(existsSync(shared))
})
