// Notifications through the gateway. The addon decides what to tell whom and when (debounced
// waiting-for-input, once per turn, exactly once across restarts, retries with backoff); this
// delivers one notification and rejects when the gateway did not take it, so that the addon
// retries it.
//
// - The text goes to the session's origin conversation: on a chat channel through that channel's
//   outbound adapter (`api.runtime.channel.outbound.loadAdapter(channel).sendText`); a gateway
//   session with no outbound route (webchat, an HTTP tool call) gets it as a system event.
// - The agent of the conversation that launched the session is woken when the session waits for
//   input, ends or fails: a system event in its session (`api.runtime.system.enqueueSystemEvent`,
//   keyed by the notification's key) and a targeted wake (`requestHeartbeat` with source
//   `background-task`), so its next turn reads the event and can answer the session or tell the
//   user. This is what the anchor plugins do; events are read by the agent, not sent to people.
import type { OpenClawPluginApi } from 'openclaw/plugin-sdk/plugin-entry'
import type { Notification, SessionManager } from 'openclaw-sessions'
import { PluginError } from './format.js'
import type { Route } from './origin.js'
import { parseRoute } from './origin.js'

type Kind = Notification['kind']

/**
 * Notifications that wake the launching agent (a system event plus a heartbeat request). Not
 * `recovering`: the addon retries on its own, and the agent is woken by how that ends.
 */
export const WAKE_KINDS: ReadonlySet<Kind> = new Set<Kind>(['waiting-for-input', 'completed', 'failed', 'interrupted', 'killed', 'budget-exhausted', 'auto-respond-limit'])

/** Notifications about what the agent itself just did: not echoed into its own session. */
const OWN_ACTIONS: ReadonlySet<Kind> = new Set<Kind>(['launched', 'responded'])

/** A prefix that tells the agent where an event comes from. */
const EVENT_PREFIX = '[openclaw-sessions]'

export function deliverer(api: OpenClawPluginApi, manager: SessionManager): (n: Notification) => Promise<void> {
  const sendText = async (route: Extract<Route, { kind: 'chat' }>, text: string): Promise<void> => {
    const adapter = await api.runtime.channel.outbound.loadAdapter(route.channel)
    if (!adapter?.sendText) throw new PluginError('E_DELIVERY', `channel '${route.channel}' has no outbound text adapter in this gateway`)
    await adapter.sendText({ cfg: api.config, to: route.to, text, accountId: route.accountId ?? null, threadId: route.threadId ?? null })
  }

  const systemEvent = (sessionKey: string, n: Notification): void => {
    const accepted = api.runtime.system.enqueueSystemEvent(`${EVENT_PREFIX} ${n.text}`, { sessionKey, contextKey: `openclaw-sessions:${n.key}` })
    // The gateway refuses only an empty text or the same event still queued (a retry of this
    // notification after a later step failed): nothing is lost, so it is logged, not retried.
    if (!accepted) api.logger.warn(`openclaw-sessions: ${n.kind} notification ${n.key} for ${sessionKey} was already queued`)
  }

  return async (n) => {
    const route = parseRoute(n.channel)
    if (!route) throw new PluginError('E_DELIVERY', `'${n.channel}' is not a route this plugin can deliver to (expected <channel>:<to> or session:<key>)`)
    // The agent to wake: the conversation that launched the session.
    const agentSession = sessionOrigin(manager, n.sessionId) ?? (route.kind === 'session' ? route.sessionKey : undefined)
    const wake = WAKE_KINDS.has(n.kind) && agentSession !== undefined

    if (route.kind === 'chat') await sendText(route, n.text)
    else if (!OWN_ACTIONS.has(n.kind) && !wake) systemEvent(route.sessionKey, n)

    if (wake && agentSession) {
      systemEvent(agentSession, n)
      api.runtime.system.requestHeartbeat({ source: 'background-task', intent: 'immediate', reason: `openclaw-sessions:${n.kind}`, sessionKey: agentSession })
    }
  }
}

/** The gateway session key that launched the session (its `origin.agent`), if any. */
function sessionOrigin(manager: SessionManager, sessionId: string): string | undefined {
  try {
    return manager.get(sessionId).origin?.agent ?? undefined
  } catch {
    return undefined
  }
}
