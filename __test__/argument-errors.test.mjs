// Random JS values (seeded PRNG) thrown at every method of SessionManager and SessionStore:
// each call either works or fails with a documented E_* code; a method that returns a promise
// never throws synchronously (bad input rejects it); nothing crashes Node. Then the specific
// cases of the contract: counts and ms are integers from 0 to Number.MAX_SAFE_INTEGER, NaN and
// Infinity are refused naming the key, deep objects are E_INVALID_ARGUMENT, large ms options work.
import test from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SessionManager, SessionStore } from '../index.js'
import './helpers/claude.mjs' // a throwaway OPENCLAW_STATE_DIR: default stores never touch ~/.openclaw

const CODES = new Set([
  'E_INVALID_ARGUMENT', 'E_NOT_FOUND', 'E_LIMIT', 'E_SPAWN', 'E_STATE', 'E_RESUME_NOT_FOUND',
  'E_FORBIDDEN', 'E_STORE', 'E_PROTOCOL', 'E_TIMEOUT', 'E_AUTO_RESPOND_LIMIT',
])
const seed = Number(process.env.OCS_SEED ?? Date.now() % 1e9)
const scratch = mkdtempSync(join(tmpdir(), 'ocs-args-'))
// Random strings become relative store paths: keep them in the scratch directory.
process.chdir(scratch)

/** mulberry32: a small seeded PRNG. */
function prng(s) {
  return () => {
    s = (s + 0x6d2b79f5) | 0
    let t = Math.imul(s ^ (s >>> 15), 1 | s)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function deep(n) {
  let o = {}
  for (let i = 0; i < n; i++) o = { a: o }
  return o
}

const cyclic = () => {
  const o = { a: 1 }
  o.self = o
  return o
}

/** The random value zoo; `refs` are strings that name real sessions (so calls get further). */
function values(rand, refs) {
  const pick = (xs) => xs[Math.floor(rand() * xs.length)]
  const atoms = [
    undefined, null, NaN, Infinity, -Infinity, -1, 0, -0, 1, 1.5, 2 ** 32, 2 ** 53, 2 ** 64, true, false,
    '', 'x', 'a'.repeat(1 << 20), 'nul\u0000byte', '\ud800', Symbol('s'), 10n, () => {}, async () => {},
    [], [1, 'two'], {}, { unknownKey: 1 }, new Date(0), new Map([[1, 2]]), Buffer.from('hi'),
    deep(200), deep(126), cyclic(), Object.create(null),
    { get boom() { throw new Error('getter boom') } },
    new Proxy({}, { ownKeys() { throw new Error('proxy boom') } }),
    ...refs,
  ]
  const field = () => pick(atoms)
  return () => {
    const r = rand()
    if (r < 0.6) return field()
    if (r < 0.7) return [field(), field()]
    // Objects with known keys of wrong types, so the checks inside options are reached.
    return pick([
      { graceMs: field() }, { lines: field() }, { sinceSeq: field(), kinds: pick([['bogus'], ['status'], field()]) },
      { level: field() }, { userInitiated: field() }, { status: field() }, { fork: field(), onMissing: field() },
      { backend: pick(['claude', 'codex', 'codex-exec', field()]), prompt: field(), workdir: pick([scratch, field()]) },
      { workdir: pick([scratch, field()]), name: field(), prompt: field() },
      { type: pick(['assistant', 'result', field()]), message: field() },
      { behavior: pick(['allow', 'deny', field()]), message: field() }, { maxSessions: field(), closeTimeoutMs: field() },
    ])
  }
}

/** Calls `fn`; returns what went wrong, or null. `async`: the method returns a promise. */
async function check(label, fn, isAsync) {
  let result
  try {
    result = fn()
  } catch (e) {
    if (isAsync) return `${label} threw synchronously: ${e?.code} ${e?.message}`
    return CODES.has(e?.code) ? null : `${label} threw ${e?.code}: ${e?.message}`
  }
  if (!isAsync) {
    if (typeof result === 'function') result() // an unsubscribe function: leave nothing behind
    return null
  }
  if (!(result instanceof Promise)) return `${label} returned ${typeof result}, not a promise`
  let timer
  const outcome = await Promise.race([
    result.then(() => null, (e) => (CODES.has(e?.code) ? null : `${label} rejected ${e?.code}: ${e?.message}`)),
    new Promise((r) => (timer = setTimeout(() => r(`${label} did not settle within 10 s`), 10000))),
  ])
  clearTimeout(timer)
  return outcome
}

function describeArgs(args) {
  return args.map((a) => {
    try {
      if (typeof a === 'string') return JSON.stringify(a.length > 20 ? `${a.slice(0, 20)}…(${a.length})` : a)
      if (typeof a === 'symbol' || typeof a === 'bigint' || typeof a === 'function') return String(a)
      return JSON.stringify(a)?.slice(0, 60) ?? String(a)
    } catch {
      return Object.prototype.toString.call(a)
    }
  }).join(', ')
}

const MANAGER_METHODS = [
  ['spawn', 1, true], ['send', 3, true], ['foreground', 2, true], ['interruptTurn', 1, true], ['close', 1, true],
  ['respondToPermission', 3, true], ['interrupt', 2, true], ['kill', 1, true], ['resume', 3, true],
  ['background', 2, false], ['get', 1, false], ['list', 1, true], ['output', 2, false], ['events', 2, false],
  ['resumeChain', 1, false], ['gc', 0, false], ['metrics', 0, false], ['register', 1, false], ['ingest', 2, false],
  ['stats', 0, false], ['onNotification', 1, false], ['onEvent', 1, false], ['onLog', 2, false],
  ['canResume', 2, false], ['setMetadata', 2, false],
  ['shutdown', 1, true], ['forOwner', 1, false],
]

test(`random values at every SessionManager method give only documented codes (seed ${seed})`, async () => {
  const rand = prng(seed)
  const opts = { storePath: ':memory:', maxSessions: 100, claudePath: join(scratch, 'no-claude'), codexPath: join(scratch, 'no-codex') }
  let m = new SessionManager(opts)
  const ext = m.register({ workdir: scratch, name: 'ext', prompt: 'hi' })
  const next = values(rand, [ext.id, 'ext'])
  const problems = []
  for (let round = 0; round < 40; round++) {
    // The operator's manager, and an owner's handle on it (forOwner): the same methods.
    for (const [who, target] of [['', m], ['forOwner(o).', m.forOwner('o')]]) {
      for (const [name, arity, isAsync] of MANAGER_METHODS) {
        const args = Array.from({ length: Math.floor(rand() * (arity + 2)) }, next)
        const problem = await check(`${who}${name}(${describeArgs(args)})`, () => target[name](...args), isAsync)
        if (problem) problems.push(problem)
      }
    }
    const ctorArgs = [next()]
    const problem = await check(`new SessionManager(${describeArgs(ctorArgs)})`, () => new SessionManager(...ctorArgs), false)
    if (problem) problems.push(problem)
    if (m.stats().live === 0 && rand() < 0.05) m = new SessionManager(opts)
  }
  await m.shutdown()
  assert.deepEqual(problems.slice(0, 20), [], `seed ${seed}: ${problems.length} problems`)
})

test(
  `random values at every SessionStore method give only documented codes (seed ${seed})`,
  async () => {
    const rand = prng(seed)
    // A store only a manager creates; SessionStore opens it read-only.
    await new SessionManager({ storePath: join(scratch, 'store.db') }).shutdown()
    const store = new SessionStore(join(scratch, 'store.db'))
    const next = values(rand, [])
    const problems = []
    for (let round = 0; round < 40; round++) {
      // list() is a promise (read off the JS thread); the others answer at once.
      for (const [name, arity, isAsync] of [['list', 0, true], ['get', 1, false], ['chain', 1, false], ['summary', 1, false], ['gc', 2, false]]) {
        const args = Array.from({ length: Math.floor(rand() * (arity + 2)) }, next)
        const problem = await check(`store.${name}(${describeArgs(args)})`, () => store[name](...args), isAsync)
        if (problem) problems.push(problem)
      }
      const args = [next()]
      const problem = await check(`new SessionStore(${describeArgs(args)})`, () => new SessionStore(...args), false)
      if (problem) problems.push(problem)
    }
    assert.deepEqual(problems.slice(0, 20), [], `seed ${seed}: ${problems.length} problems`)
  },
)

test('counts and ms are integers from 0 to MAX_SAFE_INTEGER, refused naming the argument and the range', async () => {
  const m = new SessionManager({ storePath: ':memory:' })
  const s = m.register({ workdir: scratch, prompt: 'hi' })
  const range = /must be an integer from 0 to 9007199254740991/
  for (const bad of [-1, 1.5, 2 ** 53, '5', true]) {
    await assert.rejects(m.interrupt(s.id, { graceMs: bad }), { code: 'E_INVALID_ARGUMENT', message: new RegExp(`graceMs.*${range.source}`) })
    await assert.rejects(m.shutdown({ graceMs: bad }), { code: 'E_INVALID_ARGUMENT', message: /graceMs/ })
    assert.throws(() => m.output(s.id, { lines: bad }), { code: 'E_INVALID_ARGUMENT', message: new RegExp(`lines.*${range.source}`) })
    assert.throws(() => m.events(s.id, { sinceSeq: bad }), { code: 'E_INVALID_ARGUMENT', message: new RegExp(`sinceSeq.*${range.source}`) })
  }
  for (const bad of [NaN, Infinity, -Infinity]) {
    await assert.rejects(m.interrupt(s.id, { graceMs: bad }), { code: 'E_INVALID_ARGUMENT', message: /`graceMs`: -?(NaN|Infinity) is not a finite number/ })
    assert.throws(() => new SessionManager({ closeTimeoutMs: bad }), { code: 'E_INVALID_ARGUMENT', message: /closeTimeoutMs/ })
  }
  assert.throws(() => m.events(s.id, { kinds: ['bogus'] }), { code: 'E_INVALID_ARGUMENT', message: /status, init, assistant-text/ })
  assert.throws(() => m.onLog(() => {}, { level: 'loud' }), { code: 'E_INVALID_ARGUMENT', message: /level/ })
  assert.throws(() => m.ingest(s.id, deep(200)), { code: 'E_INVALID_ARGUMENT', message: /nested deeper than 127 levels/ })
  assert.throws(() => m.get(42), { code: 'E_INVALID_ARGUMENT', message: /ref must be a string, got number/ })
  // Bad input rejects the promise: .catch() sees it.
  const caught = await m.spawn().catch((e) => e.code)
  assert.equal(caught, 'E_INVALID_ARGUMENT')
  assert.equal(await m.send(s.id).catch((e) => e.message), 'text must be a string, got undefined')
  // The largest counts work, and ms options at or above 2^32 are accepted.
  assert.deepEqual(m.output(s.id, { lines: Number.MAX_SAFE_INTEGER }), [])
  assert.ok(Array.isArray(m.events(s.id, { sinceSeq: Number.MAX_SAFE_INTEGER, kinds: ['status'] })))
  const big = new SessionManager({ storePath: ':memory:', maxPersistedAgeMs: 90 * 86_400_000, finishedTtlMs: 2 ** 40 })
  await big.shutdown()
  await m.shutdown()
})
