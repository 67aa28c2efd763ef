// Node's lifetime: a live session keeps Node up; once none is live (closed, or shutdown()),
// nothing of the addon keeps the process alive, and no CLI process outlives it.
import test from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { startScriptedModel } from 'openclaw-sessions/testing'
import { claudeBin, claudeEnv, processesInGroup } from './helpers/claude.mjs'
import { startNode } from './helpers/node-child.mjs'

const child = fileURLToPath(new URL('./helpers/child-session.mjs', import.meta.url))

/** Runs the child to its own exit; SIGKILLs it and fails if it does not exit within `timeoutMs`. */
async function runChild(mode, config, timeoutMs = 30000) {
  const c = startNode(child, { args: [mode], config })
  let timer
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => {
      c.kill()
      reject(new Error(`child '${mode}' did not exit on its own within ${timeoutMs} ms; it said: ${JSON.stringify(c.lines)}`))
    }, timeoutMs)
  })
  try {
    return await Promise.race([c.exited, late])
  } finally {
    clearTimeout(timer)
  }
}

for (const mode of ['shutdown', 'close']) {
  test(`a Node process using the addon exits on its own after ${mode}`, async () => {
    const model = await startScriptedModel()
    const t = claudeEnv(model.url)
    try {
      const r = await runChild(mode, { claudePath: claudeBin(), env: t.env, workdir: t.workdir })
      assert.equal(r.code, 0, r.err)
      const spawned = r.lines.find((l) => l.spawned)
      assert.ok(spawned, 'the session was spawned')
      if (mode === 'shutdown') {
        assert.deepEqual(r.lines.at(-1), { shutdown: 0, interrupted: 1 }, 'shutdown stops sessions gracefully')
      } else {
        // Without the keep-alive, Node would have exited before the turn ended.
        assert.deepEqual(r.lines.at(-1), { closed: 'completed' })
      }
      assert.deepEqual(processesInGroup(spawned.pid), [], 'no CLI process outlives the session')
      assert.ok(model.messagesRequests().length >= 1, 'the CLI reached the scripted model')
    } finally {
      await model.close()
      t.cleanup()
    }
  })
}

test('SIGKILL of the Node process running the manager leaves no agent process alive', async () => {
  const model = await startScriptedModel()
  const t = claudeEnv(model.url)
  model.enqueue({ stall: { ms: 60000 } }, { prompt: 'hold this turn' })
  const c = startNode(child, { args: ['hold'], config: { claudePath: claudeBin(), env: t.env, workdir: t.workdir }, stderr: 'inherit' })
  try {
    const spawned = await c.line((l) => l.pid)
    await model.waitForRequest({ prompt: 'hold this turn' }, 20000)
    assert.ok(existsSync(`/proc/${spawned.pid}`), 'the agent runs')
    c.kill()
    let left = processesInGroup(spawned.pid)
    for (let i = 0; i < 100 && left.length > 0; i++) {
      await new Promise((r) => setTimeout(r, 50))
      left = processesInGroup(spawned.pid)
    }
    assert.deepEqual(left, [], 'the agent died with Node (PR_SET_PDEATHSIG)')
  } finally {
    c.kill()
    await model.close()
    t.cleanup()
  }
})
