// The plugin's config (`plugins.entries.openclaw-sessions.config`, validated by the gateway
// against the configSchema in openclaw.plugin.json and handed over as `api.pluginConfig`) →
// `new SessionManager(options)` and the launch defaults. The keys of openclaw-claude-code-plugin
// mean what they meant there; the addon rejects unknown keys, so only keys that are set pass.
import { isAbsolute } from 'node:path'
import type { ManagerOptions, NotificationOptions } from 'openclaw-sessions'
import { PluginError } from './format.js'

/** This plugin's configuration; every key optional. The manifest's configSchema is the contract. */
export interface PluginConfig {
  /** Most live sessions at once (default 5). */
  maxSessions?: number
  /** Claude sessions stop once their cost reaches this many USD (`--max-budget-usd`), unless a launch says otherwise. */
  defaultBudgetUsd?: number
  /** The model of a launch that names none (Claude / Codex `--model`). */
  defaultModel?: string
  /** Absolute workdir of a launch that names none (default: the gateway's cwd). */
  defaultWorkdir?: string
  /** A session silent this many minutes is stopped as `interrupted` (default 30). */
  idleTimeoutMinutes?: number
  /** Finished sessions kept in the store (default 1000). */
  maxPersistedSessions?: number
  /** Where notifications go when a session has no origin and no workdir prefix matches. */
  fallbackChannel?: string
  /** Claude `--permission-mode` of a launch that names none. */
  permissionMode?: string
  /** Workdir prefix → channel, for sessions launched without an origin. */
  agentChannels?: Record<string, string>
  /** The SQLite session store (default `$OPENCLAW_STATE_DIR/agent-sessions.db`, else `~/.openclaw/agent-sessions.db`). */
  storePath?: string
  /** Environment added to every CLI process. */
  env?: Record<string, string>
  /** The Claude Code binary (default: the npm package's native binary, else `PATH`). */
  claudePath?: string
  /** The Codex binary (default: the npm package's native binary, else `PATH`). */
  codexPath?: string
  /** Automatic replies (the agent's `*_respond`) allowed in a row (default 10). */
  maxAutoResponds?: number
  /**
   * Sender ids (the chat channel's user ids, as the gateway reports them) that see and touch
   * every session. Everyone else sees only the sessions they launched. Default: none.
   */
  operators?: string[]
}

/** What a launch uses when its parameters leave something out. */
export interface LaunchDefaults {
  workdir: string
  model?: string
  budgetUsd?: number
  permissionMode?: string
}

/** `api.pluginConfig` as our config; the gateway validated it, this only narrows the type. */
export function readConfig(raw: Record<string, unknown> | undefined): PluginConfig {
  const config: PluginConfig = { ...(raw ?? {}) }
  if (config.defaultWorkdir !== undefined && !isAbsolute(config.defaultWorkdir)) {
    throw new PluginError('E_INVALID_ARGUMENT', `plugins.entries.openclaw-sessions.config.defaultWorkdir must be an absolute path (got '${config.defaultWorkdir}')`)
  }
  return config
}

export function launchDefaults(config: PluginConfig): LaunchDefaults {
  const d: LaunchDefaults = { workdir: config.defaultWorkdir ?? process.cwd() }
  if (config.defaultModel !== undefined) d.model = config.defaultModel
  if (config.defaultBudgetUsd !== undefined) d.budgetUsd = config.defaultBudgetUsd
  if (config.permissionMode !== undefined) d.permissionMode = config.permissionMode
  return d
}

export function managerOptionsFromConfig(config: PluginConfig): ManagerOptions {
  const options: ManagerOptions = {}
  if (config.maxSessions !== undefined) options.maxSessions = config.maxSessions
  if (config.storePath !== undefined) options.storePath = config.storePath
  if (config.env !== undefined) options.env = config.env
  if (config.claudePath !== undefined) options.claudePath = config.claudePath
  if (config.codexPath !== undefined) options.codexPath = config.codexPath
  if (config.maxAutoResponds !== undefined) options.maxAutoResponds = config.maxAutoResponds
  if (config.maxPersistedSessions !== undefined) options.maxPersistedSessions = config.maxPersistedSessions
  if (config.idleTimeoutMinutes !== undefined) options.idleTimeoutMs = Math.round(config.idleTimeoutMinutes * 60_000)
  const notifications: NotificationOptions = {}
  if (config.fallbackChannel !== undefined) notifications.fallbackChannel = config.fallbackChannel
  if (config.agentChannels !== undefined) notifications.channels = config.agentChannels
  if (Object.keys(notifications).length > 0) options.notifications = notifications
  return options
}
