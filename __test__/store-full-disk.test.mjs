// A disk that fills mid-session: the calls whose result cannot be made durable reject E_STORE,
// the failed writes are reported (error events), and once space is back the session's final
// state and every notification are on disk and delivered, once. The store lives on a small
// tmpfs mounted in a mount namespace of its own (`unshare -m`, needs root or user namespaces);
// where that is not possible the test is skipped and says why.
import test from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const addon = fileURLToPath(new URL('../index.js', import.meta.url))

// Runs in the mount namespace, on the tmpfs at DIR; prints one JSON line of results.
const child = `
const fs = require('node:fs')
const { SessionManager, SessionStore } = require(${JSON.stringify(addon)})
const dir = process.env.DIR
const path = dir + '/s.db'
const out = { notifications: [], errors: [] }
const m = new SessionManager({ storePath: path, notifications: { fallbackChannel: 'main', waitingDebounceMs: 1 } })
let completed
const done = new Promise((resolve) => (completed = resolve))
m.onNotification((n) => {
  out.notifications.push(n.key)
  if (n.kind === 'completed') completed()
})
;(async () => {
  const s = m.register({ workdir: process.cwd(), name: 'full', prompt: 'hi' })
  m.ingest(s.id, { type: 'system', subtype: 'init', session_id: '7d0a1f3e-2b4c-4d5e-8f90-123456789abc' })
  // Fill the disk.
  const fd = fs.openSync(dir + '/filler', 'w')
  const chunk = Buffer.alloc(64 * 1024)
  for (let size = chunk.length; size >= 1; size = Math.floor(size / 2)) {
    try { for (;;) fs.writeSync(fd, chunk, 0, size) } catch (e) { if (e.code !== 'ENOSPC') throw e }
  }
  fs.closeSync(fd)
  m.ingest(s.id, { type: 'assistant', message: { id: 'm1', role: 'assistant', content: [{ type: 'text', text: 'Hello.' }] } })
  m.ingest(s.id, { type: 'result', subtype: 'success', is_error: false, result: 'Hello.', num_turns: 1, total_cost_usd: 0.01 })
  try {
    await m.close(s.id)
    out.close = 'resolved'
  } catch (e) {
    out.close = e.code
    out.closeMessage = e.message
  }
  out.errors = m.events(s.id, { kinds: ['error'] }).map((e) => e.message)
  fs.rmSync(dir + '/filler')
  const timer = setTimeout(() => { out.timedOut = true; finish() }, 20000)
  await done
  clearTimeout(timer)
  // close of the ended session resolves once its state is on disk (E_STORE while it is not).
  try {
    await m.close(s.id)
    out.secondClose = 'resolved'
  } catch (e) {
    out.secondClose = e.code
  }
  finish()
  function finish() {
    const stored = new SessionStore(path).get(s.id)
    out.stored = stored && { status: stored.status, turns: stored.turns }
    console.log(JSON.stringify(out))
    process.exit(0)
  }
})().catch((e) => { console.log(JSON.stringify({ crashed: String(e && e.stack || e) })); process.exit(1) })
`

function mountable() {
  const probe = mkdtempSync(join(tmpdir(), 'ocs-tmpfs-probe-'))
  const r = spawnSync('unshare', ['-m', 'mount', '-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe], { encoding: 'utf8' })
  rmSync(probe, { recursive: true, force: true })
  return r.status === 0 ? null : `cannot mount a tmpfs in a mount namespace here (${(r.stderr || r.error || '').toString().trim()})`
}

const why = mountable()
if (why) console.log(`# skipping the full-disk test: ${why}`)

test('a disk that fills mid-session: E_STORE where it cannot be durable, then everything durable and delivered once', { skip: why ?? false }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocs-full-disk-'))
  const p = spawn('unshare', ['-m', 'sh', '-c', 'mount -t tmpfs -o size=4m tmpfs "$DIR" && exec "$NODE" -e "$SCRIPT"'], {
    env: { ...process.env, DIR: dir, NODE: process.execPath, SCRIPT: child },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let text = ''
  p.stdout.on('data', (d) => (text += d))
  const code = await new Promise((resolve) => p.on('exit', resolve))
  rmSync(dir, { recursive: true, force: true })
  const out = JSON.parse(text.trim().split('\n').pop())
  assert.equal(out.crashed, undefined, out.crashed)
  assert.equal(code, 0)
  assert.equal(out.close, 'E_STORE', 'close could not make the end durable')
  assert.match(out.closeMessage, /disk is full/)
  assert.ok(out.errors.some((m) => /E_STORE/.test(m)), `failed writes are error events: ${JSON.stringify(out.errors)}`)
  assert.equal(out.timedOut, undefined, 'the completed notification arrived once space was back')
  assert.equal(out.secondClose, 'resolved', 'with space back, close of the ended session makes it durable')
  assert.deepEqual(out.stored, { status: 'completed', turns: 1 }, 'the final state is on disk')
  assert.equal(new Set(out.notifications).size, out.notifications.length, `no notification twice: ${out.notifications}`)
  for (const kind of ['launched', 'completed']) {
    assert.ok(out.notifications.some((k) => k.endsWith(`:${kind}`) || k.includes(`:${kind}:`)), `${kind} delivered`)
  }
})
