// Text for people: errors, session tables, stats.
import type { SessionInfo, SessionStatus, Stats } from 'openclaw-sessions'

/** An error of this plugin (the addon's own errors carry a `code` too). */
export class PluginError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

export interface ErrorDetails {
  code: string
  message: string
}

/** `code` and `message` of anything thrown: addon errors (`SessionError`), ours, or others. */
export function errorDetails(e: unknown): ErrorDetails {
  if (e instanceof Error) {
    const code = 'code' in e && typeof e.code === 'string' ? e.code : 'E_INTERNAL'
    return { code, message: e.message }
  }
  return { code: 'E_INTERNAL', message: String(e) }
}

/** `Error [E_NOT_FOUND]: no session ...` */
export function errorText(e: unknown): string {
  const { code, message } = errorDetails(e)
  return `Error [${code}]: ${message}`
}

export function shortId(id: string | undefined): string {
  return id ? id.slice(0, 8) : '-'
}

export function usd(n: number): string {
  return `$${n.toFixed(4)}`
}

/** `john (1a2b3c4d)` or `1a2b3c4d`. */
export function label(s: SessionInfo): string {
  return s.name ? `${s.name} (${shortId(s.id)})` : shortId(s.id)
}

export function link(s: SessionInfo): string {
  if (s.resumedFromId) return `resumed from ${shortId(s.resumedFromId)}`
  if (s.forkedFromId) return `forked from ${shortId(s.forkedFromId)}`
  return ''
}

/** One line about a session, for launch / kill / resume results. */
export function describe(s: SessionInfo): string {
  const reason = s.statusReason ?? s.endReason
  const parts = [
    `${s.backend} session ${label(s)}`,
    `status ${s.status}${reason ? ` (${reason})` : ''}`,
    `${s.turns} turn${s.turns === 1 ? '' : 's'}`,
    usd(s.totalCostUsd),
  ]
  const l = link(s)
  if (l) parts.push(l)
  if (s.lastError) parts.push(`last error: ${s.lastError}`)
  return parts.join(', ')
}

function pad(rows: string[][]): string {
  const widths: number[] = []
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)))
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n')
}

/**
 * A table of sessions, then the resume chains (newest first) of the sessions that continue
 * another one and are not themselves continued in the list.
 */
export function sessionTable(sessions: SessionInfo[], chainOf: (id: string) => SessionInfo[]): string {
  if (sessions.length === 0) return 'No sessions.'
  const header = ['NAME', 'ID', 'BACKEND', 'STATUS', 'TURNS', 'COST', 'LINK']
  const rows = sessions.map((s) => [
    s.name ?? '-',
    shortId(s.id),
    s.backend,
    s.status,
    String(s.turns),
    usd(s.totalCostUsd),
    link(s),
  ])
  const parents = new Set(sessions.flatMap((s) => [s.resumedFromId, s.forkedFromId]).filter((x) => x !== undefined))
  const chains: string[] = []
  for (const s of sessions) {
    if (!(s.resumedFromId || s.forkedFromId) || parents.has(s.id)) continue
    const chain = chainOf(s.id)
    if (chain.length > 1) {
      chains.push(`  ${chain.map((c) => `${shortId(c.id)}${c.evicted ? ' (evicted)' : ` ${c.status}`}`).join(' <- ')}`)
    }
  }
  const out = pad([header, ...rows])
  return chains.length ? `${out}\n\nResume chains (newest first):\n${chains.join('\n')}` : out
}

const STATUSES: readonly SessionStatus[] = ['starting', 'running', 'waiting-for-input', 'recovering', 'completed', 'failed', 'interrupted', 'killed']

/** The manager's counters plus this backend family's share. */
export function statsText(title: string, stats: Stats | undefined, mine: SessionInfo[]): string {
  const live = mine.filter((s) => !['completed', 'failed', 'interrupted', 'killed'].includes(s.status)).length
  const cost = mine.reduce((sum, s) => sum + s.totalCostUsd, 0)
  const turns = mine.reduce((sum, s) => sum + s.turns, 0)
  const own = `${title}: ${mine.length} sessions (${live} live), ${turns} turns, ${usd(cost)}`
  // The manager-wide counters are the operator's (an owner's view has only its own sessions).
  if (!stats) return own
  const by = STATUSES.filter((s) => stats.byStatus[s] > 0).map((s) => `${s} ${stats.byStatus[s]}`)
  return [
    own,
    `Manager: ${stats.live}/${stats.maxSessions} live, ${stats.total} in memory, ${stats.spawned} spawned` +
      ` (${stats.spawnFailures} failed), ${stats.turns} turns, ${usd(stats.totalCostUsd)}, ${stats.eventsEmitted} events`,
    `By status: ${by.length ? by.join(', ') : 'none'}`,
  ].join('\n')
}
