// The main job end to end, the scenario `npm run demo:gateway` plays (scripts/lib/gateway-chat.mjs):
// a chat through `chat.send` to the real OpenClaw gateway; its agent (on the scripted model)
// launches a Claude Code session with the plugin's tool; the real CLI runs; each turn's end wakes
// the agent with the plugin's notification, once, and the agent tells the chat; the person
// answers, interrupts the session and has it resumed. Then the gateway stops and nothing is left.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { SessionStore } from '../../index.js'
import { CHAT_KEY, SESSION_NAME, chatHistory, notificationsIn, notificationsToAgent, playChat } from '../../scripts/lib/gateway-chat.mjs'
import { alive, removeHome, startGatewayWithModel } from '../helpers/gateway.mjs'

let env
before(async () => {
  env = await startGatewayWithModel({ agentModel: true })
})
after(async () => {
  await env?.stop()
  if (env?.home) removeHome(env.home)
})

test('a chat launches a session through the agent; each ended turn wakes the agent once; the chat hears; the store holds the chain; nothing is left', { timeout: 20 * 60_000 }, async () => {
  const name = SESSION_NAME
  const r = await playChat({ gw: env.gw, model: env.model, storePath: env.config.storePath })

  // One wake per ended turn: the question, the answer, the interruption, the resumed answer.
  const woke = r.wakes.map((w) => notificationsIn(w))
  assert.equal(woke.length, 4)
  const expected = [
    new RegExp(`^❓ Session ${name} asks: Nice to meet you, John! Which file should I edit\\?$`),
    new RegExp(`^⏸️ Session ${name} is waiting for input\\. Last: Your name is John\\.$`),
    new RegExp(`^⏹️ Session ${name} was interrupted \\(user\\); it can be resumed$`),
    new RegExp(`^⏸️ Session ${name} is waiting for input\\. Last: Your name is John\\.$`),
  ]
  woke.forEach((texts, i) => assert.ok(texts.some((t) => expected[i].test(t)), `wake ${i + 1} carried ${expected[i]}: ${JSON.stringify(texts)}`))

  // Each notification reached the agent's model requests exactly once (as new input): one per
  // ended turn. (A long turn under load may also bring the 15 s safety net's "quiet" one, once.)
  const seen = notificationsToAgent(env.model)
  const count = (re) => seen.filter((t) => re.test(t)).length
  assert.equal(count(expected[0]), 1, JSON.stringify(seen))
  assert.equal(count(expected[1]), 2, `one per session's ended turn: ${JSON.stringify(seen)}`)
  assert.equal(count(expected[2]), 1, JSON.stringify(seen))
  for (const t of new Set(seen)) if (!expected.some((re) => re.test(t))) assert.equal(seen.filter((x) => x === t).length, 1, t)
  const first = r.first.id
  assert.notEqual(r.resumed.id, first)

  // The chat shows the relayed question and the final answer, after the person's messages.
  const history = await chatHistory(env.gw, CHAT_KEY)
  const said = (role, text) => history.findIndex((m) => m.role === role && m.text.includes(text))
  const asked = said('user', 'Please start a Claude Code session')
  const relayed = said('assistant', `${name} asks: Which file should I edit?`)
  const answer = said('assistant', `${name} (resumed) says: Your name is John.`)
  assert.ok(asked >= 0 && relayed > asked && answer > relayed, JSON.stringify(history, null, 1))
  assert.equal(history.filter((m) => m.role === 'assistant' && m.text.includes('asks: Which file')).length, 1, 'the question is relayed once')

  // The store holds the chain: the resumed session, then the interrupted one it continued.
  const store = new SessionStore(env.config.storePath)
  const chain = store.chain(r.resumed.id)
  assert.deepEqual(chain.map((s) => s.id), [r.resumed.id, first])
  assert.equal(chain[0].resumedFromId, first)
  assert.equal(chain[1].status, 'interrupted')
  assert.deepEqual(store.summary(first).map((t) => t.reply).slice(0, 2), ['Nice to meet you, John! Which file should I edit?', 'Your name is John.'])
  // The resumed session's summary carries the conversation on: the old turns, then its own.
  assert.deepEqual(store.summary(r.resumed.id).map((t) => t.prompt), [...store.summary(first).map((t) => t.prompt), "What's my name?"])
  assert.equal(store.summary(r.resumed.id).at(-1).reply, 'Your name is John.')

  // Stopping the gateway stops the live resumed session gracefully; no process is left.
  const pids = [env.gw.child.pid, ...chain.map((s) => s.pid)].filter(Boolean)
  assert.ok(pids.length >= 2, `pids: ${pids}`)
  await env.stop()
  for (const pid of pids) assert.equal(alive(pid), false, `process ${pid} is gone`)
  assert.equal(new SessionStore(env.config.storePath).get(r.resumed.id).status, 'interrupted')
})
