// The OpenClaw plugin `openclaw-sessions`: agent tools, chat commands and gateway methods for
// Claude Code and Codex sessions. The addon runs the CLIs, tracks the sessions, persists them and
// decides what to tell whom (debounced, exactly once); this plugin maps the gateway's surfaces
// onto it and delivers the notifications through the gateway.
import type { OpenClawPluginApi, OpenClawPluginDefinition } from 'openclaw/plugin-sdk/plugin-entry'
import { SessionManager } from 'openclaw-sessions'
import type { ActionsHost } from './actions.js'
import { SessionActions } from './actions.js'
import type { BackendFamily } from './backends.js'
import { anyBackend, families } from './backends.js'
import { registerCommands } from './commands.js'
import type { PluginConfig } from './config.js'
import { launchDefaults, managerOptionsFromConfig, readConfig } from './config.js'
import { deliverer } from './delivery.js'
import { errorText, PluginError } from './format.js'
import { registerGatewayMethods } from './gateway.js'
import { registerTools } from './tools.js'
import { registerUi } from './ui/route.js'

export const PLUGIN_ID = 'openclaw-sessions'

/**
 * The service's manager. The gateway registers the plugin more than once in a process (one
 * registry per surface), and loads the module more than once (an agent run gets its own copy of
 * the plugin's files): every copy shares one manager through a process-wide symbol, as they
 * share one store.
 */
interface ServiceState {
  manager?: SessionManager
  unsubscribe: Array<() => unknown>
  /** Sessions launched with `multi_turn: false`: closed once their first turn ends. */
  singleTurn: Set<string>
}
const STATE = Symbol.for('openclaw-sessions.plugin.state')
const shared = globalThis as typeof globalThis & { [STATE]?: ServiceState }
const state: ServiceState = (shared[STATE] ??= { unsubscribe: [], singleTurn: new Set() })

function register(api: OpenClawPluginApi): void {
  const config: PluginConfig = readConfig(api.pluginConfig)

  const host: ActionsHost = {
    manager: () => {
      if (!state.manager) throw new PluginError('E_STATE', `the ${PLUGIN_ID} service is not running (it starts with the gateway)`)
      return state.manager
    },
    defaults: () => launchDefaults(config),
    closeAfterFirstTurn: (id) => state.singleTurn.add(id),
  }
  const actions = new Map<BackendFamily, SessionActions>()
  const actionsFor = (family: BackendFamily): SessionActions => {
    let a = actions.get(family)
    if (!a) actions.set(family, (a = new SessionActions(host, family)))
    return a
  }
  const operators = config.operators ?? []
  for (const family of families) {
    registerTools(api, actionsFor(family), operators)
    registerCommands(api, actionsFor(family), operators)
  }
  // Gateway methods need the gateway's credentials: the operator's view.
  registerGatewayMethods(api, (family) => actionsFor(family ?? anyBackend))
  registerUi(api, host.manager)

  api.registerService({
    id: PLUGIN_ID,
    start: () => {
      if (state.manager) return
      let m: SessionManager
      try {
        m = new SessionManager(managerOptionsFromConfig(config))
      } catch (e) {
        api.logger.error(`${PLUGIN_ID}: cannot start: ${errorText(e)}`)
        throw e
      }
      state.unsubscribe.push(m.onNotification(deliverer(api, m)))
      state.unsubscribe.push(
        m.onEvent((e) => {
          if (e.kind !== 'turn-completed' || !state.singleTurn.delete(e.sessionId)) return
          m.close(e.sessionId).catch((err: unknown) => api.logger.warn(`${PLUGIN_ID}: close after the first turn: ${errorText(err)}`))
        }),
      )
      state.manager = m
      const s = m.stats()
      api.logger.info(`${PLUGIN_ID}: started (max ${s.maxSessions} live sessions, ${s.total} known)`)
    },
    stop: async () => {
      const m = state.manager
      if (!m) return
      // Every live session stops gracefully (`interrupted`, resumable after the next start).
      // E_STORE: they stopped, but their ends could not all be written; say so and go on.
      const stats = await m.shutdown().catch((err: unknown) => {
        api.logger.error(`${PLUGIN_ID}: shutdown: ${errorText(err)}`)
        return undefined
      })
      for (const off of state.unsubscribe.splice(0)) off()
      state.manager = undefined
      if (stats) api.logger.info(`${PLUGIN_ID}: stopped (${stats.total} sessions, ${stats.turns} turns)`)
    },
  })
}

const plugin: OpenClawPluginDefinition = {
  id: PLUGIN_ID,
  name: 'Coding sessions (Claude Code, Codex)',
  description: 'Launch and drive Claude Code and Codex sessions from chat and from the agent, on the openclaw-sessions native addon.',
  register,
}

export default plugin
