// The plugin inside the real OpenClaw gateway (`openclaw` 2026.9.6 under Node 24), installed
// from the `npm run plugin:pack` tarball with `openclaw plugins install` and configured only
// through `plugins.entries.openclaw-sessions.config`. The real Claude Code and Codex CLIs talk
// to the scripted model on 127.0.0.1, and so does the gateway's own agent (a custom provider).
// Everything goes through the gateway: HTTP `POST /tools/invoke`, `openclaw gateway call`,
// slash commands and agent turns through `chat.send`.
import test from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { alive, gatewaySuite, until } from '../helpers/gateway.mjs'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const suite = gatewaySuite({ agentModel: true })
const tool = (name, args) => suite.tool(name, args)

/** The session named `name` (or the first for which `name` returns true) once `ok(session)` holds. */
function sessionWhen(family, name, ok, what) {
  const pick = typeof name === 'function' ? name : (x) => x.name === name
  return until(
    async () => {
      const { details } = await tool(`${family}_sessions`, {})
      const s = details.find(pick)
      return s && ok(s) ? s : undefined
    },
    { what: `${typeof name === 'string' ? name : 'session'} ${what}` },
  )
}

/** The output tool's text once it matches `re`. */
function outputMatching(family, session, re) {
  return until(
    async () => {
      const r = await tool(`${family}_output`, { session })
      return re.test(r.content[0].text) ? r : undefined
    },
    { what: `${re} in ${session}'s output` },
  )
}

for (const family of ['claude', 'codex']) {
  test(`${family}: launch -> waiting-for-input -> respond -> "Your name is John." -> kill, through /tools/invoke`, async () => {
    const name = `john-${family}`
    const launched = await tool(`${family}_launch`, { prompt: "Hello, I'm John", name })
    assert.match(launched.content[0].text, /^Launched /)
    assert.equal(launched.details.backend, family)
    // The origin is the conversation of the tool call, from the gateway's tool context.
    assert.equal(launched.details.origin.agent, 'agent:main:main')

    const waiting = await sessionWhen(family, name, (s) => s.status === 'waiting-for-input', 'waiting for input')
    assert.equal(waiting.turns, 1)

    const sent = await tool(`${family}_respond`, { session: name, message: "What's my name?" })
    assert.match(sent.content[0].text, /^Sent to /)
    // The answer's text comes before the turn's end (Claude's `result`, Codex's turn/completed).
    await sessionWhen(family, name, (x) => x.turns === 2 && x.status === 'waiting-for-input', 'to end turn 2')
    const out = await tool(`${family}_output`, { session: name })
    assert.match(out.content[0].text, /Your name is John\./)

    const killed = await tool(`${family}_kill`, { session: name, mode: 'kill' })
    assert.equal(killed.details.status, 'killed')
    assert.equal(alive(waiting.pid), false, 'the CLI process is gone')
  })
}

test('every tool the manifest declares in contracts.tools is served by the gateway', async () => {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'plugin', 'openclaw.plugin.json'), 'utf8'))
  assert.equal(manifest.contracts.tools.length, 18)
  for (const name of manifest.contracts.tools) {
    const r = await suite.gw.invoke(name, {})
    // A tool the gateway refused would be "Tool not available"; ours run (and may fail on {}).
    assert.notEqual(r.error?.type, 'not_found', `${name}: ${JSON.stringify(r)}`)
  }
})

test('gateway methods answer through respond: codex-exec over openclaw-sessions.*, errors with the addon code', async () => {
  const launched = await suite.gw.call('openclaw-sessions.launch', { backend: 'codex-exec', prompt: "Hello, I'm John", name: 'john-exec' })
  assert.equal(launched.code, 0, launched.stderr)
  assert.equal(launched.json.result.backend, 'codex-exec')
  await sessionWhen('codex', 'john-exec', (s) => s.status === 'waiting-for-input', 'waiting for input')
  const sent = await suite.gw.call('openclaw-sessions.respond', { session: 'john-exec', message: "What's my name?" })
  assert.equal(sent.code, 0, sent.stderr)
  await until(
    async () => {
      const r = await suite.gw.call('openclaw-sessions.output', { session: 'john-exec' })
      return r.json?.result.lines.includes('Your name is John.') ? r : undefined
    },
    { what: 'the exec session to answer' },
  )
  const missing = await suite.gw.call('openclaw-sessions.kill', { session: 'no-such-session' })
  assert.notEqual(missing.code, 0)
  assert.equal(missing.json.ok, false)
  assert.equal(missing.json.error.code, 'E_NOT_FOUND')
  const bad = await suite.gw.call('openclaw-sessions.launch', { backend: 'claude' })
  assert.equal(bad.json.error.code, 'E_INVALID_ARGUMENT')
  assert.match(bad.json.error.message, /'prompt' is required/)
})

/** The text of each message in a gateway session's history, once `ok(texts)` holds. */
function historyWhen(sessionKey, ok, what) {
  return until(
    async () => {
      const r = await suite.gw.call('chat.history', { sessionKey })
      const texts = (r.json?.messages ?? []).map((m) => ({ role: m.role, text: typeof m.content === 'string' ? m.content : m.content.map((c) => c.text ?? '').join('') }))
      return ok(texts) ? texts : undefined
    },
    { what },
  )
}

test('slash commands through chat.send read the conversation from the real command context', async () => {
  const key = 'cmds'
  const r = await suite.gw.call('chat.send', { sessionKey: key, message: "/claude_launch Hello, I'm John", idempotencyKey: 'launch-1' })
  assert.equal(r.code, 0, r.stderr)
  const h1 = await historyWhen(key, (t) => t.some((m) => m.role === 'assistant' && /^Launched claude session/.test(m.text)), 'the launch reply')
  const id = /session ([0-9a-f]{8})/.exec(h1.find((m) => /^Launched/.test(m.text)).text)[1]
  const s = await sessionWhen('claude', (x) => x.id.startsWith(id), (x) => x.status === 'waiting-for-input', 'launched by the command, waiting')
  // Launched from the `cmds` conversation: its origin is that gateway session.
  assert.equal(s.origin.agent, `agent:main:${key}`)
  assert.equal(s.origin.channel, `session:agent:main:${key}`)

  await suite.gw.call('chat.send', { sessionKey: key, message: `/claude_respond ${id} What's my name?`, idempotencyKey: 'respond-1' })
  await outputMatching('claude', id, /Your name is John\./)
  await suite.gw.call('chat.send', { sessionKey: key, message: `/claude_kill ${id}`, idempotencyKey: 'kill-1' })
  await historyWhen(key, (t) => t.some((m) => /^Stopped: claude session .* interrupted/.test(m.text)), 'the kill reply')
  // /codex belongs to the gateway's own Codex plugin: ours are /codex_launch, /codex_sessions, ...
  await suite.gw.call('chat.send', { sessionKey: key, message: '/codex_sessions', idempotencyKey: 'codex-sessions-1' })
  await historyWhen(key, (t) => t.some((m) => /^Codex sessions \(all\):/.test(m.text)), 'the /codex_sessions reply')
})

/** What a model request brings that is new: its messages after the last assistant message, as JSON. */
function newInput(r) {
  const messages = r.body.messages
  return JSON.stringify(messages.slice(messages.findLastIndex((m) => m.role === 'assistant') + 1))
}

/** Whether a logged request is the gateway agent's model request (the CLIs' carry a session id) and its new input matches `re`. */
const agentRequest = (re) => (r) => r.path.split('?')[0] === '/v1/messages' && r.sessionId === null && re.test(newInput(r))

/** The gateway agent's model requests so far whose new input matches `re`. */
function agentRequestsMatching(re) {
  return suite.model.messagesRequests().filter(agentRequest(re))
}

/** The first such request, waiting for it (an event of the scripted model) up to 60 s. */
const agentRequestFor = (re) => suite.model.waitForRequest(agentRequest(re), 60_000)

test("the gateway's agent launches a session with its tool; each ended turn wakes it once, with the notification", async () => {
  const key = 'agent-loop'
  // The gateway keeps plugin tools in its tool-search catalog: the agent calls them through
  // `tool_call` (docs/tools/tool-search.md), as a real model does.
  const launch = { id: 'claude_launch', args: { prompt: "Hello, I'm John", name: 'agent-john' } }
  suite.model.enqueue({ toolUse: { name: 'tool_call', input: launch } }, { text: 'start a coding session for John' })
  await suite.gw.call('chat.send', { sessionKey: key, message: 'Please start a coding session for John', idempotencyKey: 'agent-1' })
  const s = await sessionWhen('claude', 'agent-john', (x) => x.status === 'waiting-for-input', 'launched by the agent')
  // The real agent-tool context: the conversation's session key is the origin.
  assert.equal(s.origin.agent, `agent:main:${key}`)

  const waiting = /Session agent-john is waiting for input/
  assert.match(newInput(await agentRequestFor(waiting)), /Nice to meet you, John!/)

  await tool('claude_respond', { session: 'agent-john', message: "What's my name?" })
  await agentRequestFor(/Session agent-john is waiting for input\. Last: Your name is John\./)
  // Turn 2's wake came after turn 1's debounce and safety net: still one wake per ended turn.
  assert.equal(agentRequestsMatching(waiting).length, 2)
  await tool('claude_kill', { session: 'agent-john', mode: 'kill' })
})

test("a tool's failure reaches the agent as a thrown error that names the addon's code", async () => {
  const call = { id: 'claude_output', args: { session: 'no-such-session' } }
  suite.model.enqueue({ toolUse: { name: 'tool_call', input: call } }, { text: 'show the output of no-such-session' })
  await suite.gw.call('chat.send', { sessionKey: 'errors', message: 'Please show the output of no-such-session', idempotencyKey: 'err-1' })
  const r = await agentRequestFor(/tool_result.*no-such-session/)
  const result = JSON.parse(newInput(r)).flatMap((m) => m.content).find((c) => c.type === 'tool_result')
  assert.equal(result.is_error, true)
  assert.match(JSON.stringify(result.content), /E_NOT_FOUND: no session with id, name or backend session id `no-such-session`/)
})

test('multi_turn: false closes the session once its first turn ends', async () => {
  await tool('claude_launch', { prompt: "Hello, I'm John", name: 'one-shot', multi_turn: false })
  const s = await sessionWhen('claude', 'one-shot', (x) => x.status === 'completed', 'completed after one turn')
  assert.equal(s.turns, 1)
  assert.equal(s.lastAssistantText, 'Nice to meet you, John!')
})

test('respond with interrupt: the running turn is interrupted, then the message is sent', async () => {
  // The first turn stalls at the model until it is interrupted.
  suite.model.enqueue({ stall: { ms: 60_000, then: { text: 'too late' } } }, { text: 'start the long job' })
  await tool('claude_launch', { prompt: "Hello, I'm John. Please start the long job.", name: 'busy' })
  await suite.model.waitForRequest({ prompt: /start the long job/ })
  await sessionWhen('claude', 'busy', (x) => x.status === 'running', 'running its long turn')
  const sent = await tool('claude_respond', { session: 'busy', message: "What's my name?", interrupt: true })
  assert.match(sent.content[0].text, /^Sent to busy/)
  const out = await outputMatching('claude', 'busy', /Your name is John\./)
  assert.doesNotMatch(out.content[0].text, /too late/)
  await tool('claude_kill', { session: 'busy', mode: 'kill' })
})

test('permission requests are answered from the gateway: allow through claude_respond, deny through /claude_respond', async () => {
  for (const answer of ['allow', 'deny']) {
    const file = `${answer}.txt`
    const name = `perm-${answer}`
    await tool('claude_launch', { prompt: `run: touch ${file}`, name, permission_mode: 'default' })
    const s = await sessionWhen('claude', name, (x) => x.pendingPermissions.length > 0, 'asking for permission')
    assert.equal(s.statusReason, 'permission')
    assert.equal(s.pendingPermissions[0].toolName, 'Bash')
    // A plain message is refused while the request is pending.
    const refused = await suite.gw.invoke('claude_respond', { session: name, message: 'hurry up' })
    assert.equal(refused.ok, false)
    if (answer === 'allow') {
      const r = await tool('claude_respond', { session: name, permission: 'allow' })
      assert.match(r.content[0].text, /^Permission for Bash granted/)
    } else {
      await suite.gw.call('chat.send', { sessionKey: 'perms', message: `/claude_respond ${s.id.slice(0, 8)} deny`, idempotencyKey: `deny-${s.id}` })
    }
    await sessionWhen('claude', name, (x) => x.status === 'waiting-for-input' && x.statusReason !== 'permission', 'the turn to end')
    assert.equal(existsSync(join(suite.config.defaultWorkdir, file)), answer === 'allow', `the tool ran: ${answer === 'allow'}`)
    await tool('claude_kill', { session: name, mode: 'kill' })
  }
})

test('claude_fg streams a session into the conversation that asked (read by its next turn); claude_bg stops it; claude_stats counts', async () => {
  const key = 'follow'
  const launched = await suite.gw.invoke('claude_launch', { prompt: "Hello, I'm John", name: 'followed' }, key)
  assert.equal(launched.result.details.origin.channel, `session:agent:main:${key}`)
  await sessionWhen('claude', 'followed', (x) => x.status === 'waiting-for-input', 'waiting for input')
  const fg = await suite.gw.invoke('claude_fg', { session: 'followed' }, key)
  assert.match(fg.result.content[0].text, new RegExp(`foreground on session:agent:main:${key}`))
  await tool('claude_respond', { session: 'followed', message: "What's my name?" })
  await outputMatching('claude', 'followed', /Your name is John\./)

  // The streamed lines (500 ms batches) wait in the conversation's system events until its next
  // turn reads them: here the wake of the turn's waiting-for-input notification (5 s later).
  const r = await agentRequestFor(/Session followed is waiting for input\. Last: Your name is John\./)
  assert.match(newInput(r), /\[openclaw-sessions\] 💬 followed:[^"]*Your name is John\./)

  const bg = await suite.gw.invoke('claude_bg', { session: 'followed' }, key)
  assert.match(bg.result.content[0].text, /back in the background/)
  const stats = await tool('claude_stats', {})
  assert.match(stats.content[0].text, /^Claude Code: \d+ sessions \(\d+ live\), \d+ turns, \$\d+\.\d{4}/)
  assert.ok(stats.details.sessions >= 1)
  await tool('claude_kill', { session: 'followed', mode: 'kill' })
})
