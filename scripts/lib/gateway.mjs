// The real OpenClaw gateway (`openclaw` pinned in plugin/package.json) under Node 24, in a
// throwaway HOME / OPENCLAW_STATE_DIR, with the plugin installed from the `plugin:pack` tarball
// the way a user installs it (`openclaw plugins install <tgz>`), serving on 127.0.0.1. One copy
// for the gateway tests (__test__/helpers/gateway.mjs adds their suite around it) and for
// `npm run demo:gateway`.
import { spawn, execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { claudeOfflineEnv, codexOfflineEnv, startScriptedModel } from 'openclaw-sessions/testing'
import { node24 } from './node24.mjs'
import { pluginPack } from '../plugin.mjs'
import { claudeBin } from '../../__test__/helpers/claude.mjs'
import { codexBin } from '../../__test__/helpers/codex.mjs'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
export const OPENCLAW = join(ROOT, 'plugin', 'node_modules', 'openclaw', 'openclaw.mjs')
const TOKEN = 'ocs-test-token'

let tarball
/** The plugin tarball, built once per test process by the same code as `npm run plugin:pack`. */
export function pluginTarball() {
  tarball ??= pluginPack()
  return tarball
}

/**
 * The plugin config a user would write to run both CLIs against the scripted model: the
 * binaries, their environment (one HOME with Claude's config dir and CODEX_HOME), the store and
 * the default workdir. Nothing else tells the plugin about the test. Their temp dirs are
 * listed in `home.scratch` (removed by `removeHome`).
 */
export function pluginConfigFor(model, home) {
  const claude = claudeOfflineEnv(model.url)
  const codex = codexOfflineEnv(model.url)
  home.scratch.push(claude.root, codex.root)
  return {
    claudePath: claudeBin(),
    codexPath: codexBin(),
    env: { ...claude.env, ...codex.env, HOME: claude.home },
    storePath: join(home.root, 'sessions.db'),
    defaultWorkdir: claude.workdir,
  }
}

/**
 * The gateway's own agent on the scripted model: a custom provider on the loopback address
 * (`allowPrivateNetwork`), speaking the Anthropic Messages API, as its default model.
 */
export function agentModelConfig(model) {
  return {
    agents: { defaults: { model: { primary: 'scripted/scripted-model' } } },
    models: {
      mode: 'merge',
      providers: {
        scripted: {
          baseUrl: model.url,
          apiKey: 'test',
          api: 'anthropic-messages',
          request: { allowPrivateNetwork: true },
          models: [{ id: 'scripted-model', name: 'Scripted model' }],
        },
      },
    },
  }
}

/** Whether a process exists and is not a zombie (Linux /proc). */
export function alive(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

const stripAnsi = (s) => s.replace(/\x1b\[[0-9;]*m/g, '')

/** Runs the openclaw CLI (Node 24) in `home`; resolves with { code, stdout, stderr }. */
export function openclaw(home, args, { timeoutMs = 120_000 } = {}) {
  return new Promise((resolve) => {
    execFile(node24(), [OPENCLAW, ...args], { env: home.env, timeout: timeoutMs, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (err.code ?? 1) : 0, stdout: stripAnsi(stdout), stderr: stripAnsi(stderr), killed: err?.killed ?? false })
    })
  })
}

/** A gateway home: config file, state dir, temp dir, env. */
export async function gatewayHome() {
  const root = mkdtempSync(join(tmpdir(), 'ocs-gateway-'))
  const stateDir = join(root, '.openclaw')
  mkdirSync(join(root, 'tmp'), { recursive: true })
  mkdirSync(stateDir, { recursive: true })
  const port = await freePort()
  const env = {
    PATH: process.env.PATH,
    HOME: root,
    OPENCLAW_STATE_DIR: stateDir,
    TMPDIR: join(root, 'tmp'),
    NO_COLOR: '1',
    LANG: 'C.UTF-8',
  }
  const configPath = join(stateDir, 'openclaw.json')
  const home = { root, stateDir, port, env, configPath, token: TOKEN, logFile: join(root, 'gateway.log'), scratch: [root] }
  writeConfig(home, {
    gateway: { mode: 'local', bind: 'loopback', port, auth: { mode: 'token', token: TOKEN } },
    logging: { file: home.logFile },
  })
  return home
}

/** Removes the gateway home and the CLIs' temp dirs made for it (once nothing runs in them). */
export function removeHome(home) {
  for (const dir of home.scratch.splice(0)) rmSync(dir, { recursive: true, force: true })
}

export const readConfig = (home) => JSON.parse(readFileSync(home.configPath, 'utf8'))
export const writeConfig = (home, config) => writeFileSync(home.configPath, `${JSON.stringify(config, null, 2)}\n`)

/**
 * Installs the plugin tarball (no registry needed), then writes its config: the install refuses
 * to run while the config names a plugin that is not installed yet.
 */
export async function installPlugin(home, pluginConfig, extra = {}) {
  const r = await openclaw(home, ['plugins', 'install', pluginTarball(), '--force', '--accept-capabilities'])
  if (r.code !== 0) throw new Error(`openclaw plugins install failed (${r.code}):\n${r.stdout}\n${r.stderr}`)
  const config = readConfig(home)
  config.plugins ??= {}
  config.plugins.allow = ['openclaw-sessions']
  config.plugins.entries ??= {}
  config.plugins.entries['openclaw-sessions'] = { enabled: true, config: pluginConfig }
  Object.assign(config, extra)
  writeConfig(home, config)
  return r
}

/**
 * `openclaw gateway run`: resolves once it logged `ready` (or rejects with its output when it
 * exits first or `timeoutMs` passes). The returned handle talks to it over HTTP and RPC.
 */
export function startGateway(home, { timeoutMs = 120_000 } = {}) {
  const child = spawn(node24(), [OPENCLAW, 'gateway', 'run'], { env: home.env, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })))
  const gw = {
    child,
    home,
    exited,
    output: () => output,
    /** POST /tools/invoke: resolves with the parsed JSON body ({ ok, result } or { ok: false, error }). */
    async invoke(tool, args = {}, sessionKey) {
      const body = { tool, args, ...(sessionKey ? { sessionKey } : {}) }
      const res = await fetch(`http://127.0.0.1:${home.port}/tools/invoke`, {
        method: 'POST',
        headers: { authorization: `Bearer ${home.token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
      const json = await res.json()
      return { status: res.status, ...json }
    },
    /** `openclaw gateway call <method> --params <json> --json`. */
    async call(method, params = {}) {
      const r = await openclaw(home, ['gateway', 'call', method, '--params', JSON.stringify(params), '--token', home.token, '--url', `ws://127.0.0.1:${home.port}`, '--json'])
      let json
      try {
        json = JSON.parse(r.stdout)
      } catch {}
      return { ...r, json }
    },
    /** SIGTERM (or `signal`), resolving with the exit once the gateway is gone. */
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      return exited
    },
  }
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`the gateway was not ready after ${timeoutMs} ms:\n${output}`))
    }, timeoutMs)
    const onData = (d) => {
      output += stripAnsi(d.toString())
      if (/\[gateway\] ready\b/.test(output)) {
        clearTimeout(timer)
        resolve(gw)
      }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    exited.then(({ code, signal }) => {
      clearTimeout(timer)
      reject(new Error(`the gateway exited (${code ?? signal}) before it was ready:\n${output}`))
    })
  })
}

/**
 * Polls `probe` (async, returns a value or undefined) until it returns a value, or fails after
 * `timeoutMs`. For gateway state read over HTTP / RPC, which the tests cannot subscribe to;
 * model requests are awaited as events (`model.waitForRequest`) instead.
 */
export async function until(probe, { timeoutMs = 60_000, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs
  let last
  for (;;) {
    try {
      const v = await probe()
      if (v !== undefined && v !== false) return v
    } catch (e) {
      last = e
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last.message}` : ''}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

/**
 * Everything a gateway test file or the gateway demo runs on: the scripted model on 127.0.0.1, a
 * gateway home with the plugin installed from its tarball and configured for the model (with
 * `agentModel`, the gateway's own agent on it too), and the running gateway. `stop()` stops the
 * gateway (its plugin stops every session) and then the model; it is safe to call twice, and
 * after a failed start it stops what did start.
 */
export async function startGatewayWithModel({ agentModel = false } = {}) {
  const env = { model: undefined, home: undefined, config: undefined, gw: undefined }
  env.stop = async () => {
    await env.gw?.stop()
    await env.model?.close()
  }
  try {
    env.model = await startScriptedModel()
    env.home = await gatewayHome()
    env.config = pluginConfigFor(env.model, env.home)
    await installPlugin(env.home, env.config, agentModel ? agentModelConfig(env.model) : {})
    env.gw = await startGateway(env.home)
  } catch (e) {
    await env.stop()
    throw e
  }
  return env
}
