// What the tools, commands and gateway methods do, once, over a backend family. Every action
// resolves with an Outcome: text for people, data for the gateway; errors never escape.
import { isAbsolute, resolve as resolvePath } from 'node:path'
import type { SessionInfo, SessionManager, SessionStatus, SpawnOptions } from 'openclaw-sessions'
import type { BackendFamily } from './backends.js'
import { defined } from './backends.js'
import { describe, errorDetails, errorText, label, PluginError, sessionTable, shortId, statsText } from './format.js'
import type { ErrorDetails } from './format.js'

export type Outcome = { ok: true; text: string; data: unknown } | { ok: false; text: string; error: ErrorDetails }

export interface LaunchInput {
  prompt: string
  name?: string
  workdir?: string
  model?: string
  channel?: string
  resumeSessionId?: string
  fork?: boolean
}

export interface RespondInput {
  message?: string
  userInitiated: boolean
  permission?: 'allow' | 'deny'
  requestId?: string
}

export type KillMode = 'kill' | 'interrupt'
export type StatusFilter = SessionStatus | 'live' | 'all'

const TERMINAL: readonly SessionStatus[] = ['completed', 'failed', 'interrupted', 'killed']
export const isLive = (s: SessionInfo): boolean => !TERMINAL.includes(s.status)

/** Runs an action; anything it throws becomes a failed Outcome with readable text. */
export async function attempt(fn: () => Outcome | Promise<Outcome>): Promise<Outcome> {
  try {
    return await fn()
  } catch (e) {
    return { ok: false, text: errorText(e), error: errorDetails(e) }
  }
}

const done = (text: string, data: unknown): Outcome => ({ ok: true, text, data })

export class SessionActions {
  constructor(
    private readonly manager: () => SessionManager,
    readonly family: BackendFamily,
    private readonly defaultWorkdir: () => string,
  ) {}

  private mine(s: SessionInfo): boolean {
    return this.family.backends.includes(s.backend)
  }

  /** A session of this family by id, id prefix (4+ characters), name or backend session id. */
  resolve(ref: string): SessionInfo {
    const m = this.manager()
    let found: SessionInfo | undefined
    try {
      found = m.get(ref)
    } catch (e) {
      if (errorDetails(e).code !== 'E_NOT_FOUND' || ref.length < 4) throw e
      const hits = m.list().filter((s) => this.mine(s) && s.id.startsWith(ref))
      if (hits.length > 1) throw new PluginError('E_NOT_FOUND', `'${ref}' matches ${hits.length} sessions (${hits.map(label).join(', ')}); give more of the id`)
      found = hits[0]
      if (!found) throw e
    }
    if (!this.mine(found)) {
      throw new PluginError('E_NOT_FOUND', `session ${label(found)} is a ${found.backend} session, not ${this.family.title}; use the ${found.backend === 'claude' ? 'claude' : 'codex'}_* tools`)
    }
    return found
  }

  /** `params`: the raw parameters, for the family's own launch options. */
  launch(input: LaunchInput, params: Record<string, unknown>): Promise<Outcome> {
    return attempt(async () => {
      const { backend, options } = this.family.launchExtras(params)
      if (input.workdir !== undefined && !isAbsolute(input.workdir)) {
        throw new PluginError('E_INVALID_ARGUMENT', `workdir must be an absolute path (got '${input.workdir}')`)
      }
      const workdir = input.workdir ?? resolvePath(this.defaultWorkdir())
      const spawn: SpawnOptions = {
        ...options,
        ...defined({
          name: input.name,
          model: input.model,
          resume: input.resumeSessionId,
          fork: input.resumeSessionId ? input.fork : undefined,
          origin: input.channel ? { channel: input.channel } : undefined,
        }),
        backend,
        prompt: input.prompt,
        workdir,
      }
      const s = await this.manager().spawn(spawn)
      const where = input.channel ? ` Updates go to ${input.channel}.` : ''
      return done(`Launched ${describe(s)} in ${s.workdir}.${where}`, s)
    })
  }

  sessions(filter: StatusFilter = 'all', limit = 50): Promise<Outcome> {
    return attempt(() => {
      const m = this.manager()
      const all = m.list().filter((s) => this.mine(s))
      const picked = all.filter((s) => (filter === 'all' ? true : filter === 'live' ? isLive(s) : s.status === filter))
      const shown = picked.slice(-limit)
      const more = picked.length > shown.length ? `\n(${picked.length - shown.length} older not shown)` : ''
      const text = `${this.family.title} sessions (${filter}):\n${sessionTable(shown, (id) => m.resumeChain(id))}${more}`
      return done(text, shown)
    })
  }

  kill(ref: string, mode: KillMode = 'interrupt'): Promise<Outcome> {
    return attempt(async () => {
      const id = this.resolve(ref).id
      const s = mode === 'kill' ? await this.manager().kill(id) : await this.manager().interrupt(id)
      return done(`${mode === 'kill' ? 'Killed' : 'Stopped'}: ${describe(s)}.${s.status === 'interrupted' ? ' It can be resumed.' : ''}`, s)
    })
  }

  output(ref: string, lines?: number): Promise<Outcome> {
    return attempt(() => {
      const s = this.resolve(ref)
      const out = this.manager().output(s.id, lines === undefined ? undefined : { lines })
      const body = out.length ? out.join('\n') : '(no output yet)'
      return done(`${describe(s)}\n---\n${body}`, { session: s, lines: out })
    })
  }

  foreground(ref: string, channel: string): Promise<Outcome> {
    return attempt(async () => {
      const s = this.resolve(ref)
      const missed = await this.manager().foreground(s.id, channel)
      const catchUp = missed.length ? `\n---\n${missed.join('\n')}` : ''
      return done(`Session ${label(s)} is now in the foreground on ${channel}: its output streams here.${catchUp}`, { session: s, lines: missed })
    })
  }

  background(ref: string, channel: string): Promise<Outcome> {
    return attempt(() => {
      const s = this.resolve(ref)
      this.manager().background(s.id, channel)
      return done(`Session ${label(s)} is back in the background on ${channel}; you will still be told when it waits or ends.`, s)
    })
  }

  respond(ref: string, input: RespondInput): Promise<Outcome> {
    return attempt(async () => {
      const m = this.manager()
      const s = this.resolve(ref)
      if (input.permission) {
        const pending = s.pendingPermissions
        const req = input.requestId ? pending.find((p) => p.requestId === input.requestId) : pending[0]
        if (!req) throw new PluginError('E_NOT_FOUND', `session ${label(s)} has no pending permission request${input.requestId ? ` ${input.requestId}` : ''}`)
        const after = await m.respondToPermission(s.id, req.requestId, {
          behavior: input.permission,
          ...defined({ message: input.permission === 'deny' ? input.message : undefined }),
        })
        return done(`Permission for ${req.toolName} ${input.permission === 'allow' ? 'granted' : 'denied'}: ${describe(after)}.`, after)
      }
      if (input.message === undefined || input.message.trim() === '') throw new PluginError('E_INVALID_ARGUMENT', 'a message (or a permission answer) is required')
      const after = await m.send(s.id, input.message, { userInitiated: input.userInitiated })
      const auto = input.userInitiated ? '' : ' (automatic reply)'
      return done(`Sent to ${label(after)}${auto}; it is ${after.status}. You will be told when it waits again.`, after)
    })
  }

  resume(ref: string, prompt?: string, fork?: boolean): Promise<Outcome> {
    return attempt(async () => {
      const old = this.resolve(ref)
      const s = await this.manager().resume(old.id, prompt ?? null, defined({ fork }))
      const how = fork ? 'Forked' : 'Resumed'
      const wait = prompt ? '' : ' It waits for a message (respond to it).'
      return done(`${how} ${shortId(old.id)} as ${describe(s)}.${wait}`, s)
    })
  }

  stats(): Promise<Outcome> {
    return attempt(() => {
      const m = this.manager()
      const stats = m.stats()
      const mine = m.list().filter((s) => this.mine(s))
      return done(statsText(this.family.title, stats, mine), { stats, sessions: mine.length })
    })
  }
}
