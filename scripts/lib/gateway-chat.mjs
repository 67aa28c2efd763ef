// The main job end to end, as one scenario shared by `npm run demo:gateway` and
// __test__/gateway/chat-loop.test.mjs: a person chats with the real OpenClaw gateway
// (`chat.send` on a session key); the gateway's own agent, on the scripted model, decides to
// launch a Claude Code session with this plugin's tools; the session (the real Claude Code CLI,
// also on the scripted model) runs; each time it waits for input or stops, the plugin's
// notification wakes the agent, which tells the chat; the person answers, interrupts the session
// and has it resumed.
//
// The scripted model plays both models: the agent's replies are queued step by step (a tool call
// through the gateway's `tool_call`, then its text once the tool answered, then what it says
// when a notification wakes it); the session's replies come from the model's default rules, so
// "Your name is John." can only come from a conversation that still holds the first turn.
// Nothing here sleeps: each step waits for the model request it causes (an event of the
// scripted model), and for the chat history to show the agent's reply (polled over the gateway's
// RPC, which the scenario cannot subscribe to).
import { SessionStore } from '../../index.js'
import { until } from './gateway.mjs'

/** The gateway session (conversation) the chat happens in. */
export const CHAT_KEY = 'demo-chat'
/** The name the agent gives the coding session. */
export const SESSION_NAME = 'fix-readme'

/** Whether a logged model request is the gateway agent's (the CLIs' carry a session id). */
export const isAgentRequest = (r) => r.path.split('?')[0] === '/v1/messages' && r.sessionId === null

/** The plugin's system events (`[openclaw-sessions] <notification text>`) a request carries in its prompt. */
export function notificationsIn(r) {
  // The events sit in a JSON string of the gateway's context message, one per line (`\n`).
  return [...(r.prompt ?? '').matchAll(/\[openclaw-sessions\] ((?:[^"\\]|\\[^n])*)/g)].map((m) => JSON.parse(`"${m[1]}"`))
}

/** What the tool said in the tool result a request brings (the gateway wraps it in `tool_call`'s JSON). */
export function toolResultText(r) {
  const messages = r.body.messages
  for (const m of messages.slice(messages.findLastIndex((x) => x.role === 'assistant') + 1)) {
    for (const b of Array.isArray(m.content) ? m.content : []) {
      if (b.type !== 'tool_result') continue
      const text = typeof b.content === 'string' ? b.content : b.content.map((c) => c.text ?? '').join('')
      try {
        return JSON.parse(text).result.content[0].text
      } catch {
        return text
      }
    }
  }
  return undefined
}

/** What a model request brings that is new: its messages after the last assistant message, as JSON. */
export function newInput(r) {
  const messages = r.body.messages
  return JSON.stringify(messages.slice(messages.findLastIndex((m) => m.role === 'assistant') + 1))
}

/**
 * Every plugin notification the gateway's agent was given, in order: for each of its model
 * requests, the notifications that request brings as new input (a later request repeats older
 * ones as history; those are not counted again).
 */
export function notificationsToAgent(model) {
  return model
    .messagesRequests()
    .filter(isAgentRequest)
    .flatMap((r) => notificationsIn(r).filter((t) => newInput(r).includes(JSON.stringify(t).slice(1, -1))))
}

/** The text of each message in the chat's history (what a person sees), oldest first. */
export async function chatHistory(gw, sessionKey = CHAT_KEY) {
  const r = await gw.call('chat.history', { sessionKey })
  if (r.code !== 0) throw new Error(`chat.history failed (${r.code}): ${r.stderr}`)
  return (r.json?.messages ?? [])
    .filter((m) => m.role === 'user' || m.role === 'assistant')
    .map((m) => ({ role: m.role, text: typeof m.content === 'string' ? m.content : m.content.map((c) => c.text ?? '').join('') }))
    .filter((m) => m.text !== '')
}

/**
 * Plays the chat in the gateway session `chatKey`, the agent naming the coding session `name`.
 * `say(who, text)` prints a line as it happens (`you`, `agent`, `tool`, `wake`, `session`,
 * `store`). Resolves with what happened: the transcript (the person's and the agent's messages),
 * the agent's model requests that woke it, the first session and the resumed one (SessionInfo
 * read from the store at `storePath`), and the resume chain as the store holds it (newest
 * first). Rejects with an error naming the step that did not happen within `stepTimeoutMs`
 * (default 120000 ms per step).
 */
export async function playChat({ gw, model, storePath, say = () => {}, stepTimeoutMs = 120_000, chatKey = CHAT_KEY, name = SESSION_NAME }) {
  const transcript = []
  const wakes = []
  let sent = 0

  /** The next agent request from now on for which `pred` holds (waited for as an event). */
  const nextAgentRequest = (pred, what) => {
    const since = model.requests.length
    return model
      .waitForRequest((r) => isAgentRequest(r) && model.requests.indexOf(r) >= since && pred(r), stepTimeoutMs)
      .catch((e) => {
        throw new Error(`${what}: ${e.message}`)
      })
  }
  const agentText = (text) => (r) => r.reply?.kind === 'text' && r.reply.text === text

  /** Waits until the chat history shows `text` from the agent, then prints it as the agent's. */
  const agentSays = async (text) => {
    await until(async () => (await chatHistory(gw, chatKey)).some((m) => m.role === 'assistant' && m.text === text), {
      timeoutMs: stepTimeoutMs,
      what: `the agent's reply in the chat: ${text}`,
    })
    transcript.push({ who: 'agent', text })
    say('agent', text)
  }

  /**
   * The person writes `message`; the agent answers with a call of `tool` (through the gateway's
   * tool catalog, `tool_call`), then with `reply` once the tool answered with `resultRe`.
   */
  const userTurn = async (message, tool, args, resultRe, reply) => {
    model.enqueue({ toolUse: { name: 'tool_call', input: { id: tool, args } } }, { text: message })
    model.enqueue({ text: reply }, { toolResult: resultRe })
    const called = nextAgentRequest((r) => r.reply?.kind === 'tool_use' && r.reply.input?.id === tool, `the agent's ${tool} call`)
    const answered = nextAgentRequest(agentText(reply), `the agent's reply after ${tool}`)
    for (const p of [called, answered]) p.catch(() => {}) // awaited below, after chat.send
    transcript.push({ who: 'you', text: message })
    say('you', message)
    const r = await gw.call('chat.send', { sessionKey: chatKey, message, idempotencyKey: `${chatKey}-${++sent}` })
    if (r.code !== 0) throw new Error(`chat.send failed (${r.code}): ${r.stderr}`)
    await called
    say('tool', `${tool} ${JSON.stringify(args)}`)
    const after = await answered
    say('tool', `-> ${toolResultText(after)}`)
    await agentSays(reply)
  }

  /**
   * A notification matching `re` will wake the agent, which then tells the chat `reply`: the
   * reply is queued now, before the step that causes the notification (the wake can come while
   * that step's chat turn is still finishing). `await`ing the result waits for it.
   */
  const wake = (re, reply) => {
    model.enqueue({ text: reply }, { prompt: re })
    const woken = nextAgentRequest(agentText(reply), `a wake with ${re}`)
    woken.catch(() => {}) // awaited below; a step failing first must not leave it unhandled
    return async () => {
      const r = await woken
      wakes.push(r)
      for (const n of notificationsIn(r)) say('wake', n)
      await agentSays(reply)
    }
  }

  // 1. The person asks for a session; the agent launches it; its first turn ends with a question.
  model.enqueue({ text: 'Nice to meet you, John! Which file should I edit?' }, { prompt: 'Ask me which file to edit.' })
  let woken = wake(new RegExp(`Session ${name} .*Which file should I edit\\?`), `${name} asks: Which file should I edit?`)
  await userTurn(
    'Please start a Claude Code session. Tell it I am John and have it ask me which file to edit.',
    'claude_launch',
    { prompt: "Hello, I'm John. Ask me which file to edit.", name },
    new RegExp(`Launched claude session ${name}`),
    `I started the Claude Code session ${name}; I will tell you when it needs you.`,
  )
  await woken()

  // 2. The person answers through the agent; the session knows what only its first turn was told.
  woken = wake(new RegExp(`Session ${name} is waiting for input\\. Last: Your name is John\\.`), `${name} says: Your name is John.`)
  await userTurn(
    'README.md. And ask it what my name is.',
    'claude_respond',
    { session: name, message: "Edit README.md. What's my name?", user_initiated: true },
    new RegExp(`Sent to ${name}`),
    `Sent to ${name}.`,
  )
  await woken()

  // 3. A long turn, interrupted: the session stops gracefully (`interrupted`, resumable).
  const longTurn = 'Run the whole test suite.'
  model.enqueue({ stall: { ms: 120_000, then: { text: 'All tests passed.' } } }, { prompt: longTurn })
  const running = model.waitForRequest((r) => r.sessionId !== null && r.prompt === longTurn, stepTimeoutMs)
  running.catch(() => {})
  await userTurn(
    'Good. Now have it run the whole test suite.',
    'claude_respond',
    { session: name, message: longTurn, user_initiated: true },
    new RegExp(`Sent to ${name}`),
    `${name} is running the test suite.`,
  )
  await running
  say('session', `${name} is running its long turn (the model stalls)`)
  woken = wake(new RegExp(`Session ${name} was interrupted`), `${name} is interrupted. Say "continue" when you want it back.`)
  await userTurn(
    "That takes too long. Stop it, we'll continue later.",
    'claude_kill',
    { session: name, mode: 'interrupt' },
    /Stopped: claude session .*interrupted/,
    `Stopped ${name}; it can be resumed.`,
  )
  await woken()

  // 4. Continue: a resumed session carries the conversation on; the store links the two.
  woken = wake(new RegExp(`Session ${name} is waiting for input\\. Last: Your name is John\\.`), `${name} (resumed) says: Your name is John.`)
  await userTurn(
    'Continue it, and ask it my name again.',
    'claude_resume',
    { session: name, prompt: "What's my name?" },
    /Resumed [0-9a-f]{8} as claude session/,
    `Resumed ${name} as a new session.`,
  )
  await woken()

  const store = new SessionStore(storePath)
  const resumed = (await store.list({ backend: 'claude' })).findLast((s) => s.resumedFromId && s.name === name)
  if (!resumed) throw new Error(`the store at ${storePath} has no resumed session`)
  const chain = store.chain(resumed.id)
  for (const s of chain) {
    const last = store.summary(s.id).at(-1)
    const from = s.resumedFromId ? `, resumed from ${s.resumedFromId.slice(0, 8)}` : ''
    say('store', `${s.id.slice(0, 8)} ${s.name ?? ''}: ${s.status}, ${s.turns} turns${from}; last turn ${JSON.stringify(last?.prompt)} -> ${JSON.stringify(last?.reply)}`)
  }
  return { transcript, wakes, first: chain.at(-1), resumed, chain }
}
