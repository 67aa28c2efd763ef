// The example OpenClaw plugin (examples/openclaw-plugin), compiled with tsc and registered on a
// fake gateway `api` that records what the plugin registers. Its service runs the addon's
// manager against the REAL Claude Code / Codex CLIs and the scripted model on 127.0.0.1; the
// test drives everything through the plugin's tool handlers, commands and gateway methods.
import test from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { startScriptedModel } from 'openclaw-sessions/testing'
import { claudeBin, claudeEnv, processesInGroup } from './helpers/claude.mjs'
import { codexBin, codexEnv } from './helpers/codex.mjs'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const PLUGIN = join(ROOT, 'examples', 'openclaw-plugin')
const TSC = join(ROOT, 'node_modules', '.bin', 'tsc')

// Compiled inside the plugin directory (gitignored `.build-*`), so that `openclaw-sessions`
// resolves to this package by self-reference; removed at the end.
const outDir = mkdtempSync(join(PLUGIN, '.build-'))
test.after(() => rmSync(outDir, { recursive: true, force: true }))
execFileSync(TSC, ['-p', join(PLUGIN, 'tsconfig.json'), '--outDir', outDir], { stdio: 'pipe' })
const plugin = await import(pathToFileURL(join(outDir, 'index.js')).href)

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
async function until(pred, what, ms = 30000) {
  const start = Date.now()
  for (;;) {
    const v = await pred()
    if (v) return v
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`)
    await sleep(50)
  }
}

/** A fake OpenClaw gateway: records registrations and lets the test call them. */
function gateway(config) {
  const tools = new Map()
  const commands = new Map()
  const methods = new Map()
  const services = []
  const logs = []
  const api = {
    registerTool: (tool, options) => tools.set(tool.name, { tool, options }),
    registerCommand: (command) => commands.set(command.name, command),
    registerGatewayMethod: (method, handler) => methods.set(method, handler),
    registerService: (service) => services.push(service),
    getConfig: () => config,
    logger: { info: (m) => logs.push(m), warn: (m) => logs.push(m), error: (m) => logs.push(m) },
  }
  const sent = []
  const sendMessage = async (channel, text) => {
    sent.push({ channel, text })
  }
  /** Calls a tool like the gateway's agent would; returns { text, details }. */
  const tool = async (name, params = {}) => {
    const t = tools.get(name)
    assert.ok(t, `tool ${name} is registered`)
    const r = await t.tool.execute(`call-${name}`, params)
    assert.equal(r.content.length, 1)
    assert.equal(r.content[0].type, 'text')
    return { text: r.content[0].text, details: r.details }
  }
  const command = async (name, args, channel = 'tg:1') => (await commands.get(name).handler({ args, channel, senderId: 'u1' })).text
  const rpc = (method, params) => methods.get(method)(params)
  return { api, tools, commands, methods, services, logs, sent, sendMessage, tool, command, rpc }
}

const FAMILY_TOOLS = ['launch', 'sessions', 'kill', 'output', 'fg', 'bg', 'respond', 'stats', 'resume']
const outputOf = async (g, prefix, session) => (await g.tool(`${prefix}_output`, { session })).text
/** Polls `<prefix>_output` until the turn that says `text` has ended (the session waits again). */
const turnSaid = (g, prefix, session, text) =>
  until(async () => {
    const out = await outputOf(g, prefix, session)
    return out.includes(text) && /status waiting-for-input/.test(out)
  }, `"${text}" from ${session}`)

test('claude: launch, wait, respond, kill, list, resume chain, kill hard, stats, stop', { timeout: 180000 }, async () => {
  const model = await startScriptedModel()
  const t = claudeEnv(model.url)
  const store = mkdtempSync(join(tmpdir(), 'ocs-plugin-store-'))
  const g = gateway({ fallbackChannel: 'main', maxSessions: 4, defaultWorkdir: t.workdir })
  try {
    plugin.register(g.api, {
      sendMessage: g.sendMessage,
      managerOptions: { claudePath: claudeBin(), env: t.env, storePath: join(store, 'sessions.db'), notifications: { waitingDebounceMs: 300 } },
    })

    // Registrations: every tool of both families, the commands, the gateway methods, one service.
    const toolNames = ['claude', 'codex'].flatMap((f) => FAMILY_TOOLS.map((s) => `${f}_${s}`))
    assert.deepEqual([...g.tools.keys()].sort(), toolNames.sort())
    for (const { tool } of g.tools.values()) assert.equal(tool.parameters.type, 'object', tool.name)
    assert.deepEqual(g.tools.get('claude_launch').tool.parameters.required, ['prompt'])
    for (const c of ['claude', 'claude_sessions', 'claude_kill', 'claude_fg', 'claude_bg', 'claude_resume', 'claude_respond', 'claude_stats', 'codex', 'codex_sessions', 'codex_resume', 'codex_respond']) {
      assert.ok(g.commands.has(c), `command /${c}`)
    }
    for (const m of ['launch', 'sessions', 'kill', 'respond', 'resume', 'output', 'stats']) assert.ok(g.methods.has(`openclaw-sessions.${m}`), m)
    assert.equal(g.services.length, 1)

    // Before the service starts: a readable error, not a throw.
    assert.match((await g.tool('claude_sessions')).text, /^Error \[E_STATE\]: .*not running/)
    await g.services[0].start()

    // Launch from chat channel tg:1 → a waiting-for-input message arrives there.
    const launched = await g.tool('claude_launch', { prompt: "Hello, I'm John", name: 'john', channel: 'tg:1' })
    assert.match(launched.text, /^Launched claude session john \([0-9a-f]{8}\)/)
    const first = launched.details
    assert.equal(first.origin.channel, 'tg:1')
    assert.equal(first.workdir, t.workdir)
    const waiting = await until(() => g.sent.find((m) => m.channel === 'tg:1' && /waiting for input/.test(m.text)), 'waiting-for-input on tg:1')
    assert.match(waiting.text, /Nice to meet you, John!/)
    assert.ok(g.sent.every((m) => m.channel === 'tg:1'), 'everything about this session goes to its origin channel')

    // Errors from the addon come back as text with the code.
    assert.match((await g.tool('claude_output', { session: 'no-such-session' })).text, /^Error \[E_NOT_FOUND\]: /)
    assert.match((await g.tool('claude_launch', { prompt: 'x', workdir: 'relative/dir' })).text, /^Error \[E_INVALID_ARGUMENT\]: workdir/)
    assert.match((await g.tool('claude_respond', { session: 'john' })).text, /^Error \[E_INVALID_ARGUMENT\]/)

    // The agent answers (an automatic reply); the CLI sends the whole conversation to the model.
    const responded = await g.tool('claude_respond', { session: 'john', message: "What's my name?" })
    assert.match(responded.text, /^Sent to john .*\(automatic reply\)/)
    await turnSaid(g, 'claude', 'john', 'Your name is John.')
    const asked = model.messagesRequests().filter((r) => r.prompt === "What's my name?")
    assert.equal(asked.length, 1)
    assert.equal(asked[0].sessionId, first.backendSessionId)
    assert.match(JSON.stringify(asked[0].body.messages), /Hello, I'm John/)
    assert.match(await outputOf(g, 'claude', first.id.slice(0, 8)), /status waiting-for-input.*2 turns/s, 'an id prefix is a ref')

    // Stop it (graceful by default) → listed as interrupted.
    const killed = await g.tool('claude_kill', { session: 'john' })
    assert.match(killed.text, /^Stopped: .*status interrupted.*It can be resumed/)
    assert.equal(killed.details.status, 'interrupted')
    let list = (await g.tool('claude_sessions')).text
    assert.match(list, new RegExp(`john\\s+${first.id.slice(0, 8)}\\s+claude\\s+interrupted\\s+2\\s+\\$`))
    await until(() => g.sent.some((m) => m.channel === 'tg:1' && /interrupted/.test(m.text)), 'interrupted notification')

    // Resume it: a new session continuing the same conversation, linked to the first.
    const resumed = await g.tool('claude_resume', { session: first.id.slice(0, 8), prompt: "What's my name again?" })
    assert.match(resumed.text, new RegExp(`^Resumed ${first.id.slice(0, 8)} as claude session`))
    const second = resumed.details
    assert.notEqual(second.id, first.id)
    assert.equal(second.resumedFromId, first.id)
    await turnSaid(g, 'claude', second.id, 'Your name is John.')
    const again = model.messagesRequests().find((r) => r.prompt === "What's my name again?")
    assert.match(JSON.stringify(again.body.messages), /Hello, I'm John/, 'the resumed session has the old history')
    list = (await g.tool('claude_sessions')).text
    assert.match(list, new RegExp(`${second.id.slice(0, 8)}\\s+claude\\s+\\S+\\s+\\d+\\s+\\$\\S+\\s+resumed from ${first.id.slice(0, 8)}`))
    assert.match(list, new RegExp(`Resume chains \\(newest first\\):\\n\\s+${second.id.slice(0, 8)} \\S+ <- ${first.id.slice(0, 8)} interrupted`))

    // A user's reply through the chat command (user-initiated).
    const cmd = await g.command('claude_respond', `${second.id.slice(0, 8)} Thanks`)
    assert.match(cmd, /^Sent to /)
    assert.doesNotMatch(cmd, /automatic/)
    await turnSaid(g, 'claude', second.id, 'You said: Thanks.')

    // Launch one more and kill it hard in the middle of a turn.
    const slow = (await g.tool('claude_launch', { prompt: 'sleep 60000', name: 'slow' })).details
    await model.waitForRequest({ prompt: 'sleep 60000' })
    const hard = await g.tool('claude_kill', { session: 'slow', mode: 'kill' })
    assert.equal(hard.details.status, 'killed')
    assert.match((await g.tool('claude_sessions', { status: 'killed' })).text, new RegExp(`slow\\s+${slow.id.slice(0, 8)}\\s+claude\\s+killed`))
    assert.equal(processesInGroup(slow.pid).length, 0, 'the killed CLI is gone')

    // Stats through the tool and the gateway method.
    const stats = await g.tool('claude_stats')
    assert.match(stats.text, /^Claude Code: 3 sessions \(1 live\), 4 turns/)
    assert.match(stats.text, /By status: .*waiting-for-input 1.*interrupted 1, killed 1/)
    const rpcStats = await g.rpc('openclaw-sessions.stats', {})
    assert.equal(rpcStats.ok, true)
    assert.equal(rpcStats.result.stats.byStatus.killed, 1)
    const rpcList = await g.rpc('openclaw-sessions.sessions', { backend: 'claude' })
    assert.deepEqual(rpcList.result.map((s) => s.id).sort(), [first.id, second.id, slow.id].sort())
    const rpcMissing = await g.rpc('openclaw-sessions.output', { session: 'nope' })
    assert.equal(rpcMissing.ok, false)
    assert.equal(rpcMissing.error.code, 'E_NOT_FOUND')
    const rpcOut = await g.rpc('openclaw-sessions.output', { session: second.id, lines: 1 })
    assert.deepEqual(rpcOut.result.lines, [rpcOut.result.session.lastAssistantText])

    // Stop the service: nothing live is left, the CLIs are gone, new launches are refused.
    const pid = second.pid
    assert.ok(pid > 0)
    await g.services[0].stop()
    const after = await g.rpc('openclaw-sessions.sessions', {})
    assert.equal(after.result.length, 3)
    assert.deepEqual(after.result.filter((s) => !['completed', 'failed', 'interrupted', 'killed'].includes(s.status)), [])
    assert.equal(after.result.find((s) => s.id === second.id).endReason, 'shutdown')
    assert.equal(processesInGroup(pid).length, 0)
    assert.match((await g.tool('claude_stats')).text, /Manager: 0\/4 live/)
    assert.match((await g.tool('claude_launch', { prompt: 'late' })).text, /^Error \[E_STATE\]/)
  } finally {
    await g.services[0]?.stop()
    await model.close()
    t.cleanup()
    rmSync(store, { recursive: true, force: true })
  }
})

test('codex: codex_launch, the reply via codex_output, respond, families kept apart', { timeout: 180000 }, async () => {
  const model = await startScriptedModel()
  const t = codexEnv(model.url)
  const store = mkdtempSync(join(tmpdir(), 'ocs-plugin-store-'))
  const g = gateway({ fallbackChannel: 'main', codexPath: codexBin() })
  try {
    plugin.register(g.api, {
      sendMessage: g.sendMessage,
      managerOptions: { env: t.env, storePath: join(store, 'sessions.db'), notifications: { waitingDebounceMs: 300 } },
    })
    await g.services[0].start()
    const launched = await g.command('codex', "Hello, I'm John", 'tg:2')
    assert.match(launched, /^Launched codex session [0-9a-f]{8}, status/)
    const s = (await g.rpc('openclaw-sessions.sessions', { backend: 'codex' })).result[0]
    assert.equal(s.origin.channel, 'tg:2')
    await until(() => g.sent.find((m) => m.channel === 'tg:2' && /waiting for input/.test(m.text)), 'waiting-for-input on tg:2')
    assert.match(await outputOf(g, 'codex', s.id), /Nice to meet you, John!/)

    assert.match((await g.tool('codex_respond', { session: s.id, message: "What's my name?" })).text, /automatic reply/)
    await turnSaid(g, 'codex', s.id, 'Your name is John.')
    const last = model.responsesRequests().at(-1)
    assert.match(JSON.stringify(last.body.input), /Hello, I'm John/)
    assert.equal(last.sessionId, s.backendSessionId)

    // The families see only their own sessions.
    assert.match((await g.tool('codex_sessions')).text, new RegExp(`${s.id.slice(0, 8)}\\s+codex\\s+waiting-for-input`))
    assert.match((await g.tool('claude_sessions')).text, /No sessions\./)
    assert.match((await g.tool('claude_kill', { session: s.id })).text, /^Error \[E_NOT_FOUND\]: .*codex session.*codex_\* tools/)

    const exec = await g.tool('codex_launch', { prompt: 'Say hi', exec: true, sandbox: 'read-only', channel: 'tg:2' })
    assert.equal(exec.details.backend, 'codex-exec')
    await turnSaid(g, 'codex', exec.details.id, 'You said: Say hi')
    assert.match((await g.tool('codex_stats')).text, /^Codex: 2 sessions \(2 live\), 3 turns/)

    await g.services[0].stop()
    const after = (await g.rpc('openclaw-sessions.sessions', {})).result
    assert.deepEqual(after.map((x) => x.status), ['interrupted', 'interrupted'])
  } finally {
    await g.services[0]?.stop()
    await model.close()
    t.cleanup()
    rmSync(store, { recursive: true, force: true })
  }
})

test('claude: permission requests answered through claude_respond (allow) and /claude_respond (deny)', { timeout: 120000 }, async () => {
  const model = await startScriptedModel()
  const t = claudeEnv(model.url)
  const g = gateway({ defaultWorkdir: t.workdir })
  try {
    plugin.register(g.api, {
      sendMessage: g.sendMessage,
      managerOptions: { claudePath: claudeBin(), env: t.env, storePath: ':memory:', notifications: { waitingDebounceMs: 300 } },
    })
    await g.services[0].start()
    for (const [answer, file] of [['allow', 'allowed.txt'], ['deny', 'denied.txt']]) {
      const s = (await g.tool('claude_launch', { prompt: `run: touch ${file}`, channel: 'tg:3' })).details
      const ask = await until(() => g.sent.find((m) => m.channel === 'tg:3' && m.text.includes('wants to use Bash') && m.text.includes(file)), `the ${file} permission request`)
      assert.match(ask.text, /touch/)
      // A plain message is refused while the request is pending.
      assert.match((await g.tool('claude_respond', { session: s.id, message: 'hurry up' })).text, /^Error \[E_STATE\]: .*permission/)
      const text =
        answer === 'allow'
          ? (await g.tool('claude_respond', { session: s.id, permission: 'allow' })).text
          : await g.command('claude_respond', `${s.id.slice(0, 8)} deny`, 'tg:3')
      assert.match(text, new RegExp(`^Permission for Bash ${answer === 'allow' ? 'granted' : 'denied'}`))
      await until(async () => /status waiting-for-input \(turn-ended\)/.test(await outputOf(g, 'claude', s.id)), 'the turn to end')
      assert.equal(existsSync(join(t.workdir, file)), answer === 'allow', `the tool ran: ${answer === 'allow'}`)
    }
    assert.match((await g.tool('claude_respond', { session: 'nope', permission: 'allow' })).text, /^Error \[E_NOT_FOUND\]/)
  } finally {
    await g.services[0]?.stop()
    await model.close()
    t.cleanup()
  }
})
