// A Node child process running one of the helper scripts (a manager the test kills, or runs to
// its end), for the lifetime, containment and recovery tests. The child gets its config as JSON
// in OCS_CHILD_CONFIG and reports on stdout, one JSON object a line.
import { spawn } from 'node:child_process'

/**
 * Starts `node <script> ...args`, optionally behind `prefix` (e.g. `['unshare', '-p', '-f',
 * '--mount-proc']`); `stdin: 'pipe'` to talk to it. Returns `{ process, lines, line(pred, timeoutMs), exited, kill() }`:
 * `lines` are the JSON lines read so far, `line` resolves with the first one `pred` accepts
 * (rejects, quoting what was read, when the child exits first or after `timeoutMs`), `exited`
 * resolves with `{ code, signal, lines, err }`, and `kill()` sends SIGKILL.
 */
export function startNode(script, { args = [], config = {}, prefix = [], stdin = 'ignore', stderr = 'pipe' } = {}) {
  const argv = [...prefix, process.execPath, script, ...args]
  const p = spawn(argv[0], argv.slice(1), {
    env: { ...process.env, OCS_CHILD_CONFIG: JSON.stringify(config) },
    stdio: [stdin, 'pipe', stderr],
  })
  const lines = []
  const waiters = new Set()
  let out = ''
  let err = ''
  let ended = false
  p.stdout.on('data', (d) => {
    out += d
    const parts = out.split('\n')
    out = parts.pop()
    for (const l of parts.filter(Boolean)) lines.push(JSON.parse(l))
    for (const w of [...waiters]) w.check()
  })
  p.stderr?.on('data', (d) => (err += d))
  const exited = new Promise((resolve) =>
    p.on('close', (code, signal) => {
      ended = true
      for (const w of [...waiters]) w.check()
      resolve({ code, signal, lines, err })
    }),
  )
  const line = (pred, timeoutMs = 30000) =>
    new Promise((resolve, reject) => {
      const w = {
        check() {
          const found = lines.find(pred)
          if (found) done(() => resolve(found))
          else if (ended) done(() => reject(new Error(`the child exited first; it said: ${JSON.stringify(lines)} ${err}`)))
        },
      }
      const timer = setTimeout(() => done(() => reject(new Error(`no such line within ${timeoutMs} ms; the child said: ${JSON.stringify(lines)} ${err}`))), timeoutMs)
      const done = (f) => {
        clearTimeout(timer)
        waiters.delete(w)
        f()
      }
      waiters.add(w)
      w.check()
    })
  return { process: p, lines, line, exited, kill: () => p.kill('SIGKILL') }
}
