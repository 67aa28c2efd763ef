// Process-tree sampling from /proc (Linux): memory (PSS) and CPU time of a process and
// everything it started, split into "the CLI and what it runs" and "everything else".
import { readdirSync, readFileSync } from 'node:fs'

const TICK = 100 // USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s on Linux

function stat(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const close = s.lastIndexOf(')')
    const comm = s.slice(s.indexOf('(') + 1, close)
    const f = s.slice(close + 2).split(' ')
    // f[0] is field 3 (state): ppid is field 4, utime 14, stime 15
    return { pid, comm, ppid: Number(f[1]), cpu: (Number(f[11]) + Number(f[12])) / TICK }
  } catch {
    return null
  }
}

/**
 * Proportional set size: resident pages, each shared page split among the processes that map
 * it. Fifty CLIs map the same 240 MB executable; their RSS would count it fifty times.
 */
function pssKiB(pid) {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))
    return m ? Number(m[1]) : 0
  } catch {
    return 0
  }
}

function cmdline(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ')
  } catch {
    return ''
  }
}

const tagged = new Map() // pid -> whether its environment holds the tag (read once per pid)
function hasTag(pid, tag) {
  if (!tagged.has(pid)) {
    let yes = false
    try {
      yes = readFileSync(`/proc/${pid}/environ`, 'utf8').includes(tag)
    } catch {}
    tagged.set(pid, yes)
  }
  return tagged.get(pid)
}

/**
 * Every live descendant of `root` (and root), as stat records with `rss` (PSS, KiB) and `cmd`;
 * with `tag`, also every process whose environment holds it and its descendants (a daemon that
 * detached from the tree, such as acpx's queue owner, keeps the environment it was given).
 */
export function tree(root, tag) {
  const all = []
  for (const d of readdirSync('/proc')) if (/^\d+$/.test(d)) { const s = stat(Number(d)); if (s) all.push(s) }
  const kids = new Map()
  for (const s of all) kids.set(s.ppid, [...(kids.get(s.ppid) ?? []), s])
  const out = []
  const walk = (s, depth) => {
    out.push({ ...s, depth, rss: pssKiB(s.pid), cmd: cmdline(s.pid) })
    for (const k of kids.get(s.pid) ?? []) walk(k, depth + 1)
  }
  const r = all.find((s) => s.pid === root)
  if (r) walk(r, 0)
  if (tag) {
    const inTree = new Set(out.map((p) => p.pid))
    for (const s of all) {
      if (inTree.has(s.pid) || !hasTag(s.pid, tag)) continue
      const from = out.length
      walk(s, 0)
      for (const p of out.slice(from)) inTree.add(p.pid)
    }
  }
  return out
}

/**
 * Samples the tree of `root` every `everyMs` until `stop()`: peak PSS (sum over the sampled
 * processes) and CPU seconds (each process's last seen utime+stime, summed over every process
 * ever seen), split by `isCli(proc)`: a process is the CLI's if it or an ancestor matches.
 * A process that exits between two samples loses the CPU it used since the last one.
 */
export function sampleTree(root, isCli, everyMs = 100, tag = undefined) {
  const cpu = new Map() // pid -> { cpu, cli }
  const peak = { cli: 0, rest: 0, procs: 0 }
  const once = () => {
    const t = tree(root, tag)
    const cliPids = new Set()
    let cli = 0
    let rest = 0
    for (const p of t) {
      const mine = cliPids.has(p.ppid) || isCli(p)
      if (mine) cliPids.add(p.pid)
      if (mine) cli += p.rss
      else rest += p.rss
      cpu.set(`${p.pid}`, { cpu: p.cpu, cli: mine })
    }
    peak.cli = Math.max(peak.cli, cli)
    peak.rest = Math.max(peak.rest, rest)
    peak.procs = Math.max(peak.procs, t.length)
  }
  once()
  const timer = setInterval(once, everyMs)
  return {
    stop() {
      clearInterval(timer)
      const sum = (cli) => [...cpu.values()].filter((v) => v.cli === cli).reduce((a, v) => a + v.cpu, 0)
      return { rssKiB: { cli: peak.cli, rest: peak.rest }, cpuS: { cli: sum(true), rest: sum(false) }, procs: peak.procs }
    },
    sampleNow: once,
  }
}
