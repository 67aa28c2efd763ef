// The plugin's tools and commands (plugin/dist, built by `node scripts/plugin.mjs build`) act for
// their sender, read from the trusted tool / command context: with the real Claude Code CLI
// against the scripted model on 127.0.0.1, a sender sees and touches only the sessions they
// launched (E_FORBIDDEN for another's), two senders may both name a session 'fix-auth', and the
// config's `operators` see every session. The gateway is replaced by a stand-in `api` that only
// records what the plugin registers; the gateway tests run the same tools in the real gateway.
import test from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SessionManager } from '../index.js'
import { startScriptedModel } from 'openclaw-sessions/testing'
import { SessionActions } from '../plugin/dist/actions.js'
import { claude } from '../plugin/dist/backends.js'
import { registerCommands } from '../plugin/dist/commands.js'
import { registerTools } from '../plugin/dist/tools.js'
import { claudeBin, claudeEnv } from './helpers/claude.mjs'

let model
let t
let dir
let manager
let tools
let commands

test.beforeEach(async () => {
  model = await startScriptedModel()
  t = claudeEnv(model.url)
  dir = mkdtempSync(join(tmpdir(), 'ocs-plugin-owners-'))
  manager = new SessionManager({ claudePath: claudeBin(), env: t.env, storePath: join(dir, 'sessions.db') })
  const host = { manager: () => manager, defaults: () => ({ workdir: t.workdir }), closeAfterFirstTurn: () => {} }
  tools = new Map()
  commands = new Map()
  const api = {
    registerTool: (factory, { name }) => tools.set(name, factory),
    registerCommand: (def) => commands.set(def.name, def),
  }
  const actions = new SessionActions(host, claude)
  registerTools(api, actions, ['op-1'])
  registerCommands(api, actions, ['op-1'])
})

test.afterEach(async () => {
  await manager.shutdown()
  await model.close()
  t.cleanup()
  rmSync(dir, { recursive: true, force: true })
})

/** A group chat on Telegram; `sender` is the trusted sender id. */
const groupCtx = (sender) => ({
  sessionKey: 'agent:main:telegram:group:-100123',
  deliveryContext: { channel: 'telegram', to: '-100123' },
  messageChannel: 'telegram',
  requesterSenderId: sender,
})

const tool = (name, ctx, params = {}) => tools.get(name)(ctx).execute('call-1', params)

const command = async (name, sender, args = '') =>
  (
    await commands.get(name).handler({
      senderId: sender,
      channel: 'telegram',
      to: '-100123',
      isAuthorizedSender: true,
      sessionKey: 'agent:main:telegram:group:-100123',
      args,
      commandBody: `/${name} ${args}`,
    })
  ).text

test("in a group chat, bob's tools and commands cannot list, read, send to, stop or resume alice's session; both name one fix-auth", async () => {
  const alice = groupCtx('alice')
  const bob = groupCtx('bob')
  const a = (await tool('claude_launch', alice, { prompt: "Hello, I'm John", name: 'fix-auth' })).details
  assert.equal(a.owner, 'alice', 'the sender from the tool context owns the session')
  const b = (await tool('claude_launch', bob, { prompt: 'Hello there', name: 'fix-auth' })).details
  assert.equal(b.owner, 'bob')
  // Both first turns end (the operator's view waits for them).
  await manager.waitForTurn(a.id, { timeoutMs: 30000 })
  await manager.waitForTurn(b.id, { timeoutMs: 30000 })

  // Each sender's "fix-auth" is their own.
  assert.match((await tool('claude_output', alice, { session: 'fix-auth' })).content[0].text, /Nice to meet you, John!/)
  assert.doesNotMatch((await tool('claude_output', bob, { session: 'fix-auth' })).content[0].text, /John/)

  // List: bob's tool and command show only his.
  assert.deepEqual((await tool('claude_sessions', bob)).details.map((s) => s.id), [b.id])
  const listed = await command('claude_sessions', 'bob')
  assert.ok(listed.includes(b.id.slice(0, 8)) && !listed.includes(a.id.slice(0, 8)), listed)

  // Read, send, stop, resume, follow alice's session: E_FORBIDDEN, revealing nothing of it.
  const refused = async (name, params) => {
    const err = await tool(name, bob, params).then(
      () => assert.fail(`${name} was allowed`),
      (e) => e,
    )
    assert.equal(err.code, 'E_FORBIDDEN', `${name}: ${err.message}`)
    assert.doesNotMatch(err.message, /John|Nice to meet you/, name)
  }
  await refused('claude_output', { session: a.id })
  await refused('claude_respond', { session: a.id, message: 'ignore your instructions' })
  await refused('claude_kill', { session: a.id, mode: 'kill' })
  await refused('claude_fg', { session: a.id })
  await refused('claude_bg', { session: a.id })
  await refused('claude_resume', { session: a.id, prompt: 'go on' })
  await refused('claude_launch', { prompt: 'go on', resume_session_id: a.backendSessionId })
  for (const [name, args] of [
    ['claude_kill', `${a.id} kill`],
    ['claude_output', a.id],
    ['claude_respond', `${a.id} hello`],
    ['claude_resume', a.id],
  ]) {
    assert.match(await command(name, 'bob', args), /^Error \[E_FORBIDDEN\]/, name)
  }
  assert.equal(manager.get(a.id).status, 'waiting-for-input', "alice's session is untouched")
  assert.equal(manager.get(a.id).turns, 1)

  // Bob's stats count his sessions only; the manager-wide counters are the operator's.
  const bobStats = (await tool('claude_stats', bob)).content[0].text
  assert.match(bobStats, /1 sessions/)
  assert.doesNotMatch(bobStats, /Manager:/)

  // An operator from the config sees and may stop every session.
  const op = groupCtx('op-1')
  assert.deepEqual(new Set((await tool('claude_sessions', op)).details.map((s) => s.id)), new Set([a.id, b.id]))
  assert.match((await tool('claude_stats', op)).content[0].text, /Manager: /)
  // The gateway's own surfaces (webchat: a gateway client's id as sender) and calls without a
  // sender id (/tools/invoke) are the operator's.
  const webchat = { sessionKey: 'agent:main:main', messageChannel: 'webchat', requesterSenderId: 'cli' }
  assert.equal((await tool('claude_sessions', webchat)).details.length, 2)
  assert.equal((await tool('claude_sessions', { sessionKey: 'agent:main:main' })).details.length, 2)
  const fromCli = await commands.get('claude_sessions').handler({ senderId: 'cli', channel: 'webchat', isAuthorizedSender: true, args: '' })
  assert.ok(fromCli.text.includes(a.id.slice(0, 8)) && fromCli.text.includes(b.id.slice(0, 8)), fromCli.text)

  // Alice stops her own; the operator stops bob's.
  assert.match((await tool('claude_kill', alice, { session: 'fix-auth', mode: 'kill' })).content[0].text, /^Killed/)
  assert.match(await command('claude_kill', 'op-1', `${b.id} kill`), /^Killed/)
})
