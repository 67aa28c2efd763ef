// Gateway RPC methods `openclaw-sessions.<name>`: JSON in, JSON out, over every backend
// (`backend` selects one). Results are `{ ok: true, text, result }` or
// `{ ok: false, text, error: { code, message } }`; nothing throws.
import type { Outcome, SessionActions } from './actions.js'
import { attempt } from './actions.js'
import type { BackendFamily } from './backends.js'
import { anyBackend, claude, codex } from './backends.js'
import type { ErrorDetails } from './format.js'
import type { OpenClawPluginApi } from './openclaw-api.js'
import { optBoolean, optEnum, optNumber, optString, reqString } from './params.js'
import { parseKillMode, parseLaunch, parseRespond, parseStatus } from './tools.js'

type Params = Record<string, unknown>

export type GatewayResult = { ok: true; text: string; result: unknown } | { ok: false; text: string; error: ErrorDetails }

export const GATEWAY_PREFIX = 'openclaw-sessions'

/** The family a `backend` parameter selects (launch picks the backend itself: default claude). */
function familyOf(p: Params): BackendFamily {
  const backend = optEnum(p, 'backend', ['claude', 'codex', 'codex-exec'] as const)
  return backend === undefined ? anyBackend : backend === 'claude' ? claude : codex
}

function toJson(o: Outcome): GatewayResult {
  return o.ok ? { ok: true, text: o.text, result: o.data } : { ok: false, text: o.text, error: o.error }
}

export function registerGatewayMethods(api: OpenClawPluginApi, actionsFor: (family: BackendFamily) => SessionActions): void {
  const methods: Record<string, (p: Params) => Promise<Outcome>> = {
    launch: (p) => actionsFor(anyBackend).launch(parseLaunch(p), p),
    sessions: (p) => actionsFor(familyOf(p)).sessions(parseStatus(p), optNumber(p, 'limit')),
    kill: (p) => actionsFor(familyOf(p)).kill(reqString(p, 'session'), parseKillMode(p)),
    respond: (p) => actionsFor(familyOf(p)).respond(reqString(p, 'session'), parseRespond(p, false)),
    resume: (p) => actionsFor(familyOf(p)).resume(reqString(p, 'session'), optString(p, 'prompt'), optBoolean(p, 'fork')),
    output: (p) => actionsFor(familyOf(p)).output(reqString(p, 'session'), optNumber(p, 'lines')),
    stats: (p) => actionsFor(familyOf(p)).stats(),
  }
  for (const [name, run] of Object.entries(methods)) {
    api.registerGatewayMethod(`${GATEWAY_PREFIX}.${name}`, async (params) => toJson(await attempt(() => run(params ?? {}))))
  }
}
