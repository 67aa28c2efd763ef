// Chat slash commands: `/claude_launch <prompt>`, `/claude_sessions`, `/claude_kill <ref>`, ...
// and the `/codex_*` ones, defined once per backend family. (`/codex` belongs to the gateway's
// own Codex plugin, so the launch commands are `/claude_launch` and `/codex_launch`.) The
// conversation the command came from (the context's session key and route) is the session's
// origin, where it reports, and the foreground channel. Each command acts for its sender
// (`requester.ts`): only their own sessions. A user's message resets the
// auto-respond cap. A command answers with text; errors are answered, not thrown.
import type { OpenClawPluginApi, PluginCommandContext } from 'openclaw/plugin-sdk/plugin-entry'
import type { Done, SessionActions } from './actions.js'
import { attempt } from './actions.js'
import { PluginError } from './format.js'
import { originOfCommand, routeOfCommand } from './origin.js'
import { requesterOfCommand } from './requester.js'
import { splitArgs } from './params.js'
import { STATUS_FILTERS } from './tools.js'

type CommandContext = PluginCommandContext

interface CommandSpec {
  suffix: string
  usage: string
  description: string
  /** `a`: the family's actions in the sender's view (`requesterOfCommand`). */
  run(a: SessionActions, ctx: CommandContext): Done | Promise<Done>
}

function usage(text: string): never {
  throw new PluginError('E_INVALID_ARGUMENT', `usage: ${text}`)
}

function commandSpecs(a: SessionActions): CommandSpec[] {
  const f = a.family.id
  const t = a.family.title
  // The session ref (first word) or a usage error.
  const ref = (ctx: CommandContext, u: string): { ref: string; rest: string } => {
    const { first, rest } = splitArgs(ctx.args)
    return first === undefined ? usage(u) : { ref: first, rest }
  }
  return [
    {
      suffix: '_launch',
      usage: `/${f}_launch <prompt>`,
      description: `Start a ${t} session; it reports back here.`,
      run: (a, ctx) => {
        const prompt = (ctx.args ?? '').trim()
        if (prompt === '') usage(`/${f}_launch <prompt>`)
        return a.launch({ prompt }, {}, originOfCommand(ctx))
      },
    },
    {
      suffix: '_sessions',
      usage: `/${f}_sessions [${STATUS_FILTERS.join('|')}]`,
      description: `List ${t} sessions and their resume chains.`,
      run: (a, ctx) => {
        const want = splitArgs(ctx.args).first ?? 'all'
        const filter = STATUS_FILTERS.find((s) => s === want)
        return filter ? a.sessions(filter) : usage(`/${f}_sessions [${STATUS_FILTERS.join('|')}]`)
      },
    },
    {
      suffix: '_kill',
      usage: `/${f}_kill <session> [interrupt|kill]`,
      description: `Stop a ${t} session (gracefully, resumable; 'kill' ends it at once).`,
      run: (a, ctx) => {
        const u = `/${f}_kill <session> [interrupt|kill]`
        const { ref: r, rest } = ref(ctx, u)
        if (rest !== '' && rest !== 'kill' && rest !== 'interrupt') usage(u)
        return a.kill(r, rest === 'kill' ? 'kill' : 'interrupt')
      },
    },
    {
      suffix: '_output',
      usage: `/${f}_output <session> [lines]`,
      description: `Show a ${t} session's latest output.`,
      run: (a, ctx) => {
        const { ref: r, rest } = ref(ctx, `/${f}_output <session> [lines]`)
        const lines = rest === '' ? undefined : Number(rest)
        if (lines !== undefined && !(Number.isInteger(lines) && lines > 0)) usage(`/${f}_output <session> [lines]`)
        return a.output(r, lines)
      },
    },
    {
      suffix: '_fg',
      usage: `/${f}_fg <session>`,
      description: `Stream a ${t} session's output to this chat.`,
      run: (a, ctx) => a.foreground(ref(ctx, `/${f}_fg <session>`).ref, routeOfCommand(ctx)),
    },
    {
      suffix: '_bg',
      usage: `/${f}_bg <session>`,
      description: `Stop streaming a ${t} session to this chat.`,
      run: (a, ctx) => a.background(ref(ctx, `/${f}_bg <session>`).ref, routeOfCommand(ctx)),
    },
    {
      suffix: '_resume',
      usage: `/${f}_resume <session> [prompt]`,
      description: `Continue a finished ${t} session.`,
      run: (a, ctx) => {
        const { ref: r, rest } = ref(ctx, `/${f}_resume <session> [prompt]`)
        return a.resume(r, rest === '' ? undefined : rest)
      },
    },
    {
      suffix: '_respond',
      usage: `/${f}_respond <session> <message | allow | deny>`,
      description: `Answer a waiting ${t} session (or its pending permission request with allow / deny).`,
      run: async (a, ctx) => {
        const u = `/${f}_respond <session> <message | allow | deny>`
        const { ref: r, rest } = ref(ctx, u)
        if (rest === '') usage(u)
        const answer = rest.toLowerCase()
        if ((answer === 'allow' || answer === 'deny') && (await a.resolve(r)).pendingPermissions.length > 0) {
          return a.respond(r, { userInitiated: true, permission: answer })
        }
        return a.respond(r, { userInitiated: true, message: rest })
      },
    },
    {
      suffix: '_stats',
      usage: `/${f}_stats`,
      description: `${t} session counters.`,
      run: (a) => a.stats(),
    },
  ]
}

/** Registers the family's commands; each acts in its sender's view (`operators`: the senders with every session's). */
export function registerCommands(api: OpenClawPluginApi, actions: SessionActions, operators: readonly string[]): void {
  for (const spec of commandSpecs(actions)) {
    api.registerCommand({
      name: `${actions.family.id}${spec.suffix}`,
      description: `${spec.description} Usage: ${spec.usage}`,
      acceptsArgs: spec.usage.includes('<') || spec.usage.includes('['),
      handler: async (ctx: CommandContext) => ({
        text: (await attempt(() => spec.run(actions.as(requesterOfCommand(ctx, operators)), ctx))).text,
      }),
    })
  }
}
