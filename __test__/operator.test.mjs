// The operator side: the `openclaw-sessions` CLI over a store a real session wrote, metrics,
// logs, and the packed npm package installed into a fresh project.
import test from 'node:test'
import assert from 'node:assert/strict'
import { execFile, execFileSync, spawnSync } from 'node:child_process'
import { promisify } from 'node:util'
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { SessionManager, SessionStore } from '../index.js'
import { startScriptedModel } from 'openclaw-sessions/testing'
import { claudeBin, claudeEnv, waitForStatus } from './helpers/claude.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const execFileAsync = promisify(execFile)
const cli = join(root, 'bin', 'openclaw-sessions.js')
const run = (...args) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' })

test('the CLI lists, shows, chains, tails and collects a store a live manager writes', async () => {
  const model = await startScriptedModel()
  const t = claudeEnv(model.url)
  const dir = mkdtempSync(join(tmpdir(), 'ocs-cli-'))
  const storePath = join(dir, 's.db')
  const m = new SessionManager({ claudePath: claudeBin(), env: t.env, storePath })
  const logs = []
  const offLog = m.onLog((e) => logs.push(e), { level: 'info' })
  try {
    const a = await m.spawn({ backend: 'claude', prompt: "Hello, I'm John", workdir: t.workdir, name: 'john' })
    await waitForStatus(m, a.id, ['waiting-for-input'])
    await m.close(a.id)
    const b = await m.resume(a.id, "What's my name?")
    await waitForStatus(m, b.id, ['waiting-for-input'])
    // The manager is still running (and writing) while the CLI reads.

    const list = JSON.parse(run('list', '--store', storePath, '--json').stdout)
    assert.deepEqual(list.map((s) => s.id), [a.id, b.id])
    const human = run('list', '--store', storePath).stdout
    assert.match(human, /^ID\s+NAME\s+BACKEND\s+STATUS/m)
    assert.match(human, new RegExp(`resumed ${a.id.slice(0, 8)}`))

    const shown = run('show', 'john', '--store', storePath)
    assert.equal(shown.status, 0, shown.stderr)
    assert.match(shown.stdout, /last reply\s+Your name is John\./, 'by name: the newest session called john')
    const chain = JSON.parse(run('chain', b.id, '--store', storePath, '--json').stdout)
    assert.deepEqual(chain.map((s) => s.id), [b.id, a.id])
    const tail = run('tail', a.id, '--store', storePath).stdout
    assert.match(tail, /> Hello, I'm John\n\s+Nice to meet you, John!/)
    const missing = run('show', 'nobody', '--store', storePath)
    assert.equal(missing.status, 1)
    assert.match(missing.stderr, /\[E_NOT_FOUND\]/)
    assert.equal(run('frobnicate', '--store', storePath).status, 2)

    // Retention from the CLI: keep one; the resumed-from ancestor stays as a tombstone.
    await m.close(b.id)
    const gc = JSON.parse(run('gc', '--max', '1', '--store', storePath, '--json').stdout)
    assert.deepEqual(gc, { deleted: 0, tombstoned: 1 })
    assert.equal(new SessionStore(storePath).chain(b.id)[1].evicted, true)

    // Metrics and logs of the same run.
    const metrics = m.metrics()
    assert.match(metrics, /^openclaw_sessions_turns_total 2$/m)
    assert.match(metrics, /^openclaw_sessions_sessions\{status="completed"\} 2$/m)
    assert.match(metrics, /^openclaw_sessions_spawned_total 2$/m)
    assert.match(metrics, /^# TYPE openclaw_sessions_cost_usd_total counter$/m)
    assert.ok(Number(metrics.match(/^openclaw_sessions_cost_usd_total (\S+)$/m)[1]) > 0)
    assert.ok(logs.some((l) => l.message === 'session started' && l.fields.session === a.id && l.level === 'info'))
    assert.throws(() => m.onLog(() => {}, { level: 'loud' }), { code: 'E_INVALID_ARGUMENT', message: /`level` must be error, warn, info, debug or trace/ })
  } finally {
    offLog()
    await m.shutdown()
    await model.close()
    t.cleanup()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('npm pack ships only what consumers need, and the tarball installs and loads in a fresh project', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocs-pack-'))
  try {
    const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: root, encoding: 'utf8' })
    const [info] = JSON.parse(out)
    const files = info.files.map((f) => f.path).sort()
    assert.deepEqual(
      files.filter((f) => !/^testing\/[a-z]+\.js$/.test(f)),
      ['README.md', 'bin/openclaw-sessions.js', 'index.d.ts', 'index.js', 'openclaw-sessions.linux-x64-gnu.node', 'package.json', 'testing/README.md', 'testing/index.d.ts'],
    )
    assert.ok(files.includes('testing/index.js'))

    const project = join(dir, 'consumer')
    execFileSync('mkdir', ['-p', project])
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }))
    execFileSync('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--offline', join(dir, info.filename)], { cwd: project, encoding: 'utf8' })
    const probe = `
      const { SessionManager, SessionStore } = require('openclaw-sessions')
      const { startScriptedModel } = require('openclaw-sessions/testing')
      const m = new SessionManager({ storePath: ':memory:' })
      console.log(JSON.stringify({ stats: m.stats().maxSessions, store: typeof SessionStore, testing: typeof startScriptedModel }))
      m.shutdown()
    `
    const loaded = JSON.parse(execFileSync(process.execPath, ['-e', probe], { cwd: project, encoding: 'utf8' }))
    assert.deepEqual(loaded, { stats: 5, store: 'function', testing: 'function' })
    const bin = spawnSync(join(project, 'node_modules', '.bin', 'openclaw-sessions'), ['--help'], { encoding: 'utf8' })
    assert.match(bin.stdout, /usage: openclaw-sessions/)
    assert.ok(readdirSync(join(project, 'node_modules', 'openclaw-sessions')).includes('index.d.ts'))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('an installed package finds the CLI its project installed, with no path option and from any directory', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocs-consumer-'))
  const model = await startScriptedModel()
  try {
    const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: root, encoding: 'utf8' })
    const project = join(dir, 'consumer')
    mkdirSync(project)
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }))
    execFileSync('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--offline', join(dir, JSON.parse(out)[0].filename)], { cwd: project, encoding: 'utf8' })
    const t = claudeEnv(model.url)
    model.enqueue({ text: 'Nice to meet you, John!' }, { prompt: "Hello, I'm John" })
    const probe = `
      const { SessionManager } = require(${JSON.stringify(join(project, 'node_modules', 'openclaw-sessions'))})
      const m = new SessionManager({ storePath: ':memory:', env: JSON.parse(process.env.CLI_ENV) })
      m.spawn({ backend: 'claude', prompt: "Hello, I'm John", workdir: process.env.WORKDIR, wait: true })
        .then((r) => console.log(JSON.stringify({ text: r.text })), (e) => console.log(JSON.stringify({ code: e.code, message: e.message })))
        .finally(() => m.shutdown())
    `
    // Run from a directory outside the project, with a PATH that has no `claude`.
    const elsewhere = mkdtempSync(join(tmpdir(), 'ocs-elsewhere-'))
    const env = { ...process.env, PATH: dirname(process.execPath), CLI_ENV: JSON.stringify(t.env), WORKDIR: t.workdir }
    delete env.CLAUDE_PATH
    // Asynchronously: the scripted model answers from this process's event loop.
    const run = async () => {
      const { stdout } = await execFileAsync(process.execPath, ['-e', probe], { cwd: elsewhere, env, encoding: 'utf8' })
      return JSON.parse(stdout.trim().split('\n').pop())
    }
    // The optional peer is not installed: E_SPAWN says what to install.
    const missing = await run()
    assert.equal(missing.code, 'E_SPAWN')
    assert.match(missing.message, /npm install @anthropic-ai\/claude-code@\d+\.\d+\.\d+/)
    assert.match(missing.message, /CLAUDE_PATH/)
    // The project installs it (its native package, as npm lays it out): found with no option.
    const native = `claude-code-${process.platform}-${process.arch}`
    mkdirSync(join(project, 'node_modules', '@anthropic-ai'), { recursive: true })
    symlinkSync(join(root, 'node_modules', '@anthropic-ai', native), join(project, 'node_modules', '@anthropic-ai', native))
    assert.deepEqual(await run(), { text: 'Nice to meet you, John!' })
    rmSync(elsewhere, { recursive: true, force: true })
  } finally {
    await model.close()
    rmSync(dir, { recursive: true, force: true })
  }
})
