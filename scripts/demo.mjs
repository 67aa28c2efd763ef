#!/usr/bin/env node
// `npm run demo`: real Claude Code and Codex sessions through the addon, two turns each that
// prove the conversation carries over. Offline by default (the project's scripted model on
// 127.0.0.1, the CLIs from node_modules); `npm run demo -- --live` with ANTHROPIC_API_KEY set
// runs the Claude session against the real API instead (and skips Codex).
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
