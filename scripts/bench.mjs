#!/usr/bin/env node
// `npm run bench`: the native core next to what the TypeScript managers do, measured in one
// run on this machine. Prints tables (markdown); these are measurements, not tests.
//   BENCH_MB=32 (ingest size per stream), BENCH_ROUNDS=5 (ingest runs), BENCH_SESSIONS=200,1000,
//   BENCH_RUNS=20 (real CLI turns; the replayed turn runs 3x as often)
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { chmodSync, closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { randomUUID } from 'node:crypto'
import { createRequire } from 'node:module'
import os, { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { nodeIngest } from './bench/node-baseline.mjs'
import { acpTable } from './bench/acp.mjs'

const require = createRequire(import.meta.url)
const { SessionManager } = require('../index.js')
const { startScriptedModel, claudeOfflineEnv } = require('../testing/index.js')

const root = fileURLToPath(new URL('..', import.meta.url))
const MB = Number(process.env.BENCH_MB ?? 32)
const SESSIONS = (process.env.BENCH_SESSIONS ?? '200,1000').split(',').map(Number)
const RUNS = Number(process.env.BENCH_RUNS ?? 20)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const dir = mkdtempSync(join(tmpdir(), 'ocs-bench-'))
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const pct = (v, p) => [...v].sort((a, b) => a - b)[Math.min(v.length - 1, Math.round((v.length - 1) * p))]
const median = (v) => pct(v, 0.5)
const f1 = (n) => n.toFixed(1)
const f2 = (n) => n.toFixed(2)

/** Realistic stream-json: the recorded transcripts' lines, cycled with fresh text, to `mb` MB. */
function generate(kind, mb) {
  const fixtures = {
    claude: ['02-tool-turn.stdout.jsonl', '07-two-turns.stdout.jsonl', '06-duplex.stdout.jsonl'].map((f) => join(root, 'crates/core/tests/fixtures/claude', f)),
    'codex-exec': ['03-exec-tool.jsonl', '01-exec-hello.jsonl', '08-exec-web-search.jsonl'].map((f) => join(root, 'crates/core/tests/fixtures/codex', f)),
  }[kind]
  const lines = fixtures.flatMap((f) => readFileSync(f, 'utf8').split('\n').filter(Boolean))
  const isEnd = (l) => (kind === 'claude' ? /"type":"result"/.test(l) : /"type":"turn.completed"/.test(l))
  const out = []
  let bytes = 0
  let turns = 0
  let i = 0
  while (bytes < mb * 1024 * 1024 || !isEnd(out[out.length - 1] ?? '')) {
    let l = lines[i++ % lines.length]
    if (kind === 'claude' && /"type":"text","text":"/.test(l)) l = l.replace(/"text":"[^"]*"/, `"text":"line ${i} of the reply\\nand a second line ${i}"`)
    if (isEnd(l)) turns++
    out.push(l)
    bytes += l.length + 1
  }
  const file = join(dir, `${kind}.jsonl`)
  writeFileSync(file, out.join('\n') + '\n')
  const agent = join(dir, `${kind}-replay.sh`)
  writeFileSync(agent, `#!/bin/sh\nexec cat ${JSON.stringify(file)}\n`)
  chmodSync(agent, 0o755)
  return { file, agent, turns, lines: out.length, mb: bytes / 1024 / 1024 }
}

/** CLK_TCK: /proc's time unit. */
const TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100

/**
 * CPU ms this process and its reaped children used so far (utime + stime + cutime + cstime of
 * /proc/self/stat): the Node thread, the addon's threads, and the agent once it was reaped.
 */
function cpuMs() {
  const stat = readFileSync('/proc/self/stat', 'utf8')
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return ((Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * 1000) / TICKS
}

/** Wall seconds and CPU ms (both processes) of `run`, which must reap what it starts. */
async function measured(run) {
  const c0 = cpuMs()
  const t0 = performance.now()
  await run()
  return { seconds: (performance.now() - t0) / 1000, cpu: cpuMs() - c0 }
}

async function managerIngest(kind, g) {
  const m = new SessionManager({ claudePath: g.agent, codexPath: g.agent, storePath: ':memory:', maxLineBytes: 64 * 1024 * 1024 })
  const r = await measured(async () => {
    const s = await m.spawn({ backend: kind, prompt: 'replay', workdir: dir })
    let info = m.get(s.id)
    while (info.turns < g.turns && !['failed', 'killed'].includes(info.status)) {
      await sleep(1)
      info = m.get(s.id)
    }
    if (info.turns !== g.turns) throw new Error(`${kind}: manager saw ${info.turns} turns, expected ${g.turns}`)
    // The agent has exited once its output is read: wait for the reap, so its CPU is counted.
    const pid = info.pid ?? s.pid
    while (pid !== undefined && existsSync(`/proc/${pid}`)) await sleep(1)
  })
  await m.shutdown({ graceMs: 1000 })
  return r
}

/**
 * The agent's pipe alone: `cat <file> | cat > /dev/null`, its MB/s and CPU ms/MB (both cats).
 * The file goes through 8 times: /proc counts CPU in 10 ms ticks.
 */
async function pipeCost(g) {
  const f = JSON.stringify(g.file)
  const r = await measured(async () => spawnSync('sh', ['-c', `cat ${Array(8).fill(f).join(' ')} | cat > /dev/null`]))
  return { rate: (8 * g.mb) / r.seconds, cpu: r.cpu / (8 * g.mb) }
}

/** CPU ms/MB of `JSON.parse` alone on every line, in this Node: the baseline's own floor. */
function jsonParseCpu(g) {
  const lines = readFileSync(g.file, 'utf8').split('\n').filter(Boolean)
  let best = Infinity
  for (let r = 0; r < 3; r++) {
    const c0 = process.cpuUsage()
    let n = 0
    for (const l of lines) if (JSON.parse(l).type) n++
    const c = process.cpuUsage(c0)
    if (n === 0) throw new Error('no typed lines')
    best = Math.min(best, (c.user + c.system) / 1000)
  }
  return best / g.mb
}

function parseRates(kind, g) {
  const out = execFileSync('cargo', ['bench', '-q', '-p', 'openclaw-sessions-core', '--bench', 'parse', '--', g.file, kind], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
  return JSON.parse(out.trim().split('\n').pop())
}

async function ingestTable() {
  console.log(`\n## Event ingest (${MB} MB of recorded-shape stream per run, best of ${ROUNDS} alternating runs)\n`)
  console.log('CPU is user + sys of both processes (the manager or the Node baseline, and the agent), per MB.\n')
  console.log('| stream | MB | manager MB/s | Node baseline MB/s | vs Node | manager CPU ms/MB | baseline CPU ms/MB | CPU vs Node | cat pipe MB/s | serde_json MB/s | our parser MB/s | manager / serde_json |')
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
  const floors = []
  for (const kind of ['claude', 'codex-exec']) {
    const g = generate(kind, MB)
    // Alternating, so a slow spell of this machine hits both sides alike.
    const mine = { seconds: Infinity, cpu: Infinity }
    const base = { seconds: Infinity, cpu: Infinity }
    const best = (acc, r) => {
      acc.seconds = Math.min(acc.seconds, r.seconds)
      acc.cpu = Math.min(acc.cpu, r.cpu)
    }
    for (let i = 0; i < ROUNDS; i++) {
      best(mine, await managerIngest(kind, g))
      best(base, await measured(() => nodeIngest(g.agent, [], { env: process.env, expectedTurns: g.turns })))
    }
    const pipes = [await pipeCost(g), await pipeCost(g), await pipeCost(g)]
    const pipe = { rate: Math.max(...pipes.map((p) => p.rate)), cpu: Math.min(...pipes.map((p) => p.cpu)) }
    const rates = parseRates(kind, g)
    const m = g.mb / mine.seconds
    const b = g.mb / base.seconds
    const mc = mine.cpu / g.mb
    const bc = base.cpu / g.mb
    console.log(`| ${kind} | ${f1(g.mb)} | ${f1(m)} | ${f1(b)} | ${f1(m / b)}x | ${f1(mc)} | ${f1(bc)} | ${f1(bc / mc)}x less | ${f1(pipe.rate)} | ${f1(rates.serdeJsonMBps)} | ${f1(rates.parserMBps)} | ${f1((100 * m) / rates.serdeJsonMBps)}% |`)
    const ms = (rate) => 1000 / rate
    floors.push({ kind, bc, mc, pipe: pipe.cpu, syntax: ms(rates.syntaxMBps), parser: ms(rates.parserMBps), jsonParse: jsonParseCpu(g), lines: g.lines, turns: g.turns, mb: g.mb })
  }
  console.log('\n### Where the CPU per MB goes: the floor under the manager\n')
  console.log('CPU ms per MB, all from this run. The target is a third of the baseline\'s CPU. The agent\'s pipe is `cat <file> | cat > /dev/null` (both processes). JSON syntax is serde_json reading every line without building anything (`IgnoredAny`); our parser is JSON to events; both on one thread, CPU = wall. The floor is what any manager that reads each line\'s JSON and builds the events it reports pays before any bookkeeping: the pipe plus our parser.\n')
  console.log('| stream | lines per MB | turns per MB | baseline | target (1/3) | manager | agent\'s pipe | JSON syntax only | our parser | floor: pipe + parser | floor / target | Node `JSON.parse` alone |')
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
  for (const f of floors) {
    const floor = f.pipe + f.parser
    console.log(`| ${f.kind} | ${Math.round(f.lines / f.mb)} | ${Math.round(f.turns / f.mb)} | ${f2(f.bc)} | ${f2(f.bc / 3)} | ${f2(f.mc)} | ${f2(f.pipe)} | ${f2(f.syntax)} | ${f2(f.parser)} | ${f2(floor)} | ${f2(floor / (f.bc / 3))}x | ${f2(f.jsonParse)} |`)
  }
}

async function manySessions() {
  for (const n of SESSIONS) await liveSessions(n)
}

async function liveSessions(SESSIONS) {
  const agent = join(dir, `steady-${SESSIONS}.sh`)
  const gate = join(dir, `start-gate-${SESSIONS}`)
  execFileSync('mkfifo', [gate])
  const EVENTS = 10
  // Python, not sh: taking the timestamp must not fork (a forked `date` would add its own
  // scheduling delay to every sample on a busy machine). Every agent waits at a FIFO until all
  // sessions are up: starting ${SESSIONS} interpreters saturates this machine for seconds, and
  // events sent meanwhile would measure the interpreters' start-up, not the delivery.
  writeFileSync(
    agent,
    `#!/usr/bin/env python3
import random, sys, time
sys.stdin.readline()
gate = open(${JSON.stringify(gate)})
sys.stdout.write('{"type":"system","subtype":"bench_ready"}\\n')
sys.stdout.flush()
gate.read()  # blocks until the bench closes its end of the gate
time.sleep(random.random() * 0.2)  # spread over the period: a steady rate
for i in range(${EVENTS}):
    sys.stdout.write('{"type":"assistant","message":{"id":"m","content":[{"type":"text","text":"t=%d"}]}}\\n' % time.time_ns())
    sys.stdout.flush()
    time.sleep(0.2)
sys.stdout.write('{"type":"result","subtype":"success","is_error":false,"num_turns":1,"total_cost_usd":0.001,"usage":{"input_tokens":1,"output_tokens":1}}\\n')
sys.stdout.flush()
sys.stdin.read()
`,
  )
  chmodSync(agent, 0o755)
  const m = new SessionManager({ claudePath: agent, storePath: join(dir, `many-${SESSIONS}.db`), maxSessions: SESSIONS + 10, notifications: { longRunningMs: 0, safetyNetMs: 0 } })
  const latencies = []
  const toCore = []
  let ready = 0
  // Held open (read-write never blocks) until every agent has opened the gate and said so.
  const gateFd = openSync(gate, 'r+')
  m.onEvent((e) => {
    if (e.kind === 'system' && e.subtype === 'bench_ready') ready++
    if (e.kind !== 'assistant-text') return
    const sent = Number(e.text.slice(2)) / 1e6
    latencies.push(performance.timeOrigin + performance.now() - sent)
    toCore.push(e.at - sent)
  })
  global.gc?.()
  const rssBefore = process.memoryUsage().rss
  const ids = []
  const spawnStart = performance.now()
  for (let i = 0; i < SESSIONS; i++) ids.push((await m.spawn({ backend: 'claude', prompt: 'go', workdir: dir })).id)
  const spawnMs = performance.now() - spawnStart
  while (ready < SESSIONS) await sleep(50)
  closeSync(gateFd)
  while (m.stats().byStatus['waiting-for-input'] < SESSIONS) await sleep(50)
  await sleep(300)
  const rssLive = process.memoryUsage().rss
  // Each session holds its child's pipes: `npm run bench` raises the soft limit to the hard one.
  const fds = readdirSync('/proc/self/fd').length
  const fdLimit = /Max open files\s+(\S+)/.exec(readFileSync('/proc/self/limits', 'utf8'))[1]
  const cpu0 = process.cpuUsage()
  const w0 = performance.now()
  await sleep(3000)
  const cpu = process.cpuUsage(cpu0)
  const idleCpu = (100 * (cpu.user + cpu.system)) / 1000 / (performance.now() - w0)
  if (process.env.BENCH_DEBUG) console.log('latency p90/p95/p99/max', [0.9, 0.95, 0.99, 1].map((p) => pct(latencies, p).toFixed(2)).join(' / '), 'first 10', latencies.slice(0, 10).map((l) => l.toFixed(1)).join(' '), 'spawn all ms', spawnMs.toFixed(0), 'agent->core p50/p90/p99', [0.5, 0.9, 0.99].map((p) => pct(toCore, p).toFixed(1)).join(' / '))
  await m.shutdown({ graceMs: 2000 })
  console.log(`\n## ${SESSIONS} live sessions (a light fake agent: ${EVENTS} events 200 ms apart once all are up, then waiting)\n`)
  console.log('| manager RSS beyond the children | CPU while all wait | events delivered to JS | delivery latency p50 | p99 | open fds (limit) |')
  console.log('|---:|---:|---:|---:|---:|---:|')
  console.log(`| ${f1((rssLive - rssBefore) / 1024 / 1024)} MiB (${f1((rssLive - rssBefore) / 1024 / SESSIONS)} KiB per session) | ${idleCpu.toFixed(2)}% of a core | ${latencies.length} | ${latencies.length ? pct(latencies, 0.5).toFixed(2) : '-'} ms | ${latencies.length ? pct(latencies, 0.99).toFixed(2) : '-'} ms | ${fds} (${fdLimit}) |`)
}

/** One turn of `bin`, bare and through a manager, alternating: { bare, managed, diffs } in ms. */
async function compareTurns(bin, extraEnv, cwd, runs) {
  const env = { ...process.env, ...extraEnv }
  const prompt = 'Hello there'
  // The bare CLI gets the command line the manager gives it (docs/protocols.md A1), so the two
  // sides differ only by the manager; the prompt goes in on stdin as a stream-json message.
  const bare = () =>
    new Promise((resolve, reject) => {
      const t0 = performance.now()
      const args = ['-p', '--input-format', 'stream-json', '--output-format', 'stream-json', '--verbose', '--permission-prompt-tool', 'stdio', '--session-id', randomUUID()]
      const p = spawn(bin, args, { cwd, env, stdio: ['pipe', 'pipe', 'ignore'] })
      p.stdin.write(JSON.stringify({ type: 'user', message: { role: 'user', content: prompt }, parent_tool_use_id: null }) + '\n')
      let buf = ''
      let done = false
      p.stdout.on('data', (d) => {
        buf += d
        if (!done && buf.includes('"type":"result"')) {
          done = true
          resolve(performance.now() - t0)
          p.kill('SIGKILL')
        }
      })
      p.on('close', () => done || reject(new Error('no result')))
    })
  const m = new SessionManager({ claudePath: bin, env: extraEnv, storePath: ':memory:' })
  // A fast agent's turn can end before `spawn` resolves: turn ends are noted by session id.
  const ended = new Map()
  let waiter = null
  m.onEvent((e) => {
    if (e.kind !== 'turn-completed') return
    ended.set(e.sessionId, performance.now())
    waiter?.()
  })
  const managed = async () => {
    const t0 = performance.now()
    const { id } = await m.spawn({ backend: 'claude', prompt, workdir: cwd })
    while (!ended.has(id)) await new Promise((r) => (waiter = r))
    const ms = ended.get(id) - t0
    await m.kill(id)
    return ms
  }
  const a = []
  const b = []
  await bare()
  await managed()
  // Alternating, so a slow spell of this machine hits both sides alike.
  for (let i = 0; i < runs; i++) {
    a.push(await bare())
    b.push(await managed())
  }
  await m.shutdown()
  return { bare: a, managed: b, diffs: a.map((x, i) => b[i] - x) }
}

async function realCli() {
  const model = await startScriptedModel()
  const t = claudeOfflineEnv(model.url)
  const { claudeBin } = await import('../__test__/helpers/claude.mjs')
  const real = await compareTurns(claudeBin(), t.env, t.workdir, RUNS)
  await model.close()
  t.cleanup()
  // The same turn replayed by a stand-in that prints the recorded transcript at once: no
  // model, no CLI start-up, so what is left of the difference is the manager's own cost.
  const replay = join(dir, 'replay-turn.sh')
  const transcript = join(root, 'crates/core/tests/fixtures/claude/01-hello.stdout.jsonl')
  writeFileSync(replay, `#!/bin/sh\nread line\ncat ${JSON.stringify(transcript)}\nexec cat > /dev/null\n`)
  chmodSync(replay, 0o755)
  const stand = await compareTurns(replay, {}, dir, RUNS * 3)
  const realBare = median(real.bare)
  const row = (name, r) =>
    `| ${name} | ${r.bare.length} | ${f1(median(r.bare))} ms | ${f1(median(r.managed))} ms | ${f1(median(r.diffs))} ms | ${f1(pct(r.diffs, 0.25))} / ${f1(pct(r.diffs, 0.75))} ms | ${((100 * median(r.diffs)) / realBare).toFixed(2)}% |`
  console.log('\n## One Claude Code turn, bare and through the manager (alternating runs, scripted model)\n')
  console.log('| agent | runs | bare, median | through the manager, median | paired difference, median | p25 / p75 | vs a real turn |')
  console.log('|---|---:|---:|---:|---:|---:|---:|')
  console.log(row('real `claude -p` to its result / to `turn-completed`', real))
  console.log(row('its recorded turn replayed at once (the manager\'s own cost)', stand))
}

function storeTable() {
  const out = execFileSync('cargo', ['bench', '-q', '-p', 'openclaw-sessions-core', '--bench', 'store'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
  console.log('\n## Session store' + out.slice(out.indexOf('\n')))
}

/** CPU seconds (user+sys) of this process's children that have been waited for, from /proc. */
function childCpuSeconds() {
  const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ')
  return (Number(f[13]) + Number(f[14])) / 100 // cutime, cstime (fields 16 and 17) in 1/100 s
}

// Each section runs in its own Node process, so one's garbage does not blur another's memory
// numbers. BENCH_ONLY=ingest,sessions,cli,store,acp runs a subset. The Node-facing sections run
// under this Node (the gateway's plugins run on its Node) and under the pinned Node 24
// (scripts/lib/node24.mjs); BENCH_NODES=current runs only this one. `store` is Rust only: once.
const sections = { ingest: ingestTable, sessions: manySessions, cli: realCli, store: storeTable, acp: acpTable }
const nodeOnce = new Set(['store'])
try {
  const section = process.env.BENCH_SECTION
  if (section) {
    await sections[section]()
  } else {
    const nodes = [process.execPath]
    if ((process.env.BENCH_NODES ?? 'current,24').split(',').includes('24')) {
      const { node24 } = await import('./lib/node24.mjs')
      if (node24() !== process.execPath) nodes.push(node24())
    }
    const versions = nodes.map((n) => execFileSync(n, ['--version'], { encoding: 'utf8' }).trim())
    console.log(`# openclaw-sessions benchmarks (${new Date().toISOString().slice(0, 10)}, node ${versions.join(' and ')}, ${os.cpus().length} cores)`)
    for (const name of (process.env.BENCH_ONLY ?? Object.keys(sections).join(',')).split(',')) {
      for (const [i, node] of (nodeOnce.has(name) ? nodes.slice(0, 1) : nodes).entries()) {
        if (!nodeOnce.has(name)) console.log(`\n### ${name}: node ${versions[i]}`)
        const c0 = childCpuSeconds()
        const w0 = performance.now()
        const r = spawnSync(node, ['--expose-gc', fileURLToPath(import.meta.url)], { stdio: 'inherit', env: { ...process.env, BENCH_SECTION: name } })
        if (r.status !== 0) process.exitCode = 1
        // How busy the machine was: this section's CPU next to its wall time, and the load average.
        console.log(`\n_${name} on node ${versions[i]}: ${f1((performance.now() - w0) / 1000)} s wall, ${f1(childCpuSeconds() - c0)} s CPU (user+sys of the processes it waited for), load average ${os.loadavg().map((l) => l.toFixed(1)).join(' / ')} on ${os.cpus().length} cores_`)
      }
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}
