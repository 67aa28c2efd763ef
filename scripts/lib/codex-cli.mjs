// The Codex CLI as scripts/record-codex-fixtures.mjs drives it: one CLI process with its stdout
// read as JSON lines and every line kept in order, and a thin JSON-RPC client over the
// app-server's stdio. The recorder's scenarios are written against these.
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { textRewrite } from './recording.mjs'
import { codexBin } from '../../__test__/helpers/codex.mjs'

export const FAKE_WORKDIR = '/home/dev/demo'
export const FAKE_HOME = '/home/dev'
export const FAKE_MODEL_ADDRESS = '127.0.0.1:8787'
export const STEP_TIMEOUT_MS = 45_000
export const SETTLE_MS = 300 // lets trailing notifications arrive before stdin is closed
export const CLIENT_INFO = { name: 'openclaw-sessions', title: 'OpenClaw Sessions', version: '0.1.0' }

// ---- one CLI process -------------------------------------------------------------------------

/** The text rewrite applied to everything written out: temp paths become stable fake ones. */
export function makeRewrite(ctx) {
  const pairs = [
    [ctx.workdir, FAKE_WORKDIR],
    [ctx.home, FAKE_HOME],
    // Error texts quote the model server's address; its port changes on every run.
    [`127.0.0.1:${ctx.model.port}`, FAKE_MODEL_ADDRESS],
  ]
  return textRewrite(pairs)
}

/**
 * Spawns the CLI with `args` in the shared workdir. stdout is read as JSON lines; `wire` keeps
 * every line in both directions. `waitFor(pred)` resolves with the first stdout message (from a
 * cursor that only moves forward) matching `pred`; `find(pred)` looks at every message so far
 * and later ones without moving the cursor (for JSON-RPC responses).
 */
export function startCli(ctx, args, { stdin = 'pipe' } = {}) {
  const child = spawn(codexBin(), args, { cwd: ctx.workdir, env: ctx.env, stdio: [stdin, 'pipe', 'pipe'] })
  const cli = {
    child,
    args,
    stdoutLines: [],
    messages: [],
    wire: [],
    stderr: '',
    exit: null,
    cursor: 0,
    waiters: new Set(),
    signalSent: null,
  }
  const wake = () => {
    for (const w of [...cli.waiters]) w()
  }
  createInterface({ input: child.stdout, crlfDelay: Infinity }).on('line', (line) => {
    cli.stdoutLines.push(line)
    let msg
    try {
      msg = JSON.parse(line)
      cli.wire.push(`{"dir":"<","msg":${line}}`)
    } catch {
      msg = { type: '<not json>', line }
      cli.wire.push(JSON.stringify({ dir: '<', raw: line }))
    }
    cli.messages.push(msg)
    wake()
  })
  child.stderr.setEncoding('utf8').on('data', (d) => {
    cli.stderr += d
  })
  if (child.stdin) child.stdin.on('error', () => {}) // EPIPE when the CLI exits before reading everything
  cli.exited = new Promise((resolve) => {
    child.on('close', (code, signal) => {
      cli.exit = { code, signal }
      wake()
      resolve(cli.exit)
    })
  })

  cli.send = (obj) => {
    const line = JSON.stringify(obj)
    cli.wire.push(`{"dir":">","msg":${line}}`)
    if (child.stdin && child.stdin.writable) child.stdin.write(line + '\n')
  }

  const wait = (pred, what, timeoutMs, fromCursor) =>
    new Promise((resolve, reject) => {
      const check = () => {
        for (let i = fromCursor ? cli.cursor : 0; i < cli.messages.length; i++) {
          if (pred(cli.messages[i])) {
            if (fromCursor) cli.cursor = i + 1
            done()
            resolve(cli.messages[i])
            return
          }
        }
        if (cli.exit) {
          done()
          reject(new Error(`CLI exited (${JSON.stringify(cli.exit)}) before ${what}; stderr: ${cli.stderr.trim().slice(-500)}`))
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
  cli.waitFor = (pred, what = 'a matching message', timeoutMs = STEP_TIMEOUT_MS) => wait(pred, what, timeoutMs, true)
  cli.find = (pred, what = 'a matching message', timeoutMs = STEP_TIMEOUT_MS) => wait(pred, what, timeoutMs, false)

  /** Waits for the exit (closing stdin first, if it is a pipe). */
  cli.finish = async (timeoutMs = STEP_TIMEOUT_MS) => {
    if (child.stdin) child.stdin.end()
    let timer
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`CLI did not exit within ${timeoutMs} ms`)), timeoutMs)
    })
    try {
      return await Promise.race([cli.exited, timeout])
    } finally {
      clearTimeout(timer)
    }
  }

  cli.signal = (sig) => {
    cli.signalSent = sig
    child.kill(sig)
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

// ---- JSON-RPC over the app-server's stdio ----------------------------------------------------

/** A thin JSON-RPC client (no "jsonrpc" field, as the app-server wants) over a CLI process. */
export function rpcClient(cli) {
  let nextId = 0
  const rpc = {
    cli,
    /** Sends a request; resolves with the whole response message ({id, result} or {id, error}). */
    async request(method, params) {
      const id = nextId++
      cli.send(params === undefined ? { id, method } : { id, method, params })
      return cli.find((m) => m.id === id && m.method === undefined, `the response to ${method} (id ${id})`)
    },
    /** Like `request`, but returns `result` and throws on an error response. */
    async call(method, params) {
      const res = await rpc.request(method, params)
      if (res.error) throw new Error(`${method} failed: ${JSON.stringify(res.error)}`)
      return res.result
    },
    notify(method, params) {
      cli.send(params === undefined ? { method } : { method, params })
    },
    /** The next notification or server request (cursor-based) with this method and matching `pred`. */
    next(method, pred = () => true, what = method) {
      return cli.waitFor((m) => m.method === method && pred(m), what)
    },
    async initialize() {
      const result = await rpc.call('initialize', { clientInfo: CLIENT_INFO, capabilities: null })
      rpc.notify('initialized')
      return result
    },
    /** Starts a turn; resolves with its id once `turn/start` answered. */
    async startTurn(threadId, text) {
      const result = await rpc.call('turn/start', { threadId, input: [{ type: 'text', text, text_elements: [] }] })
      return result.turn.id
    },
    /** The `turn/completed` notification of `turnId`. */
    completed(turnId) {
      return rpc.next('turn/completed', (m) => m.params?.turn?.id === turnId, `turn/completed of ${turnId}`)
    },
    /** A whole turn: start it and wait for its `turn/completed`. */
    async turn(threadId, text) {
      const turnId = await rpc.startTurn(threadId, text)
      return rpc.completed(turnId)
    },
  }
  return rpc
}

export const settle = (ms = SETTLE_MS) => new Promise((r) => setTimeout(r, ms))

export function threadIdOf(cli) {
  const started = cli.messages.find((m) => m.type === 'thread.started')
  return started ? started.thread_id : null
}

/** The thread id an earlier scenario of this run recorded. */
export function threadOf(ctx, scenario) {
  const id = ctx.threads[scenario]
  if (!id) throw new Error(`scenario ${scenario} recorded no thread id`)
  return id
}
