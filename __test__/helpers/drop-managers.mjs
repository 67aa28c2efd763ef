// Run with --expose-gc: creates and drops `count` managers (each with its own store file and
// callbacks set), collects them, and prints the writer threads and open store files before,
// while they live, and after (JSON lines). Linux only (/proc/self).
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SessionManager } from '../../index.js'

const count = Number(process.argv[2] ?? 20)
const dir = mkdtempSync(join(tmpdir(), 'ocs-drop-'))

function writerThreads() {
  return readdirSync('/proc/self/task').filter((t) => {
    try {
      return readFileSync(`/proc/self/task/${t}/comm`, 'utf8').startsWith('openclaw-store')
    } catch {
      return false
    }
  }).length
}

function storeFiles() {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`).startsWith(dir)
    } catch {
      return false
    }
  }).length
}

const snapshot = () => ({ threads: writerThreads(), files: storeFiles() })
const print = (phase) => console.log(JSON.stringify({ phase, ...snapshot() }))

print('baseline')
;(() => {
  const managers = []
  for (let i = 0; i < count; i++) {
    const m = new SessionManager({ storePath: join(dir, `s${i}.db`) })
    m.onEvent(() => {})
    m.onNotification(() => {})
    managers.push(m)
  }
  print('live')
})()
// Finalizers run after a collection, on a later turn of the event loop; the writer thread
// ends once its queue is closed. Wait for that, with a deadline.
const deadline = Date.now() + 15000
const base = { threads: 0, files: 0 }
while (Date.now() < deadline) {
  globalThis.gc()
  await new Promise((r) => setTimeout(r, 20))
  const now = snapshot()
  if (now.threads === base.threads && now.files === base.files) break
}
print('dropped')
rmSync(dir, { recursive: true, force: true })
