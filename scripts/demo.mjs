#!/usr/bin/env node
// `npm run demo`: a real Claude Code session through the addon, two turns that prove the
// conversation carries over. Offline by default (the project's scripted model on 127.0.0.1);
// `npm run demo -- --live` with ANTHROPIC_API_KEY set talks to the real API instead.
import { createRequire } from 'node:module'
import { existsSync, mkdtempSync, mkdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'

const require = createRequire(import.meta.url)
const { SessionManager } = require('../index.js')
const { startScriptedModel } = require('../testing/index.js')

const live = process.argv.includes('--live')
if (live && !process.env.ANTHROPIC_API_KEY) {
  console.error('--live needs ANTHROPIC_API_KEY in the environment')
  process.exit(2)
}

function claudePath() {
  if (process.env.CLAUDE_PATH) return process.env.CLAUDE_PATH
  const tries = []
  for (const [pkg, file] of [
    [`@anthropic-ai/claude-code-${process.platform}-${process.arch}`, 'claude'],
    ['@anthropic-ai/claude-code', 'bin/claude.exe'],
  ]) {
    try {
      const p = join(dirname(require.resolve(`${pkg}/package.json`)), file)
      tries.push(p)
      if (existsSync(p)) return p
    } catch {}
  }
  console.error(`Claude Code CLI not found (tried ${tries.join(', ') || 'node_modules'}); run npm install or set CLAUDE_PATH`)
  process.exit(1)
}

const root = mkdtempSync(join(tmpdir(), 'openclaw-sessions-demo-'))
const workdir = join(root, 'work')
mkdirSync(workdir)
let model = null
let env = {}
if (!live) {
  model = await startScriptedModel()
  const home = join(root, 'home')
  mkdirSync(join(home, '.claude'), { recursive: true })
  env = {
    HOME: home,
    CLAUDE_CONFIG_DIR: join(home, '.claude'),
    ANTHROPIC_BASE_URL: model.url,
    ANTHROPIC_API_KEY: 'demo',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_AUTOUPDATER: '1',
    DISABLE_TELEMETRY: '1',
    DISABLE_ERROR_REPORTING: '1',
  }
  console.log(`scripted model listening on ${model.url} (offline; --live uses the real API)`)
} else {
  console.log('live mode: the real Anthropic API, your ANTHROPIC_API_KEY')
}

const t0 = Date.now()
const ms = () => String(Date.now() - t0).padStart(5) + ' ms'
const manager = new SessionManager({ claudePath: claudePath(), env })

manager.onEvent((e) => {
  switch (e.kind) {
    case 'status':
      console.log(`${ms()}  [status]     ${e.previous ?? '-'} -> ${e.status}${e.reason ? ` (${e.reason})` : ''}`)
      break
    case 'init':
      console.log(`${ms()}  [init]       claude ${e.cliVersion ?? ''} model=${e.model} session=${e.backendSessionId}`)
      break
    case 'assistant-text':
      console.log(`${ms()}  [assistant]  ${e.text}`)
      break
    case 'tool-use':
      console.log(`${ms()}  [tool-use]   ${e.name} ${JSON.stringify(e.input)}`)
      break
    case 'turn-completed':
      console.log(
        `${ms()}  [turn ${e.turn}]     ${e.isError ? 'error' : 'ok'} in ${e.durationMs} ms, ` +
          `cost $${e.costUsd.toFixed(6)} (running total $${e.totalCostUsd.toFixed(6)}), ` +
          `${e.usage.inputTokens} in / ${e.usage.outputTokens} out tokens`,
      )
      break
    case 'error':
      console.log(`${ms()}  [error]      ${e.message}`)
      break
    case 'exit':
      console.log(`${ms()}  [exit]       code ${e.exitCode} signal ${e.signal}`)
      break
  }
})

function waitForTurn(id) {
  return new Promise((resolve, reject) => {
    const off = manager.onEvent((e) => {
      if (e.sessionId !== id || e.kind !== 'status') return
      if (e.status === 'waiting-for-input') {
        off()
        resolve(manager.get(id))
      } else if (['failed', 'killed', 'completed', 'interrupted'].includes(e.status)) {
        off()
        reject(new Error(`session ended: ${e.status}: ${manager.get(id).lastError}`))
      }
    })
  })
}

let ok = false
try {
  const first = "Hello, I'm John"
  console.log(`${ms()}  [you]        ${first}`)
  const s = await manager.spawn({ backend: 'claude', prompt: first, workdir, name: 'demo' })
  const turn = waitForTurn(s.id)
  console.log(`${ms()}  [spawned]    id=${s.id} claude session=${s.backendSessionId} pid=${s.pid}`)
  await turn

  const second = "What's my name?"
  const next = waitForTurn(s.id)
  console.log(`${ms()}  [you]        ${second}`)
  await manager.send('demo', second)
  const after = await next
  ok = /John/.test(after.lastAssistantText ?? '')
  console.log(
    ok
      ? `${ms()}  continuity:  the answer names John, so turn 2 saw turn 1`
      : `${ms()}  continuity:  FAILED, the answer was: ${after.lastAssistantText}`,
  )
  if (model) {
    const req = model.messagesRequests().at(-1)
    const carried = JSON.stringify(req.body.messages).includes(first)
    console.log(`${ms()}  model log:   the second request carries the first message: ${carried}`)
    ok = ok && carried
  }

  const closed = await manager.close(s.id)
  console.log('\nfinal session:')
  console.log({
    status: closed.status,
    endReason: closed.endReason,
    exitCode: closed.exitCode,
    turns: closed.turns,
    numTurns: closed.numTurns,
    totalCostUsd: closed.totalCostUsd,
    usage: closed.usage,
    output: manager.output(s.id),
  })
  console.log('\nmanager stats:')
  console.log(manager.stats())
} catch (err) {
  console.error(`demo failed: ${err.code ?? ''} ${err.message}`)
} finally {
  await manager.shutdown()
  if (model) await model.close()
  rmSync(root, { recursive: true, force: true })
}
console.log(`\n${ok ? 'demo ok' : 'demo FAILED'} in ${Date.now() - t0} ms`)
process.exit(ok ? 0 : 1)
