// Plugin configuration → `new SessionManager(options)`. The addon rejects unknown keys, so
// only the keys that are set are passed.
import type { ManagerOptions, NotificationOptions } from 'openclaw-sessions'
import type { PluginConfig } from './openclaw-api.js'

export function managerOptionsFromConfig(config: PluginConfig, overrides: ManagerOptions = {}): ManagerOptions {
  const options: ManagerOptions = {}
  if (config.maxSessions !== undefined) options.maxSessions = config.maxSessions
  if (config.storePath !== undefined) options.storePath = config.storePath
  if (config.env !== undefined) options.env = config.env
  if (config.claudePath !== undefined) options.claudePath = config.claudePath
  if (config.codexPath !== undefined) options.codexPath = config.codexPath
  if (config.maxAutoResponds !== undefined) options.maxAutoResponds = config.maxAutoResponds

  const notifications: NotificationOptions = {}
  if (config.fallbackChannel !== undefined) notifications.fallbackChannel = config.fallbackChannel
  if (config.channels !== undefined) notifications.channels = config.channels

  // Overrides win, key by key, also inside `notifications` and `env`.
  const merged: ManagerOptions = { ...options, ...overrides }
  const mergedNotifications = { ...notifications, ...overrides.notifications }
  if (Object.keys(mergedNotifications).length > 0) merged.notifications = mergedNotifications
  if (options.env && overrides.env) merged.env = { ...options.env, ...overrides.env }
  return merged
}
