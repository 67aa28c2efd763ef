// A consumer of the addon's typings, type-checked with --strict by __test__/types.test.mjs:
// options, the event union narrowed on `kind`, notifications and snapshots.
import { SessionManager, isSessionError } from 'openclaw-sessions'
import type { AgentEvent, AgentEventKind, ErrorCode, Notification, SessionInfo, SpawnOptions, Stats, TurnOutcome, TurnResult } from 'openclaw-sessions'

const manager = new SessionManager({
  maxSessions: 2,
  storePath: ':memory:',
  notifications: { fallbackChannel: 'main', waitingDebounceMs: 300, channels: { '/srv/app': 'tg:1' } },
})

/** One line per event; every kind is handled (the `never` check fails if one is added). */
export function describeEvent(e: AgentEvent): string {
  switch (e.kind) {
    case 'status':
      return `${e.previous ?? '-'} -> ${e.status} (${e.reason ?? ''})${e.endReason ? ` end ${e.endReason}` : ''}`
    case 'init':
      return `init ${e.backendSessionId} ${e.model ?? ''} tools=${e.tools.length}`
    case 'assistant-text':
    case 'thinking':
    case 'user-text':
      return `${e.kind}: ${e.text}`
    case 'tool-use':
      return `tool ${e.name} ${e.toolUseId}`
    case 'tool-result':
      return `result ${e.toolUseId} error=${e.isError}: ${e.content.length}`
    case 'turn-started':
      return `turn ${e.turnId ?? '(exec)'}`
    case 'turn-completed': {
      const tokens: number = e.usage.inputTokens + e.usage.outputTokens
      return `turn ${e.turn} ${e.subtype} $${e.costUsd.toFixed(4)} ${tokens} tokens${e.fatal ? ' fatal' : ''}`
    }
    case 'permission-request':
      return `permission ${e.requestId} ${e.toolName}`
    case 'permission-resolved':
      return `permission ${e.requestId} ${e.allow ? 'allowed' : 'denied'} by ${e.by}`
    case 'control-response':
      return `control ${e.requestId} ${e.subtype} ${e.error ?? ''}`
    case 'budget-exhausted':
      return `budget ${e.totalCostUsd} / ${e.maxBudgetUsd}`
    case 'auto-respond-limit':
      return `auto ${e.count} / ${e.max}`
    case 'recovering':
      return `recovering ${e.attempt}/${e.maxAttempts} in ${e.delayMs} ms at ${e.nextAttemptAt}: ${e.error}`
    case 'delivery-failed':
      return `delivery failed ${e.key} after ${e.attempts}: ${e.error}`
    case 'notification-dropped':
      return `dropped ${e.key} ${e.notification}`
    case 'system':
      return `system ${e.subtype}`
    case 'stream-event':
      return 'stream event'
    case 'error':
      return `error ${e.message} fatal=${e.fatal}`
    case 'stderr':
      return `stderr ${e.line}`
    case 'exit':
      return `exit ${e.exitCode ?? ''} ${e.signal ?? ''}`
    case 'other':
      return `other ${e.messageType}`
    default: {
      const unhandled: never = e
      return unhandled
    }
  }
}

export function table(sessions: SessionInfo[]): string {
  return sessions
    .map((s) => `${s.name ?? '-'} ${s.id.slice(0, 8)} ${s.backend} ${s.status} ${s.turns} $${s.totalCostUsd} ${s.resumedFromId ?? s.forkedFromId ?? ''} ${s.recovery?.nextAttemptAt ?? ''}`)
    .join('\n')
}

/** One line per notification, with `data` narrowed on `kind`. */
export function describeNotification(n: Notification): string {
  switch (n.kind) {
    case 'waiting-for-input':
      if (n.data.reason === 'permission') return `asks for ${n.data.permission.toolName} (${n.data.permission.requestId})`
      if (n.data.reason === 'question') return `asks: ${n.data.question}`
      if (n.data.reason === 'idle') return `quiet for ${n.data.quietMs} ms`
      return `turn ${n.data.turn}: ${n.data.lastLine}`
    case 'failed':
      return `failed: ${n.data.error} (exit ${n.data.exitCode ?? '-'}) ${n.data.hint} ${n.data.stderrTail.length}`
    case 'completed':
    case 'interrupted':
    case 'killed':
      return `${n.data.status} ${n.data.endReason ?? ''} $${n.data.costUsd.toFixed(4)} ${n.data.lastLines.join(' ')}`
    case 'responded':
      return `${n.data.userInitiated ? 'user' : 'agent'}: ${n.data.text}`
    case 'output':
      return `${n.data.fromLine}-${n.data.toLine}: ${n.data.lines.join('\n')}`
    case 'tool-use':
      return `tool ${n.data.name} ${n.data.toolUseId}`
    case 'budget-exhausted':
      return `$${n.data.totalCostUsd} of $${n.data.maxBudgetUsd}`
    case 'auto-respond-limit':
      return `${n.data.count}/${n.data.max}`
    case 'long-running':
      return `${n.data.runningMs} ms`
    case 'recovering':
      return `retrying (${n.data.attempt}/${n.data.maxAttempts}) at ${n.data.nextAttemptAt}: ${n.data.error}`
    case 'launched':
      return n.text
    default: {
      const unhandled: never = n
      return unhandled
    }
  }
}

/** Waiting for turns: `wait: true` gives a TurnResult, no `wait` a SessionInfo. */
export async function converse(backend: 'claude' | 'codex' | 'codex-exec'): Promise<string> {
  const first: TurnResult = await manager.spawn({ backend, prompt: "Hello, I'm John", workdir: '/tmp', wait: true, waitTimeoutMs: 60000 })
  const r: TurnResult = await manager.send(first.session.id, "What's my name?", { wait: true, timeoutMs: 60000 })
  const outcome: TurnOutcome = r.outcome
  const info: SessionInfo = await manager.send(r.session.id, 'and again', { userInitiated: true })
  const waited: TurnResult = await manager.waitForTurn(info.id, { timeoutMs: 1000 })
  const cost: number = waited.costUsd + waited.usage.outputTokens
  const listed: SessionInfo[] = await manager.list({ backend: ['codex', 'codex-exec'], limit: 20 })
  return `${outcome} ${r.text} ${cost} ${listed.length} ${(await manager.list({ backend: 'claude' })).length}`
}

export async function main(send: (channel: string, text: string) => Promise<void>): Promise<Stats> {
  const kinds: AgentEventKind[] = ['status', 'turn-completed']
  const off = manager.onEvent((e) => void describeEvent(e))
  const stop = manager.onNotification(async (n: Notification) => {
    if (n.kind === 'waiting-for-input') await send(n.channel, n.text)
  })
  const spawn: SpawnOptions = { backend: 'claude', prompt: "Hello, I'm John", workdir: '/tmp', origin: { channel: 'tg:1' } }
  try {
    const s = await manager.spawn(spawn)
    await manager.send(s.id, "What's my name?", { userInitiated: false })
    const events: AgentEvent[] = manager.events(s.id, { kinds })
    const lines: string[] = manager.output(s.id, { lines: 5 })
    const chain: SessionInfo[] = manager.resumeChain(s.id)
    console.log(events.length, lines.join('\n'), table(chain))
    await manager.resume(s.id, null, { fork: true })
  } catch (e) {
    if (isSessionError(e)) {
      const code: ErrorCode = e.code
      console.log(code, e.message)
    }
  }
  off()
  stop()
  return manager.shutdown({ graceMs: 1000 })
}
