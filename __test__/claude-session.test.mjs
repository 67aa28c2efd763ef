// The real Claude Code CLI (pinned devDependency) driven through the addon against the
// scripted model on 127.0.0.1: multi-turn continuity, statuses, ids, cost, errors, kill.
import test from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { SessionManager } from '../index.js'
import { startScriptedModel } from 'openclaw-sessions/testing'
import { claudeBin, claudeEnv, processesInGroup, waitForStatus } from './helpers/claude.mjs'

let model
let t
let manager
let events

test.beforeEach(async () => {
  model = await startScriptedModel()
  t = claudeEnv(model.url)
  manager = new SessionManager({ claudePath: claudeBin(), env: t.env })
  events = []
  manager.onEvent((e) => events.push(e))
})

test.afterEach(async () => {
  await manager.shutdown()
  await model.close()
  t.cleanup()
})

const statusesOf = (id) => manager.events(id, { kinds: ['status'] }).map((e) => e.status)

test('two turns keep the conversation, in order, with ids, cost and turns', async () => {
  const s = await manager.spawn({ backend: 'claude', prompt: "Hello, I'm John", workdir: t.workdir, name: 'john' })
  assert.match(s.backendSessionId, /^[0-9a-f-]{36}$/)
  assert.equal(s.name, 'john')

  const first = await waitForStatus(manager, s.id, ['waiting-for-input', 'failed'])
  assert.equal(first.status, 'waiting-for-input', first.lastError ?? '')
  assert.equal(first.turns, 1)
  assert.equal(first.lastAssistantText, 'Nice to meet you, John!')
  assert.ok(first.totalCostUsd > 0, 'the CLI reports a cost')

  // The ref can be the name or the Claude session id as well as the id.
  await manager.send('john', "What's my name?")
  const second = await waitForStatus(manager, s.backendSessionId, ['waiting-for-input', 'failed'])
  assert.equal(second.lastAssistantText, 'Your name is John.')
  assert.equal(second.turns, 2)
  assert.ok(second.totalCostUsd > first.totalCostUsd, 'cost accumulates')
  assert.ok(second.numTurns >= 2)
  assert.ok(second.usage.inputTokens > first.usage.inputTokens, 'tokens accumulate')

  // The second request to the model carries the first turn.
  const reqs = model.messagesRequests()
  const last = reqs.at(-1)
  const history = JSON.stringify(last.body.messages)
  assert.match(history, /Hello, I'm John/)
  assert.match(history, /Nice to meet you, John!/)
  assert.equal(last.prompt, "What's my name?")
  // The id known at spawn is the CLI's own session id: in its header and in its init message.
  assert.equal(last.headers['x-claude-code-session-id'], s.backendSessionId)
  const init = manager.events(s.id, { kinds: ['init'] })[0]
  assert.equal(init.backendSessionId, s.backendSessionId)

  const closed = await manager.close(s.id)
  assert.equal(closed.status, 'completed')
  assert.equal(closed.exitCode, 0)
  assert.equal(closed.endReason, 'user')
  assert.deepEqual(statusesOf(s.id), [
    'starting',
    'running',
    'waiting-for-input',
    'running',
    'waiting-for-input',
    'completed',
  ])

  // Event log: sequence numbers without gaps, per-turn costs that add up to the total.
  const log = manager.events(s.id)
  assert.deepEqual(log.map((e) => e.seq), log.map((_, i) => i + 1))
  const turns = manager.events(s.id, { kinds: ['turn-completed'] })
  assert.deepEqual(turns.map((e) => e.turn), [1, 2])
  const sum = turns.reduce((a, e) => a + e.costUsd, 0)
  assert.ok(Math.abs(sum - closed.totalCostUsd) < 1e-9)
  assert.deepEqual(manager.output(s.id), ['Nice to meet you, John!', 'Your name is John.'])
  assert.deepEqual(manager.output(s.id, { lines: 1 }), ['Your name is John.'])
  assert.equal(manager.events(s.id, { sinceSeq: log.at(-1).seq }).length, 0)

  // onEvent delivers the same events, in order, as the log holds.
  for (let i = 0; i < 200 && events.filter((e) => e.sessionId === s.id).length < log.length; i++) {
    await new Promise((r) => setTimeout(r, 10))
  }
  assert.deepEqual(events.filter((e) => e.sessionId === s.id), log)
})

test('a tool call surfaces as tool-use and tool-result events', async () => {
  const s = await manager.spawn({
    backend: 'claude',
    prompt: 'run: echo tool-call-ok',
    workdir: t.workdir,
    allowedTools: ['Bash'],
  })
  const info = await waitForStatus(manager, s.id, ['waiting-for-input', 'failed'])
  assert.equal(info.status, 'waiting-for-input', info.lastError ?? '')
  const use = manager.events(s.id, { kinds: ['tool-use'] })[0]
  assert.equal(use.name, 'Bash')
  assert.equal(use.input.command, 'echo tool-call-ok')
  const result = manager.events(s.id, { kinds: ['tool-result'] })[0]
  assert.equal(result.toolUseId, use.toolUseId)
  assert.equal(result.isError, false)
  assert.match(result.content, /tool-call-ok/)
  assert.match(info.lastAssistantText, /Tool result: tool-call-ok/)
})

test('an HTTP 400 from the model fails the session with the error text and exit code', async () => {
  model.enqueue({ error: { status: 400, type: 'invalid_request_error', message: 'scripted bad request' } }, { prompt: 'trigger a 400' })
  const s = await manager.spawn({ backend: 'claude', prompt: 'trigger a 400', workdir: t.workdir })
  const info = await waitForStatus(manager, s.id, ['failed', 'waiting-for-input', 'completed'])
  assert.equal(info.status, 'failed')
  assert.equal(info.exitCode, 1)
  assert.equal(info.endReason, 'api-error')
  assert.match(info.lastError, /400/)
  assert.match(info.lastError, /scripted bad request/)
  const turn = manager.events(s.id, { kinds: ['turn-completed'] })[0]
  assert.equal(turn.isError, true)
  assert.equal(turn.apiErrorStatus, 400)
  const fatal = manager.events(s.id, { kinds: ['error'] }).filter((e) => e.fatal)
  assert.equal(fatal.length, 1)
})

test('kill stops a running turn and leaves no process behind', async () => {
  model.enqueue({ stall: { ms: 60000 } }, { prompt: 'stall for kill' })
  const s = await manager.spawn({ backend: 'claude', prompt: 'stall for kill', workdir: t.workdir })
  await model.waitForRequest({ prompt: 'stall for kill' }, 20000)
  const pid = manager.get(s.id).pid
  assert.ok(pid > 0)
  assert.ok(processesInGroup(pid).length >= 1, 'the CLI runs in its own process group')
  const killed = await manager.kill(s.id)
  assert.equal(killed.status, 'killed')
  assert.equal(killed.endReason, 'user')
  assert.equal(killed.exitSignal, 9)
  assert.equal(killed.pid, undefined)
  assert.deepEqual(processesInGroup(pid), [], 'nothing of the group survives')
  // A second kill is harmless and says the same.
  assert.equal((await manager.kill(s.id)).status, 'killed')
  await assert.rejects(manager.send(s.id, 'hello?'), { code: 'E_STATE' })
})

test('interruptTurn cancels the running turn; the session goes on', async () => {
  model.enqueue({ stall: { ms: 60000 } }, { prompt: 'a long task' })
  const s = await manager.spawn({ backend: 'claude', prompt: 'a long task', workdir: t.workdir })
  await model.waitForRequest({ prompt: 'a long task' }, 20000)
  await manager.interruptTurn(s.id)
  const info = await waitForStatus(manager, s.id, ['waiting-for-input', 'failed'])
  assert.equal(info.status, 'waiting-for-input', info.lastError ?? '')
  const turn = manager.events(s.id, { kinds: ['turn-completed'] }).at(-1)
  assert.equal(turn.subtype, 'error_during_execution')
  assert.equal(turn.fatal, false)
  assert.equal(info.lastError, undefined, 'an asked-for interrupt is not an error')
  await manager.send(s.id, "I'm Ada")
  const next = await waitForStatus(manager, s.id, ['waiting-for-input', 'failed'])
  assert.equal(next.lastAssistantText, 'Nice to meet you, Ada!')
  assert.equal(next.turns, 2)
  // The history is intact: the next request carries the interrupted prompt.
  const last = model.messagesRequests().at(-1)
  assert.equal(last.prompt, "I'm Ada")
  assert.match(JSON.stringify(last.body.messages), /a long task/)
})

test('bypassPermissions runs tools without asking (IS_SANDBOX=1 is set for it when root)', async () => {
  const s = await manager.spawn({ backend: 'claude', prompt: 'run: touch bypassed.txt', workdir: t.workdir, permissionMode: 'bypassPermissions' })
  const info = await waitForStatus(manager, s.id, ['waiting-for-input', 'failed'])
  assert.equal(info.status, 'waiting-for-input', `${info.lastError} ${info.stderrTail.join(' | ')}`)
  assert.equal(manager.events(s.id, { kinds: ['permission-request'] }).length, 0)
  assert.equal(existsSync(join(t.workdir, 'bypassed.txt')), true)
  const init = manager.events(s.id, { kinds: ['init'] })[0]
  assert.equal(init.permissionMode, 'bypassPermissions')
})

test('resume continues a conversation by its Claude session id; fork copies it; unknown ids are refused', async () => {
  const s = await manager.spawn({ backend: 'claude', prompt: "Hello, I'm Grace", workdir: t.workdir })
  await waitForStatus(manager, s.id, ['waiting-for-input', 'failed'])
  await manager.close(s.id)

  const r = await manager.spawn({ backend: 'claude', prompt: "What's my name?", workdir: t.workdir, resume: s.backendSessionId })
  assert.equal(r.backendSessionId, s.backendSessionId, '--resume keeps the session id')
  const resumed = await waitForStatus(manager, r.id, ['waiting-for-input', 'failed'])
  assert.equal(resumed.lastAssistantText, 'Your name is Grace.')
  await manager.close(r.id)

  const f = await manager.spawn({ backend: 'claude', prompt: "What's my name?", workdir: t.workdir, resume: s.backendSessionId, fork: true })
  assert.notEqual(f.backendSessionId, s.backendSessionId, '--fork-session gets a new id, known at spawn')
  const forked = await waitForStatus(manager, f.id, ['waiting-for-input', 'failed'])
  assert.equal(forked.lastAssistantText, 'Your name is Grace.')
  const init = manager.events(f.id, { kinds: ['init'] })[0]
  assert.equal(init.backendSessionId, f.backendSessionId)

  const before = manager.stats()
  const unknown = '0b6f0c8e-1b7b-4c1e-9a8e-7a4a1f0e2d3c'
  await assert.rejects(manager.spawn({ backend: 'claude', prompt: 'x', workdir: t.workdir, resume: unknown }), (err) => {
    assert.equal(err.code, 'E_RESUME_NOT_FOUND')
    assert.match(err.message, new RegExp(`${unknown}\\.jsonl`), 'the message says what was looked for')
    return true
  })
  await assert.rejects(manager.spawn({ backend: 'claude', prompt: 'x', workdir: t.workdir, resume: 'a title' }), { code: 'E_INVALID_ARGUMENT' })
  assert.equal(manager.stats().spawned, before.spawned, 'nothing was started')
})

test('interrupt stops a session gracefully: interrupted, resumable, not forced; kill is killed', async () => {
  model.enqueue({ stall: { ms: 60000 } }, { prompt: 'a turn to interrupt' })
  const s = await manager.spawn({ backend: 'claude', prompt: 'a turn to interrupt', workdir: t.workdir })
  await model.waitForRequest({ prompt: 'a turn to interrupt' }, 20000)
  const pid = manager.get(s.id).pid
  const info = await manager.interrupt(s.id, { graceMs: 10000 })
  assert.equal(info.status, 'interrupted')
  assert.equal(info.endReason, 'user')
  assert.equal(info.forcedStop, false, 'Claude stopped within the grace period')
  assert.deepEqual(processesInGroup(pid), [])
  // Resumable: the conversation is on disk and a new session continues it.
  const r = await manager.spawn({ backend: 'claude', prompt: "Hello, I'm Ada", workdir: t.workdir, resume: s.backendSessionId })
  const resumed = await waitForStatus(manager, r.id, ['waiting-for-input', 'failed'])
  assert.equal(resumed.status, 'waiting-for-input', resumed.lastError ?? '')
  // Interrupting a finished session does nothing and says so through its status.
  assert.equal((await manager.interrupt(s.id)).status, 'interrupted')
  assert.equal((await manager.kill(r.id)).status, 'killed')
  assert.equal((await manager.interrupt(r.id)).status, 'killed')
})

async function untilPermission(id) {
  for (let i = 0; i < 400; i++) {
    const info = manager.get(id)
    if (info.pendingPermissions.length > 0 || ['failed', 'completed'].includes(info.status)) return info
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error('no permission request arrived')
}

for (const behavior of ['allow', 'deny']) {
  test(`a tool needing permission asks; ${behavior} decides whether it runs`, async () => {
    const file = `${behavior}ed.txt`
    const s = await manager.spawn({ backend: 'claude', prompt: `run: touch ${file}`, workdir: t.workdir })
    const asking = await untilPermission(s.id)
    assert.equal(asking.status, 'waiting-for-input')
    assert.equal(asking.statusReason, 'permission')
    const [pending] = asking.pendingPermissions
    assert.equal(pending.toolName, 'Bash')
    assert.match(pending.input.command, new RegExp(`touch ${file}`))
    const event = manager.events(s.id, { kinds: ['permission-request'] })[0]
    assert.equal(event.requestId, pending.requestId)
    await assert.rejects(manager.send(s.id, 'hurry up'), { code: 'E_STATE', message: /permission/ })

    const after = await manager.respondToPermission(s.id, pending.requestId, { behavior, message: 'not this time' })
    assert.equal(after.pendingPermissions.length, 0)
    const done = await waitForStatus(manager, s.id, ['waiting-for-input', 'failed'])
    assert.equal(done.status, 'waiting-for-input', done.lastError ?? '')
    assert.equal(existsSync(join(t.workdir, file)), behavior === 'allow', `the tool ran: ${behavior === 'allow'}`)
    const resolved = manager.events(s.id, { kinds: ['permission-resolved'] })[0]
    assert.deepEqual([resolved.allow, resolved.by], [behavior === 'allow', 'user'])
    await assert.rejects(manager.respondToPermission(s.id, pending.requestId, { behavior }), { code: 'E_NOT_FOUND' })
  })
}

test('an unanswered permission request gets the default policy (deny) after the timeout', async () => {
  const m = new SessionManager({ claudePath: claudeBin(), env: t.env, permissionTimeoutMs: 300 })
  try {
    const s = await m.spawn({ backend: 'claude', prompt: 'run: touch nobody-answered.txt', workdir: t.workdir })
    for (let i = 0; i < 400; i++) {
      const info = m.get(s.id)
      if (info.turns === 1 || info.status === 'failed') break
      await new Promise((r) => setTimeout(r, 50))
    }
    const info = m.get(s.id)
    assert.equal(info.status, 'waiting-for-input', info.lastError ?? '')
    assert.equal(info.statusReason, 'turn-ended')
    const resolved = m.events(s.id, { kinds: ['permission-resolved'] })
    assert.equal(resolved.length, 1)
    assert.deepEqual([resolved[0].allow, resolved[0].by], [false, 'policy'])
    assert.equal(existsSync(join(t.workdir, 'nobody-answered.txt')), false)
    await assert.rejects(m.respondToPermission(s.id, 'nope', { behavior: 'maybe' }), { code: 'E_INVALID_ARGUMENT', message: /`behavior`: unknown variant `maybe`, expected `allow` or `deny`/ })
    await assert.rejects(m.respondToPermission(s.id, 'nope', { behavior: 'allow' }), { code: 'E_NOT_FOUND' })
  } finally {
    await m.shutdown()
  }
})
