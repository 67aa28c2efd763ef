// What /proc says about processes (Linux), for containment tests.
import { readdirSync, readFileSync } from 'node:fs'

/** Live (not zombie) pids whose command line is exactly `text` (arguments joined by spaces). */
export function processesWithArgv(text) {
  return scan((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ') === text)
}

/** Live pids whose command line contains `text`. */
export function processesMentioning(text) {
  return scan((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text))
}

/** Live pids whose environment holds OPENCLAW_SESSION_ID=<id>. */
export function processesOfSession(id) {
  const needle = `OPENCLAW_SESSION_ID=${id}`
  return scan((pid) => readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(needle))
}

function scan(match) {
  const out = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8')
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue
      if (match(name)) out.push(Number(name))
    } catch {}
  }
  return out
}

/** Polls `check` (every 20 ms) until it returns true, or throws after `timeoutMs` with `what`. */
export async function eventually(check, what, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await check()) return
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}
