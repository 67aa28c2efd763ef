// Restart recovery when the manager is pid 1 every time (issue 16: a container's init): the
// sessions a SIGKILLed pid-1 manager left live are recovered by the next pid-1 manager on the same
// store (told apart by start time, not pid), each gets exactly one `interrupted` notification,
// and nothing of them is left: no process, no session cgroup, no private file. Each manager runs
// as pid 1 of its own pid namespace (`unshare -p -f --mount-proc`); killing pid 1 ends its whole
// namespace, so there the kernel kills the orphans; the second test has a dead manager (not pid 1)
// whose orphans survive it, killed by a pid-1 manager in a namespace of its own, which cannot see
// them in its /proc: only their cgroup reaches them.
import test from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { SessionManager } from '../index.js'
import { startScriptedModel } from 'openclaw-sessions/testing'
import { claudeBin, claudeEnv } from './helpers/claude.mjs'
import { eventually, processesOfSession, processesWithArgv } from './helpers/procs.mjs'
import { startNode } from './helpers/node-child.mjs'

// --kill-child: if the test dies, unshare takes its pid 1 (and so the namespace) with it.
const PID_NS = ['unshare', '-p', '-f', '--mount-proc', '--kill-child']
const child = join(import.meta.dirname, 'helpers', 'pid1-child.mjs')
const plainChild = join(import.meta.dirname, 'helpers', 'contain-child.mjs')

/** Why a pid namespace cannot be made here, or null. */
function pidNamespaceProblem() {
  const r = spawnSync(PID_NS[0], [...PID_NS.slice(1), 'sh', '-c', 'echo $$'], { encoding: 'utf8' })
  if (r.error) return `unshare is not usable: ${r.error.message}`
  if (r.status !== 0 || r.stdout.trim() !== '1') {
    return `\`unshare -p -f --mount-proc\` does not give a pid namespace here (exit ${r.status}): ${r.stderr.trim()}`
  }
  return null
}

/** The cgroup `ocs-<id>` a session gets under this process's cgroup v2 (the child's too). */
function sessionCgroup(id) {
  const path = readFileSync('/proc/self/cgroup', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('0::'))
    ?.slice(3)
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [before, after] = line.split(' - ')
    if (!after?.startsWith('cgroup2 ')) continue
    const f = before.split(' ')
    const rel = f[3] === '/' ? path : path.slice(f[3].length)
    return join(f[4], rel, `ocs-${id}`)
  }
  return null
}

/** The private directories (system prompt files) of session `id`. */
const privateDirs = (id) => readdirSync(tmpdir()).filter((n) => n.startsWith(`ocs-${id}-`))

/**
 * Starts a manager as pid 1 of a new pid namespace on `config.storePath` and checks that it
 * recovered sessions `ids` (interrupted, manager-restart), with exactly one `interrupted`
 * notification each. Returns the running child, with `exit()`.
 */
async function recoverAsPid1(config, ids) {
  const second = startNode(child, { args: ['recover'], config, prefix: PID_NS, stdin: 'pipe', stderr: 'inherit' })
  try {
    await checkRecovered(second, ids)
  } catch (e) {
    second.kill()
    throw e
  }
  second.exit = async () => {
    second.process.stdin.write('exit\n')
    assert.equal((await second.exited).code, 0)
  }
  return second
}

async function checkRecovered(second, ids) {
  const hello = await second.line((l) => l.sessions, 30000)
  assert.equal(hello.self, 1, 'the recovering manager is pid 1')
  for (const id of ids) {
    assert.deepEqual(
      hello.sessions.find((s) => s.id === id),
      { id, status: 'interrupted', endReason: 'manager-restart' },
    )
  }
  await Promise.all(ids.map((id) => second.line((l) => l.notification === 'interrupted' && l.session === id, 20000)))
  // A barrier: a new session's `launched` comes after every notification recovery queued.
  second.process.stdin.write('barrier\n')
  const barrier = await second.line((l) => l.barrier, 30000)
  await second.line((l) => l.notification === 'launched' && l.session === barrier.barrier, 20000)
  for (const id of ids) {
    const sent = second.lines.filter((l) => l.notification === 'interrupted' && l.session === id)
    assert.equal(sent.length, 1, `exactly one interrupted notification for ${id}`)
  }
}

/**
 * What both tests start from: the scripted model, Claude's offline env, a fresh store path and a
 * tag that makes this run's `sleep` commands findable; undefined (the test skipped, the reason
 * printed) where pid namespaces are not available.
 */
async function pid1Rig(t) {
  const why = pidNamespaceProblem()
  if (why) {
    console.log(`# skipped: ${why}`)
    t.skip(why)
    return undefined
  }
  const model = await startScriptedModel()
  const env = claudeEnv(model.url)
  const storePath = join(mkdtempSync(join(tmpdir(), 'ocs-pid1-')), 'sessions.db')
  return { model, env, storePath, tag: `${process.pid % 1000}` }
}

test('a pid-1 manager recovers what the SIGKILLed pid-1 manager before it left, one notification each', async (t) => {
  const rig = await pid1Rig(t)
  if (!rig) return
  const { model, env, storePath, tag } = rig
  const jobs = [1, 2].map((i) => {
    const fg = `sleep 8888.${tag}${i}1`
    const bg = `sleep 8888.${tag}${i}2`
    const prompt = `pid1 jobs ${tag} ${i}`
    model.enqueue({ toolUse: { input: { command: `setsid ${bg} >/dev/null 2>&1 & ${fg}` } } }, { prompt })
    return { prompt, fg, bg }
  })
  const config = {
    claudePath: claudeBin(),
    env: env.env,
    workdir: env.workdir,
    storePath,
    prompts: jobs.map((j) => j.prompt),
    appendSystemPrompt: 'a system prompt, kept in a private file',
  }
  const first = startNode(child, { args: ['start'], config, prefix: PID_NS, stderr: 'inherit' })
  let second
  try {
    const ready = await first.line((l) => l.ready, 60000)
    assert.equal(ready.self, 1, 'the first manager is pid 1 of its namespace')
    const spawned = first.lines.filter((l) => l.spawned)
    const ids = spawned.map((l) => l.spawned)
    assert.equal(ids.length, 2)
    await eventually(
      () => jobs.every((j) => processesWithArgv(j.fg).length === 1 && processesWithArgv(j.bg).length === 1),
      'both sessions to run their tool commands',
      30000,
    )
    const cgroups = spawned[0].containment === 'cgroup'
    for (const id of ids) {
      assert.equal(privateDirs(id).length, 1, 'each session has its private directory')
      if (cgroups) assert.ok(existsSync(sessionCgroup(id)), 'each session has its cgroup')
    }

    // SIGKILL to pid 1 (seen from here as unshare's child) ends its namespace.
    const unshare = first.process.pid
    const pid1 = Number(readFileSync(`/proc/${unshare}/task/${unshare}/children`, 'utf8').trim())
    process.kill(pid1, 'SIGKILL')
    await first.exited
    await eventually(
      () => ids.every((id) => processesOfSession(id).length === 0) && jobs.every((j) => processesWithArgv(j.fg).length + processesWithArgv(j.bg).length === 0),
      'every process of the namespace to be gone',
    )
    for (const id of ids) assert.equal(privateDirs(id).length, 1, 'a dead manager leaves its private files')

    second = await recoverAsPid1(config, ids)
    if (cgroups) await eventually(() => ids.every((id) => !existsSync(sessionCgroup(id))), 'recovery to remove the session cgroups')
    for (const id of ids) assert.deepEqual(privateDirs(id), [], 'recovery removed the private files')
    await second.exit()
  } finally {
    first.kill()
    second?.kill()
    await model.close()
    env.cleanup()
    rmSync(dirname(storePath), { recursive: true, force: true })
  }
})

test('a pid-1 manager in a namespace of its own kills the orphans a dead manager left, through their cgroup', async (t) => {
  const rig = await pid1Rig(t)
  if (!rig) return
  const { model, env, storePath, tag } = rig
  const fg = `sleep 8889.${tag}1`
  const bg = `sleep 8889.${tag}2`
  const prompt = `orphan jobs ${tag}`
  model.enqueue({ toolUse: { input: { command: `setsid ${bg} >/dev/null 2>&1 & ${fg}` } } }, { prompt })
  const config = { claudePath: claudeBin(), env: env.env, workdir: env.workdir, storePath, prompt }
  // What holds a session's processes here (this process detects it as the child will), before
  // any orphan is made.
  const probe = new SessionManager({ claudePath: claudeBin(), env: env.env, storePath: ':memory:' })
  const containment = (await probe.spawn({ backend: 'claude', prompt: 'hello', workdir: env.workdir })).containment
  await probe.shutdown()
  if (containment !== 'cgroup') {
    const reason = `containment is ${containment}, not cgroup: a manager in another pid namespace cannot reach the orphans`
    console.log(`# skipped: ${reason}`)
    t.skip(reason)
    await model.close()
    env.cleanup()
    return
  }
  const first = startNode(plainChild, { config, stderr: 'inherit' })
  let second
  try {
    const spawned = await first.line((l) => l.spawned, 60000)
    assert.equal(spawned.containment, 'cgroup')
    await eventually(() => processesWithArgv(fg).length === 1 && processesWithArgv(bg).length === 1, 'the tool commands to run', 30000)
    first.kill()
    await first.exited
    // The CLI dies with Node (PR_SET_PDEATHSIG); its tool commands (a group of their own, one
    // setsid) live on, in the session's cgroup.
    await eventually(() => !existsSync(`/proc/${spawned.pid}`) || /\) Z/.test(readFileSync(`/proc/${spawned.pid}/stat`, 'utf8')), 'the CLI to die with Node')
    assert.equal(processesWithArgv(fg).length + processesWithArgv(bg).length, 2, 'the tool commands outlived their manager')
    second = await recoverAsPid1({ ...config, prompt: undefined }, [spawned.spawned])
    await eventually(
      () => processesWithArgv(fg).length + processesWithArgv(bg).length + processesOfSession(spawned.spawned).length === 0,
      'recovery to kill the orphans',
    )
    await eventually(() => !existsSync(sessionCgroup(spawned.spawned)), 'recovery to remove the session cgroup')
    await second.exit()
  } finally {
    first.kill()
    second?.kill()
    await model.close()
    env.cleanup()
    rmSync(dirname(storePath), { recursive: true, force: true })
  }
})
