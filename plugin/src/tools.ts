// The agent tools `<family>_launch`, `_respond`, `_output`, `_kill`, `_sessions`, `_fg`, `_bg`,
// `_stats`, `_resume`, defined once and registered for each backend family. Names and
// parameters are openclaw-claude-code-plugin's (a drop-in), plus what the addon adds
// (permission answers, resume, kill modes, codex-exec). Each tool is registered as a factory so
// that a launch records the conversation it came from (the tool context's session key and
// delivery route) as the session's origin. Each call acts for its sender (`requester.ts`): a
// sender sees and touches only their own sessions. A tool fails by throwing an error with a
// `code`.
import type { AnyAgentTool, OpenClawPluginApi, OpenClawPluginToolContext } from 'openclaw/plugin-sdk/plugin-entry'
import type { Done, KillMode, LaunchInput, RespondInput, SessionActions, StatusFilter } from './actions.js'
import { errorDetails } from './format.js'
import { originOfTool, routeOfTool } from './origin.js'
import { requesterOfTool } from './requester.js'
import type { JsonSchema } from './params.js'
import { optBoolean, optEnum, optNumber, optString, reqString } from './params.js'

type Params = Record<string, unknown>
/** What a tool's execute resolves with (the SDK's AgentToolResult). */
export type ToolResult = Awaited<ReturnType<AnyAgentTool['execute']>>

export const STATUS_FILTERS: readonly StatusFilter[] = [
  'all', 'live', 'starting', 'running', 'waiting-for-input', 'recovering', 'completed', 'failed', 'interrupted', 'killed',
]

const sessionParam: JsonSchema = { type: 'string', description: 'The session: its name, id, an id prefix (4+ characters), or the CLI session / thread id.' }
const channelParam: JsonSchema = { type: 'string', description: 'Where to send updates, as `<channel>:<to>` (e.g. "telegram:123456"); default: this conversation.' }

// Parameter readers, shared with the gateway methods.
export function parseLaunch(p: Params): LaunchInput {
  const input: LaunchInput = { prompt: reqString(p, 'prompt') }
  const name = optString(p, 'name')
  const workdir = optString(p, 'workdir')
  const model = optString(p, 'model')
  const channel = optString(p, 'channel')
  const resume = optString(p, 'resume_session_id')
  const fork = optBoolean(p, 'fork_session')
  const multiTurn = optBoolean(p, 'multi_turn')
  if (name !== undefined) input.name = name
  if (workdir !== undefined) input.workdir = workdir
  if (model !== undefined) input.model = model
  if (channel !== undefined) input.channel = channel
  if (resume !== undefined) input.resumeSessionId = resume
  if (fork !== undefined) input.fork = fork
  if (multiTurn !== undefined) input.multiTurn = multiTurn
  return input
}

export function parseRespond(p: Params, userInitiatedDefault: boolean): RespondInput {
  const input: RespondInput = { userInitiated: optBoolean(p, 'user_initiated') ?? userInitiatedDefault }
  const message = optString(p, 'message')
  const interrupt = optBoolean(p, 'interrupt')
  const permission = optEnum(p, 'permission', ['allow', 'deny'] as const)
  const requestId = optString(p, 'request_id')
  if (message !== undefined) input.message = message
  if (interrupt !== undefined) input.interrupt = interrupt
  if (permission !== undefined) input.permission = permission
  if (requestId !== undefined) input.requestId = requestId
  return input
}

export const parseKillMode = (p: Params): KillMode => optEnum(p, 'mode', ['kill', 'interrupt'] as const) ?? 'interrupt'
export const parseStatus = (p: Params): StatusFilter => optEnum(p, 'status', STATUS_FILTERS) ?? 'all'

interface ToolSpec {
  suffix: string
  label: string
  description: string
  properties: Record<string, JsonSchema>
  required?: string[]
  /** `a`: the family's actions in the caller's view (`requesterOfTool`). */
  run(a: SessionActions, p: Params, ctx: OpenClawPluginToolContext): Done | Promise<Done>
}

/** The channel a `_fg` / `_bg` call means: the parameter, else this conversation. */
function channelFor(p: Params, ctx: OpenClawPluginToolContext): string {
  return optString(p, 'channel') ?? routeOfTool(ctx)
}

function toolSpecs(a: SessionActions): ToolSpec[] {
  const t = a.family.title
  return [
    {
      suffix: 'launch',
      label: `Launch ${t}`,
      description: `Start a ${t} session on a coding task. It runs in the background; this conversation is told when it waits for input or ends.`,
      properties: {
        prompt: { type: 'string', description: 'The task: the first message of the session.' },
        name: { type: 'string', description: 'A short unique name to refer to the session.' },
        workdir: { type: 'string', description: 'Absolute working directory (default: the configured defaultWorkdir).' },
        model: { type: 'string', description: 'Model override (default: the configured defaultModel).' },
        channel: channelParam,
        resume_session_id: { type: 'string', description: 'Continue this CLI session / thread id.' },
        fork_session: { type: 'boolean', description: 'With resume_session_id: continue a copy of it under a new id.' },
        multi_turn: { type: 'boolean', description: 'false: end the session after its first turn (default true: it waits for the next message).' },
        ...a.family.launchSchema,
      },
      required: ['prompt'],
      run: (a, p, ctx) => a.launch(parseLaunch(p), p, originOfTool(ctx)),
    },
    {
      suffix: 'respond',
      label: `Reply to ${t}`,
      description:
        `Send the next message to a ${t} session that waits for input, interrupt its running turn, or answer its pending permission request. ` +
        'Your replies count as automatic (capped in a row) unless user_initiated is true because the user said it.',
      properties: {
        session: sessionParam,
        message: { type: 'string', description: 'The message (with permission deny: the reason).' },
        interrupt: { type: 'boolean', description: 'Interrupt the running turn first (then send message, if any).' },
        user_initiated: { type: 'boolean', description: 'The user wrote this message (default false).' },
        permission: { type: 'string', enum: ['allow', 'deny'], description: 'Answer the pending permission request instead.' },
        request_id: { type: 'string', description: 'Which permission request (default the oldest).' },
      },
      required: ['session'],
      run: (a, p) => a.respond(reqString(p, 'session'), parseRespond(p, false)),
    },
    {
      suffix: 'output',
      label: `${t} output`,
      description: `The latest assistant output of a ${t} session, with its status line.`,
      properties: {
        session: sessionParam,
        lines: { type: 'integer', minimum: 1, description: 'How many last lines (default 50).' },
        full: { type: 'boolean', description: 'Every line kept (the last 200 by default config).' },
      },
      required: ['session'],
      run: (a, p) => a.output(reqString(p, 'session'), optNumber(p, 'lines'), optBoolean(p, 'full') ?? false),
    },
    {
      suffix: 'kill',
      label: `Stop ${t}`,
      description: `Stop a ${t} session: 'interrupt' (default) stops it gracefully so it can be resumed, 'kill' ends it at once.`,
      properties: { session: sessionParam, mode: { type: 'string', enum: ['interrupt', 'kill'] } },
      required: ['session'],
      run: (a, p) => a.kill(reqString(p, 'session'), parseKillMode(p)),
    },
    {
      suffix: 'sessions',
      label: `${t} sessions`,
      description: `List ${t} sessions: name, id prefix, status, turns, cost, and which session each one resumed or forked.`,
      properties: { status: { type: 'string', enum: [...STATUS_FILTERS], description: 'Only these (default all).' } },
      run: (a, p) => a.sessions(parseStatus(p)),
    },
    {
      suffix: 'fg',
      label: `Follow ${t}`,
      description: `Stream a ${t} session's output and tool calls to this conversation (or channel), starting with what it missed.`,
      properties: { session: sessionParam, channel: channelParam },
      required: ['session'],
      run: (a, p, ctx) => a.foreground(reqString(p, 'session'), channelFor(p, ctx)),
    },
    {
      suffix: 'bg',
      label: `Unfollow ${t}`,
      description: `Stop streaming a ${t} session to this conversation (or channel).`,
      properties: { session: sessionParam, channel: channelParam },
      required: ['session'],
      run: (a, p, ctx) => a.background(reqString(p, 'session'), channelFor(p, ctx)),
    },
    {
      suffix: 'stats',
      label: `${t} stats`,
      description: `Counters: ${t} sessions, turns and cost, and the manager's totals.`,
      properties: {},
      run: (a) => a.stats(),
    },
    {
      suffix: 'resume',
      label: `Resume ${t}`,
      description: `Continue a finished (or interrupted) ${t} session's conversation in a new session, or a copy of it with fork.`,
      properties: {
        session: sessionParam,
        prompt: { type: 'string', description: 'The next message (default: none, the session waits).' },
        fork: { type: 'boolean', description: 'Continue a copy under a new id.' },
      },
      required: ['session'],
      run: (a, p) => a.resume(reqString(p, 'session'), optString(p, 'prompt'), optBoolean(p, 'fork')),
    },
  ]
}

/** The tool names of a family, for the manifest's `contracts.tools` (checked by a test). */
export function toolNames(a: SessionActions): string[] {
  return toolSpecs(a).map((s) => `${a.family.id}_${s.suffix}`)
}

function toolResult(d: Done): ToolResult {
  return { content: [{ type: 'text', text: d.text }], details: d.data }
}

/** Registers the family's tools; each call acts in its sender's view (`operators`: the senders with every session's). */
export function registerTools(api: OpenClawPluginApi, actions: SessionActions, operators: readonly string[]): void {
  for (const spec of toolSpecs(actions)) {
    const name = `${actions.family.id}_${spec.suffix}`
    const parameters: JsonSchema = { type: 'object', properties: spec.properties, additionalProperties: false }
    if (spec.required) parameters.required = spec.required
    api.registerTool(
      (ctx): AnyAgentTool => ({
        name,
        label: spec.label,
        description: spec.description,
        parameters,
        execute: async (_toolCallId, params) => {
          try {
            const scoped = actions.as(requesterOfTool(ctx, operators))
            return toolResult(await spec.run(scoped, isParams(params) ? params : {}, ctx))
          } catch (e) {
            throw new ToolError(e)
          }
        },
      }),
      { name },
    )
  }
}

/**
 * What a tool throws: the SDK asks tools to throw on failure. The message starts with the code
 * (`E_NOT_FOUND: no session ...`), which is what the agent reads; `code` carries it for programs.
 */
export class ToolError extends Error {
  readonly code: string
  constructor(cause: unknown) {
    const { code, message } = errorDetails(cause)
    super(`${code}: ${message}`, { cause })
    this.name = 'ToolError'
    this.code = code
  }
}

function isParams(v: unknown): v is Params {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
