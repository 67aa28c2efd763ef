// A consumer of the addon's typings, type-checked with --strict by __test__/types.test.mjs:
// options, the event union narrowed on `kind`, notifications and snapshots.
import { SessionManager } from 'openclaw-sessions'
import type { AgentEvent, AgentEventKind, ErrorCode, Notification, SessionError, SessionInfo, SpawnOptions, Stats } from 'openclaw-sessions'

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
    .map((s) => `${s.name ?? '-'} ${s.id.slice(0, 8)} ${s.backend} ${s.status} ${s.turns} $${s.totalCostUsd} ${s.resumedFromId ?? s.forkedFromId ?? ''}`)
    .join('\n')
}

export function isSessionError(e: unknown): e is SessionError {
  return e instanceof Error && 'code' in e && typeof e.code === 'string'
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
