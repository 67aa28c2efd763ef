#!/usr/bin/env node
// `npm run demo:gateway`: the main job end to end, offline. The real OpenClaw gateway (under
// Node 24) with this plugin installed from its tarball; its own agent and the real Claude Code
// CLI both on the project's scripted model on 127.0.0.1. A short chat through `chat.send` asks
// the agent for a coding session, answers the session's question through it, interrupts it and
// has it resumed; it prints the conversation as the person sees it, with the agent's tool calls
// and the notifications that woke it, then the resume chain from the session store. Nothing is
// left running and the temp dirs are removed. Exits 0 when every step happened.
//
// It runs in a loopback-only network namespace (`unshare -n`) when the machine allows it, as
// `npm test` does; without one it still only talks to 127.0.0.1. The scenario is
// scripts/lib/gateway-chat.mjs, shared with __test__/gateway/chat-loop.test.mjs.
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { node24 } from './lib/node24.mjs'
import { pluginBuild, pluginDeps } from './plugin.mjs'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const INSIDE = 'OCS_DEMO_IN_NETNS'

/** `unshare` flags that give this user a loopback-only network namespace here, if any. */
function unshareFlags() {
  if (process.env.OCS_NO_UNSHARE === '1') return undefined
  for (const flags of ['-n', '-rn']) {
    if (spawnSync('unshare', [flags, 'true'], { stdio: 'ignore' }).status === 0) return flags
  }
  return undefined
}

if (!process.env[INSIDE]) {
  // What needs the registry comes first: the gateway's Node 24, the plugin's dependencies.
  node24()
  if (!existsSync(join(ROOT, 'plugin', 'node_modules', 'openclaw'))) pluginDeps()
  if (!existsSync(join(ROOT, 'plugin', 'dist', 'index.js'))) pluginBuild()
  const flags = unshareFlags()
  if (flags) {
    console.log(`(in a loopback-only network namespace: unshare ${flags})`)
    const inner = `ip link set lo up 2>/dev/null || true; exec "$0" "$1"`
    const r = spawnSync('unshare', [flags, 'bash', '-c', inner, process.execPath, fileURLToPath(import.meta.url)], {
      stdio: 'inherit',
      env: { ...process.env, [INSIDE]: '1' },
    })
    process.exit(r.status ?? 1)
  }
  console.log("(no network namespace here: 'unshare -n' is not available; everything still talks only to 127.0.0.1)")
}

// The gateway helpers resolve the CLI binaries through the test helpers, which give a test
// process its own OPENCLAW_STATE_DIR unless told it has one: this process opens no default store.
process.env.OCS_TEST_STATE_DIR_SET = '1'
const { alive, removeHome, startGatewayWithModel } = await import('./lib/gateway.mjs')
const { notificationsToAgent, playChat } = await import('./lib/gateway-chat.mjs')

const t0 = Date.now()
const stamp = () => `${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s`
const WHO = { you: 'you', agent: 'agent', tool: '  tool', wake: '  wake', session: '  sess', store: 'store' }
const say = (who, text) => console.log(`${stamp()}  ${(WHO[who] ?? who).padEnd(6)} ${text}`)

let env
let ok = false
let pids = []
let setupMs = 0
let chatMs = 0
try {
  console.log('starting the scripted model, installing the plugin tarball into a fresh gateway home, starting the gateway ...')
  env = await startGatewayWithModel({ agentModel: true })
  setupMs = Date.now() - t0
  say('setup', `gateway ${execFileSync(node24(), ['--version'], { encoding: 'utf8' }).trim()} ready on 127.0.0.1:${env.home.port}, model on ${env.model.url}`)
  console.log('\n--- the chat (you / the gateway\'s agent; indented: its tool calls and the notifications that woke it) ---')
  const r = await playChat({ gw: env.gw, model: env.model, storePath: env.config.storePath, say })
  chatMs = Date.now() - t0 - setupMs
  pids = r.chain.map((s) => s.pid).filter(Boolean)
  const told = notificationsToAgent(env.model)
  console.log(`\nthe agent was woken ${r.wakes.length} times; its model requests carried ${told.length} notifications from the plugin (a repeat would be listed twice):`)
  for (const t of told) console.log(`    ${t}`)
  console.log(`the store holds the chain ${r.chain.map((s) => s.id.slice(0, 8)).reverse().join(' -> ')}`)
  ok = true
} catch (e) {
  console.error(`\ndemo failed: ${e.message}`)
  if (env?.gw) console.error(`gateway output (last 40 lines):\n${env.gw.output().split('\n').slice(-40).join('\n')}`)
} finally {
  const gatewayPid = env?.gw?.child.pid
  await env?.stop()
  const left = [gatewayPid, ...pids].filter((pid) => pid && alive(pid))
  if (left.length > 0) {
    console.error(`still running: ${left.join(', ')}`)
    ok = false
  } else {
    say('setup', 'gateway stopped; no gateway or CLI process is left')
  }
  if (env?.home) removeHome(env.home)
}
const secs = (ms) => `${(ms / 1000).toFixed(1)} s`
console.log(`\n${ok ? 'demo:gateway ok' : 'demo:gateway FAILED'} in ${secs(Date.now() - t0)} (setup ${secs(setupMs)}, chat ${secs(chatMs)})`)
process.exit(ok ? 0 : 1)
