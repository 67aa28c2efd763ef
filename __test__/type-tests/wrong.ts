// Deliberately wrong uses of the addon's typings: __test__/types.test.mjs expects tsc to
// reject this file and to name each error.
import { SessionManager } from 'openclaw-sessions'
import type { AgentEvent, Notification } from 'openclaw-sessions'

const manager = new SessionManager({ maxSessions: 1 })

// An unknown backend and a number as the prompt (TS2322 on both).
void manager.spawn({ backend: 'gpt', prompt: 1, workdir: '/tmp' })

export function wrongField(e: AgentEvent): string {
  if (e.kind === 'assistant-text') {
    // `status` belongs to `kind: 'status'` events, not to assistant text (TS2339).
    return e.status
  }
  return ''
}

// An option the manager does not have (TS2353).
void new SessionManager({ maxSesions: 3 })

// `data` of one notification kind is not another's (TS2339).
export function wrongData(n: Notification): string {
  return n.kind === 'failed' ? n.data.lastLine : ''
}

// Without `wait`, send resolves with a snapshot: it has no `text` (TS2339).
export async function wrongWait(): Promise<string> {
  return (await manager.send('x', 'y')).text
}

// An `unknown` caught value has no `code` until the guard narrows it (TS18046).
export function wrongCatch(e: unknown): string {
  return e.code
}
