// `npm run demo` (scripts/demo.mjs) does what the README's Quick start says: real Claude Code
// and Codex conversations through the addon, then the debounced `waiting-for-input`
// notification, `interruptTurn`, a graceful `interrupt()`, `resume()` with its chain, the stats;
// and exits 0. It starts its own scripted model on 127.0.0.1.
import test from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const DEMO = fileURLToPath(new URL('../scripts/demo.mjs', import.meta.url))

test('npm run demo: two conversations, then the addon beyond a conversation; exits 0', { timeout: 180_000 }, async () => {
  const r = await new Promise((resolve) =>
    execFile(process.execPath, [DEMO], { timeout: 170_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => resolve({ code: err ? (err.code ?? 1) : 0, stdout, stderr })),
  )
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`)
  const out = r.stdout
  assert.match(out, /\[claude\] +continuity ok/)
  assert.match(out, /\[codex\] +continuity ok/)
  // The waiting-for-input notification came once the 5 s debounce had passed.
  const waited = /\[notify\] +waiting-for-input \((\d+) ms after the turn ended\)/.exec(out)
  assert.ok(waited && Number(waited[1]) >= 4750, out)
  assert.match(out, /\[turn 2\] +error_during_execution/, 'interruptTurn ended the running turn')
  assert.match(out, /\[interrupt\] +status interrupted, endReason user/)
  assert.match(out, /\[chain\] +[0-9a-f]{8} \S+ 1 turns {2}<- {2}[0-9a-f]{8} interrupted 4 turns/)
  assert.match(out, /\[stats\] +\{"total":2,"live":0,"spawned":2/)
  assert.equal((out.match(/\[ok\]/g) ?? []).length, 8)
  assert.doesNotMatch(out, /FAILED/)
  assert.match(out, /demo ok in \d+ ms/)
})
