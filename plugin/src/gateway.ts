// Gateway RPC methods `openclaw-sessions.<name>` (`openclaw gateway call`, the Control UI, other
// clients). They take the tools' parameters plus `backend` (launch: `claude` by default, the
// others: every backend unless one is named) and answer through the gateway's `respond`:
// `respond(true, { text, result })`, or `respond(false, undefined, { code, message })` with the
// addon's error code (E_NOT_FOUND, E_STATE, ...).
import type { OpenClawPluginApi } from 'openclaw/plugin-sdk/plugin-entry'
import type { Done, SessionActions } from './actions.js'
import { attempt } from './actions.js'
import type { BackendFamily } from './backends.js'
import { anyBackend, claude, codex } from './backends.js'
import { originOfParams } from './origin.js'
import { optBoolean, optEnum, optNumber, optString, reqString } from './params.js'
import { parseKillMode, parseLaunch, parseRespond, parseStatus } from './tools.js'

type Params = Record<string, unknown>
type Handler = Parameters<OpenClawPluginApi['registerGatewayMethod']>[1]

export const GATEWAY_PREFIX = 'openclaw-sessions'

/** The family a `backend` parameter selects. */
function familyOf(p: Params): BackendFamily {
  const backend = optEnum(p, 'backend', ['claude', 'codex', 'codex-exec'] as const)
  return backend === undefined ? anyBackend : backend === 'claude' ? claude : codex
}

export function registerGatewayMethods(api: OpenClawPluginApi, actionsFor: (family: BackendFamily) => SessionActions): void {
  const methods: Record<string, (p: Params) => Done | Promise<Done>> = {
    launch: (p) => actionsFor(anyBackend).launch(parseLaunch(p), p, originOfParams(p)),
    sessions: (p) => actionsFor(familyOf(p)).sessions(parseStatus(p), optNumber(p, 'limit')),
    kill: (p) => actionsFor(familyOf(p)).kill(reqString(p, 'session'), parseKillMode(p)),
    respond: (p) => actionsFor(familyOf(p)).respond(reqString(p, 'session'), parseRespond(p, true)),
    resume: (p) => actionsFor(familyOf(p)).resume(reqString(p, 'session'), optString(p, 'prompt'), optBoolean(p, 'fork')),
    output: (p) => actionsFor(familyOf(p)).output(reqString(p, 'session'), optNumber(p, 'lines'), optBoolean(p, 'full') ?? false),
    stats: (p) => actionsFor(familyOf(p)).stats(),
  }
  for (const [name, run] of Object.entries(methods)) {
    const handler: Handler = async ({ params, respond }) => {
      const o = await attempt(() => run(params ?? {}))
      if (o.ok) respond(true, { text: o.text, result: o.data })
      else respond(false, undefined, { code: o.error.code, message: o.error.message })
    }
    api.registerGatewayMethod(`${GATEWAY_PREFIX}.${name}`, handler)
  }
}
