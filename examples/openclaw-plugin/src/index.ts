// An OpenClaw plugin on top of `openclaw-sessions`: agent tools, chat commands and gateway
// methods for Claude Code and Codex sessions. The addon runs the CLIs, tracks the sessions and
// decides what to tell whom; this plugin maps OpenClaw's surfaces onto it and delivers the
// notifications.
import { SessionManager } from 'openclaw-sessions'
import type { ManagerOptions, Notification } from 'openclaw-sessions'
import { SessionActions } from './actions.js'
import type { BackendFamily } from './backends.js'
import { families } from './backends.js'
import { registerCommands } from './commands.js'
import { managerOptionsFromConfig } from './config.js'
import { errorText, PluginError } from './format.js'
import { registerGatewayMethods } from './gateway.js'
import type { OpenClawPluginApi, PluginConfig } from './openclaw-api.js'
import { registerTools } from './tools.js'

export type { OpenClawPluginApi, PluginConfig } from './openclaw-api.js'
export { managerOptionsFromConfig } from './config.js'

export const id = 'openclaw-sessions'
export const SERVICE_ID = 'openclaw-sessions'

/** What tests (or a host without `api.sendMessage`) inject. */
export interface PluginDeps {
  /** Delivers a notification's text to a chat channel. A rejection is retried by the addon. */
  sendMessage?(channel: string, text: string): Promise<void>
  /** Manager options over the ones from the plugin config (e.g. CLI paths, env, store). */
  managerOptions?: ManagerOptions
}

export function register(api: OpenClawPluginApi, deps: PluginDeps = {}): void {
  let manager: SessionManager | undefined
  let unsubscribe: (() => void) | undefined
  let running = false
  const config = (): PluginConfig => api.getConfig?.() ?? {}

  const current = (): SessionManager => {
    if (!manager) throw new PluginError('E_STATE', `the ${SERVICE_ID} service is not running (start the gateway service first)`)
    return manager
  }
  const defaultWorkdir = (): string => config().defaultWorkdir ?? process.cwd()

  const send = async (n: Notification): Promise<void> => {
    if (deps.sendMessage) return deps.sendMessage(n.channel, n.text)
    if (api.sendMessage) return api.sendMessage(n.channel, n.text)
    api.logger?.info(`[${n.channel}] ${n.text}`)
  }

  const actions = new Map<BackendFamily, SessionActions>()
  const actionsFor = (family: BackendFamily): SessionActions => {
    let a = actions.get(family)
    if (!a) actions.set(family, (a = new SessionActions(current, family, defaultWorkdir)))
    return a
  }

  for (const family of families) {
    registerTools(api, actionsFor(family))
    registerCommands(api, actionsFor(family))
  }
  registerGatewayMethods(api, actionsFor)

  api.registerService({
    id: SERVICE_ID,
    start: () => {
      if (running) return
      const options = managerOptionsFromConfig(config(), deps.managerOptions)
      let m: SessionManager
      try {
        m = new SessionManager(options)
      } catch (e) {
        api.logger?.error(`${SERVICE_ID}: cannot start: ${errorText(e)}`)
        throw e
      }
      unsubscribe?.()
      unsubscribe = m.onNotification(send)
      manager = m
      running = true
      api.logger?.info(`${SERVICE_ID}: started (max ${m.stats().maxSessions} sessions)`)
    },
    stop: async () => {
      if (!running || !manager) return
      running = false
      // Every live session stops gracefully (`interrupted`, resumable). The manager stays
      // readable (sessions, output, stats) and keeps delivering the last notifications;
      // it refuses new sessions (E_STATE) until the service starts again.
      const stats = await manager.shutdown()
      api.logger?.info(`${SERVICE_ID}: stopped (${stats.total} sessions, ${stats.turns} turns)`)
    },
  })
}
