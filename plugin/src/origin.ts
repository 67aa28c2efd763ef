// Where a session came from and where its notifications go. The addon routes a notification to
// a channel string (the session's `origin.channel`, else `agentChannels` / `fallbackChannel`);
// this plugin writes that string as a route it can deliver through the gateway:
//
//   <channel>:<to>[#<threadId>]   a conversation on a chat channel, e.g. `telegram:123456`,
//                                 `slack:channel:C042#1712.5`; an account: `<channel>@<accountId>:<to>`
//   session:<sessionKey>          a gateway session with no outbound route (webchat, the
//                                 Control UI, an HTTP tool call): notified in the session itself
//
// `origin.agent` keeps the gateway session key of the conversation that launched the session
// (the agent to wake), `origin.owner` the sender's id: the session's owner, whom alone its
// sessions are visible to (`requester.ts`). Both come from the trusted tool or
// command context, never from tool arguments.
import type { OpenClawPluginToolContext, PluginCommandContext } from 'openclaw/plugin-sdk/plugin-entry'
import type { Origin } from 'openclaw-sessions'
import { PluginError } from './format.js'
import { optString } from './params.js'

/** A parsed route. */
export type Route =
  | { kind: 'chat'; channel: string; to: string; accountId?: string; threadId?: string }
  | { kind: 'session'; sessionKey: string }

/** The delivery target the gateway describes a conversation with (its DeliveryContext). */
export interface Target {
  channel?: string | undefined
  to?: string | undefined
  accountId?: string | undefined
  threadId?: string | number | undefined
}

/** Surfaces that live inside the gateway: no outbound adapter, the session itself is the chat. */
const INTERNAL_SURFACES = new Set(['webchat', 'internal', 'gateway', 'cli', 'tui'])

/** Whether `channel` is one of the gateway's own surfaces (its clients hold the gateway's credentials). */
export const isInternalSurface = (channel: string | undefined): boolean => channel !== undefined && INTERNAL_SURFACES.has(channel)

export function formatRoute(target: Target | undefined, sessionKey: string | undefined): string | undefined {
  const { channel, to, accountId, threadId } = target ?? {}
  if (channel && to && !INTERNAL_SURFACES.has(channel)) {
    const account = accountId ? `@${accountId}` : ''
    const thread = threadId !== undefined && threadId !== '' ? `#${threadId}` : ''
    return `${channel}${account}:${to}${thread}`
  }
  return sessionKey ? `session:${sessionKey}` : undefined
}

export function parseRoute(route: string): Route | undefined {
  if (route.startsWith('session:')) {
    const sessionKey = route.slice('session:'.length)
    return sessionKey ? { kind: 'session', sessionKey } : undefined
  }
  // The target may hold ':' and '#' itself (`channel:C042`, Matrix `#room:server`): a thread is
  // only a last `#<id>` with neither in it.
  const m = /^([^:@#\s]+)(?:@([^:\s]+))?:(.+?)(?:#([^#:\s]+))?$/.exec(route)
  if (!m || !m[1] || !m[3]) return undefined
  const r: Route = { kind: 'chat', channel: m[1], to: m[3] }
  if (m[2]) r.accountId = m[2]
  if (m[4]) r.threadId = m[4]
  return r
}

function origin(route: string | undefined, sessionKey: string | undefined, owner: string | undefined): Origin {
  const o: Origin = {}
  if (route) o.channel = route
  if (sessionKey) o.agent = sessionKey
  const who = owner?.trim()
  if (who) o.owner = who
  return o
}

export function routeOfTool(ctx: OpenClawPluginToolContext): string {
  const route = formatRoute(ctx.deliveryContext, ctx.sessionKey)
  if (!route) throw routeMissing()
  return route
}

export function originOfTool(ctx: OpenClawPluginToolContext): Origin {
  return origin(formatRoute(ctx.deliveryContext, ctx.sessionKey), ctx.sessionKey, ctx.requesterSenderId ?? undefined)
}

/** A command's conversation: the surface, and `to` (a group, or the bot in a direct chat: then `from`). */
function commandTarget(ctx: PluginCommandContext): Target {
  return { channel: ctx.channel, to: ctx.to ?? ctx.from, accountId: ctx.accountId, threadId: ctx.messageThreadId }
}

export function routeOfCommand(ctx: PluginCommandContext): string {
  const route = formatRoute(commandTarget(ctx), ctx.sessionKey)
  if (!route) throw routeMissing()
  return route
}

export function originOfCommand(ctx: PluginCommandContext): Origin {
  return origin(formatRoute(commandTarget(ctx), ctx.sessionKey), ctx.sessionKey, ctx.senderId)
}

/** A gateway method's launch: `channel` and `session_key` parameters, as the caller says. */
export function originOfParams(p: Record<string, unknown>): Origin {
  const sessionKey = optString(p, 'session_key')
  return origin(optString(p, 'channel') ?? formatRoute(undefined, sessionKey), sessionKey, undefined)
}

function routeMissing(): PluginError {
  return new PluginError('E_INVALID_ARGUMENT', 'this call has no conversation to stream to: pass channel (e.g. "telegram:123456")')
}
