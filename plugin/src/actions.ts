// What the tools, commands and gateway methods do, once, over a backend family. Every action
// resolves with a Done (text for people, data for programs) or throws an error with a `code`
// (the addon's SessionError, or a PluginError); `attempt` turns that into an Outcome for the
// surfaces that answer instead of throwing (commands, gateway methods).
import { isAbsolute } from 'node:path'
import type { Origin, SessionInfo, SessionManager, SessionStatus, SpawnOptions } from 'openclaw-sessions'
import type { BackendFamily } from './backends.js'
import { defined } from './backends.js'
import type { LaunchDefaults } from './config.js'
import { describe, errorDetails, errorText, label, PluginError, sessionTable, shortId, statsText } from './format.js'
import type { ErrorDetails } from './format.js'
import type { Requester } from './requester.js'
import { OPERATOR } from './requester.js'

/** What an action resolves with. */
export interface Done {
  text: string
  data: unknown
}

export type Outcome = ({ ok: true } & Done) | { ok: false; text: string; error: ErrorDetails }

export interface LaunchInput {
  prompt: string
  name?: string
  workdir?: string
  model?: string
  /** Notify this channel instead of the conversation the launch came from. */
  channel?: string
  resumeSessionId?: string
  fork?: boolean
  /** false: the session is closed once its first turn ends (default true: it waits for input). */
  multiTurn?: boolean
}

export interface RespondInput {
  message?: string
  userInitiated: boolean
  /** Interrupt the running turn first, then send `message`. */
  interrupt?: boolean
  permission?: 'allow' | 'deny'
  requestId?: string
}

export type KillMode = 'kill' | 'interrupt'
export type StatusFilter = SessionStatus | 'live' | 'all'

const TERMINAL: readonly SessionStatus[] = ['completed', 'failed', 'interrupted', 'killed']
export const isLive = (s: SessionInfo): boolean => !TERMINAL.includes(s.status)

/** Runs an action; anything it throws becomes a failed Outcome with readable text. */
export async function attempt(fn: () => Done | Promise<Done>): Promise<Outcome> {
  try {
    return { ok: true, ...(await fn()) }
  } catch (e) {
    return { ok: false, text: errorText(e), error: errorDetails(e) }
  }
}

const done = (text: string, data: unknown): Done => ({ text, data })

/** How long `respond` with `interrupt` waits for the interrupted turn to end. */
const INTERRUPT_WAIT_MS = 30_000

/** What every family's actions share: the manager, the config's defaults, single-turn launches. */
export interface ActionsHost {
  manager(): SessionManager
  defaults(): LaunchDefaults
  /** Closes the session once its first turn ends (`multi_turn: false`). */
  closeAfterFirstTurn(sessionId: string): void
}

export class SessionActions {
  private view: SessionManager | undefined

  /** `requester`: whose view the actions act in (default the operator's: every session). */
  constructor(
    private readonly host: ActionsHost,
    readonly family: BackendFamily,
    readonly requester: Requester = OPERATOR,
  ) {}

  /** These actions in `requester`'s view: an owner's sees and touches only their sessions (`forOwner`). */
  as(requester: Requester): SessionActions {
    return new SessionActions(this.host, this.family, requester)
  }

  /** The operator's manager, or the requester's handle on it (E_FORBIDDEN for others' sessions). */
  private get manager(): SessionManager {
    if (this.requester.kind === 'operator') return this.host.manager()
    this.view ??= this.host.manager().forOwner(this.requester.id)
    return this.view
  }

  private mine(s: SessionInfo): boolean {
    return this.family.backends.includes(s.backend)
  }

  /** A session of this family by id, id prefix (4+ characters), name or backend session id. */
  async resolve(ref: string): Promise<SessionInfo> {
    const m = this.manager
    let found: SessionInfo | undefined
    try {
      found = m.get(ref)
    } catch (e) {
      if (errorDetails(e).code !== 'E_NOT_FOUND' || ref.length < 4) throw e
      const hits = (await m.list()).filter((s) => this.mine(s) && s.id.startsWith(ref))
      if (hits.length > 1) throw new PluginError('E_NOT_FOUND', `'${ref}' matches ${hits.length} sessions (${hits.map(label).join(', ')}); give more of the id`)
      found = hits[0]
      if (!found) throw e
    }
    if (!this.mine(found)) {
      throw new PluginError('E_NOT_FOUND', `session ${label(found)} is a ${found.backend} session, not ${this.family.title}; use the ${found.backend === 'claude' ? 'claude' : 'codex'}_* tools`)
    }
    return found
  }

  /** `params`: the raw parameters, for the family's own launch options; `origin`: who asked. */
  async launch(input: LaunchInput, params: Record<string, unknown>, origin: Origin): Promise<Done> {
    const defaults = this.host.defaults()
    const { backend, options } = this.family.launchExtras(params, defaults)
    const workdir = input.workdir ?? defaults.workdir
    if (!isAbsolute(workdir)) throw new PluginError('E_INVALID_ARGUMENT', `workdir must be an absolute path (got '${workdir}')`)
    const where: Origin = input.channel ? { ...origin, channel: input.channel } : origin
    const spawn: SpawnOptions = {
      ...options,
      ...defined({
        name: input.name,
        model: input.model ?? defaults.model,
        resume: input.resumeSessionId,
        fork: input.resumeSessionId ? input.fork : undefined,
        origin: Object.keys(where).length ? where : undefined,
      }),
      backend,
      prompt: input.prompt,
      workdir,
    }
    const s = await this.manager.spawn(spawn)
    if (input.multiTurn === false) this.host.closeAfterFirstTurn(s.id)
    const to = where.channel ? ` Updates go to ${where.channel}.` : ''
    return done(`Launched ${describe(s)} in ${s.workdir}.${to}`, s)
  }

  async sessions(filter: StatusFilter = 'all', limit = 50): Promise<Done> {
    const m = this.manager
    const all = (await m.list()).filter((s) => this.mine(s))
    const picked = all.filter((s) => (filter === 'all' ? true : filter === 'live' ? isLive(s) : s.status === filter))
    const shown = picked.slice(-limit)
    const more = picked.length > shown.length ? `\n(${picked.length - shown.length} older not shown)` : ''
    const text = `${this.family.title} sessions (${filter}):\n${sessionTable(shown, (id) => m.resumeChain(id))}${more}`
    return done(text, shown)
  }

  async kill(ref: string, mode: KillMode = 'interrupt'): Promise<Done> {
    const id = (await this.resolve(ref)).id
    const s = mode === 'kill' ? await this.manager.kill(id) : await this.manager.interrupt(id)
    return done(`${mode === 'kill' ? 'Killed' : 'Stopped'}: ${describe(s)}.${s.status === 'interrupted' ? ' It can be resumed.' : ''}`, s)
  }

  /** The last `lines` lines of assistant text (default 50); `full`: every line kept. */
  async output(ref: string, lines?: number, full = false): Promise<Done> {
    const s = await this.resolve(ref)
    const out = this.manager.output(s.id, full ? {} : { lines: lines ?? 50 })
    const body = out.length ? out.join('\n') : '(no output yet)'
    return done(`${describe(s)}\n---\n${body}`, { session: s, lines: out })
  }

  async foreground(ref: string, channel: string): Promise<Done> {
    const s = await this.resolve(ref)
    const missed = await this.manager.foreground(s.id, channel)
    const catchUp = missed.length ? `\n---\n${missed.join('\n')}` : ''
    return done(`Session ${label(s)} is now in the foreground on ${channel}: its output streams there.${catchUp}`, { session: s, lines: missed })
  }

  async background(ref: string, channel: string): Promise<Done> {
    const s = await this.resolve(ref)
    this.manager.background(s.id, channel)
    return done(`Session ${label(s)} is back in the background on ${channel}; you will still be told when it waits or ends.`, s)
  }

  async respond(ref: string, input: RespondInput): Promise<Done> {
    const m = this.manager
    let s = await this.resolve(ref)
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
    const message = input.message?.trim() ? input.message : undefined
    if (input.interrupt && (s.status === 'running' || s.status === 'starting')) {
      await m.interruptTurn(s.id)
      s = await this.waitFor(s.id, (x) => x.status !== 'running' && x.status !== 'starting', INTERRUPT_WAIT_MS)
      if (message === undefined) return done(`Interrupted the running turn of ${describe(s)}.`, s)
    }
    if (message === undefined) throw new PluginError('E_INVALID_ARGUMENT', 'a message (or a permission answer) is required')
    const after = await m.send(s.id, message, { userInitiated: input.userInitiated })
    const auto = input.userInitiated ? '' : ' (automatic reply)'
    return done(`Sent to ${label(after)}${auto}; it is ${after.status}. You will be told when it waits again.`, after)
  }

  async resume(ref: string, prompt?: string, fork?: boolean): Promise<Done> {
    const old = await this.resolve(ref)
    const s = await this.manager.resume(old.id, prompt ?? null, defined({ fork }))
    const how = fork ? 'Forked' : 'Resumed'
    const wait = prompt ? '' : ' It waits for a message (respond to it).'
    return done(`${how} ${shortId(old.id)} as ${describe(s)}.${wait}`, s)
  }

  /** The family's sessions in this view; the manager-wide counters for the operator only. */
  async stats(): Promise<Done> {
    const m = this.manager
    const stats = this.requester.kind === 'operator' ? m.stats() : undefined
    const mine = (await m.list()).filter((s) => this.mine(s))
    return done(statsText(this.family.title, stats, mine), { stats, sessions: mine.length })
  }

  /** The session once `ok` holds for it (checked on each of its events), or E_TIMEOUT. */
  private waitFor(id: string, ok: (s: SessionInfo) => boolean, timeoutMs: number): Promise<SessionInfo> {
    const m = this.manager
    return new Promise((resolve, reject) => {
      let off = (): void => {}
      const timer = setTimeout(() => {
        off()
        reject(new PluginError('E_TIMEOUT', `session ${shortId(id)} is still ${m.get(id).status} after ${timeoutMs} ms`))
      }, timeoutMs)
      const check = (): void => {
        const s = m.get(id)
        if (!ok(s)) return
        clearTimeout(timer)
        off()
        resolve(s)
      }
      off = m.onEvent((e) => {
        if (e.sessionId === id) check()
      })
      check()
    })
  }
}
