// Deliberately wrong uses of the addon's typings: __test__/types.test.mjs expects tsc to
// reject this file and to name each error.
import { SessionManager } from 'openclaw-sessions'
import type { AgentEvent } from 'openclaw-sessions'

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
