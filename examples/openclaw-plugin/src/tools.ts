// The agent tools `<family>_launch`, `_sessions`, `_kill`, `_output`, `_fg`, `_bg`,
// `_respond`, `_stats`, `_resume`, defined once and registered for each backend family.
import type { KillMode, LaunchInput, Outcome, RespondInput, SessionActions, StatusFilter } from './actions.js'
import { attempt } from './actions.js'
import type { JsonSchema, OpenClawPluginApi, ToolResult } from './openclaw-api.js'
import { optBoolean, optEnum, optNumber, optString, reqString } from './params.js'

type Params = Record<string, unknown>

export const STATUS_FILTERS: readonly StatusFilter[] = [
  'all', 'live', 'starting', 'running', 'waiting-for-input', 'completed', 'failed', 'interrupted', 'killed',
]

const sessionParam: JsonSchema = { type: 'string', description: 'The session: its id, an id prefix (4+ characters), its name, or the CLI session / thread id.' }
const channelParam: JsonSchema = { type: 'string', description: 'A chat channel, e.g. "tg:123".' }

// Parameter readers, shared with the gateway methods.
export function parseLaunch(p: Params): LaunchInput {
  const input: LaunchInput = { prompt: reqString(p, 'prompt') }
  const name = optString(p, 'name')
  const workdir = optString(p, 'workdir')
  const model = optString(p, 'model')
  const channel = optString(p, 'channel')
  const resume = optString(p, 'resume_session_id')
  const fork = optBoolean(p, 'fork_session')
  if (name !== undefined) input.name = name
  if (workdir !== undefined) input.workdir = workdir
  if (model !== undefined) input.model = model
  if (channel !== undefined) input.channel = channel
  if (resume !== undefined) input.resumeSessionId = resume
  if (fork !== undefined) input.fork = fork
  return input
}

export function parseRespond(p: Params, userInitiatedDefault: boolean): RespondInput {
  const input: RespondInput = { userInitiated: optBoolean(p, 'user_initiated') ?? userInitiatedDefault }
  const message = optString(p, 'message')
  const permission = optEnum(p, 'permission', ['allow', 'deny'] as const)
  const requestId = optString(p, 'request_id')
  if (message !== undefined) input.message = message
  if (permission !== undefined) input.permission = permission
  if (requestId !== undefined) input.requestId = requestId
  return input
}

export const parseKillMode = (p: Params): KillMode => optEnum(p, 'mode', ['kill', 'interrupt'] as const) ?? 'interrupt'
export const parseStatus = (p: Params): StatusFilter => optEnum(p, 'status', STATUS_FILTERS) ?? 'all'

interface ToolSpec {
  suffix: string
  description: string
  properties: Record<string, JsonSchema>
  required?: string[]
  run(p: Params): Promise<Outcome>
}

function toolSpecs(a: SessionActions): ToolSpec[] {
  const t = a.family.title
  return [
    {
      suffix: 'launch',
      description: `Start a ${t} session on a coding task. It runs in the background; the chat is told when it waits for input or ends.`,
      properties: {
        prompt: { type: 'string', description: 'The task: the first message of the session.' },
        name: { type: 'string', description: 'A short unique name to refer to the session.' },
        workdir: { type: 'string', description: 'Absolute working directory (default: the configured one).' },
        model: { type: 'string', description: 'Model override.' },
        channel: { ...channelParam, description: 'The chat channel to notify (the origin of the request).' },
        resume_session_id: { type: 'string', description: 'Continue this CLI session / thread id (a UUID).' },
        fork_session: { type: 'boolean', description: 'With resume_session_id: continue a copy of it.' },
        ...a.family.launchSchema,
      },
      required: ['prompt'],
      run: (p) => a.launch(parseLaunch(p), p),
    },
    {
      suffix: 'sessions',
      description: `List ${t} sessions: name, id prefix, status, turns, cost, and which session each one resumed or forked.`,
      properties: { status: { type: 'string', enum: [...STATUS_FILTERS], description: 'Only these (default all).' } },
      run: (p) => a.sessions(parseStatus(p)),
    },
    {
      suffix: 'kill',
      description: `Stop a ${t} session: 'interrupt' (default) stops it gracefully so it can be resumed, 'kill' ends it at once.`,
      properties: { session: sessionParam, mode: { type: 'string', enum: ['interrupt', 'kill'] } },
      required: ['session'],
      run: (p) => a.kill(reqString(p, 'session'), parseKillMode(p)),
    },
    {
      suffix: 'output',
      description: `The latest assistant output of a ${t} session.`,
      properties: { session: sessionParam, lines: { type: 'integer', minimum: 1, description: 'How many last lines (default all kept).' } },
      required: ['session'],
      run: (p) => a.output(reqString(p, 'session'), optNumber(p, 'lines')),
    },
    {
      suffix: 'fg',
      description: `Stream a ${t} session's output and tool calls to a channel, starting with what it missed.`,
      properties: { session: sessionParam, channel: channelParam },
      required: ['session', 'channel'],
      run: (p) => a.foreground(reqString(p, 'session'), reqString(p, 'channel')),
    },
    {
      suffix: 'bg',
      description: `Stop streaming a ${t} session to a channel.`,
      properties: { session: sessionParam, channel: channelParam },
      required: ['session', 'channel'],
      run: (p) => a.background(reqString(p, 'session'), reqString(p, 'channel')),
    },
    {
      suffix: 'respond',
      description:
        `Send the next message to a ${t} session that waits for input, or answer its pending permission request. ` +
        'Your replies count as automatic (capped in a row) unless user_initiated is true because the user said it.',
      properties: {
        session: sessionParam,
        message: { type: 'string', description: 'The message (or, with permission deny, the reason).' },
        user_initiated: { type: 'boolean', description: 'The user wrote this message (default false).' },
        permission: { type: 'string', enum: ['allow', 'deny'], description: 'Answer the pending permission request instead.' },
        request_id: { type: 'string', description: 'Which permission request (default the oldest).' },
      },
      required: ['session'],
      run: (p) => a.respond(reqString(p, 'session'), parseRespond(p, false)),
    },
    {
      suffix: 'stats',
      description: `Counters: ${t} sessions, turns and cost, and the manager's totals.`,
      properties: {},
      run: () => a.stats(),
    },
    {
      suffix: 'resume',
      description: `Continue a finished ${t} session's conversation in a new session (or a copy of it with fork).`,
      properties: {
        session: sessionParam,
        prompt: { type: 'string', description: 'The next message (default: none, the session waits).' },
        fork: { type: 'boolean', description: 'Continue a copy under a new id.' },
      },
      required: ['session'],
      run: (p) => a.resume(reqString(p, 'session'), optString(p, 'prompt'), optBoolean(p, 'fork')),
    },
  ]
}

export function toToolResult(o: Outcome): ToolResult {
  return { content: [{ type: 'text', text: o.text }], details: o.ok ? o.data : { error: o.error } }
}

export function registerTools(api: OpenClawPluginApi, actions: SessionActions): void {
  for (const spec of toolSpecs(actions)) {
    const parameters: JsonSchema = { type: 'object', properties: spec.properties, additionalProperties: false }
    if (spec.required) parameters.required = spec.required
    api.registerTool({
      name: `${actions.family.id}_${spec.suffix}`,
      description: spec.description,
      parameters,
      execute: async (_toolCallId, params) => toToolResult(await attempt(() => spec.run(params))),
    })
  }
}
