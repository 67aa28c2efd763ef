// `BENCH_ONLY=acp`: the cost per session of this addon next to the gateway's ACP path (issue 18,
// item 2). N concurrent sessions of the same two-turn conversation ("Hello, I'm John", then
// "What's my name?") against the scripted model on 127.0.0.1, through
//   - this addon (SessionManager, Claude Code and Codex CLIs),
//   - the Claude Code ACP adapter (`@zed-industries/claude-code-acp`, Claude Code through the
//     Agent SDK, pointed at the project's pinned CLI with CLAUDE_CODE_EXECUTABLE),
//   - the Codex ACP adapter (`@zed-industries/codex-acp`, Codex built into the adapter),
// the adapters driven over ACP (stdio JSON-RPC) by `@agentclientprotocol/sdk`'s client (the
// gateway runs the acpx runtime inside its own process, so its client side is a library in a
// Node process, as here), and through the `acpx` CLI (`acpx --agent <adapter> sessions new`,
// then `acpx prompt -s` per turn). Each path runs in a driver process of its own
// (acp-driver.mjs); this process serves the model and samples the driver's process tree.
//   BENCH_ACP_N=1,10,50   BENCH_ACPX_MAX_N=10   BENCH_ACP_TIMEOUT_S=300
//   BENCH_ACP_PATHS=addon-claude,acp-claude,acpx-claude,addon-codex,acp-codex,acpx-codex
//   BENCH_ACP_SAMPLE_MS=1000: the /proc sampling period. This process also serves the model, and
//   reading ~100 processes' smaps_rollup every 100 ms slowed its answers at N = 50. Sessions stay
//   up until the last sample, so their peak is seen; a process that exits between two samples
//   (acpx's one per call) loses the CPU it used since the last one, so acpx's CPU is a lower bound.
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { sampleTree } from './procs.mjs'

const require = createRequire(import.meta.url)
const root = fileURLToPath(new URL('../..', import.meta.url))
const driver = fileURLToPath(new URL('./acp-driver.mjs', import.meta.url))
const version = (pkg) => JSON.parse(readFileSync(join(root, 'node_modules', pkg, 'package.json'), 'utf8')).version
const pct = (v, p) => [...v].sort((a, b) => a - b)[Math.min(v.length - 1, Math.round((v.length - 1) * p))]
const f0 = (n) => n.toFixed(0)
const f1 = (n) => n.toFixed(1)

/** The processes that are the agent itself (and what it runs), not the path's own. */
const isCli = (p) => p.comm === 'claude' || p.comm === 'codex' || /\/(claude(\.exe)?|codex) /.test(`${p.cmd} `)

async function binaries() {
  const { claudeBin } = await import('../../__test__/helpers/claude.mjs')
  return {
    claudeBin: claudeBin(),
    codexBin: join(dirname(require.resolve(`@openai/codex-linux-x64/package.json`)), 'vendor/x86_64-unknown-linux-musl/bin/codex'),
    claudeAcp: require.resolve('@zed-industries/claude-code-acp/dist/index.js'),
    acpx: join(root, 'node_modules/acpx/dist/cli.js'),
    codexAcp: join(dirname(require.resolve(`@zed-industries/codex-acp-${process.platform}-${process.arch}/package.json`)), 'bin/codex-acp'),
  }
}

/** Runs one driver, sampling its tree until its sessions are done; `{ results, usage }`. */
function runDriver(path, n, cfg) {
  return new Promise((resolve, reject) => {
    // acpx's queue owner leaves the driver's process tree: the tag in the environment finds it.
    const tag = `BENCH_ACP_TAG=${process.pid}-${path}-${n}-${Date.now()}`
    const child = spawn(process.execPath, [driver, path, String(n)], { cwd: root, env: { ...process.env, BENCH_ACP_ENV: JSON.stringify(cfg), BENCH_ACP_TAG: tag.split('=')[1] }, stdio: ['pipe', 'pipe', 'inherit'] })
    const sampler = sampleTree(child.pid, isCli, Number(process.env.BENCH_ACP_SAMPLE_MS ?? 1000), tag)
    let out = ''
    let results = null
    let usage = null
    child.stdout.on('data', (d) => {
      out += d
      if (results || !out.includes('\n')) return
      results = JSON.parse(out.slice(0, out.indexOf('\n'))).results
      sampler.sampleNow()
      usage = sampler.stop()
      child.stdin.end('go\n')
    })
    child.on('error', reject)
    child.on('exit', (code) => (results ? resolve({ results, usage }) : reject(new Error(`${path} x${n}: driver exited ${code} without results`))))
  })
}

export async function acpTable() {
  const { startScriptedModel, claudeOfflineEnv, codexOfflineEnv } = require('../../testing/index.js')
  const ns = (process.env.BENCH_ACP_N ?? '1,10,50').split(',').map(Number)
  const paths = (process.env.BENCH_ACP_PATHS ?? 'addon-claude,acp-claude,acpx-claude,addon-codex,acp-codex,acpx-codex').split(',')
  // acpx runs on Node >= 22.13 only (its engines, and commander 15's); each of its sessions
  // starts the adapter twice, a queue owner, and one acpx process per prompt: N <= 10 by default.
  const [major, minor] = process.versions.node.split('.').map(Number)
  const acpxRuns = major > 22 || (major === 22 && minor >= 13)
  const acpxMax = Number(process.env.BENCH_ACPX_MAX_N ?? 10)
  const bins = await binaries()
  const model = await startScriptedModel()
  const idle = (await runDriver('idle', 0, {})).usage
  const rows = []
  try {
    for (const n of ns) {
      for (const path of paths) {
        const claude = path.endsWith('claude')
        if (path.startsWith('acpx-') && (!acpxRuns || n > acpxMax)) {
          rows.push({ path, n, skipped: acpxRuns ? `not run: N > BENCH_ACPX_MAX_N (${acpxMax})` : `not run: acpx ${version('acpx')} needs Node >= 22.13` })
          continue
        }
        // Each Claude Code CLI needs ~250 MB, a Codex ~150 MB: never push this shared machine into swap.
        const need = n * (claude ? 300 : 200) + 3072
        const avail = Number(/MemAvailable:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))[1]) / 1024
        if (avail < need) {
          rows.push({ path, n, skipped: `skipped: ${f0(avail)} MiB available, wants ${need}` })
          continue
        }
        const e = claude ? claudeOfflineEnv(model.url) : codexOfflineEnv(model.url)
        try {
          const { results, usage } = await runDriver(path, n, { ...bins, env: e.env, workdir: e.workdir })
          // A session that failed, or whose second answer does not name John, is counted apart.
          const ok = results.filter((r) => !r.error && /John/.test(r.text[1] ?? ''))
          const errors = results.filter((r) => !ok.includes(r)).map((r) => r.error ?? `answered ${JSON.stringify(r.text)}`)
          if (errors.length) console.error(`${path} x${n}: ${errors.length} sessions failed, e.g. ${errors[0]}`)
          rows.push({ path, n, results: ok, errors, usage })
        } finally {
          // A CLI the adapter stopped may still be writing its files for a moment.
          for (let i = 0; i < 10; i++) {
            try {
              e.cleanup()
              break
            } catch {
              await new Promise((r) => setTimeout(r, 300))
            }
          }
        }
      }
    }
  } finally {
    await model.close()
  }
  const names = {
    'addon-claude': 'this addon → Claude Code',
    'acp-claude': 'claude-code-acp → Claude Code (Agent SDK)',
    'acpx-claude': '`acpx` CLI → claude-code-acp → Claude Code',
    'addon-codex': 'this addon → Codex (`app-server`)',
    'acpx-codex': '`acpx` CLI → codex-acp',
    'acp-codex': 'codex-acp (Codex built in)',
  }
  console.log(`\n## Per session: this addon next to the ACP adapters (N concurrent two-turn sessions, scripted model, node ${process.version})\n`)
  console.log(`Versions: claude-code ${version('@anthropic-ai/claude-code')}, codex ${version('@openai/codex')}, @zed-industries/claude-code-acp ${version('@zed-industries/claude-code-acp')} (its Agent SDK ${version('@zed-industries/claude-code-acp/node_modules/@anthropic-ai/claude-agent-sdk')}), @zed-industries/codex-acp ${version('@zed-industries/codex-acp')}, @agentclientprotocol/sdk ${version('@agentclientprotocol/sdk')} (client side), acpx ${version('acpx')}. "Own" is everything the path starts beyond the CLI: for the addon its Node process minus a bare Node (${f1(idle.rssKiB.rest / 1024)} MiB, ${idle.cpuS.rest.toFixed(2)} s CPU), for ACP the client's Node process minus the same plus the adapter processes; for acpx the driver (a bare Node, subtracted) plus every acpx process (one per call, a queue owner per session) and the adapters; the gateway runs the acpx runtime inside its own process instead. Memory is the peak PSS of the process tree (shared pages split among the processes sharing them), sampled every ${process.env.BENCH_ACP_SAMPLE_MS ?? 1000} ms; CPU is user+sys from /proc. Times are medians (p90) over the N sessions; turn 1 counts from asking for the session, so it includes the start-up.\n`)
  console.log('| N | path | sessions ok | turn 1: first token | turn 1: end | turn 2: first token | turn 2: end | own memory / session | own CPU / session | CLI memory / session | CLI CPU / session |')
  console.log('|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
  for (const { path, n, results, usage, skipped, errors } of rows) {
    if (skipped) {
      console.log(`| ${n} | ${names[path]} | ${skipped} | | | | | | | | |`)
      continue
    }
    const col = (k, turn) => {
      const v = results.map((r) => r[k][turn])
      if (!v.length) return '-'
      return `${f0(pct(v, 0.5))} (${f0(pct(v, 0.9))}) ms`
    }
    const ownRss = (usage.rssKiB.rest - idle.rssKiB.rest) / 1024 / n
    const ownCpu = (usage.cpuS.rest - idle.cpuS.rest) / n
    console.log(`| ${n} | ${names[path]} | ${results.length}/${n} | ${col('firstToken', 0)} | ${col('turnEnd', 0)} | ${col('firstToken', 1)} | ${col('turnEnd', 1)} | ${f1(ownRss)} MiB | ${(ownCpu * 1000).toFixed(0)} ms | ${path.endsWith('codex') && !path.startsWith('addon') ? 'built in | built in' : `${f1(usage.rssKiB.cli / 1024 / n)} MiB | ${((usage.cpuS.cli * 1000) / n).toFixed(0)} ms`} |`)
  }
  for (const { path, n, errors } of rows) if (errors?.length) console.log(`\n${names[path]}, N = ${n}: ${errors.length} failed; first: ${errors[0]}`)
}
