#!/usr/bin/env node
// Records REAL transcripts of the pinned Codex CLI (0.169.0) against the scripted model server
// (openclaw-sessions/testing) on 127.0.0.1, for the Rust parser tests of the Codex backend.
//
//   node scripts/record-codex-fixtures.mjs            # all scenarios
//   node scripts/record-codex-fixtures.mjs 02 10      # only scenarios whose name starts so
//                                                     # (plus the ones they build on)
//
// Output, per scenario, in crates/core/tests/fixtures/codex/:
//   exec scenarios (`codex exec --json`, one process per turn):
//     <scenario>.jsonl          the CLI's stdout, verbatim
//     <scenario>.stderr.txt     the CLI's stderr, verbatim
//     <scenario>.meta.json      args, exit code / signal, model requests seen
//   app-server scenarios (`codex app-server`, JSON-RPC lines without "jsonrpc"):
//     <scenario>.wire.jsonl     every line in order, as {"dir":">"|"<","msg":<the line>}
//                               (">" = written to the CLI's stdin; the CLI's lines are embedded
//                               verbatim, so quirks such as duplicate keys survive)
//     <scenario>.stderr.txt, <scenario>.meta.json as above
// All scenarios of one run share one HOME / CODEX_HOME / workdir, so resume and fork find the
// earlier threads (a scenario that resumes another one records that one first). The temp
// workdir and HOME are rewritten to /home/dev/demo and /home/dev (plain text rewrite) and the
// model server's port to 127.0.0.1:8787, so re-running changes ids, timestamps and durations
// but not the structure.
//
// The script re-runs itself inside a loopback-only network namespace (`unshare -n`, as root, or
// `unshare -rn`) so the CLI cannot reach anything but 127.0.0.1; OCS_NO_UNSHARE=1 skips that.
// Only node builtins and the project's own testing/ module (and test helper) are used.

import { spawnSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { reexecInNetns } from './lib/recording.mjs'
import { codexBin, codexEnv } from '../__test__/helpers/codex.mjs'
import { CLIENT_INFO, STEP_TIMEOUT_MS, makeRewrite, rpcClient, settle, startCli, threadIdOf, threadOf } from './lib/codex-cli.mjs'

const require = createRequire(import.meta.url)
const { startScriptedModel } = require('../testing/index.js')

const SCRIPT = fileURLToPath(import.meta.url)
const ROOT = join(dirname(SCRIPT), '..')
const OUT_DIR = join(ROOT, 'crates', 'core', 'tests', 'fixtures', 'codex')
const PINNED_VERSION = '0.169.0'
const SCENARIO_TIMEOUT_MS = 90_000

const EXEC_FLAGS = ['exec', '--json', '--skip-git-repo-check']

// ---- scenarios -------------------------------------------------------------------------------
//
// Each `run(ctx)` gets { model, workdir, home, codexHome, env, threads, start(args, opts) } and
// drives one CLI process (`extra` processes may be started with `ctx.startExtra`). It may store
// its thread id in ctx.threads[name] for later scenarios (`needs`).

const SCENARIOS = [
  {
    name: '01-exec-hello',
    kind: 'exec',
    about: 'one turn, text reply: thread.started, turn.started, agent_message, turn.completed (exit 0)',
    async run(ctx) {
      const cli = ctx.start([...EXEC_FLAGS, "Hello, I'm John"])
      await cli.finish()
      ctx.threads['01-exec-hello'] = threadIdOf(cli)
      return cli
    },
  },
  {
    name: '02-exec-resume',
    kind: 'exec',
    needs: ['01-exec-hello'],
    about: "exec resume <thread of 01> \"What's my name?\": same thread id, history sent, cumulative usage",
    async run(ctx) {
      const cli = ctx.start([...EXEC_FLAGS, 'resume', threadOf(ctx, '01-exec-hello'), "What's my name?"])
      await cli.finish()
      return cli
    },
  },
  {
    name: '03-exec-tool',
    kind: 'exec',
    about: 'run: echo fixture with -s workspace-write: command_execution started/completed, then text',
    async run(ctx) {
      const cli = ctx.start([...EXEC_FLAGS, '-s', 'workspace-write', 'run: echo fixture'])
      await cli.finish()
      return cli
    },
  },
  {
    name: '04-exec-400',
    kind: 'exec',
    about: 'scripted HTTP 400: error + turn.failed, exit 1',
    async run(ctx) {
      ctx.model.enqueue(
        { error: { status: 400, message: 'Scripted bad request: prompt is not acceptable' } },
        { prompt: 'Trigger a bad request', times: 5 },
      )
      const cli = ctx.start([...EXEC_FLAGS, 'Trigger a bad request'])
      await cli.finish()
      return cli
    },
  },
  {
    name: '05-exec-500',
    kind: 'exec',
    about: 'scripted HTTP 500 with request_max_retries 0 (queued 5 times; meta.modelRequests tells how often Codex asked)',
    async run(ctx) {
      ctx.model.enqueue(
        { error: { status: 500, message: 'Scripted server error' } },
        { prompt: 'Trigger a server error', times: 5 },
      )
      const cli = ctx.start([...EXEC_FLAGS, 'Trigger a server error'])
      await cli.finish(60_000)
      return cli
    },
  },
  {
    name: '06-exec-sigint',
    kind: 'exec',
    about: 'a stalled turn, then SIGINT: the stream ends after turn.started, no terminal event',
    async run(ctx) {
      ctx.model.enqueue({ stall: { ms: 60_000, then: { text: 'This came too late.' } } }, { prompt: 'Write a long essay' })
      const cli = ctx.start([...EXEC_FLAGS, 'Write a long essay about the repository'])
      await cli.waitFor((m) => m.type === 'turn.started', 'turn.started')
      await ctx.model.waitForRequest({ prompt: 'Write a long essay' }, STEP_TIMEOUT_MS)
      await settle(500)
      cli.signal('SIGINT')
      await cli.finish()
      return cli
    },
  },
  {
    name: '07-exec-resume-unknown',
    kind: 'exec',
    about: 'exec resume <random uuid v4>: exit 1, error on stderr, no thread',
    async run(ctx) {
      const cli = ctx.start([...EXEC_FLAGS, 'resume', randomUUID(), 'Hello again'])
      await cli.finish()
      return cli
    },
  },
  {
    name: '08-exec-web-search',
    kind: 'exec',
    about: 'a web_search_call output item: web_search item (with the duplicate "id" key), then text',
    async run(ctx) {
      ctx.model.enqueue(
        {
          text: "Tokio's docs recommend tokio::signal::ctrl_c for graceful shutdown.",
          toolUse: { name: 'web_search', input: { query: 'tokio graceful shutdown signal handling' } },
        },
        { prompt: 'Search the web' },
      )
      const cli = ctx.start([...EXEC_FLAGS, 'Search the web for tokio graceful shutdown'])
      await cli.finish()
      return cli
    },
  },
  {
    name: '09-exec-fork',
    kind: 'exec',
    needs: ['01-exec-hello'],
    about: "exec fork <thread of 01> \"What's my name?\": a new thread id, history kept",
    async run(ctx) {
      const cli = ctx.start([...EXEC_FLAGS, 'fork', threadOf(ctx, '01-exec-hello'), "What's my name?"])
      await cli.finish()
      return cli
    },
  },
  {
    name: '10-app-server-session',
    kind: 'app-server',
    about: 'handshake, thread/start, two plain turns, a command turn, an interrupted turn, one more turn, stdin closed',
    async run(ctx) {
      const { model } = ctx
      const cli = ctx.start(['app-server'])
      const rpc = rpcClient(cli)
      await rpc.initialize()
      const started = await rpc.call('thread/start', { cwd: ctx.workdir, approvalPolicy: 'never', sandbox: 'workspace-write' })
      const threadId = started.thread.id
      ctx.threads['10-app-server-session'] = threadId
      await rpc.turn(threadId, "Hello, I'm John")
      await rpc.turn(threadId, "What's my name?")
      await rpc.turn(threadId, 'run: echo fixture')
      // A turn the model stalls: interrupt it once the request reached the model.
      model.enqueue({ stall: { ms: 60_000, then: { text: 'This came too late.' } } }, { prompt: 'Write a long essay' })
      const turnId = await rpc.startTurn(threadId, 'Write a long essay about the repository')
      await model.waitForRequest({ prompt: 'Write a long essay' }, STEP_TIMEOUT_MS)
      await settle()
      await rpc.call('turn/interrupt', { threadId, turnId })
      await rpc.completed(turnId)
      await rpc.turn(threadId, 'Are you still there?')
      await settle()
      await cli.finish()
      return cli
    },
  },
  {
    name: '11-app-server-approval',
    kind: 'app-server',
    about: 'approvalPolicy untrusted: two item/commandExecution/requestApproval server requests, one accepted, one declined',
    async run(ctx) {
      const cli = ctx.start(['app-server'])
      const rpc = rpcClient(cli)
      await rpc.initialize()
      const started = await rpc.call('thread/start', { cwd: ctx.workdir, approvalPolicy: 'untrusted', sandbox: 'workspace-write' })
      const threadId = started.thread.id
      for (const [file, decision] of [
        ['approved.txt', 'accept'],
        ['declined.txt', 'decline'],
      ]) {
        const turnId = await rpc.startTurn(threadId, `run: touch ${file}`)
        const req = await rpc.next('item/commandExecution/requestApproval', () => true, `the approval request for ${file}`)
        cli.send({ id: req.id, result: { decision } })
        await rpc.completed(turnId)
        ctx.notes.push(`${file} ${existsSync(join(ctx.workdir, file)) ? 'exists' : 'does not exist'} after ${decision}`)
      }
      await settle()
      await cli.finish()
      return cli
    },
  },
  {
    name: '12-app-server-resume-fork',
    kind: 'app-server',
    needs: ['10-app-server-session'],
    about: "new process: thread/resume of 10's thread, a turn, thread/fork, a turn on the fork",
    async run(ctx) {
      const cli = ctx.start(['app-server'])
      const rpc = rpcClient(cli)
      await rpc.initialize()
      const threadId = threadOf(ctx, '10-app-server-session')
      await rpc.call('thread/resume', { threadId })
      await rpc.turn(threadId, "What's my name?")
      const forked = await rpc.call('thread/fork', { threadId })
      await rpc.turn(forked.thread.id, "What's my name? (asked on the fork)")
      await settle()
      await cli.finish()
      return cli
    },
  },
  {
    name: '13-app-server-errors',
    kind: 'app-server',
    about:
      'thread/resume of an unknown id, turn/start on an unknown thread, turn/interrupt with no active turn, ' +
      'a turn failing with HTTP 400; plus (.uninit.wire.jsonl) a request before initialize, a second initialize, an unknown method',
    async run(ctx) {
      // A short separate process first: requests in the wrong order.
      const early = ctx.startExtra('uninit', ['app-server'])
      const e = rpcClient(early)
      await e.request('thread/start', { cwd: ctx.workdir })
      await e.initialize()
      await e.request('initialize', { clientInfo: CLIENT_INFO, capabilities: null })
      await e.request('thread/frobnicate', {})
      await settle()
      await early.finish()

      const cli = ctx.start(['app-server'])
      const rpc = rpcClient(cli)
      await rpc.initialize()
      await rpc.request('thread/resume', { threadId: randomUUID() })
      await rpc.request('turn/start', {
        threadId: randomUUID(),
        input: [{ type: 'text', text: 'Hello?', text_elements: [] }],
      })
      const started = await rpc.call('thread/start', { cwd: ctx.workdir, approvalPolicy: 'never', sandbox: 'read-only' })
      const threadId = started.thread.id
      await rpc.request('turn/interrupt', { threadId, turnId: randomUUID() })
      ctx.model.enqueue(
        { error: { status: 400, message: 'Scripted bad request: prompt is not acceptable' } },
        { prompt: 'Trigger a bad request', times: 5 },
      )
      await rpc.turn(threadId, 'Trigger a bad request')
      // The thread is still usable after a failed turn.
      await rpc.turn(threadId, 'Hello after the failure')
      await settle()
      await cli.finish()
      return cli
    },
  },
]

// ---- running and writing ---------------------------------------------------------------------

/** `item.completed(agent_message)×2`, `turn/completed(failed)`, ... in order of first appearance. */
function summarize(messages) {
  const counts = new Map()
  for (const m of messages) {
    let key
    if (m.type !== undefined) {
      key = m.type
      if (m.item) key += `(${m.item.type}${m.item.status ? `:${m.item.status}` : ''})`
    } else if (m.method !== undefined) {
      key = m.id !== undefined ? `request:${m.method}` : m.method
      if (m.method === 'turn/completed') key += `(${m.params?.turn?.status})`
      if (m.method.startsWith('item/') && m.params?.item) key += `(${m.params.item.type})`
    } else {
      key = m.error ? `error-response(${m.error.code})` : 'response'
    }
    counts.set(key, (counts.get(key) || 0) + 1)
  }
  return [...counts].map(([k, n]) => (n > 1 ? `${k}×${n}` : k)).join(', ')
}

async function runScenario(scenario, ctx) {
  ctx.model.reset()
  ctx.cli = null
  ctx.extras = []
  ctx.notes = []
  ctx.start = (args) => {
    if (ctx.cli) throw new Error('one main CLI process per scenario')
    ctx.cli = startCli(ctx, args, { stdin: scenario.kind === 'exec' ? 'ignore' : 'pipe' })
    return ctx.cli
  }
  ctx.startExtra = (label, args) => {
    const cli = startCli(ctx, args, { stdin: 'pipe' })
    ctx.extras.push({ label, cli })
    return cli
  }
  let timer
  try {
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`scenario timed out after ${SCENARIO_TIMEOUT_MS} ms`)), SCENARIO_TIMEOUT_MS)
    })
    await Promise.race([
      (async () => {
        const cli = await scenario.run(ctx)
        await cli.finish()
      })(),
      timeout,
    ])
    write(scenario, ctx)
    const cli = ctx.cli
    const extras = ctx.extras.map(({ label, cli: x }) => `; ${label}: exit ${x.exit.code ?? x.exit.signal}: ${summarize(x.messages)}`)
    const notes = ctx.notes.length ? ` [${ctx.notes.join('; ')}]` : ''
    console.log(
      `${scenario.name}: exit ${cli.exit.code ?? cli.exit.signal}, ${cli.stdoutLines.length} lines, ` +
        `${ctx.model.responsesRequests().length} model requests: ${summarize(cli.messages)}${extras.join('')}${notes}`,
    )
    return true
  } catch (err) {
    console.log(`${scenario.name}: FAILED: ${err.message}`)
    if (ctx.cli) console.log(`  seen so far: ${summarize(ctx.cli.messages)}`)
    if (ctx.cli?.stderr) console.log(`  stderr: ${ctx.cli.stderr.trim().split('\n').slice(-5).join('\n          ')}`)
    return false
  } finally {
    clearTimeout(timer)
    for (const cli of [ctx.cli, ...ctx.extras.map((x) => x.cli)]) {
      if (!cli) continue
      cli.kill()
      await cli.exited
    }
  }
}

function meta(scenario, ctx, cli) {
  return {
    about: scenario.about,
    cliVersion: PINNED_VERSION,
    command: ['codex', ...cli.args],
    cwd: ctx.workdir,
    stdin: scenario.kind === 'exec' ? '/dev/null' : 'pipe',
    signalSent: cli.signalSent,
    exitCode: cli.exit.code,
    exitSignal: cli.exit.signal,
    modelRequests: ctx.model.responsesRequests().length,
    notes: ctx.notes.length ? ctx.notes : undefined,
  }
}

function write(scenario, ctx) {
  const rewrite = makeRewrite(ctx)
  const cli = ctx.cli
  for (const f of readdirSync(OUT_DIR)) {
    if (f.startsWith(`${scenario.name}.`)) rmSync(join(OUT_DIR, f))
  }
  const lines = (arr) => (arr.length ? arr.join('\n') + '\n' : '')
  const put = (file, text) => writeFileSync(join(OUT_DIR, file), rewrite(text))
  const json = (obj) => JSON.stringify(obj, null, 2) + '\n'
  if (scenario.kind === 'exec') {
    put(`${scenario.name}.jsonl`, lines(cli.stdoutLines))
  } else {
    put(`${scenario.name}.wire.jsonl`, lines(cli.wire))
  }
  put(`${scenario.name}.stderr.txt`, cli.stderr)
  const m = meta(scenario, ctx, cli)
  if (ctx.extras.length) {
    m.extraProcesses = {}
    for (const { label, cli: x } of ctx.extras) {
      put(`${scenario.name}.${label}.wire.jsonl`, lines(x.wire))
      put(`${scenario.name}.${label}.stderr.txt`, x.stderr)
      m.extraProcesses[label] = { command: ['codex', ...x.args], exitCode: x.exit.code, exitSignal: x.exit.signal }
    }
  }
  put(`${scenario.name}.meta.json`, json(m))
}

/** The chosen scenarios plus the ones they build on, in declaration order. */
function withDependencies(chosen) {
  const names = new Set()
  const add = (s) => {
    for (const dep of s.needs || []) add(SCENARIOS.find((x) => x.name === dep))
    names.add(s.name)
  }
  chosen.forEach(add)
  return SCENARIOS.filter((s) => names.has(s.name))
}

async function main() {
  reexecInNetns(SCRIPT)
  const version = spawnSync(codexBin(), ['--version'], { encoding: 'utf8' }).stdout.trim()
  if (!version.endsWith(PINNED_VERSION)) {
    throw new Error(`expected Codex CLI ${PINNED_VERSION}, found ${version || 'nothing'}`)
  }
  const only = process.argv.slice(2)
  const chosen = SCENARIOS.filter((s) => only.length === 0 || only.some((p) => s.name.startsWith(p)))
  if (chosen.length === 0) throw new Error(`no scenario matches ${only.join(' ')}`)
  mkdirSync(OUT_DIR, { recursive: true })
  console.log(`# ${version}, writing to ${OUT_DIR}`)
  const model = await startScriptedModel({ maxStallMs: 120000 })
  const ctx = { ...codexEnv(model.url), model, threads: {} }
  let failed = 0
  try {
    for (const s of withDependencies(chosen)) {
      if (!(await runScenario(s, ctx))) failed += 1
    }
  } finally {
    await model.close()
    ctx.cleanup()
  }
  if (failed) {
    console.log(`# ${failed} scenario(s) failed`)
    process.exitCode = 1
  }
}

main().catch((err) => {
  console.error(err.stack || String(err))
  process.exitCode = 1
})
