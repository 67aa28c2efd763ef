// The real Codex CLI (pinned devDependency) through the addon, both backends (`codex`:
// app-server, `codex-exec`: one process per turn), against the scripted model on 127.0.0.1.
import test from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { SessionManager } from '../index.js'
import { startScriptedModel } from 'openclaw-sessions/testing'
import { codexBin, codexEnv } from './helpers/codex.mjs'
import { processesInGroup, waitForStatus } from './helpers/claude.mjs'

let model
let t
let manager

test.beforeEach(async () => {
  model = await startScriptedModel()
  t = codexEnv(model.url)
  manager = new SessionManager({ codexPath: codexBin(), env: t.env })
})

test.afterEach(async () => {
  await manager.shutdown()
  await model.close()
  t.cleanup()
})

// The manager's event log is in step with get(); the onEvent stream may still be in flight.
const of = (id, kind) => manager.events(id, { kinds: [kind] })
const statusesOf = (id) => of(id, 'status').map((e) => e.status)
const settled = (id) => waitForStatus(manager, id, ['waiting-for-input', 'failed', 'completed', 'killed'])

for (const backend of ['codex', 'codex-exec']) {
  test(`${backend}: two turns keep the thread, with per-turn token deltas`, async () => {
    const s = await manager.spawn({ backend, prompt: "Hello, I'm John", workdir: t.workdir, name: `${backend}-john` })
    assert.match(s.backendSessionId, /^[0-9a-f-]{36}$/, 'the thread id is known when spawn resolves')
    const first = await settled(s.id)
    assert.equal(first.status, 'waiting-for-input', first.lastError ?? '')
    assert.equal(first.lastAssistantText, 'Nice to meet you, John!')

    await manager.send(s.backendSessionId, "What's my name?")
    const second = await settled(s.id)
    assert.equal(second.lastAssistantText, 'Your name is John.')
    assert.equal(second.turns, 2)
    assert.equal(second.backendSessionId, s.backendSessionId, 'the same thread')

    // The second request to the model carries the first turn.
    const last = model.responsesRequests().at(-1)
    const history = JSON.stringify(last.body.input)
    assert.match(history, /Hello, I'm John/)
    assert.match(history, /Nice to meet you, John!/)
    assert.equal(last.sessionId, s.backendSessionId)

    // Codex reports cumulative thread totals; events carry both, usage is the turn's share.
    const turns = of(s.id, 'turn-completed')
    assert.equal(turns.length, 2)
    const [a, b] = turns
    assert.deepEqual(a.usage, a.usageTotal, 'the first turn of a new thread is the whole total')
    assert.equal(b.usage.inputTokens, b.usageTotal.inputTokens - a.usageTotal.inputTokens)
    assert.equal(b.usage.outputTokens, b.usageTotal.outputTokens - a.usageTotal.outputTokens)
    assert.ok(b.usage.inputTokens > 0)
    assert.equal(second.usage.inputTokens, b.usageTotal.inputTokens, 'session tokens = thread total')
    const init = of(s.id, 'init').at(-1)
    assert.equal(init.backendSessionId, s.backendSessionId)

    const closed = await manager.close(s.id)
    assert.equal(closed.status, 'completed')
    assert.equal(closed.endReason, 'user')
    assert.deepEqual(statusesOf(s.id), ['starting', 'running', 'waiting-for-input', 'running', 'waiting-for-input', 'completed'])
  })

  test(`${backend}: an exec_command tool call surfaces as tool-use and tool-result`, async () => {
    const s = await manager.spawn({ backend, prompt: 'run: echo codex-tool-ok', workdir: t.workdir, sandbox: 'workspace-write' })
    const info = await settled(s.id)
    assert.equal(info.status, 'waiting-for-input', info.lastError ?? '')
    const use = of(s.id, 'tool-use')[0]
    assert.equal(use.name, 'exec_command')
    assert.match(use.input.command, /echo codex-tool-ok/)
    const result = of(s.id, 'tool-result')[0]
    assert.equal(result.toolUseId, use.toolUseId)
    assert.equal(result.isError, false)
    assert.match(result.content ?? '', /codex-tool-ok/)
    assert.match(info.lastAssistantText, /Tool result:[\s\S]*codex-tool-ok/)
  })

  for (const status of [400, 500]) {
    test(`${backend}: HTTP ${status} from the model fails the session with the error text`, async () => {
      model.enqueue({ error: { status, message: `scripted failure ${status}` } }, { prompt: `fail with ${status}`, times: Infinity })
      const s = await manager.spawn({ backend, prompt: `fail with ${status}`, workdir: t.workdir })
      const info = await settled(s.id)
      assert.equal(info.status, 'failed')
      assert.equal(info.endReason, 'api-error')
      const turn = of(s.id, 'turn-completed').at(-1)
      assert.equal(turn.subtype, 'failed')
      assert.equal(turn.fatal, true)
      // Codex passes a 400's body through and replaces a 5xx's text with its own notice.
      assert.match(info.lastError, status === 400 ? /scripted failure 400/ : /demand|500|error/i)
      assert.ok(turn.errors[0].length > 0)
      if (backend === 'codex-exec') assert.equal(info.exitCode, 1)
      assert.equal(info.pid, undefined, 'no process is left')
    })
  }

  test(`${backend}: interruptTurn ends only the running turn; the session goes on`, async () => {
    model.enqueue({ stall: { ms: 60000 } }, { prompt: 'a long task' })
    const s = await manager.spawn({ backend, prompt: 'a long task', workdir: t.workdir })
    await model.waitForRequest({ prompt: 'a long task' }, 20000)
    if (backend === 'codex') {
      // turn/interrupt needs the turn id from turn/started.
      await waitFor(() => of(s.id, 'turn-started').length > 0)
    }
    await manager.interruptTurn(s.id)
    const info = await settled(s.id)
    assert.equal(info.status, 'waiting-for-input', info.lastError ?? '')
    const turn = of(s.id, 'turn-completed').at(-1)
    assert.equal(turn.subtype, 'interrupted')
    assert.equal(turn.fatal, false)
    await manager.send(s.id, "I'm Ada")
    const next = await settled(s.id)
    assert.equal(next.status, 'waiting-for-input')
    assert.equal(next.lastAssistantText, 'Nice to meet you, Ada!')
    assert.match(JSON.stringify(model.responsesRequests().at(-1).body.input), /a long task/, 'the history is intact')
    // Interrupting when no turn runs does nothing.
    assert.equal((await manager.interruptTurn(s.id)).status, 'waiting-for-input')
  })

  test(`${backend}: interrupt stops the session gracefully (interrupted, not forced)`, async () => {
    model.enqueue({ stall: { ms: 60000 } }, { prompt: 'stop me gently' })
    const s = await manager.spawn({ backend, prompt: 'stop me gently', workdir: t.workdir })
    await model.waitForRequest({ prompt: 'stop me gently' }, 20000)
    const pid = manager.get(s.id).pid
    const info = await manager.interrupt(s.id, { graceMs: 10000 })
    assert.equal(info.status, 'interrupted')
    assert.equal(info.endReason, 'user')
    assert.equal(info.forcedStop, false)
    assert.deepEqual(processesInGroup(pid), [])
  })

  test(`${backend}: resume continues the thread with correct deltas; bad ids are refused`, async () => {
    const s = await manager.spawn({ backend, prompt: "Hello, I'm Grace", workdir: t.workdir })
    await settled(s.id)
    const before = (await manager.close(s.id)).usage
    const r = await manager.spawn({ backend, prompt: "What's my name?", workdir: t.workdir, resume: s.backendSessionId })
    assert.equal(r.backendSessionId, s.backendSessionId, 'a resume keeps the thread id')
    const info = await settled(r.id)
    assert.equal(info.lastAssistantText, 'Your name is Grace.')
    const turn = of(r.id, 'turn-completed')[0]
    assert.equal(turn.usage.inputTokens, turn.usageTotal.inputTokens - before.inputTokens, 'the delta excludes the earlier turns')
    assert.ok(turn.usage.inputTokens > 0 && turn.usage.inputTokens < turn.usageTotal.inputTokens)

    const fork = await manager.spawn({ backend, prompt: "What's my name?", workdir: t.workdir, resume: s.backendSessionId, fork: true })
    await settled(fork.id)
    const forked = manager.get(fork.id)
    assert.notEqual(forked.backendSessionId, s.backendSessionId, 'a fork gets a new thread id')
    assert.equal(forked.lastAssistantText, 'Your name is Grace.')

    const live = manager.stats().live
    await assert.rejects(manager.spawn({ backend, prompt: 'x', workdir: t.workdir, resume: 'my-thread' }), { code: 'E_INVALID_ARGUMENT' })
    const unknown = randomUUID()
    await assert.rejects(manager.spawn({ backend, prompt: 'x', workdir: t.workdir, resume: unknown }), (err) => {
      assert.equal(err.code, 'E_RESUME_NOT_FOUND', err.message)
      assert.match(err.message, new RegExp(unknown))
      return true
    })
    assert.equal(manager.stats().live, live, 'nothing is left running')
    assert.equal((await manager.list()).filter((i) => i.backendSessionId === unknown).length, 0)
  })
}

test('codex: kill leaves no process behind', async () => {
  model.enqueue({ stall: { ms: 60000 } }, { prompt: 'stall for kill' })
  const s = await manager.spawn({ backend: 'codex', prompt: 'stall for kill', workdir: t.workdir })
  await model.waitForRequest({ prompt: 'stall for kill' }, 20000)
  const pid = manager.get(s.id).pid
  const killed = await manager.kill(s.id)
  assert.equal(killed.status, 'killed')
  assert.deepEqual(processesInGroup(pid), [])
})

for (const behavior of ['allow', 'deny']) {
  test(`codex: an approval request waits for respondToPermission; ${behavior} decides whether the command runs`, async () => {
    const file = `${behavior}ed.txt`
    const s = await manager.spawn({
      backend: 'codex',
      prompt: `run: touch ${file}`,
      workdir: t.workdir,
      approvalPolicy: 'untrusted',
      sandbox: 'workspace-write',
    })
    let info = manager.get(s.id)
    for (let i = 0; i < 400 && info.pendingPermissions.length === 0 && info.status !== 'failed'; i++) {
      await new Promise((r) => setTimeout(r, 50))
      info = manager.get(s.id)
    }
    assert.equal(info.statusReason, 'permission')
    const [pending] = info.pendingPermissions
    assert.equal(pending.toolName, 'item/commandExecution/requestApproval')
    assert.match(pending.input.command, new RegExp(`touch ${file}`))
    await manager.respondToPermission(s.id, pending.requestId, { behavior })
    const done = await settled(s.id)
    assert.equal(done.status, 'waiting-for-input', done.lastError ?? '')
    assert.equal(existsSync(join(t.workdir, file)), behavior === 'allow')
    const result = of(s.id, 'tool-result').at(-1)
    assert.equal(result.isError, behavior === 'deny')
  })
}

test('codex: an unanswered approval is declined by the default policy', async () => {
  const m = new SessionManager({ codexPath: codexBin(), env: t.env, permissionTimeoutMs: 300 })
  try {
    const s = await m.spawn({ backend: 'codex', prompt: 'run: touch nobody.txt', workdir: t.workdir, approvalPolicy: 'untrusted', sandbox: 'workspace-write' })
    for (let i = 0; i < 400 && m.get(s.id).turns === 0; i++) await new Promise((r) => setTimeout(r, 50))
    const resolved = m.events(s.id, { kinds: ['permission-resolved'] })
    assert.deepEqual(resolved.map((e) => [e.allow, e.by]), [[false, 'policy']])
    assert.equal(existsSync(join(t.workdir, 'nobody.txt')), false)
  } finally {
    await m.shutdown()
  }
})

test('codex-exec: a session between turns has no process; close and kill end it at once', async () => {
  const s = await manager.spawn({ backend: 'codex-exec', prompt: 'hello there', workdir: t.workdir })
  const info = await settled(s.id)
  assert.equal(info.status, 'waiting-for-input')
  assert.equal(info.pid, undefined, 'no process between turns')
  assert.equal((await manager.kill(s.id)).status, 'killed')
})

test('codex: a CLI that refuses its config fails spawn with its own words, and nothing is left', async () => {
  await assert.rejects(
    manager.spawn({ backend: 'codex', prompt: 'x', workdir: t.workdir, config: { approval_policy: 'untrusted' } }),
    (err) => {
      assert.equal(err.code, 'E_PROTOCOL')
      // The config goes in `thread/start` (never on argv): Codex refuses it there.
      assert.match(err.message, /`thread\/start` failed: .*no longer supported/)
      return true
    },
  )
  assert.equal(manager.stats().total, 0)
  await assert.rejects(manager.spawn({ backend: 'codex-exec', prompt: 'x', workdir: t.workdir, approvalPolicy: 'untrusted' }), {
    code: 'E_INVALID_ARGUMENT',
  })
})

test('options of another backend are refused', async () => {
  await assert.rejects(manager.spawn({ backend: 'codex', prompt: 'x', workdir: t.workdir, allowedTools: ['Bash'] }), {
    code: 'E_INVALID_ARGUMENT',
    message: /allowedTools do not apply to backend `codex`/,
  })
  await assert.rejects(manager.spawn({ backend: 'claude', prompt: 'x', workdir: t.workdir, sandbox: 'read-only' }), {
    code: 'E_INVALID_ARGUMENT',
  })
  await assert.rejects(manager.spawn({ backend: 'codex-exec', prompt: 'x', workdir: t.workdir, sandbox: 'everything' }), {
    code: 'E_INVALID_ARGUMENT',
    message: /`sandbox`: unknown variant `everything`, expected one of `read-only`, `workspace-write`, `danger-full-access`/,
  })
  await assert.rejects(manager.spawn({ backend: 'codex', prompt: 'x', workdir: t.workdir, config: { 'bad key': 1 } }), {
    code: 'E_INVALID_ARGUMENT',
  })
})

async function waitFor(pred, timeoutMs = 20000) {
  const start = Date.now()
  while (!pred()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 20))
  }
}
