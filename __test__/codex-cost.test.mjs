// The estimated cost of Codex sessions (Codex reports tokens, not USD) and stats().byBackend,
// with the real Codex CLI (app-server) against the scripted model on 127.0.0.1.
import test from 'node:test'
import assert from 'node:assert/strict'
import { SessionManager } from '../index.js'
import { startScriptedModel } from 'openclaw-sessions/testing'
import { codexBin, codexEnv } from './helpers/codex.mjs'
import { waitForStatus } from './helpers/claude.mjs'

let model
let t
let m

test.beforeEach(async () => {
  model = await startScriptedModel()
  t = codexEnv(model.url)
})

test.afterEach(async () => {
  await m?.shutdown()
  await model.close()
  t.cleanup()
})

const make = (extra = {}) => (m = new SessionManager({ codexPath: codexBin(), env: t.env, storePath: ':memory:', ...extra }))
const settled = (id) => waitForStatus(m, id, ['waiting-for-input', 'failed', 'completed', 'killed'])
const turns = (id) => m.events(id, { kinds: ['turn-completed'] })

/** USD of `u` (Codex counts: inputTokens includes the cached ones) at `p` per million tokens. */
function priced(u, p) {
  const cached = u.cacheReadInputTokens
  return ((u.inputTokens - cached) * p.inputPerMTok + cached * p.cachedInputPerMTok + u.outputTokens * p.outputPerMTok) / 1e6
}

const close = (a, b) => Math.abs(a - b) < 1e-12

test('codex: each turn is priced from its tokens with the default table (gpt-5), and byBackend adds it up', async () => {
  make()
  const s = await m.spawn({ backend: 'codex', prompt: "Hello, I'm John", workdir: t.workdir, model: 'gpt-5' })
  const first = await settled(s.id)
  assert.equal(first.status, 'waiting-for-input', first.lastError ?? '')
  await m.send(s.id, "What's my name?")
  const info = await settled(s.id)
  assert.equal(info.lastAssistantText, 'Your name is John.')
  assert.equal(info.model, 'gpt-5')
  const gpt5 = { inputPerMTok: 1.25, cachedInputPerMTok: 0.125, outputPerMTok: 10 }
  const [a, b] = turns(s.id)
  assert.ok(a.usage.inputTokens > 0 && a.usage.outputTokens > 0, 'the scripted model reports tokens')
  assert.ok(a.costUsd > 0)
  assert.ok(close(a.costUsd, priced(a.usage, gpt5)), `${a.costUsd} for ${JSON.stringify(a.usage)}`)
  assert.ok(close(b.costUsd, priced(b.usage, gpt5)), 'the second turn is priced by its own tokens (the delta)')
  assert.ok(close(info.totalCostUsd, a.costUsd + b.costUsd))
  assert.ok(close(b.totalCostUsd, info.totalCostUsd), "the event's running total is the session's")
  assert.equal(info.unpriced, false)

  const stats = m.stats()
  assert.deepEqual(Object.keys(stats.byBackend).sort(), ['claude', 'codex', 'codex-exec'])
  const cx = stats.byBackend.codex
  assert.deepEqual([cx.live, cx.total, cx.turns], [1, 1, 2])
  assert.ok(close(cx.totalCostUsd, info.totalCostUsd))
  assert.deepEqual(cx.usage, info.usage)
  assert.deepEqual(stats.byBackend.claude, { live: 0, total: 0, turns: 0, totalCostUsd: 0, usage: { inputTokens: 0, outputTokens: 0, cacheReadInputTokens: 0, cacheCreationInputTokens: 0 } })
  assert.ok(close(stats.totalCostUsd, info.totalCostUsd))
  const metered = Number(/^\w*cost_usd_total (\S+)$/m.exec(m.metrics())[1])
  assert.ok(Math.abs(metered - info.totalCostUsd) < 1e-5, `metrics() carries the estimate: ${metered}`)
})

test('codex: maxBudgetUsd holds a Codex session to its estimated cost', async () => {
  // A price high enough that the first turn's tokens cost more than the budget.
  make({ prices: { 'gpt-5': { inputPerMTok: 1e6, cachedInputPerMTok: 1e6, outputPerMTok: 1e6 } } })
  const s = await m.spawn({ backend: 'codex', prompt: "Hello, I'm John", workdir: t.workdir, model: 'gpt-5', maxBudgetUsd: 0.5 })
  const info = await waitForStatus(m, s.id, ['interrupted', 'failed', 'completed', 'killed'])
  assert.equal(info.status, 'interrupted', info.lastError ?? '')
  assert.equal(info.endReason, 'budget-exhausted')
  assert.ok(info.totalCostUsd >= 0.5, `${info.totalCostUsd}`)
})

test("codex: the caller's prices override the defaults; an unknown model costs 0 and is marked unpriced", async () => {
  const mine = { inputPerMTok: 1000, cachedInputPerMTok: 100, outputPerMTok: 4000 }
  make({ prices: { 'gpt-5': mine } })
  const s = await m.spawn({ backend: 'codex', prompt: "Hello, I'm John", workdir: t.workdir, model: 'gpt-5-2025-08-07' })
  const info = await settled(s.id)
  const [a] = turns(s.id)
  assert.ok(close(a.costUsd, priced(a.usage, mine)), 'a dated name takes its family price, the override')
  assert.ok(close(info.totalCostUsd, a.costUsd))

  const u = await m.spawn({ backend: 'codex', prompt: "Hello, I'm John", workdir: t.workdir, model: 'mystery-model' })
  const unknown = await settled(u.id)
  assert.equal(unknown.status, 'waiting-for-input', unknown.lastError ?? '')
  assert.ok(unknown.usage.inputTokens > 0)
  assert.equal(unknown.totalCostUsd, 0)
  assert.equal(unknown.unpriced, true)
  assert.equal(turns(u.id)[0].costUsd, 0)
})

test('prices: a negative or non-finite price, or an unknown key, is refused', () => {
  const bad = [
    { 'gpt-5': { inputPerMTok: -1, cachedInputPerMTok: 0, outputPerMTok: 0 } },
    { 'gpt-5': { inputPerMTok: 1, cachedInputPerMTok: 0 } },
    { 'gpt-5': { inputPerMTok: 1, cachedInputPerMTok: 0, outputPerMTok: 0, perRequest: 1 } },
  ]
  for (const prices of bad) {
    assert.throws(() => new SessionManager({ prices, storePath: ':memory:' }), { code: 'E_INVALID_ARGUMENT', message: /prices/ })
  }
})
