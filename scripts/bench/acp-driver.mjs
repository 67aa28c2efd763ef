// One path of the ACP comparison, run as its own process so the bench can sample its process
// tree: N concurrent sessions of the same two-turn conversation, all at once.
//   node acp-driver.mjs <addon-claude|addon-codex|acp-claude|acp-codex|acpx-claude|acpx-codex|idle> <N>
// Reads BENCH_ACP_ENV (JSON: the offline env and workdir); prints one JSON line of results.
import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { performance } from 'node:perf_hooks'
import { Readable, Writable } from 'node:stream'

const require = createRequire(import.meta.url)
const [path, nArg] = process.argv.slice(2)
const N = Number(nArg)
const cfg = JSON.parse(process.env.BENCH_ACP_ENV ?? '{}')
export const TURNS = ["Hello, I'm John", "What's my name?"]
// Codex reports an unknown model slug as a warning item that codex-acp streams as message text
// (the addon reports it as an error item): not the model's first token, so it is skipped.
const isNotice = (text) => /^Model metadata for `/.test(text)

/** Per session and turn: ms from the prompt to the first text chunk, and to the turn's end. */
function newTiming() {
  return { firstToken: [], turnEnd: [], text: [] }
}

/** A session that fails or takes longer than BENCH_ACP_TIMEOUT_S (300) becomes `{ error }`. */
function guarded(run) {
  const ms = Number(process.env.BENCH_ACP_TIMEOUT_S ?? 300) * 1000
  let timer
  const timeout = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer in ${ms / 1000} s`)), ms)))
  return Promise.race([run(), timeout]).then(
    (r) => (clearTimeout(timer), r),
    (e) => (clearTimeout(timer), { error: String(e?.message ?? e).slice(0, 300) }),
  )
}

async function addon(backend) {
  const { SessionManager } = require('../../index.js')
  const m = new SessionManager({ env: cfg.env, storePath: ':memory:', maxSessions: N + 10, claudePath: cfg.claudeBin, codexPath: cfg.codexBin })
  // Events can arrive before `spawn` resolves: note them by session id and look them up after.
  const seen = new Map()
  const waiters = new Map()
  const failed = new Map()
  m.onEvent((e) => {
    if (e.kind === 'status' && ['failed', 'killed', 'completed', 'interrupted'].includes(e.status)) {
      failed.set(e.sessionId, `${e.status}: ${m.get(e.sessionId)?.lastError ?? ''}`)
      waiters.get(e.sessionId)?.()
    }
    if (e.kind !== 'assistant-text' && e.kind !== 'turn-completed') return
    if (e.kind === 'assistant-text' && isNotice(e.text)) return
    const s = seen.get(e.sessionId) ?? seen.set(e.sessionId, { first: [], end: [], text: [] }).get(e.sessionId)
    const now = performance.now()
    if (e.kind === 'assistant-text') {
      if (s.first.length === s.end.length) s.first.push(now)
      s.text[s.end.length] = (s.text[s.end.length] ?? '') + e.text
    } else {
      s.end.push(now)
      waiters.get(e.sessionId)?.()
    }
  })
  const turnEnded = (id, k) =>
    new Promise((resolve, reject) => {
      const chk = () => ((seen.get(id)?.end.length ?? 0) >= k ? resolve() : failed.has(id) ? reject(new Error(failed.get(id))) : waiters.set(id, chk))
      chk()
    })
  const one = async () => {
    const t = newTiming()
    const t0 = performance.now()
    const { id } = await m.spawn({ backend, prompt: TURNS[0], workdir: cfg.workdir })
    await turnEnded(id, 1)
    const t1 = performance.now()
    await m.send(id, TURNS[1])
    await turnEnded(id, 2)
    const s = seen.get(id)
    for (const [k, start] of [t0, t1].entries()) {
      t.firstToken.push(s.first[k] - start)
      t.turnEnd.push(s.end[k] - start)
      t.text.push(s.text[k])
    }
    return t
  }
  const results = await Promise.all(Array.from({ length: N }, () => guarded(one)))
  process.stdout.write(JSON.stringify({ results, ready: true }) + '\n')
  await new Promise((r) => process.stdin.once('data', r)) // the bench samples once more, then says go
  await m.shutdown({ graceMs: 2000 })
}

async function acp(kind) {
  const acpSdk = await import('@agentclientprotocol/sdk')
  const { client, methods, ndJsonStream, PROTOCOL_VERSION } = acpSdk
  const children = []
  const one = async () => {
    const t = newTiming()
    const t0 = performance.now()
    const [cmd, args] = kind === 'claude' ? [process.execPath, [cfg.claudeAcp]] : [cfg.codexAcp, []]
    const env = { PATH: process.env.PATH, ...cfg.env, ...(kind === 'claude' ? { CLAUDE_CODE_EXECUTABLE: cfg.claudeBin } : {}) }
    const child = spawn(cmd, args, { cwd: cfg.workdir, env, stdio: ['pipe', 'pipe', 'ignore'] })
    children.push(child)
    const stream = ndJsonStream(Writable.toWeb(child.stdin), Readable.toWeb(child.stdout))
    let first = null
    let text = ''
    const app = client({ name: 'openclaw-sessions-bench' })
      .onNotification(methods.client.session.update, ({ params }) => {
        const u = params.update
        if (u.sessionUpdate === 'agent_message_chunk' && u.content?.type === 'text' && !isNotice(u.content.text)) {
          first ??= performance.now()
          text += u.content.text
        }
      })
      .onRequest(methods.client.session.requestPermission, ({ params }) => ({ outcome: { outcome: 'selected', optionId: params.options[0].optionId } }))
    const conn = app.connect(stream)
    const agent = conn.agent
    await agent.request(methods.agent.initialize, { protocolVersion: PROTOCOL_VERSION, clientCapabilities: {} })
    const { sessionId } = await agent.request(methods.agent.session.new, { cwd: cfg.workdir, mcpServers: [] })
    let start = t0
    for (const prompt of TURNS) {
      first = null
      text = ''
      await agent.request(methods.agent.session.prompt, { sessionId, prompt: [{ type: 'text', text: prompt }] })
      const end = performance.now()
      t.firstToken.push(first - start)
      t.turnEnd.push(end - start)
      t.text.push(text)
      start = performance.now()
    }
    return { t, conn }
  }
  const done = await Promise.all(Array.from({ length: N }, () => guarded(one)))
  process.stdout.write(JSON.stringify({ results: done.map((d) => d.t ?? d), ready: true }) + '\n')
  await new Promise((r) => process.stdin.once('data', r))
  for (const d of done) d.conn?.close()
  await Promise.all(
    children.map((c) => new Promise((r) => {
      if (c.exitCode !== null || c.signalCode !== null) return r()
      const hard = setTimeout(() => c.kill('SIGKILL'), 5000)
      c.once('exit', () => (clearTimeout(hard), r()))
      c.kill('SIGTERM')
    })),
  )
}

/** The same conversation through the `acpx` CLI: a named session, then one `acpx prompt` per turn. */
async function acpx(kind) {
  const agent = kind === 'claude' ? `${process.execPath} ${cfg.claudeAcp}` : cfg.codexAcp
  // The tag lets the bench find acpx's queue owner, which leaves this process's tree.
  const env = { PATH: process.env.PATH, BENCH_ACP_TAG: process.env.BENCH_ACP_TAG, ...cfg.env, ...(kind === 'claude' ? { CLAUDE_CODE_EXECUTABLE: cfg.claudeBin } : {}) }
  const run = (args, onLine) =>
    new Promise((resolve, reject) => {
      const c = spawn(process.execPath, [cfg.acpx, '--agent', agent, '--cwd', cfg.workdir, '--approve-all', '--format', 'json', ...args], { cwd: cfg.workdir, env, stdio: ['ignore', 'pipe', 'pipe'] })
      let buf = ''
      let err = ''
      c.stderr.on('data', (d) => (err = (err + d).slice(-2000)))
      c.stdout.on('data', (d) => {
        err = (err + d).slice(-2000)
        buf += d
        let i
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i)
          buf = buf.slice(i + 1)
          try {
            onLine?.(JSON.parse(line))
          } catch {}
        }
      })
      c.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`acpx ${args.join(' ')}: exit ${code}: ${err}`))))
    })
  const one = async (i) => {
    const t = newTiming()
    const name = `bench-${i}`
    let start = performance.now()
    await run(['sessions', 'new', '--name', name])
    for (const prompt of TURNS) {
      let first = null
      let text = ''
      await run(['prompt', '-s', name, prompt], (m) => {
        const u = m.params?.update
        if (m.method === 'session/update' && u?.sessionUpdate === 'agent_message_chunk' && u.content?.type === 'text' && u.content.text && !isNotice(u.content.text)) {
          first ??= performance.now()
          text += u.content.text
        }
      })
      const end = performance.now()
      t.firstToken.push(first - start)
      t.turnEnd.push(end - start)
      t.text.push(text)
      start = performance.now()
    }
    return { t, name }
  }
  const done = await Promise.all(Array.from({ length: N }, (_, i) => guarded(() => one(i))))
  process.stdout.write(JSON.stringify({ results: done.map((d) => d.t ?? d), ready: true }) + '\n')
  await new Promise((r) => process.stdin.once('data', r))
  await Promise.all(Array.from({ length: N }, (_, i) => run(['sessions', 'close', `bench-${i}`]).catch(() => {})))
}

if (path === 'idle') {
  // A bare Node of the same version: the baseline subtracted from each path's own Node process.
  process.stdout.write(JSON.stringify({ results: [], ready: true }) + '\n')
  await new Promise((r) => process.stdin.once('data', r))
} else if (path.startsWith('addon-')) await addon(path.slice(6))
else if (path.startsWith('acpx-')) await acpx(path.slice(5))
else await acp(path.slice(4))
process.exit(0)
