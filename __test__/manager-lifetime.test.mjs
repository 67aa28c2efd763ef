// A dropped manager frees what it holds: its store writer thread, its store files and its
// exit hook. 20 managers are created, each with an onEvent and an onNotification callback,
// dropped and garbage-collected in a child Node (--expose-gc); the writer threads and open
// store files (/proc/self) go back to the baseline.
import test from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const script = fileURLToPath(new URL('./helpers/drop-managers.mjs', import.meta.url))

test('20 managers created and dropped leave no writer thread and no open store file', () => {
  const out = execFileSync(process.execPath, ['--expose-gc', script, '20'], { encoding: 'utf8', timeout: 60000 })
  const phases = Object.fromEntries(out.trim().split('\n').map((l) => JSON.parse(l)).map((p) => [p.phase, p]))
  assert.deepEqual([phases.baseline.threads, phases.baseline.files], [0, 0])
  assert.equal(phases.live.threads, 20, 'one writer thread per live manager')
  assert.ok(phases.live.files >= 20, `store files while live: ${phases.live.files}`)
  assert.deepEqual([phases.dropped.threads, phases.dropped.files], [0, 0], JSON.stringify(phases))
})
