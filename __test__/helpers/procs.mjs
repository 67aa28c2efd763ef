// What /proc says about processes (Linux), for race and containment tests: what this Node
// process left running (its direct children, and any process in the process group of a CLI it
// started: a CLI is its own group leader, so its descendants carry its pid as their group id
// even after the leader is gone), and processes by command line or session marker.
import { readdirSync, readFileSync } from 'node:fs'

/** `{ pid, ppid, pgrp, state }` of one process, or null when it is gone. */
function stat(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ')
    return { pid: Number(pid), state: rest[0], ppid: Number(rest[1]), pgrp: Number(rest[2]) }
  } catch {
    return null
  }
}

/** The pids of this process's live (not zombie) children. */
export function childPids() {
  const out = []
  for (const tid of readdirSync('/proc/self/task')) {
    let list = ''
    try {
      list = readFileSync(`/proc/self/task/${tid}/children`, 'utf8')
    } catch {}
    for (const p of list.split(' ').filter(Boolean)) {
      const st = stat(p)
      if (st && st.state !== 'Z') out.push(st.pid)
    }
  }
  return out
}

/**
 * Records every child this process starts, sampled every `everyMs` (a CLI lives far longer
 * than that: it reads its config before it can do anything). `stop()` ends the sampling.
 */
export function recordChildren(everyMs = 5) {
  const seen = new Set()
  const sample = () => {
    for (const p of childPids()) seen.add(p)
  }
  const timer = setInterval(sample, everyMs)
  sample()
  return {
    seen,
    stop() {
      clearInterval(timer)
      sample()
    },
  }
}

/** Live processes whose process group is one of `pgids` (the CLIs seen, and what they started). */
export function processesInGroups(pgids) {
  const out = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    const st = stat(name)
    if (st && st.state !== 'Z' && pgids.has(st.pgrp)) out.push(st)
  }
  return out
}

/**
 * Resolves once neither a child of this process nor a process in one of `pgids` is left;
 * rejects after `timeoutMs` listing them. A reaped leader's group is SIGKILLed at once, but
 * the kernel may take a moment to tear its members down, so this re-checks on a short timer.
 */
export async function noneLeft(pgids, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const left = [...childPids().map((pid) => ({ pid, child: true })), ...processesInGroups(pgids)]
    if (left.length === 0) return
    if (Date.now() > deadline) throw new Error(`processes left: ${JSON.stringify(left)}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

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
