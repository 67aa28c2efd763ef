#!/usr/bin/env node
// Records REAL transcripts of the pinned Claude Code CLI (2.1.197) against the scripted model
// server (openclaw-sessions/testing) on 127.0.0.1, for the Rust parser tests in
// crates/core/tests/claude_fixtures.rs.
//
//   node scripts/record-claude-fixtures.mjs            # all scenarios
//   node scripts/record-claude-fixtures.mjs 02 06      # only scenarios whose name starts so
//
// Output, per scenario, in crates/core/tests/fixtures/claude/:
//   <scenario>.stdout.jsonl   the CLI's stdout lines, verbatim
//   <scenario>.stdin.jsonl    the lines this script wrote to the CLI's stdin
//   <scenario>.stderr.txt     the CLI's stderr (only where a scenario is about it)
// The temp workdir and HOME are rewritten to /home/dev/demo and /home/dev (plain text rewrite,
// also of the escaped project-dir form), and the model server's port to 127.0.0.1:8787, so
// re-running changes ids, timestamps and durations but not the structure.
//
// The script re-runs itself inside a loopback-only network namespace (`unshare -n`, as root, or
// `unshare -rn`) so the CLI cannot reach anything but 127.0.0.1; OCS_NO_UNSHARE=1 skips that.
// Only node builtins and the project's own testing/ module (and test helper) are used.

import { spawn, spawnSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { reexecInNetns, textRewrite } from './lib/recording.mjs'
import { claudeBin, claudeEnv } from '../__test__/helpers/claude.mjs'

const require = createRequire(import.meta.url)
const { startScriptedModel } = require('../testing/index.js')

const SCRIPT = fileURLToPath(import.meta.url)
const ROOT = join(dirname(SCRIPT), '..')
const OUT_DIR = join(ROOT, 'crates', 'core', 'tests', 'fixtures', 'claude')
const PINNED_VERSION = '2.1.197'
const FAKE_WORKDIR = '/home/dev/demo'
const FAKE_HOME = '/home/dev'
const FAKE_MODEL_ADDRESS = '127.0.0.1:8787'
const SCENARIO_TIMEOUT_MS = 90_000
const STEP_TIMEOUT_MS = 45_000

// ---- loopback-only network namespace ---------------------------------------------------------

// ---- one CLI process -------------------------------------------------------------------------

/** The text rewrite applied to everything written out: temp paths become stable fake ones. */
function makeRewrite(ctx) {
  const escape = (p) => p.replace(/[^A-Za-z0-9]/g, '-')
  const pairs = [
    [ctx.workdir, FAKE_WORKDIR],
    [escape(ctx.workdir), escape(FAKE_WORKDIR)],
    [ctx.home, FAKE_HOME],
    [escape(ctx.home), escape(FAKE_HOME)],
    // Error texts quote the gateway address; its port changes on every run.
    [`127.0.0.1:${ctx.model.port}`, FAKE_MODEL_ADDRESS],
  ]
  return textRewrite(pairs)
}

/**
 * Spawns the CLI and gives a scenario what it needs to drive it: `send(obj)` writes one stdin
 * line, `waitFor(pred)` resolves with the first stdout message (from a cursor that only moves
 * forward) matching `pred`, `finish()` closes stdin and waits for the exit.
 */
function startCli(ctx, flags) {
  const child = spawn(claudeBin(), flags, { cwd: ctx.workdir, env: ctx.env, stdio: ['pipe', 'pipe', 'pipe'] })
  const cli = {
    child,
    flags,
    stdoutLines: [],
    messages: [],
    stdinLines: [],
    stderr: '',
    exit: null,
    cursor: 0,
    waiters: new Set(),
  }
  const wake = () => {
    for (const w of [...cli.waiters]) w()
  }
  createInterface({ input: child.stdout, crlfDelay: Infinity }).on('line', (line) => {
    cli.stdoutLines.push(line)
    let msg
    try {
      msg = JSON.parse(line)
    } catch {
      msg = { type: '<not json>', line }
    }
    cli.messages.push(msg)
    wake()
  })
  child.stderr.setEncoding('utf8').on('data', (d) => {
    cli.stderr += d
  })
  child.stdin.on('error', () => {}) // EPIPE when the CLI exits before reading everything
  cli.exited = new Promise((resolve) => {
    child.on('close', (code, signal) => {
      cli.exit = { code, signal }
      wake()
      resolve(cli.exit)
    })
  })

  cli.send = (obj) => {
    const line = JSON.stringify(obj)
    cli.stdinLines.push(line)
    if (child.stdin.writable) child.stdin.write(line + '\n')
  }

  /** The next message (at or after the cursor) matching `pred`; the cursor moves past it. */
  cli.waitFor = (pred, what = 'a matching message', timeoutMs = STEP_TIMEOUT_MS) =>
    new Promise((resolve, reject) => {
      const check = () => {
        for (let i = cli.cursor; i < cli.messages.length; i++) {
          if (pred(cli.messages[i])) {
            cli.cursor = i + 1
            done()
            resolve(cli.messages[i])
            return
          }
        }
        if (cli.exit) {
          done()
          reject(new Error(`CLI exited (${JSON.stringify(cli.exit)}) before ${what}; stderr: ${cli.stderr.trim().slice(0, 500)}`))
        }
      }
      const timer = setTimeout(() => {
        done()
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`))
      }, timeoutMs)
      const done = () => {
        clearTimeout(timer)
        cli.waiters.delete(check)
      }
      cli.waiters.add(check)
      check()
    })

  cli.result = (what = 'the result') => cli.waitFor((m) => m.type === 'result', what)

  cli.finish = async (timeoutMs = STEP_TIMEOUT_MS) => {
    child.stdin.end()
    let timer
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`CLI did not exit within ${timeoutMs} ms after stdin closed`)), timeoutMs)
    })
    try {
      return await Promise.race([cli.exited, timeout])
    } finally {
      clearTimeout(timer)
    }
  }

  cli.kill = () => {
    if (!cli.exit && child.pid) {
      try {
        process.kill(child.pid, 'SIGKILL')
      } catch {}
    }
  }
  return cli
}

const BASE_FLAGS = ['-p', '--input-format', 'stream-json', '--output-format', 'stream-json', '--verbose']

const userLine = (content) => ({
  type: 'user',
  message: { role: 'user', content },
  parent_tool_use_id: null,
  session_id: '',
})

const allow = (req) => ({
  type: 'control_response',
  response: {
    subtype: 'success',
    request_id: req.request_id,
    response: { behavior: 'allow', updatedInput: req.request.input },
  },
})

const isCanUseTool = (m) => m.type === 'control_request' && m.request?.subtype === 'can_use_tool'

// ---- scenarios -------------------------------------------------------------------------------
//
// Each `run(ctx)` gets { model, workdir, home, env, sessionId, start(flags) } and drives one
// CLI process; `stderr: true` also writes <scenario>.stderr.txt.

const SCENARIOS = [
  {
    name: '01-hello',
    about: 'one turn, text reply: system/init, assistant text, result success',
    async run(ctx) {
      ctx.model.enqueue({ text: 'Hello! I am the scripted model.' }, { sessionId: ctx.sessionId })
      const cli = ctx.start(['--session-id', ctx.sessionId])
      cli.send(userLine('Hello'))
      await cli.result()
      return cli
    },
  },
  {
    name: '02-tool-turn',
    about: 'thinking + Bash tool_use, tool_result, final text, result success',
    async run(ctx) {
      ctx.model.enqueue(
        {
          thinking: 'The user wants me to run a command. I will use Bash to echo the word fixture.',
          toolUse: { name: 'Bash', input: { command: 'echo fixture', description: 'Print the word fixture' } },
        },
        { sessionId: ctx.sessionId, prompt: 'run: echo fixture' },
      )
      const cli = ctx.start(['--session-id', ctx.sessionId, '--allowedTools=Bash'])
      cli.send(userLine('run: echo fixture'))
      await cli.result()
      return cli
    },
  },
  {
    name: '03-max-turns',
    about: '--max-turns 1 and a tool call: result error_max_turns',
    async run(ctx) {
      const cli = ctx.start(['--session-id', ctx.sessionId, '--max-turns', '1', '--allowedTools=Bash'])
      cli.send(userLine('run: echo one'))
      await cli.result()
      return cli
    },
  },
  {
    name: '04-api-error',
    about: 'HTTP 400 from the model: synthetic assistant, result is_error with api_error_status 400',
    async run(ctx) {
      ctx.model.enqueue(
        { error: { status: 400, message: 'Scripted bad request: prompt is not acceptable' } },
        { sessionId: ctx.sessionId },
      )
      const cli = ctx.start(['--session-id', ctx.sessionId])
      cli.send(userLine('Hello'))
      await cli.result()
      return cli
    },
  },
  {
    name: '05-resume-unknown',
    about: '--resume of an unknown id: result error_during_execution with errors[], stderr',
    stderr: true,
    async run(ctx) {
      const unknown = randomUUID()
      const cli = ctx.start(['--resume', unknown])
      cli.send(userLine('Hello again'))
      await cli.result()
      return cli
    },
  },
  {
    name: '06-duplex',
    about: 'partial messages, can_use_tool allowed, plain turn, /compact, interrupt, follow-up turn',
    async run(ctx) {
      const { model, sessionId } = ctx
      const notes = join(ctx.workdir, 'NOTES.md')
      model.enqueue(
        { text: 'I will create the file.', toolUse: { name: 'Write', input: { file_path: notes, content: 'notes\n' } } },
        { sessionId, prompt: 'Create NOTES.md' },
      )
      model.enqueue({ text: 'Hello there! How can I help?' }, { sessionId, prompt: 'Say hello' })
      // The /compact summary request (its prompt is the CLI's summarisation instruction).
      model.enqueue(
        { text: '<summary>The user had NOTES.md created and said hello.</summary>' },
        { sessionId, prompt: /summar/i },
      )
      model.enqueue({ stall: { ms: 60000, then: { text: 'This essay came too late.' } } }, { sessionId, prompt: 'long essay' })

      const cli = ctx.start([
        '--session-id',
        sessionId,
        '--include-partial-messages',
        '--permission-prompt-tool',
        'stdio',
      ])
      // Turn 1: the Write tool needs permission: allow it with the input unchanged.
      cli.send(userLine('Create NOTES.md with a short note'))
      const req = await cli.waitFor(isCanUseTool, 'the can_use_tool control request')
      cli.send(allow(req))
      await cli.result('the result of turn 1 (Write)')
      // Turn 2: plain text.
      cli.send(userLine('Say hello'))
      await cli.result('the result of turn 2 (Say hello)')
      // Turn 3: /compact.
      cli.send(userLine('/compact'))
      await cli.result('the result of /compact')
      // Turn 4: the model stalls; interrupt once the stream has started.
      cli.send(userLine('Write a long essay about the repository'))
      await model.waitForRequest({ sessionId, prompt: 'long essay' }, STEP_TIMEOUT_MS)
      await cli.waitFor(
        (m) => m.type === 'stream_event' && m.event?.type === 'message_start',
        'the stalled stream to start',
      )
      cli.send({ type: 'control_request', request_id: 'int-1', request: { subtype: 'interrupt' } })
      await cli.result('the result of the interrupted turn')
      // Turn 5: the session is still usable.
      cli.send(userLine('What did I ask before?'))
      await cli.result('the result of turn 5')
      return cli
    },
  },
  {
    name: '07-two-turns',
    about: 'two turns in one process: result twice, total_cost_usd grows',
    async run(ctx) {
      const cli = ctx.start(['--session-id', ctx.sessionId])
      cli.send(userLine("Hello, I'm John"))
      await cli.result('the result of turn 1')
      cli.send(userLine("What's my name?"))
      await cli.result('the result of turn 2')
      return cli
    },
  },
  {
    name: '08-api-retry',
    about: 'HTTP 529 twice (CLAUDE_CODE_MAX_RETRIES=1): system/api_retry, then an is_error result',
    async run(ctx) {
      ctx.model.enqueue({ error: { status: 529, headers: { 'retry-after': '0' } } }, { sessionId: ctx.sessionId, times: 2 })
      const cli = ctx.start(['--session-id', ctx.sessionId])
      cli.send(userLine('Hello'))
      await cli.result()
      return cli
    },
  },
  {
    name: '09-max-budget',
    about: '--max-budget-usd below the cost of one call: result error_max_budget_usd',
    async run(ctx) {
      const cli = ctx.start(['--session-id', ctx.sessionId, '--max-budget-usd', '0.01', '--allowedTools=Bash'])
      cli.send(userLine('run: echo budget'))
      await cli.result()
      return cli
    },
  },
  {
    name: '10-structured-output',
    about: '--json-schema and a model whose StructuredOutput calls never match the schema',
    async run(ctx) {
      const schema = JSON.stringify({ type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'] })
      ctx.model.enqueue(
        { toolUse: { name: 'StructuredOutput', input: { wrong: 1 } } },
        { sessionId: ctx.sessionId, times: Infinity },
      )
      const cli = ctx.start(['--session-id', ctx.sessionId, '--json-schema', schema])
      cli.send(userLine('Answer in JSON please'))
      await cli.result()
      return cli
    },
  },
  {
    name: '11-initialize-replay',
    about: 'initialize control request and --replay-user-messages: control_response with data, isReplay user line',
    async run(ctx) {
      const cli = ctx.start(['--session-id', ctx.sessionId, '--replay-user-messages'])
      cli.send({ type: 'control_request', request_id: 'init-1', request: { subtype: 'initialize' } })
      await cli.waitFor((m) => m.type === 'control_response', 'the initialize response')
      cli.send(userLine('Hello'))
      await cli.result()
      return cli
    },
  },
]

// ---- running and writing ---------------------------------------------------------------------

/** `system/init`, `stream_event×12`, ... in order of first appearance, with counts. */
function summarize(messages) {
  const counts = new Map()
  for (const m of messages) {
    let key = m.type
    if (m.type === 'system' || m.type === 'result') key += `/${m.subtype}`
    if (m.type === 'control_request') key += `/${m.request?.subtype}`
    if (m.type === 'user') {
      const c = m.message?.content
      const kinds = typeof c === 'string' ? ['text'] : Array.isArray(c) ? c.map((b) => b.type) : ['?']
      key += `(${kinds.join('+')})`
    }
    if (m.type === 'assistant') key += `(${(m.message?.content || []).map((b) => b.type).join('+')})`
    counts.set(key, (counts.get(key) || 0) + 1)
  }
  return [...counts].map(([k, n]) => (n > 1 ? `${k}×${n}` : k)).join(', ')
}

async function runScenario(scenario, model) {
  model.reset()
  const ctx = { ...claudeEnv(model.url), model, sessionId: randomUUID(), cli: null }
  ctx.start = (flags) => {
    if (ctx.cli) throw new Error('one CLI process per scenario')
    ctx.cli = startCli(ctx, [...BASE_FLAGS, ...flags])
    return ctx.cli
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
    const results = cli.messages.filter((m) => m.type === 'result')
    const cost = results.map((r) => r.total_cost_usd).join('→')
    const extra = cli.stderr.trim() && !scenario.stderr ? ` (stderr: ${cli.stderr.trim().split('\n')[0].slice(0, 80)})` : ''
    console.log(
      `${scenario.name}: exit ${cli.exit.code ?? cli.exit.signal}, ${cli.stdoutLines.length} lines, ` +
        `${cli.stdinLines.length} sent, cost ${cost || '-'}: ${summarize(cli.messages)}${extra}`,
    )
    return true
  } catch (err) {
    console.log(`${scenario.name}: FAILED: ${err.message}`)
    if (ctx.cli) console.log(`  seen so far: ${summarize(ctx.cli.messages)}`)
    return false
  } finally {
    clearTimeout(timer)
    if (ctx.cli) {
      ctx.cli.kill()
      await ctx.cli.exited
    }
    ctx.cleanup()
  }
}

function write(scenario, ctx) {
  const rewrite = makeRewrite(ctx)
  const cli = ctx.cli
  for (const f of readdirSync(OUT_DIR)) {
    if (f.startsWith(`${scenario.name}.`)) rmSync(join(OUT_DIR, f))
  }
  const lines = (arr) => (arr.length ? arr.join('\n') + '\n' : '')
  writeFileSync(join(OUT_DIR, `${scenario.name}.stdout.jsonl`), rewrite(lines(cli.stdoutLines)))
  if (cli.stdinLines.length) writeFileSync(join(OUT_DIR, `${scenario.name}.stdin.jsonl`), rewrite(lines(cli.stdinLines)))
  if (scenario.stderr) writeFileSync(join(OUT_DIR, `${scenario.name}.stderr.txt`), rewrite(cli.stderr))
}

async function main() {
  reexecInNetns(SCRIPT)
  const version = spawnSync(claudeBin(), ['--version'], { encoding: 'utf8' }).stdout.trim()
  if (!version.startsWith(PINNED_VERSION)) {
    throw new Error(`expected Claude Code ${PINNED_VERSION}, found ${version || 'nothing'}`)
  }
  const only = process.argv.slice(2)
  const chosen = SCENARIOS.filter((s) => only.length === 0 || only.some((p) => s.name.startsWith(p)))
  if (chosen.length === 0) throw new Error(`no scenario matches ${only.join(' ')}`)
  mkdirSync(OUT_DIR, { recursive: true })
  console.log(`# Claude Code ${version}, writing to ${OUT_DIR}`)
  const model = await startScriptedModel({ maxStallMs: 120000 })
  let failed = 0
  try {
    for (const s of chosen) {
      if (!(await runScenario(s, model))) failed += 1
    }
  } finally {
    await model.close()
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
