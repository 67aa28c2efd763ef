#!/usr/bin/env node
// `npm run demo`: real Claude Code and Codex sessions through the addon, two turns each that
// prove the conversation carries over; then what the addon adds beyond a conversation, on a
// Claude session: the debounced `waiting-for-input` notification, `interruptTurn` (the session
// goes on), a graceful `interrupt()` (`interrupted`, resumable), `resume()` and its
// `resumeChain`, and the manager's stats. Offline by default (the project's scripted model on
// 127.0.0.1, the CLIs from node_modules); `npm run demo -- --live` with ANTHROPIC_API_KEY set
// runs the Claude conversation against the real API instead (and skips Codex and the rest).
// `npm run demo:gateway` shows the same sessions driven from a chat through the OpenClaw gateway.
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const { SessionManager } = require('../index.js')
const { startScriptedModel, claudeOfflineEnv, codexOfflineEnv } = require('../testing/index.js')

const live = process.argv.includes('--live')
if (live && !process.env.ANTHROPIC_API_KEY) {
  console.error('--live needs ANTHROPIC_API_KEY in the environment')
  process.exit(2)
}

const t0 = Date.now()
const ms = () => String(Date.now() - t0).padStart(5) + ' ms'

function print(tag, e) {
  const say = (what, text) => console.log(`${ms()}  ${tag.padEnd(11)} ${what.padEnd(11)} ${text}`)
  switch (e.kind) {
    case 'status':
      return say('[status]', `${e.previous ?? '-'} -> ${e.status}${e.reason ? ` (${e.reason})` : ''}`)
    case 'init':
      return say('[init]', `session/thread ${e.backendSessionId}${e.model ? ` model=${e.model}` : ''}`)
    case 'assistant-text':
      return say('[assistant]', e.text)
    case 'tool-use':
      return say('[tool-use]', `${e.name} ${JSON.stringify(e.input)}`)
    case 'turn-completed':
      return say(
        `[turn ${e.turn}]`,
        `${e.isError ? 'error' : e.subtype} in ${e.durationMs} ms, cost $${e.costUsd.toFixed(6)}, ` +
          `${e.usage.inputTokens} in / ${e.usage.outputTokens} out tokens`,
      )
    case 'error':
      return e.fatal ? say('[error]', e.message) : undefined
    case 'exit':
      return say('[exit]', `code ${e.exitCode} signal ${e.signal}`)
  }
}

/** Two turns through one session; true when the second answer proves the first arrived. */
async function conversation(manager, backend, workdir, model) {
  const tag = `[${backend}]`
  const off = manager.onEvent((e) => {
    if (manager.get(e.sessionId).backend === backend) print(tag, e)
  })
  const turnEnd = (id) =>
    new Promise((resolve, reject) => {
      const stop = manager.onEvent((e) => {
        if (e.sessionId !== id || e.kind !== 'status') return
        if (e.status === 'waiting-for-input') {
          stop()
          resolve(manager.get(id))
        } else if (['failed', 'killed', 'completed', 'interrupted'].includes(e.status)) {
          stop()
          reject(new Error(`session ended: ${e.status}: ${manager.get(id).lastError}`))
        }
      })
    })
  try {
    const first = "Hello, I'm John"
    console.log(`${ms()}  ${tag.padEnd(11)} [you]       ${first}`)
    const s = await manager.spawn({ backend, prompt: first, workdir, name: `demo-${backend}` })
    console.log(`${ms()}  ${tag.padEnd(11)} [spawned]   id=${s.id} backend session=${s.backendSessionId}`)
    if (s.status !== 'waiting-for-input') await turnEnd(s.id)

    const second = "What's my name?"
    const next = turnEnd(s.id)
    console.log(`${ms()}  ${tag.padEnd(11)} [you]       ${second}`)
    await manager.send(s.id, second)
    const after = await next
    let ok = /John/.test(after.lastAssistantText ?? '')
    if (model) {
      const reqs = backend === 'claude' ? model.messagesRequests() : model.responsesRequests()
      const body = reqs.at(-1).body
      ok = ok && JSON.stringify(body.messages ?? body.input).includes(first)
    }
    const closed = await manager.close(s.id)
    console.log(
      `${ms()}  ${tag.padEnd(11)} ${ok ? 'continuity ok: the answer names John and the second request carried the first turn' : 'continuity FAILED'}`,
    )
    console.log(
      `${ms()}  ${tag.padEnd(11)} final: ${closed.status}, ${closed.turns} turns, $${closed.totalCostUsd.toFixed(6)}, ` +
        `${closed.usage.inputTokens} in / ${closed.usage.outputTokens} out tokens, output ${JSON.stringify(manager.output(s.id))}\n`,
    )
    return ok
  } finally {
    off()
  }
}

/** Session `id` once a `status` event brings it to one of `statuses` (with `orNow`: or if it is there already). */
function statusOf(manager, id, statuses, { orNow = false } = {}) {
  if (orNow && statuses.includes(manager.get(id).status)) return Promise.resolve(manager.get(id))
  return new Promise((resolve) => {
    const off = manager.onEvent((e) => {
      if (e.sessionId === id && e.kind === 'status' && statuses.includes(e.status)) {
        off()
        resolve(manager.get(id))
      }
    })
  })
}

/**
 * Beyond a conversation, on one Claude session: a debounced `waiting-for-input` notification,
 * `interruptTurn` of a long turn (the session goes on and still knows the first turn), a
 * graceful `interrupt()` of another (`interrupted`), `resume()` whose new session answers from
 * the old conversation, its `resumeChain`, and the stats. True when each of those happened.
 */
async function beyond(model, claude) {
  const tag = '[addon]'
  const say = (what, text) => console.log(`${ms()}  ${tag.padEnd(11)} ${what.padEnd(11)} ${text}`)
  const debounceMs = 5000
  const m = new SessionManager({ env: claude.env, storePath: ':memory:', notifications: { fallbackChannel: 'demo', waitingDebounceMs: debounceMs } })
  const notes = []
  let turnEndedAt = 0
  const noted = []
  m.onNotification((n) => {
    notes.push(n)
    const after = n.kind === 'waiting-for-input' ? ` (${Date.now() - turnEndedAt} ms after the turn ended)` : ''
    say('[notify]', `${n.kind}${after}: ${n.text}`)
    for (const w of noted.filter((x) => x.kind === n.kind)) {
      noted.splice(noted.indexOf(w), 1)
      w.resolve(n)
    }
  })
  const nextNotification = (kind) => new Promise((resolve) => noted.push({ kind, resolve }))
  m.onEvent((e) => {
    if (e.kind === 'turn-completed') {
      turnEndedAt = Date.now()
      say(`[turn ${e.turn}]`, `${e.subtype}: ${JSON.stringify(m.get(e.sessionId).lastAssistantText)}`)
    }
  })
  const checks = []
  const check = (ok, what) => {
    checks.push(ok)
    say(ok ? '[ok]' : '[FAILED]', what)
  }
  try {
    let waiting = nextNotification('waiting-for-input')
    const s = await m.spawn({ backend: 'claude', prompt: "Hello, I'm John", workdir: claude.workdir, name: 'demo-addon' })
    say('[spawned]', `${s.name} ${s.id}; the notification waits ${debounceMs} ms for the session to go on by itself`)
    const n1 = await waiting
    check(n1.kind === 'waiting-for-input' && Date.now() - turnEndedAt >= debounceMs - 250, 'waiting-for-input came once the debounce passed')

    // A long turn (the scripted model stalls on "sleep N"), cancelled with interruptTurn.
    const stalled = model.waitForRequest({ prompt: 'sleep 60000' })
    await m.send(s.id, 'Please sleep 60000 ms.')
    await stalled
    say('[running]', 'the model stalls; interruptTurn() cancels this turn only')
    const back = statusOf(m, s.id, ['waiting-for-input'])
    await m.interruptTurn(s.id)
    check((await back).status === 'waiting-for-input', 'after interruptTurn the session waits for input again')
    const answered = statusOf(m, s.id, ['waiting-for-input'])
    await m.send(s.id, "What's my name?")
    check(/John/.test((await answered).lastAssistantText ?? ''), 'and still knows the first turn')

    // Another long turn, stopped gracefully: `interrupted`, resumable.
    const stalled2 = model.waitForRequest((r) => r.prompt === 'Please sleep 60001 ms.')
    await m.send(s.id, 'Please sleep 60001 ms.')
    await stalled2
    waiting = nextNotification('interrupted')
    const stopped = await m.interrupt(s.id)
    say('[interrupt]', `status ${stopped.status}, endReason ${stopped.endReason}, forcedStop ${stopped.forcedStop}`)
    check(stopped.status === 'interrupted' && (await waiting).kind === 'interrupted', 'interrupt() stopped it gracefully: interrupted, and notified')

    // resume(): a new session continues the conversation; the store links them.
    const r = await m.resume(s.id, "What's my name?")
    const resumedAnswer = await statusOf(m, r.id, ['waiting-for-input'], { orNow: true })
    say('[resumed]', `${r.id} (resumedFromId ${r.resumedFromId}): ${JSON.stringify(resumedAnswer.lastAssistantText)}`)
    check(r.resumedFromId === s.id && /John/.test(resumedAnswer.lastAssistantText ?? ''), 'the resumed session answers from the old conversation')
    const chain = m.resumeChain(r.id)
    say('[chain]', chain.map((x) => `${x.id.slice(0, 8)} ${x.status} ${x.turns} turns`).join('  <-  '))
    check(chain.length === 2 && chain[1].id === s.id, 'resumeChain: the new session, then the one it resumed')
    await m.close(r.id)
    const st = m.stats()
    say('[stats]', JSON.stringify({ total: st.total, live: st.live, spawned: st.spawned, turns: st.turns, totalCostUsd: st.totalCostUsd, byStatus: st.byStatus }))
    check(st.spawned === 2 && st.live === 0, 'stats: two processes spawned, none live')
    const keys = notes.map((n) => n.key)
    check(new Set(keys).size === keys.length, `${notes.length} notifications (${[...new Set(notes.map((n) => n.kind))].join(', ')}), each key once; no waiting-for-input when the next message came within the debounce`)
  } finally {
    await m.shutdown()
  }
  return checks.every(Boolean)
}

let model = null
const envs = []
let ok = true
const manager = (env) => new SessionManager({ env, storePath: ':memory:' })
const managers = []
try {
  if (live) {
    console.log('live mode: Claude Code against the real Anthropic API (your ANTHROPIC_API_KEY)\n')
    const m = new SessionManager({ storePath: ':memory:' })
    managers.push(m)
    const { workdir, cleanup } = claudeOfflineEnv('http://127.0.0.1:9')
    envs.push({ cleanup })
    ok = await conversation(m, 'claude', workdir, null)
  } else {
    model = await startScriptedModel()
    console.log(`scripted model on ${model.url} (offline; the CLIs come from node_modules)\n`)
    const claude = claudeOfflineEnv(model.url)
    const codex = codexOfflineEnv(model.url)
    envs.push(claude, codex)
    const mc = manager(claude.env)
    const mx = manager(codex.env)
    managers.push(mc, mx)
    ok = (await conversation(mc, 'claude', claude.workdir, model)) && ok
    ok = (await conversation(mx, 'codex', codex.workdir, model)) && ok
    ok = (await beyond(model, claude)) && ok
    console.log('manager stats (claude):', JSON.stringify(mc.stats()))
    console.log('manager stats (codex): ', JSON.stringify(mx.stats()))
  }
} catch (err) {
  ok = false
  console.error(`demo failed: ${err.code ?? ''} ${err.message}`)
} finally {
  for (const m of managers) await m.shutdown()
  if (model) await model.close()
  for (const e of envs) e.cleanup()
}
console.log(`\n${ok ? 'demo ok' : 'demo FAILED'} in ${Date.now() - t0} ms`)
process.exit(ok ? 0 : 1)
