// Containment (issue 16): every process a Claude session starts — its Bash tool's command runs in
// a process group of its own, and a grandchild may setsid — is gone after kill(), after a close
// that times out, and after SIGKILL of Node plus a new manager (restart recovery). Checked in
// /proc by command line, independently of the marker variable the manager itself uses.
// Run with OPENCLAW_SESSIONS_CONTAINMENT=subreaper to test the fallback where cgroups are usable.
import test from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SessionManager } from '../index.js'
import { startScriptedModel } from 'openclaw-sessions/testing'
import { claudeBin, claudeEnv } from './helpers/claude.mjs'
import { eventually, processesOfSession, processesWithArgv } from './helpers/procs.mjs'
import { startNode } from './helpers/node-child.mjs'

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
  const c = startNode(child, {
    config: { claudePath: claudeBin(), env: t.env, workdir: t.workdir, storePath, prompt: jobs.prompt },
    stderr: 'inherit',
  })
  try {
    const spawned = await c.line((l) => l.spawned)
    assert.equal(spawned.containment, expected)
    await jobsRunning(jobs)
    c.kill()
    // The CLI dies with Node (PR_SET_PDEATHSIG); the tool's commands do not, by themselves.
    await c.exited
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
    c.kill()
    await model.close()
    t.cleanup()
  }
})
