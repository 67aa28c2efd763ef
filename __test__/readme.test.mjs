// The README's examples marked `<!-- readme-test: NAME -->` run verbatim here, against the real
// CLIs and the scripted model on 127.0.0.1, with what they print checked.
import test from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { SessionManager } from '../index.js'
import { startScriptedModel } from 'openclaw-sessions/testing'
import { claudeBin, claudeEnv } from './helpers/claude.mjs'
import { codexBin, codexEnv } from './helpers/codex.mjs'

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')

/** The code of the js block right after `<!-- readme-test: name ... -->`. */
function example(name) {
  const m = readme.match(new RegExp(`<!-- readme-test: ${name}\\b[^>]*-->\\s*\`\`\`js\\n([\\s\\S]*?)\`\`\``))
  assert.ok(m, `README has the example ${name}`)
  return m[1]
}

/** Runs `code` as an async function body with `scope`'s names in scope; returns what it logged. */
async function run(code, scope) {
  const lines = []
  const console = { log: (...a) => lines.push(a.join(' ')) }
  const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor
  const names = Object.keys(scope)
  await new AsyncFunction(...names, 'console', code)(...names.map((n) => scope[n]), console)
  return lines
}

test('README: waiting for a turn, all three backends', async () => {
  const model = await startScriptedModel()
  const ct = claudeEnv(model.url)
  const xt = codexEnv(model.url)
  const real = new SessionManager({ claudePath: claudeBin(), codexPath: codexBin() })
  // The example's `manager`, with each backend's offline environment added to spawn.
  const manager = new Proxy(real, {
    get(target, key) {
      if (key === 'spawn') {
        return (o) => target.spawn({ ...o, env: (o.backend === 'claude' ? ct : xt).env })
      }
      const v = target[key]
      return typeof v === 'function' ? v.bind(target) : v
    },
  })
  try {
    const lines = await run(example('waiting'), { manager, workdir: ct.workdir })
    assert.equal(lines.length, 9)
    for (let i = 0; i < 3; i++) {
      assert.equal(lines[3 * i], 'completed Nice to meet you, John!')
      assert.equal(lines[3 * i + 1], 'completed Your name is John.')
      assert.match(lines[3 * i + 2], /^2 \d+(\.\d+)?(e-\d+)? [1-9]\d* waiting-for-input$/)
    }
  } finally {
    await real.shutdown()
    await model.close()
    ct.cleanup()
    xt.cleanup()
  }
})
