// Containment (issue 16): every process a Claude session starts — its Bash tool's command runs in
// a process group of its own, and a grandchild may setsid — is gone after kill(), after a close
// that times out, and after SIGKILL of Node plus a new manager (restart recovery). Checked in
// /proc by command line, independently of the marker variable the manager itself uses.
// Run with OPENCLAW_SESSIONS_CONTAINMENT=subreaper to test the fallback where cgroups are usable.
import test from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SessionManager } from '../index.js'
import { startScriptedModel } from 'openclaw-sessions/testing'
import { claudeBin, claudeEnv } from './helpers/claude.mjs'
import { eventually, processesOfSession, processesWithArgv } from './helpers/procs.mjs'

/** Running (a zombie is not: under a subreaper, the dead CLI may wait for its new parent). */
function alive(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')
  } catch {
    return false
  }
}

const expected = process.env.OPENCLAW_SESSIONS_CONTAINMENT ?? 'cgroup'
let n = 0

/** A prompt whose scripted turn runs `sleep <a>` in the foreground and `setsid sleep <b>`. */
function scriptJobs(model) {
  n += 1
  const tag = `${process.pid % 1000}${n}`
  const fg = `7777.${tag}1`
  const bg = `7777.${tag}2`
  const prompt = `start jobs ${tag}`
  model.enqueue({ toolUse: { input: { command: `setsid sleep ${bg} >/dev/null 2>&1 & sleep ${fg}` } } }, { prompt })
  return { prompt, fg: `sleep ${fg}`, bg: `sleep ${bg}` }
}

async function jobsRunning(jobs) {
  await eventually(
    () => processesWithArgv(jobs.fg).length === 1 && processesWithArgv(jobs.bg).length === 1,
    'both tool commands to run',
    30000,
  )
  // The setsid one is in a session (and group) of its own: signalling the CLI's group misses it.
}

async function noneLeft(jobs, id) {
  await eventually(
    () => processesWithArgv(jobs.fg).length + processesWithArgv(jobs.bg).length + processesOfSession(id).length === 0,
    `no process of session ${id} left (left: ${[...processesWithArgv(jobs.fg), ...processesWithArgv(jobs.bg), ...processesOfSession(id)]})`,
    5000,
  )
}

test('kill() ends the tool command and its setsid grandchild', async () => {
  const model = await startScriptedModel()
  const t = claudeEnv(model.url)
  const manager = new SessionManager({ claudePath: claudeBin(), env: t.env, storePath: ':memory:' })
  try {
    const jobs = scriptJobs(model)
    const s = await manager.spawn({ backend: 'claude', prompt: jobs.prompt, workdir: t.workdir, allowedTools: ['Bash'] })
    assert.equal(s.containment, expected)
    await jobsRunning(jobs)
    const killed = await manager.kill(s.id)
    assert.equal(killed.status, 'killed')
    await noneLeft(jobs, s.id)
  } finally {
    await manager.shutdown()
    await model.close()
    t.cleanup()
  }
})

test('a close that times out ends every process of the session', async () => {
  const model = await startScriptedModel()
  const t = claudeEnv(model.url)
  const manager = new SessionManager({ claudePath: claudeBin(), env: t.env, storePath: ':memory:', closeTimeoutMs: 500 })
  try {
    const jobs = scriptJobs(model)
    const s = await manager.spawn({ backend: 'claude', prompt: jobs.prompt, workdir: t.workdir, allowedTools: ['Bash'] })
    await jobsRunning(jobs)
    const closed = await manager.close(s.id)
    assert.equal(closed.status, 'killed')
    assert.equal(closed.endReason, 'close-timeout')
    await noneLeft(jobs, s.id)
  } finally {
    await manager.shutdown()
    await model.close()
    t.cleanup()
  }
})

test('after SIGKILL of Node, a new manager recovers the session and kills what it left', async () => {
  const model = await startScriptedModel()
  const t = claudeEnv(model.url)
  const storePath = join(mkdtempSync(join(tmpdir(), 'ocs-contain-')), 'sessions.db')
  const jobs = scriptJobs(model)
  const child = join(import.meta.dirname, 'helpers', 'contain-child.mjs')
  const p = spawn(process.execPath, [child], {
    env: {
      ...process.env,
      OCS_CHILD_CONFIG: JSON.stringify({ claudePath: claudeBin(), env: t.env, workdir: t.workdir, storePath, prompt: jobs.prompt }),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  try {
    const spawned = await new Promise((resolve, reject) => {
      let out = ''
      p.stdout.on('data', (d) => {
        out += d
        const line = out.split('\n').find((l) => l.includes('"spawned"'))
        if (line) resolve(JSON.parse(line))
      })
      p.on('exit', () => reject(new Error(`child exited early: ${out}`)))
    })
    assert.equal(spawned.containment, expected)
    await jobsRunning(jobs)
    p.kill('SIGKILL')
    // The CLI dies with Node (PR_SET_PDEATHSIG); the tool's commands do not, by themselves.
    await eventually(() => p.exitCode !== null || p.signalCode !== null, 'the child to exit')
    await eventually(() => !alive(spawned.pid), 'the CLI to die with Node (PR_SET_PDEATHSIG)')
    assert.ok(processesWithArgv(jobs.bg).length === 1, 'the setsid grandchild outlived Node, to be found by recovery')
    const next = new SessionManager({ claudePath: claudeBin(), env: t.env, storePath })
    try {
      const info = next.get(spawned.spawned)
      assert.equal(info.status, 'interrupted')
      assert.equal(info.endReason, 'manager-restart')
      await noneLeft(jobs, spawned.spawned)
    } finally {
      await next.shutdown()
    }
  } finally {
    p.kill('SIGKILL')
    await model.close()
    t.cleanup()
  }
})

test('the system prompt is not on the CLI command line; a 20 MB prompt is E_INVALID_ARGUMENT', async () => {
  const model = await startScriptedModel()
  const t = claudeEnv(model.url)
  const manager = new SessionManager({ claudePath: claudeBin(), env: t.env, storePath: ':memory:' })
  try {
    await assert.rejects(manager.spawn({ backend: 'claude', prompt: 'x'.repeat(20 * 1024 * 1024), workdir: t.workdir }), {
      code: 'E_INVALID_ARGUMENT',
      message: /maxPromptBytes/,
    })
    model.enqueue({ stall: { ms: 60000 } }, { prompt: 'hold with a system prompt' })
    const secret = 'SYSTEM-PROMPT-SECRET-4711'
    const s = await manager.spawn({ backend: 'claude', prompt: 'hold with a system prompt', workdir: t.workdir, appendSystemPrompt: secret })
    await model.waitForRequest({ prompt: 'hold with a system prompt' }, 20000)
    const argv = readFileSync(`/proc/${s.pid}/cmdline`, 'utf8')
    assert.match(argv, /--append-system-prompt-file/)
    assert.ok(!argv.includes(secret), 'the system prompt text is not in /proc/<pid>/cmdline')
    // The CLI did read it: the model got it in its system prompt.
    assert.match(JSON.stringify(model.messagesRequests().at(-1).body.system), new RegExp(secret))
    const file = argv.split('\0')[argv.split('\0').indexOf('--append-system-prompt-file') + 1]
    assert.equal(statSync(file).mode & 0o777, 0o600)
    await manager.kill(s.id)
    await eventually(() => !existsSync(file), 'the system prompt file to be removed')
    await assert.rejects(manager.send(s.id, 'y'.repeat(2 * 1024 * 1024)), { code: 'E_INVALID_ARGUMENT' })
  } finally {
    await manager.shutdown()
    await model.close()
    t.cleanup()
  }
})
