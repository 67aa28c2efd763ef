// Who asks: each tool call and command acts for its sender, read from the gateway's trusted
// context (the tool context's `requesterSenderId`, the command context's `senderId`; never a
// tool argument). A sender sees and touches only the sessions they launched (the addon's
// `manager.forOwner(sender)`: another sender's session is E_FORBIDDEN); a sender listed in the
// config's `operators` gets the operator's view of every session. A call with no sender id
// comes from the gateway's own surfaces (the Control UI's webchat, `/tools/invoke`, an agent run
// the gateway starts itself), which need the gateway's credentials: the operator's view. (Chat
// channels give every inbound message its sender id; the gateway's allowlists rely on it.)
import type { OpenClawPluginToolContext, PluginCommandContext } from 'openclaw/plugin-sdk/plugin-entry'

/** The view a call acts in: every session, or one owner's. */
export type Requester = { kind: 'operator' } | { kind: 'owner'; id: string }

export const OPERATOR: Requester = { kind: 'operator' }

/** The requester of a call from `senderId` (see the file comment). */
export function requester(senderId: string | null | undefined, operators: readonly string[]): Requester {
  const id = senderId?.trim()
  if (!id) return OPERATOR
  return operators.includes(id) ? OPERATOR : { kind: 'owner', id }
}

export function requesterOfTool(ctx: OpenClawPluginToolContext, operators: readonly string[]): Requester {
  return requester(ctx.requesterSenderId, operators)
}

export function requesterOfCommand(ctx: PluginCommandContext, operators: readonly string[]): Requester {
  return requester(ctx.senderId, operators)
}
