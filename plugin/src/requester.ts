// Who asks: each tool call and command from a chat channel acts for its sender, read from the
// gateway's trusted context (the tool context's `requesterSenderId`, the command context's
// `senderId`; never a tool argument). A sender sees and touches only the sessions they launched
// (the addon's `manager.forOwner(sender)`: another sender's session is E_FORBIDDEN); a sender
// listed in the config's `operators` gets the operator's view of every session. Calls from the
// gateway's own surfaces (the Control UI's webchat, `openclaw gateway call`, the TUI: their
// clients hold the gateway's credentials) and calls with no sender id (`/tools/invoke`) are the
// operator's. (Chat channels give every inbound message its sender id.)
import type { OpenClawPluginToolContext, PluginCommandContext } from 'openclaw/plugin-sdk/plugin-entry'
import { isInternalSurface } from './origin.js'

/** The view a call acts in: every session, or one owner's. */
export type Requester = { kind: 'operator' } | { kind: 'owner'; id: string }

export const OPERATOR: Requester = { kind: 'operator' }

/** The requester of a call from `senderId` on `channel` (see the file comment). */
export function requester(senderId: string | null | undefined, channel: string | undefined, operators: readonly string[]): Requester {
  const id = senderId?.trim()
  if (!id || isInternalSurface(channel)) return OPERATOR
  return operators.includes(id) ? OPERATOR : { kind: 'owner', id }
}

export function requesterOfTool(ctx: OpenClawPluginToolContext, operators: readonly string[]): Requester {
  return requester(ctx.requesterSenderId, ctx.messageChannel ?? ctx.deliveryContext?.channel, operators)
}

export function requesterOfCommand(ctx: PluginCommandContext, operators: readonly string[]): Requester {
  return requester(ctx.senderId, ctx.channel, operators)
}
